/* lldbprog.c -- a tiny coroutine program for the corodbg LLDB and DAP tests.
 *
 * Its mini runtime and workers are tests/progs/minirt.c (shared with the
 * GDB test program), so the tests pin exact line numbers, locals and
 * states without depending on the reference runtime.
 *
 * Usage: lldbprog MODE [N]
 *   list N     N workers in mixed states, then example_checkpoint()
 *   panic      list 6, then worker "panicker" calls corodbg_panic()
 *   crash      list 6, then worker "crasher" writes through NULL (SIGSEGV)
 *   states     list 6, then wakes worker 2 (blocked -> runnable -> running)
 *   threads N  list 6 plus N OS threads, each running one coroutine
 *   relay N    N coroutines blocked through runtime code inlined into
 *              runtime code
 *   server N   N parked coroutines (blocked on a channel), for benchmarks
 *   sleep [N]  list 6 (+ N spinner threads), print "ready PID", then sleep
 *              (attach, gcore)
 *   corrupt K  list 6, then damage the table (K: magic, major, count,
 *              unmapped, chunkptr, cycle, strings, midupdate, panicmsg)
 *              and stop in example_checkpoint(); never resumed after
 *
 * Lines marked LINE_* (here and in minirt.c) are asserted by tests/lldb
 * (they grep for the marker to find the line number).
 */
#include "minirt.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

void lp_trampoline(void);
__asm__(".text\n"
        /* The first frame of every coroutine: rip is undefined in its CFI
         * so unwinders stop here. */
        ".globl lp_trampoline\n"
        ".type lp_trampoline,@function\n"
        "lp_trampoline:\n"
        "    .cfi_startproc\n"
        "    .cfi_undefined rip\n"
        "    xorl %ebp, %ebp\n"
        "    call lp_start\n"
        "    ud2\n"
        "    .cfi_endproc\n"
        ".size lp_trampoline, .-lp_trampoline\n");

static size_t stack_size = 64 * 1024;

void lp_start(void);
__attribute__((noinline, used)) void lp_start(void)
{
    struct co *c = current;
    c->fn(c);
    corodbg_exit(c->dbg);
    c->dbg = NULL;
    uint64_t dead[CORODBG_NREGS];
    corodbg_switch(NULL, NULL);
    fx_switch(dead, sched_regs);
    abort();
}

__attribute__((noinline)) struct co *spawn(const char *name,
                                           void (*fn)(struct co *), long arg)
{
    struct co *c = calloc(1, sizeof *c);
    char *stack = mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!c || stack == MAP_FAILED) {
        perror("lldbprog: spawn");
        exit(2);
    }
    c->fn = fn;
    c->arg = arg;
    c->dbg = corodbg_create(name, (void *)fn, stack, stack_size,
                            __builtin_return_address(0));
    c->regs = corodbg_regs(c->dbg);
    /* Never ran: pc = trampoline, sp = top of stack over a zero return
     * address so unwinders stop. */
    uint64_t *top = (uint64_t *)(stack + stack_size) - 2;
    top[0] = 0;
    top[1] = 0;
    c->regs[0] = (uint64_t)(uintptr_t)lp_trampoline;
    c->regs[1] = (uint64_t)(uintptr_t)top;
    return c;
}

static __attribute__((noinline)) void server_conn(struct co *self)
{
    long conn = self->arg;
    fx_chan_recv(&chan_token); /* LINE_SERVER_WAIT */
    (void)conn;
}

/* A wait reached through runtime code inlined into runtime code (as gcc
 * does with corort's send): LLDB lists the inlined call as a frame of its
 * own, at the same stack slot as the function it is inlined into. */
static inline __attribute__((always_inline)) void fx_relay_wait(void)
{
    fx_chan_recv(&chan_token);
}

static __attribute__((noinline)) void fx_relay(void)
{
    fx_relay_wait();
}

static __attribute__((noinline)) void relayer(struct co *self)
{
    (void)self;
    fx_relay(); /* LINE_RELAY_WAIT */
}

/* The tests break here: the table is complete and consistent. */
__attribute__((noinline)) void example_checkpoint(void)
{
    __asm__ __volatile__("" ::: "memory");
}

static uint64_t fake_dir[4];

/* Damage the table the way a memory corruption or a stop in the middle
 * of an update would; the debugger must say so, not crash or hang. */
static int corrupt(const char *kind)
{
    struct corodbg_descriptor *t = &corodbg_table;
    uint64_t *dir = (uint64_t *)(uintptr_t)t->chunk_dir;
    if (!strcmp(kind, "magic")) {
        t->magic[1] = 'X';
    } else if (!strcmp(kind, "major")) {
        t->abi_major = 99;
    } else if (!strcmp(kind, "count")) {
        t->nchunks = 0xffffffffu;
        t->live_count = (uint64_t)1 << 40;
    } else if (!strcmp(kind, "unmapped")) {
        t->chunk_dir = 0xdead0000;
    } else if (!strcmp(kind, "chunkptr")) {
        fake_dir[0] = 0xbad00000;
        t->chunk_dir = (uint64_t)(uintptr_t)fake_dir;
        t->nchunks = 1;
    } else if (!strcmp(kind, "cycle")) {
        for (int i = 0; i < 4; i++)
            fake_dir[i] = dir[0];
        t->chunk_dir = (uint64_t)(uintptr_t)fake_dir;
        t->nchunks = 4;
    } else if (!strcmp(kind, "strings")) {
        memset(all[0]->dbg->name, 'A', sizeof all[0]->dbg->name);
        memset(t->runtime_name, 'R', sizeof t->runtime_name);
    } else if (!strcmp(kind, "midupdate")) {
        t->generation |= 1;
        all[1]->dbg->seq |= 1;
    } else if (!strcmp(kind, "panicmsg")) {
        all[2]->dbg->state = CORODBG_PANICKED;
        all[2]->dbg->panic_msg = 0xbad00000;
        all[2]->dbg->panic_len = 200;
    } else {
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "list";
    long n = argc > 2 ? atol(argv[2]) : !strcmp(mode, "sleep") ? 0 : 6;
    corodbg_set_runtime_name("lldbprog");
    corodbg_install_crash_handler();
    if (mr_run_mode(mode, n, example_checkpoint) == 0) {
        /* list, crash, panic, threads, sleep: tests/progs/minirt.c */
    } else if (!strcmp(mode, "states")) {
        make_mix(6);
        example_checkpoint();
        corodbg_wake(all[1]->dbg); /* sleeper id 2: blocked -> runnable */
        resume(all[1]);            /* runnable -> running, then it exits */
        example_checkpoint();
    } else if (!strcmp(mode, "relay")) {
        for (long i = 0; i < n; i++)
            resume(spawn("relayer", relayer, i));
        example_checkpoint();
    } else if (!strcmp(mode, "server")) {
        stack_size = 16 * 1024;
        for (long i = 0; i < n; i++)
            resume(spawn("conn", server_conn, i));
        example_checkpoint();
    } else if (!strcmp(mode, "corrupt")) {
        make_mix(6);
        if (corrupt(argc > 2 ? argv[2] : "") != 0) {
            fprintf(stderr, "lldbprog: unknown corruption\n");
            return 2;
        }
        example_checkpoint();
        abort(); /* the tests kill it at the checkpoint */
    } else {
        fprintf(stderr, "lldbprog: unknown mode %s\n", mode);
        return 2;
    }
    return 0;
}
