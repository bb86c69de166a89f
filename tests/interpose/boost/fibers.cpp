// A Boost.Fiber program, public API only, for the fcontext interposer
// tests: fibers blocked on a channel, a mutex and a condition variable,
// then boost_checkpoint() from the main fiber; then everything is
// released and joined.  Lines marked LINE_* are asserted by the tests.
// BOOST_HOLD=1: the first checkpoint prints "holding PID" and keeps the
// thread there (the agent's tests read it without a debugger).
#include <boost/fiber/all.hpp>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <unistd.h>
#include <vector>

extern "C" __attribute__((noinline)) void boost_checkpoint()
{
    __asm__ __volatile__("" ::: "memory");
    static bool held;
    if (!held && getenv("BOOST_HOLD")) {
        held = true;
        std::printf("holding %d\n", (int)getpid());
        std::fflush(stdout);
        for (;;)
            pause();
    }
}

static boost::fibers::unbuffered_channel<int> requests;
static boost::fibers::mutex table_lock;
static boost::fibers::mutex ready_lock;
static boost::fibers::condition_variable ready_cv;
static bool ready;

__attribute__((noinline)) static void wait_request(int id)
{
    int got = -1;
    requests.pop(got); // LINE_FIB_CHAN
    std::printf("fiber %d got %d\n", id, got);
}

__attribute__((noinline)) static void lock_table(int id)
{
    std::lock_guard<boost::fibers::mutex> lk(table_lock); // LINE_FIB_MUTEX
    std::printf("fiber %d locked\n", id);
}

__attribute__((noinline)) static void wait_ready(int id)
{
    std::unique_lock<boost::fibers::mutex> lk(ready_lock);
    ready_cv.wait(lk, [] { return ready; }); // LINE_FIB_CV
    std::printf("fiber %d ready\n", id);
}

int main()
{
    std::vector<boost::fibers::fiber> fibers;
    table_lock.lock();
    for (int i = 0; i < 2; i++) {
        fibers.emplace_back(wait_request, i);
        fibers.emplace_back(lock_table, i);
        fibers.emplace_back(wait_ready, i);
    }
    for (int i = 0; i < 4; i++)
        boost::this_fiber::yield(); // let them all block
    boost_checkpoint();
    table_lock.unlock();
    {
        std::lock_guard<boost::fibers::mutex> lk(ready_lock);
        ready = true;
    }
    ready_cv.notify_all();
    requests.push(1);
    requests.push(2);
    for (auto &f : fibers)
        f.join();
    boost_checkpoint();
    return 0;
}
