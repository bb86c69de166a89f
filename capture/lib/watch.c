/*
 * watch.c -- `corodbg watch`: the leak signal Go users read from a
 * goroutine count that keeps climbing.  Each step counts the coroutines by
 * state and by (state, creation site, wait site), prints each count with
 * its change since the last step, and flags the groups that grew at every
 * step since they appeared (at least twice): the likely leaks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <corodbg.h>

#include "corocap.h"

struct wgroup {
    char *key;             /* "state\tcreated\twaiting" */
    size_t count, prev;
    unsigned grew;         /* steps it grew */
    int stalled;           /* a step did not grow it: not "only grows" */
};

struct cc_watch {
    struct wgroup *g;
    size_t n, cap;
    size_t steps;
    size_t state_prev[CORODBG_NSTATES + 1], total_prev;
};

cc_watch *cc_watch_new(void)
{
    return calloc(1, sizeof(cc_watch));
}

void cc_watch_free(cc_watch *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        free(w->g[i].key);
    free(w->g);
    free(w);
}

static struct wgroup *group(cc_watch *w, const char *key)
{
    for (size_t i = 0; i < w->n; i++)
        if (!strcmp(w->g[i].key, key))
            return &w->g[i];
    if (w->n == w->cap) {
        size_t nc = w->cap ? 2 * w->cap : 32;
        struct wgroup *ng = realloc(w->g, nc * sizeof *ng);
        if (!ng)
            return NULL;
        w->g = ng;
        w->cap = nc;
    }
    struct wgroup *g = &w->g[w->n];
    memset(g, 0, sizeof *g);
    g->key = strdup(key);
    if (!g->key)
        return NULL;
    w->n++;
    return g;
}

static int by_count(const void *a, const void *b)
{
    const struct wgroup *x = *(const struct wgroup *const *)a;
    const struct wgroup *y = *(const struct wgroup *const *)b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->key, y->key);
}

static void delta(FILE *out, size_t now, size_t before, int first)
{
    char d[32] = "";
    if (!first)
        snprintf(d, sizeof d, "(%+ld)", (long)now - (long)before);
    fprintf(out, " %-9s", d);
}

int cc_watch_step(cc_watch *w, FILE *out, const cc_capture *c,
                  const char *stamp)
{
    const cc_table *t = c->table;
    size_t states[CORODBG_NSTATES + 1] = {0};
    char create[CC_SITE_LEN], wait[CC_SITE_LEN], key[3 * CC_SITE_LEN];
    int first = w->steps == 0;
    for (size_t i = 0; i < w->n; i++) {
        w->g[i].prev = w->g[i].count;
        w->g[i].count = 0;
    }
    for (size_t i = 0; i < t->ncos; i++) {
        const cc_coroutine *co = &t->cos[i];
        states[co->state < CORODBG_NSTATES ? co->state : CORODBG_NSTATES]++;
        cc_frame f;
        cc_symbolize_pc(c->sym, co->create_pc, 1, &f);
        cc_format_frame(&f, create, sizeof create);
        if (co->state == CORODBG_BLOCKED)
            cc_wait_site(c, i, wait);
        else
            wait[0] = 0;
        const char *w8 = cc_wait_name(co);
        snprintf(key, sizeof key, "%s%s%s\t%s\t%s", cc_state_name(co->state),
                 *w8 ? " " : "", w8, create, wait);
        struct wgroup *g = group(w, key);
        if (!g)
            return -1;
        g->count++;
    }
    fprintf(out, "%s  %zu coroutines", stamp, t->ncos);
    delta(out, t->ncos, w->total_prev, first);
    for (unsigned s = 1; s <= CORODBG_NSTATES; s++) {
        if (!states[s] && !w->state_prev[s])
            continue;
        fprintf(out, "  %s %zu", s < CORODBG_NSTATES ? cc_state_name(s)
                                                     : "bad-state", states[s]);
        if (!first && states[s] != w->state_prev[s])
            fprintf(out, " (%+ld)", (long)states[s] - (long)w->state_prev[s]);
    }
    fputc('\n', out);
    struct wgroup **order = malloc((w->n ? w->n : 1) * sizeof *order);
    if (!order)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < w->n; i++) {
        struct wgroup *g = &w->g[i];
        if (!first) {
            if (g->count > g->prev)
                g->grew++;
            else
                g->stalled = 1;
        }
        if (g->count || g->prev)
            order[m++] = g;
    }
    qsort(order, m, sizeof *order, by_count);
    for (size_t i = 0; i < m; i++) {
        struct wgroup *g = order[i];
        char *k = strdup(g->key), *state = k, *cr = NULL, *wt = NULL;
        if (!k)
            break;
        if ((cr = strchr(state, '\t'))) {
            *cr++ = 0;
            if ((wt = strchr(cr, '\t')))
                *wt++ = 0;
        }
        /* every step since it appeared grew it: the leak signal */
        int growing = !g->stalled && g->grew >= 2;
        fprintf(out, "  %7zu", g->count);
        delta(out, g->count, g->prev, first);
        fprintf(out, "  %-22s created at %s", state, cr ? cr : "??");
        if (wt && *wt)
            fprintf(out, ", waiting at %s", wt);
        if (growing)
            fprintf(out, "  <- grows at every step");
        fputc('\n', out);
        free(k);
    }
    free(order);
    fflush(out);
    memcpy(w->state_prev, states, sizeof states);
    w->total_prev = t->ncos;
    w->steps++;
    return ferror(out) ? -1 : 0;
}
