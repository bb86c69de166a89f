/* lineproto.c - parse llvm-symbolizer input lines. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "lineproto.h"

void corosym_request_free(corosym_request *r)
{
    free(r->module);
    free(r->symbol);
    free(r->error);
    memset(r, 0, sizeof *r);
}

static int consume(const char **p, const char *end, const char *w)
{
    size_t n = strlen(w);
    if ((size_t)(end - *p) >= n && memcmp(*p, w, n) == 0) {
        *p += n;
        return 1;
    }
    return 0;
}

static int is_delim(char c) { return c == ' ' || c == '\n' || c == '\r'; }

static void ltrim(const char **p, const char *end)
{
    while (*p < end && (**p == ' ' || **p == '\t' || **p == '\n' ||
                        **p == '\r' || **p == '\v' || **p == '\f'))
        (*p)++;
}

/* llvm's getSpaceDelimitedWord; returns 0 on unbalanced quotes. */
static int word(const char **p, const char *end, const char **w, size_t *wn)
{
    while (*p < end && is_delim(**p))
        (*p)++;
    if (*p < end && (**p == '"' || **p == '\'')) {
        char q = **p;
        const char *s = *p + 1;
        const char *e = memchr(s, q, (size_t)(end - s));
        if (!e)
            return 0;
        *w = s;
        *wn = (size_t)(e - s);
        *p = e + 1;
        return 1;
    }
    const char *s = *p;
    while (*p < end && !is_delim(**p))
        (*p)++;
    *w = s;
    *wn = (size_t)(*p - s);
    return 1;
}

/* StringRef::getAsInteger(0, v): 0x, 0b, 0o / leading 0 octal, decimal. */
static int as_integer(const char *s, size_t n, uint64_t *v)
{
    unsigned base = 10;
    if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16; s += 2; n -= 2;
    } else if (n >= 2 && s[0] == '0' && (s[1] == 'b' || s[1] == 'B')) {
        base = 2; s += 2; n -= 2;
    } else if (n >= 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'O')) {
        base = 8; s += 2; n -= 2;
    } else if (n >= 2 && s[0] == '0') {
        base = 8; s += 1; n -= 1;
    }
    if (n == 0)
        return -1;
    uint64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'z') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'Z') d = c - 'A' + 10;
        else return -1;
        if ((unsigned)d >= base)
            return -1;
        uint64_t nx = x * base + (unsigned)d;
        if (nx / base != x && x != 0)
            return -1;
        if (x > UINT64_MAX / base)
            return -1;
        x = nx;
    }
    *v = x;
    return 0;
}

/* A request is read in three phases, each returning llvm's message for
   a bad line, or NULL. */

/* Phase 1: "CODE " / "DATA " / "FRAME ", then at most one FILE: or
   BUILDID: prefix (*HAS_FILE, *HAS_BID). */
static const char *parse_prefixes(const char **p, const char *end,
                                  corosym_request *r, int *has_file,
                                  int *has_bid)
{
    if (consume(p, end, "CODE "))
        r->kind = CS_REQ_CODE;
    else if (consume(p, end, "DATA "))
        r->kind = CS_REQ_DATA;
    else if (consume(p, end, "FRAME "))
        r->kind = CS_REQ_FRAME;
    while (*p < end) {
        ltrim(p, end);
        int file = consume(p, end, "FILE:");
        if (!file && !consume(p, end, "BUILDID:"))
            break;
        if (*has_file || *has_bid)
            return "duplicate input file specification prefix";
        *(file ? has_file : has_bid) = 1;
    }
    return NULL;
}

/* Phase 2: the module, after a prefix, or the first word when there is
   no default object. */
static const char *parse_module(const char **p, const char *end,
                                int have_default, int has_file, int has_bid,
                                corosym_request *r)
{
    const char *w;
    size_t wn;
    if (has_file || has_bid) {
        ltrim(p, end);
        if (*p >= end)
            return has_file ? "must be followed by an input file"
                            : "must be followed by a hash";
        if (have_default)
            return "input file has already been specified";
        if (!word(p, end, &w, &wn) || wn == 0)
            return "unbalanced quotes in input file name";
        if (has_bid)
            return cs_unhex(w, wn, r->build_id, sizeof r->build_id,
                            &r->build_id_len) < 0
                       ? "wrong format of build-id" : NULL;
    } else if (!have_default) {
        if (!word(p, end, &w, &wn) || wn == 0)
            return "no input filename has been specified";
    } else {
        return NULL;
    }
    r->module = cs_xmalloc(wn + 1);
    memcpy(r->module, w, wn);
    r->module[wn] = 0;
    return NULL;
}

/* Phase 3: the address, or SYMBOL[+OFFSET], in [P, END). */
static const char *parse_target(const char *p, const char *end,
                                corosym_request *r)
{
    ltrim(&p, end);
    while (end > p && isspace((unsigned char)end[-1]))
        end--;
    if (p >= end)
        return "no module offset has been specified";
    const char *a = p;
    while (p < end && !is_delim(*p))
        p++;
    size_t an = (size_t)(p - a);
    if (as_integer(a, an, &r->offset) == 0)
        return NULL;
    if (isdigit((unsigned char)a[0]))
        return "expected a number as module offset";
    r->offset = 0;
    const char *plus = NULL;
    for (const char *q = a + an; q-- > a;)
        if (*q == '+') {
            plus = q;
            break;
        }
    size_t sn = an;
    if (plus && plus > a && plus + 1 < a + an &&
        as_integer(plus + 1, (size_t)(a + an - plus - 1), &r->offset) == 0)
        sn = (size_t)(plus - a);
    else
        r->offset = 0;
    r->symbol = cs_xmalloc(sn + 1);
    memcpy(r->symbol, a, sn);
    r->symbol[sn] = 0;
    return NULL;
}

void corosym_parse_request(const char *line, size_t len, int have_default,
                           corosym_request *r)
{
    memset(r, 0, sizeof *r);
    const char *p = line, *end = line + len;
    /* an embedded NUL ends the line, as in a C string */
    const char *z = memchr(line, 0, len);
    if (z)
        end = z;
    while (end > p && (end[-1] == '\n' || end[-1] == '\r'))
        end--;
    int has_file = 0, has_bid = 0;
    const char *err = parse_prefixes(&p, end, r, &has_file, &has_bid);
    if (!err)
        err = parse_module(&p, end, have_default, has_file, has_bid, r);
    if (!err)
        err = parse_target(p, end, r);
    if (err)
        r->error = cs_xstrdup(err);
}
