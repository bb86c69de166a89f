/*
 * write_grouped.c -- `dump --format grouped`: Go's goroutine debug=1
 * layout, one block per unique stack with its count and its states:
 *
 *   coroutine profile: total 1000
 *   200 @ 0x55d0c0a01234 0x55d0c0a015a0 0x55d0c0a01a10
 *   # blocked (chan receive): 200
 *   #	0x55d0c0a01234	wait_request	/src/examples/server.c:42
 */
#include <stdio.h>
#include <string.h>

#include <corodbg.h>

#include "corocap.h"
#include "write_int.h"

int cc_write_grouped(FILE *out, const cc_capture *c)
{
    struct cc_groups g;
    if (cc_group_stacks(c, 0, &g))
        return -1;
    fprintf(out, "coroutine profile: total %zu\n", c->table->ncos);
    for (size_t k = 0; k < g.n; k++) {
        size_t first = g.order[g.start[k]];
        size_t count = g.start[k + 1] - g.start[k];
        fprintf(out, "%zu @", count);
        for (size_t i = 0; i < c->nraw[first]; i++)
            fprintf(out, " 0x%llx", (unsigned long long)c->raw[first][i]);
        fputc('\n', out);
        /* the states in the group: (state, wait) tallies, first seen order */
        uint32_t st[64], wt[64];
        size_t cnt[64], ns = 0;
        for (size_t m = g.start[k]; m < g.start[k + 1]; m++) {
            const cc_coroutine *co = &c->table->cos[g.order[m]];
            uint32_t w = co->state == CORODBG_BLOCKED ? co->wait_reason : ~0u;
            size_t j = 0;
            while (j < ns && !(st[j] == co->state && wt[j] == w))
                j++;
            if (j == ns && ns < 64) {
                st[ns] = co->state;
                wt[ns] = w;
                cnt[ns++] = 0;
            }
            if (j < ns)
                cnt[j]++;
        }
        for (size_t j = 0; j < ns; j++) {
            cc_coroutine probe = {.state = st[j], .wait_reason = wt[j]};
            const char *w = cc_wait_name(&probe);
            fprintf(out, "# %s%s%s%s: %zu\n", cc_state_name(st[j]),
                    *w ? " (" : "", w, *w ? ")" : "", cnt[j]);
        }
        const cc_stack *s = &c->stacks[first];
        for (size_t i = 0; i < s->n; i++) {
            const cc_frame *f = &s->f[i];
            fprintf(out, "#\t0x%llx\t", (unsigned long long)f->pc);
            if (f->function)
                fprintf(out, "%s", f->function);
            else if (f->mod)
                fprintf(out, "%s+0x%llx", f->mod->path,
                        (unsigned long long)(f->pc - f->mod->bias));
            else
                fprintf(out, "??");
            if (f->file && f->line)
                fprintf(out, "\t%s:%u", f->file, f->line);
            fputc('\n', out);
        }
        if (!s->n && s->error)
            fprintf(out, "#\t(no stack: %s)\n", s->error);
        fputc('\n', out);
    }
    cc_groups_free(&g);
    cc_write_modules(out, c, "# ");
    cc_write_trailer(out, c, "# ");
    return ferror(out) ? -1 : 0;
}
