/*
 * leaks.c -- `corodbg leaks`: the report of GDB's `coroutine leaks`
 * (python/corodbg/core/leaks.py and listing.leak_report), from a capture.
 *
 * Blocked coroutines are grouped by (creation site, wait site, wait
 * reason).  The creation site is the spawn call (create_pc, a return
 * address); the wait site is the user frame as GDB's `bt` shows it (see
 * cc_wait_site).  Frames are named as GDB names them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <corodbg.h>

#include "corocap.h"

#define SAMPLES 5
/* Raw frames looked at for the wait site (each may show inlined ones). */
#define SITE_DEPTH 32

/* runtime_rules.user_frame over the capture's raw frames: the first frame `bt`
 * shows (inlined frames counted, innermost first) that is named and not
 * runtime code (the table's own rule, runtime_rule.c); when none is, the
 * innermost frame marked "(no user frame)", never a runtime function
 * posing as the wait site; with no frames, the saved pc. */
void cc_wait_site(const cc_capture *c, size_t i, char *buf)
{
    cc_symbolizer *s = c->sym;
    const cc_coroutine *co = &c->table->cos[i];
    const cc_runtime_rule *rule = c->table->runtime;
    cc_frame top;              /* a copy: F is valid until the next call */
    int have_top = 0;
    size_t n = c->nraw[i] < SITE_DEPTH ? c->nraw[i] : SITE_DEPTH;
    for (size_t k = 0; k < n; k++) {
        const cc_frame *f;
        /* frame 0 is exact on a thread, else a return address; GDB's
         * tail-call frames before each */
        size_t m = cc_symbolize_raw(s, c->raw[i], k, cc_on_thread(co), &f);
        for (size_t j = 0; j < m; j++) {
            if (!have_top) {
                top = f[j];
                have_top = 1;
            }
            if (f[j].function && (!rule || !cc_runtime_frame(rule, &f[j]))) {
                cc_format_frame(&f[j], buf, CC_SITE_LEN);
                return;
            }
        }
    }
    if (have_top) {
        static const char mark[] = "(no user frame) ";   /* render.py */
        memcpy(buf, mark, sizeof mark);
        cc_format_frame(&top, buf + sizeof mark - 1,
                        CC_SITE_LEN - (sizeof mark - 1));
        return;
    }
    cc_frame f;
    cc_symbolize_pc(s, cc_pc_of(c->table, co), 1, &f);
    cc_format_frame(&f, buf, CC_SITE_LEN);
}

struct group {
    char create[CC_SITE_LEN], wait[CC_SITE_LEN];
    const char *reason;
    size_t count;
    int64_t oldest;          /* -1 unknown */
    uint64_t ids[SAMPLES];
    size_t nids;
};

static int cmp_group(const void *a, const void *b)
{
    const struct group *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    int64_t ox = x->oldest < 0 ? 0 : x->oldest, oy = y->oldest < 0 ? 0 : y->oldest;
    if (ox != oy)
        return ox > oy ? -1 : 1;
    int r = strcmp(x->create, y->create);
    return r ? r : strcmp(x->wait, y->wait);
}

int cc_write_leaks(FILE *out, const cc_capture *c, cc_symbolizer *s,
                   int64_t min_age)
{
    const cc_table *t = c->table;
    struct group *g = NULL;
    size_t ng = 0, cap = 0;
    char create[CC_SITE_LEN], wait[CC_SITE_LEN], age[32];
    cc_capture *cw = (cc_capture *)c;    /* the symbolizer cache only */
    cc_symbolizer *saved = cw->sym;
    cw->sym = s;
    for (size_t i = 0; i < t->ncos; i++) {
        const cc_coroutine *co = &t->cos[i];
        if (co->state != CORODBG_BLOCKED)
            continue;
        int64_t a = cc_age_ns(co, c->now_ns);
        if (min_age >= 0 && (a < 0 || a < min_age))
            continue;
        cc_frame f;
        cc_symbolize_pc(s, co->create_pc, 1, &f);
        cc_format_frame(&f, create, sizeof create);
        cc_wait_site(c, i, wait);
        const char *reason = cc_wait_name(co);
        size_t k = 0;
        while (k < ng && !(!strcmp(g[k].create, create) &&
                           !strcmp(g[k].wait, wait) &&
                           !strcmp(g[k].reason, reason)))
            k++;
        if (k == ng) {
            if (ng == cap) {
                size_t nc = cap ? 2 * cap : 16;
                struct group *n = realloc(g, nc * sizeof *n);
                if (!n) {
                    free(g);
                    cw->sym = saved;
                    return -1;
                }
                g = n;
                cap = nc;
            }
            memset(&g[ng], 0, sizeof g[ng]);
            strcpy(g[ng].create, create);
            strcpy(g[ng].wait, wait);
            /* wait names are static, or a per-thread buffer: keep a copy */
            g[ng].reason = strdup(reason);
            g[ng].oldest = -1;
            ng++;
        }
        g[k].count++;
        if (a >= 0 && a > g[k].oldest)
            g[k].oldest = a;
        if (g[k].nids < SAMPLES)
            g[k].ids[g[k].nids++] = co->id;
    }
    cw->sym = saved;
    qsort(g, ng, sizeof *g, cmp_group);
    if (!ng) {
        if (min_age >= 0) {
            cc_format_age((uint64_t)min_age, age, sizeof age);
            fprintf(out, "No blocked coroutines waiting at least %s.\n", age);
        } else {
            fprintf(out, "No blocked coroutines.\n");
        }
    } else {
        size_t n = 0;
        for (size_t k = 0; k < ng; k++)
            n += g[k].count;
        fprintf(out, "%zu blocked coroutine%s in %zu group%s (by creation "
                "site and wait site):\n", n, n == 1 ? "" : "s", ng,
                ng == 1 ? "" : "s");
    }
    for (size_t k = 0; k < ng; k++) {
        if (g[k].oldest >= 0)
            cc_format_age((uint64_t)g[k].oldest, age, sizeof age);
        else
            strcpy(age, "-");
        fprintf(out, "\n%6zu  blocked on %s, oldest %s  [ids ", g[k].count,
                *g[k].reason ? g[k].reason : "?", age);
        for (size_t j = 0; j < g[k].nids; j++)
            fprintf(out, "%s%llu", j ? ", " : "", (unsigned long long)g[k].ids[j]);
        if (g[k].count > g[k].nids)
            fprintf(out, ", ...");
        fprintf(out, "]\n        created at  %s\n        waiting at  %s\n",
                g[k].create, g[k].wait);
        free((char *)g[k].reason);
    }
    free(g);
    return ferror(out) ? -1 : 0;
}
