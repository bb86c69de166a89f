/* Drives libcorosym's batch lookup, name -> address and DATA API.
   Usage: batch_api MODULE [sym:NAME | data:ADDR]... < ADDRESSES
   For the addresses (hex, one a line): checks that corosym_sort_addresses
   sorts them stably, that a corosym_walk over the sorted addresses gives,
   for each, the frames corosym_symbolize gives, and that every address
   the walk calls "same" has the frames of the one before it (but for
   symbol_offset); prints "walk N same K" or the first mismatch.  Then one
   line per sym:/data: argument. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "corosym.h"

#define MAXF 64

static const char *s(const char *x) { return x ? x : "-"; }

/* One frame chain as text; WITH_OFFSET: symbol_offset too. */
static void chain(char *out, size_t cap, const corosym_frame *f, size_t n,
                  corosym_miss miss, int with_offset)
{
    size_t k = (size_t)snprintf(out, cap, "%d %zu", (int)miss, n);
    for (size_t i = 0; i < n && i < MAXF && k < cap; i++)
        k += (size_t)snprintf(out + k, cap - k,
                              " %s@%s:%u:%u:%u %s:%u@%llx %s@%llx+%llx/%llx",
                              s(f[i].function), s(f[i].file), f[i].line,
                              f[i].column, f[i].discriminator,
                              s(f[i].start_file), f[i].start_line,
                              (unsigned long long)f[i].start_address,
                              s(f[i].symbol),
                              (unsigned long long)f[i].symbol_address,
                              (unsigned long long)(with_offset
                                  ? f[i].symbol_offset : 0),
                              (unsigned long long)f[i].symbol_size);
}

static char *answer(corosym_module *m, uint64_t a, int with_offset)
{
    corosym_frame f[MAXF];
    corosym_miss miss;
    size_t n = corosym_symbolize(m, a, f, MAXF, &miss);
    char *t = malloc(8192);
    chain(t, 8192, f, n, miss, with_offset);
    return t;
}

static int check_walk(corosym_module *m, const uint64_t *addrs, size_t n)
{
    uint64_t *sorted = malloc((n + 1) * sizeof *sorted);
    uint32_t *order = malloc((n + 1) * sizeof *order);
    char *seen = calloc(n + 1, 1);
    corosym_sort_addresses(addrs, n, sorted, order);
    for (size_t j = 0; j < n; j++) {
        if (order[j] >= n || seen[order[j]] || sorted[j] != addrs[order[j]] ||
            (j && (sorted[j] < sorted[j - 1] ||
                   (sorted[j] == sorted[j - 1] && order[j] < order[j - 1])))) {
            printf("sort wrong at %zu\n", j);
            return 1;
        }
        seen[order[j]] = 1;
    }
    corosym_walk *w = corosym_walk_new(m, sorted, n);
    size_t same = 0;
    char *prev = NULL;
    for (size_t j = 0; j < n; j++) {
        int r = corosym_walk_next(w);
        corosym_frame f[MAXF];
        corosym_miss miss;
        size_t k = corosym_walk_frames(w, f, MAXF, &miss);
        char got[8192], nooff[8192];
        chain(got, sizeof got, f, k, miss, 1);
        chain(nooff, sizeof nooff, f, k, miss, 0);
        char *want = answer(m, sorted[j], 1);
        if (r < 0 || strcmp(got, want)) {
            printf("walk differs at 0x%llx: %s | %s\n",
                   (unsigned long long)sorted[j], got, want);
            return 1;
        }
        if (r == 1) {
            same++;
            if (!prev || strcmp(prev, nooff)) {
                printf("same but differs at 0x%llx\n",
                       (unsigned long long)sorted[j]);
                return 1;
            }
        }
        free(want);
        free(prev);
        prev = malloc(strlen(nooff) + 1);
        strcpy(prev, nooff);
    }
    if (corosym_walk_next(w) != -1) {
        printf("walk does not end\n");
        return 1;
    }
    corosym_walk_free(w);
    printf("walk %zu same %zu\n", n, same);
    free(prev);
    free(sorted);
    free(order);
    free(seen);
    return 0;
}

int main(int argc, char **argv)
{
    corosym_options o;
    corosym_options_init(&o);
    o.use_cache = 0;
    o.default_debug_dir = 0;
    corosym_session *ses = corosym_session_new(&o);
    if (!ses || argc < 2)
        return 2;
    corosym_module *m = corosym_module_get(ses, argv[1], NULL, 0);
    size_t n = 0, cap = 1024;
    uint64_t *addrs = malloc(cap * sizeof *addrs);
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        if (n == cap)
            addrs = realloc(addrs, (cap *= 2) * sizeof *addrs);
        addrs[n++] = strtoull(line, NULL, 16);
    }
    if (check_walk(m, addrs, n))
        return 1;
    for (int i = 2; i < argc; i++) {
        if (!strncmp(argv[i], "sym:", 4)) {
            uint64_t a = 0;
            int rc = corosym_symbol_address(m, argv[i] + 4, &a);
            printf("sym %s %d 0x%llx\n", argv[i] + 4, rc,
                   (unsigned long long)a);
        } else if (!strncmp(argv[i], "data:", 5)) {
            corosym_data d;
            corosym_miss miss = corosym_symbolize_data(
                m, strtoull(argv[i] + 5, NULL, 0), &d);
            printf("data %s %s 0x%llx %llu %s %u\n", corosym_miss_string(miss),
                   s(d.name), (unsigned long long)d.start,
                   (unsigned long long)d.size, s(d.decl_file), d.decl_line);
        }
    }
    corosym_index_stats st;
    corosym_module_index_stats(m, &st);
    printf("stats %d %d\n", st.rows > 0, st.symbols > 0);
    free(addrs);
    corosym_session_free(ses);
    return 0;
}
