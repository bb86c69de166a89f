/*
 * runtime/arch/aarch64/switch.S -- corort's context switch for AArch64
 * (AAPCS64, Linux).
 *
 * C prototypes (runtime/src/internal.h):
 *
 *   void corort__swap(uint64_t *save, const uint64_t *load,
 *                     uint32_t *save_fpu, const uint32_t *load_fpu);
 *   void corort__trampoline(void);     -- never called, only jumped to
 *
 * corort__swap saves the caller's context into SAVE (x0), then resumes
 * the context in LOAD (x1).  It "returns" when someone swaps back to SAVE.
 *
 * Register block, 8 bytes per slot, the libcorodbg layout (corodbg.h):
 *
 *     offset  slot  register  what is stored on save
 *     ------  ----  --------  -----------------------------------------
 *       0      0    pc        x30 at entry: return address into the caller
 *       8      1    sp        sp at entry (AArch64 pushes no return address)
 *      16      2    fp (x29)  as at the call
 *      24      3    lr (x30)  as at the call (= the pc slot)
 *      32..104 4-13 x19..x28  as at the call
 *     112..168 14-21 d8..d15  low 64 bits of v8..v15, as at the call
 *
 * FPU control block (SAVE_FPU x2 / LOAD_FPU x3), in the runtime's struct:
 *
 *     offset  size  what
 *       0      4    FPCR (rounding mode, flush-to-zero, ...)
 *
 * Why these registers: AAPCS64 section 6.1.1 makes x19-x28, x29 (fp) and
 * sp callee-saved, and section 6.1.2 the low 64 bits of v8-v15.  FPCR is
 * a "callee-saved" control register by convention (it is not touched by
 * normal code), so it is switched too; FPSR holds only sticky status.
 *
 * A new coroutine's block (runtime/src/stack.c): pc = corort__trampoline,
 * sp = 16-aligned top of stack holding a zero frame record {fp 0, lr 0},
 * fp = lr = 0, x19 = the corort_co pointer.  The trampoline's CFI marks
 * the return address undefined, so unwinders stop there.
 */
        .text

        .globl  corort__swap
        .hidden corort__swap
        .type   corort__swap, %function
        .p2align 4
corort__swap:
        .cfi_startproc
        mov     x9, sp
        stp     x30, x9,  [x0, #0]
        stp     x29, x30, [x0, #16]
        stp     x19, x20, [x0, #32]
        stp     x21, x22, [x0, #48]
        stp     x23, x24, [x0, #64]
        stp     x25, x26, [x0, #80]
        stp     x27, x28, [x0, #96]
        stp     d8,  d9,  [x0, #112]
        stp     d10, d11, [x0, #128]
        stp     d12, d13, [x0, #144]
        stp     d14, d15, [x0, #160]
        mrs     x9, fpcr
        str     w9, [x2]

        ldr     w10, [x3]
        cmp     w9, w10
        b.eq    1f
        msr     fpcr, x10
1:
        ldp     x16, x9,  [x1, #0]
        ldp     x29, x30, [x1, #16]
        ldp     x19, x20, [x1, #32]
        ldp     x21, x22, [x1, #48]
        ldp     x23, x24, [x1, #64]
        ldp     x25, x26, [x1, #80]
        ldp     x27, x28, [x1, #96]
        ldp     d8,  d9,  [x1, #112]
        ldp     d10, d11, [x1, #128]
        ldp     d12, d13, [x1, #144]
        ldp     d14, d15, [x1, #160]
        mov     sp, x9
        br      x16
        .cfi_endproc
        .size   corort__swap, .-corort__swap

        .globl  corort__trampoline
        .hidden corort__trampoline
        .type   corort__trampoline, %function
        .p2align 4
corort__trampoline:
        .cfi_startproc
        .cfi_undefined x30      /* outermost frame of every coroutine */
        mov     x29, #0
        mov     x30, #0
        mov     x0, x19
        bl      corort__start   /* never returns */
        brk     #0
        .cfi_endproc
        .size   corort__trampoline, .-corort__trampoline

        .section .note.GNU-stack,"",%progbits
