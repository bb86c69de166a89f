// What libcorodbg-fcontext.so costs per jump_fcontext: a boost::context
// fiber and the main context resume each other N times (each resume is
// one jump_fcontext), plain and preloaded (bench/run-fcontext.sh).
// Prints "jump NS": per jump, in thread CPU time, best of 41 runs (the
// switch benchmarks' method, bench/hooks/cpu_clock.h).
#include <boost/context/fiber.hpp>

#include <cstdio>
#include <cstdlib>
#include <ctime>

namespace ctx = boost::context;

static double cpu_ns()
{
    timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? std::atol(argv[1]) : 200000;
    double best = 1e30;
    for (int r = 0; r < 41; r++) {
        ctx::fiber f{[n](ctx::fiber &&main) {
            for (long i = 0; i < n; i++)
                main = std::move(main).resume();
            return std::move(main);
        }};
        double t0 = cpu_ns();
        for (long i = 0; i < n; i++)
            f = std::move(f).resume();
        double dt = cpu_ns() - t0;
        f = std::move(f).resume(); // let it return
        double ns = dt / (2.0 * (double)n);
        best = ns < best ? ns : best;
    }
    std::printf("jump %.2f\n", best);
    return 0;
}
