/*
 * arch_regs.c -- the register layouts that differ per architecture, as
 * data: elf_prstatus (a core's NT_PRSTATUS note, and PTRACE_GETREGSET's
 * NT_PRSTATUS set, which is its pr_reg).  A new architecture is one
 * more table.
 *
 * x86-64: user_regs_struct (asm/user.h) in DWARF numbers of the SysV
 * psABI (0 rax 1 rdx 2 rcx 3 rbx 4 rsi 5 rdi 6 rbp 7 rsp 8..15 r8..r15
 * 16 rip).  aarch64: user_pt_regs (x0..x30, sp, pc, pstate), DWARF
 * 0..30, 31 sp, 32 pc (AADWARF64).  aarch64 is read from cores
 * (tests/capture/test_arch.py, a qemu-aarch64 core); the live path
 * (ptrace) has only run on x86-64.
 */
#include <elf.h>

#include "arch_int.h"

static const int8_t x86_64_dwarf[27] = {
    /* r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi */
    15, 14, 13, 12, 6, 3, 11, 10, 9, 8, 0, 2, 1, 4, 5,
    /* orig_rax rip cs eflags rsp ss fs_base gs_base ds es fs gs */
    -1, 16, -1, -1, 7, -1, -1, -1, -1, -1, -1, -1};

static const int8_t aarch64_dwarf[34] = {
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
    20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, -1};

#define N(a) (sizeof a / sizeof *a)

static const struct cc_arch arches[] = {
    {EM_X86_64, "x86-64", 32, 112, N(x86_64_dwarf), x86_64_dwarf, 7, 16},
    {EM_AARCH64, "aarch64", 32, 112, N(aarch64_dwarf), aarch64_dwarf, 31, 32},
};

const struct cc_arch *cc_arch_of(unsigned e_machine)
{
    for (size_t i = 0; i < N(arches); i++)
        if (arches[i].e_machine == e_machine)
            return &arches[i];
    return NULL;
}

const struct cc_arch *cc_arch_host(void)
{
#if defined(__x86_64__)
    return cc_arch_of(EM_X86_64);
#elif defined(__aarch64__)
    return cc_arch_of(EM_AARCH64);
#else
    return NULL;
#endif
}

size_t cc_arch_regs(const struct cc_arch *a, const uint64_t *words,
                    uint16_t *regno, uint64_t *val, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < a->nwords && n < max; i++)
        if (a->dwarf[i] >= 0) {
            regno[n] = (uint16_t)a->dwarf[i];
            val[n++] = words[i];
        }
    return n;
}
