/*
 * group.c -- coroutines with the same raw stack (and, for pprof, the same
 * state and wait reason) as one group: a sort of indexes, then runs.
 */
#include <stdlib.h>
#include <string.h>

#include "corocap.h"
#include "write_int.h"

static const cc_capture *cur;
static int cur_by_state;

static int cmp_key(size_t a, size_t b)
{
    const cc_capture *c = cur;
    if (c->nraw[a] != c->nraw[b])
        return c->nraw[a] < c->nraw[b] ? -1 : 1;
    /* a shared stack (cc_capture_take) is the same array */
    for (size_t k = 0; c->raw[a] != c->raw[b] && k < c->nraw[a]; k++)
        if (c->raw[a][k] != c->raw[b][k])
            return c->raw[a][k] < c->raw[b][k] ? -1 : 1;
    if (!cur_by_state)
        return 0;
    const cc_coroutine *x = &c->table->cos[a], *y = &c->table->cos[b];
    if (x->state != y->state)
        return x->state < y->state ? -1 : 1;
    uint32_t wx = x->state == 3 ? x->wait_reason : 0;
    uint32_t wy = y->state == 3 ? y->wait_reason : 0;
    return wx < wy ? -1 : wx > wy;
}

static int cmp_idx(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    int c = cmp_key(x, y);
    return c ? c : (x < y ? -1 : x > y);
}

struct run { size_t first, len; };

static int cmp_run(const void *a, const void *b)
{
    const struct run *x = a, *y = b;
    if (x->len != y->len)
        return x->len > y->len ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

int cc_group_stacks(const cc_capture *c, int by_state, struct cc_groups *g)
{
    size_t n = c->table->ncos;
    memset(g, 0, sizeof *g);
    size_t *idx = malloc((n ? n : 1) * sizeof *idx);
    struct run *runs = malloc((n ? n : 1) * sizeof *runs);
    g->order = malloc((n ? n : 1) * sizeof *g->order);
    g->start = malloc((n + 1) * sizeof *g->start);
    if (!idx || !runs || !g->order || !g->start) {
        free(idx);
        free(runs);
        cc_groups_free(g);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        idx[i] = i;
    cur = c;               /* qsort has no context argument in C11 */
    cur_by_state = by_state;
    qsort(idx, n, sizeof *idx, cmp_idx);
    size_t nr = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && !cmp_key(idx[i], idx[j]))
            j++;
        runs[nr++] = (struct run){i, j - i};
        i = j;
    }
    qsort(runs, nr, sizeof *runs, cmp_run);
    size_t pos = 0;
    for (size_t r = 0; r < nr; r++) {
        g->start[r] = pos;
        memcpy(g->order + pos, idx + runs[r].first, runs[r].len * sizeof *idx);
        pos += runs[r].len;
    }
    g->start[nr] = pos;
    g->n = nr;
    free(idx);
    free(runs);
    return 0;
}

void cc_groups_free(struct cc_groups *g)
{
    free(g->order);
    free(g->start);
    memset(g, 0, sizeof *g);
}
