/*
 * http.c -- parse one HTTP/1.1 request head.
 *
 * The agent answers one GET or HEAD per connection and closes it, so
 * this is all of HTTP it needs: the request line, the headers (only
 * Authorization is kept), and the query string.  Everything else a
 * client may send is refused with the status RFC 9110 gives for it and a
 * one-line reason, never guessed at.  No allocation: the result is fixed
 * arrays in ca_request, so an input can only be refused, never grow us.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"

static int bad(ca_request *r, int status, const char *why)
{
    r->status = status;
    r->why = why;
    return CA_HTTP_BAD;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode SRC[0..N) into OUT (ROOM bytes, NUL-terminated); PLUS:
 * '+' is a space (query strings).  -1 on a bad escape, a decoded control
 * character or no room. */
static int decode(const char *src, size_t n, char *out, size_t room,
                  int plus)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)src[i];
        if (c == '%') {
            if (i + 2 >= n)
                return -1;
            int hi = hexval((unsigned char)src[i + 1]);
            int lo = hexval((unsigned char)src[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = hi * 16 + lo;
            i += 2;
        } else if (c == '+' && plus) {
            c = ' ';
        }
        if (c < 0x20 || c == 0x7f)
            return -1;
        if (o + 1 >= room)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = 0;
    return 0;
}

static int is_tchar(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

int ca_http_parse(const char *buf, size_t len, ca_request *req)
{
    memset(req, 0, sizeof *req);
    /* Where the head ends: the first empty line (CRLF or a bare LF). */
    size_t end = 0, scan = len < CA_HTTP_MAX_HEAD ? len : CA_HTTP_MAX_HEAD;
    for (size_t i = 0; i < scan; i++) {
        if (buf[i] == 0)
            return bad(req, 400, "a NUL byte in the request head");
        if (buf[i] != '\n')
            continue;
        if (i >= 1 && buf[i - 1] == '\n') {
            end = i + 1;
            break;
        }
        if (i >= 2 && buf[i - 1] == '\r' && buf[i - 2] == '\n') {
            end = i + 1;
            break;
        }
    }
    if (!end)
        return len >= CA_HTTP_MAX_HEAD
                   ? bad(req, 431, "request head larger than 8192 bytes")
                   : CA_HTTP_MORE;
    req->head_len = end;

    /* Lines of the head, each without its CR LF. */
    const char *p = buf, *stop = buf + end;
    const char *eol = memchr(p, '\n', (size_t)(stop - p));
    size_t ll = (size_t)(eol - p);
    if (ll && p[ll - 1] == '\r')
        ll--;
    /* request-line = method SP request-target SP HTTP-version */
    const char *sp1 = memchr(p, ' ', ll);
    if (!sp1)
        return bad(req, 400, "malformed request line");
    const char *sp2 = memchr(sp1 + 1, ' ', ll - (size_t)(sp1 + 1 - p));
    if (!sp2 || memchr(sp2 + 1, ' ', ll - (size_t)(sp2 + 1 - p)))
        return bad(req, 400, "malformed request line");
    size_t ml = (size_t)(sp1 - p);
    if (!ml || ml >= sizeof req->method)
        return bad(req, 405, "unknown method (only GET and HEAD)");
    for (size_t i = 0; i < ml; i++)
        if (p[i] < 'A' || p[i] > 'Z')
            return bad(req, 400, "malformed method");
    memcpy(req->method, p, ml);
    size_t vl = ll - (size_t)(sp2 + 1 - p);
    if (vl != 8 || memcmp(sp2 + 1, "HTTP/1.", 7) ||
        (sp2[8] != '0' && sp2[8] != '1'))
        return bad(req, 505, "only HTTP/1.0 and HTTP/1.1");
    if (!strcmp(req->method, "HEAD"))
        req->head_only = 1;
    else if (strcmp(req->method, "GET"))
        return bad(req, 405, "method not allowed (only GET and HEAD)");
    const char *target = sp1 + 1;
    size_t tl = (size_t)(sp2 - target);
    if (!tl || target[0] != '/')
        return bad(req, 400, "the request target must be a path");
    for (size_t i = 0; i < tl; i++)
        if ((unsigned char)target[i] <= 0x20 || target[i] == 0x7f)
            return bad(req, 400, "a control character in the request target");
    const char *q = memchr(target, '?', tl);
    size_t pl = q ? (size_t)(q - target) : tl;
    if (pl >= sizeof req->path)
        return bad(req, 414, "path longer than 255 bytes");
    if (decode(target, pl, req->path, sizeof req->path, 0))
        return bad(req, 400, "bad percent-escape in the path");
    if (q) {
        size_t ql = tl - pl - 1;
        if (ql >= sizeof req->query)
            return bad(req, 414, "query longer than 1023 bytes");
        memcpy(req->query, q + 1, ql);
        req->query[ql] = 0;
    }

    /* header-field = field-name ":" OWS field-value OWS */
    unsigned nheaders = 0;
    for (p = eol + 1; p < stop; p = eol + 1) {
        eol = memchr(p, '\n', (size_t)(stop - p));
        ll = (size_t)(eol - p);
        if (ll && p[ll - 1] == '\r')
            ll--;
        if (!ll)
            break;                      /* the blank line */
        if (++nheaders > CA_HTTP_MAX_HEADERS)
            return bad(req, 431, "more than 64 header fields");
        if (p[0] == ' ' || p[0] == '\t')
            return bad(req, 400, "obsolete header line folding");
        const char *colon = memchr(p, ':', ll);
        if (!colon || colon == p)
            return bad(req, 400, "malformed header field");
        for (const char *c = p; c < colon; c++)
            if (!is_tchar((unsigned char)*c))
                return bad(req, 400, "malformed header field name");
        const char *v = colon + 1, *ve = p + ll;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        for (const char *c = v; c < ve; c++)
            if (((unsigned char)*c < 0x20 && *c != '\t') || *c == 0x7f)
                return bad(req, 400, "a control character in a header");
        size_t nl = (size_t)(colon - p);
        if (nl == 13 && !strncasecmp(p, "Authorization", 13)) {
            if ((size_t)(ve - v) >= sizeof req->auth)
                return bad(req, 431, "Authorization header too long");
            memcpy(req->auth, v, (size_t)(ve - v));
            req->auth[ve - v] = 0;
        } else if (nl == 17 && !strncasecmp(p, "Transfer-Encoding", 17)) {
            return bad(req, 400, "a request body is not accepted");
        } else if (nl == 14 && !strncasecmp(p, "Content-Length", 14)) {
            if (ve - v != 1 || *v != '0')
                return bad(req, 400, "a request body is not accepted");
        }
    }
    return CA_HTTP_DONE;
}

/* The value of NAME in QUERY ("a=1&b=2"), raw: start and length. */
static int find_param(const char *query, const char *name, const char **val,
                      size_t *vlen)
{
    size_t nl = strlen(name);
    for (const char *p = query; *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t kl = eq ? (size_t)(eq - p) : len;
        if (kl == nl && !memcmp(p, name, nl)) {
            *val = eq ? eq + 1 : p + len;
            *vlen = eq ? len - kl - 1 : 0;
            return 1;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    return 0;
}

int ca_query_get(const char *query, const char *name, char *out, size_t room)
{
    const char *v;
    size_t vl;
    if (!find_param(query, name, &v, &vl))
        return 0;
    return decode(v, vl, out, room, 1) ? -1 : 1;
}

int ca_query_uint(const char *query, const char *name, uint64_t lo,
                  uint64_t hi, uint64_t dflt, uint64_t *out, char *why,
                  size_t room)
{
    char s[32];
    int found = ca_query_get(query, name, s, sizeof s);
    *out = dflt;
    if (!found)
        return 0;
    uint64_t v = 0;
    int ok = found > 0 && s[0];
    for (const char *c = s; ok && *c; c++) {
        if (*c < '0' || *c > '9' || v > (UINT64_MAX - 9) / 10)
            ok = 0;
        else
            v = v * 10 + (uint64_t)(*c - '0');
    }
    if (!ok || v < lo || v > hi) {
        snprintf(why, room, "%s must be an integer in %llu..%llu", name,
                 (unsigned long long)lo, (unsigned long long)hi);
        return -1;
    }
    *out = v;
    return 0;
}

int ca_query_check(const char *query, const char *const *names, char *why,
                   size_t room)
{
    for (const char *p = query; *p;) {
        const char *amp = strchr(p, '&');
        size_t len = amp ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', len);
        size_t kl = eq ? (size_t)(eq - p) : len;
        int known = !kl;            /* "a=1&&b=2": an empty piece is fine */
        for (size_t i = 0; !known && names[i]; i++)
            known = strlen(names[i]) == kl && !memcmp(names[i], p, kl);
        if (!known) {
            snprintf(why, room, "unknown parameter '%.*s'",
                     (int)(kl > 40 ? 40 : kl), p);
            return -1;
        }
        if (!amp)
            break;
        p = amp + 1;
    }
    return 0;
}
