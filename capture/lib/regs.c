/*
 * regs.c -- where a coroutine's registers come from.
 *
 * The one place that knows: today the entry's register block, whose slot
 * i holds DWARF register reg_dwarf[i] (docs/abi.md).  Issue 9 may let a
 * runtime keep registers elsewhere; only this file changes then.
 */
#include <corodbg.h>

#include "corocap.h"

size_t cc_regs_of(const cc_table *t, const cc_coroutine *co,
                  uint16_t *regno, uint64_t *val, size_t max)
{
    if (!(co->has & CC_HAS_REGS) || co->state == CORODBG_RUNNING)
        return 0;      /* a running coroutine's registers are its thread's */
    size_t n = co->nregs < t->nregs ? co->nregs : t->nregs;
    if (n > max)
        n = max;
    if (n < 2 || co->regs[CORODBG_REG_PC] == 0)
        return 0;      /* never given a context: shown without a stack */
    for (size_t i = 0; i < n; i++) {
        regno[i] = t->reg_dwarf[i];
        val[i] = co->regs[i];
    }
    return n;
}

uint64_t cc_pc_of(const cc_table *t, const cc_coroutine *co)
{
    (void)t;
    return (co->has & CC_HAS_REGS) && co->nregs ? co->regs[CORODBG_REG_PC] : 0;
}
