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

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rm_ctx { /* the block runtime's saved context */
    uint64_t rsp, r15, r14, r13, r12, rbx, rbp, rip;
};

struct rm_co {
    corodbg_co *dbg;
    struct rm_ctx ctx; /* block mode */
    uint64_t sp;       /* frame mode: the saved stack pointer */
    int frame;
    long arg;
};

/* rm_block_switch(save, load): rip = the return address, rsp = the sp
 * after the return; resuming is a return into LOAD's caller. */
void rm_block_switch(struct rm_ctx *save, const struct rm_ctx *load);
__asm__(".text\n"
        ".globl rm_block_switch\n"
        ".type rm_block_switch,@function\n"
        "rm_block_switch:\n"
        "    .cfi_startproc\n"
        "    movq (%rsp), %rax\n"
        "    movq %rax, 56(%rdi)\n"
        "    leaq 8(%rsp), %rax\n"
        "    movq %rax, 0(%rdi)\n"
        "    movq %r15, 8(%rdi)\n"
        "    movq %r14, 16(%rdi)\n"
        "    movq %r13, 24(%rdi)\n"
        "    movq %r12, 32(%rdi)\n"
        "    movq %rbx, 40(%rdi)\n"
        "    movq %rbp, 48(%rdi)\n"
        "    movq 8(%rsi), %r15\n"
        "    movq 16(%rsi), %r14\n"
        "    movq 24(%rsi), %r13\n"
        "    movq 32(%rsi), %r12\n"
        "    movq 40(%rsi), %rbx\n"
        "    movq 48(%rsi), %rbp\n"
        "    movq 0(%rsi), %rsp\n"
        "    jmpq *56(%rsi)\n"
        "    .cfi_endproc\n"
        ".size rm_block_switch, .-rm_block_switch\n");

/* rm_frame_switch(save_sp, load_sp): push the fcontext frame, store the
 * sp into *SAVE_SP, pop LOAD_SP's frame and return into its caller. */
void rm_frame_switch(uint64_t *save_sp, uint64_t load_sp);
__asm__(".text\n"
        ".globl rm_frame_switch\n"
        ".type rm_frame_switch,@function\n"
        "rm_frame_switch:\n"
        "    .cfi_startproc\n"
        "    leaq -0x38(%rsp), %rsp\n"
        "    stmxcsr (%rsp)\n"
        "    fnstcw 4(%rsp)\n"
        "    movq %r12, 0x08(%rsp)\n"
        "    movq %r13, 0x10(%rsp)\n"
        "    movq %r14, 0x18(%rsp)\n"
        "    movq %r15, 0x20(%rsp)\n"
        "    movq %rbx, 0x28(%rsp)\n"
        "    movq %rbp, 0x30(%rsp)\n"
        "    movq %rsp, (%rdi)\n"
        "    movq %rsi, %rsp\n"
        "    movq 0x08(%rsp), %r12\n"
        "    movq 0x10(%rsp), %r13\n"
        "    movq 0x18(%rsp), %r14\n"
        "    movq 0x20(%rsp), %r15\n"
        "    movq 0x28(%rsp), %rbx\n"
        "    movq 0x30(%rsp), %rbp\n"
        "    ldmxcsr (%rsp)\n"
        "    fldcw 4(%rsp)\n"
        "    leaq 0x38(%rsp), %rsp\n"
        "    ret\n"
        "    .cfi_endproc\n"
        ".size rm_frame_switch, .-rm_frame_switch\n");

#define L CORODBG_LOC_LOAD
/* DWARF x86-64: rip 16, rsp 7, rbp 6, rbx 3, r12..r15 12..15. */
static const struct corodbg_reg_loc block_layout[] = {
    {16, L, offsetof(struct rm_ctx, rip)}, {7, L, offsetof(struct rm_ctx, rsp)},
    {6, L, offsetof(struct rm_ctx, rbp)},  {3, L, offsetof(struct rm_ctx, rbx)},
    {12, L, offsetof(struct rm_ctx, r12)}, {13, L, offsetof(struct rm_ctx, r13)},
    {14, L, offsetof(struct rm_ctx, r14)}, {15, L, offsetof(struct rm_ctx, r15)},
};
/* Boost fcontext x86-64 SysV, as rm_frame_switch pushes it. */
static const struct corodbg_reg_loc frame_layout[] = {
    {12, L, 0x08}, {13, L, 0x10}, {14, L, 0x18}, {15, L, 0x20},
    {3, L, 0x28},  {6, L, 0x30},  {16, L, 0x38}, {7, CORODBG_LOC_ADDR, 0x40},
};
#undef L

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
    if (frame ? corodbg_set_frame_layout(frame_layout, 8)
              : corodbg_set_block_layout(block_layout, 8)) {
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
