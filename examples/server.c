/* server: N parked connection coroutines in five different wait sites,
 * for scale tests (N up to 1,000,000).
 *
 * The acceptor takes the database lock, then spawns conn-1 .. conn-N.
 * Connection i parks at wait site (i - 1) % 5:
 *
 *   0  wait_request()   channel receive  (no client ever sends)
 *   1  send_response()  channel send     (no client ever reads)
 *   2  idle_timeout()   sleep, 1 hour
 *   3  wait_drain()     wait group       (never drained)
 *   4  lock_db()        coroutine mutex  (the acceptor holds it)
 *
 * Once every connection is parked, the acceptor prints a summary, calls
 * example_checkpoint() (it is the one running coroutine there) and the
 * process exits 0.  WORKERS = 0 (default) runs the scheduler on the main
 * thread; WORKERS > 0 runs M:N on that many threads.
 *
 *   build/examples/server N [WORKERS]
 */
#include "common.h"

#include <corort.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static corort_chan *requests;  /* nobody sends */
static corort_chan *responses; /* nobody receives */
static corort_wg *drain;       /* never reaches zero */
static corort_mutex *db_lock;  /* held by the acceptor */
static long nconns;

struct conn {
    long conn_id;
    int fd;
};

static __attribute__((noinline)) void wait_request(struct conn *c)
{
    char buf[64];
    corort_chan_recv(requests, buf);
    (void)c;
}

static __attribute__((noinline)) void send_response(struct conn *c)
{
    char buf[64] = "HTTP/1.1 200 OK";
    corort_chan_send(responses, buf);
    (void)c;
}

static __attribute__((noinline)) void idle_timeout(struct conn *c)
{
    int timeout_ms = 3600 * 1000;
    corort_sleep_ms(timeout_ms);
    (void)c;
}

static __attribute__((noinline)) void wait_drain(struct conn *c)
{
    corort_wg_wait(drain);
    (void)c;
}

static __attribute__((noinline)) void lock_db(struct conn *c)
{
    corort_mutex_lock(db_lock);
    corort_mutex_unlock(db_lock);
    (void)c;
}

static void connection(void *arg)
{
    struct conn c = {(long)(intptr_t)arg, (int)(1000 + (intptr_t)arg % 1000)};
    switch ((c.conn_id - 1) % 5) {
    case 0: wait_request(&c); break;
    case 1: send_response(&c); break;
    case 2: idle_timeout(&c); break;
    case 3: wait_drain(&c); break;
    case 4: lock_db(&c); break;
    }
}

static void acceptor(void *arg)
{
    unsigned workers = (unsigned)(uintptr_t)arg;
    char name[32];
    corort_mutex_lock(db_lock);
    for (long conn_id = 1; conn_id <= nconns; conn_id++) {
        snprintf(name, sizeof name, "conn-%ld", conn_id);
        corort_spawn(name, connection, (void *)(intptr_t)conn_id);
    }
    while (corort_blocked() < (size_t)nconns)
        corort_yield();
    printf("server: %ld connections parked in 5 wait sites, %u workers\n",
           nconns, workers);
    example_checkpoint();
    exit(0);
}

int main(int argc, char **argv)
{
    const char *usage = "usage: server N [WORKERS]\n";
    if (argc < 2 || argc > 3) {
        fputs(usage, stderr);
        return 2;
    }
    nconns = example_count("server", "N", argv[1], 0, 1, 1000000);
    long workers = example_count("server", "WORKERS",
                                 argc > 2 ? argv[2] : NULL, 0, 0, 64);
    corort_config cfg = {.workers = (unsigned)workers,
                         .stack_size = nconns > 10000 ? 8192 : 0,
                         .no_guard = nconns > 10000};
    setvbuf(stdout, NULL, _IOLBF, 0);
    corort_init(&cfg);
    requests = corort_chan_new(64, 0);
    responses = corort_chan_new(64, 0);
    drain = corort_wg_new();
    corort_wg_add(drain, 1);
    db_lock = corort_mutex_new();
    corort_spawn("acceptor", acceptor, (void *)(uintptr_t)workers);
    corort_run();
    fprintf(stderr, "server: scheduler stopped early\n");
    return 1;
}
