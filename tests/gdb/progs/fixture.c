/* fixture.c -- a tiny coroutine runtime for the corodbg GDB tests.
 *
 * Its mini runtime and workers are tests/progs/minirt.c (shared with the
 * LLDB test program), so the tests pin exact line numbers, locals and
 * states without depending on the reference runtime.  Usage: fixture MODE [N]
 *   list N     N workers in mixed states, then stop in fixture_ready()
 *   crash      like list 6, then worker "crasher" dereferences NULL
 *   panic      like list 6, then worker "panicker" calls corodbg_panic
 *   churn N    N state transitions (block/wake) of one coroutine, then exit
 *   threads N  N OS threads, each running one coroutine, stop in
 *              fixture_ready() while they all run
 *   sleep [N]  like list 6 (+ N spinner threads), then sleep (attach, gcore)
 */
#include "minirt.h"

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

struct co *spawn(const char *name, void (*fn)(struct co *), long arg)
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

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "list";
    long n = argc > 2 ? atol(argv[2]) : !strcmp(mode, "sleep") ? 0 : 6;
    const char *ss = getenv("FIXTURE_STACK");
    if (ss && atol(ss) >= 1024)
        stack_size = (size_t)atol(ss) & ~(size_t)15;
    corodbg_set_runtime_name("fixture");
    corodbg_install_crash_handler();
    if (mr_run_mode(mode, n, fixture_ready) == 0) {
        /* list, crash, panic, threads, sleep: tests/progs/minirt.c */
    } else if (!strcmp(mode, "churn")) {
        make_mix(6);
        fixture_ready();
        resume(spawn("churner", churner, n));
        fixture_ready();
    } else {
        fprintf(stderr, "fixture: unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
