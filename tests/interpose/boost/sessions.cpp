// An Asio program, public API only, for the fcontext interposer tests:
// N sessions started with boost::asio::spawn, half parked on a timer and
// half on a socket read that never gets data, then boost_checkpoint()
// from a handler; then everything is cancelled and the program exits.
// Lines marked LINE_* are asserted by the tests.
#include <boost/asio.hpp>
#include <boost/asio/spawn.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <vector>

namespace asio = boost::asio;

extern "C" __attribute__((noinline)) void boost_checkpoint()
{
    __asm__ __volatile__("" ::: "memory");
}

__attribute__((noinline)) static void idle_timeout(asio::steady_timer &t,
                                                   asio::yield_context y)
{
    boost::system::error_code ec;
    t.expires_after(std::chrono::hours(1));
    t.async_wait(y[ec]); // LINE_ASIO_TIMER
}

__attribute__((noinline)) static void read_request(
    asio::ip::tcp::socket &s, asio::yield_context y)
{
    boost::system::error_code ec;
    char buf[64];
    s.async_read_some(asio::buffer(buf), y[ec]); // LINE_ASIO_READ
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? std::atoi(argv[1]) : 20;
    asio::io_context io;
    asio::ip::tcp::acceptor acc(io, {asio::ip::address_v4::loopback(), 0});
    std::vector<std::unique_ptr<asio::steady_timer>> timers;
    std::vector<std::unique_ptr<asio::ip::tcp::socket>> socks, peers;
    for (int i = 0; i < n; i++) {
        if (i % 2 == 0) {
            timers.emplace_back(new asio::steady_timer(io));
            auto *t = timers.back().get();
            asio::spawn(io, [t](asio::yield_context y) {
                idle_timeout(*t, y);
            });
        } else {
            socks.emplace_back(new asio::ip::tcp::socket(io));
            peers.emplace_back(new asio::ip::tcp::socket(io));
            socks.back()->connect(acc.local_endpoint());
            acc.accept(*peers.back());
            auto *s = socks.back().get();
            asio::spawn(io, [s](asio::yield_context y) {
                read_request(*s, y);
            });
        }
    }
    asio::steady_timer stop(io);
    stop.expires_after(std::chrono::milliseconds(50));
    stop.async_wait([&](boost::system::error_code) {
        boost_checkpoint();
        for (auto &t : timers)
            t->cancel();
        for (auto &s : socks)
            s->close();
    });
    io.run();
    std::printf("sessions done\n");
    return 0;
}
