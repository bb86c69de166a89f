/* chain HANDLER TRIGGER: install the program's own HANDLER for the crash
 * signal, then (with libcorodbg) the crash handler, run as a coroutine,
 * and crash by TRIGGER.  Built twice: with libcorodbg and with
 * -DCHAIN_PLAIN (no libcorodbg at all); tests/hooks/test_crash_chain.py
 * checks both end the same way (status, signal, core, the core's siginfo)
 * and print the same lines.
 *
 * HANDLER: none, ign, plain (signal()), resethand, nodefer, onstack,
 *          backward (backward-cpp's SA_SIGINFO|SA_ONSTACK|SA_NODEFER|
 *          SA_RESETHAND: print, raise(sig), _exit(1)), longjmp (recover
 *          with siglongjmp, twice, then block and exit 0).
 * TRIGGER: segv (store to 0x10), abort, overflow (unbounded recursion with
 *          an alternate stack in place), badentry (abort with the
 *          coroutine's table entry read-only, so the crash handler
 *          itself faults; without libcorodbg a plain abort).
 *
 * Handlers print what delivery set up: is the signal blocked, is SIGUSR1
 * (in every sa_mask) blocked, is the disposition now SIG_DFL, are we on
 * the alternate stack.  Lines starting "corodbg:" only the libcorodbg
 * build prints. */
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef CHAIN_PLAIN
#include <corodbg.h>
#endif

static const char *handler_kind;
static sigjmp_buf recover;
static int entries;

static void say(const char *s)
{
    ssize_t r = write(1, s, strlen(s));
    (void)r;
}

/* What the kernel set up for this delivery, as one line. */
static void report(int sig)
{
    sigset_t cur;
    struct sigaction now;
    stack_t ss;
    char line[160];
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    sigaction(sig, NULL, &now);
    sigaltstack(NULL, &ss);
    snprintf(line, sizeof line,
             "handler %s entry=%d sig_blocked=%d usr1_blocked=%d "
             "reset=%d onstack=%d\n",
             handler_kind, ++entries, sigismember(&cur, sig),
             sigismember(&cur, SIGUSR1),
             now.sa_handler == SIG_DFL,
             !!(ss.ss_flags & SS_ONSTACK));
    say(line);
}

static void on_plain(int sig)
{
    report(sig);
    /* One-shot kinds return (a fault then recurs; abort() goes on to
     * its default action); the others must never get here twice. */
    if (strcmp(handler_kind, "resethand") == 0 && entries < 3)
        return;
    _exit(3);
}

static void on_info(int sig, siginfo_t *info, void *uctx)
{
    (void)info;
    (void)uctx;
    report(sig);
    if (strcmp(handler_kind, "backward") == 0) {
        raise(sig);
        _exit(1);
    }
    if (strcmp(handler_kind, "longjmp") == 0)
        siglongjmp(recover, 1);
    _exit(entries < 3 ? 5 : 4);
}

static void install(int sig, const char *kind)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR1);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO;
    if (strcmp(kind, "none") == 0)
        return;
    if (strcmp(kind, "ign") == 0) {
        signal(sig, SIG_IGN);
        return;
    }
    if (strcmp(kind, "plain") == 0) {
        signal(sig, on_plain);
        return;
    }
    if (strcmp(kind, "resethand") == 0) {
        sa.sa_handler = on_plain;
        sa.sa_flags = SA_RESETHAND;
    } else if (strcmp(kind, "nodefer") == 0) {
        sa.sa_flags |= SA_NODEFER;
    } else if (strcmp(kind, "onstack") == 0) {
        sa.sa_flags |= SA_ONSTACK;
    } else if (strcmp(kind, "backward") == 0) {
        sa.sa_flags |= SA_ONSTACK | SA_NODEFER | SA_RESETHAND;
    } else if (strcmp(kind, "longjmp") != 0) {
        fprintf(stderr, "chain: unknown handler %s\n", kind);
        exit(2);
    }
    sigaction(sig, &sa, NULL);
}

static volatile int depth_limit = 1 << 30; /* volatile: gcc may not see the end */
static volatile uintptr_t bad_address = 0x10;

__attribute__((noinline)) static int recurse(int n)
{
    volatile char pad[512];
    pad[0] = (char)n;
    if (n >= depth_limit)
        return 0;
    return recurse(n + 1) + pad[0];
}

static void crash(const char *trigger)
{
    if (strcmp(trigger, "segv") == 0)
        *(volatile int *)bad_address = 1;
    else if (strcmp(trigger, "overflow") == 0)
        recurse(0);
    else
        abort();
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: chain HANDLER TRIGGER\n");
        return 2;
    }
    handler_kind = argv[1];
    const char *trigger = argv[2];
    int sig = strcmp(trigger, "segv") == 0 || strcmp(trigger, "overflow") == 0
                  ? SIGSEGV : SIGABRT;
    static char altstack[64 * 1024];
    if (strcmp(trigger, "overflow") == 0 ||
        strcmp(handler_kind, "onstack") == 0 ||
        strcmp(handler_kind, "backward") == 0) {
        stack_t ss = {.ss_sp = altstack, .ss_size = sizeof altstack};
        sigaltstack(&ss, NULL);
    }
    install(sig, handler_kind);
#ifndef CHAIN_PLAIN
    corodbg_install_crash_handler();
    corodbg_co *co = corodbg_create("victim", (void *)main, NULL, 0, NULL);
    corodbg_switch(NULL, co);
    if (strcmp(trigger, "badentry") == 0) {
        uintptr_t page = (uintptr_t)co & ~(uintptr_t)4095;
        mprotect((void *)page, 8192, PROT_READ);
    }
#endif
    int recovered = 0;
    if (sigsetjmp(recover, 1))
        recovered++;
    if (recovered < 2)
        crash(trigger);
    printf("recovered %d times\n", recovered);
#ifndef CHAIN_PLAIN
    /* The program's handler recovered: the coroutine is live again. */
    printf("corodbg: state after recovery %u crashed_id %llu\n",
           (unsigned)co->state, (unsigned long long)corodbg_table.crashed_id);
    int rc = corodbg_block(co, CORODBG_WAIT_OTHER, NULL);
    printf("corodbg: block %d state %u\n", rc, (unsigned)co->state);
    corodbg_switch(co, NULL);
    printf("corodbg: after switch state %u crashed_id %llu\n",
           (unsigned)co->state, (unsigned long long)corodbg_table.crashed_id);
#endif
    return 0;
}
