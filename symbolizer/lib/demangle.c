/* demangle.c - Itanium C++ demangling with libstdc++'s __cxa_demangle,
   rewritten to the spelling of LLVM's demangler (llvm-symbolizer 19):
     clone suffixes   "f() [clone .isra.0]"  -> "f() (.isra.0)"
     closing brackets "A<B<int> >"           -> "A<B<int>>"
     lambdas          "{lambda(int)#1}"      -> "'lambda'(int)"
                      "{lambda(int)#3}"      -> "'lambda1'(int)"
     unnamed types    "{unnamed type#1}"     -> "'unnamed'"
   Names that do not demangle are returned unchanged, as llvm does. */
#include <stdlib.h>
#include <string.h>

#include "corosym_int.h"

extern char *__cxa_demangle(const char *mangled, char *buf, size_t *len,
                            int *status);

/* Rewrites "{lambda(ARGS)#N}" / "{unnamed type#N}" in S. */
static void closures(cs_buf *o, const char *s)
{
    while (*s) {
        const char *kind = NULL;
        size_t klen = 0;
        if (strncmp(s, "{lambda(", 8) == 0) {
            kind = "lambda";
            klen = 7;
        } else if (strncmp(s, "{unnamed type#", 14) == 0) {
            kind = "unnamed";
            klen = 13;
        }
        if (kind) {
            /* find the matching '}' of this closure (nesting aware) */
            int depth = 0;
            const char *e = s;
            for (; *e; e++) {
                if (*e == '{')
                    depth++;
                else if (*e == '}' && --depth == 0)
                    break;
            }
            const char *hash = NULL;
            for (const char *q = e; q > s; q--)
                if (*q == '#') {
                    hash = q;
                    break;
                }
            if (*e == '}' && hash) {
                long n = strtol(hash + 1, NULL, 10);
                cs_buf_add(o, "'", 1);
                cs_buf_add(o, kind, strlen(kind));
                if (n >= 2) {
                    char num[24];
                    int l = snprintf(num, sizeof num, "%ld", n - 2);
                    cs_buf_add(o, num, (size_t)l);
                }
                cs_buf_add(o, "'", 1);
                if (kind[0] == 'l') {
                    /* the parameter list, itself rewritten */
                    size_t plen = (size_t)(hash - (s + klen));
                    char *params = cs_xmalloc(plen + 1);
                    memcpy(params, s + klen, plen);
                    params[plen] = 0;
                    closures(o, params);
                    free(params);
                }
                s = e + 1;
                continue;
            }
        }
        cs_buf_add(o, s, 1);
        s++;
    }
}

static char *llvm_style(const char *d, const char *suffix)
{
    cs_buf o = {0};
    closures(&o, d);
    cs_buf_add(&o, "", 1);
    /* "> >" -> ">>" repeatedly (">> >" too) */
    char *p = o.p, *w = o.p;
    for (char *r = p; *r; r++) {
        if (*r == ' ' && w > p && w[-1] == '>' && r[1] == '>')
            continue;
        *w++ = *r;
    }
    *w = 0;
    o.n = (size_t)(w - o.p);
    if (suffix) {
        cs_buf_add(&o, " (", 2);
        cs_buf_add(&o, suffix, strlen(suffix));
        cs_buf_add(&o, ")", 2);
    } else {
        cs_buf_add(&o, "", 1);
    }
    return o.p;
}

char *cs_demangle(const char *name)
{
    if (!name || name[0] != '_' || name[1] != 'Z')
        return NULL;
    const char *dot = strchr(name, '.');
    char *base = NULL;
    if (dot) {
        size_t n = (size_t)(dot - name);
        base = cs_xmalloc(n + 1);
        memcpy(base, name, n);
        base[n] = 0;
    }
    int st = 0;
    char *d = __cxa_demangle(base ? base : name, NULL, NULL, &st);
    free(base);
    if (!d || st != 0) {
        free(d);
        return NULL;
    }
    char *r = llvm_style(d, dot);
    free(d);
    return r;
}
