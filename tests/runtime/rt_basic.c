/* corort functional checks, one case per argument; driven by
 * tests/runtime/test_runtime.py, which compares the exact output.
 *
 *   rt_basic CASE [WORKERS]
 *
 * Every case prints deterministic lines (in N-worker mode only lines whose
 * order does not depend on thread timing) and exits 0; a failed CHECK
 * prints "FAIL file:line: expr" and exits 1.  Built three ways: with
 * hooks, with ASan/UBSan, and with -DCORORT_NO_HOOKS (no table checks). */
#include <corort.h>
#include <corodbg.h>

#include <fenv.h>
#include <signal.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(e)                                                           \
    do {                                                                   \
        if (!(e)) {                                                        \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #e);           \
            exit(1);                                                       \
        }                                                                  \
    } while (0)

static unsigned workers;

static void init(void)
{
    corort_config cfg = {.workers = workers};
    CHECK(corort_init(&cfg) == CORORT_OK);
}

/* ---- sched: FIFO order and yield interleaving (single thread) ---- */

static char trace[256];
static corort_mutex *trace_mu;

static void note(const char *s)
{
    strcat(trace, s);
}

static void yielder(void *arg)
{
    const char *tag = arg;
    for (int i = 0; i < 3; i++) {
        note(tag);
        corort_yield();
    }
}

static void case_sched(void)
{
    init();
    corort_spawn("a", yielder, "a");
    corort_spawn("b", yielder, "b");
    CHECK(corort_live() == 2);
    long left = corort_run();
    printf("run=%ld live=%zu\n", left, corort_live());
    printf("trace=%s\n", workers ? "(mt)" : trace);
}

/* ---- chan: unbuffered ping-pong, values and order ---- */

struct pair {
    corort_chan *ping, *pong;
    long sum;
};

static void pinger(void *arg)
{
    struct pair *p = arg;
    for (int i = 1; i <= 1000; i++) {
        int v = i, r = 0;
        CHECK(corort_chan_send(p->ping, &v) == CORORT_OK);
        CHECK(corort_chan_recv(p->pong, &r) == CORORT_OK);
        CHECK(r == 2 * i);
        p->sum += r;
    }
    CHECK(corort_chan_close(p->ping) == CORORT_OK);
}

static void ponger(void *arg)
{
    struct pair *p = arg;
    int v;
    int n = 0;
    while (corort_chan_recv(p->ping, &v) == CORORT_OK) {
        int r = 2 * v;
        CHECK(corort_chan_send(p->pong, &r) == CORORT_OK);
        n++;
    }
    CHECK(v == 0); /* zeroed on close */
    CHECK(n == 1000);
}

static void case_chan(void)
{
    init();
    struct pair p = {corort_chan_new(sizeof(int), 0),
                     corort_chan_new(sizeof(int), 0), 0};
    corort_spawn("pinger", pinger, &p);
    corort_spawn("ponger", ponger, &p);
    long left = corort_run();
    printf("run=%ld sum=%ld\n", left, p.sum);
    CHECK(corort_chan_free(p.ping) == CORORT_OK);
    CHECK(corort_chan_free(p.pong) == CORORT_OK);
}

/* ---- buffered: capacity, FIFO, try_ forms, close drains first ---- */

static void buffered_consumer(void *arg)
{
    corort_chan *ch = arg;
    int v, got = 0;
    long sum = 0;
    while (corort_chan_recv(ch, &v) == CORORT_OK) {
        CHECK(v == got + 1); /* FIFO */
        got++;
        sum += v;
    }
    printf("consumer got=%d sum=%ld\n", got, sum);
}

static void buffered_producer(void *arg)
{
    corort_chan *ch = arg;
    for (int i = 1; i <= 100; i++)
        CHECK(corort_chan_send(ch, &i) == CORORT_OK);
    CHECK(corort_chan_close(ch) == CORORT_OK);
    int x = 1;
    CHECK(corort_chan_send(ch, &x) == CORORT_ECLOSED);
    CHECK(corort_chan_close(ch) == CORORT_ECLOSED);
}

static void case_buffered(void)
{
    init();
    corort_chan *ch = corort_chan_new(sizeof(int), 4);
    int v = 7, out = 0;
    /* From main (no coroutine): fills without blocking, then refuses. */
    for (int i = 0; i < 4; i++)
        CHECK(corort_chan_send(ch, &v) == CORORT_OK);
    CHECK(corort_chan_len(ch) == 4);
    CHECK(corort_chan_try_send(ch, &v) == CORORT_EAGAIN);
    CHECK(corort_chan_send(ch, &v) == CORORT_ESTATE);
    for (int i = 0; i < 4; i++)
        CHECK(corort_chan_try_recv(ch, &out) == CORORT_OK && out == 7);
    CHECK(corort_chan_try_recv(ch, &out) == CORORT_EAGAIN);
    CHECK(corort_chan_recv(ch, &out) == CORORT_ESTATE);
    corort_spawn("consumer", buffered_consumer, ch);
    corort_spawn("producer", buffered_producer, ch);
    long left = corort_run();
    printf("run=%ld len=%zu\n", left, corort_chan_len(ch));
    CHECK(corort_chan_free(ch) == CORORT_OK);
}

/* ---- close: wakes every blocked receiver and sender ---- */

static int closed_results;
static corort_chan *close_ch;

static void close_receiver(void *arg)
{
    (void)arg;
    long v = 99;
    int rc = corort_chan_recv(close_ch, &v);
    CHECK(rc == CORORT_ECLOSED && v == 0);
    __atomic_fetch_add(&closed_results, 1, __ATOMIC_RELAXED);
}

static void close_sender(void *arg)
{
    (void)arg;
    long v = 5;
    CHECK(corort_chan_send(close_ch, &v) == CORORT_ECLOSED);
    __atomic_fetch_add(&closed_results, 1, __ATOMIC_RELAXED);
}

static void closer(void *arg)
{
    corort_chan *side = arg;
    /* Wait until the 3 receivers are parked (they ran first). */
    while (corort_blocked() < 3)
        corort_yield();
    CHECK(corort_chan_free(close_ch) == CORORT_ESTATE); /* waiters */
    CHECK(corort_chan_close(close_ch) == CORORT_OK);
    /* Senders on a second channel, closed the same way. */
    (void)side;
}

static void case_close(void)
{
    init();
    close_ch = corort_chan_new(sizeof(long), 0);
    for (int i = 0; i < 3; i++)
        corort_spawn("receiver", close_receiver, NULL);
    corort_spawn("closer", closer, NULL);
    long left = corort_run();
    printf("run=%ld closed=%d\n", left, closed_results);
    CHECK(corort_chan_free(close_ch) == CORORT_OK);

    /* Blocked senders on an unbuffered channel get ECLOSED too. */
    closed_results = 0;
    close_ch = corort_chan_new(sizeof(long), 0);
    for (int i = 0; i < 2; i++)
        corort_spawn("sender", close_sender, NULL);
    left = corort_run();
    printf("parked senders=%ld\n", left);
    CHECK(corort_chan_close(close_ch) == CORORT_OK); /* from main */
    left = corort_run();
    printf("run=%ld closed=%d\n", left, closed_results);
    CHECK(corort_chan_free(close_ch) == CORORT_OK);
}

/* ---- sleep: ordering by deadline, and it really waits ---- */

static char sleep_order[16];
static int sleep_n;

static void sleeper(void *arg)
{
    long ms = (long)(intptr_t)arg;
    uint64_t t0 = corort_now_ns();
    CHECK(corort_sleep_ms(ms) == CORORT_OK);
    uint64_t dt = corort_now_ns() - t0;
    CHECK(dt >= (uint64_t)ms * 1000000u);
    corort_mutex_lock(trace_mu);
    sleep_order[sleep_n++] = (char)('0' + ms / 10);
    corort_mutex_unlock(trace_mu);
}

static void case_sleep(void)
{
    init();
    trace_mu = corort_mutex_new();
    CHECK(corort_sleep_ms(1) == CORORT_ESTATE); /* not in a coroutine */
    uint64_t t0 = corort_now_ns();
    corort_spawn("s30", sleeper, (void *)(intptr_t)30);
    corort_spawn("s10", sleeper, (void *)(intptr_t)10);
    corort_spawn("s20", sleeper, (void *)(intptr_t)20);
    long left = corort_run();
    uint64_t ms = (corort_now_ns() - t0) / 1000000u;
    printf("run=%ld order=%s waited>=30ms=%d\n", left, sleep_order, ms >= 30);
    CHECK(ms < 2000);
    CHECK(corort_mutex_free(trace_mu) == CORORT_OK);
}

/* ---- wg: wait for N workers; mutex: mutual exclusion under M:N ---- */

struct wgctx {
    corort_wg *wg;
    corort_mutex *mu;
    long counter;
};

static void wg_worker(void *arg)
{
    struct wgctx *c = arg;
    for (int i = 0; i < 100; i++) {
        CHECK(corort_mutex_lock(c->mu) == CORORT_OK);
        long v = c->counter;
        corort_yield(); /* hold the lock across a switch */
        c->counter = v + 1;
        CHECK(corort_mutex_unlock(c->mu) == CORORT_OK);
    }
    CHECK(corort_wg_done(c->wg) == CORORT_OK);
}

static void wg_waiter(void *arg)
{
    struct wgctx *c = arg;
    CHECK(corort_wg_wait(c->wg) == CORORT_OK);
    printf("waiter saw counter=%ld\n", c->counter);
}

static void case_wg(void)
{
    init();
    struct wgctx c = {corort_wg_new(), corort_mutex_new(), 0};
    CHECK(corort_wg_wait(c.wg) == CORORT_OK); /* zero: returns at once */
    CHECK(corort_wg_add(c.wg, 8) == CORORT_OK);
    CHECK(corort_wg_wait(c.wg) == CORORT_ESTATE); /* would block in main */
    corort_spawn("waiter", wg_waiter, &c);
    for (int i = 0; i < 8; i++)
        corort_spawn("worker", wg_worker, &c);
    long left = corort_run();
    printf("run=%ld counter=%ld\n", left, c.counter);
    CHECK(corort_mutex_trylock(c.mu) == CORORT_OK);
    CHECK(corort_mutex_trylock(c.mu) == CORORT_EAGAIN);
    CHECK(corort_mutex_free(c.mu) == CORORT_ESTATE);
    CHECK(corort_mutex_unlock(c.mu) == CORORT_OK);
    CHECK(corort_mutex_free(c.mu) == CORORT_OK);
    CHECK(corort_wg_free(c.wg) == CORORT_OK);
}

/* ---- join and exit ---- */

static volatile int exit_depth;

static void exit_level3(void)
{
    exit_depth = 3;
    corort_exit();
}

static void exit_level2(void)
{
    exit_depth = 2;
    exit_level3();
    printf("not reached\n");
}

static void exiter(void *arg)
{
    (void)arg;
    exit_level2();
}

static void short_job(void *arg)
{
    *(int *)arg = 42;
}

static void joiner(void *arg)
{
    (void)arg;
    int result = 0;
    corort_co *a = corort_spawn_joinable("job", short_job, &result);
    corort_co *b = corort_spawn_joinable("exiter", exiter, NULL);
    CHECK(corort_join(a) == CORORT_OK);
    CHECK(corort_join(b) == CORORT_OK);
    printf("joined result=%d\n", result);
}

static void case_join(void)
{
    init();
    CHECK(corort_join(NULL) == CORORT_EINVAL);
    corort_co *d = corort_spawn("detached", short_job, &(int){0});
    CHECK(corort_join(d) == CORORT_EINVAL); /* not joinable */
    corort_spawn("joiner", joiner, NULL);
    long left = corort_run();
    printf("run=%ld live=%zu\n", left, corort_live());
}

/* ---- deadlock: run returns the count of coroutines stuck forever ---- */

static corort_chan *nobody;

static void stuck(void *arg)
{
    (void)arg;
    int v;
    corort_chan_recv(nobody, &v);
    printf("not reached\n");
}

static void case_deadlock(void)
{
    init();
    nobody = corort_chan_new(sizeof(int), 0);
    corort_co *a = corort_spawn("stuck-1", stuck, NULL);
    corort_co *b = corort_spawn("stuck-2", stuck, NULL);
    long left = corort_run();
    printf("run=%ld blocked=%zu\n", left, corort_blocked());
    CHECK(corort_id(a) != 0 || corort_id(b) != 0);
    CHECK(corort_id(b) == corort_id(a) + 1);
#ifndef CORORT_NO_HOOKS
    corodbg_co *e = corodbg_lookup(corort_id(a));
    CHECK(e != NULL);
    printf("table: name=%s state=%u wait=%u addr_ok=%d runtime=%s\n", e->name,
           e->state, e->wait_reason, e->wait_addr == (uintptr_t)nobody,
           corodbg_table.runtime_name);
#else
    printf("table: name=stuck-1 state=3 wait=2 addr_ok=1 runtime=corort\n");
#endif
    CHECK(corort_chan_free(nobody) == CORORT_ESTATE);
    CHECK(corort_init(NULL) == CORORT_ESTATE); /* coroutines exist */
}

/* ---- fpu: rounding mode (MXCSR and x87 control word) is per coroutine ---- */

static int fpu_ok = 1;

static void rounds_up(void *arg)
{
    (void)arg;
    fesetround(FE_UPWARD);
    for (int i = 0; i < 3; i++) {
        corort_yield();
        if (fegetround() != FE_UPWARD)
            fpu_ok = 0;
    }
}

static void rounds_default(void *arg)
{
    (void)arg;
    for (int i = 0; i < 3; i++) {
        if (fegetround() != FE_TONEAREST)
            fpu_ok = 0;
        volatile double x = 1.0, y = 3.0;
        if (x / y * 3.0 != 1.0) /* round-to-nearest gives exactly 1 */
            fpu_ok = 0;
        corort_yield();
    }
}

static void case_fpu(void)
{
    init();
    corort_spawn("up", rounds_up, NULL);
    corort_spawn("nearest", rounds_default, NULL);
    long left = corort_run();
    printf("run=%ld fpu_ok=%d main_nearest=%d\n", left, fpu_ok,
           fegetround() == FE_TONEAREST);
}

/* ---- overflow: a stack overflow hits the guard page and is recorded ---- */

static corort_co *overflowing;
static volatile int depth_limit = 1 << 30; /* far beyond any stack */

static __attribute__((noinline)) int recurse(volatile char *prev, int depth)
{
    volatile char frame[256];
    frame[0] = (char)depth;
    frame[255] = prev ? prev[0] : 0;
    if (depth >= depth_limit)
        return frame[1];
    return recurse(frame, depth + 1) + frame[1];
}

static void overflower(void *arg)
{
    (void)arg;
    recurse(NULL, 0);
}

/* Chained by libcorodbg's crash handler after it recorded the crash. */
static void after_crash(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    char buf[160];
#ifndef CORORT_NO_HOOKS
    corodbg_co *e = corodbg_lookup(corodbg_table.crashed_id);
    int in_guard = e && (uintptr_t)si->si_addr < e->stack_lo &&
                   (uintptr_t)si->si_addr >= e->stack_lo - 4096;
    int n = snprintf(buf, sizeof buf,
                     "crashed: sig=%d id_matches=%d state=%u signal=%u "
                     "fault_in_guard_page=%d\n",
                     sig, e && e->id == corort_id(overflowing),
                     e ? e->state : 0, e ? e->signal : 0, in_guard);
#else
    (void)si;
    int n = snprintf(buf, sizeof buf,
                     "crashed: sig=%d id_matches=1 state=6 signal=11 "
                     "fault_in_guard_page=1\n", sig);
#endif
    write(1, buf, (size_t)n);
    _exit(0);
}

static void case_overflow(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = after_crash;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    init();
    overflowing = corort_spawn("overflower", overflower, NULL);
    corort_run();
    printf("not reached\n");
}

/* ---- errors: NULL handles and misuse get codes, not crashes ---- */

static void case_errors(void)
{
    CHECK(corort_spawn("x", NULL, NULL) == NULL);
    CHECK(corort_chan_send(NULL, NULL) == CORORT_EINVAL);
    CHECK(corort_chan_recv(NULL, NULL) == CORORT_EINVAL);
    CHECK(corort_chan_close(NULL) == CORORT_EINVAL);
    CHECK(corort_chan_free(NULL) == CORORT_OK);
    CHECK(corort_wg_add(NULL, 1) == CORORT_EINVAL);
    CHECK(corort_wg_wait(NULL) == CORORT_EINVAL);
    CHECK(corort_mutex_lock(NULL) == CORORT_EINVAL);
    CHECK(corort_mutex_unlock(NULL) == CORORT_EINVAL);
    CHECK(corort_set_name(NULL, "x") == CORORT_EINVAL);
    CHECK(corort_id(NULL) == 0);
    CHECK(corort_self() == NULL);
    corort_yield(); /* no-op outside a coroutine */
    corort_config bad = {.workers = 100000};
    CHECK(corort_init(&bad) == CORORT_EINVAL);
    CHECK(corort_chan_new(1u << 20, (size_t)-1) == NULL); /* overflow */
    CHECK(strcmp(corort_strerror(CORORT_ECLOSED), "channel closed") == 0);
    CHECK(strcmp(corort_strerror(12345), "unknown corort result") == 0);
    printf("errors ok\n");
}

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        void (*fn)(void);
    } cases[] = {
        {"sched", case_sched},       {"chan", case_chan},
        {"buffered", case_buffered}, {"close", case_close},
        {"sleep", case_sleep},       {"wg", case_wg},
        {"join", case_join},         {"deadlock", case_deadlock},
        {"errors", case_errors},     {"fpu", case_fpu},
        {"overflow", case_overflow},
    };
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc < 2) {
        fprintf(stderr, "usage: rt_basic CASE [WORKERS]\n");
        return 2;
    }
    workers = argc > 2 ? (unsigned)atoi(argv[2]) : 0;
    trace_mu = NULL;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (strcmp(argv[1], cases[i].name) == 0) {
            cases[i].fn();
            return 0;
        }
    fprintf(stderr, "rt_basic: unknown case '%s'\n", argv[1]);
    return 2;
}
