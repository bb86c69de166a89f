/*
 * cpu_prof.c -- the part of a CPU profile that does not depend on how the
 * samples were taken: unwinding each sample over its stack copy with the
 * shared unwinder, counting unique (stack, coroutine) pairs, and the pprof
 * output with the coroutine labels.  The samplers (profile.c for another
 * process, profile_self.c for this one) only deliver registers, a stack
 * copy and the coroutine.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu_prof.h"
#include "pprof_build.h"

struct stackkey {               /* one unique (stack, coroutine) */
    uint64_t *pcs;
    size_t n;
    uint64_t id;                /* 0: no coroutine */
    char name[CC_NAME_LEN];
    int64_t count;
};

struct cc_cpu_prof {
    cc_target *t;
    cc_unwinder *u;
    uint64_t period_ns;
    struct stackkey *keys;
    size_t nkeys, capkeys;
    uint64_t *hkeys;            /* hash -> key index + 1 */
    size_t hcap;
    size_t samples;
};

cc_cpu_prof *cc_cpu_prof_new(cc_target *t, uint64_t period_ns, char *err)
{
    cc_cpu_prof *p = calloc(1, sizeof *p);
    if (!p) {
        snprintf(err, CC_ERRLEN, "out of memory");
        return NULL;
    }
    p->t = t;
    p->period_ns = period_ns;
    p->u = cc_unwinder_new(t, NULL, err);
    if (!p->u) {
        free(p);
        return NULL;
    }
    return p;
}

void cc_cpu_prof_free(cc_cpu_prof *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->nkeys; i++)
        free(p->keys[i].pcs);
    free(p->keys);
    free(p->hkeys);
    cc_unwinder_free(p->u);
    free(p);
}

size_t cc_cpu_prof_samples(const cc_cpu_prof *p)
{
    return p->samples;
}

static uint64_t hash_key(const uint64_t *pcs, size_t n, uint64_t id)
{
    uint64_t h = id * 0x9e3779b97f4a7c15ull + n;
    for (size_t i = 0; i < n; i++)
        h = (h ^ pcs[i]) * 0x100000001b3ull;
    return h;
}

static int add(cc_cpu_prof *p, const uint64_t *pcs, size_t n, uint64_t id,
               const char *name)
{
    if (2 * (p->nkeys + 1) > p->hcap) {
        size_t nc = p->hcap ? 2 * p->hcap : 1024;
        uint64_t *nh = calloc(nc, sizeof *nh);
        if (!nh)
            return -1;
        for (size_t i = 0; i < p->nkeys; i++) {
            struct stackkey *k = &p->keys[i];
            size_t h = hash_key(k->pcs, k->n, k->id) % nc;
            while (nh[h])
                h = (h + 1) % nc;
            nh[h] = i + 1;
        }
        free(p->hkeys);
        p->hkeys = nh;
        p->hcap = nc;
    }
    size_t h = hash_key(pcs, n, id) % p->hcap;
    for (; p->hkeys[h]; h = (h + 1) % p->hcap) {
        struct stackkey *k = &p->keys[p->hkeys[h] - 1];
        if (k->id == id && k->n == n && !memcmp(k->pcs, pcs, n * sizeof *pcs)) {
            k->count++;
            return 0;
        }
    }
    if (p->nkeys == p->capkeys) {
        size_t nc = p->capkeys ? 2 * p->capkeys : 256;
        struct stackkey *nk = realloc(p->keys, nc * sizeof *nk);
        if (!nk)
            return -1;
        p->keys = nk;
        p->capkeys = nc;
    }
    struct stackkey *k = &p->keys[p->nkeys];
    k->pcs = malloc((n ? n : 1) * sizeof *pcs);
    if (!k->pcs)
        return -1;
    memcpy(k->pcs, pcs, n * sizeof *pcs);
    k->n = n;
    k->id = id;
    k->count = 1;
    snprintf(k->name, sizeof k->name, "%s", id && name ? name : "");
    p->hkeys[h] = ++p->nkeys;
    return 0;
}

int cc_cpu_prof_sample(cc_cpu_prof *p, const uint16_t *regno,
                       const uint64_t *val, size_t nregs, uint64_t ip,
                       uint64_t sp, const uint8_t *stack, size_t len,
                       uint64_t id, const char *name)
{
    uint64_t pcs[CC_CPU_MAX_DEPTH];
    const char *why;
    if (len >= 64)
        cc_unwinder_use_snapshot(p->u, sp, stack, len);
    size_t n = cc_unwind(p->u, regno, val, nregs, 0, pcs, CC_CPU_MAX_DEPTH,
                         &why);
    if (!n) {
        pcs[0] = ip;
        n = 1;
    }
    p->samples++;
    return add(p, pcs, n, id, name);
}

int cc_cpu_prof_write(cc_cpu_prof *p, cc_symbolizer *sym, const char *path,
                      FILE *out, uint64_t duration_ns, char *err)
{
    /* symbolize each unique stack once, build the profile */
    static const char *const types[] = {"samples", "count",
                                        "cpu", "nanoseconds"};
    static const char *const keys[] = {"coroutine"};
    cc_pprof *pp = cc_pprof_new(p->t, types, 2);
    if (!pp) {
        snprintf(err, CC_ERRLEN, "out of memory");
        return -1;
    }
    cc_stack st = {0};
    for (size_t i = 0; i < p->nkeys; i++) {
        struct stackkey *k = &p->keys[i];
        int64_t v[2] = {k->count, k->count * (int64_t)p->period_ns};
        const char *name = k->id ? k->name : "(none)";
        if (k->id && !*name)
            name = "(unnamed)";
        if (sym)
            cc_symbolize_stack(sym, k->pcs, k->n, 1, &st);
        if (cc_pprof_sample(pp, k->pcs, k->n, 1, sym ? &st : NULL, v, keys,
                            &name, 1, k->id ? "coroutine_id" : NULL,
                            (int64_t)k->id)) {
            snprintf(err, CC_ERRLEN, "out of memory");
            cc_stack_clear(&st);
            cc_pprof_free(pp);
            return -1;
        }
    }
    cc_stack_clear(&st);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t start = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec -
                    (int64_t)duration_ns;
    int rc = path ? cc_pprof_write(pp, path, (int64_t)p->period_ns, start,
                                   (int64_t)duration_ns, err)
                  : cc_pprof_write_fp(pp, out, (int64_t)p->period_ns, start,
                                      (int64_t)duration_ns, err);
    cc_pprof_free(pp);
    return rc;
}
