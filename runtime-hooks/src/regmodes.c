/* Register modes BLOCK and FRAME: the table points at registers the
 * runtime already keeps, instead of the runtime copying them into the
 * entry's block on every switch (docs/abi.md, "Register modes"). */
#include "internal.h"

#include <string.h>

static const uint16_t arch_dwarf[CORODBG_NREGS] = CORODBG_REG_DWARF;

/* A layout a reader can use: known hows, each register once, the pc and
 * the sp present.  Checked here so a runtime's mistake is an error code
 * at startup, not a wrong backtrace later. */
static int layout_ok(const struct corodbg_reg_loc *locs, size_t n)
{
    int pc = 0, sp = 0;
    if (!locs || n == 0 || n > CORODBG_LAYOUT_MAX)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (locs[i].how != CORODBG_LOC_LOAD && locs[i].how != CORODBG_LOC_ADDR)
            return 0;
        for (size_t j = 0; j < i; j++)
            if (locs[j].dwarf == locs[i].dwarf)
                return 0;
        pc |= locs[i].dwarf == arch_dwarf[CORODBG_REG_PC];
        sp |= locs[i].dwarf == arch_dwarf[CORODBG_REG_SP];
    }
    return pc && sp;
}

/* Publish LOCS as the layout at DST: count 0 while the records change, so
 * a reader stopping in between sees "no layout", never a mix. */
static int set_layout(struct corodbg_reg_loc *dst, volatile uint16_t *count,
                      const struct corodbg_reg_loc *locs, size_t n)
{
    if (!layout_ok(locs, n))
        return CORODBG_EINVAL;
    pthread_mutex_lock(&corodbg__lock);
    __atomic_store_n(count, 0, __ATOMIC_RELEASE);
    memcpy(dst, locs, n * sizeof *locs);
    memset(dst + n, 0, (CORODBG_LAYOUT_MAX - n) * sizeof *dst);
    __atomic_store_n(count, (uint16_t)n, __ATOMIC_RELEASE);
    pthread_mutex_unlock(&corodbg__lock);
    return CORODBG_OK;
}

int corodbg_set_block_layout(const struct corodbg_reg_loc *locs, size_t n)
{
    return set_layout(corodbg_table.block_layout,
                      &corodbg_table.block_layout_count, locs, n);
}

int corodbg_set_frame_layout(const struct corodbg_reg_loc *locs, size_t n)
{
    return set_layout(corodbg_table.frame_layout,
                      &corodbg_table.frame_layout_count, locs, n);
}

static int regs_at(corodbg_co *co, uint32_t mode, const void *addr,
                   volatile uint16_t *layout_count)
{
    if (!co || !addr)
        return CORODBG_EINVAL;
    if (!__atomic_load_n(layout_count, __ATOMIC_ACQUIRE))
        return CORODBG_ESTATE;
    /* The mode bit first: a reader skips the indirect pass while no
     * entry can need it, so tables of mode TABLE cost nothing extra. */
    __atomic_fetch_or(&corodbg_table.regs_modes, 1u << mode,
                      __ATOMIC_RELEASE);
    corodbg__entry_begin(co);
    co->regs_addr = (uint64_t)(uintptr_t)addr;
    co->regs_mode = mode;
    /* The table's own block is unused: pc 0 and an sp inside the stack
     * make a reader that predates ABI 1.1 show no stack, not a wrong one. */
    memset(co->regs, 0, sizeof co->regs);
    co->regs[CORODBG_REG_SP] = co->stack_hi;
    corodbg__entry_end(co);
    return CORODBG_OK;
}

int corodbg_regs_at_block(corodbg_co *co, const void *block)
{
    return regs_at(co, CORODBG_REGS_BLOCK, block,
                   &corodbg_table.block_layout_count);
}

int corodbg_regs_at_frame(corodbg_co *co, const void *saved_sp)
{
    return regs_at(co, CORODBG_REGS_FRAME, saved_sp,
                   &corodbg_table.frame_layout_count);
}
