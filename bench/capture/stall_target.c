/*
 * stall_target N SECONDS -- the capture benchmark's target: N coroutines
 * parked on a channel, then one coroutine ("probe") that runs on its
 * thread for SECONDS reading CLOCK_MONOTONIC in a loop.  Any time its
 * thread does not run (a capture stopping it, or the machine's own
 * scheduling) shows as a gap between two reads.  At the end it prints
 * every gap over 100 us as "gap START_NS LEN_NS", for the driver to split
 * into gaps during captures and gaps outside them.  SIGUSR1 ends the
 * probe early.
 */
#include <corort.h>

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static corort_chan *never;
static volatile sig_atomic_t stop;

static void on_usr1(int sig)
{
    (void)sig;
    stop = 1;
}
static long n;
static double seconds;

static uint64_t now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void parked(void *arg)
{
    char c;
    (void)arg;
    corort_chan_recv(never, &c);
}

#define MAX_GAPS 100000
static uint64_t gap_at[MAX_GAPS], gap_len[MAX_GAPS];

static void probe(void *arg)
{
    (void)arg;
    for (long i = 0; i < n; i++)
        corort_spawn("parked", parked, NULL);
    while (corort_blocked() < (size_t)n)
        corort_yield();
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    uint64_t start = now(), end = start + (uint64_t)(seconds * 1e9), prev = start;
    size_t ng = 0;
    for (uint64_t t = start; t < end && !stop; t = now()) {
        if (t - prev > 100000 && ng < MAX_GAPS) {
            gap_at[ng] = prev;
            gap_len[ng++] = t - prev;
        }
        prev = t;
    }
    for (size_t i = 0; i < ng; i++)
        printf("gap %llu %llu\n", (unsigned long long)gap_at[i],
               (unsigned long long)gap_len[i]);
    printf("done\n");
    fflush(stdout);
    exit(0);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: stall_target N SECONDS\n");
        return 2;
    }
    n = atol(argv[1]);
    seconds = atof(argv[2]);
    corort_config cfg = {.workers = 0, .stack_size = 8192, .no_guard = 1};
    signal(SIGUSR1, on_usr1);
    corort_init(&cfg);
    never = corort_chan_new(1, 0);
    corort_spawn("probe", probe, NULL);
    corort_run();
    return 1;
}
