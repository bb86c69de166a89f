/* Panics and crashes: make the failing coroutine findable, live and in
 * the core file.
 *
 * The crash handler records which coroutine was running when a fatal
 * signal arrived, then gets out of the way so the process goes on (or
 * dies, and dumps core) exactly as it would have without us: see
 * corodbg_install_crash_handler in corodbg.h for the promise, and
 * chain() below for how each kind of previous disposition is honoured.
 * It only does async-signal-safe work: plain stores, sigaction, the
 * signal mask, one syscall and the event hook. */
#include "internal.h"

#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Totals for monitoring (corodbg_totals); a panic or a crash is never
 * on the switch path, so counting them costs nothing there. */
static uint64_t panics_total, crashes_total;

int corodbg_vpanic(const char *fmt, va_list ap)
{
    corodbg_co *co = corodbg__current;
    if (!co)
        return CORODBG_ESTATE;
    __atomic_fetch_add(&panics_total, 1, __ATOMIC_RELAXED);
    char *msg = malloc(CORODBG_PANIC_MAX);
    int len = 0;
    if (msg) {
        len = vsnprintf(msg, CORODBG_PANIC_MAX, fmt ? fmt : "(null)", ap);
        if (len < 0)
            len = 0;
        if (len >= (int)CORODBG_PANIC_MAX)
            len = CORODBG_PANIC_MAX - 1;
    }
    uint64_t now = corodbg__now();
    uint32_t old;
    char *prev = (char *)(uintptr_t)co->panic_msg;
    corodbg__entry_begin(co);
    int fire = corodbg__set_state(co, CORODBG_PANICKED, &old);
    co->panic_msg = (uint64_t)(uintptr_t)msg;
    co->panic_len = (uint32_t)len;
    co->since_ns = now;
    corodbg__entry_end(co);
    free(prev);
    if (corodbg_table.filter_flags & CORODBG_FILTER_PANIC)
        corodbg__fire(CORODBG_EVENT_PANIC, co, old, CORODBG_PANICKED);
    else if (fire)
        corodbg__state_event(co, old, CORODBG_PANICKED);
    return CORODBG_OK;
}

int corodbg_panic(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = corodbg_vpanic(fmt, ap);
    va_end(ap);
    return r;
}

static const int fatal_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define NFATAL (sizeof fatal_signals / sizeof fatal_signals[0])
static struct sigaction previous[NFATAL];
static int installed;

static int fatal_index(int sig)
{
    for (size_t i = 0; i < NFATAL; i++)
        if (fatal_signals[i] == sig)
            return (int)i;
    return -1;
}

/* Did the kernel raise SIG for a fault of the instruction that was
 * running (si_code > 0)?  Then returning from the handler executes it
 * again and it faults again.  For kill, tgkill and raise (abort()
 * included) si_code is <= 0 and si_addr's bytes hold the sender's pid. */
static int kernel_fault(int sig, const siginfo_t *info)
{
    return info && info->si_code > 0 &&
           (sig == SIGSEGV || sig == SIGBUS || sig == SIGFPE || sig == SIGILL);
}

static uint64_t fault_address(int sig, const siginfo_t *info)
{
    return kernel_fault(sig, info) ? (uint64_t)(uintptr_t)info->si_addr : 0;
}

/* Set while this thread records a crash: a fault in the recording (a
 * corrupt entry, a table page made read-only) jumps back and abandons
 * it, so the process still ends with the signal it got, not SIGSEGV. */
static __thread struct {
    volatile sig_atomic_t active;
    sigjmp_buf env;
} guard __attribute__((tls_model("initial-exec")));

static void record_crash(int sig, const siginfo_t *info)
{
    corodbg_co *co = corodbg__current;
    if (!co || !co->id)
        return;
    __atomic_fetch_add(&crashes_total, 1, __ATOMIC_RELAXED);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    uint32_t old = co->state;
    corodbg__entry_begin(co);
    /* A panicking coroutine that aborts stays PANICKED: the message
     * is the better explanation; the signal is recorded too. */
    if (old != CORODBG_PANICKED)
        co->state = CORODBG_CRASHED;
    co->signal = (uint32_t)sig;
    co->fault_addr = fault_address(sig, info);
    co->since_ns = now;
    corodbg__entry_end(co);
    corodbg_table.clock_ns = now;
    corodbg_table.crashed_id = co->id;
    if (corodbg_table.filter_flags & CORODBG_FILTER_CRASH)
        corodbg__fire(CORODBG_EVENT_CRASH, co, old, co->state);
}

/* CO was recorded CRASHED and runs on (its program's handler recovered,
 * e.g. with siglongjmp): it is a live coroutine again, and no longer the
 * crash a core file should name. */
void corodbg__crash_survived(corodbg_co *co, uint32_t state)
{
    uint64_t id = co->id;
    corodbg__entry_begin(co);
    corodbg__put_state_tid(co, state, state == CORODBG_RUNNING ? co->tid : 0);
    co->signal = 0;
    co->fault_addr = 0;
    corodbg__entry_end(co);
    uint64_t expect = id;
    __atomic_compare_exchange_n(&corodbg_table.crashed_id, &expect, 0, 0,
                                __ATOMIC_RELAXED, __ATOMIC_RELAXED);
}

/* Give SIG back to the kernel with disposition DISP in place, so the
 * kernel itself delivers it (mask, flags, stack, core) with the original
 * siginfo.  A fault recurs when we return; a sent signal is re-sent to
 * this thread with the sender's siginfo (allowed for a thread signalling
 * itself) and blocked until we return, so it arrives in the interrupted
 * context as it first did. */
static void hand_back(int sig, siginfo_t *info, const struct sigaction *disp)
{
    sigaction(sig, disp, NULL);
    if (kernel_fault(sig, info))
        return;
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_BLOCK, &one, NULL);
    if (!info || syscall(SYS_rt_tgsigqueueinfo, getpid(),
                         (pid_t)syscall(SYS_gettid), sig, info) != 0)
        raise(sig);
}

/* Would the kernel have run a handler with flags FLAGS on the stack we
 * run on?  Our handler has SA_ONSTACK: if we are on the alternate stack
 * and the interrupted code was not, a handler without SA_ONSTACK would
 * have run on the interrupted stack (or, if that overflowed, not at all). */
static int same_stack(int flags, const void *uctx)
{
    stack_t now;
    if (flags & SA_ONSTACK)
        return 1;
    if (sigaltstack(NULL, &now) != 0 || !(now.ss_flags & SS_ONSTACK))
        return 1;
    return uctx && (((const ucontext_t *)uctx)->uc_stack.ss_flags & SS_ONSTACK);
}

/* Deliver SIG as the kernel would have without us, to the disposition
 * the program had when we were installed. */
static void chain(int sig, siginfo_t *info, void *uctx)
{
    int i = fatal_index(sig);
    struct sigaction prev = previous[i];
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);

    if (prev.sa_handler == SIG_IGN) {
        /* The kernel forces the default action on an ignored fault; a
         * sent signal is discarded. */
        if (kernel_fault(sig, info))
            hand_back(sig, info, &dfl);
        return;
    }
    if (prev.sa_handler == SIG_DFL || !same_stack(prev.sa_flags, uctx)) {
        hand_back(sig, info, &prev);
        return;
    }
    /* Run the program's handler here, with what delivery would have set
     * up: its sa_mask and the signal itself (unless SA_NODEFER) added to
     * the interrupted mask, and SIG_DFL in place first for SA_RESETHAND.
     * When it returns, so do we, and the kernel restores the mask. */
    sigset_t mask = prev.sa_mask;
    if (!(prev.sa_flags & SA_NODEFER))
        sigaddset(&mask, sig);
    if (prev.sa_flags & SA_RESETHAND) {
        /* As the kernel does: only the handler changes. */
        struct sigaction reset = prev;
        reset.sa_handler = SIG_DFL;
        sigaction(sig, &reset, NULL);
        previous[i] = reset;
    }
    pthread_sigmask(SIG_BLOCK, &mask, NULL);
    if (prev.sa_flags & SA_SIGINFO)
        prev.sa_sigaction(sig, info, uctx);
    else
        prev.sa_handler(sig);
}

static void on_fatal_signal(int sig, siginfo_t *info, void *uctx)
{
    int nested = guard.active;
    if (nested && kernel_fault(sig, info))
        siglongjmp(guard.env, 1); /* we faulted while recording */
    int i = fatal_index(sig);
    /* A sent signal the program ignores changes nothing, so record
     * nothing. */
    int ignored = i >= 0 && previous[i].sa_handler == SIG_IGN &&
                  !kernel_fault(sig, info);
    if (!nested && !ignored) {
        if (sigsetjmp(guard.env, 1) == 0) {
            guard.active = 1;
            record_crash(sig, info);
        }
        guard.active = 0;
    }
    if (i >= 0)
        chain(sig, info, uctx);
}

int corodbg_install_crash_handler(void)
{
    pthread_mutex_lock(&corodbg__lock);
    int r = CORODBG_OK;
    if (!installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fatal_signal;
        /* SA_ONSTACK: record a coroutine that overflowed its stack.
         * SA_NODEFER and an empty mask: a fault while recording reaches
         * the guard instead of killing the process with SIGSEGV; chain()
         * sets the program's handler's own mask before calling it. */
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < NFATAL && r == CORODBG_OK; i++)
            if (sigaction(fatal_signals[i], &sa, &previous[i]) != 0)
                r = CORODBG_EINVAL;
        installed = r == CORODBG_OK;
    }
    pthread_mutex_unlock(&corodbg__lock);
    return r;
}

void corodbg_totals(struct corodbg_totals *out)
{
    /* ids are handed out from 1 and never reused; a freed slot is an
     * exited coroutine (live_count counts every slot not FREE) */
    uint64_t created = corodbg_table.next_id - 1;
    uint64_t live = corodbg_table.live_count;
    out->created = created;
    out->exited = created > live ? created - live : 0;
    out->panics = __atomic_load_n(&panics_total, __ATOMIC_RELAXED);
    out->crashes = __atomic_load_n(&crashes_total, __ATOMIC_RELAXED);
}
