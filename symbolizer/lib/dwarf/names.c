/* names.c - a DIE's names and declaration, followed through
   DW_AT_abstract_origin / DW_AT_specification (llvm's
   DWARFDie::findRecursively) and memoized per target DIE. */
#include <stdlib.h>
#include <string.h>

#include "dwarf_int.h"

cu *dw_cu_of(ctx *c, uint64_t off)
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
abbrev *dw_die_at(ctx *c, cu *u, uint64_t off, rd *r)
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
    abbrev *a = dw_die_at(c, u, off, &r);
    if (!a)
        return -1;
    for (uint32_t i = 0; i < a->nattr; i++) {
        abbrev_attr *x = &u->ab->attrs[a->first + i];
        switch (x->name) {
        case DW_AT_name: case DW_AT_linkage_name: case DW_AT_MIPS_linkage_name:
        case DW_AT_abstract_origin: case DW_AT_specification:
        case DW_AT_decl_file: case DW_AT_decl_line: {
            aval v;
            if (dw_read_form(c, u, &r, x->form, x->ic, &v) < 0)
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
            if (dw_skip_form(u, &r, x->form) < 0)
                return -1;
        }
    }
    return 0;
}

static uint32_t intern(ctx *c, const char *s)
{
    return s ? cs_strpool_add(&c->b->strs, s, strlen(s)) : CS_NONE;
}

uint32_t dw_file_of(const cu *u, uint64_t idx)
{
    return u && idx < u->nfmap ? u->fmap[idx] : CS_NONE;
}

/* Resolves name (linkage first), decl file and decl line of the DIE at
   OFF following abstract_origin / specification, like llvm's
   DWARFDie::findRecursively.  Memoized. */
memo *dw_resolve(ctx *c, uint64_t off)
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
        cu *u = dw_cu_of(c, cur);
        dieinfo d;
        if (!u || read_die_at(c, u, cur, &d) < 0)
            break;
        if (!linkage && d.linkage)
            linkage = d.linkage;
        if (!name && d.name)
            name = d.name;
        if (!have_df && d.has_decl_file) {
            df = dw_file_of(u, d.decl_file);
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
