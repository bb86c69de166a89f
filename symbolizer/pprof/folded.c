/*
 * folded.c - folded-stack output (see folded.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "folded.h"

int folded_sample_index(const struct pprof *pr, const char *spec, char *err,
                        size_t errlen)
{
    const PprofProfile *p = pr->p;
    size_t i;

    if (p->n_sample_type == 0) {
        if (spec && strcmp(spec, "0") != 0) {
            snprintf(err, errlen, "profile has no sample types; cannot "
                     "select sample index '%s'", spec);
            return -1;
        }
        return 0;
    }
    if (!spec) {
        if (p->default_sample_type) {
            const char *want = pprof_str(pr, p->default_sample_type);
            for (i = 0; i < p->n_sample_type; i++)
                if (strcmp(pprof_str(pr, p->sample_type[i]->type), want) == 0)
                    return (int)i;
        }
        return (int)p->n_sample_type - 1;
    }
    if (spec[0] >= '0' && spec[0] <= '9') {
        char *end;
        unsigned long v;
        errno = 0;
        v = strtoul(spec, &end, 10);
        if (*end || errno || v >= p->n_sample_type) {
            snprintf(err, errlen, "sample index '%s' out of range (profile "
                     "has %zu sample types)", spec, p->n_sample_type);
            return -1;
        }
        return (int)v;
    }
    for (i = 0; i < p->n_sample_type; i++)
        if (strcmp(pprof_str(pr, p->sample_type[i]->type), spec) == 0)
            return (int)i;
    {
        /* name the choices in the error */
        char list[160];
        size_t off = 0;
        list[0] = '\0';
        for (i = 0; i < p->n_sample_type && off < sizeof list - 1; i++) {
            int n = snprintf(list + off, sizeof list - off, "%s%s",
                             i ? ", " : "",
                             pprof_str(pr, p->sample_type[i]->type));
            if (n < 0)
                break;
            off += (size_t)n;
        }
        snprintf(err, errlen, "no sample type '%s' (have: %s)", spec, list);
    }
    return -1;
}

struct buf {
    char *s;
    size_t len, cap;
    int nomem;
};

static void buf_put(struct buf *b, const char *s, size_t n)
{
    if (b->nomem)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t ncap = (b->len + n + 1) * 2;
        char *ns = realloc(b->s, ncap);
        if (!ns) {
            b->nomem = 1;
            return;
        }
        b->s = ns;
        b->cap = ncap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

/* Appends NAME with ';' and control characters replaced. */
static void buf_name(struct buf *b, const char *name)
{
    const char *p;

    for (p = name; *p; p++) {
        char c = *p;
        if (c == ';' || (unsigned char)c < 0x20 || c == 0x7f)
            c = '_';
        buf_put(b, &c, 1);
    }
}

static void frame_unknown(struct pprof *pr, struct buf *b,
                          const PprofLocation *l)
{
    char num[40];
    const PprofMapping *m = pprof_mapping_by_id(pr, l->mapping_id);

    if (m && l->address >= m->memory_start) {
        const char *file = pprof_str(pr, m->filename);
        const char *base = strrchr(file, '/');
        base = base ? base + 1 : file;
        if (!*base)
            base = "?";
        buf_name(b, base);
        snprintf(num, sizeof num, "+0x%llx",
                 (unsigned long long)(l->address - m->memory_start +
                                      m->file_offset));
    } else {
        snprintf(num, sizeof num, "0x%llx", (unsigned long long)l->address);
    }
    buf_put(b, num, strlen(num));
}

struct stack {
    char *s;
    int64_t v;
};

static int cmp_stack(const void *a, const void *b)
{
    return strcmp(((const struct stack *)a)->s, ((const struct stack *)b)->s);
}

/* The frames of location L, root-first and ';'-joined, into B (reset). */
static void location_frames(struct pprof *pr, struct buf *b,
                            const PprofLocation *l)
{
    size_t k;

    b->len = 0;
    if (l->n_line == 0) {
        frame_unknown(pr, b, l);
        return;
    }
    /* line[0] is the innermost inlined frame: outermost first */
    for (k = l->n_line; k-- > 0;) {
        const PprofFunction *f =
            pprof_function_by_id(pr, l->line[k]->function_id);
        const char *name = f ? pprof_str(pr, f->name) : "";
        if (!*name && f)
            name = pprof_str(pr, f->system_name);
        if (k + 1 < l->n_line)
            buf_put(b, ";", 1);
        if (*name)
            buf_name(b, name);
        else
            frame_unknown(pr, b, l);
    }
}

int folded_write(struct pprof *pr, FILE *out, int idx, char *err,
                 size_t errlen)
{
    const PprofProfile *p = pr->p;
    struct stack *st = NULL;
    char **locstr = NULL;   /* per location index, built on first use */
    size_t *loclen = NULL;
    size_t nst = 0, i, j;
    struct buf b = {0}, lb = {0};
    int rc = PPROF_OK;

    st = calloc(p->n_sample ? p->n_sample : 1, sizeof *st);
    locstr = calloc(p->n_location ? p->n_location : 1, sizeof *locstr);
    loclen = calloc(p->n_location ? p->n_location : 1, sizeof *loclen);
    if (!st || !locstr || !loclen)
        goto nomem;
    for (i = 0; i < p->n_sample; i++) {
        const PprofSample *s = p->sample[i];
        int first = 1;

        if (s->n_location_id == 0 || (size_t)idx >= s->n_value)
            continue;
        b.len = 0;
        /* location_id[0] is the leaf: walk backwards for root-first */
        for (j = s->n_location_id; j-- > 0;) {
            long li = pprof_location_index(pr, s->location_id[j]);
            if (li < 0)
                continue;
            if (!locstr[li]) {
                location_frames(pr, &lb, p->location[li]);
                if (lb.nomem || !lb.s || !(locstr[li] = strdup(lb.s)))
                    goto nomem;
                loclen[li] = lb.len;
            }
            if (!first)
                buf_put(&b, ";", 1);
            first = 0;
            buf_put(&b, locstr[li], loclen[li]);
        }
        if (b.nomem || !b.s)
            goto nomem;
        st[nst].s = malloc(b.len + 1);
        if (!st[nst].s)
            goto nomem;
        memcpy(st[nst].s, b.s, b.len + 1);
        st[nst].v = s->value[idx];
        nst++;
    }
    qsort(st, nst, sizeof *st, cmp_stack);
    for (i = 0; i < nst; i = j) {
        int64_t sum = 0;
        for (j = i; j < nst && strcmp(st[j].s, st[i].s) == 0; j++)
            sum = (int64_t)((uint64_t)sum + (uint64_t)st[j].v);
        if (sum != 0)
            fprintf(out, "%s %lld\n", st[i].s, (long long)sum);
    }
    if (fflush(out) != 0 || ferror(out)) {
        rc = PPROF_E_IO;
        snprintf(err, errlen, "writing folded stacks: %s", strerror(errno));
    }
    goto out;
nomem:
    rc = PPROF_E_NOMEM;
    snprintf(err, errlen, "out of memory");
out:
    for (i = 0; i < nst; i++)
        free(st[i].s);
    free(st);
    if (locstr)
        for (i = 0; i < p->n_location; i++)
            free(locstr[i]);
    free(locstr);
    free(loclen);
    free(b.s);
    free(lb.s);
    return rc;
}
