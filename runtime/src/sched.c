/* The scheduler: spawn, run, yield, park/ready, exit and join.
 *
 * Every worker (the caller of corort_run() in single-thread mode, else N
 * pthreads) runs worker_loop(): take a coroutine from the shared FIFO run
 * queue, switch to it, and when it switches back perform the "after"
 * action it asked for (requeue, release the lock it blocked under, arm a
 * timer, free it).  Doing that on the scheduler's stack, after the
 * coroutine's context is completely saved, is what makes M:N safe: no
 * other worker can resume a coroutine whose registers are half written. */
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/common_interface_defs.h>
#endif

#define MAX_WORKERS 256u

int corort__mt;
static __thread struct corort__worker *tls_worker;

static struct {
    int inited;
    int running;
    int stop;
    unsigned nworkers;  /* 0: single-thread mode */
    unsigned idle;      /* workers waiting for work */
    corort__lock lock;  /* run queue, timers, idle, stop */
    pthread_cond_t cond;
    corort_co *rq_head, *rq_tail;
    size_t live;        /* coroutines not finished */
    size_t blocked;     /* coroutines parked */
    uint64_t next_id;   /* ids when there is no table entry */
} S = {.lock = PTHREAD_MUTEX_INITIALIZER};

static corort__lock join_lock = PTHREAD_MUTEX_INITIALIZER;

struct corort__worker *corort__worker(void)
{
    __asm__ volatile("" ::: "memory");
    return tls_worker;
}

corort_co *corort__current(void)
{
    struct corort__worker *w = corort__worker();
    return w ? w->cur : NULL;
}

const char *corort_strerror(int result)
{
    switch (result) {
    case CORORT_OK: return "success";
    case CORORT_EINVAL: return "invalid argument";
    case CORORT_ENOMEM: return "out of memory";
    case CORORT_ECLOSED: return "channel closed";
    case CORORT_ESTATE: return "not allowed in this state";
    case CORORT_EAGAIN: return "would block";
    default: return "unknown corort result";
    }
}

uint64_t corort_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int corort_init(const corort_config *cfg)
{
    static int cond_ready;
    unsigned workers = cfg ? cfg->workers : 0;

    if (S.running || __atomic_load_n(&S.live, __ATOMIC_RELAXED) != 0 ||
        corort__worker())
        return CORORT_ESTATE;
    if (workers > MAX_WORKERS)
        return CORORT_EINVAL;
    if (!cond_ready) {
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_cond_init(&S.cond, &ca);
        pthread_condattr_destroy(&ca);
        cond_ready = 1;
    }
    corort__stack_config(cfg ? cfg->stack_size : 0, cfg ? cfg->no_guard : 0);
    S.nworkers = workers;
    corort__mt = workers > 0;
    HOOK(corort__describe());
    HOOK(corodbg_install_crash_handler());
    S.inited = 1;
    return CORORT_OK;
}

int corort__ensure_init(void)
{
    return S.inited ? CORORT_OK : corort_init(NULL);
}

size_t corort_live(void)
{
    return __atomic_load_n(&S.live, __ATOMIC_RELAXED);
}

size_t corort_blocked(void)
{
    return __atomic_load_n(&S.blocked, __ATOMIC_RELAXED);
}

/* ---- run queue (under S.lock) ---- */

static void rq_push_locked(corort_co *co)
{
    co->next = NULL;
    if (S.rq_tail)
        S.rq_tail->next = co;
    else
        S.rq_head = co;
    S.rq_tail = co;
    if (corort__mt && S.idle)
        pthread_cond_signal(&S.cond);
}

static corort_co *rq_pop_locked(void)
{
    corort_co *co = S.rq_head;
    if (co) {
        S.rq_head = co->next;
        if (!S.rq_head)
            S.rq_tail = NULL;
    }
    return co;
}

void corort__ready(corort_co *co)
{
    HOOK(corodbg_wake(co->dbg));
    __atomic_fetch_sub(&S.blocked, 1, __ATOMIC_RELAXED);
    corort__lock_take(&S.lock);
    rq_push_locked(co);
    corort__lock_drop(&S.lock);
}

/* ---- spawn ---- */

static corort_co *spawn(const char *name, corort_fn fn, void *arg,
                        int joinable, const void *create_pc)
{
    if (!fn || corort__ensure_init() != CORORT_OK)
        return NULL;
    corort_co *co = calloc(1, sizeof *co);
    if (!co)
        return NULL;
    if (corort__stack_alloc(co) != CORORT_OK) {
        free(co);
        return NULL;
    }
    co->fn = fn;
    co->arg = arg;
    co->joinable = joinable;
    co->fpu[0] = CORORT_FPU_DEFAULT0;
    co->fpu[1] = CORORT_FPU_DEFAULT1;
    co->regs = co->own_regs;
#ifndef CORORT_NO_HOOKS
    co->dbg = corodbg_create(name, (const void *)fn, co->stack_lo,
                             co->stack_size, create_pc);
    if (co->dbg) {
        co->regs = corodbg_regs(co->dbg);
        co->id = corodbg_id(co->dbg);
    }
#else
    (void)name;
    (void)create_pc;
    co->id = __atomic_add_fetch(&S.next_id, 1, __ATOMIC_RELAXED);
#endif
    corort__ctx_init(co);
    __atomic_fetch_add(&S.live, 1, __ATOMIC_RELAXED);
    corort__lock_take(&S.lock);
    rq_push_locked(co);
    corort__lock_drop(&S.lock);
    return co;
}

corort_co *corort_spawn(const char *name, corort_fn fn, void *arg)
{
    return spawn(name, fn, arg, 0, __builtin_return_address(0));
}

corort_co *corort_spawn_joinable(const char *name, corort_fn fn, void *arg)
{
    return spawn(name, fn, arg, 1, __builtin_return_address(0));
}

uint64_t corort_id(const corort_co *co)
{
    return co ? co->id : 0;
}

corort_co *corort_self(void)
{
    return corort__current();
}

int corort_set_name(corort_co *co, const char *name)
{
    if (!co)
        return CORORT_EINVAL;
    HOOK(corodbg_set_name(co->dbg, name));
    (void)name;
    return CORORT_OK;
}

/* ---- switching ---- */

void corort__park(int after, void *arg)
{
    struct corort__worker *w = corort__worker();
    corort_co *co = w->cur;

    w->after = after;
    w->after_arg = arg;
    /* No hook here: the coroutine is still RUNNING in the table until its
     * registers are saved; run_one reports the switch on the other side. */
#ifdef __SANITIZE_ADDRESS__
    __sanitizer_start_switch_fiber(&co->asan_fake, w->asan_stack_lo,
                                   w->asan_stack_size);
#endif
    corort__swap(co->regs, w->regs, co->fpu, w->fpu);
#ifdef __SANITIZE_ADDRESS__
    w = corort__worker(); /* maybe another worker now */
    __sanitizer_finish_switch_fiber(co->asan_fake, &w->asan_stack_lo,
                                    &w->asan_stack_size);
#endif
}

void corort__block(enum corodbg_wait reason, const void *addr,
                   corort__lock *lock, const void *ret)
{
    struct corort__worker *w = corort__worker();
    w->block_pending = 1;
    w->block_reason = reason;
    w->block_addr = addr;
    w->block_ret = ret;
    corort__park(CORORT__AFTER_NONE, lock);
}

void corort_yield(void)
{
    if (corort__current())
        corort__park(CORORT__AFTER_YIELD, NULL);
}

void corort__start(corort_co *co)
{
#ifdef __SANITIZE_ADDRESS__
    struct corort__worker *w = corort__worker();
    __sanitizer_finish_switch_fiber(NULL, &w->asan_stack_lo,
                                    &w->asan_stack_size);
#endif
    co->fn(co->arg);
    corort_exit();
}

void corort_exit(void)
{
    struct corort__worker *w = corort__worker();
    corort_co *co = w ? w->cur : NULL;
    if (!co)
        corort_panic("corort_exit called outside a coroutine");
    /* Leave the table first, and save the last context into our own
     * block: the table slot may be reused by another thread right away. */
    HOOK(corodbg_exit(co->dbg));
    co->dbg = NULL;
    co->regs = co->own_regs;
    w->after = CORORT__AFTER_EXIT;
    w->after_arg = NULL;
#ifdef __SANITIZE_ADDRESS__
    __sanitizer_start_switch_fiber(NULL, w->asan_stack_lo, w->asan_stack_size);
#endif
    corort__swap(co->own_regs, w->regs, co->fpu, w->fpu);
    __builtin_unreachable();
}

static void finish(corort_co *co)
{
    corort__stack_free(co);
    __atomic_fetch_sub(&S.live, 1, __ATOMIC_RELAXED);
    if (!co->joinable) {
        free(co);
        return;
    }
    corort__lock_take(&join_lock);
    co->done = 1;
    corort_co *joiner = co->joiner;
    corort__lock_drop(&join_lock);
    /* CO may be freed by a joiner from here on. */
    if (joiner)
        corort__ready(joiner);
}

static void run_one(struct corort__worker *w, corort_co *co)
{
    w->cur = co;
    w->after = CORORT__AFTER_NONE;
    w->after_arg = NULL;
    HOOK(corodbg_switch_inline(NULL, co->dbg));
#ifdef __SANITIZE_ADDRESS__
    __sanitizer_start_switch_fiber(&w->asan_fake, co->stack_lo,
                                   co->stack_size);
#endif
    corort__swap(w->regs, co->regs, w->fpu, co->fpu);
#ifdef __SANITIZE_ADDRESS__
    __sanitizer_finish_switch_fiber(w->asan_fake, NULL, NULL);
#endif
    /* CO's registers are saved now: only from here may the table call it
     * parked (corodbg.h's ordering rule), and before any other worker can
     * resume it (the after-actions below publish it). */
    if (w->after != CORORT__AFTER_EXIT) {
        if (w->block_pending) { /* set by corort__block / sleep */
            w->block_pending = 0;
            HOOK(corodbg_block_at(co->dbg, w->block_reason, w->block_addr,
                                  w->block_ret));
        }
        HOOK(corodbg_switch_inline(co->dbg, NULL));
    }
    w->cur = NULL;
    switch (w->after) {
    case CORORT__AFTER_NONE:
        __atomic_fetch_add(&S.blocked, 1, __ATOMIC_RELAXED);
        if (w->after_arg)
            corort__lock_drop(w->after_arg);
        break;
    case CORORT__AFTER_YIELD:
        corort__lock_take(&S.lock);
        rq_push_locked(co);
        corort__lock_drop(&S.lock);
        break;
    case CORORT__AFTER_SLEEP:
        __atomic_fetch_add(&S.blocked, 1, __ATOMIC_RELAXED);
        corort__lock_take(&S.lock);
        if (corort__timer_add(co) != CORORT_OK) {
            /* No memory for the heap: wake it at once rather than lose it. */
            __atomic_fetch_sub(&S.blocked, 1, __ATOMIC_RELAXED);
            HOOK(corodbg_wake(co->dbg));
            rq_push_locked(co);
        } else if (corort__mt && S.idle) {
            pthread_cond_broadcast(&S.cond); /* maybe a nearer deadline */
        }
        corort__lock_drop(&S.lock);
        break;
    case CORORT__AFTER_EXIT:
        finish(co);
        break;
    }
}

/* ---- sleep ---- */

int corort_sleep_ns(uint64_t ns)
{
    corort_co *co = corort__current();
    if (!co)
        return CORORT_ESTATE;
    co->wake_at = corort_now_ns() + ns;
    struct corort__worker *w = corort__worker();
    w->block_pending = 1;
    w->block_reason = CORODBG_WAIT_SLEEP;
    w->block_addr = NULL;
    w->block_ret = CORORT__RET;
    corort__park(CORORT__AFTER_SLEEP, NULL);
    return CORORT_OK;
}

/* ---- the worker loop ---- */

static void wait_until(uint64_t deadline)
{
    struct timespec ts = {(time_t)(deadline / 1000000000u),
                          (long)(deadline % 1000000000u)};
    if (corort__mt) {
        pthread_cond_timedwait(&S.cond, &S.lock, &ts);
    } else {
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) ==
               EINTR)
            ;
    }
}

/* An alternate signal stack for this worker thread, unless it has one:
 * a coroutine that overflows into its guard page faults with no stack
 * left, and only a handler on another stack (libcorodbg's crash handler
 * uses SA_ONSTACK) can then record which coroutine crashed. */
#define ALTSTACK_SIZE (64u * 1024u)

static void *altstack_enter(void)
{
    stack_t old, ss;
    if (sigaltstack(NULL, &old) != 0 || !(old.ss_flags & SS_DISABLE))
        return NULL;
    ss.ss_sp = malloc(ALTSTACK_SIZE);
    ss.ss_size = ALTSTACK_SIZE;
    ss.ss_flags = 0;
    if (!ss.ss_sp || sigaltstack(&ss, NULL) != 0) {
        free(ss.ss_sp);
        return NULL;
    }
    return ss.ss_sp;
}

static void altstack_leave(void *mem)
{
    if (!mem)
        return;
    stack_t ss = {.ss_sp = NULL, .ss_flags = SS_DISABLE, .ss_size = 0};
    sigaltstack(&ss, NULL);
    free(mem);
}

static void worker_loop(struct corort__worker *w)
{
    unsigned n = S.nworkers ? S.nworkers : 1;
    void *altstack = altstack_enter();

    tls_worker = w;
    corort__lock_take(&S.lock);
    for (;;) {
        corort_co *co = rq_pop_locked();
        if (co) {
            corort__lock_drop(&S.lock);
            run_one(w, co);
            corort__lock_take(&S.lock);
            continue;
        }
        uint64_t next = corort__timer_next();
        if (next) {
            uint64_t now = corort_now_ns();
            int woke = 0;
            corort_co *t;
            while ((t = corort__timer_pop_expired(now)) != NULL) {
                HOOK(corodbg_wake(t->dbg));
                __atomic_fetch_sub(&S.blocked, 1, __ATOMIC_RELAXED);
                rq_push_locked(t);
                woke = 1;
            }
            if (woke)
                continue;
        }
        if (S.stop)
            break;
        if (!next && S.idle + 1 == n) {
            /* Nothing runs, nothing will: everyone finished or is stuck. */
            S.stop = 1;
            if (corort__mt)
                pthread_cond_broadcast(&S.cond);
            break;
        }
        S.idle++;
        if (next)
            wait_until(next);
        else
            pthread_cond_wait(&S.cond, &S.lock); /* only when mt (n > 1) */
        S.idle--;
    }
    corort__lock_drop(&S.lock);
    tls_worker = NULL;
    altstack_leave(altstack);
}

static void *worker_main(void *arg)
{
    worker_loop(arg);
    return NULL;
}

long corort_run(void)
{
    if (corort__worker())
        return CORORT_ESTATE;
    int rc = corort__ensure_init();
    if (rc != CORORT_OK)
        return rc;
    S.stop = 0;
    S.idle = 0;
    S.running = 1;
    if (S.nworkers == 0) {
        struct corort__worker w;
        memset(&w, 0, sizeof w);
        worker_loop(&w);
    } else {
        struct corort__worker *ws = calloc(S.nworkers, sizeof *ws);
        unsigned started = 0;
        if (!ws) {
            S.running = 0;
            return CORORT_ENOMEM;
        }
        for (unsigned i = 0; i < S.nworkers; i++) {
            ws[i].index = i;
            if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]))
                break;
            started++;
        }
        if (started < S.nworkers) {
            /* Fewer threads than asked: the stop rule counts S.nworkers,
             * so tell the missing ones they are idle forever. */
            corort__lock_take(&S.lock);
            S.idle += S.nworkers - started;
            corort__lock_drop(&S.lock);
        }
        for (unsigned i = 0; i < started; i++)
            pthread_join(ws[i].thread, NULL);
        S.idle = 0;
        free(ws);
    }
    S.running = 0;
    return (long)corort_live();
}

/* ---- join ---- */

int corort_join(corort_co *co)
{
    if (!co || !co->joinable)
        return CORORT_EINVAL;
    corort__lock_take(&join_lock);
    if (!co->done) {
        corort_co *self = corort__current();
        if (!self || co->joiner || co == self) {
            corort__lock_drop(&join_lock);
            return self ? CORORT_EINVAL : CORORT_ESTATE;
        }
        co->joiner = self;
        corort__block(CORODBG_WAIT_JOIN, co, &join_lock, CORORT__RET);
    } else {
        corort__lock_drop(&join_lock);
    }
    free(co);
    return CORORT_OK;
}
