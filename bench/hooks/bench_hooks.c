/* The cost of corodbg's hooks inside corort.  Built twice from this file:
 * build/runtime/bench/hooks (libcorort.a + libcorodbg) and
 * build/runtime/bench/hooks-nohooks (libcorort-nohooks.a, every hook
 * compiled out).  bench/run-hooks.sh runs both and prints the ratios.
 *
 * Output: one "key ns_per_op" line per measurement, best of REPS runs.
 *   yield        one yield round trip between two coroutines (two context
 *                switches: coroutine -> scheduler -> other coroutine);
 *                thread CPU time, best of SWITCH_REPS runs (cpu_clock.h)
 *   create_exit  spawn + first switch + return + exit + reuse, per coroutine
 *   transition_unarmed / transition_armed_miss / transition_mask_miss
 *                one state transition through corodbg_switch() with no
 *                filter / a filter whose state mask matches but whose id
 *                does not / a filter whose state mask does not match
 *                (hooks build only) */
#include <corort.h>
#ifndef CORORT_NO_HOOKS
#include <corodbg.h>
#endif

#include "cpu_clock.h"

#include <stdio.h>
#include <stdlib.h>

#define REPS 7

static long yields_per_co = SWITCH_YIELDS;

static void yielder(void *arg)
{
    (void)arg;
    for (long i = 0; i < yields_per_co; i++)
        corort_yield();
}

static double best(double a, double b)
{
    return a < b ? a : b;
}

static double bench_yield(void)
{
    corort_spawn("ping", yielder, NULL);
    corort_spawn("pong", yielder, NULL);
    uint64_t t0 = bench_cpu_ns();
    corort_run();
    uint64_t dt = bench_cpu_ns() - t0;
    return (double)dt / (double)(2 * yields_per_co);
}

static void noop(void *arg)
{
    (void)arg;
}

static double bench_create_exit(void)
{
    const long batches = 1000, per = 100;
    uint64_t t0 = corort_now_ns();
    for (long b = 0; b < batches; b++) {
        for (long i = 0; i < per; i++)
            corort_spawn("noop", noop, NULL);
        corort_run();
    }
    return (double)(corort_now_ns() - t0) / (double)(batches * per);
}

#ifndef CORORT_NO_HOOKS
/* corodbg_switch(co, NULL) is RUNNING -> RUNNABLE and
 * corodbg_switch(NULL, co) RUNNABLE -> RUNNING: one transition each. */
static double bench_transitions(corodbg_co *co)
{
    const long n = 10000000;
    uint64_t t0 = corort_now_ns();
    for (long i = 0; i < n; i++) {
        corodbg_switch(NULL, co);
        corodbg_switch(co, NULL);
    }
    return (double)(corort_now_ns() - t0) / (double)(2 * n);
}
#endif

int main(int argc, char **argv)
{
    if (argc > 1)
        yields_per_co = atol(argv[1]);
    corort_init(NULL);
    double y = 1e30, ce = 1e30;
    for (int r = 0; r < SWITCH_REPS; r++)
        y = best(y, bench_yield());
    for (int r = 0; r < REPS; r++)
        ce = best(ce, bench_create_exit());
    printf("yield %.2f\n", y);
    printf("create_exit %.2f\n", ce);
#ifndef CORORT_NO_HOOKS
    corodbg_co *co = corodbg_create("bench", (void *)noop, NULL, 0, NULL);
    double un = 1e30, miss = 1e30, mask = 1e30;
    for (int r = 0; r < REPS; r++) {
        corodbg_table.filter_flags = 0;
        corodbg_table.filter_state_mask = 0;
        un = best(un, bench_transitions(co));
        /* Armed on the very states we pass through, for another coroutine:
         * every transition takes the slow path and is rejected. */
        corodbg_table.filter_id = corodbg_id(co) + 1000;
        corodbg_table.filter_state_mask =
            (1u << CORODBG_RUNNING) | (1u << CORODBG_RUNNABLE);
        corodbg_table.filter_flags = CORODBG_FILTER_ARMED;
        miss = best(miss, bench_transitions(co));
        /* Armed on a state we never enter: the mask test rejects. */
        corodbg_table.filter_id = 0;
        corodbg_table.filter_state_mask = 1u << CORODBG_PANICKED;
        mask = best(mask, bench_transitions(co));
    }
    corodbg_table.filter_flags = 0;
    corodbg_table.filter_state_mask = 0;
    if (corodbg_table.hook_calls != 0) {
        fprintf(stderr, "bench: the event hook fired %llu times\n",
                (unsigned long long)corodbg_table.hook_calls);
        return 1;
    }
    printf("transition_unarmed %.2f\n", un);
    printf("transition_armed_miss %.2f\n", miss);
    printf("transition_mask_miss %.2f\n", mask);
    corodbg_exit(co);
#endif
    return 0;
}
