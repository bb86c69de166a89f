/* State transitions on the runtime's hot paths, and the event hook.
 *
 * corodbg_switch runs on every context switch, so it reads no clock,
 * takes no lock and calls nothing: one store of state and tid per entry
 * and one load of the armed state mask (corodbg.h inlines it).  While a
 * filter is armed every switch takes corodbg__switch_armed; a transition
 * whose new state is in the mask then checks the id and name parts of
 * the filter and calls corodbg_event_hook() for the debugger. */
#include "internal.h"

#include <fnmatch.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

__thread struct corodbg_thread corodbg__thread
    __attribute__((tls_model("initial-exec")));

uint64_t corodbg__now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    corodbg_table.clock_ns = ns;
    return ns;
}

uint32_t corodbg__thread_tid(void)
{
    /* Cached per thread; the fork handler below clears it in a child,
     * whose only thread has a new id. */
    if (!corodbg__thread.tid)
        corodbg__thread.tid = (uint32_t)syscall(SYS_gettid);
    return corodbg__thread.tid;
}

static void clear_tid_after_fork(void) { corodbg__thread.tid = 0; }

__attribute__((constructor)) static void corodbg_init_fork_handler(void)
{
    pthread_atfork(NULL, NULL, clear_tid_after_fork);
}

__attribute__((noinline, used, visibility("default"))) void
corodbg_event_hook(void)
{
    /* Keep the call and the function: debuggers break here. */
    __asm__ __volatile__("" ::: "memory");
}

int corodbg__filter_matches(const corodbg_co *co)
{
    uint64_t want_id = corodbg_table.filter_id;
    if (want_id && want_id != co->id)
        return 0;
    /* The debugger writes the glob; never trust it to be terminated. */
    char glob[CORODBG_FILTER_NAME_MAX + 1];
    memcpy(glob, corodbg_table.filter_name, CORODBG_FILTER_NAME_MAX);
    glob[CORODBG_FILTER_NAME_MAX] = 0;
    if (glob[0] && fnmatch(glob, co->name, 0) != 0)
        return 0;
    return 1;
}

/* One event at a time: the record in the descriptor is what the debugger
 * reads while stopped in the hook.  A spinlock, not a mutex, because the
 * crash handler fires events from a signal handler. */
static volatile int event_lock;

void corodbg__fire(uint32_t kind, corodbg_co *co, uint32_t old_state,
                   uint32_t new_state)
{
    while (__atomic_exchange_n(&event_lock, 1, __ATOMIC_ACQUIRE))
        sched_yield();
    corodbg_table.event_kind = kind;
    corodbg_table.event_id = co ? co->id : 0;
    corodbg_table.event_old_state = old_state;
    corodbg_table.event_new_state = new_state;
    corodbg_table.event_seq++;
    corodbg_table.hook_calls++;
    corodbg_event_hook();
    __atomic_store_n(&event_lock, 0, __ATOMIC_RELEASE);
}

void corodbg__state_event(corodbg_co *co, uint32_t old_state,
                          uint32_t new_state)
{
    if (!(corodbg_table.filter_flags & CORODBG_FILTER_ARMED) ||
        !(corodbg_table.filter_state_mask & (1u << new_state)))
        return;
    if (!corodbg__filter_matches(co)) {
        /* A statistic: a plain load and store, no locked read-modify-
         * write on a line every worker shares.  Concurrent rejections may
         * lose a count; none is ever invented. */
        uint64_t n = __atomic_load_n(&corodbg_table.filtered, __ATOMIC_RELAXED);
        __atomic_store_n(&corodbg_table.filtered, n + 1, __ATOMIC_RELAXED);
        return;
    }
    corodbg__fire(CORODBG_EVENT_STATE, co, old_state, new_state);
}

/* The id part of the filter, tested before any call: a filter armed for
 * one coroutine is what every other coroutine's switch meets.  A
 * rejection is counted in `filtered` (a statistic: plain load and store,
 * may lose concurrent counts, never invents one). */
static inline int id_wanted(const corodbg_co *co)
{
    uint64_t want = corodbg_table.filter_id;
    if (!want || want == co->id)
        return 1;
    uint64_t n = __atomic_load_n(&corodbg_table.filtered, __ATOMIC_RELAXED);
    __atomic_store_n(&corodbg_table.filtered, n + 1, __ATOMIC_RELAXED);
    return 0;
}

void corodbg__switch_armed(corodbg_co *from, corodbg_co *to)
{
    uint32_t mask = corodbg_table.filter_state_mask;
    uint32_t from_old = 0, to_old = 0;
    corodbg__switch_entries(from, to, &from_old, &to_old);
    /* Events only after both entries are updated. */
    if (from && from_old == CORODBG_RUNNING &&
        (mask & (1u << CORODBG_RUNNABLE)) && id_wanted(from))
        corodbg__state_event(from, CORODBG_RUNNING, CORODBG_RUNNABLE);
    if (to && (mask & (1u << CORODBG_RUNNING)) && id_wanted(to))
        corodbg__state_event(to, to_old, CORODBG_RUNNING);
}

void corodbg_switch(corodbg_co *from, corodbg_co *to)
{
    corodbg_switch_inline(from, to);
}

/* Is this call running off CO's stack (so on a scheduler's)?  False
 * when the stack is not known: the tid is then kept, as it always was. */
static int off_own_stack(const corodbg_co *co)
{
    uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
    return co->stack_lo && (sp < co->stack_lo || sp >= co->stack_hi);
}

int corodbg_block(corodbg_co *co, enum corodbg_wait reason, const void *addr)
{
    return corodbg_block_at(co, reason, addr, NULL);
}

int corodbg_block_at(corodbg_co *co, enum corodbg_wait reason,
                     const void *addr, const void *ret)
{
    if (!co)
        return CORODBG_EINVAL;
    if ((unsigned)reason >= CORODBG_NWAITS)
        reason = CORODBG_WAIT_OTHER;
    if (co->state == CORODBG_CRASHED) /* it blocks, so it survived */
        corodbg__crash_survived(co, CORODBG_RUNNING);
    if (co->state != CORODBG_RUNNING && co->state != CORODBG_RUNNABLE)
        return CORODBG_ESTATE;
    uint64_t now = corodbg__now();
    uint32_t old;
    corodbg__entry_begin(co);
    int fire = corodbg__set_state(co, CORODBG_BLOCKED, &old);
    /* The tid names the OS thread executing the coroutine's code.  A
     * scheduler that blocks it from its own stack, after saving its
     * context (corort), leaves no thread executing it: clear the tid in
     * the same store as the state, or a debugger stopped at the event
     * takes the scheduler's stack for the coroutine's.  A coroutine that
     * blocks itself (the call runs on its stack) keeps it until its
     * switch away, as abi.md says. */
    if (off_own_stack(co))
        corodbg__put_state_tid(co, CORODBG_BLOCKED, 0);
    co->wait_reason = reason;
    co->wait_addr = (uint64_t)(uintptr_t)addr;
    co->wait_pc = (uint64_t)(uintptr_t)ret;
    co->since_ns = now;
    corodbg__entry_end(co);
    if (fire)
        corodbg__state_event(co, old, CORODBG_BLOCKED);
    return CORODBG_OK;
}

int corodbg_wake(corodbg_co *co)
{
    if (!co)
        return CORODBG_EINVAL;
    if (co->state != CORODBG_BLOCKED)
        return CORODBG_ESTATE;
    uint64_t now = corodbg__now();
    uint32_t old;
    corodbg__entry_begin(co);
    int fire = corodbg__set_state(co, CORODBG_RUNNABLE, &old);
    co->wait_reason = CORODBG_WAIT_NONE;
    co->wait_addr = 0;
    co->wait_pc = 0;
    co->since_ns = now;
    corodbg__entry_end(co);
    if (fire)
        corodbg__state_event(co, old, CORODBG_RUNNABLE);
    return CORODBG_OK;
}

corodbg_co *corodbg_current(void)
{
    return corodbg__current;
}
