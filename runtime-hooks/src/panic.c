/* Panics and crashes: make the failing coroutine findable, live and in
 * the core file.
 *
 * The crash handler records which coroutine was running when a fatal
 * signal arrived, then gets out of the way: it chains to the handler the
 * program had, or restores the default action and re-raises, so the
 * process dies (and dumps core) exactly as it would have without us.  It
 * only does async-signal-safe work: plain stores and the event hook. */
#include "internal.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

int corodbg_vpanic(const char *fmt, va_list ap)
{
    corodbg_co *co = corodbg__current;
    if (!co)
        return CORODBG_ESTATE;
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

/* si_addr means a faulting address only for a signal the kernel raised
 * for a fault (si_code > 0) of a kind that has one.  For kill, tgkill and
 * raise (abort() included) the same bytes hold the sender's pid. */
static uint64_t fault_address(int sig, const siginfo_t *info)
{
    if (!info || info->si_code <= 0)
        return 0;
    if (sig != SIGSEGV && sig != SIGBUS && sig != SIGFPE && sig != SIGILL)
        return 0;
    return (uint64_t)(uintptr_t)info->si_addr;
}

static void on_fatal_signal(int sig, siginfo_t *info, void *uctx)
{
    corodbg_co *co = corodbg__current;
    if (co && co->id) {
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

    int i = fatal_index(sig);
    struct sigaction *prev = i >= 0 ? &previous[i] : NULL;
    if (prev && (prev->sa_flags & SA_SIGINFO) && prev->sa_sigaction) {
        prev->sa_sigaction(sig, info, uctx);
        return;
    }
    if (prev && prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        prev->sa_handler(sig);
        return;
    }
    /* Default action: re-deliver once this handler returns (the signal
     * is blocked while we run), so the kernel kills and dumps as usual. */
    signal(sig, SIG_DFL);
    raise(sig);
}

int corodbg_install_crash_handler(void)
{
    pthread_mutex_lock(&corodbg__lock);
    int r = CORODBG_OK;
    if (!installed) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_fatal_signal;
        sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
        sigemptyset(&sa.sa_mask);
        for (size_t i = 0; i < NFATAL && r == CORODBG_OK; i++)
            if (sigaction(fatal_signals[i], &sa, &previous[i]) != 0)
                r = CORODBG_EINVAL;
        installed = r == CORODBG_OK;
    }
    pthread_mutex_unlock(&corodbg__lock);
    return r;
}
