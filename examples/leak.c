/* leak: coroutines blocked forever on a channel nobody will send to.
 *
 * A producer hands out two jobs and returns without closing the channel;
 * three consumers loop on corort_chan_recv() and so wait forever.  This is
 * the classic goroutine leak.  corort_run() notices that nothing can run
 * any more and returns the number of stuck coroutines; the program then
 * prints libcorodbg's in-process report of blocked coroutines, stops at
 * example_checkpoint() for debuggers, and exits 0.
 *
 *   build/examples/leak
 */
#include "common.h"

#include <corodbg.h>
#include <corort.h>

#include <stdint.h>
#include <stdio.h>

struct job {
    int id;
    int cost;
};

static corort_chan *jobs;

static void producer(void *arg)
{
    int njobs = (int)(intptr_t)arg;
    for (int i = 1; i <= njobs; i++) {
        struct job job = {i, 10 * i};
        corort_chan_send(jobs, &job);
    }
    /* Bug: no corort_chan_close(jobs), so consumers never learn the end. */
}

static void consumer(void *arg)
{
    int worker_id = (int)(intptr_t)arg;
    int handled = 0;
    struct job job = {0, 0};
    while (corort_chan_recv(jobs, &job) == CORORT_OK)
        handled++;
    printf("consumer-%d done after %d jobs\n", worker_id, handled);
}

static void start_consumers(int n)
{
    char name[32];
    for (int i = 1; i <= n; i++) {
        snprintf(name, sizeof name, "consumer-%d", i);
        corort_spawn(name, consumer, (void *)(intptr_t)i);
    }
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    corort_init(NULL);
    jobs = corort_chan_new(sizeof(struct job), 0);
    corort_spawn("producer", producer, (void *)(intptr_t)2);
    start_consumers(3);

    long stuck = corort_run();
    printf("leak: corort_run returned: %ld coroutines blocked forever\n",
           stuck);
    corodbg_report_blocked(stdout);
    example_checkpoint();
    return 0;
}
