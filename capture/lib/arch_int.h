/* arch_int.h -- what libcorocap knows per architecture (arch_regs.c). */
#ifndef ARCH_INT_H
#define ARCH_INT_H

#include <stddef.h>
#include <stdint.h>

/* A thread's general registers as the kernel gives them (NT_PRSTATUS's
 * pr_reg, PTRACE_GETREGSET NT_PRSTATUS: the same words), as DWARF
 * register numbers.  (profile.c's perf register map is still x86-64's
 * alone: it moves here with the in-process sampler's refactor.) */
struct cc_arch {
    unsigned e_machine;         /* EM_X86_64, EM_AARCH64 */
    const char *name;
    size_t prstatus_tid;        /* elf_prstatus: offset of pr_pid */
    size_t prstatus_regs;       /* ... of pr_reg */
    size_t nwords;              /* words of pr_reg */
    const int8_t *dwarf;        /* DWARF number of each word, -1 none */
    int dwarf_sp, dwarf_pc;
};

/* The table for ELF machine E_MACHINE, or NULL when unknown. */
const struct cc_arch *cc_arch_of(unsigned e_machine);
/* This machine's (a live target is the same architecture). */
const struct cc_arch *cc_arch_host(void);
/* WORDS (A->nwords of pr_reg) as DWARF (regno, value) pairs; returns
 * how many (at most MAX). */
size_t cc_arch_regs(const struct cc_arch *a, const uint64_t *words,
                    uint16_t *regno, uint64_t *val, size_t max);

#endif
