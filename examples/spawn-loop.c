/* spawn-loop: unbounded spawning in a loop.
 *
 * A dispatcher spawns one handler per request and never waits for any of
 * them; every handler parks on a wait group that is only released at
 * shutdown, which never comes.  Handlers pile up, all created at the same
 * line and all waiting at the same line: the shape `info coroutines`
 * grouping by creation site is made for.  N (default 1000, up to
 * 1,000,000) bounds the loop so the program ends.  With N <= 10 the
 * program also prints libcorodbg's leak check: every coroutine created
 * since a mark taken at startup that is still live.
 *
 *   build/examples/spawn-loop [N]
 */
#include "common.h"

#include <corodbg.h>
#include <corort.h>

#include <stdint.h>
#include <stdio.h>

static corort_wg *shutdown_wg;

struct request {
    long request_id;
};

static void wait_for_shutdown(long request_id)
{
    long parked_request = request_id;
    corort_wg_wait(shutdown_wg);
    (void)parked_request;
}

static void handle_request(void *arg)
{
    long request_id = (long)(intptr_t)arg;
    wait_for_shutdown(request_id);
}

static void dispatcher(void *arg)
{
    long n = (long)(intptr_t)arg;
    char name[32];
    for (long request_id = 1; request_id <= n; request_id++) {
        snprintf(name, sizeof name, "handler-%ld", request_id);
        /* Bug: nothing bounds the number of handlers in flight. */
        corort_spawn(name, handle_request, (void *)(intptr_t)request_id);
    }
}

int main(int argc, char **argv)
{
    long n = example_count("spawn-loop", "N", argc > 1 ? argv[1] : NULL,
                           1000, 1, 1000000);
    corort_config cfg = {.workers = 0, .stack_size = n > 10000 ? 8192 : 0,
                         .no_guard = n > 10000};
    setvbuf(stdout, NULL, _IOLBF, 0);
    corort_init(&cfg);
    corodbg_mark mark = corodbg_leak_mark();
    shutdown_wg = corort_wg_new();
    corort_wg_add(shutdown_wg, 1); /* released at shutdown: never */
    corort_spawn("dispatcher", dispatcher, (void *)(intptr_t)n);

    long stuck = corort_run();
    printf("spawn-loop: %ld handlers parked, %zu coroutines in the table\n",
           stuck, corodbg_live_count());
    if (n <= 10)
        corodbg_leak_check(mark, stdout);
    example_checkpoint();
    return 0;
}
