/* lookup.c - every lookup in a module's index: the bucket-accelerated
   binary search (one address), the radix sort and galloping cursor
   (a batch in address order, corosym_walk), the symbol covering an
   address, name -> address, and the DWARF variable at an address (read
   on the first DATA request).  What an answer says is frames.c. */
#include <stdlib.h>
#include <string.h>

#include "corosym_int.h"

size_t cs_index_find(const cs_index *ix, int t, uint64_t addr)
{
    size_t lo = 0, hi = cs_index_size(ix, t);
    if (ix->nacc && addr >= ix->acc_lo) {
        uint64_t k = (addr - ix->acc_lo) >> ix->acc_shift;
        if (k < ix->nacc) {
            lo = ix->acc[t][k];
            hi = ix->acc[t][k + 1];
        } else {
            lo = ix->acc[t][ix->nacc];
        }
    }
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cs_index_key(ix, t, mid) <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo ? lo - 1 : SIZE_MAX;
}

void cs_lookup(const cs_index *ix, uint64_t addr, cs_hit *h)
{
    size_t k = cs_index_find(ix, 0, addr);
    h->row = k == SIZE_MAX ? CS_NONE : (uint32_t)k;
    k = cs_index_find(ix, 1, addr);
    h->seg = k == SIZE_MAX ? CS_NONE : (uint32_t)k;
    k = cs_index_find(ix, 2, addr);
    h->sym = k == SIZE_MAX ? CS_NONE : (uint32_t)k;
}

/* LSD radix sort of (key, index) pairs on the bits that vary. */
typedef struct kv { uint64_t k; uint32_t i, pad; } kv;

static void radix_sort(kv *a, size_t n)
{
    if (n < 2)
        return;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i].k < lo)
            lo = a[i].k;
        if (a[i].k > hi)
            hi = a[i].k;
    }
    kv *b = cs_xmalloc(n * sizeof *b);
    size_t cnt[2048];
    for (unsigned sh = 0; sh < 64 && ((hi - lo) >> sh) != 0; sh += 11) {
        memset(cnt, 0, sizeof cnt);
        for (size_t i = 0; i < n; i++)
            cnt[((a[i].k - lo) >> sh) & 2047]++;
        size_t sum = 0;
        for (size_t d = 0; d < 2048; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            b[cnt[((a[i].k - lo) >> sh) & 2047]++] = a[i];
        kv *t = a;
        memcpy(t, b, n * sizeof *t);
    }
    free(b);
}

/* The usual case of cs_sort_addrs: the span of the addresses and the
   index of each fit one 64-bit word together ((address - lowest) above
   IB index bits), so the sort moves 8 bytes per address, not 16, and
   counts every digit in one read.  Stable LSD radix on the address bits
   only: equal addresses keep their input order. */
static void sort_packed(const uint64_t *addrs, size_t n, uint64_t lo,
                        unsigned keybits, unsigned ib, uint64_t *saddrs,
                        uint32_t *order)
{
    enum { D = 11, R = 1 << D };
    unsigned passes = (keybits + D - 1) / D;
    uint64_t *a = cs_xmalloc(n * sizeof *a), *b = cs_xmalloc(n * sizeof *b);
    size_t (*cnt)[R] = cs_xcalloc(passes ? passes : 1, sizeof *cnt);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = addrs[i] - lo;
        a[i] = k << ib | i;
        for (unsigned p = 0; p < passes; p++)
            cnt[p][(k >> (p * D)) & (R - 1)]++;
    }
    for (unsigned p = 0; p < passes; p++) {
        size_t sum = 0;
        for (size_t d = 0; d < R; d++) {
            size_t c = cnt[p][d];
            cnt[p][d] = sum;
            sum += c;
        }
        unsigned sh = ib + p * D;
        for (size_t i = 0; i < n; i++)
            b[cnt[p][(a[i] >> sh) & (R - 1)]++] = a[i];
        uint64_t *s = a;
        a = b;
        b = s;
    }
    uint64_t mask = ((uint64_t)1 << ib) - 1;
    for (size_t j = 0; j < n; j++) {
        saddrs[j] = (a[j] >> ib) + lo;
        order[j] = (uint32_t)(a[j] & mask);
    }
    free(cnt);
    free(a);
    free(b);
}

void cs_sort_addrs(const uint64_t *addrs, size_t n, uint64_t *saddrs,
                   uint32_t *order)
{
    if (!n)
        return;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        if (addrs[i] < lo)
            lo = addrs[i];
        if (addrs[i] > hi)
            hi = addrs[i];
    }
    unsigned ib = 1, keybits = 0;
    while (ib < 32 && ((size_t)1 << ib) < n)
        ib++;
    while (keybits < 64 && ((hi - lo) >> keybits) != 0)
        keybits++;
    if (keybits + ib <= 64) {
        sort_packed(addrs, n, lo, keybits, ib, saddrs, order);
        return;
    }
    kv *a = cs_xmalloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++) {
        a[i].k = addrs[i];
        a[i].i = (uint32_t)i;
        a[i].pad = 0;
    }
    radix_sort(a, n);
    for (size_t j = 0; j < n; j++) {
        saddrs[j] = a[j].k;
        order[j] = a[j].i;
    }
    free(a);
}

/* Moves P forward to the last element of ARR[0..N) whose FIELD is <= X,
   given ARR[P].FIELD <= X: doubling steps, then halving ones, so a batch
   of sparse addresses skips the rows between them in O(log gap). */
#define GALLOP(arr, n, p, field, x)                                        \
    do {                                                                   \
        size_t s_ = 1;                                                     \
        while ((p) + s_ < (n) && (arr)[(p) + s_].field <= (x)) {           \
            (p) += s_;                                                     \
            s_ <<= 1;                                                      \
        }                                                                  \
        while (s_ >>= 1)                                                   \
            if ((p) + s_ < (n) && (arr)[(p) + s_].field <= (x))            \
                (p) += s_;                                                 \
    } while (0)

void cs_lookup_next(const cs_index *ix, cs_cursor *cur, uint64_t x,
                    cs_hit *h)
{
    if (!cur->started) {
        cs_lookup(ix, x, h);
        cur->started = 1;
        cur->have_r = h->row != CS_NONE;
        cur->have_s = h->seg != CS_NONE;
        cur->have_y = h->sym != CS_NONE;
        cur->pr = cur->have_r ? h->row : 0;
        cur->ps = cur->have_s ? h->seg : 0;
        cur->py = cur->have_y ? h->sym : 0;
        return;
    }
    if (!cur->have_r && ix->nrows && ix->rows[0].addr <= x)
        cur->have_r = 1, cur->pr = 0;
    if (cur->have_r)
        GALLOP(ix->rows, ix->nrows, cur->pr, addr, x);
    if (!cur->have_s && ix->nsegs && ix->segs[0].start <= x)
        cur->have_s = 1, cur->ps = 0;
    if (cur->have_s)
        GALLOP(ix->segs, ix->nsegs, cur->ps, start, x);
    if (!cur->have_y && ix->nsyms && ix->syms[0].addr <= x)
        cur->have_y = 1, cur->py = 0;
    if (cur->have_y)
        GALLOP(ix->syms, ix->nsyms, cur->py, addr, x);
    h->row = cur->have_r ? (uint32_t)cur->pr : CS_NONE;
    h->seg = cur->have_s ? (uint32_t)cur->ps : CS_NONE;
    h->sym = cur->have_y ? (uint32_t)cur->py : CS_NONE;
}

const cs_sym *cs_sym_covering(const cs_index *ix, const cs_hit *h,
                              uint64_t addr)
{
    if (h->sym == CS_NONE)
        return NULL;
    const cs_sym *y = &ix->syms[h->sym];
    /* a sized symbol ends; an unsized one covers up to the next */
    return y->size != 0 && addr - y->addr >= y->size ? NULL : y;
}

void corosym_sort_addresses(const uint64_t *addrs, size_t n,
                            uint64_t *sorted, uint32_t *order)
{
    cs_sort_addrs(addrs, n, sorted, order);
}

/* ------------------------------------------------------------ batches */
struct corosym_walk {
    corosym_module *m;
    const uint64_t *addrs;
    size_t n, i;               /* the next address is ADDRS[I] */
    cs_cursor cur;
    cs_hit hit, prev;          /* the last address's and the one before */
    uint64_t addr;             /* the last address */
    int prev_symok;            /* -1 before the first */
};

corosym_walk *corosym_walk_new(corosym_module *m, const uint64_t *addrs,
                               size_t n)
{
    corosym_walk *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->m = m;
    w->addrs = addrs;
    w->n = n;
    w->prev_symok = -1;
    return w;
}

void corosym_walk_free(corosym_walk *w)
{
    free(w);
}

/* Sorted addresses are a few rows apart, too far and too irregular for
   the hardware prefetcher, and each lookup's cache misses depend on the
   one before.  The bucket table says where an address's rows, segment
   and symbol are, independently of the walk: ask for them a few
   addresses ahead, and for the segment's scope once the segment is in. */
#define PREFETCH 8
static inline void prefetch_near(const cs_index *ix, uint64_t addr,
                                 int scope)
{
    if (!ix->nacc || addr < ix->acc_lo)
        return;
    uint64_t k = (addr - ix->acc_lo) >> ix->acc_shift;
    if (k >= ix->nacc)
        return;
    uint32_t r = ix->acc[0][k], s = ix->acc[1][k], y = ix->acc[2][k];
    if (!scope) {
        if (r < ix->nrows)
            __builtin_prefetch(&ix->rows[r]);
        if (s < ix->nsegs)
            __builtin_prefetch(&ix->segs[s]);
        if (y < ix->nsyms)
            __builtin_prefetch(&ix->syms[y]);
    } else if (s > 0 && s - 1 < ix->nsegs &&
               ix->segs[s - 1].scope < ix->nscopes) {
        __builtin_prefetch(&ix->scopes[ix->segs[s - 1].scope]);
    }
}

int corosym_walk_next(corosym_walk *w)
{
    if (w->i >= w->n)
        return -1;
    size_t i = w->i++;
    w->addr = w->addrs[i];
    if (!w->m || w->m->error) {
        w->hit.row = w->hit.seg = w->hit.sym = CS_NONE;
        return 0;
    }
    const cs_index *ix = &w->m->ix;
    if (i + PREFETCH < w->n)
        prefetch_near(ix, w->addrs[i + PREFETCH], 0);
    if (i + PREFETCH / 2 < w->n)
        prefetch_near(ix, w->addrs[i + PREFETCH / 2], 1);
    cs_lookup_next(ix, &w->cur, w->addr, &w->hit);
    int symok = cs_sym_covering(ix, &w->hit, w->addr) != NULL;
    /* the same row, scope and symbol: the same frames */
    int same = w->prev_symok == symok && w->hit.row == w->prev.row &&
               w->hit.seg == w->prev.seg && w->hit.sym == w->prev.sym;
    w->prev = w->hit;
    w->prev_symok = symok;
    return same;
}

size_t corosym_walk_frames(corosym_walk *w, corosym_frame *frames,
                           size_t max, corosym_miss *miss)
{
    return cs_symbolize_hit(w->m, w->addr, &w->hit, frames, max, miss);
}

/* ------------------------------------------------------------ by name */
int corosym_symbol_address(const corosym_module *m, const char *name,
                           uint64_t *addr)
{
    if (!m || m->error || !name)
        return -1;
    const cs_index *ix = &m->ix;
    for (size_t i = 0; i < ix->nsyms; i++)
        if (!strcmp(ix->str + ix->syms[i].name, name)) {
            *addr = ix->syms[i].addr;
            return 0;
        }
    for (size_t i = 0; i < ix->nscopes; i++)
        if (!ix->scopes[i].inlined && ix->scopes[i].sname != CS_NONE &&
            !strcmp(ix->str + ix->scopes[i].sname, name)) {
            *addr = ix->scopes[i].low;
            return 0;
        }
    return -1;
}

/* ----------------------------------------------------------- variables */
/* A pass over M's DWARF the index does not keep: READ on the binary
   itself when it carries the DWARF (also a module from memory), else on
   the debug file, opened again.  The index was built from that file, so
   a failure now only costs what READ would have found. */
static void read_debug_file(corosym_module *m,
                            void (*read)(corosym_module *, cs_elf *))
{
    if (m->bin && m->bin->path && !strcmp(m->bin->path, m->debug_path)) {
        read(m, m->bin);
        return;
    }
    char *err = NULL;
    cs_elf *e = cs_elf_open(m->debug_path, NULL, 0, &err);
    if (e) {
        read(m, e);
        cs_elf_close(e);
    }
    free(err);
}

static void read_vars(corosym_module *m, cs_elf *e)
{
    cs_dwarf_read_vars(e, m->s->o.threads, &m->vars);
}

const cs_var *cs_module_var_at(corosym_module *m, uint64_t addr)
{
    if (!m || m->error || !m->debug_path)
        return NULL;
    if (!m->vars_read) {
        m->vars_read = 1;
        read_debug_file(m, read_vars);
    }
    return cs_var_at(&m->vars, addr);
}

static void read_calls(corosym_module *m, cs_elf *e)
{
    cs_dwarf_read_calls(e, &m->ix, &m->calls);
}

/* The target of the direct call (x86-64 `call rel32`, AArch64 `bl`)
   that returns to RET in M's own code: 0 and *TO, or -1 when that is
   not a direct call or the code is not in the binary. */
static int direct_call(corosym_module *m, uint64_t ret, uint64_t *to)
{
    cs_elf *e = m->bin;
    unsigned len = e && e->e_machine == EM_X86_64 ? 5 :
                   e && e->e_machine == EM_AARCH64 ? 4 : 0;
    if (!len || ret < len)
        return -1;
    uint64_t at = ret - len;
    for (size_t i = 0; i < e->nsec; i++) {
        const cs_section *x = &e->sec[i];
        if (!(x->flags & SHF_EXECINSTR) || x->type != SHT_PROGBITS ||
            at < x->addr || ret > x->addr + x->size)
            continue;
        char *err = NULL;
        const cs_section *d = cs_elf_section(e, x->name, &err);
        free(err);
        if (!d || d->addr != x->addr || ret > d->addr + d->size)
            return -1;
        const uint8_t *p = d->data + (at - d->addr);
        if (len == 5) {
            if (p[0] != 0xe8)
                return -1;
            int32_t rel = (int32_t)((uint32_t)p[1] | (uint32_t)p[2] << 8 |
                                    (uint32_t)p[3] << 16 |
                                    (uint32_t)p[4] << 24);
            *to = ret + (uint64_t)(int64_t)rel;
            return 0;
        }
        uint32_t insn = (uint32_t)p[0] | (uint32_t)p[1] << 8 |
                        (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
        if ((insn >> 26) != 0x25)
            return -1;
        int64_t off = (int64_t)((uint64_t)(insn & 0x3ffffff) << 38) >> 36;
        *to = at + (uint64_t)off;
        return 0;
    }
    return -1;
}

/* The raw name of the symbol that starts exactly at ADDR in M, or NULL. */
static const char *symbol_at(const corosym_module *m, uint64_t addr)
{
    const cs_index *ix = &m->ix;
    size_t k = cs_index_find(ix, 2, addr);
    if (k == SIZE_MAX || ix->syms[k].addr != addr ||
        ix->syms[k].name >= ix->strsize)
        return NULL;
    return ix->str + ix->syms[k].name;
}

size_t corosym_tail_calls(corosym_module *m, uint64_t caller_ret,
                          corosym_module *callee_module, uint64_t callee,
                          uint64_t *pcs, size_t max)
{
    if (!m || m->error || !m->debug_path || !max || !callee)
        return 0;
    const char *name = NULL;
    if (callee_module && callee_module != m) {
        if (callee_module->error ||
            !(name = symbol_at(callee_module, callee)))
            return 0;
    } else {
        /* a direct call of the callee: GDB's chain is empty, and most
           frames are such calls, so most captures never read the call
           sites */
        uint64_t to;
        if (direct_call(m, caller_ret, &to) == 0 && to == callee)
            return 0;
    }
    if (!m->calls_read) {
        m->calls_read = 1;
        read_debug_file(m, read_calls);
    }
    return cs_tail_chain(&m->calls, caller_ret, callee, name, pcs, max);
}

