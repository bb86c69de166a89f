/* fixture.c -- a tiny coroutine runtime for the corodbg GDB tests.
 *
 * It is self-contained (its own x86-64 switch routine) so the tests pin
 * exact line numbers, locals and states without depending on the
 * reference runtime.  Usage: fixture MODE [N]
 *   list N     N workers in mixed states, then stop in fixture_ready()
 *   crash      like list 6, then worker "crasher" dereferences NULL
 *   panic      like list 6, then worker "panicker" calls corodbg_panic
 *   churn N    N state transitions (block/wake) of one coroutine, then exit
 *   threads N  N OS threads, each running one coroutine, stop in
 *              fixture_ready() while they all run
 *   sleep      like list 6, then sleep (for attach and gcore)
 */
#include <corodbg.h>

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

/* Stacks are carved from large arenas so a million coroutines need
 * neither a million mappings nor much memory.  FIXTURE_STACK overrides. */
static size_t stack_size = 64 * 1024;
static char *arena, *arena_end;

struct co {
    corodbg_co *dbg;
    uint64_t *regs; /* = corodbg_regs(dbg): the switch saves into the table */
    void (*fn)(struct co *);
    long arg;
    int done;
};

/* fx_switch(save, load): save the callee-saved context into SAVE (in the
 * corodbg register-block order rip, rsp, rbp, rbx, r12..r15, with rip the
 * return address and rsp the stack pointer after the return) and resume
 * LOAD.  Resuming is a return into LOAD's caller. */
void fx_switch(uint64_t *save, const uint64_t *load);
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

static __thread uint64_t sched_regs[CORODBG_NREGS];
static __thread struct co *current;
static int chan_token; /* what blocked workers wait on */

static void fx_trampoline(void)
{
    struct co *c = current;
    c->fn(c);
    c->done = 1;
    corodbg_exit(c->dbg);
    c->dbg = NULL;
    uint64_t dead[CORODBG_NREGS];
    corodbg_switch(NULL, NULL);
    fx_switch(dead, sched_regs);
}

static struct co *spawn(const char *name, void (*fn)(struct co *), long arg)
{
    struct co *c = calloc(1, sizeof *c);
    if (arena == arena_end) {
        size_t bytes = 1024 * stack_size;
        arena = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (arena == MAP_FAILED) {
            perror("fixture: mmap");
            exit(2);
        }
        arena_end = arena + bytes;
    }
    char *stack = arena;
    arena += stack_size;
    if (!c) {
        perror("fixture: spawn");
        exit(2);
    }
    c->fn = fn;
    c->arg = arg;
    c->dbg = corodbg_create(name, (void *)fn, stack, stack_size,
                            __builtin_return_address(0));
    c->regs = corodbg_regs(c->dbg);
    /* Never ran: pc = trampoline, sp = top of stack holding a zero return
     * address so unwinders stop. */
    uint64_t *top = (uint64_t *)(stack + stack_size) - 1; /* 16n+8 */
    top[0] = 0;
    c->regs[0] = (uint64_t)(uintptr_t)fx_trampoline;
    c->regs[1] = (uint64_t)(uintptr_t)top;
    return c;
}

/* Run C until it yields or blocks. */
static void resume(struct co *c)
{
    current = c;
    corodbg_switch(NULL, c->dbg);
    fx_switch(sched_regs, c->regs);
    current = NULL;
}

/* From inside a coroutine: give the thread back to the scheduler. */
static __attribute__((noinline)) void fx_park(void)
{
    struct co *me = current;
    corodbg_switch(me->dbg, NULL);
    fx_switch(me->regs, sched_regs);
}

static __attribute__((noinline)) void fx_chan_recv(int *chan)
{
    corodbg_block(current->dbg, CORODBG_WAIT_CHAN_RECV, chan);
    fx_park();
}

static __attribute__((noinline)) void fx_nap(long ms)
{
    corodbg_block(current->dbg, CORODBG_WAIT_SLEEP, NULL);
    fx_park();
    (void)ms;
}

/* ---- the workers: their lines and locals are asserted by the tests ---- */

static __attribute__((noinline)) void consumer(struct co *self)
{
    long want = self->arg * 10;
    int got = 0;
    fx_chan_recv(&chan_token); /* LINE_CONSUMER_WAIT */
    got = (int)want;
    printf("consumer got %d\n", got);
}

static __attribute__((noinline)) void sleeper(struct co *self)
{
    long naps = self->arg + 1;
    fx_nap(naps * 100); /* LINE_SLEEPER_WAIT */
}

static __attribute__((noinline)) void yielder(struct co *self)
{
    volatile long spins = self->arg;
    fx_park(); /* LINE_YIELDER_PARK */
    spins++;
}

static __attribute__((noinline)) void crasher(struct co *self)
{
    volatile int *bad = (int *)(uintptr_t)self->arg;
    *bad = 42; /* LINE_CRASH */
}

static __attribute__((noinline)) void panicker(struct co *self)
{
    long code = self->arg;
    corodbg_panic("bad request %ld", code); /* LINE_PANIC */
    fx_park();
}

static __attribute__((noinline)) void churner(struct co *self)
{
    for (long i = 0; i < self->arg; i++) {
        corodbg_block(self->dbg, CORODBG_WAIT_YIELD, NULL);
        corodbg_wake(self->dbg);
    }
}

/* The tests break here: the table is complete and consistent. */
__attribute__((noinline)) void fixture_ready(void)
{
    __asm__ __volatile__("" ::: "memory");
}

static void make_mix(long n)
{
    /* i % 3: consumer (blocked, chan receive), sleeper (blocked, sleep),
     * yielder (runnable); a few never run (runnable, pc = trampoline). */
    for (long i = 0; i < n; i++) {
        struct co *c;
        switch (i % 3) {
        case 0: c = spawn("consumer", consumer, i); break;
        case 1: c = spawn("sleeper", sleeper, i); break;
        default: c = spawn("yielder", yielder, i); break;
        }
        if (i < n - 1 || n < 3)
            resume(c);
    }
}

static void *thread_main(void *arg)
{
    long i = (long)arg;
    struct co *c = spawn("spinner", NULL, i);
    (void)c;
    /* Run inside the coroutine's registration but on this thread's own
     * stack: the table says RUNNING with this tid. */
    corodbg_switch(NULL, c->dbg);
    for (;;)
        pause();
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "list";
    long n = argc > 2 ? atol(argv[2]) : 6;
    const char *ss = getenv("FIXTURE_STACK");
    if (ss && atol(ss) >= 1024)
        stack_size = (size_t)atol(ss) & ~(size_t)15;
    corodbg_set_runtime_name("fixture");
    corodbg_install_crash_handler();
    if (!strcmp(mode, "list")) {
        make_mix(n);
        fixture_ready();
    } else if (!strcmp(mode, "crash")) {
        make_mix(6);
        fixture_ready();
        resume(spawn("crasher", crasher, 0));
    } else if (!strcmp(mode, "panic")) {
        make_mix(6);
        fixture_ready();
        resume(spawn("panicker", panicker, 7));
        fixture_ready();
    } else if (!strcmp(mode, "churn")) {
        make_mix(6);
        fixture_ready();
        resume(spawn("churner", churner, n));
        fixture_ready();
    } else if (!strcmp(mode, "threads")) {
        make_mix(6);
        for (long i = 0; i < n; i++) {
            pthread_t t;
            pthread_create(&t, NULL, thread_main, (void *)i);
        }
        while (corodbg_live_count() < (size_t)(6 + n))
            usleep(1000);
        fixture_ready();
    } else if (!strcmp(mode, "sleep")) {
        make_mix(6);
        fixture_ready();
        printf("ready %d\n", (int)getpid());
        fflush(stdout);
        for (;;)
            pause();
    } else {
        fprintf(stderr, "fixture: unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
