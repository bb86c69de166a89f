/* Churn: CYCLES coroutine create/exit cycles (default 1,000,000) with
 * bounded memory.  Coroutines are spawned in waves of 500 from a spawner
 * coroutine; each child yields once and exits.  Checks that the table
 * never grows past its first chunk (slots are reused), that ids are never
 * reused (next_id advances by exactly CYCLES), that nothing stays live,
 * and that resident memory after the whole run is within 16 MiB of what
 * it was after the first tenth.
 *
 *   rt_churn [CYCLES [WORKERS]]        driven by test_churn.py */
#include <corodbg.h>
#include <corort.h>

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define WAVE 500

static long cycles = 1000000;
static long done_count;
static long rss_tenth_kb;

static long rss_kb(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f || fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    if (f)
        fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void child(void *arg)
{
    (void)arg;
    corort_yield();
    __atomic_fetch_add(&done_count, 1, __ATOMIC_RELAXED);
}

static void spawner(void *arg)
{
    corort_wg *wg = arg;
    long spawned = 0;
    while (spawned < cycles) {
        long n = cycles - spawned < WAVE ? cycles - spawned : WAVE;
        for (long i = 0; i < n; i++)
            if (!corort_spawn("churn", child, NULL)) {
                printf("FAIL spawn returned NULL at %ld\n", spawned + i);
                exit(1);
            }
        spawned += n;
        /* Let the wave finish before the next one: bounded live set. */
        while (corort_live() > 1)
            corort_yield();
        if (spawned >= cycles / 10 && rss_tenth_kb == 0)
            rss_tenth_kb = rss_kb();
    }
    corort_wg_done(wg);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        cycles = atol(argv[1]);
    corort_config cfg = {.workers = argc > 2 ? (unsigned)atoi(argv[2]) : 0};
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (cycles < 10 || corort_init(&cfg) != CORORT_OK) {
        fprintf(stderr, "usage: rt_churn [CYCLES>=10 [WORKERS]]\n");
        return 2;
    }
    uint64_t first_id = corodbg_table.next_id;
    corort_wg *wg = corort_wg_new();
    corort_wg_add(wg, 1);
    corort_spawn("spawner", spawner, wg);
    long left = corort_run();
    long rss_end = rss_kb();
    uint64_t ids = corodbg_table.next_id - first_id;
    printf("run=%ld done=%ld\n", left, done_count);
    printf("ids used=%llu (cycles+1: %d)\n", (unsigned long long)ids,
           ids == (uint64_t)cycles + 1);
    printf("live=%zu table_live=%llu nchunks=%u\n", corort_live(),
           (unsigned long long)corodbg_table.live_count,
           corodbg_table.nchunks);
    long growth = rss_end - rss_tenth_kb;
    printf("rss bounded=%d\n", growth < 16 * 1024);
    if (growth >= 16 * 1024)
        printf("rss after 1/10: %ld KiB, at end: %ld KiB\n", rss_tenth_kb,
               rss_end);
    corort_wg_free(wg);
    return 0;
}
