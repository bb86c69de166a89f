/*
 * runtime/arch/x86_64/switch.S -- corort's context switch for x86-64 (SysV).
 *
 * C prototypes (runtime/src/internal.h):
 *
 *   void corort__swap(uint64_t *save, const uint64_t *load,
 *                     uint32_t *save_fpu, const uint32_t *load_fpu);
 *   void corort__trampoline(void);     -- never called, only jumped to
 *
 * corort__swap saves the caller's context into SAVE, then resumes the
 * context in LOAD.  It "returns" when someone later swaps back to SAVE.
 *
 * Register block (SAVE / LOAD), 8 bytes per slot, the libcorodbg layout
 * (corodbg.h, CORODBG_REG_DWARF), so with hooks SAVE is the debugger
 * table's own register block and nothing is copied:
 *
 *     offset  slot  register  what is stored on save
 *     ------  ----  --------  -----------------------------------------
 *       0      0    rip       return address into corort__swap's caller
 *       8      1    rsp       rsp at entry + 8 (as after that return)
 *      16      2    rbp       as at the call
 *      24      3    rbx       as at the call
 *      32      4    r12       as at the call
 *      40      5    r13       as at the call
 *      48      6    r14       as at the call
 *      56      7    r15       as at the call
 *
 * FPU control block (SAVE_FPU / LOAD_FPU), in the runtime's own struct
 * (not the table: it is not needed to unwind):
 *
 *     offset  size  what
 *     ------  ----  ------------------------------------------------
 *       0      4    MXCSR (SSE control/status)       stmxcsr/ldmxcsr
 *       4      2    x87 FPU control word             fnstcw/fldcw
 *       6      2    unused
 *
 * Why these registers: the System V AMD64 psABI (section 3.2.1, "Registers
 * and the Stack Frame", table 3.4) makes rbx, rbp, r12-r15 and rsp
 * callee-saved, and says the control bits of MXCSR and the x87 control
 * word are callee-saved too.  All other general registers, the xmm
 * registers, flags and the x87 stack are caller-saved: the C compiler has
 * already spilled anything live in them around the call, so the switch
 * need not touch them.  The loads of MXCSR and the control word are
 * skipped when they already hold the wanted value (ldmxcsr is slow).
 *
 * Resuming a context is `mov rsp, [LOAD+8]; jmp [LOAD+0]`, exactly what the
 * saved `ret` would have done.  No red zone is in danger: nothing is
 * pushed below the caller's rsp.
 *
 * A new coroutine's block is prepared by corort (runtime/src/stack.c):
 * rip = corort__trampoline, rsp = 16-aligned slot holding a zero return
 * address (the stack bottom for unwinders), rbx = the corort_co pointer.
 * The trampoline declares rip undefined in its CFI so GDB, LLDB and
 * libunwind stop there, then calls corort__start(co), which never returns.
 */
        .text

        .globl  corort__swap
        .hidden corort__swap
        .type   corort__swap, @function
        .p2align 4
corort__swap:
        .cfi_startproc
        /* save: the return address and the sp it will be popped to */
        movq    (%rsp), %rax
        leaq    8(%rsp), %r8
        movq    %rax, 0(%rdi)
        movq    %r8, 8(%rdi)
        movq    %rbp, 16(%rdi)
        movq    %rbx, 24(%rdi)
        movq    %r12, 32(%rdi)
        movq    %r13, 40(%rdi)
        movq    %r14, 48(%rdi)
        movq    %r15, 56(%rdi)
        stmxcsr 0(%rdx)
        fnstcw  4(%rdx)

        /* load the FPU controls only when they differ */
        movl    0(%rcx), %eax
        cmpl    0(%rdx), %eax
        je      1f
        ldmxcsr 0(%rcx)
1:      movzwl  4(%rcx), %eax
        cmpw    4(%rdx), %ax
        je      2f
        fldcw   4(%rcx)
2:
        /* load: callee-saved registers, then stack, then jump */
        movq    16(%rsi), %rbp
        movq    24(%rsi), %rbx
        movq    32(%rsi), %r12
        movq    40(%rsi), %r13
        movq    48(%rsi), %r14
        movq    56(%rsi), %r15
        movq    8(%rsi), %rsp
        jmpq    *0(%rsi)
        .cfi_endproc
        .size   corort__swap, .-corort__swap

        .globl  corort__trampoline
        .hidden corort__trampoline
        .type   corort__trampoline, @function
        .p2align 4
corort__trampoline:
        .cfi_startproc
        .cfi_undefined rip      /* outermost frame of every coroutine */
        xorl    %ebp, %ebp
        movq    %rbx, %rdi
        call    corort__start   /* rsp is 16-aligned here, as the ABI wants */
        ud2                     /* corort__start never returns */
        .cfi_endproc
        .size   corort__trampoline, .-corort__trampoline

        .section .note.GNU-stack,"",@progbits
