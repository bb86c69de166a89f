/* util.c - allocation, formatting, hashing, string pool. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>

#include "util.h"

void cs_oom(void)
{
    fputs("corosym: out of memory\n", stderr);
    exit(70);
}

/* Large blocks (the index arrays, the render buffers) are filled right
   after they are allocated, one 4 KiB page fault at a time.  Asking for
   transparent huge pages (the system's default setting "madvise" gives
   them only on request) turns ~10,000 faults of a cold run into a few
   dozen.  Only the 2 MiB-aligned interior is advised; failure is fine. */
#define HUGE_MIN ((size_t)4 << 20)
static void *hint_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    if (n >= HUGE_MIN) {
        uintptr_t lo = ((uintptr_t)p + (2u << 20) - 1) & ~(uintptr_t)((2u << 20) - 1);
        uintptr_t hi = ((uintptr_t)p + n) & ~(uintptr_t)((2u << 20) - 1);
        if (hi > lo)
            (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
    }
#else
    (void)n;
#endif
    return p;
}

void *cs_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        cs_oom();
    return hint_huge(p, n);
}

void *cs_xcalloc(size_t n, size_t m)
{
    void *p = calloc(n ? n : 1, m ? m : 1);
    if (!p)
        cs_oom();
    return p;
}

void *cs_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        cs_oom();
    return hint_huge(p, n);
}

char *cs_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    return memcpy(cs_xmalloc(n), s, n);
}

char *cs_fmt(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = NULL;
    if (vasprintf(&s, fmt, ap) < 0)
        cs_oom();
    va_end(ap);
    return s;
}

const char *cs_untrusted(const struct stat *st)
{
    if (st->st_uid != geteuid())
        return "owned by another user";
    if (st->st_mode & (S_IWGRP | S_IWOTH))
        return "writable by group or others";
    return NULL;
}

uint64_t cs_hash(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h = 1469598103934665603ull ^ (n * 0x9e3779b97f4a7c15ull);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    for (; i < n; i++) {
        h ^= b[i];
        h *= 1099511628211ull;
    }
    h ^= h >> 29;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 32);
}

void cs_hex(const uint8_t *p, size_t n, char *out)
{
    static const char d[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = d[p[i] >> 4];
        out[2 * i + 1] = d[p[i] & 15];
    }
    out[2 * n] = 0;
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

int cs_unhex(const char *s, size_t slen, uint8_t *out, size_t max,
             size_t *outlen)
{
    if (slen == 0 || slen % 2 || slen / 2 > max)
        return -1;
    for (size_t i = 0; i < slen; i += 2) {
        int a = hexval((unsigned char)s[i]), b = hexval((unsigned char)s[i + 1]);
        if (a < 0 || b < 0)
            return -1;
        out[i / 2] = (uint8_t)(a << 4 | b);
    }
    *outlen = slen / 2;
    return 0;
}

void *cs_buf_reserve(cs_buf *b, size_t n)
{
    if (b->n + n > b->cap) {
        size_t c = b->cap ? b->cap * 2 : 256;
        while (c < b->n + n)
            c *= 2;
        b->p = cs_xrealloc(b->p, c);
        b->cap = c;
    }
    void *r = b->p + b->n;
    b->n += n;
    return r;
}

void cs_buf_add(cs_buf *b, const void *p, size_t n)
{
    if (!n)
        return;
    memcpy(cs_buf_reserve(b, n), p, n);
}

void cs_strpool_init(cs_strpool *sp)
{
    memset(sp, 0, sizeof *sp);
    sp->nslots = 1024;
    sp->slots = cs_xcalloc(sp->nslots, sizeof *sp->slots);
}

static void strpool_grow(cs_strpool *sp)
{
    size_t nn = sp->nslots * 2;
    uint32_t *ns = cs_xcalloc(nn, sizeof *ns);
    for (size_t i = 0; i < sp->nslots; i++) {
        uint32_t v = sp->slots[i];
        if (!v)
            continue;
        const char *s = sp->blob.p + v - 1;
        size_t h = cs_hash(s, strlen(s)) & (nn - 1);
        while (ns[h])
            h = (h + 1) & (nn - 1);
        ns[h] = v;
    }
    free(sp->slots);
    sp->slots = ns;
    sp->nslots = nn;
}

uint32_t cs_strpool_add(cs_strpool *sp, const char *s, size_t n)
{
    if (sp->count * 2 >= sp->nslots)
        strpool_grow(sp);
    size_t h = cs_hash(s, n) & (sp->nslots - 1);
    for (;;) {
        uint32_t v = sp->slots[h];
        if (!v)
            break;
        const char *t = sp->blob.p + v - 1;
        if (strncmp(t, s, n) == 0 && t[n] == 0)
            return v - 1;
        h = (h + 1) & (sp->nslots - 1);
    }
    uint32_t off = (uint32_t)sp->blob.n;
    char *d = cs_buf_reserve(&sp->blob, n + 1);
    memcpy(d, s, n);
    d[n] = 0;
    sp->slots[h] = off + 1;
    sp->count++;
    return off;
}

void cs_strpool_free(cs_strpool *sp)
{
    free(sp->blob.p);
    free(sp->slots);
    memset(sp, 0, sizeof *sp);
}
