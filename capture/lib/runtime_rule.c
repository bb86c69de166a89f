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
#include <ctype.h>
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
    uint64_t start;                 /* runtime_start (trampoline), or 0 */
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
    r->start = t->runtime_start;
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

/* FN as the globs name it, as runtime_rules.qualified_name does: without
 * LLDB's '::' scope or the return type a demangler prints before a
 * function template ("auto boost::asio::...::async_wait<...>(...)").  The
 * return type ends at the last space outside <...> before the parameter
 * list; an operator's name ends the search. */
const char *cc_qualified_name(const char *fn)
{
    static const char anon[] = "(anonymous namespace)";
    const char *start = fn;
    int depth = 0;
    if (fn[0] == ':' && fn[1] == ':')
        return fn + 2;
    if (!strchr(fn, '(') || !strchr(fn, ' '))
        return fn;
    for (const char *p = fn; *p; p++) {
        if (*p == '<')
            depth++;
        else if (*p == '>')
            depth -= depth > 0;
        else if (*p == '(') {
            if (strncmp(p, anon, sizeof anon - 1))
                break;
            p += sizeof anon - 2;
        } else if (*p == ' ' && !depth)
            start = p + 1;
        else if (!depth && !strncmp(p, "operator", 8) &&
                 (p == fn || !(isalnum((unsigned char)p[-1]) || p[-1] == '_')))
            break;
    }
    return start;
}

int cc_runtime_frame(const cc_runtime_rule *r, const cc_frame *f)
{
    const char *fn = f->function ? cc_qualified_name(f->function) : NULL;
    return matches(r->funcs, fn) || matches(r->files, f->file) ||
           (r->lo <= f->pc && f->pc < r->hi);
}

/* view.py past_bottom: pc 0, or a frame no symbol names with nothing
 * mapped at its pc (a sentinel such as 0xdeaddead..., or junk a runtime
 * left below its trampoline). */
static int past_bottom(cc_reader *rd, uint64_t pc, const cc_frame *f,
                       size_t nf)
{
    uint8_t b;
    if (!pc)
        return 1;
    if (nf && f[nf - 1].function)
        return 0;
    return rd && cc_read(rd, pc, &b, 1) != 0;
}

size_t cc_frames_shown(const cc_runtime_rule *r, cc_symbolizer *s,
                       cc_unwinder *u, cc_reader *rd, uint64_t entry_fn,
                       const uint64_t *pcs, size_t n, int leaf_pc)
{
    int shown = 0;
    for (size_t k = 0; k < n; k++) {
        const cc_frame *f = NULL;
        int is_return = !(k == 0 && leaf_pc);
        size_t nf = s ? cc_symbolize_frames(s, pcs[k], is_return, &f) : 0;
        uint64_t start = nf ? f[nf - 1].func_start : 0;
        if (!start && pcs[k])       /* no symbols: the FDE's start */
            start = cc_unwinder_function_start(u, f && nf ? f[0].lookup :
                                               pcs[k] - (is_return ? 1 : 0));
        if (past_bottom(rd, pcs[k], f, nf))
            return k;
        /* the runtime's start ends a stack: below a frame shown, it is
         * not shown; as the first frame (a coroutine that never ran, or
         * whose entry frame sibling calls removed) it is the last, never
         * the finish stub a runtime may plant below it */
        if (r && r->start && start == r->start)
            return shown ? k : k + 1;
        shown = 1;
        if (entry_fn && start == entry_fn)
            return k + 1;
    }
    return n;
}
