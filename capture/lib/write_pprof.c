/*
 * write_pprof.c -- `dump --format pprof`: a "coroutines" profile in the
 * shape of Go's goroutine profile (`coroutines/count`): one sample per
 * unique (stack, state, wait reason), its count as the value, the state
 * and wait reason as string labels.  Every Mapping carries its module's
 * build-id, so `corosym pprof` can symbolize it on another machine.
 *
 * Location addresses are the addresses to symbolize: a return address
 * minus one (the call), the pc itself at a function's first byte.  Frames
 * symbolized here get Lines (innermost first) and the mapping says so.
 * Encoding is protobuf-c's (build/symbolizer/proto), gzip the symbolizer's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <corodbg.h>

#include "profile.pb-c.h"
#include "pprof.h"

#include "corocap.h"
#include "write_int.h"

typedef Perftools__Profiles__Profile Profile;

struct strtab { char **s; size_t n, cap; };

static int64_t intern(struct strtab *t, const char *s)
{
    if (!s)
        s = "";
    for (size_t i = 0; i < t->n; i++)        /* few distinct strings */
        if (!strcmp(t->s[i], s))
            return (int64_t)i;
    if (t->n == t->cap) {
        size_t nc = t->cap ? 2 * t->cap : 64;
        char **n = realloc(t->s, nc * sizeof *n);
        if (!n)
            return 0;
        t->s = n;
        t->cap = nc;
    }
    t->s[t->n] = strdup(s);
    return t->s[t->n] ? (int64_t)t->n++ : 0;
}

/* Growing arrays of protobuf-c messages, freed at the end. */
#define GROW(arr, n, cap)                                                  \
    do {                                                                   \
        if ((n) == (cap)) {                                                \
            size_t nc_ = (cap) ? 2 * (cap) : 64;                           \
            void *np_ = realloc((arr), nc_ * sizeof *(arr));               \
            if (!np_)                                                      \
                goto nomem;                                                \
            (arr) = np_;                                                   \
            (cap) = nc_;                                                   \
        }                                                                  \
    } while (0)

struct loc { uint64_t addr; uint64_t id; };

int cc_write_pprof(const char *path, const cc_capture *c, char *err)
{
    const cc_target *t = c->target;
    struct strtab st = {0};
    Profile p = PERFTOOLS__PROFILES__PROFILE__INIT;
    Perftools__Profiles__ValueType vt = PERFTOOLS__PROFILES__VALUE_TYPE__INIT;
    Perftools__Profiles__ValueType *vts[1] = {&vt};
    Perftools__Profiles__Mapping *maps = NULL, **mapp = NULL;
    Perftools__Profiles__Location **locs = NULL;
    Perftools__Profiles__Function **funcs = NULL;
    Perftools__Profiles__Sample **samples = NULL;
    size_t nlocs = 0, caplocs = 0, nfuncs = 0, capfuncs = 0, nsamples = 0;
    size_t *mod_map = NULL;     /* target module index -> mapping id */
    struct cc_groups g = {0};
    uint8_t *buf = NULL, *gz = NULL;
    int rc = -1;

    intern(&st, "");
    vt.type = intern(&st, "coroutines");
    vt.unit = intern(&st, "count");
    p.n_sample_type = 1;
    p.sample_type = vts;
    p.period_type = &vt;
    p.period = 1;
    /* mappings: executable modules, with build-ids */
    maps = calloc(t->nmods ? t->nmods : 1, sizeof *maps);
    mapp = calloc(t->nmods ? t->nmods : 1, sizeof *mapp);
    mod_map = calloc(t->nmods ? t->nmods : 1, sizeof *mod_map);
    if (!maps || !mapp || !mod_map)
        goto nomem;
    for (size_t i = 0; i < t->nmods; i++) {
        const cc_module *m = &t->mods[i];
        if (!m->is_exec)
            continue;
        Perftools__Profiles__Mapping *mp = &maps[p.n_mapping];
        perftools__profiles__mapping__init(mp);
        mp->id = p.n_mapping + 1;
        mp->memory_start = m->start;
        mp->memory_limit = m->end;
        mp->file_offset = m->offset;
        mp->filename = intern(&st, m->path);
        char hex[129];
        cc_hex(m->build_id, m->build_id_len, hex);
        mp->build_id = intern(&st, m->build_id_len ? hex : "");
        mapp[p.n_mapping++] = mp;
        mod_map[i] = mp->id;
    }
    p.mapping = mapp;
    if (cc_group_stacks(c, 1, &g))
        goto nomem;
    samples = calloc(g.n ? g.n : 1, sizeof *samples);
    if (!samples)
        goto nomem;
    int64_t k_state = intern(&st, "state"), k_wait = intern(&st, "wait");
    for (size_t k = 0; k < g.n; k++) {
        size_t first = g.order[g.start[k]];
        const cc_coroutine *co = &c->table->cos[first];
        const cc_stack *s = &c->stacks[first];
        Perftools__Profiles__Sample *sm = calloc(1, sizeof *sm +
                                                 sizeof(int64_t) +
                                                 2 * sizeof(void *) +
                                                 2 * sizeof(Perftools__Profiles__Label));
        if (!sm)
            goto nomem;
        samples[nsamples++] = sm;
        perftools__profiles__sample__init(sm);
        int64_t *val = (int64_t *)(sm + 1);
        Perftools__Profiles__Label **lp = (Perftools__Profiles__Label **)(val + 1);
        Perftools__Profiles__Label *lab = (Perftools__Profiles__Label *)(lp + 2);
        *val = (int64_t)(g.start[k + 1] - g.start[k]);
        sm->n_value = 1;
        sm->value = val;
        perftools__profiles__label__init(&lab[0]);
        lab[0].key = k_state;
        lab[0].str = intern(&st, cc_state_name(co->state));
        lp[0] = &lab[0];
        sm->n_label = 1;
        const char *w = cc_wait_name(co);
        if (*w) {
            perftools__profiles__label__init(&lab[1]);
            lab[1].key = k_wait;
            lab[1].str = intern(&st, w);
            lp[1] = &lab[1];
            sm->n_label = 2;
        }
        sm->label = lp;
        /* one location per raw pc: the inline chain of that pc */
        size_t nraw = c->nraw[first];
        sm->location_id = calloc(nraw ? nraw : 1, sizeof *sm->location_id);
        if (!sm->location_id)
            goto nomem;
        size_t fi = 0;
        for (size_t r = 0; r < nraw; r++) {
            uint64_t pc = c->raw[first][r];
            /* frames of this pc in the symbolized stack */
            size_t fj = fi;
            while (fj < s->n && s->f[fj].pc == pc && s->f[fj].inlined)
                fj++;
            const cc_frame *leaf = fi < s->n ? &s->f[fi] : NULL;
            uint64_t addr = leaf && leaf->pc == pc ? leaf->lookup
                            : pc - 1;   /* a return address */
            uint64_t id = 0;
            for (size_t l = 0; l < nlocs; l++)   /* few distinct pcs */
                if (locs[l]->address == addr) {
                    id = locs[l]->id;
                    break;
                }
            if (!id) {
                GROW(locs, nlocs, caplocs);
                Perftools__Profiles__Location *L = calloc(1, sizeof *L);
                if (!L)
                    goto nomem;
                perftools__profiles__location__init(L);
                L->id = nlocs + 1;
                L->address = addr;
                const cc_module *m = cc_target_module(t, pc);
                L->mapping_id = m ? mod_map[m - t->mods] : 0;
                size_t nl = leaf && leaf->pc == pc && leaf->function
                                ? fj - fi + 1 : 0;
                if (nl) {
                    L->line = calloc(nl, sizeof *L->line);
                    if (!L->line)
                        goto nomem;
                    for (size_t q = 0; q < nl; q++) {
                        const cc_frame *f = &s->f[fi + q];
                        GROW(funcs, nfuncs, capfuncs);
                        Perftools__Profiles__Function *F = calloc(1, sizeof *F);
                        Perftools__Profiles__Line *ln = calloc(1, sizeof *ln);
                        if (!F || !ln) {
                            free(F);
                            free(ln);
                            goto nomem;
                        }
                        perftools__profiles__function__init(F);
                        perftools__profiles__line__init(ln);
                        F->id = nfuncs + 1;
                        F->name = F->system_name = intern(&st, f->function);
                        F->filename = intern(&st, f->file);
                        funcs[nfuncs++] = F;
                        ln->function_id = F->id;
                        ln->line = f->line;
                        L->line[L->n_line++] = ln;
                    }
                    if (m && L->mapping_id) {
                        Perftools__Profiles__Mapping *mp = mapp[L->mapping_id - 1];
                        mp->has_functions = mp->has_filenames = 1;
                        mp->has_line_numbers = 1;
                        mp->has_inline_frames |= nl > 1;
                    }
                }
                locs[nlocs++] = L;
                id = L->id;
            }
            sm->location_id[sm->n_location_id++] = id;
            fi = fj + 1;
        }
    }
    p.n_sample = nsamples;
    p.sample = samples;
    p.n_location = nlocs;
    p.location = locs;
    p.n_function = nfuncs;
    p.function = funcs;
    p.n_string_table = st.n;
    p.string_table = st.s;
    {
        size_t len = perftools__profiles__profile__get_packed_size(&p);
        size_t gzlen;
        buf = malloc(len ? len : 1);
        if (!buf)
            goto nomem;
        perftools__profiles__profile__pack(&p, buf);
        char gerr[256];
        if (pprof_gzip(buf, len, &gz, &gzlen, gerr, sizeof gerr)) {
            snprintf(err, CC_ERRLEN, "gzip: %s", gerr);
            goto out;
        }
        FILE *f = strcmp(path, "-") ? fopen(path, "wb") : stdout;
        if (!f || fwrite(gz, 1, gzlen, f) != gzlen ||
            (f != stdout ? fclose(f) : fflush(f))) {
            snprintf(err, CC_ERRLEN, "%s: %s", path, strerror(errno));
            goto out;
        }
    }
    rc = 0;
    goto out;
nomem:
    snprintf(err, CC_ERRLEN, "out of memory");
out:
    for (size_t i = 0; i < nsamples; i++) {
        free(samples[i]->location_id);
        free(samples[i]);
    }
    for (size_t i = 0; i < nlocs; i++) {
        for (size_t q = 0; q < locs[i]->n_line; q++)
            free(locs[i]->line[q]);
        free(locs[i]->line);
        free(locs[i]);
    }
    for (size_t i = 0; i < nfuncs; i++)
        free(funcs[i]);
    for (size_t i = 0; i < st.n; i++)
        free(st.s[i]);
    free(st.s);
    free(samples);
    free(locs);
    free(funcs);
    free(maps);
    free(mapp);
    free(mod_map);
    free(buf);
    free(gz);
    cc_groups_free(&g);
    return rc;
}
