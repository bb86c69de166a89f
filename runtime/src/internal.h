/* Private to corort: shared by sched.c, stack.c, timer.c, chan.c, sync.c
 * and panic.c.  Nothing here is API. */
#ifndef CORORT_INTERNAL_H
#define CORORT_INTERNAL_H

#include "corort.h"

/* Only for the register-block constants and, with hooks, the API. */
#include <corodbg.h>

#include <pthread.h>
#include <stdint.h>

#define CORORT_HIDDEN __attribute__((visibility("hidden")))
#define CORORT_UNLIKELY(x) __builtin_expect(!!(x), 0)

#ifdef CORORT_NO_HOOKS
#define HOOK(call) ((void)0)
#else
#define HOOK(call) ((void)(call))
#endif

/* The register block: the libcorodbg layout (see arch/<arch>/switch.S). */
#define CORORT_NREGS CORODBG_NREGS
#if defined(__x86_64__)
#define CORORT_REG_RBX 3
#define CORORT_FPU_DEFAULT0 0x1f80u /* MXCSR: all exceptions masked */
#define CORORT_FPU_DEFAULT1 0x037fu /* x87 CW: double extended, masked */
#elif defined(__aarch64__)
#define CORORT_REG_LR 3
#define CORORT_REG_X19 4
#define CORORT_FPU_DEFAULT0 0u /* FPCR: round to nearest */
#define CORORT_FPU_DEFAULT1 0u
#endif

/* runtime/arch/<arch>/switch.S */
CORORT_HIDDEN void corort__swap(uint64_t *save, const uint64_t *load,
                                uint32_t *save_fpu, const uint32_t *load_fpu);
CORORT_HIDDEN void corort__trampoline(void);
/* Name corort in the table and describe its code (describe.c). */
CORORT_HIDDEN void corort__describe(void);
/* Called by the trampoline on a new coroutine's stack; never returns. */
CORORT_HIDDEN __attribute__((noreturn, used)) void corort__start(corort_co *co);

/* A lock that is a no-op in single-thread mode (corort__mt == 0). */
typedef pthread_mutex_t corort__lock;
CORORT_HIDDEN extern int corort__mt;
static inline void corort__lock_init(corort__lock *l)
{
    pthread_mutex_init(l, NULL);
}
static inline void corort__lock_take(corort__lock *l)
{
    if (corort__mt)
        pthread_mutex_lock(l);
}
static inline void corort__lock_drop(corort__lock *l)
{
    if (corort__mt)
        pthread_mutex_unlock(l);
}

struct corort_co {
    uint64_t *regs;          /* the table's block, or own_regs */
    uint32_t fpu[2];         /* MXCSR + x87 CW, or FPCR */
    corodbg_co *dbg;         /* table entry (NULL: no hooks or table full) */
    struct corort_co *next;  /* run queue link */
    corort_fn fn;
    void *arg;
    void *stack_lo;          /* usable stack, above the guard page */
    size_t stack_size;
    uint64_t id;
    uint64_t wake_at;        /* sleep deadline (CLOCK_MONOTONIC ns) */
    size_t heap_idx;         /* position in the timer heap */
    int joinable;
    int done;                /* finished (joinable handles only) */
    struct corort_co *joiner;
#ifdef __SANITIZE_ADDRESS__
    void *asan_fake;         /* ASan fake stack while switched out */
#endif
    unsigned valgrind_id;    /* VALGRIND_STACK_REGISTER handle */
    uint64_t own_regs[CORORT_NREGS];
};

/* What the scheduler does right after a coroutine switched back to it,
 * once its context is completely saved (so another worker may resume it). */
enum corort__after {
    CORORT__AFTER_NONE,   /* blocked: release AFTER_ARG (a corort__lock) */
    CORORT__AFTER_YIELD,  /* put it back in the run queue */
    CORORT__AFTER_SLEEP,  /* put it in the timer heap */
    CORORT__AFTER_EXIT    /* it finished: free it */
};

struct corort__worker {
    uint64_t regs[CORORT_NREGS]; /* the scheduler's own context */
    uint32_t fpu[2];
    corort_co *cur;
    int after;
    void *after_arg;
    /* A block to report once the coroutine's context is saved (see
     * run_one: the table must not call it parked before then). */
    int block_pending;
    enum corodbg_wait block_reason;
    const void *block_addr;
    /* where the blocking call the program made returns to: its
     * __builtin_return_address(0), so a debugger finds the wait site
     * without reading the stack (corodbg_block_at) */
    const void *block_ret;
    unsigned index;
    pthread_t thread;
#ifdef __SANITIZE_ADDRESS__
    const void *asan_stack_lo; /* the worker thread's stack */
    size_t asan_stack_size;
    void *asan_fake;
#endif
};

/* The worker this OS thread runs, or NULL.  Never inlined, so a coroutine
 * that migrated to another worker re-reads it instead of reusing a TLS
 * address the compiler cached before a switch. */
CORORT_HIDDEN __attribute__((noinline)) struct corort__worker *
corort__worker(void);

/* The running coroutine, or NULL. */
CORORT_HIDDEN corort_co *corort__current(void);

/* Switch from the running coroutine to its scheduler, which then performs
 * AFTER (with ARG).  Returns when the coroutine is resumed, possibly on
 * another OS thread. */
CORORT_HIDDEN void corort__park(int after, void *arg);

/* In a public blocking function: where the program's call returns to,
 * for corort__block's RET (taken there, not deeper, where it would name
 * the runtime's own code). */
#define CORORT__RET __builtin_return_address(0)

/* Block the running coroutine on ADDR for REASON.  The caller holds LOCK,
 * which is released only after the context is saved, so a waker that takes
 * LOCK always finds the coroutine parked.  RET: the return address of the
 * public blocking function the program called (corodbg_block_at). */
CORORT_HIDDEN void corort__block(enum corodbg_wait reason, const void *addr,
                                 corort__lock *lock, const void *ret);

/* A blocked coroutine becomes runnable. */
CORORT_HIDDEN void corort__ready(corort_co *co);

/* Make sure the runtime is initialised (defaults). */
CORORT_HIDDEN int corort__ensure_init(void);

/* Stacks (stack.c). */
CORORT_HIDDEN int corort__stack_alloc(corort_co *co);
CORORT_HIDDEN void corort__stack_free(corort_co *co);
CORORT_HIDDEN void corort__stack_config(size_t size, int no_guard);
/* Prepare CO's register block to enter corort__trampoline. */
CORORT_HIDDEN void corort__ctx_init(corort_co *co);

/* Timers (timer.c), all under the scheduler lock. */
CORORT_HIDDEN int corort__timer_add(corort_co *co);
CORORT_HIDDEN corort_co *corort__timer_pop_expired(uint64_t now);
CORORT_HIDDEN uint64_t corort__timer_next(void); /* 0: none */

/* A waiting coroutine, kept on its own stack (chan.c, sync.c). */
struct corort__waiter {
    corort_co *co;
    void *elem;
    int result;
    struct corort__waiter *next;
};
struct corort__waitq {
    struct corort__waiter *head, *tail;
};
static inline void corort__wq_push(struct corort__waitq *q,
                                   struct corort__waiter *w)
{
    w->next = NULL;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
}
static inline struct corort__waiter *corort__wq_pop(struct corort__waitq *q)
{
    struct corort__waiter *w = q->head;
    if (w) {
        q->head = w->next;
        if (!q->head)
            q->tail = NULL;
    }
    return w;
}

#endif
