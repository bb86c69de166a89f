/* info.c - the .debug_info pass (cs_dwarf_read): unit headers, then the
   walk of every unit's subprogram / inlined-subroutine tree into the
   builder, split between threads, with the line programs on a thread of
   their own; then the scopes are named (names.c).  Ranges: ranges.c. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dwarf_int.h"

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
        dw_note_err(c, "unknown abbreviation code", u->die_off);
        return;
    }
    const abbrev_attr *at = u->ab->attrs + a->first;
    u->walk = 1;
    if (!a->interesting) {
        for (uint32_t i = 0; i < a->nattr; i++)
            if (dw_skip_form(u, &r, at[i].form) < 0)
                break;
    } else {
        const char *comp_dir = NULL;
        uint64_t stmt = 0, low = 0;
        int has_stmt = 0, low_cls = C_NONE;
        for (uint32_t i = 0; i < a->nattr; i++) {
            aval v;
            if (dw_read_form(c, u, &r, at[i].form, at[i].ic, &v) < 0)
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
            low = dw_addrx(c, u, low, &ok);
        }
        u->base = low;
        u->comp_dir = comp_dir;
        u->stmt = stmt;
        u->has_stmt = (uint8_t)has_stmt;
    }
    u->has_kids = a->children && !r.bad;
    u->kids_off = (uint64_t)(r.p - c->info.p);
}

/* The attributes of a DIE (abbreviation A) at R, keeping only its
   DW_AT_sibling reference in *SIB (0 if none).  -1 on a bad form. */
static int read_sibling(ctx *c, const cu *u, rd *r, const abbrev *a,
                        uint64_t *sib)
{
    const abbrev_attr *at = u->ab->attrs + a->first;
    for (uint32_t i = 0; i < a->nattr; i++) {
        if ((int)i == a->sib) {
            aval v;
            if (dw_read_form(c, u, r, at[i].form, at[i].ic, &v) != 0)
                return -1;
            if (v.cls == C_REF)
                *sib = v.v;
        } else if (dw_skip_form(u, r, at[i].form) != 0) {
            return -1;
        }
    }
    return 0;
}

/* A subprogram, inlined subroutine or unit DIE (abbreviation A) at R,
   child of scope *ME: when it has code, its scope into the builder, its
   ranges, and a pending name (PEND); *ME becomes the new scope.  Returns
   its DW_AT_sibling offset, 0 if none. */
static uint64_t read_scope(ctx *c, cu *u, rd *r, const abbrev *a,
                           uint64_t die_off, cs_buf *pend, uint32_t *me)
{
    const abbrev_attr *at = u->ab->attrs + a->first;
    uint64_t low = 0, high = 0, rng = 0;
    int low_cls = C_NONE, high_cls = C_NONE, rng_cls = C_NONE;
    int is_decl = 0, has_low = 0;
    uint64_t sib = 0;
    cs_scope s;
    memset(&s, 0, sizeof s);
    s.parent = a->tag == DW_TAG_subprogram ? CS_NONE : *me;
    s.inlined = a->tag == DW_TAG_inlined_subroutine;
    s.call_file = CS_NONE;
    s.name = CS_NONE;
    s.sname = CS_NONE;
    s.decl_file = CS_NONE;
    for (uint32_t i = 0; i < a->nattr; i++) {
        aval v;
        if (dw_read_form(c, u, r, at[i].form, at[i].ic, &v) < 0) {
            dw_note_err(c, "attribute form", die_off);
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
        low = dw_addrx(c, u, low, &ok);
    if (high_cls == C_ADDRX)
        high = dw_addrx(c, u, high, &ok);
    else if (high_cls == C_CONST)
        high = low + high;
    int has_pc = !is_decl && ((low_cls != C_NONE && high_cls != C_NONE) ||
                              rng_cls != C_NONE);
    if (has_pc) {
        uint32_t id = (uint32_t)(c->b->scopes.n / sizeof(cs_scope));
        if (rng_cls != C_NONE) {
            dw_read_ranges(c, u, rng, rng_cls, id);
            s.low = has_low ? low : 0; /* llvm: DW_AT_low_pc only */
        } else {
            s.low = low;
            dw_add_range(c, low, high, id);
        }
        cs_buf_add(&c->b->scopes, &s, sizeof s);
        pending p = {id, die_off, u};
        cs_buf_add(pend, &p, sizeof p);
        *me = id;
    }
    return sib;
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
            dw_note_err(c, "unknown abbreviation code", die_off);
            return;
        }
        const abbrev_attr *at = u->ab->attrs + a->first;
        uint32_t parent = stack[depth];
        uint32_t me = parent;
        if (c->b->want_vars && a->tag == DW_TAG_variable) {
            if (dw_read_variable(c, u, &r, a, die_off) < 0)
                break;
        } else if (!a->interesting && a->children && a->skip_kids &&
                   a->sib >= 0) {
            /* jump over the whole subtree through DW_AT_sibling */
            uint64_t sib = 0;
            if (read_sibling(c, u, &r, a, &sib) < 0)
                break;
            if (sib > die_off && sib <= u->end &&
                sib >= (uint64_t)(r.p - c->info.p)) {
                r.p = c->info.p + sib;
                continue;
            }
        } else if (!a->interesting) {
            if (a->fixed >= 0) {
                rd_skip(&r, (uint64_t)a->fixed);
            } else {
                for (uint32_t i = 0; i < a->nattr; i++)
                    if (dw_skip_form(u, &r, at[i].form) < 0)
                        break;
            }
        } else {
            uint64_t sib = read_scope(c, u, &r, a, die_off, pend, &me);
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
                dw_note_err(c, "DIE tree too deep", die_off);
                return;
            }
            stack[++depth] = me;
        }
    }
    if (r.bad)
        dw_note_err(c, "truncated DIE", (uint64_t)(r.p - c->info.p));
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
            dw_read_line_program(c, u, u->stmt, u->comp_dir);
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

/* The sections of E a pass reads, the lowest code address that counts
   (C->min_text), and room for the rows. */
static void open_sections(ctx *c, cs_elf *e, cs_builder *b)
{
    memset(c, 0, sizeof *c);
    c->e = e;
    c->b = b;
    c->info = dw_get_sect(c, ".debug_info");
    c->abbrev = dw_get_sect(c, ".debug_abbrev");
    c->line = dw_get_sect(c, ".debug_line");
    c->line_str = dw_get_sect(c, ".debug_line_str");
    c->str = dw_get_sect(c, ".debug_str");
    c->str_off = dw_get_sect(c, ".debug_str_offsets");
    c->addr = dw_get_sect(c, ".debug_addr");
    c->ranges = dw_get_sect(c, ".debug_ranges");
    c->rnglists = dw_get_sect(c, ".debug_rnglists");
    if (b->want_vars) {
        c->loc = dw_get_sect(c, ".debug_loc");
        c->loclists = dw_get_sect(c, ".debug_loclists");
    }
    c->min_text = UINT64_MAX;
    for (size_t i = 0; i < e->nsec; i++)
        if ((e->sec[i].flags & SHF_EXECINSTR) && e->sec[i].addr &&
            e->sec[i].addr < c->min_text)
            c->min_text = e->sec[i].addr;
    if (c->min_text == UINT64_MAX || e->e_type == ET_REL)
        c->min_text = 0;
    else
        c->min_text = 1;  /* only drop ranges at 0 (discarded sections) */
    /* Every row costs at least one byte of line program: reserve that
       many up front.  Large blocks are mmap'ed, so untouched pages cost
       nothing, and the row array never has to be copied while growing. */
    if (c->line.n && b->rows.cap == 0) {
        size_t want = c->line.n < ((size_t)1 << 26) ? c->line.n
                                                    : (size_t)1 << 26;
        cs_buf_reserve(&b->rows, want * sizeof(cs_row));
        b->rows.n = 0;
    }
}

/* One unit header at R into U.  0, 1 when the unit is skipped (R then
   at its end), -1 when the section cannot be read further. */
static int read_cu_header(ctx *c, rd *r, cu *u)
{
    memset(u, 0, sizeof *u);
    u->off = (uint64_t)(r->p - c->info.p);
    uint64_t len = rd_u32(r);
    if (len == 0xffffffffu) {
        len = rd_u64(r);
        u->is64 = 1;
    }
    if (r->bad || len > (uint64_t)(r->end - r->p) || len < 7) {
        dw_note_err(c, "unit length", u->off);
        return -1;
    }
    const uint8_t *uend = r->p + len;
    u->end = (uint64_t)(uend - c->info.p);
    u->version = (uint16_t)rd_u16(r);
    uint64_t aboff;
    if (u->version >= 5) {
        u->unit_type = (uint8_t)rd_u8(r);
        u->addr_size = (uint8_t)rd_u8(r);
        aboff = rd_n(r, u->is64 ? 8 : 4);
        if (u->unit_type == DW_UT_skeleton ||
            u->unit_type == DW_UT_split_compile)
            rd_skip(r, 8);
        else if (u->unit_type == DW_UT_type ||
                 u->unit_type == DW_UT_split_type)
            rd_skip(r, 8 + (u->is64 ? 8 : 4));
    } else if (u->version >= 2) {
        aboff = rd_n(r, u->is64 ? 8 : 4);
        u->addr_size = (uint8_t)rd_u8(r);
        u->unit_type = DW_UT_compile;
    } else {
        dw_note_err(c, "unsupported unit version", u->off);
        r->p = uend;
        return 1;
    }
    if (r->bad || (u->addr_size != 4 && u->addr_size != 8) || r->p > uend) {
        dw_note_err(c, "unit header", u->off);
        r->bad = 0;
        r->p = uend;
        return 1;
    }
    u->die_off = (uint64_t)(r->p - c->info.p);
    u->ab = dw_get_abbrevs(c, aboff, u);
    if (!u->ab)
        dw_note_err(c, "abbreviation offset", u->off);
    r->p = uend;
    return 0;
}

/* Pass 1: every unit header into C->cus. */
static void read_cu_headers(ctx *c)
{
    rd r = {c->info.p, c->info.p + c->info.n, 0};
    while (r.p < r.end) {
        cu u;
        int rc = read_cu_header(c, &r, &u);
        if (rc < 0)
            break;
        if (rc > 0)
            continue;
        if (c->ncus == c->capcus) {
            c->capcus = c->capcus ? c->capcus * 2 : 256;
            c->cus = cs_xrealloc(c->cus, c->capcus * sizeof *c->cus);
        }
        c->cus[c->ncus++] = u;
    }
}

/* Pass 2: unit DIEs, then the line programs and the other DIEs, which
   share nothing: the walkers work on copies of the context with builders
   of their own, taken before the line pass starts, and on several
   threads for a big unit section.  The scopes still to name go to PEND. */
static void read_unit_heads(ctx *c)
{
    for (size_t i = 0; i < c->ncus; i++) {
        cu *u = &c->cus[i];
        if (u->ab && (u->unit_type == DW_UT_compile ||
                      u->unit_type == DW_UT_partial ||
                      u->unit_type == DW_UT_skeleton))
            read_unit_head(c, u);
    }
}

static void read_units(ctx *c, cs_buf *pend)
{
    read_unit_heads(c);
    unsigned nw = walkers_for(c->b, c->info.n);
    walker *w = cs_xcalloc(nw, sizeof *w);
    plan_walkers(c, w, nw);
    pthread_t lines_th;
    int threaded = nw > 1 &&
                   pthread_create(&lines_th, NULL, line_pass, c) == 0;
    if (!threaded)
        line_pass(c);
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
    if (c->b->progress)
        fprintf(stderr, "\rcorosym: %s: %zu units read        \n",
                c->e->path, c->ncus);
    merge_walkers(c, w, nw, pend);
    free(w);
}

/* Pass 3: the names and declarations of the scopes in PEND (needs every
   unit's abbrevs and file maps). */
static void name_scopes(ctx *c, const cs_buf *pend)
{
    const pending *p = (const pending *)pend->p;
    size_t np = pend->n / sizeof *p;
    for (size_t i = 0; i < np; i++) {
        memo *m = dw_resolve(c, p[i].die_off);
        cs_scope *s = (cs_scope *)c->b->scopes.p + p[i].scope;
        s->call_file = dw_file_of(p[i].u, s->call_file); /* see walk_unit */
        s->name = m->name;
        s->sname = m->sname;
        s->decl_file = m->decl_file;
        s->decl_line = m->decl_line;
    }
}

static void free_ctx(ctx *c)
{
    for (size_t i = 0; i < c->ntabs; i++) {
        free(c->tabs[i]->a);
        free(c->tabs[i]->attrs);
        free(c->tabs[i]->direct);
        free(c->tabs[i]);
    }
    free(c->tabs);
    for (size_t i = 0; i < c->nlt; i++)
        free(c->lt[i].fmap);
    free(c->lt);
    free(c->cus);
    free(c->memo);
}

int dw_open_units(ctx *c, cs_elf *e, cs_builder *b)
{
    open_sections(c, e, b);
    if (!c->info.p)
        return -1;
    read_cu_headers(c);
    read_unit_heads(c);
    return 0;
}

void dw_close_units(ctx *c)
{
    free_ctx(c);
}

int cs_dwarf_read(cs_elf *e, cs_builder *b)
{
    ctx c;
    open_sections(&c, e, b);
    if (!c.info.p)
        return b->err ? -1 : 0;
    read_cu_headers(&c);
    cs_buf pend = {0};
    read_units(&c, &pend);
    name_scopes(&c, &pend);
    free(pend.p);
    if (b->want_vars)
        dw_finish_vars(&c);
    free_ctx(&c);
    return 0;
}
