/* minirt.c -- the mini coroutine runtime and workers shared by the
 * debugger test programs; see minirt.h.  Lines marked LINE_* are asserted
 * by tests/gdb and tests/lldb (they grep for the marker). */
#include "minirt.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__asm__(".text\n"
        ".globl fx_switch\n"
        ".type fx_switch,@function\n"
        "fx_switch:\n"
        "    .cfi_startproc\n"
        "    movq (%rsp), %rax\n"
        "    movq %rax, 0(%rdi)\n"
        "    leaq 8(%rsp), %rax\n"
        "    movq %rax, 8(%rdi)\n"
        "    movq %rbp, 16(%rdi)\n"
        "    movq %rbx, 24(%rdi)\n"
        "    movq %r12, 32(%rdi)\n"
        "    movq %r13, 40(%rdi)\n"
        "    movq %r14, 48(%rdi)\n"
        "    movq %r15, 56(%rdi)\n"
        "    movq 16(%rsi), %rbp\n"
        "    movq 24(%rsi), %rbx\n"
        "    movq 32(%rsi), %r12\n"
        "    movq 40(%rsi), %r13\n"
        "    movq 48(%rsi), %r14\n"
        "    movq 56(%rsi), %r15\n"
        "    movq 8(%rsi), %rsp\n"
        "    jmpq *0(%rsi)\n"
        "    .cfi_endproc\n"
        ".size fx_switch, .-fx_switch\n");

__thread uint64_t sched_regs[CORODBG_NREGS];
__thread struct co *current;
int chan_token;

void resume(struct co *c)
{
    current = c;
    corodbg_switch(NULL, c->dbg);
    fx_switch(sched_regs, c->regs);
    current = NULL;
}

__attribute__((noinline)) void fx_park(void)
{
    struct co *me = current;
    corodbg_switch(me->dbg, NULL);
    fx_switch(me->regs, sched_regs); /* LINE_PARK */
}

/* The blocking calls say where they return to (corodbg_block_at): a
 * debugger then finds the wait site without reading the stack. */
__attribute__((noinline)) void fx_chan_recv(int *chan)
{
    corodbg_block_at(current->dbg, CORODBG_WAIT_CHAN_RECV, chan,
                     __builtin_return_address(0));
    fx_park(); /* LINE_RECV_PARK */
}

__attribute__((noinline)) void fx_nap(long ms)
{
    corodbg_block_at(current->dbg, CORODBG_WAIT_SLEEP, NULL,
                     __builtin_return_address(0));
    fx_park();
    (void)ms;
}

/* ---- the workers: their lines and locals are asserted by the tests ---- */

__attribute__((noinline)) void consumer(struct co *self)
{
    long want = self->arg * 10;
    int got = 0;
    fx_chan_recv(&chan_token); /* LINE_CONSUMER_WAIT */
    got = (int)want;
    printf("consumer got %d\n", got);
}

__attribute__((noinline)) void sleeper(struct co *self)
{
    long naps = self->arg + 1;
    fx_nap(naps * 100); /* LINE_SLEEPER_WAIT */
}

__attribute__((noinline)) void yielder(struct co *self)
{
    volatile long spins = self->arg;
    fx_park(); /* LINE_YIELDER_PARK */
    spins++;
}

__attribute__((noinline)) void crasher(struct co *self)
{
    volatile int *bad = (int *)(uintptr_t)self->arg;
    *bad = 42; /* LINE_CRASH */
}

__attribute__((noinline)) void aborter(struct co *self)
{
    (void)self;
    abort(); /* LINE_ABORT */
}

__attribute__((noinline)) void panicker(struct co *self)
{
    long code = self->arg;
    corodbg_panic("bad request %ld", code); /* LINE_PANIC */
    fx_park();
}

/* ---- the programs' common set-up ---- */

struct co *all[MR_ALL];

void make_mix(long n)
{
    /* i % 3: consumer (blocked, chan receive), sleeper (blocked, sleep),
     * yielder (runnable, parked); the last one never runs (runnable, pc =
     * the program's trampoline). */
    for (long i = 0; i < n; i++) {
        struct co *c;
        switch (i % 3) {
        case 0: c = spawn("consumer", consumer, i); break; /* LINE_SPAWN_C */
        case 1: c = spawn("sleeper", sleeper, i); break;   /* LINE_SPAWN_S */
        default: c = spawn("yielder", yielder, i); break;  /* LINE_SPAWN_Y */
        }
        if (i < MR_ALL)
            all[i] = c;
        if (i < n - 1 || n < 3)
            resume(c);
    }
}

static void *thread_main(void *arg)
{
    long i = (long)arg;
    struct co *c = spawn("spinner", NULL, i);
    /* Registered as RUNNING on this thread's own stack: the table says
     * RUNNING with this tid. */
    corodbg_switch(NULL, c->dbg);
    for (;;)
        pause();
    return NULL;
}

void start_spinners(long n)
{
    size_t want = corodbg_live_count() + (size_t)n;
    for (long i = 0; i < n; i++) {
        pthread_t t;
        pthread_create(&t, NULL, thread_main, (void *)i);
    }
    while (corodbg_live_count() < want)
        usleep(1000);
}

static void *pauser(void *arg)
{
    for (;;)
        pause();
    return arg;
}

int mr_run_mode(const char *mode, long n, void (*checkpoint)(void))
{
    if (!strcmp(mode, "list")) {
        make_mix(n);
        checkpoint();
    } else if (!strcmp(mode, "crash")) {
        make_mix(6);
        checkpoint();
        resume(spawn("crasher", crasher, 0));
    } else if (!strcmp(mode, "abort")) {
        make_mix(6);
        checkpoint();
        resume(spawn("aborter", aborter, 0));
    } else if (!strcmp(mode, "panic")) {
        make_mix(6);
        checkpoint();
        resume(spawn("panicker", panicker, 7));
        checkpoint();
    } else if (!strcmp(mode, "threads")) {
        make_mix(6);
        start_spinners(n);
        checkpoint();
    } else if (!strcmp(mode, "sleep")) {
        make_mix(6);
        start_spinners(n);
        checkpoint();
        printf("ready %d\n", (int)getpid());
        fflush(stdout);
        for (;;)
            pause();
    } else if (!strcmp(mode, "join")) {
        /* A hung process: the main thread waits in pthread_join, so on
         * attach its frame #0 is a futex wait inlined into glibc. */
        pthread_t t;
        make_mix(6);
        pthread_create(&t, NULL, pauser, NULL);
        checkpoint();
        printf("ready %d\n", (int)getpid());
        fflush(stdout);
        pthread_join(t, NULL);
    } else {
        return rm_run_mode(mode, n, checkpoint); /* block, frame: regmodes.c */
    }
    return 0;
}
