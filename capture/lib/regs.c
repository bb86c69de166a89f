/*
 * regs.c -- where a coroutine's registers come from, in every register
 * mode (docs/abi.md "Register modes"; the same rules, reasons and order
 * of checks as python/corodbg/core/regs.py, which
 * tests/capture/test_decode_diff.py compares with this on byte images):
 *   table  the entry's own register block (ABI 1.0);
 *   block  the runtime's own block at regs_addr, read with block_layout;
 *   frame  regs_addr holds the saved sp; the registers are on the stack at
 *          frame_layout offsets from it (fcontext, libco, libaco).
 * The decoder resolves block and frame entries once (cc_regs_resolve), so
 * co->regs is in reg_dwarf order whatever the mode and the rest of the
 * tool never learns the modes.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <corodbg.h>

#include "corocap.h"

/* A layout reading further than this from its base is corrupt (regs.py
 * MAX_SPAN): no context block or switch frame is near 64 KiB. */
#define MAX_SPAN (1 << 16)

static const char *const layout_name[2] = {"block_layout", "frame_layout"};
static const char *const mode_name[3] = {"table", "block", "frame"};

static int bad(cc_coroutine *co, enum cc_unreadable why, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int bad(cc_coroutine *co, enum cc_unreadable why, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(co->note, sizeof co->note, fmt, ap);
    va_end(ap);
    co->unreadable = why;
    return -1;
}

/* regs._check_layout: the usable record count of layout M (0 block,
 * 1 frame), or 0 with WHY filled. */
static size_t check_layout(const cc_table *t, int m, char *why, size_t len)
{
    const char *name = layout_name[m];
    if (!t->has_layout[m] || !t->has_layout_count[m]) {
        snprintf(why, len, "the table describes no %s", name);
        return 0;
    }
    uint64_t count = t->layout_count[m];
    if (count == 0) {
        snprintf(why, len, "the runtime set no %s", name);
        return 0;
    }
    if (count > t->layout_nrecs[m]) {
        snprintf(why, len, "%s count %llu exceeds its %u records", name,
                 (unsigned long long)count, t->layout_nrecs[m]);
        return 0;
    }
    const cc_regloc *recs = t->layout_recs[m];
    int pc_seen = 0, sp_seen = 0;
    for (size_t i = 0; i < count; i++) {
        if (recs[i].how != CORODBG_LOC_LOAD && recs[i].how != CORODBG_LOC_ADDR) {
            snprintf(why, len, "%s: register %u has unknown how %u", name,
                     recs[i].dwarf, recs[i].how);
            return 0;
        }
        for (size_t j = 0; j < i; j++)
            if (recs[j].dwarf == recs[i].dwarf) {
                snprintf(why, len, "%s: register %u given twice", name,
                         recs[i].dwarf);
                return 0;
            }
        if (recs[i].off < -MAX_SPAN || recs[i].off > MAX_SPAN) {
            snprintf(why, len, "%s: register %u at implausible offset %d",
                     name, recs[i].dwarf, (int)recs[i].off);
            return 0;
        }
        if (t->nregs > CORODBG_REG_PC &&
            recs[i].dwarf == t->reg_dwarf[CORODBG_REG_PC])
            pc_seen = 1;
        if (t->nregs > CORODBG_REG_SP &&
            recs[i].dwarf == t->reg_dwarf[CORODBG_REG_SP])
            sp_seen = 1;
    }
    if (!pc_seen || !sp_seen) {
        snprintf(why, len, "%s gives no %s", name, pc_seen ? "sp" : "pc");
        return 0;
    }
    return (size_t)count;
}

/* regs._apply: the layout's registers from BASE (one read of its span),
 * into CO's block in reg_dwarf order.  LO/HI (both non-zero): the stack
 * every load must stay inside. */
static int apply(cc_reader *r, const cc_table *t, const cc_regloc *recs,
                 size_t n, uint64_t base, uint64_t lo, uint64_t hi,
                 cc_coroutine *co)
{
    int64_t lo_off = 0, hi_off = 0;
    int loads = 0;
    for (size_t i = 0; i < n; i++)
        if (recs[i].how == CORODBG_LOC_LOAD) {
            if (!loads || recs[i].off < lo_off)
                lo_off = recs[i].off;
            if (!loads || recs[i].off + 8 > hi_off)
                hi_off = recs[i].off + 8;
            loads = 1;
        }
    uint64_t start = base + (uint64_t)lo_off;
    if (lo && hi && loads && !(lo <= start && base + (uint64_t)hi_off <= hi))
        return bad(co, CC_BAD_REGS, "frame layout reads 0x%llx outside its "
                   "stack [0x%llx, 0x%llx)", (unsigned long long)
                   (start < lo ? start : base + (uint64_t)hi_off - 8),
                   (unsigned long long)lo, (unsigned long long)hi);
    /* real layouts span a few hundred bytes; a checked but odd one (up to
     * 2 * MAX_SPAN) is read into the heap, not onto a stack that may be a
     * small thread's (the in-process endpoint) */
    uint8_t small[512], *data = small;
    size_t span = (size_t)(hi_off - lo_off);
    if (span > sizeof small && !(data = malloc(span)))
        return bad(co, CC_BAD_REGS, "out of memory reading saved registers");
    if (loads && cc_read(r, start, data, span)) {
        if (data != small)
            free(data);
        return bad(co, CC_BAD_REGS, "saved registers at 0x%llx unreadable",
                   (unsigned long long)start);
    }
    uint64_t vals[CC_MAX_REGS];
    uint32_t missing = 0;
    for (unsigned k = 0; k < t->nregs && k < CC_MAX_REGS; k++) {
        size_t i = 0;
        while (i < n && recs[i].dwarf != t->reg_dwarf[k])
            i++;
        if (i == n) {
            missing |= 1u << k;
            vals[k] = 0;
        } else if (recs[i].how == CORODBG_LOC_LOAD) {
            const uint8_t *p = data + (recs[i].off - lo_off);
            uint64_t v = 0;
            for (int b = 0; b < 8; b++)
                v |= (uint64_t)p[t->big_endian ? 7 - b : b] << (8 * b);
            vals[k] = v;
        } else
            vals[k] = base + (uint64_t)(int64_t)recs[i].off;
    }
    if (data != small)
        free(data);
    /* regs._resolve_one: a resolved sp outside the stack is a bad stack */
    uint64_t sp = vals[CORODBG_REG_SP];
    if (co->stack_lo && co->stack_hi &&
        !(co->stack_lo <= sp && sp <= co->stack_hi))
        return bad(co, CC_BAD_STACK, "saved sp 0x%llx outside its stack "
                   "[0x%llx, 0x%llx)", (unsigned long long)sp,
                   (unsigned long long)co->stack_lo,
                   (unsigned long long)co->stack_hi);
    co->nregs = t->nregs < CC_MAX_REGS ? t->nregs : CC_MAX_REGS;
    memcpy(co->regs, vals, co->nregs * sizeof *vals);
    co->regs_missing = missing;
    co->has |= CC_HAS_REGS;
    return 0;
}

void cc_regs_resolve(cc_reader *r, const cc_table *t, cc_coroutine *co)
{
    /* regs.resolve: only tables whose runtime uses another mode */
    if (!(t->regs_modes & ~(1ull << CORODBG_REGS_TABLE)) ||
        !(co->has & CC_HAS_REGS_MODE) || co->state == CORODBG_RUNNING ||
        co->unreadable != CC_OK || co->regs_mode == CORODBG_REGS_TABLE)
        return;
    uint32_t mode = co->regs_mode;
    if (mode != CORODBG_REGS_BLOCK && mode != CORODBG_REGS_FRAME) {
        bad(co, CC_BAD_REGS, "register mode %u unknown to this corodbg: "
            "upgrade it", mode);
        return;
    }
    char why[sizeof co->note];
    int m = mode == CORODBG_REGS_BLOCK ? 0 : 1;
    size_t n = check_layout(t, m, why, sizeof why);
    if (!n) {
        bad(co, CC_BAD_REGS, "%s", why);
        return;
    }
    if (!co->regs_addr) {
        bad(co, CC_BAD_REGS, "%s mode without an address", mode_name[mode]);
        return;
    }
    const cc_regloc *recs = t->layout_recs[m];
    if (mode == CORODBG_REGS_BLOCK) {
        apply(r, t, recs, n, co->regs_addr, 0, 0, co);
        return;
    }
    uint8_t w[8];
    if (cc_read(r, co->regs_addr, w, 8)) {
        bad(co, CC_BAD_REGS, "saved-sp word at 0x%llx unreadable",
            (unsigned long long)co->regs_addr);
        return;
    }
    uint64_t sp = 0;
    for (int b = 0; b < 8; b++)
        sp |= (uint64_t)w[t->big_endian ? 7 - b : b] << (8 * b);
    if (sp == 0)
        return;         /* no context yet */
    uint64_t lo = co->stack_lo, hi = co->stack_hi;
    if (lo && hi && !(lo <= sp && sp < hi)) {
        bad(co, CC_BAD_STACK, "saved sp 0x%llx outside its stack "
            "[0x%llx, 0x%llx)", (unsigned long long)sp,
            (unsigned long long)lo, (unsigned long long)hi);
        return;
    }
    apply(r, t, recs, n, sp, lo, hi, co);
}

size_t cc_regs_of(const cc_table *t, const cc_coroutine *co,
                  uint16_t *regno, uint64_t *val, size_t max)
{
    if (!(co->has & CC_HAS_REGS) || co->state == CORODBG_RUNNING ||
        co->unreadable == CC_BAD_STACK || co->unreadable == CC_BAD_REGS)
        return 0;      /* running: its thread's; '?': no context to show */
    size_t n = co->nregs < t->nregs ? co->nregs : t->nregs;
    if (n < 2 || co->regs[CORODBG_REG_PC] == 0 ||
        co->regs[CORODBG_REG_SP] == 0)
        return 0;      /* never given a context: shown without a stack */
    size_t k = 0;
    for (size_t i = 0; i < n && k < max; i++)
        if (!(co->regs_missing & (1u << i))) {   /* regs.saved_registers */
            regno[k] = t->reg_dwarf[i];
            val[k++] = co->regs[i];
        }
    return k;
}

uint64_t cc_pc_of(const cc_table *t, const cc_coroutine *co)
{
    (void)t;
    return (co->has & CC_HAS_REGS) && co->nregs ? co->regs[CORODBG_REG_PC] : 0;
}
