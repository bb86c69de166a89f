/*
 * runtime_rule.c -- "is this frame runtime code?", as the debuggers decide
 * it (python/corodbg/core/runtime_rules.py: runtime_policy, RuntimeRule,
 * RuntimeFrames.is_runtime):
 *   - the built-in globs (generated from runtime_rules.py into
 *     runtime_rules.h, written once, in the core) plus the runtime's
 *     own, taken from the table's self-description: runtime_code "glob"
 *     entries name functions, "file:glob" entries source files;
 *   - or the frame's pc inside the runtime's [runtime_code_lo, _hi).
 * Globs match as Python's fnmatch.translate does: '*' crosses '/', no
 * backslash escapes, case-sensitive; a leading "::" of a function name
 * (LLDB's C++ file-static spelling) is skipped.
 */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "corocap.h"
#include "cc_int.h"
#include "runtime_rules.h"

struct cc_runtime_rule {
    const char **funcs, **files;    /* NULL-terminated */
    char *buf;                      /* the runtime's own globs, split */
    uint64_t lo, hi;
};

static int listed(const char *const *list, const char *g)
{
    for (size_t i = 0; list[i]; i++)
        if (!strcmp(list[i], g))
            return 1;
    return 0;
}

/* BUILTIN plus the globs of the runtime not already in it (RuntimeRule's
 * union, built-in first). */
static const char **with_builtin(const char *const *builtin, size_t extra)
{
    size_t nb = 0;
    while (builtin[nb])
        nb++;
    const char **out = calloc(nb + extra + 1, sizeof *out);
    if (out)
        memcpy(out, builtin, nb * sizeof *out);
    return out;
}

static void add(const char **list, const char *g)
{
    size_t n = 0;
    while (list[n])
        n++;
    if (!listed(list, g))
        list[n] = g;
}

cc_runtime_rule *cc_runtime_rule_new(const cc_table *t)
{
    cc_runtime_rule *r = calloc(1, sizeof *r);
    const char *code = t->runtime_code ? t->runtime_code : "";
    size_t pieces = 1;
    for (const char *p = code; *p; p++)
        pieces += *p == ',';
    if (!r || !(r->buf = strdup(code)) ||
        !(r->funcs = with_builtin(cc_runtime_function_globs, pieces)) ||
        !(r->files = with_builtin(cc_runtime_file_globs, pieces))) {
        cc_runtime_rule_free(r);
        return NULL;
    }
    /* runtime_policy: comma-separated, stripped, empty ones dropped */
    for (char *save = NULL, *g = strtok_r(r->buf, ",", &save); g;
         g = strtok_r(NULL, ",", &save)) {
        while (*g == ' ' || (*g >= '\t' && *g <= '\r'))
            g++;
        char *e = g + strlen(g);
        while (e > g && (e[-1] == ' ' || (e[-1] >= '\t' && e[-1] <= '\r')))
            *--e = 0;
        if (!*g)
            continue;
        if (!strncmp(g, "file:", 5)) {
            if (g[5])
                add(r->files, g + 5);
        } else
            add(r->funcs, g);
    }
    if (t->runtime_code_lo < t->runtime_code_hi) {
        r->lo = t->runtime_code_lo;
        r->hi = t->runtime_code_hi;
    }
    return r;
}

void cc_runtime_rule_free(cc_runtime_rule *r)
{
    if (!r)
        return;
    free(r->funcs);
    free(r->files);
    free(r->buf);
    free(r);
}

static int matches(const char *const *globs, const char *s)
{
    for (size_t i = 0; s && *s && globs[i]; i++)
        if (!fnmatch(globs[i], s, FNM_NOESCAPE))
            return 1;
    return 0;
}

int cc_runtime_frame(const cc_runtime_rule *r, const cc_frame *f)
{
    const char *fn = f->function;
    if (fn && fn[0] == ':' && fn[1] == ':')
        fn += 2;
    return matches(r->funcs, fn) || matches(r->files, f->file) ||
           (r->lo <= f->pc && f->pc < r->hi);
}
