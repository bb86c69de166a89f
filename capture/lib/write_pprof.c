/*
 * write_pprof.c -- `dump --format pprof`: a "coroutines" profile in the
 * shape of Go's goroutine profile (`coroutines/count`): one sample per
 * unique (stack, state, wait reason), its count as the value, the state
 * and wait reason as string labels.  Every Mapping carries its module's
 * build-id, so `corosym pprof` can symbolize it on another machine.
 */
#include <stdio.h>

#include "corocap.h"
#include "pprof_build.h"
#include "write_int.h"

/* PATH or, when NULL, F. */
static int write_to(const char *path, FILE *f, const cc_capture *c, char *err)
{
    static const char *const types[] = {"coroutines", "count"};
    static const char *const keys[] = {"state", "wait"};
    struct cc_groups g;
    cc_pprof *p = cc_pprof_new(c->target, types, 1);
    int rc = -1;
    if (!p || cc_group_stacks(c, 1, &g)) {
        snprintf(err, CC_ERRLEN, "out of memory");
        cc_pprof_free(p);
        return -1;
    }
    for (size_t k = 0; k < g.n; k++) {
        size_t first = g.order[g.start[k]];
        const cc_coroutine *co = &c->table->cos[first];
        int64_t count = (int64_t)(g.start[k + 1] - g.start[k]);
        const char *vals[] = {cc_state_name(co->state), cc_wait_name(co)};
        if (cc_pprof_sample(p, c->raw[first], c->nraw[first], cc_on_thread(co),
                            &c->stacks[first], &count, keys, vals, 2, NULL,
                            0)) {
            snprintf(err, CC_ERRLEN, "out of memory");
            goto out;
        }
    }
    rc = path ? cc_pprof_write(p, path, 1, 0, 0, err)
              : cc_pprof_write_fp(p, f, 1, 0, 0, err);
out:
    cc_groups_free(&g);
    cc_pprof_free(p);
    return rc;
}

int cc_write_pprof(const char *path, const cc_capture *c, char *err)
{
    return write_to(path, NULL, c, err);
}

int cc_write_pprof_fp(FILE *f, const cc_capture *c, char *err)
{
    return write_to(NULL, f, c, err);
}
