/* ranges.c - the code ranges of a scope into the builder: one range,
   a DW_AT_ranges list (.debug_ranges in DWARF 4, .debug_rnglists in
   DWARF 5), and .debug_addr indexes. */
#include <stdlib.h>
#include <string.h>

#include "dwarf_int.h"

uint64_t dw_addrx(ctx *c, const cu *u, uint64_t idx, int *ok)
{
    uint64_t o = u->addr_base + idx * u->addr_size;
    if (o < u->addr_base || o + u->addr_size > c->addr.n) {
        *ok = 0;
        return 0;
    }
    rd r = {c->addr.p + o, c->addr.p + c->addr.n, 0};
    return rd_n(&r, u->addr_size);
}

void dw_add_range(ctx *c, uint64_t lo, uint64_t hi, uint32_t scope)
{
    if (hi <= lo || lo < c->min_text)
        return;
    cs_range *x = cs_buf_reserve(&c->b->ranges, sizeof *x);
    x->lo = lo;
    x->hi = hi;
    x->scope = scope;
    x->pad = 0;
}

/* Appends the ranges at DW_AT_ranges value V (class CLS); returns the
   lowest start seen. */
uint64_t dw_read_ranges(ctx *c, const cu *u, uint64_t v, int cls,
                        uint32_t scope)
{
    uint64_t lowest = UINT64_MAX;
    int ok = 1;
    if (u->version < 5) {
        if (v >= c->ranges.n) {
            dw_note_err(c, "DW_AT_ranges out of range", v);
            return 0;
        }
        rd r = {c->ranges.p + v, c->ranges.p + c->ranges.n, 0};
        uint64_t base = u->base;
        uint64_t maxv = u->addr_size == 4 ? 0xffffffffull : UINT64_MAX;
        while (!r.bad) {
            uint64_t a = rd_n(&r, u->addr_size), b = rd_n(&r, u->addr_size);
            if (r.bad || (a == 0 && b == 0))
                break;
            if (a == maxv) {
                base = b;
                continue;
            }
            dw_add_range(c, base + a, base + b, scope);
            if (base + a < lowest && b > a)
                lowest = base + a;
        }
        return lowest == UINT64_MAX ? 0 : lowest;
    }
    uint64_t off = v;
    if (cls == C_RNGX) {
        unsigned w = u->is64 ? 8 : 4;
        uint64_t o = u->rnglists_base + v * w;
        if (o + w > c->rnglists.n) {
            dw_note_err(c, "rnglistx out of range", v);
            return 0;
        }
        rd r = {c->rnglists.p + o, c->rnglists.p + c->rnglists.n, 0};
        off = u->rnglists_base + rd_n(&r, w);
    }
    if (off >= c->rnglists.n) {
        dw_note_err(c, "DW_AT_ranges out of range", off);
        return 0;
    }
    rd r = {c->rnglists.p + off, c->rnglists.p + c->rnglists.n, 0};
    uint64_t base = u->base;
    while (!r.bad) {
        uint8_t k = (uint8_t)rd_u8(&r);
        uint64_t a = 0, b = 0;
        int have = 0;
        switch (k) {
        case DW_RLE_end_of_list: goto done;
        case DW_RLE_base_addressx:
            base = dw_addrx(c, u, rd_uleb(&r), &ok);
            break;
        case DW_RLE_startx_endx:
            a = dw_addrx(c, u, rd_uleb(&r), &ok);
            b = dw_addrx(c, u, rd_uleb(&r), &ok);
            have = 1;
            break;
        case DW_RLE_startx_length:
            a = dw_addrx(c, u, rd_uleb(&r), &ok);
            b = a + rd_uleb(&r);
            have = 1;
            break;
        case DW_RLE_offset_pair:
            a = base + rd_uleb(&r);
            b = base + rd_uleb(&r);
            have = 1;
            break;
        case DW_RLE_base_address: base = rd_n(&r, u->addr_size); break;
        case DW_RLE_start_end:
            a = rd_n(&r, u->addr_size);
            b = rd_n(&r, u->addr_size);
            have = 1;
            break;
        case DW_RLE_start_length:
            a = rd_n(&r, u->addr_size);
            b = a + rd_uleb(&r);
            have = 1;
            break;
        default:
            dw_note_err(c, "unknown DW_RLE kind", off);
            goto done;
        }
        if (have) {
            dw_add_range(c, a, b, scope);
            if (a < lowest && b > a)
                lowest = a;
        }
    }
done:
    if (!ok)
        dw_note_err(c, "address index out of range", off);
    return lowest == UINT64_MAX ? 0 : lowest;
}
