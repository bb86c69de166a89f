/*
 * pprof.c - decode, check, edit and encode pprof profiles.
 *
 * The protobuf-c decoder allocates from a per-profile arena (its free is a
 * no-op), so arrays inside the decoded message can be replaced by arena
 * memory while editing, and pprof_free drops everything at once.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pprof.h"

size_t pprof_max_bytes = PPROF_MAX_BYTES;

/* ---- arena ---- */

struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    max_align_t data[];
};

struct pprof_arena {
    struct arena_block *head;
    int failed;           /* 1: out of memory, 2: over budget */
    size_t total, budget; /* bytes handed out; limit while decoding */
};

#define ARENA_BLOCK (64 * 1024)

static void *arena_alloc(struct pprof_arena *a, size_t size)
{
    struct arena_block *b = a->head;
    size_t al = (size + 15) & ~(size_t)15;

    if (al < size)
        return NULL;
    if (a->budget && al > a->budget - a->total) {
        a->failed = 2;
        return NULL;
    }
    a->total += al;
    if (!b || b->cap - b->used < al) {
        size_t cap = al > ARENA_BLOCK / 2 ? al : ARENA_BLOCK;
        struct arena_block *nb = malloc(sizeof *nb + cap);
        if (!nb) {
            a->failed = 1;
            return NULL;
        }
        nb->used = 0;
        nb->cap = cap;
        if (b && al > ARENA_BLOCK / 2) {
            /* big block: keep the current one for small allocations */
            nb->next = b->next;
            b->next = nb;
        } else {
            nb->next = b;
            a->head = nb;
        }
        b = nb;
    }
    {
        void *p = (char *)b->data + b->used;
        b->used += al;
        memset(p, 0, size);
        return p;
    }
}

static void *pb_alloc(void *data, size_t size)
{
    return arena_alloc(data, size);
}

static void pb_free(void *data, void *p)
{
    (void)data;
    (void)p;
}

void *pprof_alloc(struct pprof *pr, size_t size)
{
    return arena_alloc(pr->arena, size);
}

/* ---- id and string indexes (open addressing, built lazily) ---- */

struct idx {
    uint64_t *keys;   /* key 0 = empty slot (ids are nonzero) */
    void **vals;
    size_t cap, n;
};

struct pprof_index {
    struct idx mappings, locations, functions;
    int built;
    /* string -> index */
    char **skeys;
    int64_t *svals;
    size_t scap, sn;
    /* function tuple -> id */
    int64_t (*fkeys)[4];
    uint64_t *fvals;
    size_t fcap, fn;
    uint64_t next_fid;
    size_t string_cap, function_cap; /* capacities of arena arrays */
    int dense_map, dense_loc, dense_fn; /* ids are 1..N in array order */
};

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static int idx_put(struct idx *t, uint64_t key, void *val)
{
    size_t i;

    if ((t->n + 1) * 2 > t->cap) {
        size_t ncap = t->cap ? t->cap * 2 : 64, j;
        uint64_t *nk = calloc(ncap, sizeof *nk);
        void **nv = calloc(ncap, sizeof *nv);
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return -1;
        }
        for (j = 0; j < t->cap; j++) {
            if (!t->keys[j])
                continue;
            i = mix64(t->keys[j]) & (ncap - 1);
            while (nk[i])
                i = (i + 1) & (ncap - 1);
            nk[i] = t->keys[j];
            nv[i] = t->vals[j];
        }
        free(t->keys);
        free(t->vals);
        t->keys = nk;
        t->vals = nv;
        t->cap = ncap;
    }
    i = mix64(key) & (t->cap - 1);
    while (t->keys[i]) {
        if (t->keys[i] == key)
            return 1; /* duplicate */
        i = (i + 1) & (t->cap - 1);
    }
    t->keys[i] = key;
    t->vals[i] = val;
    t->n++;
    return 0;
}

static void *idx_get(const struct idx *t, uint64_t key)
{
    size_t i;

    if (!t->cap || !key)
        return NULL;
    i = mix64(key) & (t->cap - 1);
    while (t->keys[i]) {
        if (t->keys[i] == key)
            return t->vals[i];
        i = (i + 1) & (t->cap - 1);
    }
    return NULL;
}

/* The id hashes map an id to its array index + 1 (0 is "absent"). */
#define SLOT(i) ((void *)(uintptr_t)((i) + 1))
#define UNSLOT(v) ((size_t)(uintptr_t)(v) - 1)

static void idx_free(struct idx *t)
{
    free(t->keys);
    free(t->vals);
    memset(t, 0, sizeof *t);
}

/* The index hangs off the arena struct so struct pprof stays small. */
struct pprof_arena_with_index {
    struct pprof_arena arena;
    struct pprof_index index;
};

static struct pprof_index *IX(const struct pprof *pr)
{
    return &((struct pprof_arena_with_index *)pr->arena)->index;
}

static void index_free(struct pprof_index *ix)
{
    idx_free(&ix->mappings);
    idx_free(&ix->locations);
    idx_free(&ix->functions);
    free(ix->skeys);
    free(ix->svals);
    free(ix->fkeys);
    free(ix->fvals);
}

/* Builds the id indexes; returns a PPROF_E_* code with ERR set. */
static int index_build(const struct pprof *pr, char *err, size_t errlen)
{
    struct pprof_index *ix = IX(pr);
    const PprofProfile *p = pr->p;
    size_t i;
    int r, dense;

    if (ix->built)
        return PPROF_OK;
    /* Ids 1..N in order need no hash (and cannot repeat). */
#define DENSE(arr, n, yes)                                                 \
    do {                                                                   \
        size_t k_;                                                         \
        yes = 1;                                                           \
        for (k_ = 0; k_ < (n) && yes; k_++)                                \
            yes = (arr)[k_]->id == k_ + 1;                                 \
    } while (0)
    DENSE(p->mapping, p->n_mapping, dense);
    ix->dense_map = dense;
    for (i = 0; !dense && i < p->n_mapping; i++) {
        if (!p->mapping[i]->id) {
            snprintf(err, errlen, "invalid profile: mapping #%zu has id 0", i);
            return PPROF_E_INVALID;
        }
        r = idx_put(&ix->mappings, p->mapping[i]->id, SLOT(i));
        if (r) {
            snprintf(err, errlen, r < 0 ? "out of memory"
                     : "invalid profile: duplicate mapping id %llu",
                     (unsigned long long)p->mapping[i]->id);
            return r < 0 ? PPROF_E_NOMEM : PPROF_E_INVALID;
        }
    }
    DENSE(p->location, p->n_location, dense);
    ix->dense_loc = dense;
    for (i = 0; !dense && i < p->n_location; i++) {
        if (!p->location[i]->id) {
            snprintf(err, errlen, "invalid profile: location #%zu has id 0", i);
            return PPROF_E_INVALID;
        }
        r = idx_put(&ix->locations, p->location[i]->id, SLOT(i));
        if (r) {
            snprintf(err, errlen, r < 0 ? "out of memory"
                     : "invalid profile: duplicate location id %llu",
                     (unsigned long long)p->location[i]->id);
            return r < 0 ? PPROF_E_NOMEM : PPROF_E_INVALID;
        }
    }
    ix->next_fid = p->n_function + 1;
    DENSE(p->function, p->n_function, dense);
    ix->dense_fn = dense;
#undef DENSE
    for (i = 0; !dense && i < p->n_function; i++) {
        uint64_t id = p->function[i]->id;
        if (!id) {
            snprintf(err, errlen, "invalid profile: function #%zu has id 0", i);
            return PPROF_E_INVALID;
        }
        r = idx_put(&ix->functions, id, SLOT(i));
        if (r) {
            snprintf(err, errlen, r < 0 ? "out of memory"
                     : "invalid profile: duplicate function id %llu",
                     (unsigned long long)id);
            return r < 0 ? PPROF_E_NOMEM : PPROF_E_INVALID;
        }
        if (id >= ix->next_fid)
            ix->next_fid = id + 1;
    }
    ix->built = 1;
    return PPROF_OK;
}

/* Writers usually number ids 1..N in order: try the array slot first and
   fall back to the hash only when that guess is wrong (fewer cache misses
   on big profiles, and no hash at all for dense ids). */
#define BY_ID(arr, n, table, dense)                                         \
    do {                                                                   \
        void *v_;                                                          \
        if (id >= 1 && id <= (n) &&                                        \
            (IX(pr)->dense || (arr)[id - 1]->id == id))                    \
            return (arr)[id - 1];                                          \
        v_ = idx_get(&IX(pr)->table, id);                                  \
        return v_ ? (arr)[UNSLOT(v_)] : NULL;                              \
    } while (0)

PprofMapping *pprof_mapping_by_id(const struct pprof *pr, uint64_t id)
{
    BY_ID(pr->p->mapping, pr->p->n_mapping, mappings, dense_map);
}

PprofLocation *pprof_location_by_id(const struct pprof *pr, uint64_t id)
{
    BY_ID(pr->p->location, pr->p->n_location, locations, dense_loc);
}

PprofFunction *pprof_function_by_id(const struct pprof *pr, uint64_t id)
{
    BY_ID(pr->p->function, pr->p->n_function, functions, dense_fn);
}

long pprof_location_index(const struct pprof *pr, uint64_t id)
{
    const PprofProfile *p = pr->p;
    void *v;

    if (id >= 1 && id <= p->n_location &&
        (IX(pr)->dense_loc || p->location[id - 1]->id == id))
        return (long)(id - 1);
    v = idx_get(&IX(pr)->locations, id);
    return v ? (long)UNSLOT(v) : -1;
}

const char *pprof_str(const struct pprof *pr, int64_t i)
{
    if (i < 0 || (uint64_t)i >= pr->p->n_string_table)
        return "";
    return pr->p->string_table[i] ? pr->p->string_table[i] : "";
}

/* ---- checking ---- */

#define CHECK_STR(v, what, ...)                                              \
    do {                                                                     \
        if ((v) < 0 || (uint64_t)(v) >= ns) {                                \
            snprintf(err, errlen,                                            \
                     "invalid profile: " what " string index %lld out of "  \
                     "range (%zu strings)", __VA_ARGS__, (long long)(v), ns); \
            return PPROF_E_INVALID;                                          \
        }                                                                    \
    } while (0)

int pprof_check(const struct pprof *pr, char *err, size_t errlen)
{
    const PprofProfile *p = pr->p;
    size_t ns = p->n_string_table, i, j;
    int rc;

    if (ns == 0 || !p->string_table[0] || p->string_table[0][0] != '\0') {
        /* An empty message is a valid empty profile only with no strings. */
        if (!(ns == 0 && p->n_sample == 0 && p->n_mapping == 0 &&
              p->n_location == 0 && p->n_function == 0 &&
              p->n_sample_type == 0)) {
            snprintf(err, errlen,
                     "invalid profile: string_table[0] must be \"\"");
            return PPROF_E_INVALID;
        }
    }
    if (ns == 0)
        ns = 1; /* index 0 is the implicit "" */
    rc = index_build(pr, err, errlen);
    if (rc)
        return rc;
    for (i = 0; i < p->n_sample_type; i++) {
        CHECK_STR(p->sample_type[i]->type, "sample_type[%zu].type", i);
        CHECK_STR(p->sample_type[i]->unit, "sample_type[%zu].unit", i);
    }
    if (p->period_type) {
        CHECK_STR(p->period_type->type, "period_type.type%s", "");
        CHECK_STR(p->period_type->unit, "period_type.unit%s", "");
    }
    CHECK_STR(p->drop_frames, "drop_frames%s", "");
    CHECK_STR(p->keep_frames, "keep_frames%s", "");
    CHECK_STR(p->default_sample_type, "default_sample_type%s", "");
    CHECK_STR(p->doc_url, "doc_url%s", "");
    for (i = 0; i < p->n_comment; i++)
        CHECK_STR(p->comment[i], "comment[%zu]", i);
    for (i = 0; i < p->n_mapping; i++) {
        CHECK_STR(p->mapping[i]->filename, "mapping %llu filename",
                  (unsigned long long)p->mapping[i]->id);
        CHECK_STR(p->mapping[i]->build_id, "mapping %llu build_id",
                  (unsigned long long)p->mapping[i]->id);
    }
    for (i = 0; i < p->n_function; i++) {
        const PprofFunction *f = p->function[i];
        CHECK_STR(f->name, "function %llu name", (unsigned long long)f->id);
        CHECK_STR(f->system_name, "function %llu system_name",
                  (unsigned long long)f->id);
        CHECK_STR(f->filename, "function %llu filename",
                  (unsigned long long)f->id);
    }
    for (i = 0; i < p->n_location; i++) {
        const PprofLocation *l = p->location[i];
        if (l->mapping_id && !pprof_mapping_by_id(pr, l->mapping_id)) {
            snprintf(err, errlen,
                     "invalid profile: location %llu refers to missing "
                     "mapping %llu", (unsigned long long)l->id,
                     (unsigned long long)l->mapping_id);
            return PPROF_E_INVALID;
        }
        for (j = 0; j < l->n_line; j++) {
            uint64_t fid = l->line[j]->function_id;
            if (fid && !pprof_function_by_id(pr, fid)) {
                snprintf(err, errlen,
                         "invalid profile: location %llu line %zu refers to "
                         "missing function %llu", (unsigned long long)l->id,
                         j, (unsigned long long)fid);
                return PPROF_E_INVALID;
            }
        }
    }
    for (i = 0; i < p->n_sample; i++) {
        const PprofSample *s = p->sample[i];
        if (p->n_sample_type && s->n_value != p->n_sample_type) {
            snprintf(err, errlen,
                     "invalid profile: sample %zu has %zu values, expected "
                     "%zu", i, s->n_value, p->n_sample_type);
            return PPROF_E_INVALID;
        }
        for (j = 0; j < s->n_location_id; j++) {
            if (!pprof_location_by_id(pr, s->location_id[j])) {
                snprintf(err, errlen,
                         "invalid profile: sample %zu refers to missing "
                         "location %llu", i,
                         (unsigned long long)s->location_id[j]);
                return PPROF_E_INVALID;
            }
        }
        for (j = 0; j < s->n_label; j++) {
            CHECK_STR(s->label[j]->key, "sample %zu label key", i);
            CHECK_STR(s->label[j]->str, "sample %zu label str", i);
            CHECK_STR(s->label[j]->num_unit, "sample %zu label unit", i);
        }
    }
    return PPROF_OK;
}

/* ---- decode / encode ---- */

const char *pprof_strerror(int code)
{
    switch (code) {
    case PPROF_OK: return "success";
    case PPROF_E_IO: return "I/O error";
    case PPROF_E_GZIP: return "corrupt gzip stream";
    case PPROF_E_TRUNC: return "truncated gzip stream";
    case PPROF_E_PROTO: return "not a pprof profile (protobuf decoding failed)";
    case PPROF_E_INVALID: return "invalid pprof profile";
    case PPROF_E_TOOBIG: return "profile too large";
    case PPROF_E_NOMEM: return "out of memory";
    }
    return "unknown error";
}

static struct pprof *pprof_new(void)
{
    struct pprof *pr = calloc(1, sizeof *pr);
    struct pprof_arena_with_index *a = calloc(1, sizeof *a);

    if (!pr || !a) {
        free(pr);
        free(a);
        return NULL;
    }
    pr->arena = &a->arena;
    return pr;
}

void pprof_free(struct pprof *pr)
{
    if (!pr)
        return;
    if (pr->arena) {
        struct pprof_arena_with_index *a =
            (struct pprof_arena_with_index *)pr->arena;
        index_free(&a->index);
        {
            struct arena_block *b, *n;
            for (b = a->arena.head; b; b = n) {
                n = b->next;
                free(b);
            }
        }
        free(a);
    }
    free(pr);
}

/*
 * protobuf-c keeps unknown fields and writes them back, which we want
 * (fields newer than our .proto survive).  But it accepts field number 0
 * in a long varint key and then writes a key it cannot read back, so such
 * input is refused here as corrupt.
 */
static int bad_unknown(const ProtobufCMessage *m)
{
    unsigned i;

    if (!m)
        return 0;
    for (i = 0; i < m->n_unknown_fields; i++)
        if (m->unknown_fields[i].tag == 0)
            return 1;
    return 0;
}

static int check_unknown(const PprofProfile *p)
{
    size_t i, j;

    if (bad_unknown(&p->base) ||
        (p->period_type && bad_unknown(&p->period_type->base)))
        return -1;
    for (i = 0; i < p->n_sample_type; i++)
        if (bad_unknown(&p->sample_type[i]->base))
            return -1;
    for (i = 0; i < p->n_sample; i++) {
        if (bad_unknown(&p->sample[i]->base))
            return -1;
        for (j = 0; j < p->sample[i]->n_label; j++)
            if (bad_unknown(&p->sample[i]->label[j]->base))
                return -1;
    }
    for (i = 0; i < p->n_mapping; i++)
        if (bad_unknown(&p->mapping[i]->base))
            return -1;
    for (i = 0; i < p->n_location; i++) {
        if (bad_unknown(&p->location[i]->base))
            return -1;
        for (j = 0; j < p->location[i]->n_line; j++)
            if (bad_unknown(&p->location[i]->line[j]->base))
                return -1;
    }
    for (i = 0; i < p->n_function; i++)
        if (bad_unknown(&p->function[i]->base))
            return -1;
    return 0;
}

/* What decoding MSG will at least allocate for its top-level repeated
   fields (one struct and one pointer per element, a string's bytes), by a
   scan of the wire format that allocates nothing.  A flood of empty
   elements is refused from this before the decoder allocates anything;
   the arena budget catches what is nested deeper.  Malformed wire data
   ends the scan (the decoder then reports it). */
static size_t decode_estimate(const uint8_t *msg, size_t len)
{
    static const size_t elem[] = {
        [1] = sizeof(Perftools__Profiles__ValueType), [2] = sizeof(PprofSample),
        [3] = sizeof(PprofMapping), [4] = sizeof(PprofLocation),
        [5] = sizeof(PprofFunction), [6] = 16,
    };
    size_t i = 0, total = 0;
    while (i < len) {
        uint64_t key = 0, n = 0;
        unsigned sh;
        for (sh = 0; i < len && sh < 64; sh += 7) {
            key |= (uint64_t)(msg[i] & 0x7f) << sh;
            if (!(msg[i++] & 0x80))
                break;
        }
        switch (key & 7) {
        case 0: /* varint */
            while (i < len && (msg[i++] & 0x80))
                ;
            continue;
        case 1: i += 8; continue;
        case 5: i += 4; continue;
        case 2: break;
        default: return total;
        }
        for (sh = 0; i < len && sh < 64; sh += 7) {
            n |= (uint64_t)(msg[i] & 0x7f) << sh;
            if (!(msg[i++] & 0x80))
                break;
        }
        if (n > len - i)
            return total;
        i += (size_t)n;
        if ((key >> 3) >= 1 && (key >> 3) <= 6)
            total += elem[key >> 3] + sizeof(void *) +
                     ((key >> 3) == 6 ? (size_t)n : 0);
    }
    return total;
}

/* The arena budget for decoding a MSGLEN-byte message (pprof.h). */
static size_t decode_budget(size_t msglen)
{
    size_t cap = pprof_max_bytes * 2, b = PPROF_DECODE_SLACK;
    if (msglen < (cap - b) / PPROF_DECODE_PER_BYTE)
        b += msglen * PPROF_DECODE_PER_BYTE;
    else
        b = cap;
    return b < cap ? b : cap;
}

int pprof_decode(const uint8_t *buf, size_t len, struct pprof **out,
                 char *err, size_t errlen)
{
    struct pprof *pr = NULL;
    uint8_t *plain = NULL;
    const uint8_t *msg = buf;
    size_t msglen = len;
    ProtobufCAllocator alloc;
    size_t budget;
    int rc;

    *out = NULL;
    if (len >= 2 && buf[0] == 0x1f && buf[1] == 0x8b) {
        rc = pprof_gunzip(buf, len, &plain, &msglen, pprof_max_bytes, err,
                          errlen);
        if (rc)
            return rc;
        msg = plain;
    } else if (len > pprof_max_bytes) {
        snprintf(err, errlen, "profile exceeds %zu bytes", pprof_max_bytes);
        return PPROF_E_TOOBIG;
    }
    pr = pprof_new();
    if (!pr) {
        free(plain);
        snprintf(err, errlen, "out of memory");
        return PPROF_E_NOMEM;
    }
    alloc.alloc = pb_alloc;
    alloc.free = pb_free;
    alloc.allocator_data = pr->arena;
    budget = pr->arena->budget = decode_budget(msglen);
    if (decode_estimate(msg, msglen) > budget)
        pr->arena->failed = 2;
    else
        pr->p = perftools__profiles__profile__unpack(&alloc, msglen, msg);
    pr->arena->budget = 0; /* edits after decoding are ours: unbounded */
    free(plain);
    if (!pr->p) {
        rc = pr->arena->failed == 2 ? PPROF_E_TOOBIG :
             pr->arena->failed ? PPROF_E_NOMEM : PPROF_E_PROTO;
        if (rc == PPROF_E_TOOBIG)
            snprintf(err, errlen,
                     "profile decodes to more than %zu bytes (%zu-byte "
                     "message): refused as a decompression bomb",
                     budget, msglen);
        else if (rc == PPROF_E_NOMEM)
            snprintf(err, errlen, "out of memory decoding the profile");
        else
            snprintf(err, errlen,
                     "not a pprof profile: protobuf decoding failed "
                     "(%zu %s bytes)", msglen,
                     msg == buf ? "raw" : "gunzipped");
        pprof_free(pr);
        return rc;
    }
    if (check_unknown(pr->p)) {
        snprintf(err, errlen,
                 "not a pprof profile: protobuf field number 0");
        pprof_free(pr);
        return PPROF_E_PROTO;
    }
    rc = pprof_check(pr, err, errlen);
    if (rc) {
        pprof_free(pr);
        return rc;
    }
    *out = pr;
    return PPROF_OK;
}

int pprof_read_file(const char *path, struct pprof **out, char *err,
                    size_t errlen)
{
    FILE *f;
    uint8_t *buf = NULL;
    size_t cap = 0, len = 0, n;
    int rc;

    *out = NULL;
    f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return PPROF_E_IO;
    }
    for (;;) {
        if (len == cap) {
            size_t ncap = cap ? cap * 2 : 1 << 16;
            uint8_t *nb;
            if (cap > pprof_max_bytes) {
                snprintf(err, errlen, "%s: larger than %zu bytes", path,
                         pprof_max_bytes);
                rc = PPROF_E_TOOBIG;
                goto fail;
            }
            nb = realloc(buf, ncap);
            if (!nb) {
                snprintf(err, errlen, "%s: out of memory", path);
                rc = PPROF_E_NOMEM;
                goto fail;
            }
            buf = nb;
            cap = ncap;
        }
        n = fread(buf + len, 1, cap - len, f);
        len += n;
        if (n == 0) {
            if (ferror(f)) {
                snprintf(err, errlen, "%s: %s", path, strerror(errno));
                rc = PPROF_E_IO;
                goto fail;
            }
            break;
        }
    }
    if (f != stdin)
        fclose(f);
    f = NULL;
    if (len == 0) {
        free(buf);
        snprintf(err, errlen, "%s: empty file, not a pprof profile", path);
        return PPROF_E_PROTO;
    }
    rc = pprof_decode(buf, len, out, err, errlen);
    free(buf);
    if (rc) {
        /* prefix the path */
        char tmp[PPROF_ERRLEN];
        snprintf(tmp, sizeof tmp, "%s", err);
        snprintf(err, errlen, "%s: %s", path, tmp);
    }
    return rc;
fail:
    if (f && f != stdin)
        fclose(f);
    free(buf);
    return rc;
}

int pprof_encode(const struct pprof *pr, int gzip, uint8_t **out,
                 size_t *outlen, char *err, size_t errlen)
{
    size_t n = perftools__profiles__profile__get_packed_size(pr->p);
    uint8_t *buf = malloc(n ? n : 1);
    int rc;

    *out = NULL;
    *outlen = 0;
    if (!buf) {
        snprintf(err, errlen, "out of memory encoding the profile");
        return PPROF_E_NOMEM;
    }
    perftools__profiles__profile__pack(pr->p, buf);
    if (!gzip) {
        *out = buf;
        *outlen = n;
        return PPROF_OK;
    }
    rc = pprof_gzip(buf, n, out, outlen, err, errlen);
    free(buf);
    return rc;
}

int pprof_write_file(const struct pprof *pr, const char *path, int gzip,
                     char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    int rc = pprof_encode(pr, gzip, &buf, &len, err, errlen);
    char *tmp = NULL;
    FILE *f;

    if (rc)
        return rc;
    if (strcmp(path, "-") == 0) {
        f = stdout;
    } else {
        size_t tl = strlen(path) + 32;
        tmp = malloc(tl);
        if (!tmp) {
            free(buf);
            snprintf(err, errlen, "out of memory");
            return PPROF_E_NOMEM;
        }
        snprintf(tmp, tl, "%s.tmp.%ld", path, (long)getpid());
        f = fopen(tmp, "wb");
        if (!f) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            free(tmp);
            free(buf);
            return PPROF_E_IO;
        }
    }
    if (fwrite(buf, 1, len, f) != len || fflush(f) != 0) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = PPROF_E_IO;
    }
    if (f != stdout && fclose(f) != 0 && !rc) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        rc = PPROF_E_IO;
    }
    if (tmp) {
        if (!rc && rename(tmp, path) != 0) {
            snprintf(err, errlen, "%s: %s", path, strerror(errno));
            rc = PPROF_E_IO;
        }
        if (rc)
            unlink(tmp);
        free(tmp);
    }
    free(buf);
    return rc;
}

/* ---- editing ---- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static int strmap_grow(struct pprof_index *ix)
{
    size_t ncap = ix->scap ? ix->scap * 2 : 1024, j;
    char **nk = calloc(ncap, sizeof *nk);
    int64_t *nv = calloc(ncap, sizeof *nv);

    if (!nk || !nv) {
        free(nk);
        free(nv);
        return -1;
    }
    for (j = 0; j < ix->scap; j++) {
        size_t i;
        if (!ix->skeys[j])
            continue;
        i = hash_str(ix->skeys[j]) & (ncap - 1);
        while (nk[i])
            i = (i + 1) & (ncap - 1);
        nk[i] = ix->skeys[j];
        nv[i] = ix->svals[j];
    }
    free(ix->skeys);
    free(ix->svals);
    ix->skeys = nk;
    ix->svals = nv;
    ix->scap = ncap;
    return 0;
}

/* Looks up S; inserts it with value V when absent and V >= 0. */
static int64_t strmap_find(struct pprof_index *ix, char *s, int64_t v)
{
    size_t i;

    if ((ix->sn + 1) * 2 > ix->scap && strmap_grow(ix))
        return -2;
    i = hash_str(s) & (ix->scap - 1);
    while (ix->skeys[i]) {
        if (strcmp(ix->skeys[i], s) == 0)
            return ix->svals[i];
        i = (i + 1) & (ix->scap - 1);
    }
    if (v < 0)
        return -1;
    ix->skeys[i] = s;
    ix->svals[i] = v;
    ix->sn++;
    return v;
}

/* Grows a pointer array held in arena memory to hold N+1 entries. */
static void **grow_ptrs(struct pprof *pr, void **arr, size_t n, size_t *cap)
{
    void **na;

    if (n < *cap)
        return arr;
    {
        size_t ncap = (n + 1) * 2;
        na = pprof_alloc(pr, ncap * sizeof *na);
        if (!na)
            return NULL;
        if (n)
            memcpy(na, arr, n * sizeof *na);
        *cap = ncap;
    }
    return na;
}

int64_t pprof_intern(struct pprof *pr, const char *s)
{
    struct pprof_index *ix = IX(pr);
    PprofProfile *p = pr->p;
    int64_t r;
    char *copy;
    void **arr;

    if (!s)
        s = "";
    if (ix->sn == 0) {
        size_t i;
        ix->string_cap = 0;
        if (p->n_string_table == 0) {
            /* a profile needs "" at index 0 */
            arr = grow_ptrs(pr, (void **)p->string_table, 0, &ix->string_cap);
            if (!arr)
                return -1;
            p->string_table = (char **)arr;
            p->string_table[0] = pprof_alloc(pr, 1);
            if (!p->string_table[0])
                return -1;
            p->n_string_table = 1;
        }
        for (i = 0; i < p->n_string_table; i++) {
            if (p->string_table[i] &&
                strmap_find(ix, p->string_table[i], (int64_t)i) == -2)
                return -1;
        }
    }
    r = strmap_find(ix, (char *)s, -1);
    if (r >= 0)
        return r;
    if (r == -2)
        return -1;
    arr = grow_ptrs(pr, (void **)p->string_table, p->n_string_table,
                    &ix->string_cap);
    if (!arr)
        return -1;
    p->string_table = (char **)arr;
    copy = pprof_alloc(pr, strlen(s) + 1);
    if (!copy)
        return -1;
    strcpy(copy, s);
    p->string_table[p->n_string_table] = copy;
    r = strmap_find(ix, copy, (int64_t)p->n_string_table);
    if (r < 0)
        return -1;
    p->n_string_table++;
    return r;
}

static uint64_t hash_tuple(const int64_t k[4])
{
    return mix64((uint64_t)k[0] * 31 + mix64((uint64_t)k[1] * 17 +
                 mix64((uint64_t)k[2] + mix64((uint64_t)k[3]))));
}

static int fmap_grow(struct pprof_index *ix)
{
    size_t ncap = ix->fcap ? ix->fcap * 2 : 256, j;
    int64_t (*nk)[4] = calloc(ncap, sizeof *nk);
    uint64_t *nv = calloc(ncap, sizeof *nv);

    if (!nk || !nv) {
        free(nk);
        free(nv);
        return -1;
    }
    for (j = 0; j < ix->fcap; j++) {
        size_t i;
        if (!ix->fvals[j])
            continue;
        i = hash_tuple(ix->fkeys[j]) & (ncap - 1);
        while (nv[i])
            i = (i + 1) & (ncap - 1);
        memcpy(nk[i], ix->fkeys[j], sizeof nk[i]);
        nv[i] = ix->fvals[j];
    }
    free(ix->fkeys);
    free(ix->fvals);
    ix->fkeys = nk;
    ix->fvals = nv;
    ix->fcap = ncap;
    return 0;
}

/* Finds tuple K; inserts with ID when absent and ID != 0.  0: absent. */
static uint64_t fmap_find(struct pprof_index *ix, const int64_t k[4],
                          uint64_t id, int *nomem)
{
    size_t i;

    if ((ix->fn + 1) * 2 > ix->fcap && fmap_grow(ix)) {
        *nomem = 1;
        return 0;
    }
    i = hash_tuple(k) & (ix->fcap - 1);
    while (ix->fvals[i]) {
        if (memcmp(ix->fkeys[i], k, sizeof ix->fkeys[i]) == 0)
            return ix->fvals[i];
        i = (i + 1) & (ix->fcap - 1);
    }
    if (!id)
        return 0;
    memcpy(ix->fkeys[i], k, sizeof ix->fkeys[i]);
    ix->fvals[i] = id;
    ix->fn++;
    return id;
}

uint64_t pprof_add_function(struct pprof *pr, const char *name,
                            const char *system_name, const char *filename,
                            int64_t start_line)
{
    struct pprof_index *ix = IX(pr);
    PprofProfile *p = pr->p;
    int64_t k[4];
    int nomem = 0;
    uint64_t id;
    PprofFunction *f;
    void **arr;

    if (ix->fn == 0 && p->n_function) {
        size_t i;
        ix->function_cap = 0;
        for (i = 0; i < p->n_function; i++) {
            const PprofFunction *g = p->function[i];
            int64_t gk[4] = {g->name, g->system_name, g->filename,
                             g->start_line};
            fmap_find(ix, gk, g->id, &nomem);
            if (nomem)
                return 0;
        }
    }
    if (ix->fn == 0)
        ix->function_cap = 0;
    k[0] = pprof_intern(pr, name);
    k[1] = pprof_intern(pr, system_name ? system_name : name);
    k[2] = pprof_intern(pr, filename);
    k[3] = start_line;
    if (k[0] < 0 || k[1] < 0 || k[2] < 0)
        return 0;
    id = fmap_find(ix, k, 0, &nomem);
    if (id || nomem)
        return id;
    f = pprof_alloc(pr, sizeof *f);
    if (!f)
        return 0;
    perftools__profiles__function__init(f);
    if (!ix->next_fid)
        ix->next_fid = 1;
    f->id = ix->next_fid++;
    f->name = k[0];
    f->system_name = k[1];
    f->filename = k[2];
    f->start_line = start_line;
    arr = grow_ptrs(pr, (void **)p->function, p->n_function, &ix->function_cap);
    if (!arr)
        return 0;
    p->function = (PprofFunction **)arr;
    p->function[p->n_function++] = f;
    if (idx_put(&ix->functions, f->id, SLOT(p->n_function - 1)) < 0)
        return 0;
    return fmap_find(ix, k, f->id, &nomem);
}

PprofLine **pprof_set_lines(struct pprof *pr, PprofLocation *loc, size_t n)
{
    PprofLine **lines = pprof_alloc(pr, (n ? n : 1) * sizeof *lines);
    size_t i;

    if (!lines)
        return NULL;
    for (i = 0; i < n; i++) {
        lines[i] = pprof_alloc(pr, sizeof *lines[i]);
        if (!lines[i])
            return NULL;
        perftools__profiles__line__init(lines[i]);
    }
    loc->line = lines;
    loc->n_line = n;
    return lines;
}
