/* dwarf.c - DWARF 2-5 reader: line programs and the subprogram /
   inlined-subroutine tree, flattened into the builder's arrays.

   This is the hot path of a cold run, so it is a single forward pass with
   no per-DIE allocation: abbreviations are decoded once per unit into flat
   tables, attributes we do not need are skipped (a whole DIE at once when
   all its forms have a fixed size), and names reached through
   DW_AT_abstract_origin / DW_AT_specification are resolved once per
   target DIE and memoized. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <dwarf.h>

#include "corosym_int.h"

#ifndef DW_FORM_addrx
#define DW_FORM_addrx 0x1b
#endif

/* ------------------------------------------------------------- reader */
typedef struct rd {
    const uint8_t *p, *end;
    int bad;
} rd;

static inline uint64_t rd_n(rd *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        r->bad = 1;
        r->p = r->end;
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    return v;
}
#define rd_u8(r) rd_n(r, 1)
#define rd_u16(r) rd_n(r, 2)
#define rd_u32(r) rd_n(r, 4)
#define rd_u64(r) rd_n(r, 8)

static inline uint64_t rd_uleb(rd *r)
{
    uint64_t v = 0;
    unsigned sh = 0;
    while (r->p < r->end) {
        uint8_t b = *r->p++;
        if (sh < 64)
            v |= (uint64_t)(b & 0x7f) << sh;
        sh += 7;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return v;
}

static inline int64_t rd_sleb(rd *r)
{
    int64_t v = 0;
    unsigned sh = 0;
    uint8_t b = 0;
    while (r->p < r->end) {
        b = *r->p++;
        if (sh < 64)
            v |= (int64_t)((uint64_t)(b & 0x7f) << sh);
        sh += 7;
        if (!(b & 0x80)) {
            if (sh < 64 && (b & 0x40))
                v |= -((int64_t)1 << sh);
            return v;
        }
    }
    r->bad = 1;
    return v;
}

static inline void rd_skip(rd *r, uint64_t n)
{
    if ((uint64_t)(r->end - r->p) < n) {
        r->bad = 1;
        r->p = r->end;
    } else {
        r->p += n;
    }
}

static inline const char *rd_cstr(rd *r)
{
    const char *s = (const char *)r->p;
    const uint8_t *z = memchr(r->p, 0, (size_t)(r->end - r->p));
    if (!z) {
        r->bad = 1;
        r->p = r->end;
        return NULL;
    }
    r->p = z + 1;
    return s;
}

/* ------------------------------------------------------------ context */
typedef struct sect { const uint8_t *p; size_t n; } sect;

typedef struct abbrev_attr { uint16_t name, form; int64_t ic; } abbrev_attr;
typedef struct abbrev {
    uint64_t code;
    uint32_t tag;
    uint8_t children;
    uint8_t interesting; /* subprogram / inlined_subroutine / CU */
    uint8_t skip_kids;   /* children never hold code ranges (types...) */
    int16_t sib;         /* index of DW_AT_sibling, -1 if none */
    uint32_t first, nattr;
    int32_t fixed;       /* total size if all forms fixed, else -1 */
} abbrev;
typedef struct abbrev_tab {
    uint64_t off;
    abbrev *a; size_t n;
    abbrev **direct; size_t ndirect;  /* code -> abbrev for small codes */
    abbrev_attr *attrs;
    int has_inlined;     /* some abbrev is DW_TAG_inlined_subroutine */
} abbrev_tab;

typedef struct cu {
    uint64_t off, end, die_off;   /* in .debug_info */
    uint16_t version;
    uint8_t addr_size, is64, unit_type;
    abbrev_tab *ab;
    uint64_t str_off_base, addr_base, rnglists_base, base;
    int has_str_off_base;
    uint32_t *fmap; size_t nfmap;  /* DWARF file index -> global file id */
    /* from the unit DIE, read before the line and DIE passes */
    const char *comp_dir;
    uint64_t stmt, kids_off;       /* DW_AT_stmt_list; first child DIE */
    uint8_t has_stmt, has_kids, walk;
} cu;

typedef struct memo { uint64_t off; uint32_t name, sname, decl_file, decl_line, used; } memo;

typedef struct ctx {
    cs_elf *e;
    cs_builder *b;
    sect info, abbrev, line, line_str, str, str_off, addr, ranges, rnglists;
    sect loc, loclists;            /* only read in want_vars mode */
    cu *cus; size_t ncus, capcus;
    abbrev_tab **tabs; size_t ntabs;
    struct { uint64_t off; uint32_t *fmap; size_t n; } *lt; size_t nlt, caplt;
    memo *memo; size_t nmemo, memocount;
    uint64_t min_text;
    size_t nerr;
} ctx;

static void note_err(ctx *c, const char *what, uint64_t off)
{
    c->nerr++;
    if (!c->b->err)
        c->b->err = cs_fmt("%s: corrupt DWARF: %s at offset 0x%llx",
                           c->e->path, what, (unsigned long long)off);
}

static sect get_sect(ctx *c, const char *name)
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

/* Value of one attribute.  Strings come back in S, numbers in V, blocks
   (exprloc and blockN forms) in BLK/BLKLEN only: S and V stay NULL and 0
   for them, since code that wants a name or a number never checks the
   class. */
typedef struct aval {
    uint64_t v;
    const char *s;
    int cls;
    const uint8_t *blk;
    uint64_t blklen;
} aval;
enum { C_NONE, C_ADDR, C_ADDRX, C_CONST, C_REF, C_STR, C_SECOFF, C_RNGX,
       C_BLOCK, C_OTHER };

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

static int read_form(ctx *c, const cu *u, rd *r, unsigned form, int64_t ic,
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
        return read_form(c, u, r, f, ic, a);
    }
    default:
        return -1;
    }
    return r->bad ? -1 : 0;
}

static int skip_form(const cu *u, rd *r, unsigned form)
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
        return skip_form(u, r, f);
    }
    default:
        return -1;
    }
    return r->bad ? -1 : 0;
}

/* ------------------------------------------------------------ abbrevs */
static abbrev_tab *get_abbrevs(ctx *c, uint64_t off, const cu *u)
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

static inline abbrev *find_abbrev(abbrev_tab *t, uint64_t code)
{
    if (code < t->ndirect)
        return t->direct[code];
    for (size_t i = 0; i < t->n; i++)
        if (t->a[i].code == code)
            return &t->a[i];
    return NULL;
}

/* --------------------------------------------------------- line table */
/* Joins like llvm::sys::path::append (no normalisation). */
static void path_append(cs_buf *p, const char *comp)
{
    if (!comp || !*comp)
        return;
    int has_sep = p->n > 0 && p->p[p->n - 1] == '/';
    if (has_sep) {
        while (*comp == '/')
            comp++;
    } else if (p->n > 0 && *comp != '/') {
        cs_buf_add(p, "/", 1);
    }
    cs_buf_add(p, comp, strlen(comp));
}

typedef struct lt_entry { const char *name; uint64_t dir; } lt_entry;

static int read_lnct_entries(ctx *c, const cu *u, rd *r, int is64,
                             cs_buf *out, int want_dir)
{
    (void)want_dir;
    unsigned nfmt = (unsigned)rd_u8(r);
    uint64_t fmt[2 * 16];
    if (nfmt > 16)
        return -1;
    for (unsigned i = 0; i < nfmt; i++) {
        fmt[2 * i] = rd_uleb(r);
        fmt[2 * i + 1] = rd_uleb(r);
    }
    uint64_t count = rd_uleb(r);
    if (r->bad || count > (uint64_t)(r->end - r->p))
        return -1;
    cu fake = *u;
    fake.is64 = (uint8_t)is64;
    for (uint64_t k = 0; k < count; k++) {
        lt_entry e = {NULL, 0};
        for (unsigned i = 0; i < nfmt; i++) {
            aval a;
            if (read_form(c, &fake, r, (unsigned)fmt[2 * i + 1], 0, &a) < 0)
                return -1;
            if (fmt[2 * i] == DW_LNCT_path)
                e.name = a.s;
            else if (fmt[2 * i] == DW_LNCT_directory_index)
                e.dir = a.v;
        }
        cs_buf_add(out, &e, sizeof e);
    }
    return 0;
}

typedef struct seq_rows { size_t first, n; uint64_t lo; } seq_rows;

/* Parses the line program at OFF for unit U (comp dir COMP_DIR); appends
   rows to the builder and sets U's file map. */
static void read_line_program(ctx *c, cu *u, uint64_t off,
                              const char *comp_dir)
{
    for (size_t i = 0; i < c->nlt; i++)
        if (c->lt[i].off == off) {
            u->fmap = c->lt[i].fmap;
            u->nfmap = c->lt[i].n;
            return;
        }
    if (off >= c->line.n) {
        note_err(c, "DW_AT_stmt_list out of range", off);
        return;
    }
    rd r = {c->line.p + off, c->line.p + c->line.n, 0};
    uint64_t len = rd_u32(&r);
    int is64 = 0;
    if (len == 0xffffffffu) {
        len = rd_u64(&r);
        is64 = 1;
    }
    if (r.bad || len > (uint64_t)(r.end - r.p)) {
        note_err(c, "line table length", off);
        return;
    }
    const uint8_t *end = r.p + len;
    r.end = end;
    uint16_t ver = (uint16_t)rd_u16(&r);
    if (ver < 2 || ver > 5) {
        note_err(c, "unsupported line table version", off);
        return;
    }
    if (ver >= 5) {
        rd_u8(&r); /* address_size */
        rd_u8(&r); /* seg_sel_size */
    }
    uint64_t hlen = rd_n(&r, is64 ? 8 : 4);
    if (r.bad || hlen > (uint64_t)(end - r.p)) {
        note_err(c, "line table header length", off);
        return;
    }
    const uint8_t *prog = r.p + hlen;
    uint8_t min_inst = (uint8_t)rd_u8(&r);
    uint8_t max_ops = ver >= 4 ? (uint8_t)rd_u8(&r) : 1;
    (void)max_ops;
    uint8_t def_stmt = (uint8_t)rd_u8(&r);
    (void)def_stmt;
    int8_t line_base = (int8_t)rd_u8(&r);
    uint8_t line_range = (uint8_t)rd_u8(&r);
    uint8_t opbase = (uint8_t)rd_u8(&r);
    uint8_t oplen[256] = {0};
    for (unsigned i = 1; i < opbase; i++)
        oplen[i] = (uint8_t)rd_u8(&r);
    if (r.bad || line_range == 0) {
        note_err(c, "line table header", off);
        return;
    }
    cs_buf dirs = {0}, files = {0};
    if (ver >= 5) {
        if (read_lnct_entries(c, u, &r, is64, &dirs, 1) < 0 ||
            read_lnct_entries(c, u, &r, is64, &files, 0) < 0) {
            note_err(c, "line table v5 entry formats", off);
            free(dirs.p);
            free(files.p);
            return;
        }
    } else {
        for (;;) {
            const char *d = rd_cstr(&r);
            if (!d || !*d)
                break;
            lt_entry e = {d, 0};
            cs_buf_add(&dirs, &e, sizeof e);
        }
        for (;;) {
            const char *f = rd_cstr(&r);
            if (!f || !*f)
                break;
            lt_entry e = {f, rd_uleb(&r)};
            rd_uleb(&r);
            rd_uleb(&r);
            cs_buf_add(&files, &e, sizeof e);
        }
    }
    lt_entry *D = (lt_entry *)dirs.p, *F = (lt_entry *)files.p;
    size_t nd = dirs.n / sizeof *D, nf = files.n / sizeof *F;
    /* fmap[i] for DWARF file register value i. */
    size_t nmap = ver >= 5 ? nf : nf + 1;
    uint32_t *fmap = cs_xmalloc((nmap ? nmap : 1) * sizeof *fmap);
    cs_buf path = {0};
    for (size_t i = 0; i < nmap; i++) {
        fmap[i] = CS_NONE;
        if (ver < 5 && i == 0)
            continue;
        lt_entry *fe = &F[ver >= 5 ? i : i - 1];
        if (!fe->name)
            continue;
        path.n = 0;
        if (fe->name[0] == '/') {
            path_append(&path, fe->name);
        } else {
            const char *inc = NULL;
            if (ver >= 5) {
                if (fe->dir < nd)
                    inc = D[fe->dir].name;
            } else if (fe->dir > 0 && fe->dir <= nd) {
                inc = D[fe->dir - 1].name;
            }
            if ((ver < 5 || fe->dir != 0) && comp_dir && *comp_dir &&
                !(inc && inc[0] == '/'))
                path_append(&path, comp_dir);
            path_append(&path, inc);
            path_append(&path, fe->name);
        }
        fmap[i] = cs_builder_file(c->b, path.p ? path.p : "", path.n);
    }
    free(path.p);
    free(dirs.p);
    free(files.p);
    u->fmap = fmap;
    u->nfmap = nmap;
    if (c->nlt == c->caplt) {
        c->caplt = c->caplt ? 2 * c->caplt : 64;
        c->lt = cs_xrealloc(c->lt, c->caplt * sizeof *c->lt);
    }
    c->lt[c->nlt].off = off;
    c->lt[c->nlt].fmap = fmap;
    c->lt[c->nlt].n = nmap;
    c->nlt++;

    /* The program. */
    r.p = prog;
    r.end = end;
    uint64_t addr = 0;
    uint32_t file = 1, line = 1, col = 0, disc = 0;
    size_t seq_start = c->b->rows.n / sizeof(cs_row);
    int drop = 0;
    cs_buf *rb = &c->b->rows;
#define EMIT(endseq)                                                       \
    do {                                                                   \
        if (rb->n + sizeof(cs_row) > rb->cap) {                            \
            cs_buf_reserve(rb, sizeof(cs_row)); /* grows, counts it */    \
            rb->n -= sizeof(cs_row);                                       \
        }                                                                  \
        cs_row *row_ = (cs_row *)(rb->p + rb->n);                          \
        rb->n += sizeof(cs_row);                                           \
        row_->addr = addr;                                                 \
        row_->file = (endseq) ? CS_NONE                                    \
                   : (file < nmap && fmap[file] != CS_NONE ? fmap[file]    \
                                                          : CS_NONE - 1);  \
        row_->line = line;                                                 \
        row_->col = (uint16_t)(col > 0xffff ? 0xffff : col);               \
        row_->disc = disc;                                                 \
        row_->pad = 0;                                                     \
        disc = 0;                                                          \
    } while (0)
    while (r.p < r.end && !r.bad) {
        uint8_t op = (uint8_t)rd_u8(&r);
        if (op >= opbase) {
            unsigned adj = op - opbase;
            addr += (uint64_t)(adj / line_range) * min_inst;
            line += (uint32_t)(line_base + (int)(adj % line_range));
            EMIT(0);
            continue;
        }
        switch (op) {
        case 0: {
            uint64_t elen = rd_uleb(&r);
            if (r.bad || elen == 0 || elen > (uint64_t)(r.end - r.p)) {
                r.bad = 1;
                break;
            }
            const uint8_t *next = r.p + elen;
            uint8_t eop = (uint8_t)rd_u8(&r);
            if (eop == DW_LNE_end_sequence) {
                EMIT(1);
                size_t now = c->b->rows.n / sizeof(cs_row);
                cs_row *rows = (cs_row *)c->b->rows.p;
                if (drop || now - seq_start < 2 ||
                    rows[seq_start].addr < c->min_text)
                    c->b->rows.n = seq_start * sizeof(cs_row);
                seq_start = c->b->rows.n / sizeof(cs_row);
                addr = 0;
                file = 1;
                line = 1;
                col = 0;
                disc = 0;
                drop = 0;
            } else if (eop == DW_LNE_set_address) {
                uint64_t na = rd_n(&r, (size_t)(elen - 1 > 8 ? 8 : elen - 1));
                if (na < addr)
                    drop = 1; /* not monotonic: unusable sequence */
                addr = na;
            } else if (eop == DW_LNE_set_discriminator) {
                disc = (uint32_t)rd_uleb(&r);
            }
            r.p = next;
            break;
        }
        case DW_LNS_copy: EMIT(0); break;
        case DW_LNS_advance_pc: addr += rd_uleb(&r) * min_inst; break;
        case DW_LNS_advance_line: line += (uint32_t)rd_sleb(&r); break;
        case DW_LNS_set_file: file = (uint32_t)rd_uleb(&r); break;
        case DW_LNS_set_column: col = (uint32_t)rd_uleb(&r); break;
        case DW_LNS_negate_stmt: case DW_LNS_set_basic_block:
        case DW_LNS_set_prologue_end: case DW_LNS_set_epilogue_begin:
            break;
        case DW_LNS_const_add_pc:
            addr += (uint64_t)((255 - opbase) / line_range) * min_inst;
            break;
        case DW_LNS_fixed_advance_pc: addr += rd_u16(&r); break;
        case DW_LNS_set_isa: rd_uleb(&r); break;
        default:
            for (unsigned i = 0; i < oplen[op]; i++)
                rd_uleb(&r);
        }
    }
#undef EMIT
    /* An unterminated sequence is dropped. */
    c->b->rows.n = seq_start * sizeof(cs_row);
    if (r.bad)
        note_err(c, "line program", off);
}

/* -------------------------------------------------------------- ranges */

static uint64_t addrx(ctx *c, const cu *u, uint64_t idx, int *ok)
{
    uint64_t o = u->addr_base + idx * u->addr_size;
    if (o < u->addr_base || o + u->addr_size > c->addr.n) {
        *ok = 0;
        return 0;
    }
    rd r = {c->addr.p + o, c->addr.p + c->addr.n, 0};
    return rd_n(&r, u->addr_size);
}

static void add_range(ctx *c, uint64_t lo, uint64_t hi, uint32_t scope)
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
static uint64_t read_ranges(ctx *c, const cu *u, uint64_t v, int cls,
                            uint32_t scope)
{
    uint64_t lowest = UINT64_MAX;
    int ok = 1;
    if (u->version < 5) {
        if (v >= c->ranges.n) {
            note_err(c, "DW_AT_ranges out of range", v);
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
            add_range(c, base + a, base + b, scope);
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
            note_err(c, "rnglistx out of range", v);
            return 0;
        }
        rd r = {c->rnglists.p + o, c->rnglists.p + c->rnglists.n, 0};
        off = u->rnglists_base + rd_n(&r, w);
    }
    if (off >= c->rnglists.n) {
        note_err(c, "DW_AT_ranges out of range", off);
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
        case DW_RLE_base_addressx: base = addrx(c, u, rd_uleb(&r), &ok); break;
        case DW_RLE_startx_endx:
            a = addrx(c, u, rd_uleb(&r), &ok);
            b = addrx(c, u, rd_uleb(&r), &ok);
            have = 1;
            break;
        case DW_RLE_startx_length:
            a = addrx(c, u, rd_uleb(&r), &ok);
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
            note_err(c, "unknown DW_RLE kind", off);
            goto done;
        }
        if (have) {
            add_range(c, a, b, scope);
            if (a < lowest && b > a)
                lowest = a;
        }
    }
done:
    if (!ok)
        note_err(c, "address index out of range", off);
    return lowest == UINT64_MAX ? 0 : lowest;
}

/* --------------------------------------------------------------- names */
static cu *cu_of(ctx *c, uint64_t off)
{
    size_t lo = 0, hi = c->ncus;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (c->cus[mid].end <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < c->ncus && c->cus[lo].off <= off && off < c->cus[lo].end)
        return &c->cus[lo];
    return NULL;
}

typedef struct dieinfo {
    const char *name, *linkage;
    uint64_t origin, spec;
    int has_origin, has_spec;
    int has_decl_file, has_decl_line;
    uint64_t decl_file, decl_line;
} dieinfo;

/* The abbreviation of the DIE at OFF in U, with R at its attributes;
   NULL when OFF is not a DIE there. */
static abbrev *die_at(ctx *c, cu *u, uint64_t off, rd *r)
{
    if (!u->ab || off >= c->info.n || off >= u->end)
        return NULL;
    r->p = c->info.p + off;
    r->end = c->info.p + u->end;
    r->bad = 0;
    uint64_t code = rd_uleb(r);
    return code ? find_abbrev(u->ab, code) : NULL;
}

static int read_die_at(ctx *c, cu *u, uint64_t off, dieinfo *d)
{
    memset(d, 0, sizeof *d);
    rd r;
    abbrev *a = die_at(c, u, off, &r);
    if (!a)
        return -1;
    for (uint32_t i = 0; i < a->nattr; i++) {
        abbrev_attr *x = &u->ab->attrs[a->first + i];
        switch (x->name) {
        case DW_AT_name: case DW_AT_linkage_name: case DW_AT_MIPS_linkage_name:
        case DW_AT_abstract_origin: case DW_AT_specification:
        case DW_AT_decl_file: case DW_AT_decl_line: {
            aval v;
            if (read_form(c, u, &r, x->form, x->ic, &v) < 0)
                return -1;
            if (x->name == DW_AT_name) d->name = v.s;
            else if (x->name == DW_AT_abstract_origin && v.cls == C_REF) {
                d->origin = v.v; d->has_origin = 1;
            } else if (x->name == DW_AT_specification && v.cls == C_REF) {
                d->spec = v.v; d->has_spec = 1;
            } else if (x->name == DW_AT_decl_file) {
                /* llvm loses the unit of implicit_const values and then
                   cannot name the file: match it (docs/symbolizer.md) */
                d->decl_file = x->form == DW_FORM_implicit_const
                                   ? UINT64_MAX : v.v;
                d->has_decl_file = 1;
            } else if (x->name == DW_AT_decl_line) {
                d->decl_line = v.v; d->has_decl_line = 1;
            } else if (!d->linkage) d->linkage = v.s;
            break;
        }
        default:
            if (skip_form(u, &r, x->form) < 0)
                return -1;
        }
    }
    return 0;
}

static uint32_t intern(ctx *c, const char *s)
{
    return s ? cs_strpool_add(&c->b->strs, s, strlen(s)) : CS_NONE;
}

static uint32_t file_of(const cu *u, uint64_t idx)
{
    return u && idx < u->nfmap ? u->fmap[idx] : CS_NONE;
}

/* Resolves name (linkage first), decl file and decl line of the DIE at
   OFF following abstract_origin / specification, like llvm's
   DWARFDie::findRecursively.  Memoized. */
static memo *resolve(ctx *c, uint64_t off)
{
    if (c->memocount * 2 >= c->nmemo) {
        size_t nn = c->nmemo ? c->nmemo * 2 : 4096;
        memo *nm = cs_xcalloc(nn, sizeof *nm);
        for (size_t i = 0; i < c->nmemo; i++)
            if (c->memo[i].used) {
                size_t h = cs_hash(&c->memo[i].off, 8) & (nn - 1);
                while (nm[h].used)
                    h = (h + 1) & (nn - 1);
                nm[h] = c->memo[i];
            }
        free(c->memo);
        c->memo = nm;
        c->nmemo = nn;
    }
    size_t h = cs_hash(&off, 8) & (c->nmemo - 1);
    while (c->memo[h].used) {
        if (c->memo[h].off == off)
            return &c->memo[h];
        h = (h + 1) & (c->nmemo - 1);
    }
    const char *linkage = NULL, *name = NULL;
    uint32_t df = CS_NONE, dl = 0;
    int have_df = 0, have_dl = 0;
    uint64_t cur = off;
    for (int depth = 0; depth < 16; depth++) {
        cu *u = cu_of(c, cur);
        dieinfo d;
        if (!u || read_die_at(c, u, cur, &d) < 0)
            break;
        if (!linkage && d.linkage)
            linkage = d.linkage;
        if (!name && d.name)
            name = d.name;
        if (!have_df && d.has_decl_file) {
            df = file_of(u, d.decl_file);
            have_df = 1;
        }
        if (!have_dl && d.has_decl_line) {
            dl = (uint32_t)d.decl_line;
            have_dl = 1;
        }
        if (linkage && have_df && have_dl)
            break;
        if (d.has_origin && d.origin != cur)
            cur = d.origin;
        else if (d.has_spec && d.spec != cur)
            cur = d.spec;
        else
            break;
    }
    /* table may have been resized by nothing above; recompute slot */
    memo *m = &c->memo[h];
    m->used = 1;
    m->off = off;
    m->name = intern(c, linkage ? linkage : name);
    m->sname = intern(c, name);
    m->decl_file = df;
    m->decl_line = dl;
    c->memocount++;
    return m;
}

/* ----------------------------------------------------------- variables */
/* DATA requests name the variable at an address the way llvm's
   DWARFUnit::getVariableForAddress does: a DW_TAG_variable outside type
   subtrees whose DW_AT_location is exactly DW_OP_addr[x] A, optionally
   followed by DW_OP_plus_uconst N, covers [A + N, + the size of its type,
   or 1).  Collected only in want_vars mode (cs_dwarf_read_vars). */
typedef struct rawvar {
    uint64_t lo, die_off, type_off;
    uint32_t unit;
    int has_type;
} rawvar;

static int location_addr(ctx *c, const cu *u, const uint8_t *p, size_t n,
                         uint64_t *addr)
{
    rd r = {p, p + n, 0};
    unsigned op = (unsigned)rd_u8(&r);
    uint64_t a;
    if (op == DW_OP_addr) {
        a = rd_n(&r, u->addr_size);
    } else if (op == 0xa1 /* DW_OP_addrx */) {
        int ok = 1;
        a = addrx(c, u, rd_uleb(&r), &ok);
        if (!ok)
            return -1;
    } else {
        return -1;
    }
    if (r.p < r.end) {
        if (rd_u8(&r) != DW_OP_plus_uconst)
            return -1;
        a += rd_uleb(&r);
        if (r.p < r.end)
            return -1;
    }
    if (r.bad)
        return -1;
    *addr = a;
    return 0;
}

/* The first expression of the location list at OFF (.debug_loclists
   for DWARF 5, .debug_loc before) that location_addr accepts, as llvm
   tries each entry of DW_AT_location in turn. */
static int loclist_addr(ctx *c, const cu *u, uint64_t off, uint64_t *addr)
{
    int v5 = u->version >= 5;
    sect s = v5 ? c->loclists : c->loc;
    if (off >= s.n)
        return -1;
    rd r = {s.p + off, s.p + s.n, 0};
    uint64_t amax = u->addr_size == 4 ? 0xffffffffu : UINT64_MAX;
    for (int guard = 0; guard < 100000 && r.p < r.end && !r.bad; guard++) {
        uint64_t len;
        if (v5) {
            unsigned kind = (unsigned)rd_u8(&r);
            switch (kind) {
            case DW_LLE_end_of_list: return -1;
            case DW_LLE_base_addressx: rd_uleb(&r); continue;
            case DW_LLE_base_address: rd_n(&r, u->addr_size); continue;
            case DW_LLE_startx_endx: case DW_LLE_startx_length:
            case DW_LLE_offset_pair:
                rd_uleb(&r); rd_uleb(&r); break;
            case DW_LLE_default_location: break;
            case DW_LLE_start_end:
                rd_n(&r, u->addr_size); rd_n(&r, u->addr_size); break;
            case DW_LLE_start_length:
                rd_n(&r, u->addr_size); rd_uleb(&r); break;
            default: return -1;
            }
            len = rd_uleb(&r);
        } else {
            uint64_t lo = rd_n(&r, u->addr_size), hi = rd_n(&r, u->addr_size);
            if (lo == 0 && hi == 0)
                return -1;
            if (lo == amax)          /* base address selection */
                continue;
            len = rd_u16(&r);
        }
        if (r.bad || len > (uint64_t)(r.end - r.p))
            return -1;
        if (location_addr(c, u, r.p, len, addr) == 0)
            return 0;
        rd_skip(&r, len);
    }
    return -1;
}

static int read_variable(ctx *c, cu *u, rd *r, const abbrev *a,
                         uint64_t die_off)
{
    const abbrev_attr *at = u->ab->attrs + a->first;
    rawvar v = {0, die_off, 0, (uint32_t)(u - c->cus), 0};
    int have_addr = 0;
    for (uint32_t i = 0; i < a->nattr; i++) {
        aval x;
        if (read_form(c, u, r, at[i].form, at[i].ic, &x) < 0) {
            note_err(c, "attribute form", die_off);
            return -1;
        }
        if (at[i].name == DW_AT_location && x.cls == C_BLOCK)
            have_addr = location_addr(c, u, x.blk, x.blklen, &v.lo) == 0;
        else if (at[i].name == DW_AT_location &&
                 (x.cls == C_SECOFF ||
                  (u->version < 4 && x.cls == C_CONST &&
                   (at[i].form == DW_FORM_data4 ||
                    at[i].form == DW_FORM_data8))))
            have_addr = loclist_addr(c, u, x.v, &v.lo) == 0;
        else if (at[i].name == DW_AT_type && x.cls == C_REF) {
            v.type_off = x.v;
            v.has_type = 1;
        }
    }
    if (have_addr)
        cs_buf_add(&c->b->vars, &v, sizeof v);
    return 0;
}

/* What the size of a type needs from its DIE. */
typedef struct typeinfo {
    uint32_t tag;
    int has_size, has_type, has_kids;
    uint64_t size, type;
    const uint8_t *kids;   /* first child DIE */
} typeinfo;

static int read_type_die(ctx *c, cu *u, uint64_t off, typeinfo *t)
{
    memset(t, 0, sizeof *t);
    rd r;
    abbrev *a = die_at(c, u, off, &r);
    if (!a)
        return -1;
    t->tag = a->tag;
    for (uint32_t i = 0; i < a->nattr; i++) {
        const abbrev_attr *x = &u->ab->attrs[a->first + i];
        aval v;
        if (read_form(c, u, &r, x->form, x->ic, &v) < 0)
            return -1;
        if (x->name == DW_AT_byte_size && v.cls == C_CONST) {
            t->size = v.v;
            t->has_size = 1;
        } else if (x->name == DW_AT_type && v.cls == C_REF) {
            t->type = v.v;
            t->has_type = 1;
        }
    }
    t->has_kids = a->children;
    t->kids = r.p;
    return 0;
}

/* A constant of FORM read as llvm's getAsSignedConstant does (dataN sign-
   extended from N bytes), kept as the bits of an int64_t. */
static uint64_t as_signed(unsigned form, uint64_t v)
{
    switch (form) {
    case DW_FORM_data1: return (uint64_t)(int64_t)(int8_t)v;
    case DW_FORM_data2: return (uint64_t)(int64_t)(int16_t)v;
    case DW_FORM_data4: return (uint64_t)(int64_t)(int32_t)v;
    default: return v;
    }
}

/* The element count of an array's subranges (count, or upper - lower + 1),
   multiplied; children that are not subranges are skipped. */
static uint64_t array_elements(ctx *c, cu *u, const uint8_t *p)
{
    rd r = {p, c->info.p + u->end, 0};
    uint64_t n = 1;
    int depth = 0;
    while (r.p < r.end && !r.bad) {
        uint64_t code = rd_uleb(&r);
        if (code == 0) {
            if (depth-- == 0)
                break;
            continue;
        }
        abbrev *a = find_abbrev(u->ab, code);
        if (!a)
            break;
        int sub = depth == 0 && a->tag == DW_TAG_subrange_type;
        uint64_t lower = 0, upper = 0; /* two's complement: no overflow */
        int has_upper = 0;
        for (uint32_t i = 0; i < a->nattr; i++) {
            const abbrev_attr *x = &u->ab->attrs[a->first + i];
            aval v;
            if (!sub) {
                if (skip_form(u, &r, x->form) < 0)
                    return n;
                continue;
            }
            if (read_form(c, u, &r, x->form, x->ic, &v) < 0)
                return n;
            if (v.cls != C_CONST)
                continue;
            if (x->name == DW_AT_count)
                n *= v.v;
            else if (x->name == DW_AT_upper_bound) {
                upper = as_signed(x->form, v.v);
                has_upper = 1;
            } else if (x->name == DW_AT_lower_bound)
                lower = as_signed(x->form, v.v);
        }
        if (has_upper)
            n *= upper - lower + 1;
        if (a->children)
            depth++;
    }
    return n;
}

/* llvm's DWARFDie::getTypeSize: byte_size, else by tag through the
   referenced type.  -1 when unknown (a known size may be 0). */
static int type_size(ctx *c, uint64_t off, int depth, uint64_t *size)
{
    cu *u = cu_of(c, off);
    typeinfo t;
    if (depth > 16 || !u || read_type_die(c, u, off, &t) < 0)
        return -1;
    if (t.has_size) {
        *size = t.size;
        return 0;
    }
    uint64_t ptr = u->addr_size;
    switch (t.tag) {
    case DW_TAG_pointer_type: case DW_TAG_reference_type:
    case DW_TAG_rvalue_reference_type:
        *size = ptr;
        return 0;
    case DW_TAG_ptr_to_member_type: {
        typeinfo b;
        cu *bu = t.has_type ? cu_of(c, t.type) : NULL;
        *size = bu && read_type_die(c, bu, t.type, &b) == 0 &&
                b.tag == DW_TAG_subroutine_type ? 2 * ptr : ptr;
        return 0;
    }
    case DW_TAG_array_type: {
        uint64_t base;
        if (!t.has_type || type_size(c, t.type, depth + 1, &base) < 0)
            return -1;
        *size = t.has_kids ? base * array_elements(c, u, t.kids) : base;
        return 0;
    }
    default:
        return t.has_type ? type_size(c, t.type, depth + 1, size) : -1;
    }
}

/* What finish_vars leaves in the builder's vars for cs_dwarf_read_vars. */
typedef struct donevar {
    uint64_t lo, hi;
    uint32_t unit, line, file;   /* file: global file id or CS_NONE */
} donevar;

static memo *resolve(ctx *c, uint64_t off);

/* Sizes and declarations of the collected variables (needs every unit's
   abbrevs and file maps, like the names pass). */
static void finish_vars(ctx *c)
{
    rawvar *v = (rawvar *)c->b->vars.p;
    size_t n = c->b->vars.n / sizeof *v;
    donevar *d = cs_xmalloc((n ? n : 1) * sizeof *d);
    for (size_t i = 0; i < n; i++) {
        uint64_t size = 1;
        if (v[i].has_type && type_size(c, v[i].type_off, 0, &size) < 0)
            size = 1;
        memo *m = resolve(c, v[i].die_off);
        d[i].lo = v[i].lo;
        d[i].hi = v[i].lo + size;
        d[i].unit = v[i].unit;
        d[i].line = m->decl_line;
        d[i].file = m->decl_file;
    }
    free(c->b->vars.p);
    c->b->vars.p = (char *)d;
    c->b->vars.n = c->b->vars.cap = n * sizeof *d;
}

typedef struct var_at { cs_var v; size_t i; } var_at;

static int var_order(const void *a, const void *b)
{
    const var_at *x = a, *y = b;
    if (x->v.unit != y->v.unit)
        return x->v.unit < y->v.unit ? -1 : 1;
    if (x->v.lo != y->v.lo)
        return x->v.lo < y->v.lo ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i; /* the later DIE last */
}

void cs_dwarf_read_vars(cs_elf *e, unsigned threads, cs_vars *vs)
{
    cs_builder b;
    cs_builder_init(&b);
    b.want_vars = 1;
    b.threads = threads;
    cs_dwarf_read(e, &b);
    donevar *d = (donevar *)b.vars.p;
    size_t n = b.vars.n / sizeof *d;
    var_at *s = cs_xmalloc((n ? n : 1) * sizeof *s);
    /* file paths: copied out of the builder, which goes */
    const uint32_t *fo = (const uint32_t *)b.files.p;
    size_t nfiles = b.files.n / sizeof *fo;
    cs_buf strs = {0};
    size_t *at = cs_xmalloc((nfiles ? nfiles : 1) * sizeof *at);
    for (size_t f = 0; f < nfiles; f++) {
        const char *p = b.strs.blob.p + fo[f];
        at[f] = strs.n;
        cs_buf_add(&strs, p, strlen(p) + 1);
    }
    if (!strs.p)
        cs_buf_add(&strs, "", 1);
    for (size_t i = 0; i < n; i++) {
        s[i].v.lo = d[i].lo;
        s[i].v.hi = d[i].hi;
        s[i].v.unit = d[i].unit;
        s[i].v.line = d[i].line;
        s[i].v.file = d[i].file < nfiles ? strs.p + at[d[i].file] : NULL;
        s[i].i = i;
    }
    free(at);
    qsort(s, n, sizeof *s, var_order);
    cs_var *v = cs_xmalloc((n ? n : 1) * sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (k && v[k - 1].unit == s[i].v.unit && v[k - 1].lo == s[i].v.lo)
            k--;               /* the later DIE replaces the earlier */
        v[k++] = s[i].v;
    }
    free(s);
    cs_builder_free(&b);
    /* where each unit's run starts: the lookup binary-searches each */
    size_t nu = 0;
    for (size_t i = 0; i < k; i++)
        if (!i || v[i].unit != v[i - 1].unit)
            nu++;
    size_t *unit = cs_xmalloc((nu + 1) * sizeof *unit);
    nu = 0;
    for (size_t i = 0; i < k; i++)
        if (!i || v[i].unit != v[i - 1].unit)
            unit[nu++] = i;
    unit[nu] = k;
    vs->v = v;
    vs->n = k;
    vs->unit = unit;
    vs->nunits = nu;
    vs->strs = strs.p;
}

void cs_vars_free(cs_vars *vs)
{
    free(vs->v);
    free(vs->unit);
    free(vs->strs);
    memset(vs, 0, sizeof *vs);
}

const cs_var *cs_var_at(const cs_vars *vs, uint64_t addr)
{
    for (size_t u = 0; u < vs->nunits; u++) {
        /* the last entry of this unit with lo <= addr */
        size_t lo = vs->unit[u], hi = vs->unit[u + 1], first = lo;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (vs->v[mid].lo <= addr)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo > first && addr < vs->v[lo - 1].hi)
            return &vs->v[lo - 1];
    }
    return NULL;
}

/* ------------------------------------------------------------ DIE walk */
typedef struct pending {
    uint32_t scope;
    uint64_t die_off;
    const cu *u;
} pending;

/* Reads U's unit DIE: the bases the other DIEs need, the line table
   offset and comp dir, and where its children start.  Runs before the
   line and DIE passes, which then only read U. */
static void read_unit_head(ctx *c, cu *u)
{
    rd r = {c->info.p + u->die_off, c->info.p + u->end, 0};
    uint64_t code = rd_uleb(&r);
    if (r.bad || code == 0)
        return;
    abbrev *a = find_abbrev(u->ab, code);
    if (!a) {
        note_err(c, "unknown abbreviation code", u->die_off);
        return;
    }
    const abbrev_attr *at = u->ab->attrs + a->first;
    u->walk = 1;
    if (!a->interesting) {
        for (uint32_t i = 0; i < a->nattr; i++)
            if (skip_form(u, &r, at[i].form) < 0)
                break;
    } else {
        const char *comp_dir = NULL;
        uint64_t stmt = 0, low = 0;
        int has_stmt = 0, low_cls = C_NONE;
        for (uint32_t i = 0; i < a->nattr; i++) {
            aval v;
            if (read_form(c, u, &r, at[i].form, at[i].ic, &v) < 0)
                break;
            switch (at[i].name) {
            case DW_AT_comp_dir: comp_dir = v.s; break;
            case DW_AT_stmt_list: stmt = v.v; has_stmt = 1; break;
            case DW_AT_low_pc: low = v.v; low_cls = v.cls; break;
            case DW_AT_str_offsets_base:
                u->str_off_base = v.v; u->has_str_off_base = 1; break;
            case DW_AT_addr_base: case DW_AT_GNU_addr_base:
                u->addr_base = v.v; break;
            case DW_AT_rnglists_base: u->rnglists_base = v.v; break;
            }
        }
        if (u->version >= 5 && !u->has_str_off_base)
            u->str_off_base = u->is64 ? 16 : 8;
        if (low_cls == C_ADDRX) {
            int ok = 1;
            low = addrx(c, u, low, &ok);
        }
        u->base = low;
        u->comp_dir = comp_dir;
        u->stmt = stmt;
        u->has_stmt = (uint8_t)has_stmt;
    }
    u->has_kids = a->children && !r.bad;
    u->kids_off = (uint64_t)(r.p - c->info.p);
}

/* The DIEs below U's unit DIE: scopes with code ranges.  DW_AT_call_file
   is stored as the unit's raw file index (the line pass, maybe running
   meanwhile, builds the file map); pass 3 maps it. */
static void walk_unit(ctx *c, cu *u, cs_buf *pend)
{
    if (!u->has_kids)
        return;
    rd r = {c->info.p + u->kids_off, c->info.p + u->end, 0};
    uint32_t stack[512];
    int depth = 1;
    stack[0] = CS_NONE;
    stack[1] = CS_NONE;
    while (r.p < r.end && !r.bad) {
        uint64_t die_off = (uint64_t)(r.p - c->info.p);
        uint64_t code = rd_uleb(&r);
        if (code == 0) {
            if (depth > 0)
                depth--;
            if (depth == 0)
                break;
            continue;
        }
        abbrev *a = find_abbrev(u->ab, code);
        if (!a) {
            note_err(c, "unknown abbreviation code", die_off);
            return;
        }
        const abbrev_attr *at = u->ab->attrs + a->first;
        uint32_t parent = stack[depth];
        uint32_t me = parent;
        if (c->b->want_vars && a->tag == DW_TAG_variable) {
            if (read_variable(c, u, &r, a, die_off) < 0)
                break;
        } else if (!a->interesting && a->children && a->skip_kids &&
                   a->sib >= 0) {
            /* jump over the whole subtree through DW_AT_sibling */
            uint64_t sib = 0;
            int ok = 1;
            for (uint32_t i = 0; i < a->nattr && ok; i++) {
                if ((int)i == a->sib) {
                    aval v;
                    ok = read_form(c, u, &r, at[i].form, at[i].ic, &v) == 0;
                    if (ok && v.cls == C_REF)
                        sib = v.v;
                } else {
                    ok = skip_form(u, &r, at[i].form) == 0;
                }
            }
            if (ok && sib > die_off && sib <= u->end &&
                sib >= (uint64_t)(r.p - c->info.p)) {
                r.p = c->info.p + sib;
                continue;
            }
            if (!ok)
                break;
        } else if (!a->interesting) {
            if (a->fixed >= 0) {
                rd_skip(&r, (uint64_t)a->fixed);
            } else {
                for (uint32_t i = 0; i < a->nattr; i++)
                    if (skip_form(u, &r, at[i].form) < 0)
                        break;
            }
        } else {
            uint64_t low = 0, high = 0, rng = 0;
            int low_cls = C_NONE, high_cls = C_NONE, rng_cls = C_NONE;
            int is_decl = 0, has_low = 0;
            uint64_t sib = 0;
            cs_scope s;
            memset(&s, 0, sizeof s);
            s.parent = a->tag == DW_TAG_subprogram ? CS_NONE : parent;
            s.inlined = a->tag == DW_TAG_inlined_subroutine;
            s.call_file = CS_NONE;
            s.name = CS_NONE;
            s.sname = CS_NONE;
            s.decl_file = CS_NONE;
            for (uint32_t i = 0; i < a->nattr; i++) {
                aval v;
                if (read_form(c, u, &r, at[i].form, at[i].ic, &v) < 0) {
                    note_err(c, "attribute form", die_off);
                    break;
                }
                switch (at[i].name) {
                case DW_AT_low_pc:
                    low = v.v;
                    low_cls = v.cls;
                    has_low = 1;
                    break;
                case DW_AT_high_pc: high = v.v; high_cls = v.cls; break;
                case DW_AT_ranges: rng = v.v; rng_cls = v.cls; break;
                case DW_AT_call_file:
                    s.call_file = v.v < CS_NONE ? (uint32_t)v.v : CS_NONE;
                    break;
                case DW_AT_call_line: s.call_line = (uint32_t)v.v; break;
                case DW_AT_call_column: s.call_col = (uint32_t)v.v; break;
                case DW_AT_declaration: is_decl = 1; break;
                case DW_AT_sibling:
                    if (v.cls == C_REF)
                        sib = v.v;
                    break;
                }
            }
            int ok = 1;
            if (low_cls == C_ADDRX)
                low = addrx(c, u, low, &ok);
            if (high_cls == C_ADDRX)
                high = addrx(c, u, high, &ok);
            else if (high_cls == C_CONST)
                high = low + high;
            int has_pc = !is_decl && ((low_cls != C_NONE &&
                                       high_cls != C_NONE) ||
                                      rng_cls != C_NONE);
            if (has_pc) {
                uint32_t id = (uint32_t)(c->b->scopes.n / sizeof(cs_scope));
                if (rng_cls != C_NONE) {
                    read_ranges(c, u, rng, rng_cls, id);
                    s.low = has_low ? low : 0; /* llvm: DW_AT_low_pc only */
                } else {
                    s.low = low;
                    add_range(c, low, high, id);
                }
                cs_buf_add(&c->b->scopes, &s, sizeof s);
                pending p = {id, die_off, u};
                cs_buf_add(pend, &p, sizeof p);
                me = id;
            }
            /* A unit without inlined subroutines has no code range below
               a subprogram that matters (nested functions aside, see
               docs/symbolizer.md): skip its parameters, variables and
               blocks through DW_AT_sibling. */
            if (a->children && !u->ab->has_inlined && !c->b->want_vars &&
                a->tag == DW_TAG_subprogram && sib > die_off &&
                sib <= u->end && sib >= (uint64_t)(r.p - c->info.p)) {
                r.p = c->info.p + sib;
                continue;
            }
        }
        if (a->children) {
            if (depth + 1 >= (int)(sizeof stack / sizeof *stack)) {
                note_err(c, "DIE tree too deep", die_off);
                return;
            }
            stack[++depth] = me;
        }
    }
    if (r.bad)
        note_err(c, "truncated DIE", (uint64_t)(r.p - c->info.p));
}

/* Below this much .debug_info a second thread costs more than it saves. */
#define PARALLEL_MIN ((size_t)1 << 20)

/* The line programs of every unit, in unit order (the rows come out the
   same on one thread or two). */
static void *line_pass(void *arg)
{
    ctx *c = arg;
    for (size_t i = 0; i < c->ncus; i++) {
        cu *u = &c->cus[i];
        if (u->walk && u->has_stmt)
            read_line_program(c, u, u->stmt, u->comp_dir);
    }
    return NULL;
}

/* One DIE walker: a contiguous run of units, read into a builder of its
   own (only scopes and ranges) through a copy of the context. */
typedef struct walker {
    ctx c;
    cs_builder b;
    cs_buf pend;
    size_t from, to;
    pthread_t th;
    int started;
} walker;

#define MAX_WALKERS 8

/* An explicit thread count is taken as it is (the tests use it on small
   programs); by default a small module stays on one thread. */
static unsigned walkers_for(const cs_builder *b, size_t info_bytes)
{
    long n = b->threads;
    if (n == 0) {
        if (info_bytes < PARALLEL_MIN)
            return 1;
        n = sysconf(_SC_NPROCESSORS_ONLN);
    }
    return n < 1 ? 1 : n > MAX_WALKERS ? MAX_WALKERS : (unsigned)n;
}

/* Splits the walked units into NW runs of about equal .debug_info size. */
static void plan_walkers(const ctx *c, walker *w, unsigned nw)
{
    uint64_t total = 0, sum = 0;
    for (size_t i = 0; i < c->ncus; i++)
        if (c->cus[i].walk)
            total += c->cus[i].end - c->cus[i].off;
    size_t i = 0;
    for (unsigned k = 0; k < nw; k++) {
        w[k].c = *c;
        w[k].c.b = &w[k].b;
        w[k].c.nerr = 0;
        w[k].b.progress = k == 0 && c->b->progress;
        w[k].b.want_vars = c->b->want_vars;
        w[k].from = i;
        uint64_t want = total * (k + 1) / nw;
        while (i < c->ncus && (k == nw - 1 || sum < want)) {
            if (c->cus[i].walk)
                sum += c->cus[i].end - c->cus[i].off;
            i++;
        }
        w[k].to = i;
    }
}

static void *walk_units(void *arg)
{
    walker *w = arg;
    for (size_t i = w->from; i < w->to; i++) {
        if (!w->c.cus[i].walk)
            continue;
        walk_unit(&w->c, &w->c.cus[i], &w->pend);
        if (w->b.progress && (i % 256 == 0))
            fprintf(stderr, "\rcorosym: %s: unit %zu/%zu", w->c.e->path, i,
                    w->c.ncus);
    }
    return NULL;
}

/* Appends the walkers' scopes, ranges and pending names to C's builder in
   unit order, renumbering scope ids: the result is what one walker over
   every unit would have built. */
static void merge_walkers(ctx *c, walker *w, unsigned nw, cs_buf *pend)
{
    cs_builder *b = c->b;
    for (unsigned k = 0; k < nw; k++) {
        uint32_t base = (uint32_t)(b->scopes.n / sizeof(cs_scope));
        cs_scope *s = (cs_scope *)w[k].b.scopes.p;
        size_t ns = w[k].b.scopes.n / sizeof(cs_scope);
        cs_range *x = (cs_range *)w[k].b.ranges.p;
        size_t nx = w[k].b.ranges.n / sizeof(cs_range);
        pending *p = (pending *)w[k].pend.p;
        size_t np = w[k].pend.n / sizeof(pending);
        for (size_t i = 0; base && i < ns; i++)
            if (s[i].parent != CS_NONE)
                s[i].parent += base;
        for (size_t i = 0; base && i < nx; i++)
            x[i].scope += base;
        for (size_t i = 0; base && i < np; i++)
            p[i].scope += base;
        cs_buf_add(&b->scopes, s, w[k].b.scopes.n);
        cs_buf_add(&b->ranges, x, w[k].b.ranges.n);
        cs_buf_add(pend, p, w[k].pend.n);
        cs_buf_add(&b->vars, w[k].b.vars.p, w[k].b.vars.n); /* unit order */
        free(w[k].b.vars.p);
        free(w[k].b.scopes.p);
        free(w[k].b.ranges.p);
        free(w[k].pend.p);
        c->nerr += w[k].c.nerr;
        if (!b->err)
            b->err = w[k].b.err;
        else
            free(w[k].b.err);
    }
}

int cs_dwarf_read(cs_elf *e, cs_builder *b)
{
    ctx c;
    memset(&c, 0, sizeof c);
    c.e = e;
    c.b = b;
    c.info = get_sect(&c, ".debug_info");
    c.abbrev = get_sect(&c, ".debug_abbrev");
    c.line = get_sect(&c, ".debug_line");
    c.line_str = get_sect(&c, ".debug_line_str");
    c.str = get_sect(&c, ".debug_str");
    c.str_off = get_sect(&c, ".debug_str_offsets");
    c.addr = get_sect(&c, ".debug_addr");
    c.ranges = get_sect(&c, ".debug_ranges");
    c.rnglists = get_sect(&c, ".debug_rnglists");
    if (b->want_vars) {
        c.loc = get_sect(&c, ".debug_loc");
        c.loclists = get_sect(&c, ".debug_loclists");
    }
    c.min_text = UINT64_MAX;
    for (size_t i = 0; i < e->nsec; i++)
        if ((e->sec[i].flags & SHF_EXECINSTR) && e->sec[i].addr &&
            e->sec[i].addr < c.min_text)
            c.min_text = e->sec[i].addr;
    if (c.min_text == UINT64_MAX || e->e_type == ET_REL)
        c.min_text = 0;
    else
        c.min_text = 1;  /* only drop ranges at 0 (discarded sections) */
    /* Every row costs at least one byte of line program: reserve that
       many up front.  Large blocks are mmap'ed, so untouched pages cost
       nothing, and the row array never has to be copied while growing. */
    if (c.line.n && b->rows.cap == 0) {
        size_t want = c.line.n < ((size_t)1 << 26) ? c.line.n : (size_t)1 << 26;
        cs_buf_reserve(&b->rows, want * sizeof(cs_row));
        b->rows.n = 0;
    }
    if (!c.info.p) {
        return b->err ? -1 : 0;
    }
    /* Pass 1: unit headers. */
    rd r = {c.info.p, c.info.p + c.info.n, 0};
    while (r.p < r.end) {
        cu u;
        memset(&u, 0, sizeof u);
        u.off = (uint64_t)(r.p - c.info.p);
        uint64_t len = rd_u32(&r);
        if (len == 0xffffffffu) {
            len = rd_u64(&r);
            u.is64 = 1;
        }
        if (r.bad || len > (uint64_t)(r.end - r.p) || len < 7) {
            note_err(&c, "unit length", u.off);
            break;
        }
        const uint8_t *uend = r.p + len;
        u.end = (uint64_t)(uend - c.info.p);
        u.version = (uint16_t)rd_u16(&r);
        uint64_t aboff;
        if (u.version >= 5) {
            u.unit_type = (uint8_t)rd_u8(&r);
            u.addr_size = (uint8_t)rd_u8(&r);
            aboff = rd_n(&r, u.is64 ? 8 : 4);
            if (u.unit_type == DW_UT_skeleton || u.unit_type == DW_UT_split_compile)
                rd_skip(&r, 8);
            else if (u.unit_type == DW_UT_type || u.unit_type == DW_UT_split_type)
                rd_skip(&r, 8 + (u.is64 ? 8 : 4));
        } else if (u.version >= 2) {
            aboff = rd_n(&r, u.is64 ? 8 : 4);
            u.addr_size = (uint8_t)rd_u8(&r);
            u.unit_type = DW_UT_compile;
        } else {
            note_err(&c, "unsupported unit version", u.off);
            r.p = uend;
            continue;
        }
        if (r.bad || (u.addr_size != 4 && u.addr_size != 8) ||
            r.p > uend) {
            note_err(&c, "unit header", u.off);
            r.bad = 0;
            r.p = uend;
            continue;
        }
        u.die_off = (uint64_t)(r.p - c.info.p);
        u.ab = get_abbrevs(&c, aboff, &u);
        if (!u.ab)
            note_err(&c, "abbreviation offset", u.off);
        if (c.ncus == c.capcus) {
            c.capcus = c.capcus ? c.capcus * 2 : 256;
            c.cus = cs_xrealloc(c.cus, c.capcus * sizeof *c.cus);
        }
        c.cus[c.ncus++] = u;
        r.p = uend;
    }
    /* Pass 2: unit DIEs, then the line programs and the other DIEs,
       which share nothing: on two threads for a big unit section. */
    for (size_t i = 0; i < c.ncus; i++) {
        cu *u = &c.cus[i];
        if (u->ab && (u->unit_type == DW_UT_compile ||
                      u->unit_type == DW_UT_partial ||
                      u->unit_type == DW_UT_skeleton))
            read_unit_head(&c, u);
    }
    /* The line pass and the DIE walkers share nothing: the walkers work
       on copies of the context with builders of their own, taken before
       the line pass starts. */
    unsigned nw = walkers_for(b, c.info.n);
    walker *w = cs_xcalloc(nw, sizeof *w);
    plan_walkers(&c, w, nw);
    pthread_t lines_th;
    int threaded = nw > 1 &&
                   pthread_create(&lines_th, NULL, line_pass, &c) == 0;
    if (!threaded)
        line_pass(&c);
    for (unsigned k = 1; k < nw; k++)
        w[k].started = pthread_create(&w[k].th, NULL, walk_units, &w[k]) == 0;
    walk_units(&w[0]);
    for (unsigned k = 1; k < nw; k++) {
        if (w[k].started)
            pthread_join(w[k].th, NULL);
        else
            walk_units(&w[k]);
    }
    if (threaded)
        pthread_join(lines_th, NULL);
    if (b->progress)
        fprintf(stderr, "\rcorosym: %s: %zu units read        \n", e->path,
                c.ncus);
    cs_buf pend = {0};
    merge_walkers(&c, w, nw, &pend);
    free(w);
    /* Pass 3: names (needs every unit's abbrevs and file maps). */
    pending *p = (pending *)pend.p;
    size_t np = pend.n / sizeof *p;
    for (size_t i = 0; i < np; i++) {
        memo *m = resolve(&c, p[i].die_off);
        cs_scope *s = (cs_scope *)c.b->scopes.p + p[i].scope;
        s->call_file = file_of(p[i].u, s->call_file); /* see walk_unit */
        s->name = m->name;
        s->sname = m->sname;
        s->decl_file = m->decl_file;
        s->decl_line = m->decl_line;
    }
    free(pend.p);
    if (b->want_vars)
        finish_vars(&c);
    for (size_t i = 0; i < c.ntabs; i++) {
        free(c.tabs[i]->a);
        free(c.tabs[i]->attrs);
        free(c.tabs[i]->direct);
        free(c.tabs[i]);
    }
    free(c.tabs);
    for (size_t i = 0; i < c.nlt; i++)
        free(c.lt[i].fmap);
    free(c.lt);
    free(c.cus);
    free(c.memo);
    return 0;
}
