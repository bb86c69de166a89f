/*
 * cpuburn -- a CPU-bound coroutine among parked ones, for `corodbg
 * profile`: "hasher" hashes in hash_block() and yields now and then,
 * "idler" only yields, 100 connections wait on a channel.  Prints
 * "ready PID"; runs until killed (or for ARGV[1] seconds, then prints the
 * blocks hashed and the CPU time used: the throughput the profiling
 * benchmark compares).
 */
#include <corort.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static corort_chan *never;
static double seconds;
static volatile uint64_t sink;

static void parked(void *arg)
{
    char c;
    (void)arg;
    corort_chan_recv(never, &c);
}

static __attribute__((noinline)) uint64_t hash_block(uint64_t seed)
{
    uint64_t h = seed;
    for (int i = 0; i < 20000; i++)
        h = (h ^ (uint64_t)i) * 0x100000001b3ull;
    return h;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void hasher(void *arg)
{
    (void)arg;
    double end = seconds > 0 ? now() + seconds : 0;
    uint64_t blocks = 0;
    for (;;) {
        sink = hash_block(sink + blocks++);
        if (blocks % 64 == 0) {
            corort_yield();
            if (end && now() >= end) {
                /* per CPU second too: the machine's other load then
                 * does not count, the profiler's cost in this process
                 * (its samples are taken here) does */
                struct timespec cpu;
                clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
                printf("blocks %llu cpu %.6f\n", (unsigned long long)blocks,
                       cpu.tv_sec + cpu.tv_nsec / 1e9);
                fflush(stdout);
                exit(0);
            }
        }
    }
}

static void idler(void *arg)
{
    (void)arg;
    for (;;)
        corort_yield();
}

static void start(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++)
        corort_spawn("conn", parked, NULL);
    while (corort_blocked() < 100)
        corort_yield();
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    corort_spawn("hasher", hasher, NULL);
    corort_spawn("idler", idler, NULL);
}

int main(int argc, char **argv)
{
    seconds = argc > 1 ? atof(argv[1]) : 0;
    never = corort_chan_new(1, 0);
    corort_spawn("start", start, NULL);
    corort_run();
    return 1;
}
