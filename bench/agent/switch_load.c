/* A switch-heavy corort workload for bench/agent: two coroutines yield to
 * each other for SECONDS (default 2) and the rate is printed:
 *
 *   yields_per_sec 12345678
 *
 * The same binary runs with and without libcorodbg-agent (LD_PRELOAD and
 * CORODBG_AGENT): the ratio is what an idle agent, or a CPU profile it
 * takes, costs the program. */
#include <corort.h>

#include <stdio.h>
#include <stdlib.h>

static uint64_t deadline;
static unsigned long yields;

static void yielder(void *arg)
{
    (void)arg;
    for (;;) {
        for (int i = 0; i < 1000; i++)
            corort_yield();
        yields += 1000;
        if (corort_now_ns() >= deadline)
            return;
    }
}

int main(int argc, char **argv)
{
    double seconds = argc > 1 ? atof(argv[1]) : 2;
    corort_init(NULL);
    corort_spawn("ping", yielder, NULL);
    corort_spawn("pong", yielder, NULL);
    uint64_t t0 = corort_now_ns();
    deadline = t0 + (uint64_t)(seconds * 1e9);
    corort_run();
    double dt = (double)(corort_now_ns() - t0) / 1e9;
    printf("yields_per_sec %.0f\n", (double)yields / dt);
    return 0;
}
