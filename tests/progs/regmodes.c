/* regmodes.c -- two mini runtimes that keep their coroutines' registers
 * where they like, published with register modes instead of copies
 * (docs/abi.md "Register modes"; docs/integrate.md):
 *
 *   block  each coroutine has its own context block, in the runtime's own
 *          order (rsp, r15..r12, rbx, rbp, rip): mode BLOCK.
 *   frame  the switch pushes the callee-saved registers on the coroutine's
 *          stack and keeps only the stack pointer, exactly Boost fcontext's
 *          x86-64 frame (mxcsr/x87 cw, r12..r15, rbx, rbp, return
 *          address): mode FRAME.
 *
 * Both follow the ordering rule: the scheduler switches a coroutine out
 * only after its context is stored.  Lines marked LINE_* are asserted by
 * tests/gdb and tests/lldb.  x86-64 only, like minirt.c. */
#include "minirt.h"
#include "rm_switch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rm_co {
    corodbg_co *dbg;
    struct rm_ctx ctx; /* block mode */
    uint64_t sp;       /* frame mode: the saved stack pointer */
    int frame;
    long arg;
};

#define RM_STACK (64 * 1024)
#define RM_MAX 16
static struct rm_co rm_all[RM_MAX];
static struct rm_co *rm_cur;
static struct rm_ctx rm_sched_ctx;
static uint64_t rm_sched_sp;

__attribute__((noinline)) void fx_rm_park(void)
{
    struct rm_co *me = rm_cur;
    if (me->frame)
        rm_frame_switch(&me->sp, rm_sched_sp); /* LINE_RM_PARK_FRAME */
    else
        rm_block_switch(&me->ctx, &rm_sched_ctx); /* LINE_RM_PARK_BLOCK */
}

/* The user's code: distinct bodies so -O2 cannot fold them. */
__attribute__((noinline)) static void rm_wait_reply(struct rm_co *self)
{
    long ticket = self->arg * 7;
    corodbg_block(self->dbg, CORODBG_WAIT_IO, &ticket);
    fx_rm_park(); /* LINE_RM_WAIT */
    ticket++;
}

__attribute__((noinline)) void rm_worker(struct rm_co *self)
{
    long round = self->arg + 100;
    rm_wait_reply(self); /* LINE_RM_WORKER */
    round--;
    (void)round;
}

static void rm_trampoline(void)
{
    struct rm_co *c = rm_cur;
    rm_worker(c);
    corodbg_exit(c->dbg);
    c->dbg = NULL;
    uint64_t dead_sp;
    struct rm_ctx dead;
    if (c->frame)
        rm_frame_switch(&dead_sp, rm_sched_sp);
    rm_block_switch(&dead, &rm_sched_ctx);
}

static void rm_resume(struct rm_co *c)
{
    rm_cur = c;
    corodbg_switch(NULL, c->dbg); /* in before its context is loaded */
    if (c->frame)
        rm_frame_switch(&rm_sched_sp, c->sp);
    else
        rm_block_switch(&rm_sched_ctx, &c->ctx);
    rm_cur = NULL;
    if (c->dbg)
        corodbg_switch(c->dbg, NULL); /* out after it was stored */
}

static struct rm_co *rm_spawn(const char *name, int frame, long arg)
{
    static int n;
    if (n == RM_MAX)
        return NULL;
    struct rm_co *c = &rm_all[n++];
    char *stack = aligned_alloc(16, RM_STACK);
    if (!stack) {
        perror("regmodes: stack");
        exit(2);
    }
    c->frame = frame;
    c->arg = arg;
    c->dbg = corodbg_create(name, (void *)rm_worker, stack, RM_STACK,
                            __builtin_return_address(0));
    /* Never ran: pc = the trampoline, over a zero return address. */
    uint64_t *top = (uint64_t *)(stack + RM_STACK) - 1; /* 16n+8 */
    top[0] = 0;
    if (frame) {
        uint64_t *f = top - 8; /* the frame rm_frame_switch pops */
        memset(f, 0, 8 * sizeof *f);
        f[0] = 0x1f80 | (uint64_t)0x37f << 32; /* default mxcsr, x87 cw */
        f[7] = (uint64_t)(uintptr_t)rm_trampoline;
        c->sp = (uint64_t)(uintptr_t)f;
        corodbg_regs_at_frame(c->dbg, &c->sp);
    } else {
        c->ctx.rip = (uint64_t)(uintptr_t)rm_trampoline;
        c->ctx.rsp = (uint64_t)(uintptr_t)top;
        corodbg_regs_at_block(c->dbg, &c->ctx);
    }
    return c;
}

int rm_run_mode(const char *mode, long n, void (*checkpoint)(void))
{
    int frame;
    if (!strcmp(mode, "block") || !strcmp(mode, "block-bad"))
        frame = 0;
    else if (!strcmp(mode, "frame") || !strcmp(mode, "frame-bad"))
        frame = 1;
    else
        return -1;
    if (frame ? corodbg_set_frame_layout(rm_frame_layout, 8)
              : corodbg_set_block_layout(rm_block_layout, 8)) {
        fprintf(stderr, "regmodes: layout refused\n");
        exit(2);
    }
    if (n < 1 || n >= RM_MAX)
        n = 3;
    /* N workers parked in rm_wait_reply, then one that never ran. */
    for (long i = 0; i < n; i++)
        rm_resume(rm_spawn("waiter", frame, i + 1));
    rm_spawn("fresh", frame, 0);
    if (strstr(mode, "-bad")) {
        /* The second worker's context lies: its sp leaves the stack. */
        if (frame)
            rm_all[1].sp = 0x1000;
        else
            rm_all[1].ctx.rsp = 0x1000;
    }
    checkpoint();
    return 0;
}
