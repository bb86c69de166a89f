/*
 * uc_stubs.S -- the four interposed ucontext entry points (x86-64 SysV).
 *
 * Each stub captures the caller's register state exactly as glibc's
 * swapcontext/getcontext will save it, hands it to a C hook, restores every
 * argument register and then *tail-jumps* to the real glibc function.  The
 * tail jump matters: glibc then saves REG_RIP = the return address into the
 * caller and REG_RSP = the caller's stack pointer after that return, so
 * the saved ucontext_t (and the corodbg register block the hook filled
 * from the same values) follows the corodbg convention: frame 0 of a parked
 * coroutine is the C function that called swapcontext, not this library.
 *
 * The frame the hooks receive (struct uc_frame in uc_interpose.c), from the
 * lowest address up:
 *
 *     +0   rax  r9  r8  rcx  rdx  rsi  rdi          argument registers
 *     +56  rip  rsp  rbp  rbx  r12  r13  r14  r15   = the register block
 *
 * rip is the return address, rsp the caller's rsp after the return
 * (entry rsp + 8); callee-saved registers are the caller's values.
 *
 * makecontext needs a hook *after* glibc has built the context (to read
 * the initial rsp and plant the exit trampoline), but its variadic
 * arguments may sit on the stack, so they cannot be copied into a new call.
 * Instead the stub swaps its own return address for uc_make_return; the
 * pre-hook keeps the caller's in thread-local storage and the post-hook
 * hands it back.  glibc's makecontext neither recurses nor returns twice.
 */
        .text

/* Build the frame, call HOOK(frame), unwind it; leaves rsp as on entry. */
.macro UC_CAPTURE hook
        pushq   %r15
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r15, 0
        pushq   %r14
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r14, 0
        pushq   %r13
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r13, 0
        pushq   %r12
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset r12, 0
        pushq   %rbx
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbx, 0
        pushq   %rbp
        .cfi_adjust_cfa_offset 8
        .cfi_rel_offset rbp, 0
        leaq    56(%rsp), %r11          /* entry rsp + 8 */
        pushq   %r11
        .cfi_adjust_cfa_offset 8
        movq    56(%rsp), %r11          /* the return address */
        pushq   %r11
        .cfi_adjust_cfa_offset 8
        pushq   %rdi
        .cfi_adjust_cfa_offset 8
        pushq   %rsi
        .cfi_adjust_cfa_offset 8
        pushq   %rdx
        .cfi_adjust_cfa_offset 8
        pushq   %rcx
        .cfi_adjust_cfa_offset 8
        pushq   %r8
        .cfi_adjust_cfa_offset 8
        pushq   %r9
        .cfi_adjust_cfa_offset 8
        pushq   %rax                    /* 15 pushes: rsp is 16-aligned */
        .cfi_adjust_cfa_offset 8
        movq    %rsp, %rdi
        call    \hook
        popq    %rax
        .cfi_adjust_cfa_offset -8
        popq    %r9
        .cfi_adjust_cfa_offset -8
        popq    %r8
        .cfi_adjust_cfa_offset -8
        popq    %rcx
        .cfi_adjust_cfa_offset -8
        popq    %rdx
        .cfi_adjust_cfa_offset -8
        popq    %rsi
        .cfi_adjust_cfa_offset -8
        popq    %rdi
        .cfi_adjust_cfa_offset -8
        addq    $16, %rsp
        .cfi_adjust_cfa_offset -16
        popq    %rbp
        .cfi_adjust_cfa_offset -8
        .cfi_restore rbp
        popq    %rbx
        .cfi_adjust_cfa_offset -8
        .cfi_restore rbx
        popq    %r12
        .cfi_adjust_cfa_offset -8
        .cfi_restore r12
        popq    %r13
        .cfi_adjust_cfa_offset -8
        .cfi_restore r13
        popq    %r14
        .cfi_adjust_cfa_offset -8
        .cfi_restore r14
        popq    %r15
        .cfi_adjust_cfa_offset -8
        .cfi_restore r15
.endm

/* NAME: call HOOK(frame), then tail-jump through the pointer REAL. */
.macro UC_STUB name, hook, real
        .globl  \name
        .type   \name, @function
        .p2align 4
\name:
        .cfi_startproc
        endbr64
        UC_CAPTURE \hook
        jmp     *\real(%rip)
        .cfi_endproc
        .size   \name, .-\name
.endm

        UC_STUB swapcontext, uc_pre_swap, uc_real_swapcontext
        UC_STUB setcontext,  uc_pre_set,  uc_real_setcontext
        UC_STUB getcontext,  uc_pre_get,  uc_real_getcontext

/* void makecontext(ucontext_t *, void (*)(void), int, ...) */
        .globl  makecontext
        .type   makecontext, @function
        .p2align 4
makecontext:
        .cfi_startproc
        endbr64
        UC_CAPTURE uc_pre_make
        leaq    uc_make_return(%rip), %r11
        movq    %r11, (%rsp)            /* glibc returns to us, not the caller */
        jmp     *uc_real_makecontext(%rip)
        .cfi_endproc
        .size   makecontext, .-makecontext

/* glibc's makecontext returns here with rsp = entry rsp + 8 (16-aligned).
 * The caller's return address lives in TLS meanwhile, so unwinding stops. */
        .type   uc_make_return, @function
        .p2align 4
        .cfi_startproc
        .cfi_undefined rip
        nop                             /* return address - 1 lands here */
uc_make_return:
        call    uc_post_make            /* returns the caller's address */
        jmp     *%rax
        .cfi_endproc
        .size   uc_make_return, .-uc_make_return

/* Planted as the return address of every function given to makecontext,
 * in place of glibc's __start_context.  On entry rbx still points at the
 * uc_link slot __start_context reads, and rsp is 16-aligned.  The hook
 * marks the coroutine exited, switches the table to the uc_link context
 * and returns __start_context's address, which then does what it always
 * does (setcontext(uc_link) or exit). */
        .globl  uc_exit_trampoline
        .hidden uc_exit_trampoline
        .type   uc_exit_trampoline, @function
        .p2align 4
        .cfi_startproc
        .cfi_undefined rip
        nop                             /* return address - 1 lands here */
uc_exit_trampoline:
        movq    %rbx, %rdi
        call    uc_on_return
        jmp     *%rax
        .cfi_endproc
        .size   uc_exit_trampoline, .-uc_exit_trampoline

        .section .note.GNU-stack, "", @progbits
