// What libcorodbg-fcontext.so costs per jump_fcontext: a boost::context
// fiber and the main context resume each other N times (each resume is
// one jump_fcontext), plain and preloaded (bench/run-fcontext.sh).
// Prints "jump NS" (per jump, best of 7 runs).
#include <boost/context/fiber.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

namespace ctx = boost::context;

int main(int argc, char **argv)
{
    long n = argc > 1 ? std::atol(argv[1]) : 2000000;
    double best = 1e30;
    for (int r = 0; r < 7; r++) {
        ctx::fiber f{[n](ctx::fiber &&main) {
            for (long i = 0; i < n; i++)
                main = std::move(main).resume();
            return std::move(main);
        }};
        auto t0 = std::chrono::steady_clock::now();
        for (long i = 0; i < n; i++)
            f = std::move(f).resume();
        auto dt = std::chrono::steady_clock::now() - t0;
        f = std::move(f).resume(); // let it return
        double ns = std::chrono::duration<double, std::nano>(dt).count() /
                    (2.0 * (double)n);
        best = ns < best ? ns : best;
    }
    std::printf("jump %.2f\n", best);
    return 0;
}
