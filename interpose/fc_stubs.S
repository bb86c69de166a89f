/*
 * fc_stubs.S -- the interposed Boost.Context fcontext switches (x86-64
 * SysV, Boost 1.74's jump_x86_64_sysv_elf_gas.S and ontop_...):
 *
 *     transfer_t jump_fcontext(fcontext_t to, void *vp);
 *     transfer_t ontop_fcontext(fcontext_t to, void *vp,
 *                               transfer_t (*fn)(transfer_t));
 *
 * Each stub hands (to, entry rsp, vp, fn) to fc_pre_switch, stores the
 * cookie it returns just below the frame Boost will push (which
 * coroutine that saved sp is: fc_interpose.c), restores the argument
 * registers and *tail-jumps* to the real function, so Boost
 * saves exactly its own frame with the return address into the caller:
 * the parked coroutine's frame is Boost's, its saved sp is entry rsp -
 * 0x38, and the table reads it in place (register mode frame).  No frame
 * of this library is on a parked coroutine's stack: only the two cookie
 * words below its saved sp.
 */
        .text

.macro FC_STUB name, real
        .globl  \name
        .type   \name, @function
\name:
        .cfi_startproc
        pushq   %rdi
        .cfi_adjust_cfa_offset 8
        pushq   %rsi
        .cfi_adjust_cfa_offset 8
        pushq   %rdx                    /* rsp is 16-aligned again */
        .cfi_adjust_cfa_offset 8
        movq    %rdx, %rcx              /* fn (ontop) */
        movq    %rsi, %rdx              /* vp */
        leaq    24(%rsp), %rsi          /* entry rsp: the return address */
        call    fc_pre_switch
        /* The cookie (rax, rdx) below the frame Boost pushes next: at
         * entry rsp - 0x40 and - 0x48 (rsp is entry rsp - 24 here).  In
         * the red zone, so a signal arriving now leaves it alone. */
        movq    %rax, -0x28(%rsp)
        movq    %rdx, -0x30(%rsp)
        popq    %rdx
        .cfi_adjust_cfa_offset -8
        popq    %rsi
        .cfi_adjust_cfa_offset -8
        popq    %rdi
        .cfi_adjust_cfa_offset -8
        jmpq    *\real(%rip)
        .cfi_endproc
        .size   \name, .-\name
.endm

FC_STUB jump_fcontext, fc_real_jump
FC_STUB ontop_fcontext, fc_real_ontop

        .section .note.GNU-stack,"",@progbits
