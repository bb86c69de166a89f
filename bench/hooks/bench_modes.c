/* The cost of corodbg's hooks on runtimes that keep their registers
 * themselves, published in place (register modes BLOCK and FRAME): a
 * runtime with its own context block, and a scheduler over an fcontext-
 * shaped switch (callee-saved registers pushed, only the sp kept).  Built
 * twice from this file: build/runtime/bench/modes (corodbg_switch_inline
 * around every switch, entries pointed at the runtime's block or saved
 * sp once at creation) and build/runtime/bench/modes-nohooks (no corodbg
 * at all).  bench/run-hooks.sh prints the ratios from the same run.
 *
 * Output: "block_yield NS" and "frame_yield NS": per context switch (a
 * yield round trip of two coroutines through the scheduler is two),
 * thread CPU time, best of SWITCH_REPS runs (cpu_clock.h). */
#include "cpu_clock.h"
#include "rm_switch.h"

#include <stdio.h>
#include <stdlib.h>

#define STACK (64 * 1024)

struct co {
    struct rm_ctx ctx; /* block mode */
    uint64_t sp;       /* frame mode */
    int frame, done;
#ifndef BENCH_NO_HOOKS
    corodbg_co *dbg;
#endif
};

static struct co *cur;
static struct rm_ctx sched_ctx;
static uint64_t sched_sp;
static long yields = SWITCH_YIELDS;

static void to_sched(struct co *c)
{
    if (c->frame)
        rm_frame_switch(&c->sp, sched_sp);
    else
        rm_block_switch(&c->ctx, &sched_ctx);
}

static void body(void)
{
    struct co *c = cur;
    for (long i = 0; i < yields; i++)
        to_sched(c);
    c->done = 1;
    to_sched(c);
}

/* The scheduler's half: switch in, run until the coroutine yields, and
 * switch it out only after its context is stored (the ordering rule).
 * A function in both builds, as in any runtime: inlined into the loop
 * (the smaller no-hooks body would be), nothing returns after a switch
 * and the comparison would measure the return that a context switch
 * always makes the CPU mispredict (~10 ns here), not the hooks. */
static __attribute__((noinline)) void resume(struct co *c)
{
    cur = c;
#ifndef BENCH_NO_HOOKS
    corodbg_switch_inline(NULL, c->dbg);
#endif
    if (c->frame)
        rm_frame_switch(&sched_sp, c->sp);
    else
        rm_block_switch(&sched_ctx, &c->ctx);
    cur = NULL; /* the runtime's own bookkeeping after a switch */
#ifndef BENCH_NO_HOOKS
    corodbg_switch_inline(c->dbg, NULL);
#endif
}

static void init(struct co *c, int frame, char *stack)
{
    uint64_t *top = (uint64_t *)(stack + STACK) - 1;
    top[0] = 0;
    c->frame = frame;
    c->done = 0;
    if (frame) {
        uint64_t *f = top - 8;
        for (int i = 0; i < 8; i++)
            f[i] = 0;
        f[0] = 0x1f80 | (uint64_t)0x37f << 32;
        f[7] = (uint64_t)(uintptr_t)body;
        c->sp = (uint64_t)(uintptr_t)f;
    } else {
        c->ctx.rip = (uint64_t)(uintptr_t)body;
        c->ctx.rsp = (uint64_t)(uintptr_t)top;
    }
#ifndef BENCH_NO_HOOKS
    c->dbg = corodbg_create(frame ? "frame" : "block", (void *)body, stack,
                            STACK, NULL);
    if (frame)
        corodbg_regs_at_frame(c->dbg, &c->sp);
    else
        corodbg_regs_at_block(c->dbg, &c->ctx);
#endif
}

static double run(int frame, char *stacks)
{
    struct co a, b;
    init(&a, frame, stacks);
    init(&b, frame, stacks + STACK);
    uint64_t t0 = bench_cpu_ns();
    while (!a.done || !b.done) {
        if (!a.done)
            resume(&a);
        if (!b.done)
            resume(&b);
    }
    uint64_t dt = bench_cpu_ns() - t0;
#ifndef BENCH_NO_HOOKS
    corodbg_exit(a.dbg);
    corodbg_exit(b.dbg);
#endif
    return (double)dt / (double)(2 * yields);
}

int main(int argc, char **argv)
{
    if (argc > 1)
        yields = atol(argv[1]);
    char *stacks = aligned_alloc(16, 2 * STACK);
    if (!stacks)
        return 1;
#ifndef BENCH_NO_HOOKS
    if (corodbg_set_block_layout(rm_block_layout, 8) ||
        corodbg_set_frame_layout(rm_frame_layout, 8)) {
        fprintf(stderr, "bench_modes: layout refused\n");
        return 1;
    }
#endif
    double blk = 1e30, frm = 1e30;
    for (int r = 0; r < SWITCH_REPS; r++) {
        double x = run(0, stacks), y = run(1, stacks);
        blk = x < blk ? x : blk;
        frm = y < frm ? y : frm;
    }
    printf("block_yield %.2f\nframe_yield %.2f\n", blk, frm);
    free(stacks);
    return 0;
}
