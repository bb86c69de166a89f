/* The clock of the switch benchmarks (bench_hooks.c, bench_modes.c):
 * this thread's CPU time.  On the shared 2-core machine a wall-clock run
 * also counts the time other jobs held the core, which is most of the
 * spread between runs (a preempted 50 ms run reads +3 ns per switch);
 * CPU time counts what the thread itself ran, caches and all.  With many
 * short runs (best of SWITCH_REPS), one undisturbed run is enough. */
#ifndef BENCH_CPU_CLOCK_H
#define BENCH_CPU_CLOCK_H

#include <stdint.h>
#include <time.h>

#define SWITCH_REPS 41        /* runs per process; the best is printed */
#define SWITCH_YIELDS 200000  /* yields per coroutine per run */

static inline uint64_t bench_cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

#endif
