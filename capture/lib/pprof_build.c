/*
 * pprof_build.c -- profile.proto messages from captured stacks.
 *
 * Location addresses are the addresses to symbolize: a return address
 * minus one (the call), the pc itself at a function's first byte (what
 * the symbolizer decided: cc_frame.lookup).  One Location per address,
 * with Lines (innermost first) when the frame was symbolized here; the
 * mapping then says it has functions and lines.  Strings, functions and
 * locations are interned.  Encoding is protobuf-c's
 * (build/symbolizer/proto), gzip the symbolizer's (pprof_gzip).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile.pb-c.h"
#include "pprof.h"

#include "corocap.h"
#include "pprof_build.h"
#include "write_int.h"

typedef Perftools__Profiles__Profile Profile;
typedef Perftools__Profiles__Mapping Mapping;
typedef Perftools__Profiles__Location Location;
typedef Perftools__Profiles__Function Function;
typedef Perftools__Profiles__Sample Sample;
typedef Perftools__Profiles__Label Label;
typedef Perftools__Profiles__Line Line;
typedef Perftools__Profiles__ValueType ValueType;

/* An open-addressing map from a key (string hash or address) to an id. */
struct idmap { uint64_t *key; uint64_t *val; size_t cap, n; };

static uint64_t *idmap_slot(struct idmap *m, uint64_t key, int *found)
{
    if (2 * (m->n + 1) > m->cap) {
        size_t nc = m->cap ? 2 * m->cap : 256;
        uint64_t *nk = calloc(nc, sizeof *nk), *nv = calloc(nc, sizeof *nv);
        if (!nk || !nv) {
            free(nk);
            free(nv);
            return NULL;
        }
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->key[i])
                continue;
            size_t h = (m->key[i] * 0x9e3779b97f4a7c15ull) >> 16;
            while (nk[h % nc])
                h++;
            nk[h % nc] = m->key[i];
            nv[h % nc] = m->val[i];
        }
        free(m->key);
        free(m->val);
        m->key = nk;
        m->val = nv;
        m->cap = nc;
    }
    key |= 1ull << 63;          /* never 0 (the empty mark) */
    size_t h = (key * 0x9e3779b97f4a7c15ull) >> 16;
    for (;; h++) {
        size_t i = h % m->cap;
        if (m->key[i] == key) {
            *found = 1;
            return &m->val[i];
        }
        if (!m->key[i]) {
            m->key[i] = key;
            m->n++;
            *found = 0;
            return &m->val[i];
        }
    }
}

#define GROW(arr, n, cap)                                                  \
    do {                                                                   \
        if ((n) == (cap)) {                                                \
            size_t nc_ = (cap) ? 2 * (cap) : 64;                           \
            void *np_ = realloc((arr), nc_ * sizeof *(arr));               \
            if (!np_)                                                      \
                return -1;                                                 \
            (arr) = np_;                                                   \
            (cap) = nc_;                                                   \
        }                                                                  \
    } while (0)

struct cc_pprof {
    const cc_target *t;
    char **str;
    size_t nstr, capstr;
    struct idmap strs, locs, funcs;
    ValueType *types;
    ValueType **typep;
    size_t ntypes;
    Mapping *maps;
    Mapping **mapp;
    size_t nmaps;
    size_t *mod_map;            /* target module index -> mapping id */
    Location **loc;
    size_t nloc, caploc;
    Function **fn;
    size_t nfn, capfn;
    Sample **smp;
    size_t nsmp, capsmp;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h & ~(1ull << 63);
}

static int64_t intern(cc_pprof *p, const char *s)
{
    if (!s)
        s = "";
    int found;
    uint64_t h = hash_str(s);
    /* chain through colliding hashes by probing h, h+1, ... */
    for (;; h = (h + 1) & ~(1ull << 63)) {
        uint64_t *v = idmap_slot(&p->strs, h, &found);
        if (!v)
            return -1;
        if (found && strcmp(p->str[*v], s))
            continue;
        if (found)
            return (int64_t)*v;
        GROW(p->str, p->nstr, p->capstr);
        p->str[p->nstr] = strdup(s);
        if (!p->str[p->nstr])
            return -1;
        *v = p->nstr;
        return (int64_t)p->nstr++;
    }
}

cc_pprof *cc_pprof_new(const cc_target *t, const char *const *types,
                       size_t ntypes)
{
    cc_pprof *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->t = t;
    p->types = calloc(ntypes, sizeof *p->types);
    p->typep = calloc(ntypes, sizeof *p->typep);
    p->maps = calloc(t->nmods ? t->nmods : 1, sizeof *p->maps);
    p->mapp = calloc(t->nmods ? t->nmods : 1, sizeof *p->mapp);
    p->mod_map = calloc(t->nmods ? t->nmods : 1, sizeof *p->mod_map);
    if (!p->types || !p->typep || !p->maps || !p->mapp || !p->mod_map ||
        intern(p, "") < 0)
        goto fail;
    p->ntypes = ntypes;
    for (size_t i = 0; i < ntypes; i++) {
        perftools__profiles__value_type__init(&p->types[i]);
        p->types[i].type = intern(p, types[2 * i]);
        p->types[i].unit = intern(p, types[2 * i + 1]);
        p->typep[i] = &p->types[i];
    }
    for (size_t i = 0; i < t->nmods; i++) {
        const cc_module *m = &t->mods[i];
        if (!m->is_exec)
            continue;
        Mapping *mp = &p->maps[p->nmaps];
        perftools__profiles__mapping__init(mp);
        mp->id = p->nmaps + 1;
        mp->memory_start = m->start;
        mp->memory_limit = m->end;
        mp->file_offset = m->offset;
        mp->filename = intern(p, m->path);
        char hex[129];
        cc_hex(m->build_id, m->build_id_len, hex);
        mp->build_id = intern(p, hex);
        p->mapp[p->nmaps++] = mp;
        p->mod_map[i] = mp->id;
    }
    return p;
fail:
    cc_pprof_free(p);
    return NULL;
}

static uint64_t function(cc_pprof *p, const cc_frame *f)
{
    int found;
    int64_t name = intern(p, f->function), file = intern(p, f->file);
    if (name < 0 || file < 0)
        return 0;
    uint64_t *v = idmap_slot(&p->funcs, (uint64_t)name << 32 | (uint64_t)file,
                             &found);
    if (!v)
        return 0;
    if (found)
        return *v;
    if (p->nfn == p->capfn) {
        size_t nc = p->capfn ? 2 * p->capfn : 64;
        Function **n = realloc(p->fn, nc * sizeof *n);
        if (!n)
            return 0;
        p->fn = n;
        p->capfn = nc;
    }
    Function *F = calloc(1, sizeof *F);
    if (!F)
        return 0;
    perftools__profiles__function__init(F);
    F->id = p->nfn + 1;
    F->name = F->system_name = name;
    F->filename = file;
    p->fn[p->nfn++] = F;
    return *v = F->id;
}

/* The Location of raw pc number R, whose frames are F[0..NF) (inline
 * chain, innermost first; NF 0: unsymbolized). */
static uint64_t location(cc_pprof *p, uint64_t pc, uint64_t addr,
                         const cc_frame *f, size_t nf)
{
    int found;
    uint64_t *v = idmap_slot(&p->locs, addr, &found);
    if (!v)
        return 0;
    if (found)
        return *v;
    if (p->nloc == p->caploc) {
        size_t nc = p->caploc ? 2 * p->caploc : 64;
        Location **n = realloc(p->loc, nc * sizeof *n);
        if (!n)
            return 0;
        p->loc = n;
        p->caploc = nc;
    }
    Location *L = calloc(1, sizeof *L);
    if (!L)
        return 0;
    perftools__profiles__location__init(L);
    L->id = p->nloc + 1;
    L->address = addr;
    const cc_module *m = cc_target_module(p->t, pc);
    L->mapping_id = m ? p->mod_map[m - p->t->mods] : 0;
    p->loc[p->nloc++] = L;
    if (nf) {
        L->line = calloc(nf, sizeof *L->line);
        if (!L->line)
            return 0;
        for (size_t q = 0; q < nf; q++) {
            Line *ln = calloc(1, sizeof *ln);
            if (!ln)
                return 0;
            perftools__profiles__line__init(ln);
            ln->function_id = function(p, &f[q]);
            ln->line = f[q].line;
            L->line[L->n_line++] = ln;
            if (!ln->function_id)
                return 0;
        }
        if (L->mapping_id) {
            Mapping *mp = p->mapp[L->mapping_id - 1];
            mp->has_functions = mp->has_filenames = mp->has_line_numbers = 1;
            mp->has_inline_frames |= nf > 1;
        }
    }
    return *v = L->id;
}

int cc_pprof_sample(cc_pprof *p, const uint64_t *raw, size_t nraw,
                    int leaf_pc, const cc_stack *s, const int64_t *values,
                    const char *const *keys, const char *const *vals,
                    size_t nstr, const char *nkey, int64_t nval)
{
    GROW(p->smp, p->nsmp, p->capsmp);
    size_t nl = nstr + (nkey ? 1 : 0);
    Sample *sm = calloc(1, sizeof *sm + p->ntypes * sizeof(int64_t) +
                           nl * (sizeof(Label *) + sizeof(Label)));
    if (!sm)
        return -1;
    p->smp[p->nsmp++] = sm;
    perftools__profiles__sample__init(sm);
    int64_t *v = (int64_t *)(sm + 1);
    Label **lp = (Label **)(v + p->ntypes);
    Label *lab = (Label *)(lp + nl);
    memcpy(v, values, p->ntypes * sizeof *v);
    sm->value = v;
    sm->n_value = p->ntypes;
    sm->label = lp;
    for (size_t i = 0; i < nstr; i++) {
        if (!vals[i] || !*vals[i])
            continue;
        Label *l = &lab[sm->n_label];
        perftools__profiles__label__init(l);
        l->key = intern(p, keys[i]);
        l->str = intern(p, vals[i]);
        lp[sm->n_label++] = l;
    }
    if (nkey) {
        Label *l = &lab[sm->n_label];
        perftools__profiles__label__init(l);
        l->key = intern(p, nkey);
        l->num = nval;
        lp[sm->n_label++] = l;
    }
    /* a location per raw pc, and per tail-call frame the symbolizer
     * added between two (its pc is no raw pc: see symbolize.c) */
    size_t nloc = nraw + (s ? s->n : 0);
    sm->location_id = calloc(nloc ? nloc : 1, sizeof *sm->location_id);
    if (!sm->location_id)
        return -1;
    size_t fi = 0;
    for (size_t r = 0; r < nraw; r++) {
        uint64_t pc = raw[r];
        while (s && fi < s->n && s->f[fi].tailcall) {
            size_t fj = fi;   /* a tail-call frame's own inline chain */
            while (fj + 1 < s->n && s->f[fj + 1].pc == s->f[fi].pc &&
                   s->f[fj].inlined)
                fj++;
            uint64_t id = location(p, s->f[fi].pc, s->f[fi].lookup,
                                   &s->f[fi],
                                   s->f[fi].function ? fj - fi + 1 : 0);
            if (!id)
                return -1;
            sm->location_id[sm->n_location_id++] = id;
            fi = fj + 1;
        }
        size_t fj = fi;       /* the frames of this pc: fi..fj */
        while (s && fj < s->n && s->f[fj].pc == pc && s->f[fj].inlined)
            fj++;
        const cc_frame *leaf = s && fi < s->n && s->f[fi].pc == pc
                                   ? &s->f[fi] : NULL;
        /* unsymbolized: a return address is looked up at the call */
        uint64_t addr = leaf ? leaf->lookup : (r == 0 && leaf_pc) ? pc : pc - 1;
        size_t nf = leaf && leaf->function ? fj - fi + 1 : 0;
        uint64_t id = location(p, pc, addr, leaf, nf);
        if (!id)
            return -1;
        sm->location_id[sm->n_location_id++] = id;
        if (leaf)
            fi = fj + 1;
    }
    return 0;
}

int cc_pprof_write(cc_pprof *p, const char *path, int64_t period,
                   int64_t time_ns, int64_t duration_ns, char *err)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
    if (!f) {
        snprintf(err, CC_ERRLEN, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc = cc_pprof_write_fp(p, f, period, time_ns, duration_ns, err);
    if ((f != stdout ? fclose(f) : fflush(f)) && !rc) {
        snprintf(err, CC_ERRLEN, "%s: %s", path, strerror(errno));
        rc = -1;
    }
    return rc;
}

int cc_pprof_write_fp(cc_pprof *p, FILE *f, int64_t period, int64_t time_ns,
                      int64_t duration_ns, char *err)
{
    Profile pr = PERFTOOLS__PROFILES__PROFILE__INIT;
    pr.n_sample_type = p->ntypes;
    pr.sample_type = p->typep;
    pr.period_type = p->typep[p->ntypes > 1 ? 1 : 0];
    pr.period = period;
    pr.time_nanos = time_ns;
    pr.duration_nanos = duration_ns;
    pr.n_mapping = p->nmaps;
    pr.mapping = p->mapp;
    pr.n_location = p->nloc;
    pr.location = p->loc;
    pr.n_function = p->nfn;
    pr.function = p->fn;
    pr.n_sample = p->nsmp;
    pr.sample = p->smp;
    pr.n_string_table = p->nstr;
    pr.string_table = p->str;
    size_t len = perftools__profiles__profile__get_packed_size(&pr), gzlen;
    uint8_t *buf = malloc(len ? len : 1), *gz = NULL;
    int rc = -1;
    char gerr[256];
    if (!buf) {
        snprintf(err, CC_ERRLEN, "out of memory");
        return -1;
    }
    perftools__profiles__profile__pack(&pr, buf);
    if (pprof_gzip(buf, len, &gz, &gzlen, gerr, sizeof gerr)) {
        snprintf(err, CC_ERRLEN, "gzip: %s", gerr);
        goto out;
    }
    if (fwrite(gz, 1, gzlen, f) != gzlen) {
        snprintf(err, CC_ERRLEN, "write: %s", strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(buf);
    free(gz);
    return rc;
}

void cc_pprof_free(cc_pprof *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nsmp; i++) {
        free(p->smp[i]->location_id);
        free(p->smp[i]);
    }
    for (size_t i = 0; i < p->nloc; i++) {
        for (size_t q = 0; q < p->loc[i]->n_line; q++)
            free(p->loc[i]->line[q]);
        free(p->loc[i]->line);
        free(p->loc[i]);
    }
    for (size_t i = 0; i < p->nfn; i++)
        free(p->fn[i]);
    for (size_t i = 0; i < p->nstr; i++)
        free(p->str[i]);
    free(p->str);
    free(p->strs.key);
    free(p->strs.val);
    free(p->locs.key);
    free(p->locs.val);
    free(p->funcs.key);
    free(p->funcs.val);
    free(p->smp);
    free(p->loc);
    free(p->fn);
    free(p->types);
    free(p->typep);
    free(p->maps);
    free(p->mapp);
    free(p->mod_map);
    free(p);
}
