/* rm_switch.h -- the context switches of two runtime shapes that keep
 * registers their own way, and the layouts that publish them in place
 * (register modes BLOCK and FRAME, docs/abi.md).  Shared by the test
 * runtime tests/progs/regmodes.c and bench/hooks/bench_modes.c; it
 * defines the asm routines, so include it in one translation unit of a
 * program.  x86-64 SysV. */
#ifndef RM_SWITCH_H
#define RM_SWITCH_H

#include <corodbg.h>

#include <stddef.h>
#include <stdint.h>

struct rm_ctx { /* the block runtime's saved context */
    uint64_t rsp, r15, r14, r13, r12, rbx, rbp, rip;
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
static const struct corodbg_reg_loc rm_block_layout[] = {
    {16, L, offsetof(struct rm_ctx, rip)}, {7, L, offsetof(struct rm_ctx, rsp)},
    {6, L, offsetof(struct rm_ctx, rbp)},  {3, L, offsetof(struct rm_ctx, rbx)},
    {12, L, offsetof(struct rm_ctx, r12)}, {13, L, offsetof(struct rm_ctx, r13)},
    {14, L, offsetof(struct rm_ctx, r14)}, {15, L, offsetof(struct rm_ctx, r15)},
};
/* Boost fcontext x86-64 SysV, as rm_frame_switch pushes it. */
static const struct corodbg_reg_loc rm_frame_layout[] = {
    {12, L, 0x08}, {13, L, 0x10}, {14, L, 0x18}, {15, L, 0x20},
    {3, L, 0x28},  {6, L, 0x30},  {16, L, 0x38}, {7, CORODBG_LOC_ADDR, 0x40},
};
#undef L

#endif
