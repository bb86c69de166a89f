/* form.c - the DWARF reader's shared decoding: sections, attribute
   forms and abbreviation tables (dwarf_int.h). */
#include <stdlib.h>
#include <string.h>

#include "dwarf_int.h"

void dw_note_err(ctx *c, const char *what, uint64_t off)
{
    c->nerr++;
    if (!c->b->err)
        c->b->err = cs_fmt("%s: corrupt DWARF: %s at offset 0x%llx",
                           c->e->path, what, (unsigned long long)off);
}

sect dw_get_sect(ctx *c, const char *name)
{
    char *err = NULL;
    const cs_section *s = cs_elf_section(c->e, name, &err);
    if (err) {
        if (!c->b->err)
            c->b->err = err;
        else
            free(err);
    }
    sect r = {NULL, 0};
    if (s) {
        r.p = s->data;
        r.n = s->size;
    }
    return r;
}

/* --------------------------------------------------------------- forms */
/* Fixed size of a form, or -1 if variable. */
static int form_size(unsigned form, const cu *u)
{
    switch (form) {
    case DW_FORM_addr: return u->addr_size;
    case DW_FORM_data1: case DW_FORM_ref1: case DW_FORM_flag:
    case DW_FORM_strx1: case DW_FORM_addrx1: return 1;
    case DW_FORM_data2: case DW_FORM_ref2: case DW_FORM_strx2:
    case DW_FORM_addrx2: return 2;
    case DW_FORM_strx3: case DW_FORM_addrx3: return 3;
    case DW_FORM_data4: case DW_FORM_ref4: case DW_FORM_strx4:
    case DW_FORM_addrx4: case DW_FORM_ref_sup4: return 4;
    case DW_FORM_data8: case DW_FORM_ref8: case DW_FORM_ref_sig8:
    case DW_FORM_ref_sup8: return 8;
    case DW_FORM_data16: return 16;
    case DW_FORM_flag_present: case DW_FORM_implicit_const: return 0;
    case DW_FORM_strp: case DW_FORM_line_strp: case DW_FORM_sec_offset:
    case DW_FORM_strp_sup: case DW_FORM_GNU_strp_alt:
    case DW_FORM_GNU_ref_alt:
        return u->is64 ? 8 : 4;
    case DW_FORM_ref_addr:
        return u->version <= 2 ? u->addr_size : (u->is64 ? 8 : 4);
    default: return -1;
    }
}

static const char *str_at(sect s, uint64_t off)
{
    if (off >= s.n)
        return NULL;
    const uint8_t *z = memchr(s.p + off, 0, s.n - off);
    return z ? (const char *)s.p + off : NULL;
}

static const char *strx(ctx *c, const cu *u, uint64_t idx)
{
    uint64_t base = u->has_str_off_base ? u->str_off_base
                                        : (u->is64 ? 16 : 8);
    unsigned w = u->is64 ? 8 : 4;
    uint64_t o = base + idx * w;
    if (o + w > c->str_off.n || o < base)
        return NULL;
    rd r = {c->str_off.p + o, c->str_off.p + c->str_off.n, 0};
    return str_at(c->str, rd_n(&r, w));
}

int dw_read_form(ctx *c, const cu *u, rd *r, unsigned form, int64_t ic,
                 aval *a)
{
    a->s = NULL;
    a->v = 0;
    a->cls = C_OTHER;
    a->blk = NULL;
    a->blklen = 0;
    switch (form) {
    case DW_FORM_addr: a->v = rd_n(r, u->addr_size); a->cls = C_ADDR; break;
    case DW_FORM_addrx: case DW_FORM_GNU_addr_index:
        a->v = rd_uleb(r); a->cls = C_ADDRX; break;
    case DW_FORM_addrx1: a->v = rd_n(r, 1); a->cls = C_ADDRX; break;
    case DW_FORM_addrx2: a->v = rd_n(r, 2); a->cls = C_ADDRX; break;
    case DW_FORM_addrx3: a->v = rd_n(r, 3); a->cls = C_ADDRX; break;
    case DW_FORM_addrx4: a->v = rd_n(r, 4); a->cls = C_ADDRX; break;
    case DW_FORM_data1: a->v = rd_n(r, 1); a->cls = C_CONST; break;
    case DW_FORM_data2: a->v = rd_n(r, 2); a->cls = C_CONST; break;
    case DW_FORM_data4: a->v = rd_n(r, 4); a->cls = C_CONST; break;
    case DW_FORM_data8: a->v = rd_n(r, 8); a->cls = C_CONST; break;
    case DW_FORM_data16: rd_skip(r, 16); break;
    case DW_FORM_udata: a->v = rd_uleb(r); a->cls = C_CONST; break;
    case DW_FORM_sdata: a->v = (uint64_t)rd_sleb(r); a->cls = C_CONST; break;
    case DW_FORM_implicit_const: a->v = (uint64_t)ic; a->cls = C_CONST; break;
    case DW_FORM_flag: a->v = rd_n(r, 1); a->cls = C_CONST; break;
    case DW_FORM_flag_present: a->v = 1; a->cls = C_CONST; break;
    case DW_FORM_ref1: a->v = u->off + rd_n(r, 1); a->cls = C_REF; break;
    case DW_FORM_ref2: a->v = u->off + rd_n(r, 2); a->cls = C_REF; break;
    case DW_FORM_ref4: a->v = u->off + rd_n(r, 4); a->cls = C_REF; break;
    case DW_FORM_ref8: a->v = u->off + rd_n(r, 8); a->cls = C_REF; break;
    case DW_FORM_ref_udata: a->v = u->off + rd_uleb(r); a->cls = C_REF; break;
    case DW_FORM_ref_addr:
        a->v = rd_n(r, u->version <= 2 ? u->addr_size : (u->is64 ? 8 : 4));
        a->cls = C_REF;
        break;
    case DW_FORM_ref_sig8: rd_skip(r, 8); break;
    case DW_FORM_ref_sup4: rd_skip(r, 4); break;
    case DW_FORM_ref_sup8: rd_skip(r, 8); break;
    case DW_FORM_string: a->s = rd_cstr(r); a->cls = C_STR; break;
    case DW_FORM_strp:
        a->s = str_at(c->str, rd_n(r, u->is64 ? 8 : 4)); a->cls = C_STR;
        break;
    case DW_FORM_line_strp:
        a->s = str_at(c->line_str, rd_n(r, u->is64 ? 8 : 4));
        a->cls = C_STR;
        break;
    case DW_FORM_strp_sup: case DW_FORM_GNU_strp_alt:
    case DW_FORM_GNU_ref_alt:
        rd_skip(r, u->is64 ? 8 : 4); break;
    case DW_FORM_strx: case DW_FORM_GNU_str_index:
        a->s = strx(c, u, rd_uleb(r)); a->cls = C_STR; break;
    case DW_FORM_strx1: a->s = strx(c, u, rd_n(r, 1)); a->cls = C_STR; break;
    case DW_FORM_strx2: a->s = strx(c, u, rd_n(r, 2)); a->cls = C_STR; break;
    case DW_FORM_strx3: a->s = strx(c, u, rd_n(r, 3)); a->cls = C_STR; break;
    case DW_FORM_strx4: a->s = strx(c, u, rd_n(r, 4)); a->cls = C_STR; break;
    case DW_FORM_sec_offset:
        a->v = rd_n(r, u->is64 ? 8 : 4); a->cls = C_SECOFF; break;
    case DW_FORM_rnglistx: a->v = rd_uleb(r); a->cls = C_RNGX; break;
    case DW_FORM_loclistx: rd_uleb(r); break;
    case DW_FORM_block1: a->blklen = rd_n(r, 1); goto block;
    case DW_FORM_block2: a->blklen = rd_n(r, 2); goto block;
    case DW_FORM_block4: a->blklen = rd_n(r, 4); goto block;
    case DW_FORM_block: case DW_FORM_exprloc:
        a->blklen = rd_uleb(r);
    block:
        a->blk = r->p;
        a->cls = C_BLOCK;
        rd_skip(r, a->blklen);
        break;
    case DW_FORM_indirect: {
        unsigned f = (unsigned)rd_uleb(r);
        if (f == DW_FORM_indirect || r->bad)
            return -1;
        return dw_read_form(c, u, r, f, ic, a);
    }
    default:
        return -1;
    }
    return r->bad ? -1 : 0;
}

int dw_skip_form(const cu *u, rd *r, unsigned form)
{
    int sz = form_size(form, u);
    if (sz >= 0) {
        rd_skip(r, (uint64_t)sz);
        return r->bad ? -1 : 0;
    }
    switch (form) {
    case DW_FORM_udata: case DW_FORM_sdata: case DW_FORM_ref_udata:
    case DW_FORM_strx: case DW_FORM_addrx: case DW_FORM_rnglistx:
    case DW_FORM_loclistx: case DW_FORM_GNU_addr_index:
    case DW_FORM_GNU_str_index:
        rd_uleb(r); break;
    case DW_FORM_string: rd_cstr(r); break;
    case DW_FORM_block1: rd_skip(r, rd_n(r, 1)); break;
    case DW_FORM_block2: rd_skip(r, rd_n(r, 2)); break;
    case DW_FORM_block4: rd_skip(r, rd_n(r, 4)); break;
    case DW_FORM_block: case DW_FORM_exprloc: rd_skip(r, rd_uleb(r)); break;
    case DW_FORM_indirect: {
        unsigned f = (unsigned)rd_uleb(r);
        if (f == DW_FORM_indirect || r->bad)
            return -1;
        return dw_skip_form(u, r, f);
    }
    default:
        return -1;
    }
    return r->bad ? -1 : 0;
}

/* ------------------------------------------------------------ abbrevs */
abbrev_tab *dw_get_abbrevs(ctx *c, uint64_t off, const cu *u)
{
    for (size_t i = c->ntabs; i-- > 0 && i + 8 >= c->ntabs;)
        if (c->tabs[i]->off == off)
            return c->tabs[i];
    if (off >= c->abbrev.n)
        return NULL;
    abbrev_tab *t = cs_xcalloc(1, sizeof *t);
    t->off = off;
    cs_buf ab = {0}, at = {0};
    rd r = {c->abbrev.p + off, c->abbrev.p + c->abbrev.n, 0};
    uint64_t maxcode = 0;
    for (;;) {
        uint64_t code = rd_uleb(&r);
        if (code == 0 || r.bad)
            break;
        abbrev a = {0};
        a.code = code;
        a.tag = (uint32_t)rd_uleb(&r);
        a.children = (uint8_t)rd_u8(&r);
        a.first = (uint32_t)(at.n / sizeof(abbrev_attr));
        a.interesting = a.tag == DW_TAG_subprogram ||
                        a.tag == DW_TAG_inlined_subroutine ||
                        a.tag == DW_TAG_compile_unit ||
                        a.tag == DW_TAG_partial_unit ||
                        a.tag == DW_TAG_skeleton_unit;
        switch (a.tag) {
        case DW_TAG_structure_type: case DW_TAG_class_type:
        case DW_TAG_union_type: case DW_TAG_enumeration_type:
        case DW_TAG_array_type: case DW_TAG_subroutine_type:
        case DW_TAG_variable: case DW_TAG_formal_parameter:
        case DW_TAG_member: case DW_TAG_typedef:
            a.skip_kids = 1;
            break;
        }
        if (a.tag == DW_TAG_inlined_subroutine)
            t->has_inlined = 1;
        a.sib = -1;
        int32_t fixed = 0;
        for (;;) {
            abbrev_attr x;
            x.name = (uint16_t)rd_uleb(&r);
            x.form = (uint16_t)rd_uleb(&r);
            x.ic = 0;
            if (x.form == DW_FORM_implicit_const)
                x.ic = rd_sleb(&r);
            if (r.bad || (x.name == 0 && x.form == 0))
                break;
            cs_buf_add(&at, &x, sizeof x);
            if (x.name == DW_AT_sibling && a.nattr < INT16_MAX)
                a.sib = (int16_t)a.nattr;
            a.nattr++;
            int fs = form_size(x.form, u);
            if (fs < 0 || fixed < 0)
                fixed = -1;
            else
                fixed += fs;
        }
        a.fixed = fixed;
        if (code > maxcode)
            maxcode = code;
        cs_buf_add(&ab, &a, sizeof a);
        if (r.bad)
            break;
    }
    t->a = (abbrev *)ab.p;
    t->n = ab.n / sizeof(abbrev);
    t->attrs = at.p ? (abbrev_attr *)at.p : cs_xcalloc(1, sizeof(abbrev_attr));
    t->ndirect = maxcode < 1u << 16 ? maxcode + 1 : 0;
    if (t->ndirect) {
        t->direct = cs_xcalloc(t->ndirect, sizeof *t->direct);
        for (size_t i = 0; i < t->n; i++)
            if (!t->direct[t->a[i].code])
                t->direct[t->a[i].code] = &t->a[i];
    }
    c->tabs = cs_xrealloc(c->tabs, (c->ntabs + 1) * sizeof *c->tabs);
    c->tabs[c->ntabs++] = t;
    return t;
}
