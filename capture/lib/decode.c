/*
 * decode.c -- the coroutine table in C, through its self-description.
 *
 * The same read plan, bounds and one-line reasons as the Python core
 * (python/corodbg/core/decode.py); tests/capture/test_decode_diff.py runs
 * both on the same byte images and compares.  Only the 40-byte prefix is
 * read at fixed offsets; every other field is found through the records.
 * Nothing read from the target is trusted: counts, sizes, offsets and
 * pointers are checked before use.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <corodbg.h>

#include "corocap.h"
#include "cc_int.h"

#define PREFIX_SIZE 40
#define MAX_DESC_SIZE 4096
#define MAX_ENTRY_SIZE 4096
#define MAX_FIELDS 256
#define MAX_READ ((uint64_t)64 << 20)        /* reader.py MAX_READ */
#define MAX_COROUTINES 4194304u              /* layout.MAX_COROUTINES */
#define TORN_RETRIES 4                       /* re-reads of an odd seq */
#define GEN_RETRIES 3                        /* re-reads while generation moves */

/* Field names and kinds in id order, from the header's X-macros (the
 * ABI source). */
#define CC__NAME(n, v, member, kind) [v] = #member,
#define CC__KIND(n, v, member, kind) [v] = CORODBG_KIND_##kind,
static const char *const desc_names[] = {CORODBG_DESC_FIELDS(CC__NAME)};
static const char *const entry_names[] = {CORODBG_ENTRY_FIELDS(CC__NAME)};
static const unsigned char desc_kinds[] = {CORODBG_DESC_FIELDS(CC__KIND)};
static const unsigned char entry_kinds[] = {CORODBG_ENTRY_FIELDS(CC__KIND)};
#define NDESC (sizeof desc_names / sizeof *desc_names)
#define NENTRY (sizeof entry_names / sizeof *entry_names)

struct field { int present; unsigned off, size, kind; };

struct layout {
    const uint8_t *desc;
    int be;
    struct field d[NDESC], e[NENTRY];   /* after the record checks */
    int dkeep[NDESC], ekeep[NENTRY];    /* survived the overlap pass */
    int hot[NENTRY], hot_pc, hot_sp;    /* the hot set (decode._hot_struct) */
};

/* ---- small helpers ---- */

static uint64_t get_uint(const uint8_t *p, unsigned size, int be)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (!be) {        /* the common case, a plain load (the hot loop) */
        switch (size) {
        case 8: { uint64_t x; memcpy(&x, p, 8); return x; }
        case 4: { uint32_t x; memcpy(&x, p, 4); return x; }
        case 2: { uint16_t x; memcpy(&x, p, 2); return x; }
        case 1: return p[0];
        }
    }
#endif
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++)
        v |= (uint64_t)p[be ? size - 1 - i : i] << (8 * i);
    return v;
}

void cc_warn(char ***list, size_t *n, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char **nl = *list;
    if ((*n & (*n - 1)) == 0) {        /* 0, 1, 2, 4...: double the room */
        nl = realloc(*list, (*n ? 2 * *n : 1) * sizeof *nl);
        if (!nl)
            return;
        *list = nl;
    }
    nl[(*n)++] = strdup(buf);
}

#define WARN(t, ...) cc_warn(&(t)->warnings, &(t)->nwarnings, __VA_ARGS__)

static int uint_size(unsigned s)
{
    return s == 1 || s == 2 || s == 4 || s == 8;
}

/* decode._expected_kinds: may a record of kind KIND describe a field the
 * header gives kind EXPECTED?  A uint and a pointer are the same bytes,
 * so either stands for the other. */
static int kind_ok(unsigned expected, unsigned kind)
{
    if (expected == CORODBG_KIND_UINT || expected == CORODBG_KIND_PTR)
        return kind == CORODBG_KIND_UINT || kind == CORODBG_KIND_PTR;
    return kind == expected;
}

/* decode._field_records: the checked records of one array. */
static int field_records(cc_table *t, const uint8_t *data, unsigned off,
                         unsigned count, unsigned rs, unsigned owner,
                         const char *const *names,
                         const unsigned char *kinds, size_t nnames,
                         const char *what, struct field *out, char *err)
{
    if (count > MAX_FIELDS || (uint64_t)off + (uint64_t)count * rs > t->desc_size) {
        snprintf(err, CC_ERRLEN, "%s field records (%u at offset %u) do not "
                 "fit the %u-byte descriptor", what, count, off, t->desc_size);
        return -1;
    }
    for (unsigned i = 0; i < count; i++) {
        const uint8_t *r = data + off + i * rs;
        unsigned fid = get_uint(r, 2, t->big_endian);
        unsigned foff = get_uint(r + 2, 2, t->big_endian);
        unsigned fsize = get_uint(r + 4, 2, t->big_endian);
        unsigned kind = get_uint(r + 6, 2, t->big_endian);
        if (fid >= nnames || !names[fid])
            continue;                   /* appended by a newer minor */
        const char *name = names[fid];
        char bad[96] = "";
        if (foff + fsize > owner || fsize == 0)
            snprintf(bad, sizeof bad, "lies outside the %u-byte %s", owner, what);
        else if ((kind == CORODBG_KIND_UINT || kind == CORODBG_KIND_PTR) &&
                 !uint_size(fsize))
            snprintf(bad, sizeof bad, "has size %u", fsize);
        else if (kind == CORODBG_KIND_PTR && fsize != t->ptr_size)
            snprintf(bad, sizeof bad, "pointer of size %u", fsize);
        else if ((kind == CORODBG_KIND_U64S || kind == CORODBG_KIND_REGLOCS)
                 && fsize % 8)
            snprintf(bad, sizeof bad, "register array size %u", fsize);
        else if (kind < CORODBG_KIND_UINT || kind > CORODBG_KIND_REGLOCS)
            snprintf(bad, sizeof bad, "has unknown kind %u", kind);
        if (!bad[0] && !kind_ok(kinds[fid], kind))
            snprintf(bad, sizeof bad, "has kind %u", kind);
        if (bad[0]) {
            WARN(t, "%s field %s %s: ignored", what, name, bad);
            continue;
        }
        if (out[fid].present) {
            WARN(t, "%s field %s described twice: first kept", what, name);
            continue;
        }
        out[fid] = (struct field){1, foff, fsize, kind};
    }
    return 0;
}

/* decode.build_struct's overlap rule: fields in offset order (ties in
 * id order, as Python's stable sort of the dict), a field starting before
 * the end of the previous kept one is dropped.  KEEP[i] set for kept ones;
 * ONLY (may be NULL) limits the pass to a subset.  Warns when WHAT. */
static void overlap_pass(cc_table *t, const struct field *f, size_t n,
                         const char *const *names, const int *only,
                         int *keep, const char *what,
                         const int *order_hint)
{
    size_t idx[NENTRY > NDESC ? NENTRY : NDESC];
    size_t m = 0;
    /* insertion order of the Python dict = record order; ORDER_HINT gives
     * each id's record position (ids with equal offsets keep it) */
    for (size_t i = 0; i < n; i++)
        if (f[i].present && (!only || only[i]))
            idx[m++] = i;
    for (size_t a = 1; a < m; a++) {   /* stable insertion sort */
        size_t v = idx[a], b = a;
        while (b > 0 && (f[idx[b - 1]].off > f[v].off ||
                         (f[idx[b - 1]].off == f[v].off &&
                          order_hint[idx[b - 1]] > order_hint[v]))) {
            idx[b] = idx[b - 1];
            b--;
        }
        idx[b] = v;
    }
    unsigned pos = 0;
    for (size_t a = 0; a < m; a++) {
        size_t i = idx[a];
        if (f[i].off < pos) {
            if (what)
                WARN(t, "%s field %s overlaps another: ignored", what, names[i]);
            continue;
        }
        keep[i] = 1;
        pos = f[i].off + f[i].size;
    }
}

static int prefix(cc_table *t, const uint8_t *p, char *err)
{
    if (memcmp(p, CORODBG_MAGIC, 8)) {
        char hex[17];
        for (int i = 0; i < 8; i++)
            snprintf(hex + 2 * i, 3, "%02x", p[i]);
        snprintf(err, CC_ERRLEN, "bad magic %s: not a corodbg table", hex);
        return -1;
    }
    unsigned order = p[17];
    if (order != 1 && order != 2) {
        snprintf(err, CC_ERRLEN, "bad byte_order %u (expected 1 or 2)", order);
        return -1;
    }
    int be = t->big_endian = order == 2;
    t->abi_major = get_uint(p + 8, 2, be);
    t->abi_minor = get_uint(p + 10, 2, be);
    t->desc_size = get_uint(p + 12, 2, be);
    t->entry_size = get_uint(p + 14, 2, be);
    t->ptr_size = p[16];
    t->arch = get_uint(p + 18, 2, be);
    if (t->abi_major != CORODBG_ABI_MAJOR) {
        snprintf(err, CC_ERRLEN, "table ABI version %u.%u is not supported "
                 "(this corodbg reads major %d): upgrade corodbg",
                 t->abi_major, t->abi_minor, CORODBG_ABI_MAJOR);
        return -1;
    }
    if (t->ptr_size != 4 && t->ptr_size != 8) {
        snprintf(err, CC_ERRLEN, "bad ptr_size %u", t->ptr_size);
        return -1;
    }
    unsigned rs = get_uint(p + 32, 2, be);
    if (rs < 8 || rs > 64) {
        snprintf(err, CC_ERRLEN, "bad field_record_size %u", rs);
        return -1;
    }
    if (t->desc_size < PREFIX_SIZE || t->desc_size > MAX_DESC_SIZE) {
        snprintf(err, CC_ERRLEN, "bad desc_size %u", t->desc_size);
        return -1;
    }
    if (t->entry_size < 8 || t->entry_size > MAX_ENTRY_SIZE) {
        snprintf(err, CC_ERRLEN, "bad entry_size %u", t->entry_size);
        return -1;
    }
    return 0;
}

static void read_error(char *err, uint64_t addr, size_t size, int e)
{
    snprintf(err, CC_ERRLEN, "cannot read %zu bytes at 0x%llx (%s)", size,
             (unsigned long long)addr,
             e == EPERM || e == EACCES ? "not allowed" :
             e == ESRCH ? "the process is gone" : "unmapped");
}

/* The descriptor: prefix, records, values, register map. */
static int descriptor(cc_reader *r, cc_table *t, struct layout *L,
                      uint8_t *data, char *err)
{
    if (cc_read(r, t->addr, data, PREFIX_SIZE)) {
        read_error(err, t->addr, PREFIX_SIZE, errno);
        return -errno ? -1 : -1;
    }
    if (prefix(t, data, err))
        return -1;
    if (cc_read(r, t->addr, data, t->desc_size)) {
        read_error(err, t->addr, t->desc_size, errno);
        return -1;
    }
    int be = t->big_endian;
    L->desc = data;
    L->be = be;
    unsigned rs = get_uint(data + 32, 2, be);
    int dorder[NDESC], eorder[NENTRY];
    memset(L->d, 0, sizeof L->d);
    memset(L->e, 0, sizeof L->e);
    if (field_records(t, data, get_uint(data + 20, 2, be),
                      get_uint(data + 22, 2, be), rs, t->desc_size,
                      desc_names, desc_kinds, NDESC, "descriptor", L->d,
                      err) ||
        field_records(t, data, get_uint(data + 24, 2, be),
                      get_uint(data + 26, 2, be), rs, t->entry_size,
                      entry_names, entry_kinds, NENTRY, "entry", L->e, err))
        return -1;
    /* record positions, for ties in the overlap pass */
    for (size_t i = 0; i < NDESC; i++)
        dorder[i] = (int)i;
    for (size_t i = 0; i < NENTRY; i++)
        eorder[i] = (int)i;
    {
        unsigned off = get_uint(data + 20, 2, be), n = get_uint(data + 22, 2, be);
        for (unsigned i = n; i-- > 0;) {
            unsigned fid = get_uint(data + off + i * rs, 2, be);
            if (fid < NDESC)
                dorder[fid] = (int)i;
        }
        off = get_uint(data + 24, 2, be), n = get_uint(data + 26, 2, be);
        for (unsigned i = n; i-- > 0;) {
            unsigned fid = get_uint(data + off + i * rs, 2, be);
            if (fid < NENTRY)
                eorder[fid] = (int)i;
        }
    }
    static const int req_desc[] = {CORODBG_DF_CHUNK_DIR, CORODBG_DF_NCHUNKS,
                                   CORODBG_DF_CHUNK_ENTRIES};
    static const int req_entry[] = {CORODBG_EF_ID, CORODBG_EF_STATE};
    for (size_t i = 0; i < 3; i++)
        if (!L->d[req_desc[i]].present) {
            snprintf(err, CC_ERRLEN, "descriptor does not describe %s",
                     desc_names[req_desc[i]]);
            return -1;
        }
    for (size_t i = 0; i < 2; i++)
        if (!L->e[req_entry[i]].present) {
            snprintf(err, CC_ERRLEN, "entry layout does not describe %s",
                     entry_names[req_entry[i]]);
            return -1;
        }
    memset(L->dkeep, 0, sizeof L->dkeep);
    overlap_pass(t, L->d, NDESC, desc_names, NULL, L->dkeep, "descriptor",
                 dorder);
    for (size_t i = 0; i < 3; i++)
        if (!L->dkeep[req_desc[i]]) {
            snprintf(err, CC_ERRLEN, "descriptor field %s overlaps another "
                     "field", desc_names[req_desc[i]]);
            return -1;
        }
    /* values */
#define DV(id) (L->dkeep[id] && (L->d[id].kind == CORODBG_KIND_UINT || \
                                 L->d[id].kind == CORODBG_KIND_PTR) ? \
                get_uint(data + L->d[id].off, L->d[id].size, be) : 0)
    t->generation = DV(CORODBG_DF_GENERATION);
    t->has_generation = L->dkeep[CORODBG_DF_GENERATION];
    t->live_count = DV(CORODBG_DF_LIVE_COUNT);
    t->has_live_count = L->dkeep[CORODBG_DF_LIVE_COUNT];
    t->next_id = DV(CORODBG_DF_NEXT_ID);
    t->chunk_dir = DV(CORODBG_DF_CHUNK_DIR);
    t->nchunks = DV(CORODBG_DF_NCHUNKS);
    t->chunk_entries = DV(CORODBG_DF_CHUNK_ENTRIES);
    t->clock_ns = DV(CORODBG_DF_CLOCK_NS);
    t->has_clock = L->dkeep[CORODBG_DF_CLOCK_NS];
    t->crashed_id = DV(CORODBG_DF_CRASHED_ID);
    t->regs_modes = DV(CORODBG_DF_REGS_MODES);
    t->runtime_start = DV(CORODBG_DF_RUNTIME_START);
    t->runtime_code_lo = DV(CORODBG_DF_RUNTIME_CODE_LO);
    t->runtime_code_hi = DV(CORODBG_DF_RUNTIME_CODE_HI);
    /* register layouts: (dwarf, how, offset) records, regs.parse_layout */
    static const int lay_id[2] = {CORODBG_DF_BLOCK_LAYOUT,
                                  CORODBG_DF_FRAME_LAYOUT};
    static const int cnt_id[2] = {CORODBG_DF_BLOCK_LAYOUT_COUNT,
                                  CORODBG_DF_FRAME_LAYOUT_COUNT};
    for (int m = 0; m < 2; m++) {
        const struct field *f = &L->d[lay_id[m]];
        t->has_layout[m] = L->dkeep[lay_id[m]];
        t->has_layout_count[m] = L->dkeep[cnt_id[m]];
        t->layout_count[m] = DV(cnt_id[m]);
        t->layout_nrecs[m] = 0;
        if (!t->has_layout[m])
            continue;
        for (unsigned k = 0; k < f->size / 8 && k < CC_LAYOUT_RECS; k++) {
            const uint8_t *q = data + f->off + 8 * k;
            t->layout_recs[m][k] = (cc_regloc){
                (uint16_t)get_uint(q, 2, be), (uint16_t)get_uint(q + 2, 2, be),
                (int32_t)(uint32_t)get_uint(q + 4, 4, be)};
            t->layout_nrecs[m]++;
        }
    }
#undef DV
    /* descriptor strings: warn when unterminated, in offset order */
    int sorder[NDESC];
    size_t ns = 0;
    for (size_t i = 0; i < NDESC; i++)
        if (L->dkeep[i] && L->d[i].kind == CORODBG_KIND_CHARS)
            sorder[ns++] = (int)i;
    for (size_t a = 1; a < ns; a++)
        for (size_t b = a; b > 0 && L->d[sorder[b - 1]].off > L->d[sorder[b]].off; b--) {
            int x = sorder[b];
            sorder[b] = sorder[b - 1];
            sorder[b - 1] = x;
        }
    for (size_t a = 0; a < ns; a++) {
        const struct field *f = &L->d[sorder[a]];
        const uint8_t *s = data + f->off;
        if (!memchr(s, 0, f->size))
            WARN(t, "descriptor string %s is not NUL-terminated",
                 desc_names[sorder[a]]);
        if (sorder[a] == CORODBG_DF_RUNTIME_NAME) {
            size_t n = strnlen((const char *)s, f->size);
            if (n >= sizeof t->runtime_name)
                n = sizeof t->runtime_name - 1;
            memcpy(t->runtime_name, s, n);
            t->runtime_name[n] = 0;
        } else if (sorder[a] == CORODBG_DF_RUNTIME_CODE) {
            free(t->runtime_code);
            t->runtime_code = strndup((const char *)s, f->size);
        }
    }
    unsigned roff = get_uint(data + 28, 2, be), rcount = get_uint(data + 30, 2, be);
    if (rcount > 64 || roff + 2 * rcount > t->desc_size) {
        WARN(t, "register map (%u at offset %u) outside the descriptor: "
             "ignored", rcount, roff);
        t->nregs = 0;
    } else {
        t->nregs = rcount;
        for (unsigned i = 0; i < rcount; i++)
            t->reg_dwarf[i] = get_uint(data + roff + 2 * i, 2, be);
    }
    memset(L->ekeep, 0, sizeof L->ekeep);
    overlap_pass(t, L->e, NENTRY, entry_names, NULL, L->ekeep, "entry", eorder);
    for (size_t i = 0; i < 2; i++)
        if (!L->ekeep[req_entry[i]]) {
            snprintf(err, CC_ERRLEN, "entry field %s overlaps another field",
                     entry_names[req_entry[i]]);
            return -1;
        }
    /* the hot set (decode.HOT plus pc and sp), its own overlap pass */
    static const int hot_ids[] = {CORODBG_EF_ID, CORODBG_EF_SEQ, CORODBG_EF_STATE,
        CORODBG_EF_TID, CORODBG_EF_SINCE_NS, CORODBG_EF_WAIT_REASON,
        CORODBG_EF_NAME, CORODBG_EF_STACK_LO, CORODBG_EF_STACK_HI};
    struct field hf[NENTRY + 2];
    int only[NENTRY + 2], hkeep[NENTRY + 2], horder[NENTRY + 2];
    const char *hnames[NENTRY + 2];
    memset(hf, 0, sizeof hf);
    memset(only, 0, sizeof only);
    memset(hkeep, 0, sizeof hkeep);
    for (size_t i = 0; i < NENTRY + 2; i++) {
        horder[i] = 0;
        hnames[i] = i < NENTRY ? entry_names[i] : "pc/sp";
    }
    int pos = 0;   /* dict insertion order: HOT order, then pc, sp */
    for (size_t i = 0; i < sizeof hot_ids / sizeof *hot_ids; i++) {
        hf[hot_ids[i]] = L->e[hot_ids[i]];
        only[hot_ids[i]] = 1;
        horder[hot_ids[i]] = pos++;
    }
    const struct field *rg = &L->e[CORODBG_EF_REGS];
    int pcsp = rg->present && rg->size >= 16;
    if (pcsp) {
        hf[NENTRY] = (struct field){1, rg->off, 8, CORODBG_KIND_UINT};
        hf[NENTRY + 1] = (struct field){1, rg->off + 8, 8, CORODBG_KIND_UINT};
        only[NENTRY] = only[NENTRY + 1] = 1;
        horder[NENTRY] = pos++;
        horder[NENTRY + 1] = pos++;
    }
    overlap_pass(t, hf, NENTRY + 2, hnames, only, hkeep, NULL, horder);
    for (size_t i = 0; i < 2; i++)
        if (!hkeep[req_entry[i]]) {
            snprintf(err, CC_ERRLEN, "entry field %s overlaps another field",
                     entry_names[req_entry[i]]);
            return -1;
        }
    for (size_t i = 0; i < NENTRY; i++)
        L->hot[i] = hkeep[i];
    L->hot_pc = hkeep[NENTRY];
    L->hot_sp = hkeep[NENTRY + 1];
    t->mid_update = t->has_generation && (t->generation & 1);
    return 0;
}

/* ---- entries ---- */

static uint64_t ef(const struct layout *L, const uint8_t *e, int id, int hot)
{
    const struct field *f = &L->e[id];
    if (!(hot ? L->hot[id] : L->ekeep[id]))
        return 0;
    return get_uint(e + f->off, f->size, L->be);
}

#define EKEPT(L, id) ((L)->ekeep[id])

/* One entry -> CO.  Returns 0 when the slot is free (skipped). */
static int entry(const cc_table *t, const struct layout *L, const uint8_t *e,
                 cc_coroutine *co)
{
    uint64_t id = ef(L, e, CORODBG_EF_ID, 1);
    uint64_t state = ef(L, e, CORODBG_EF_STATE, 1);
    if (!id || !state)
        return 0;
    if (t->tally) {
        /* counting only (cc_table_count): the fields a tally reads and
         * the checks that make an entry unreadable from them */
        co->id = id;
        co->state = (uint32_t)state;
        co->seq = (uint32_t)ef(L, e, CORODBG_EF_SEQ, 1);
        co->since_ns = ef(L, e, CORODBG_EF_SINCE_NS, 1);
        co->wait_reason = (uint32_t)ef(L, e, CORODBG_EF_WAIT_REASON, 1);
        co->has = L->hot[CORODBG_EF_SINCE_NS] ? CC_HAS_SINCE : 0;
        co->unreadable = state >= CORODBG_NSTATES ? CC_BAD_STATE
                         : L->hot[CORODBG_EF_SEQ] && (co->seq & 1)
                             ? CC_MID_UPDATE : CC_OK;
        return 1;
    }
    memset(co, 0, sizeof *co);
    co->id = id;
    co->state = (uint32_t)state;
    co->seq = (uint32_t)ef(L, e, CORODBG_EF_SEQ, 1);
    co->tid = (uint32_t)ef(L, e, CORODBG_EF_TID, 1);
    co->since_ns = ef(L, e, CORODBG_EF_SINCE_NS, 1);
    co->wait_reason = (uint32_t)ef(L, e, CORODBG_EF_WAIT_REASON, 1);
    co->stack_lo = ef(L, e, CORODBG_EF_STACK_LO, 1);
    co->stack_hi = ef(L, e, CORODBG_EF_STACK_HI, 1);
    co->created_ns = ef(L, e, CORODBG_EF_CREATED_NS, 0);
    co->create_pc = ef(L, e, CORODBG_EF_CREATE_PC, 0);
    co->entry_fn = ef(L, e, CORODBG_EF_ENTRY_FN, 0);
    co->parent_id = ef(L, e, CORODBG_EF_PARENT_ID, 0);
    co->wait_addr = ef(L, e, CORODBG_EF_WAIT_ADDR, 0);
    co->regs_mode = (uint32_t)ef(L, e, CORODBG_EF_REGS_MODE, 0);
    co->regs_addr = ef(L, e, CORODBG_EF_REGS_ADDR, 0);
    co->has = (L->hot[CORODBG_EF_NAME] ? CC_HAS_NAME : 0) |
              (L->hot[CORODBG_EF_TID] ? CC_HAS_TID : 0) |
              (L->hot[CORODBG_EF_SINCE_NS] ? CC_HAS_SINCE : 0) |
              (L->hot[CORODBG_EF_WAIT_REASON] ? CC_HAS_WAIT : 0) |
              (EKEPT(L, CORODBG_EF_REGS) ? CC_HAS_REGS : 0) |
              (EKEPT(L, CORODBG_EF_CREATE_PC) ? CC_HAS_CREATE_PC : 0) |
              (EKEPT(L, CORODBG_EF_CREATED_NS) ? CC_HAS_CREATED : 0) |
              (L->hot[CORODBG_EF_STACK_LO] && L->hot[CORODBG_EF_STACK_HI] ?
               CC_HAS_STACK : 0) |
              (EKEPT(L, CORODBG_EF_ENTRY_FN) ? CC_HAS_ENTRY_FN : 0) |
              (EKEPT(L, CORODBG_EF_PARENT_ID) ? CC_HAS_PARENT : 0) |
              (EKEPT(L, CORODBG_EF_WAIT_ADDR) ? CC_HAS_WAIT_ADDR : 0) |
              (L->e[CORODBG_EF_REGS_MODE].present ? CC_HAS_REGS_MODE : 0);
    int name_term = 1;
    if (L->hot[CORODBG_EF_NAME]) {
        const struct field *f = &L->e[CORODBG_EF_NAME];
        const char *s = (const char *)e + f->off;
        size_t n = strnlen(s, f->size);
        name_term = n < f->size;
        /* escaped here, once, as the core's decoder does */
        cc_escape((const uint8_t *)s, n, co->name, sizeof co->name);
    }
    if (EKEPT(L, CORODBG_EF_REGS)) {
        const struct field *f = &L->e[CORODBG_EF_REGS];
        co->nregs = f->size / 8 > CC_MAX_REGS ? CC_MAX_REGS : f->size / 8;
        for (unsigned i = 0; i < co->nregs; i++)
            co->regs[i] = get_uint(e + f->off + 8 * i, 8, L->be);
    }
    uint64_t sp = L->hot_sp ? get_uint(e + L->e[CORODBG_EF_REGS].off + 8, 8,
                                       L->be) : 0;
    if (co->state >= CORODBG_NSTATES) {
        co->unreadable = CC_BAD_STATE;
        snprintf(co->note, sizeof co->note, "state value %u out of range",
                 co->state);
    } else if (L->hot[CORODBG_EF_SEQ] && (co->seq & 1)) {
        co->unreadable = CC_MID_UPDATE;
        snprintf(co->note, sizeof co->note,
                 "entry being updated (seq %u is odd)", co->seq);
    } else if (!name_term) {
        co->unreadable = CC_BAD_NAME;
        snprintf(co->note, sizeof co->note, "name not NUL-terminated");
    } else if (L->hot_sp && L->hot[CORODBG_EF_STACK_LO] &&
               L->hot[CORODBG_EF_STACK_HI] && co->state != CORODBG_RUNNING &&
               sp && co->stack_lo && co->stack_hi &&  /* sp 0: no context */
               !(co->stack_lo <= sp && sp <= co->stack_hi)) {
        co->unreadable = CC_BAD_STACK;
        snprintf(co->note, sizeof co->note,
                 "saved sp 0x%llx outside its stack [0x%llx, 0x%llx)",
                 (unsigned long long)sp, (unsigned long long)co->stack_lo,
                 (unsigned long long)co->stack_hi);
    }
    (void)t;
    return 1;
}

static void tally(cc_counts *c, const cc_coroutine *co)
{
    if (co->unreadable) {
        c->unreadable++;
        return;
    }
    if (co->state < CC_COUNT_STATES)
        c->by_state[co->state]++;
    else
        c->other_state++;
    if (co->state != CORODBG_BLOCKED)
        return;
    if (co->wait_reason < CC_COUNT_WAITS)
        c->by_wait[co->wait_reason]++;
    else
        c->other_wait++;
    if ((co->has & CC_HAS_SINCE) && co->since_ns &&
        (!c->oldest_blocked_since || co->since_ns < c->oldest_blocked_since))
        c->oldest_blocked_since = co->since_ns;
}

static int push(cc_table *t, const cc_coroutine *co)
{
    if (t->ncos == t->cap) {
        size_t nc = t->cap ? 2 * t->cap : 256;
        cc_coroutine *n = realloc(t->cos, nc * sizeof *n);
        if (!n)
            return -1;
        t->cos = n;
        t->cap = nc;
    }
    t->cos[t->ncos++] = *co;
    return 0;
}

/* A live entry read while its owner wrote it: read it again, a few times. */
static void retry_torn(cc_reader *r, const cc_table *t, const struct layout *L,
                       uint8_t *buf, cc_coroutine *co)
{
    for (int i = 0; i < TORN_RETRIES && co->unreadable == CC_MID_UPDATE; i++) {
        cc_coroutine again;
        if (cc_read(r, co->addr, buf, t->entry_size))
            return;
        uint64_t slot = co->slot, addr = co->addr;
        if (!entry(t, L, buf, &again))
            return;        /* exited meanwhile: keep the marked copy */
        again.slot = slot;
        again.addr = addr;
        *co = again;
    }
    co->torn = co->unreadable == CC_MID_UPDATE;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* A chunk pointer into readable memory that is no chunk (garbage, code)
 * decodes to thousands of corrupt entries per chunk: past this many in
 * one chunk, the rest of its corrupt entries are dropped and a warning
 * says so (decode.CHUNK_BAD_MAX, _cut_corrupt_chunks). */
#define CHUNK_BAD_MAX 16

static uint64_t chunk_base(const cc_table *t, const cc_coroutine *co)
{
    return co->addr - (co->slot % t->chunk_entries) * t->entry_size;
}

/* Entries are in directory order, each chunk's contiguous: one pass over
 * the runs.  Returns the new count of corrupt entries. */
static size_t cut_corrupt_chunks(cc_table *t, size_t bad)
{
    size_t w = 0, i = 0;
    while (i < t->ncos) {
        uint64_t base = chunk_base(t, &t->cos[i]);
        size_t j = i, nbad = 0, seen = 0;
        for (; j < t->ncos && chunk_base(t, &t->cos[j]) == base; j++)
            nbad += t->cos[j].unreadable != CC_OK;
        uint64_t first_slot = t->cos[i].slot;   /* always kept */
        for (size_t k = i; k < j; k++) {
            if (t->cos[k].unreadable != CC_OK && nbad > CHUNK_BAD_MAX &&
                ++seen > CHUNK_BAD_MAX)
                continue;
            t->cos[w++] = t->cos[k];
        }
        if (nbad > CHUNK_BAD_MAX) {
            WARN(t, "chunk %llu at 0x%llx: %zu corrupt entries (a wrong chunk "
                 "pointer?): only the first %d listed",
                 (unsigned long long)(first_slot / t->chunk_entries),
                 (unsigned long long)base, nbad, CHUNK_BAD_MAX);
            bad -= nbad - CHUNK_BAD_MAX;
        }
        i = j;
    }
    t->ncos = w;
    return bad;
}

/* decode._check_table */
static void check_table(cc_table *t)
{
    int increasing = 1;
    for (size_t i = 1; i < t->ncos; i++)
        if (t->cos[i].id <= t->cos[i - 1].id) {
            increasing = 0;
            break;
        }
    if (!increasing) {
        /* (id, first slot index) pairs, sorted by id then order */
        uint64_t *ids = malloc(2 * t->ncos * sizeof *ids);
        if (ids) {
            for (size_t i = 0; i < t->ncos; i++) {
                ids[2 * i] = t->cos[i].id;
                ids[2 * i + 1] = i;
            }
            /* sort pairs by id then index */
            qsort(ids, t->ncos, 2 * sizeof *ids, cc_cmp_pair);
            for (size_t i = 1; i < t->ncos; i++) {
                if (ids[2 * i] != ids[2 * i - 2])
                    continue;
                /* first of this id */
                size_t j = i;
                while (j > 0 && ids[2 * j - 2] == ids[2 * i])
                    j--;
                cc_coroutine *first = &t->cos[ids[2 * j + 1]];
                cc_coroutine *co = &t->cos[ids[2 * i + 1]];
                co->unreadable = CC_DUPLICATE_ID;
                snprintf(co->note, sizeof co->note, "id %llu also in slot %llu",
                         (unsigned long long)co->id,
                         (unsigned long long)first->slot);
            }
            free(ids);
        }
    }
    size_t bad = 0;
    for (size_t i = 0; i < t->ncos; i++)
        bad += t->cos[i].unreadable != CC_OK;
    if (bad > CHUNK_BAD_MAX)
        bad = cut_corrupt_chunks(t, bad);
    if (t->has_live_count && !t->mid_update && t->live_count != t->ncos)
        WARN(t, "live_count %llu disagrees with the %zu live entries found",
             (unsigned long long)t->live_count, t->ncos);
    if (bad)
        WARN(t, "%zu entr%s could not be fully read (marked '?')", bad,
             bad == 1 ? "y" : "ies");
}

int cc_cmp_pair(const void *a, const void *b)
{
    int c = cmp_u64(a, b);
    return c ? c : cmp_u64((const uint64_t *)a + 1, (const uint64_t *)b + 1);
}

/* decode._decode_table after the descriptor. */
static void entries(cc_reader *r, cc_table *t, const struct layout *L)
{
    uint64_t esize = t->entry_size, per = t->chunk_entries,
             nchunks = t->nchunks, dir = t->chunk_dir;
    if (nchunks == 0)
        return;
    if (!(per >= 1 && per <= MAX_COROUTINES) || per * esize > MAX_READ) {
        WARN(t, "chunk_entries %llu is implausible: no entries read",
             (unsigned long long)per);
        return;
    }
    uint64_t limit = MAX_COROUTINES / per;
    if (nchunks > limit) {
        WARN(t, "nchunks %llu exceeds the table maximum (%llu): reading the "
             "first %llu", (unsigned long long)nchunks,
             (unsigned long long)limit, (unsigned long long)limit);
        nchunks = limit;
    }
    if (dir == 0 || dir % 8) {
        WARN(t, "chunk directory pointer 0x%llx is invalid: no entries read",
             (unsigned long long)dir);
        return;
    }
    uint8_t *raw = malloc(8 * nchunks);
    uint8_t *chunk = malloc(per * esize);
    /* accepted chunk addresses -> their index: an open-addressing set,
     * so a corrupt directory of 500k pointers stays linear */
    size_t hcap = 16;
    while (hcap < 2 * nchunks)
        hcap *= 2;
    uint64_t *seen = calloc(hcap, 2 * sizeof *seen);
    if (!raw || !chunk || !seen)
        goto out;
    if (cc_read(r, dir, raw, 8 * nchunks)) {
        uint64_t ok = 0;
        while (ok < nchunks && !cc_read(r, dir + 8 * ok, raw + 8 * ok, 8))
            ok++;
        if (!ok) {
            WARN(t, "chunk directory at 0x%llx (%llu chunks) is unreadable: "
                 "no entries read", (unsigned long long)dir,
                 (unsigned long long)nchunks);
            goto out;
        }
        WARN(t, "chunk directory at 0x%llx is readable for %llu of %llu "
             "chunks", (unsigned long long)dir, (unsigned long long)ok,
             (unsigned long long)nchunks);
        nchunks = ok;
    }
    uint64_t chunk_bytes = per * esize, desc_end = t->addr + t->desc_size;
    /* room for the live coroutines the descriptor announces, within what
     * the chunks can hold (a corrupt count only costs regrowth) */
    if (t->has_live_count && t->live_count <= nchunks * per &&
        t->live_count < MAX_COROUTINES) {
        cc_coroutine *pre = cc_big_alloc((t->live_count + 1) * sizeof *pre,
                                         0);
        if (pre) {
            t->cos = pre;
            t->cap = t->live_count + 1;
        }
    }
    for (uint64_t ci = 0; ci < nchunks; ci++) {
        uint64_t base = get_uint(raw + 8 * ci, 8, t->big_endian);
        if (base == 0) {
            WARN(t, "chunk %llu: null pointer: skipped", (unsigned long long)ci);
            continue;
        }
        size_t h = (size_t)((base * 0x9e3779b97f4a7c15ull) >> 17) & (hcap - 1);
        while (seen[2 * h] && seen[2 * h] != base)
            h = (h + 1) & (hcap - 1);
        if (seen[2 * h] == base) {
            WARN(t, "chunk %llu repeats chunk %llu at 0x%llx (cycle): skipped",
                 (unsigned long long)ci, (unsigned long long)seen[2 * h + 1],
                 (unsigned long long)base);
            continue;
        }
        if (base % 8 || (base < desc_end && base + chunk_bytes > t->addr) ||
            (base < dir + 8 * nchunks && base + chunk_bytes > dir)) {
            WARN(t, "chunk %llu: pointer 0x%llx overlaps the descriptor or is "
                 "misaligned: skipped", (unsigned long long)ci,
                 (unsigned long long)base);
            continue;
        }
        seen[2 * h] = base;           /* Python records accepted chunks */
        seen[2 * h + 1] = ci;
        if (cc_read(r, base, chunk, chunk_bytes)) {
            WARN(t, "chunk %llu at 0x%llx is unreadable: its %llu slots are "
                 "missing", (unsigned long long)ci, (unsigned long long)base,
                 (unsigned long long)per);
            continue;
        }
        for (uint64_t k = 0; k < per; k++) {
            cc_coroutine co;
            if (!entry(t, L, chunk + k * esize, &co))
                continue;
            co.slot = ci * per + k;
            co.addr = base + k * esize;
            if (r->live && co.unreadable == CC_MID_UPDATE)
                retry_torn(r, t, L, chunk + k * esize, &co);
            if (t->tally) {
                tally(t->tally, &co);
                continue;
            }
            if (push(t, &co))
                goto out;
        }
    }
    /* decode._decode_table: registers of block and frame entries, then
     * the table checks (regs.resolve skips '?' entries) */
    for (size_t i = 0; i < t->ncos; i++)
        cc_regs_resolve(r, t, &t->cos[i]);
    if (!t->tally)
        check_table(t);
out:
    free(raw);
    free(chunk);
    free(seen);
}

static void table_reset(cc_table *t)
{
    free(t->layout);
    free(t->runtime_code);
    cc_runtime_rule_free(t->runtime);
    for (size_t i = 0; i < t->nwarnings; i++)
        free(t->warnings[i]);
    free(t->warnings);
    free(t->cos);
    uint64_t addr = t->addr;
    cc_counts *counts = t->tally;
    memset(t, 0, sizeof *t);
    t->addr = addr;
    if ((t->tally = counts))
        memset(counts, 0, sizeof *counts);
}

static cc_table *table_read(cc_reader *r, uint64_t addr, cc_counts *counts,
                            char *err)
{
    cc_table *t = calloc(1, sizeof *t);
    uint8_t *desc = malloc(MAX_DESC_SIZE);
    struct layout *L = malloc(sizeof *L);
    if (!t || !desc || !L) {
        snprintf(err, CC_ERRLEN, "out of memory");
        goto fail;
    }
    t->tally = counts;
    for (int attempt = 0;; attempt++) {
        table_reset(t);
        t->addr = addr;
        if (descriptor(r, t, L, desc, err))
            goto fail;
        entries(r, t, L);
        if (!r->live || attempt == GEN_RETRIES)
            break;
        /* live: the same even generation after the read means no slot was
         * allocated or freed meanwhile */
        uint8_t g[8];
        const struct field *f = &L->d[CORODBG_DF_GENERATION];
        if (!L->dkeep[CORODBG_DF_GENERATION] ||
            cc_read(r, addr + f->off, g, f->size))
            break;
        uint64_t now = get_uint(g, f->size, L->be);
        if (now == t->generation && !(now & 1))
            break;
    }
    t->layout = L;
    L = NULL;
    if (!(t->runtime = cc_runtime_rule_new(t))) {
        snprintf(err, CC_ERRLEN, "out of memory");
        goto fail;
    }
    if (t->mid_update)
        WARN(t, "the table was being updated when the program stopped "
             "(generation %llu is odd): the listing may be inconsistent",
             (unsigned long long)t->generation);
    free(desc);
    free(L);
    return t;
fail:
    free(desc);
    free(L);
    cc_table_free(t);
    return NULL;
}

cc_table *cc_table_read(cc_reader *r, uint64_t addr, char *err)
{
    return table_read(r, addr, NULL, err);
}

cc_table *cc_table_count(cc_reader *r, uint64_t addr, cc_counts *counts,
                         char *err)
{
    cc_table *t = table_read(r, addr, counts, err);
    if (t)
        t->tally = NULL;        /* the caller's, not the table's */
    return t;
}

int cc_entry_reread(cc_reader *r, const cc_table *t, cc_coroutine *co)
{
    const struct layout *L = t->layout;
    uint8_t buf[MAX_ENTRY_SIZE];
    cc_coroutine again;
    if (!L || cc_read(r, co->addr, buf, t->entry_size))
        return -1;
    if (!entry(t, L, buf, &again))
        return 0;
    again.slot = co->slot;
    again.addr = co->addr;
    cc_regs_resolve(r, t, &again);     /* decode.read_entry */
    *co = again;
    return 1;
}

void cc_table_free(cc_table *t)
{
    if (!t)
        return;
    table_reset(t);
    free(t);
}

#define CC__STATE(n, v, s) [v] = s,
static const char *const state_names[] = {CORODBG_STATES(CC__STATE)};
#define CC__WAIT(n, v, s) [v] = s,
static const char *const wait_names[] = {CORODBG_WAITS(CC__WAIT)};

const char *cc_state_name(uint32_t state)
{
    static __thread char buf[32];
    if (state < sizeof state_names / sizeof *state_names)
        return state_names[state];
    snprintf(buf, sizeof buf, "state-%u", state);
    return buf;
}

const char *cc_wait_name(const cc_coroutine *co)
{
    static __thread char buf[32];
    if (co->state != CORODBG_BLOCKED)
        return "";
    if (co->wait_reason < sizeof wait_names / sizeof *wait_names)
        return wait_names[co->wait_reason];
    snprintf(buf, sizeof buf, "wait-%u", co->wait_reason);
    return buf;
}

const char *cc_unreadable_name(enum cc_unreadable u)
{
    switch (u) {
    case CC_BAD_STATE: return "bad-state";
    case CC_MID_UPDATE: return "mid-update";
    case CC_BAD_NAME: return "bad-name";
    case CC_BAD_STACK: return "bad-stack";
    case CC_DUPLICATE_ID: return "duplicate-id";
    case CC_BAD_REGS: return "bad-regs";
    case CC_UNKNOWN_THREAD: return "unknown-thread";
    default: return "";
    }
}
