/* build.c - the flat lookup index: built from what the ELF and DWARF
   readers found (cs_builder), then its bucket tables.  Its file form is
   cache.c; lookups in it are ../lookup.c. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corosym_int.h"


void cs_builder_init(cs_builder *b)
{
    memset(b, 0, sizeof *b);
    cs_strpool_init(&b->strs);
    b->nfslots = 1024;
    b->fslots = cs_xcalloc(b->nfslots, sizeof *b->fslots);
}

void cs_builder_free(cs_builder *b)
{
    cs_strpool_free(&b->strs);
    free(b->rows.p);
    free(b->scopes.p);
    free(b->ranges.p);
    free(b->syms.p);
    free(b->files.p);
    free(b->fslots);
    free(b->err);
    free(b->vars.p);
    memset(b, 0, sizeof *b);
}

/* fslots hold (string offset + 1) << 32 | file id, keyed by offset. */
uint32_t cs_builder_file(cs_builder *b, const char *path, size_t n)
{
    uint32_t so = cs_strpool_add(&b->strs, path, n);
    uint64_t *slots = (uint64_t *)b->fslots;
    if (b->nfiles * 2 >= b->nfslots / 2) {
        size_t nn = b->nfslots * 2;
        uint64_t *ns = cs_xcalloc(nn / 2, sizeof *ns);
        for (size_t i = 0; i < b->nfslots / 2; i++)
            if (slots[i]) {
                uint32_t k = (uint32_t)(slots[i] >> 32);
                size_t h = cs_hash(&k, 4) & (nn / 2 - 1);
                while (ns[h])
                    h = (h + 1) & (nn / 2 - 1);
                ns[h] = slots[i];
            }
        free(b->fslots);
        b->fslots = (uint32_t *)ns;
        b->nfslots = nn;
        slots = ns;
    }
    uint32_t key = so + 1;
    size_t mask = b->nfslots / 2 - 1;
    size_t h = cs_hash(&key, 4) & mask;
    while (slots[h]) {
        if ((uint32_t)(slots[h] >> 32) == key)
            return (uint32_t)slots[h];
        h = (h + 1) & mask;
    }
    uint32_t id = (uint32_t)b->nfiles++;
    slots[h] = (uint64_t)key << 32 | id;
    cs_buf_add(&b->files, &so, sizeof so);
    return id;
}

/* -------------------------------------------------------------- finish */
typedef struct seqd { uint64_t lo, hi; size_t first, n; } seqd;

static int cmp_seq(const void *a, const void *b)
{
    const seqd *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

static int cmp_range(const void *a, const void *b)
{
    const cs_range *x = a, *y = b;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    if (x->hi != y->hi)
        return x->hi > y->hi ? -1 : 1;
    return x->scope < y->scope ? -1 : x->scope > y->scope;
}

static void seg_emit(cs_buf *segs, uint64_t start, uint32_t scope)
{
    size_t n = segs->n / sizeof(cs_seg);
    cs_seg *s = (cs_seg *)segs->p;
    if (n && s[n - 1].start == start) {
        s[n - 1].scope = scope;
        if (n >= 2 && s[n - 2].scope == scope)
            segs->n -= sizeof(cs_seg);
        return;
    }
    if (n && s[n - 1].scope == scope)
        return;
    cs_seg x = {start, scope, 0};
    cs_buf_add(segs, &x, sizeof x);
}

/* Phase 1, rows: sequences ordered by start, overlapping ones dropped,
   rows inside a sequence made non-decreasing.  Returns the row count
   (B->rows may be replaced). */
static size_t finish_rows(cs_builder *b)
{
    cs_row *rows = (cs_row *)b->rows.p;
    size_t nrows = b->rows.n / sizeof *rows;
    cs_buf seqs = {0};
    int sorted = 1;
    uint64_t prev_hi = 0;
    for (size_t i = 0; i < nrows;) {
        size_t j = i;
        while (j < nrows && rows[j].file != CS_NONE)
            j++;
        if (j == nrows)
            break;
        seqd d = {rows[i].addr, rows[j].addr, i, j - i + 1};
        if (d.lo < prev_hi)
            sorted = 0;
        prev_hi = d.hi;
        cs_buf_add(&seqs, &d, sizeof d);
        i = j + 1;
    }
    seqd *sq = (seqd *)seqs.p;
    size_t nsq = seqs.n / sizeof *sq;
    if (!sorted) {
        if (nsq)
            qsort(sq, nsq, sizeof *sq, cmp_seq);
        cs_row *nr = cs_xmalloc((nrows ? nrows : 1) * sizeof *nr);
        size_t k = 0;
        uint64_t hi = 0;
        for (size_t i = 0; i < nsq; i++) {
            if (sq[i].lo < hi)
                continue;
            memcpy(nr + k, rows + sq[i].first, sq[i].n * sizeof *nr);
            k += sq[i].n;
            hi = sq[i].hi;
        }
        free(b->rows.p);
        b->rows.p = (char *)nr;
        b->rows.n = k * sizeof *nr;
        rows = nr;
        nrows = k;
    }
    /* Rows inside a sequence must be non-decreasing for binary search;
       llvm assumes it too.  Fix the rare exceptions by a stable pass. */
    for (size_t i = 1; i < nrows; i++)
        if (rows[i].addr < rows[i - 1].addr && rows[i - 1].file != CS_NONE)
            rows[i].addr = rows[i - 1].addr;
    free(seqs.p);
    return nrows;
}

/* Phase 2, segments: the scope ranges flattened into address segments,
   each naming its innermost scope (a sweep with a stack of the open
   ranges). */
static cs_buf finish_segments(cs_builder *b)
{
    cs_range *rg = (cs_range *)b->ranges.p;
    size_t nrg = b->ranges.n / sizeof *rg;
    if (nrg)
        qsort(rg, nrg, sizeof *rg, cmp_range);
    cs_buf segs = {0};
    cs_range *stk = cs_xmalloc((nrg ? nrg : 1) * sizeof *stk);
    size_t sp = 0;
    uint64_t cur = 0;
    for (size_t i = 0; i <= nrg; i++) {
        uint64_t lo = i < nrg ? rg[i].lo : UINT64_MAX;
        while (sp && stk[sp - 1].hi <= lo) {
            cs_range t = stk[--sp];
            if (cur < t.hi) {
                seg_emit(&segs, cur, t.scope);
                cur = t.hi;
            }
        }
        if (i == nrg)
            break;
        if (cur < lo) {
            seg_emit(&segs, cur, sp ? stk[sp - 1].scope : CS_NONE);
            cur = lo;
        }
        cs_range x = rg[i];
        if (sp && x.hi > stk[sp - 1].hi)
            x.hi = stk[sp - 1].hi;
        if (x.hi <= cur)
            continue;
        stk[sp++] = x;
    }
    seg_emit(&segs, cur, CS_NONE);
    free(stk);
    return segs;
}

void cs_index_finish(cs_builder *b, cs_index *ix)
{
    memset(ix, 0, sizeof *ix);
    size_t nrows = finish_rows(b);
    cs_buf segs = finish_segments(b);
    /* Phase 3: the tables move into IX. */
    ix->rows = (const cs_row *)b->rows.p;
    ix->nrows = nrows;
    ix->scopes = (const cs_scope *)b->scopes.p;
    ix->nscopes = b->scopes.n / sizeof(cs_scope);
    ix->segs = (const cs_seg *)segs.p;
    ix->nsegs = segs.n / sizeof(cs_seg);
    ix->syms = (const cs_sym *)b->syms.p;
    ix->nsyms = b->syms.n / sizeof(cs_sym);
    ix->files = (const uint32_t *)b->files.p;
    ix->nfiles = b->files.n / sizeof(uint32_t);
    ix->str = b->strs.blob.p;
    ix->strsize = b->strs.blob.n;
    ix->owned[0] = b->rows.p;
    ix->owned[1] = b->scopes.p;
    ix->owned[2] = segs.p;
    ix->owned[3] = b->syms.p;
    ix->owned[4] = b->files.p;
    ix->owned[5] = b->strs.blob.p;
    if (ix->nsyms)
        ix->flags |= COROSYM_HAS_SYMTAB;
    if (ix->nrows)
        ix->flags |= COROSYM_HAS_LINES;
    if (ix->nscopes)
        ix->flags |= COROSYM_HAS_FUNCS;
    for (size_t i = 0; i < ix->nscopes; i++)
        if (ix->scopes[i].inlined) {
            ix->flags |= COROSYM_HAS_INLINES;
            break;
        }
    /* Ownership moved to IX. */
    free(b->ranges.p);
    b->rows.p = b->scopes.p = b->syms.p = b->files.p = b->ranges.p = NULL;
    b->strs.blob.p = NULL;
    cs_builder_free(b);
}

void cs_index_accel(cs_index *ix)
{
    if (ix->acc[0])
        return; /* built already (cs_cache_view does it) */
    uint64_t lo = UINT64_MAX, hi = 0;
    size_t most = 0;
    for (int t = 0; t < 3; t++) {
        size_t n = cs_index_size(ix, t);
        if (!n)
            continue;
        if (cs_index_key(ix, t, 0) < lo)
            lo = cs_index_key(ix, t, 0);
        if (cs_index_key(ix, t, n - 1) > hi)
            hi = cs_index_key(ix, t, n - 1);
        if (n > most)
            most = n;
    }
    if (lo >= hi || most < 64)
        return;
    /* about one bucket per four elements of the largest table: a lookup
       then scans a cache line or two, and the tables stay small */
    unsigned shift = 2;
    while (shift < 40 && ((hi - lo) >> shift) > most / 4)
        shift++;
    size_t nb = (size_t)((hi - lo) >> shift) + 1;
    ix->acc_lo = lo;
    ix->acc_shift = shift;
    ix->nacc = nb;
    for (int t = 0; t < 3; t++) {
        size_t n = cs_index_size(ix, t);
        uint32_t *a = cs_xmalloc((nb + 1) * sizeof *a);
        size_t i = 0;
        for (size_t k = 0; k < nb; k++) {
            uint64_t start = lo + ((uint64_t)k << shift);
            while (i < n && cs_index_key(ix, t, i) < start)
                i++;
            a[k] = (uint32_t)i;
        }
        a[nb] = (uint32_t)n;
        ix->acc[t] = a;
    }
}

void cs_index_free(cs_index *ix)
{
    for (int i = 0; i < 6; i++)
        free(ix->owned[i]);
    for (int i = 0; i < 3; i++)
        free(ix->acc[i]);
    if (ix->map)
        munmap(ix->map, ix->map_size);
    memset(ix, 0, sizeof *ix);
}

