/* vars.c - variables DWARF places at fixed addresses, for DATA
   requests: collected during a full DIE walk, sized from their types,
   then looked up as llvm-symbolizer does. */
#include <stdlib.h>
#include <string.h>

#include "dwarf_int.h"

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
        a = dw_addrx(c, u, rd_uleb(&r), &ok);
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

int dw_read_variable(ctx *c, cu *u, rd *r, const abbrev *a,
                     uint64_t die_off)
{
    const abbrev_attr *at = u->ab->attrs + a->first;
    rawvar v = {0, die_off, 0, (uint32_t)(u - c->cus), 0};
    int have_addr = 0;
    for (uint32_t i = 0; i < a->nattr; i++) {
        aval x;
        if (dw_read_form(c, u, r, at[i].form, at[i].ic, &x) < 0) {
            dw_note_err(c, "attribute form", die_off);
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
    abbrev *a = dw_die_at(c, u, off, &r);
    if (!a)
        return -1;
    t->tag = a->tag;
    for (uint32_t i = 0; i < a->nattr; i++) {
        const abbrev_attr *x = &u->ab->attrs[a->first + i];
        aval v;
        if (dw_read_form(c, u, &r, x->form, x->ic, &v) < 0)
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
                if (dw_skip_form(u, &r, x->form) < 0)
                    return n;
                continue;
            }
            if (dw_read_form(c, u, &r, x->form, x->ic, &v) < 0)
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
    cu *u = dw_cu_of(c, off);
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
        cu *bu = t.has_type ? dw_cu_of(c, t.type) : NULL;
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

/* What dw_finish_vars leaves in the builder's vars for cs_dwarf_read_vars. */
typedef struct donevar {
    uint64_t lo, hi;
    uint32_t unit, line, file;   /* file: global file id or CS_NONE */
} donevar;

/* Sizes and declarations of the collected variables (needs every unit's
   abbrevs and file maps, like the names pass). */
void dw_finish_vars(ctx *c)
{
    rawvar *v = (rawvar *)c->b->vars.p;
    size_t n = c->b->vars.n / sizeof *v;
    donevar *d = cs_xmalloc((n ? n : 1) * sizeof *d);
    for (size_t i = 0; i < n; i++) {
        uint64_t size = 1;
        if (v[i].has_type && type_size(c, v[i].type_off, 0, &size) < 0)
            size = 1;
        memo *m = dw_resolve(c, v[i].die_off);
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
