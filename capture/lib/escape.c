/*
 * escape.c -- target text made safe for a terminal, as the core's
 * escape.py does it (one rule for every front end): the bytes decoded as
 * UTF-8 with Python's "replace" (one U+FFFD per maximal bad subpart), then
 * every character Python does not call printable shown as \n, \r, \t,
 * \xNN, \uNNNN or \UNNNNNNNN.  tests/capture/test_decode_diff.py compares
 * the two on names with controls, bidi overrides and bad UTF-8.
 *
 * Python's isprintable() comes from the Unicode database; C has none.
 * Everything up to U+00FF is exact; above it, the non-printable
 * categories that matter for terminals (separators, format and bidi
 * controls, private use, surrogates, noncharacters) are in the table
 * below.  Unassigned code points (Cn) are not known here and stay as is.
 */
#include <stdio.h>
#include <string.h>

#include "cc_int.h"

/* [lo, hi] ranges of non-printable code points above U+00FF (Zs, Zl, Zp,
 * Cf, Co, Cs and the noncharacters; Unicode 15). */
static const uint32_t nonprint[][2] = {
    {0x034f, 0x034f}, {0x0600, 0x0605}, {0x061c, 0x061c}, {0x06dd, 0x06dd},
    {0x070f, 0x070f}, {0x0890, 0x0891}, {0x08e2, 0x08e2}, {0x1680, 0x1680},
    {0x180e, 0x180e}, {0x2000, 0x200f}, {0x2028, 0x202f}, {0x205f, 0x2064},
    {0x2066, 0x206f}, {0x3000, 0x3000}, {0xd800, 0xf8ff}, {0xfdd0, 0xfdef},
    {0xfeff, 0xfeff}, {0xfff9, 0xfffb}, {0xfffe, 0xffff},
    {0x110bd, 0x110bd}, {0x110cd, 0x110cd}, {0x13430, 0x1343f},
    {0x1bca0, 0x1bca3}, {0x1d173, 0x1d17a}, {0xe0001, 0xe0001},
    {0xe0020, 0xe007f}, {0xf0000, 0x10ffff},
};

static int printable(uint32_t c)
{
    if (c < 0x100)
        return (c >= 0x20 && c < 0x7f) || (c > 0xa0 && c != 0xad);
    if ((c & 0xfffe) == 0xfffe)
        return 0;               /* U+xFFFE, U+xFFFF in every plane */
    for (size_t i = 0; i < sizeof nonprint / sizeof *nonprint; i++)
        if (c >= nonprint[i][0] && c <= nonprint[i][1])
            return 0;
    return 1;
}

/* The code point at P (N bytes left), Python's strict UTF-8; *LEN gets the
 * bytes used.  A bad sequence gives U+FFFD for its maximal valid prefix
 * (at least one byte), as the "replace" handler does. */
uint32_t cc_utf8_next(const uint8_t *p, size_t n, size_t *len)
{
    uint8_t b = p[0];
    unsigned need;
    uint32_t c;
    uint8_t lo = 0x80, hi = 0xbf;
    *len = 1;
    if (b < 0x80)
        return b;
    if (b >= 0xc2 && b <= 0xdf)
        need = 1, c = b & 0x1f;
    else if (b >= 0xe0 && b <= 0xef) {
        need = 2, c = b & 0x0f;
        if (b == 0xe0)
            lo = 0xa0;
        else if (b == 0xed)
            hi = 0x9f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        need = 3, c = b & 0x07;
        if (b == 0xf0)
            lo = 0x90;
        else if (b == 0xf4)
            hi = 0x8f;
    } else
        return 0xfffd;
    for (unsigned i = 1; i <= need; i++) {
        if (i >= n || p[i] < lo || p[i] > hi) {
            *len = i;
            return 0xfffd;
        }
        c = c << 6 | (p[i] & 0x3f);
        lo = 0x80, hi = 0xbf;
    }
    *len = need + 1;
    return c;
}

static size_t put_utf8(uint32_t c, char *o)
{
    if (c < 0x80)
        return o[0] = (char)c, 1;
    if (c < 0x800)
        return o[0] = (char)(0xc0 | c >> 6), o[1] = (char)(0x80 | (c & 0x3f)), 2;
    if (c < 0x10000) {
        o[0] = (char)(0xe0 | c >> 12);
        o[1] = (char)(0x80 | ((c >> 6) & 0x3f));
        o[2] = (char)(0x80 | (c & 0x3f));
        return 3;
    }
    o[0] = (char)(0xf0 | c >> 18);
    o[1] = (char)(0x80 | ((c >> 12) & 0x3f));
    o[2] = (char)(0x80 | ((c >> 6) & 0x3f));
    o[3] = (char)(0x80 | (c & 0x3f));
    return 4;
}

size_t cc_escape(const uint8_t *raw, size_t n, char *out, size_t room)
{
    size_t o = 0;
    while (n && room) {
        size_t used;
        uint32_t c = cc_utf8_next(raw, n, &used);
        char buf[12];
        size_t k;
        if (printable(c))
            k = put_utf8(c, buf);
        else if (c == '\n' || c == '\r' || c == '\t')
            k = (size_t)snprintf(buf, sizeof buf, "\\%c",
                                 c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
        else if (c < 0x100)
            k = (size_t)snprintf(buf, sizeof buf, "\\x%02x", (unsigned)c);
        else if (c < 0x10000)
            k = (size_t)snprintf(buf, sizeof buf, "\\u%04x", (unsigned)c);
        else
            k = (size_t)snprintf(buf, sizeof buf, "\\U%08x", (unsigned)c);
        if (o + k >= room)
            break;              /* whole characters only */
        memcpy(out + o, buf, k);
        o += k;
        raw += used;
        n -= used;
    }
    if (room)
        out[o] = 0;
    return o;
}
