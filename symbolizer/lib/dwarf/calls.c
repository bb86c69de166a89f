/* calls.c - call sites, and the tail calls a backtrace no longer holds.

   A function that ends in a sibling call (`jmp f`) leaves no frame: f
   returns straight into the function's caller.  GDB puts such functions
   back as tail-call frames from DWARF's call-site entries alone.  The
   caller's call site (found by the caller frame's return address) names
   the function it called; when that is not the function the callee frame
   runs, the tail calls listed in it, and in the functions those call, and
   so on, must lead there.  One path gives the frames; several give only
   what they all share at either end; none gives none.  corodbg's capture
   tools take the same frames so that their stacks equal GDB's `bt`
   (docs/capture.md), so GDB's limits are kept too: a call site without a
   return address (clang marks its tail calls with DW_AT_call_pc only) is
   not a call site; a function whose DWARF does not say it lists all its
   calls lists no tail calls; and a path that meets an indirect call, or
   a callee no module has a symbol for, gives no frames at all.  A callee
   declared here and defined in another module (a runtime in a shared
   library, reached through the PLT) is matched by its linkage name, as
   GDB finds it in whichever module defines it; a path through such a
   callee's own tail calls is not followed (no frames). */
#include <stdlib.h>
#include <string.h>

#include "dwarf_int.h"

#ifndef DW_TAG_GNU_call_site
#define DW_TAG_GNU_call_site 0x4109
#endif

/* ------------------------------------------------------------ the walk */
enum { ORIGIN_NONE, ORIGIN_REF, ORIGIN_INDIRECT };

typedef struct rawcall {
    uint64_t ret, origin;   /* ORIGIN: .debug_info offset of the callee */
    uint32_t func;          /* enclosing function (rawfunc), CS_NONE */
    uint32_t order;         /* DIE order: the first of one address wins */
    uint8_t tail, kind;
} rawcall;

typedef struct rawfunc {
    uint64_t entry;
    uint32_t order;
    uint8_t complete;       /* all its calls are described */
} rawfunc;

typedef struct walk {
    ctx *c;
    cs_buf calls, funcs;
} walk;

static uint64_t addr_of(ctx *c, const cu *u, const aval *v, int *ok)
{
    if (v->cls == C_ADDRX)
        return dw_addrx(c, u, v->v, ok);
    if (v->cls != C_ADDR)
        *ok = 0;
    return v->v;
}

/* The entry of a function with code ranges: the first range, as GDB's
   BLOCK_ENTRY_PC (a cold part may lie below the entry).  0 without. */
static uint64_t first_range(ctx *c, const cu *u, uint64_t v, int cls)
{
    size_t before = c->b->ranges.n;
    dw_read_ranges(c, u, v, cls, 0);
    uint64_t entry = 0;
    if (c->b->ranges.n > before)
        entry = ((const cs_range *)(c->b->ranges.p + before))->lo;
    c->b->ranges.n = before;
    return entry;
}

/* What a subprogram or callee DIE says about its code. */
typedef struct funcinfo {
    uint64_t entry;
    int has_code, is_decl, has_spec, complete;
} funcinfo;

static int read_func_attrs(ctx *c, const cu *u, rd *r, const abbrev *a,
                           funcinfo *f)
{
    const abbrev_attr *at = u->ab->attrs + a->first;
    aval low = {0}, high = {0}, rng = {0};
    memset(f, 0, sizeof *f);
    for (uint32_t i = 0; i < a->nattr; i++) {
        aval v;
        if (dw_read_form(c, u, r, at[i].form, at[i].ic, &v) < 0)
            return -1;
        switch (at[i].name) {
        case DW_AT_low_pc: low = v; break;
        case DW_AT_high_pc: high = v; break;
        case DW_AT_ranges: rng = v; break;
        case DW_AT_declaration: f->is_decl = v.v != 0; break;
        case DW_AT_specification: f->has_spec = 1; break;
        case DW_AT_call_all_calls: case DW_AT_call_all_tail_calls:
        case DW_AT_GNU_all_call_sites: case DW_AT_GNU_all_tail_call_sites:
            f->complete |= v.v != 0;
            break;
        }
    }
    int ok = 1;
    if (rng.cls != C_NONE) {
        f->entry = first_range(c, u, rng.v, rng.cls);
        f->has_code = f->entry != 0;
    } else if (low.cls != C_NONE && high.cls != C_NONE) {
        f->entry = addr_of(c, u, &low, &ok);
        f->has_code = ok && f->entry != 0;
    }
    if (f->is_decl && !f->has_spec)
        f->has_code = 0;
    return 0;
}

static int read_call(walk *w, const cu *u, rd *r, const abbrev *a,
                     uint32_t func)
{
    ctx *c = w->c;
    const abbrev_attr *at = u->ab->attrs + a->first;
    rawcall k = {0, 0, func, (uint32_t)(w->calls.n / sizeof k), 0,
                 ORIGIN_NONE};
    int have_ret = 0, ok = 1;
    for (uint32_t i = 0; i < a->nattr; i++) {
        aval v;
        if (dw_read_form(c, u, r, at[i].form, at[i].ic, &v) < 0)
            return -1;
        switch (at[i].name) {
        case DW_AT_call_return_pc: case DW_AT_low_pc:
            k.ret = addr_of(c, u, &v, &ok);
            have_ret = 1;
            break;
        case DW_AT_call_target: case DW_AT_GNU_call_site_target:
            k.kind = ORIGIN_INDIRECT;   /* wins over an origin, as GDB */
            break;
        case DW_AT_call_origin: case DW_AT_abstract_origin:
            if (v.cls == C_REF && k.kind != ORIGIN_INDIRECT) {
                k.origin = v.v;
                k.kind = ORIGIN_REF;
            }
            break;
        case DW_AT_call_tail_call: case DW_AT_GNU_tail_call:
            k.tail = v.v != 0;
            break;
        }
    }
    if (have_ret && ok && k.ret)
        cs_buf_add(&w->calls, &k, sizeof k);
    return 0;
}

static void walk_unit_calls(walk *w, cu *u)
{
    ctx *c = w->c;
    rd r = {c->info.p + u->kids_off, c->info.p + u->end, 0};
    uint32_t stack[512];
    int depth = 1;
    stack[0] = stack[1] = CS_NONE;
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
        if (!a)
            return;
        const abbrev_attr *at = u->ab->attrs + a->first;
        uint32_t me = stack[depth];
        if (a->tag == DW_TAG_subprogram) {
            funcinfo f;
            if (read_func_attrs(c, u, &r, a, &f) < 0)
                return;
            me = CS_NONE;
            if (f.has_code) {
                rawfunc rf = {f.entry,
                              (uint32_t)(w->funcs.n / sizeof rf),
                              (uint8_t)f.complete};
                me = rf.order;
                cs_buf_add(&w->funcs, &rf, sizeof rf);
            }
        } else if (a->tag == DW_TAG_call_site ||
                   a->tag == DW_TAG_GNU_call_site) {
            if (read_call(w, u, &r, a, me) < 0)
                return;
        } else if (a->children && a->skip_kids && a->sib >= 0) {
            /* a type: no call below it; jump over it (DW_AT_sibling) */
            uint64_t sib = 0;
            for (uint32_t i = 0; i < a->nattr; i++) {
                aval v;
                if ((int)i == a->sib) {
                    if (dw_read_form(c, u, &r, at[i].form, at[i].ic, &v) < 0)
                        return;
                    sib = v.cls == C_REF ? v.v : 0;
                } else if (dw_skip_form(u, &r, at[i].form) < 0) {
                    return;
                }
            }
            if (sib > die_off && sib <= u->end &&
                sib >= (uint64_t)(r.p - c->info.p)) {
                r.p = c->info.p + sib;
                continue;
            }
        } else if (a->fixed >= 0) {
            rd_skip(&r, (uint64_t)a->fixed);
        } else {
            for (uint32_t i = 0; i < a->nattr; i++)
                if (dw_skip_form(u, &r, at[i].form) < 0)
                    return;
        }
        if (a->children) {
            if (depth + 1 >= (int)(sizeof stack / sizeof *stack))
                return;
            stack[++depth] = me;
        }
    }
}

/* ----------------------------------------------------- the callee's entry */
/* Names still to find among the symbols: NAME (a string of the pass's
   pool) for call K. */
typedef struct byname { uint32_t name; size_t call; } byname;

/* What a callee DIE says, once per DIE (many calls name one callee). */
typedef struct origin {
    uint64_t off, entry;
    uint32_t name;          /* a declaration's linkage name, CS_NONE */
    uint8_t used, has_entry;
} origin;

typedef struct origins { origin *tab; size_t cap, n; } origins;

static origin *origin_slot(origins *o, uint64_t off)
{
    if (2 * (o->n + 1) > o->cap) {
        size_t nc = o->cap ? 2 * o->cap : 1024;
        origin *nt = cs_xcalloc(nc, sizeof *nt);
        for (size_t i = 0; i < o->cap; i++) {
            if (!o->tab[i].used)
                continue;
            size_t h = cs_hash(&o->tab[i].off, 8) & (nc - 1);
            while (nt[h].used)
                h = (h + 1) & (nc - 1);
            nt[h] = o->tab[i];
        }
        free(o->tab);
        o->tab = nt;
        o->cap = nc;
    }
    size_t h = cs_hash(&off, 8) & (o->cap - 1);
    while (o->tab[h].used && o->tab[h].off != off)
        h = (h + 1) & (o->cap - 1);
    return &o->tab[h];
}

/* Where the callee at ORIGIN starts, as GDB resolves DW_AT_call_origin:
   a declaration by its linkage name (later, through the symbols), a
   definition by its code.  The abstract DIE of an inlined function has
   neither: no target. */
static void resolve_origin(ctx *c, origins *memo, cs_call *k,
                           uint64_t origin_off, size_t idx, cs_buf *names)
{
    origin *o = origin_slot(memo, origin_off);
    if (!o->used) {
        o->used = 1;
        o->off = origin_off;
        o->name = CS_NONE;
        memo->n++;
        cu *u = dw_cu_of(c, origin_off);
        rd r;
        abbrev *a = u ? dw_die_at(c, u, origin_off, &r) : NULL;
        funcinfo f;
        if (a && read_func_attrs(c, u, &r, a, &f) == 0) {
            if (f.is_decl && !f.has_spec)
                o->name = dw_resolve(c, origin_off)->name;
            else if (f.has_code) {
                o->entry = f.entry;
                o->has_entry = 1;
            }
        }
    }
    if (o->has_entry) {
        k->target = o->entry;
        k->has_target = 1;
    } else if (o->name != CS_NONE) {
        byname b = {o->name, idx};
        cs_buf_add(names, &b, sizeof b);
    }
}

/* The symbols named by NAMES: the first of each name in address order,
   a global one before a local one.  A name this module has no symbol
   for stays the call's NAME: GDB looks it up in every module. */
static void resolve_names(const cs_strpool *pool, const cs_index *ix,
                          const byname *nm, size_t n, cs_call *calls)
{
    for (size_t i = 0; i < n; i++)
        calls[nm[i].call].name = nm[i].name;
    if (!n || !ix || !ix->nsyms)
        return;
    size_t cap = 16;
    while (cap < 2 * n)
        cap *= 2;
    struct slot { const char *name; uint64_t addr; int found, global; }
        *tab = cs_xcalloc(cap, sizeof *tab);
    for (size_t i = 0; i < n; i++) {
        const char *s = pool->blob.p + nm[i].name;
        size_t h = cs_hash(s, strlen(s)) & (cap - 1);
        while (tab[h].name && strcmp(tab[h].name, s))
            h = (h + 1) & (cap - 1);
        tab[h].name = s;
    }
    for (size_t i = 0; i < ix->nsyms; i++) {
        const cs_sym *y = &ix->syms[i];
        if (y->name >= ix->strsize)
            continue;
        const char *s = ix->str + y->name;
        size_t h = cs_hash(s, strlen(s)) & (cap - 1);
        while (tab[h].name && strcmp(tab[h].name, s))
            h = (h + 1) & (cap - 1);
        int global = y->file == CS_NONE;
        if (tab[h].name && (!tab[h].found || (global && !tab[h].global))) {
            tab[h].addr = y->addr;
            tab[h].found = 1;
            tab[h].global = global;
        }
    }
    for (size_t i = 0; i < n; i++) {
        const char *s = pool->blob.p + nm[i].name;
        size_t h = cs_hash(s, strlen(s)) & (cap - 1);
        while (strcmp(tab[h].name, s))
            h = (h + 1) & (cap - 1);
        if (tab[h].found && tab[h].addr) {
            calls[nm[i].call].target = tab[h].addr;
            calls[nm[i].call].has_target = 1;
            calls[nm[i].call].name = CS_NONE;
        }
    }
    free(tab);
}

static int by_ret(const void *a, const void *b)
{
    const rawcall *x = a, *y = b;
    if (x->ret != y->ret)
        return x->ret < y->ret ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static int by_entry(const void *a, const void *b)
{
    const rawfunc *x = a, *y = b;
    if (x->entry != y->entry)
        return x->entry < y->entry ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

void cs_dwarf_read_calls(cs_elf *e, const cs_index *ix, cs_calls *cs)
{
    memset(cs, 0, sizeof *cs);
    cs_builder b;
    cs_builder_init(&b);
    ctx c;
    walk w = {&c, {0}, {0}};
    if (dw_open_units(&c, e, &b) == 0)
        for (size_t i = 0; i < c.ncus; i++)
            if (c.cus[i].walk && c.cus[i].has_kids && c.cus[i].ab)
                walk_unit_calls(&w, &c.cus[i]);
    rawfunc *rf = (rawfunc *)w.funcs.p;
    size_t nrf = w.funcs.n / sizeof *rf;
    rawcall *rc = (rawcall *)w.calls.p;
    size_t nrc = w.calls.n / sizeof *rc;
    /* functions by entry, one per entry; MAP: walk order -> index */
    uint32_t *map = cs_xmalloc((nrf ? nrf : 1) * sizeof *map);
    if (nrf)
        qsort(rf, nrf, sizeof *rf, by_entry);
    cs->func = cs_xmalloc((nrf ? nrf : 1) * sizeof *cs->func);
    uint8_t *complete = cs_xcalloc(nrf ? nrf : 1, 1);
    for (size_t i = 0; i < nrf; i++) {
        if (!cs->nfunc || cs->func[cs->nfunc - 1].entry != rf[i].entry) {
            cs->func[cs->nfunc].entry = rf[i].entry;
            cs->func[cs->nfunc].tails = CS_NONE;
            cs->func[cs->nfunc].pad = 0;
            complete[cs->nfunc] = rf[i].complete;
            cs->nfunc++;
        }
        map[rf[i].order] = (uint32_t)(cs->nfunc - 1);
    }
    /* calls by return address, one per address */
    if (nrc)
        qsort(rc, nrc, sizeof *rc, by_ret);
    cs->call = cs_xmalloc((nrc ? nrc : 1) * sizeof *cs->call);
    cs_buf names = {0};
    origins memo = {0};
    for (size_t i = 0; i < nrc; i++) {
        if (cs->ncall && cs->call[cs->ncall - 1].ret == rc[i].ret)
            continue;
        cs_call *k = &cs->call[cs->ncall];
        memset(k, 0, sizeof *k);
        k->ret = rc[i].ret;
        k->tail = rc[i].tail;
        k->next_tail = CS_NONE;
        k->name = CS_NONE;
        if (rc[i].kind == ORIGIN_REF)
            resolve_origin(&c, &memo, k, rc[i].origin, cs->ncall, &names);
        if (k->tail && rc[i].func != CS_NONE) {
            uint32_t f = map[rc[i].func];
            if (complete[f]) {
                k->next_tail = cs->func[f].tails;
                cs->func[f].tails = (uint32_t)cs->ncall;
            }
        }
        cs->ncall++;
    }
    resolve_names(&b.strs, ix, (const byname *)names.p,
                  names.n / sizeof(byname), cs->call);
    /* the names left for other modules live on with the table */
    cs->names = cs_xmalloc(b.strs.blob.n ? b.strs.blob.n : 1);
    if (b.strs.blob.n)
        memcpy(cs->names, b.strs.blob.p, b.strs.blob.n);
    free(memo.tab);
    free(names.p);
    free(complete);
    free(map);
    free(w.funcs.p);
    free(w.calls.p);
    dw_close_units(&c);
    cs_builder_free(&b);
}

void cs_calls_free(cs_calls *cs)
{
    free(cs->call);
    free(cs->func);
    free(cs->names);
    memset(cs, 0, sizeof *cs);
}

/* ---------------------------------------------------------- the search */
/* Paths longer than this, or searches longer than BUDGET steps, give no
   frames rather than a stack overflow or a stall. */
#define MAX_PATH 64
#define BUDGET 100000

typedef struct search {
    const cs_calls *cs;
    uint64_t callee;           /* 0: in another module, CALLEE_NAME */
    const char *callee_name;
    uint32_t path[MAX_PATH];
    size_t npath;
    uint32_t best[MAX_PATH];   /* the first path; then what all share */
    size_t nbest, callers, callees;
    int have;
    size_t steps;
} search;

/* The element of BASE (N sorted elements of SIZE bytes, each starting
   with its uint64_t key: cs_call.ret, cs_func.entry) whose key is KEY,
   or NULL. */
static const void *find_key(const void *base, size_t n, size_t size,
                            uint64_t key)
{
    const char *b = base;
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        uint64_t k;
        memcpy(&k, b + mid * size, sizeof k);
        if (k < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint64_t k = 0;
    if (lo < n)
        memcpy(&k, b + lo * size, sizeof k);
    return lo < n && k == key ? b + lo * size : NULL;
}

static const cs_call *call_at(const cs_calls *cs, uint64_t ret)
{
    return find_key(cs->call, cs->ncall, sizeof *cs->call, ret);
}

static const cs_func *func_at(const cs_calls *cs, uint64_t entry)
{
    return find_key(cs->func, cs->nfunc, sizeof *cs->func, entry);
}

/* One more path reached the callee: keep what it shares with the others
   at the caller's end and at the callee's.  0 when nothing is shared. */
static int candidate(search *s)
{
    if (!s->have) {
        memcpy(s->best, s->path, s->npath * sizeof *s->path);
        s->nbest = s->callers = s->callees = s->npath;
        s->have = 1;
        return 1;
    }
    size_t n = s->npath, k;
    for (k = 0; k < s->callers && k < n && s->best[k] == s->path[k]; k++)
        ;
    s->callers = k;
    for (k = 0; k < s->callees && k < n &&
                s->best[s->nbest - 1 - k] == s->path[n - 1 - k]; k++)
        ;
    s->callees = k;
    if (!s->callers && !s->callees) {
        s->have = 0;
        return 0;
    }
    return 1;
}

static int on_path(const search *s, uint32_t k)
{
    for (size_t i = 0; i < s->npath; i++)
        if (s->path[i] == k)
            return 1;
    return 0;
}

/* Follows call K (the last of the path, or the caller's): 0 stops the
   whole search with no answer. */
static int follow(search *s, const cs_call *k)
{
    if (++s->steps > BUDGET)
        return 0;
    if (!k->has_target) {
        /* a callee in another module: GDB finds it by name there */
        if (k->name != CS_NONE && s->callee_name &&
            !strcmp(s->cs->names + k->name, s->callee_name))
            return candidate(s);
        return 0;               /* or nowhere GDB could search on */
    }
    if (k->target == s->callee)
        return candidate(s);
    const cs_func *f = func_at(s->cs, k->target);
    if (!f)
        return 0;               /* GDB: no function there to search */
    for (uint32_t t = f->tails; t != CS_NONE; t = s->cs->call[t].next_tail) {
        if (on_path(s, t))
            continue;
        if (s->npath == MAX_PATH)
            return 0;
        s->path[s->npath++] = t;
        if (!follow(s, &s->cs->call[t]))
            return 0;
        s->npath--;
    }
    return 1;
}

size_t cs_tail_chain(const cs_calls *cs, uint64_t caller_ret,
                     uint64_t callee, const char *callee_name,
                     uint64_t *out, size_t max)
{
    const cs_call *k = call_at(cs, caller_ret);
    if (!k || (!callee && !callee_name))
        return 0;
    search *s = cs_xcalloc(1, sizeof *s);
    s->cs = cs;
    s->callee = callee_name ? 0 : callee;   /* no target is 0 */
    s->callee_name = callee_name;
    size_t n = 0;
    if (follow(s, k) && s->have) {
        /* innermost first: the shared tail calls at the callee's end,
           then those at the caller's (all of them when one path) */
        size_t len = s->nbest;
        int whole = s->callers == len && s->callees == len;
        for (size_t i = 0; i < (whole ? len : s->callees) && n < max; i++)
            out[n++] = cs->call[s->best[len - 1 - i]].ret;
        for (size_t i = 0; !whole && i < s->callers && n < max; i++)
            out[n++] = cs->call[s->best[s->callers - 1 - i]].ret;
    }
    free(s);
    return n;
}
