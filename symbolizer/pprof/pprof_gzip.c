/*
 * pprof_gzip.c - gzip in and out for pprof profiles (zlib).
 *
 * Decompression is bounded (MAX bytes) so a small bomb cannot exhaust
 * memory, and distinguishes a truncated stream from a corrupt one.
 * Concatenated gzip members are accepted, as gunzip does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "pprof.h"

/* Doubles *BUF (capacity *CAP) up to MAX bytes.  PPROF_OK, or an error
   code with ERR set. */
static int grow(uint8_t **buf, size_t *cap, size_t max, char *err,
                size_t errlen)
{
    if (*cap >= max) {
        snprintf(err, errlen, "gzip: decompressed profile exceeds %zu bytes",
                 max);
        return PPROF_E_TOOBIG;
    }
    size_t ncap = *cap * 2 > max ? max : *cap * 2;
    uint8_t *nb = realloc(*buf, ncap);
    if (!nb) {
        snprintf(err, errlen, "out of memory decompressing");
        return PPROF_E_NOMEM;
    }
    *buf = nb;
    *cap = ncap;
    return PPROF_OK;
}

/* At the end of a gzip member: 1 when another member follows (ignoring
   trailing zero padding; ZS is reset to it), 0 at the end of the input,
   -1 with ERR set for anything else after it. */
static int next_member(z_stream *zs, const uint8_t *in, size_t inlen,
                       char *err, size_t errlen)
{
    size_t consumed = (size_t)(zs->next_in - (const Bytef *)in);
    while (consumed < inlen && in[consumed] == 0)
        consumed++;
    if (consumed + 2 <= inlen && in[consumed] == 0x1f &&
        in[consumed + 1] == 0x8b) {
        zs->next_in = (Bytef *)in + consumed;
        if (inflateReset(zs) != Z_OK) {
            snprintf(err, errlen, "gzip: cannot reset stream");
            return -1;
        }
        return 1;
    }
    if (consumed < inlen) {
        snprintf(err, errlen, "gzip: %zu bytes of garbage after the stream",
                 inlen - consumed);
        return -1;
    }
    return 0;
}

int pprof_gunzip(const uint8_t *in, size_t inlen, uint8_t **out,
                 size_t *outlen, size_t max, char *err, size_t errlen)
{
    z_stream zs;
    uint8_t *buf = NULL;
    size_t cap = inlen * 4 + 4096, used = 0;
    int rc = PPROF_OK, zrc = Z_OK;

    *out = NULL;
    *outlen = 0;
    if (cap > max)
        cap = max;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 16 + MAX_WBITS) != Z_OK) {
        snprintf(err, errlen, "gzip: cannot initialise zlib");
        return PPROF_E_NOMEM;
    }
    buf = malloc(cap ? cap : 1);
    if (!buf) {
        rc = PPROF_E_NOMEM;
        snprintf(err, errlen, "out of memory decompressing");
        goto out;
    }
    zs.next_in = (Bytef *)in;
    for (;;) {
        /* zlib counts in uInt; feed at most 1 GiB at a time. */
        size_t left_in = inlen - (size_t)(zs.next_in - (const Bytef *)in);
        zs.avail_in = left_in > (1u << 30) ? (1u << 30) : (uInt)left_in;
        if (used == cap) {
            rc = grow(&buf, &cap, max, err, errlen);
            if (rc)
                goto out;
        }
        zs.next_out = buf + used;
        zs.avail_out = (cap - used) > (1u << 30) ? (1u << 30)
                                                 : (uInt)(cap - used);
        {
            uInt before = zs.avail_out;
            zrc = inflate(&zs, Z_NO_FLUSH);
            used += before - zs.avail_out;
        }
        if (zrc == Z_STREAM_END) {
            int more = next_member(&zs, in, inlen, err, errlen);
            if (more < 0) {
                rc = PPROF_E_GZIP;
                goto out;
            }
            if (more)
                continue;
            break;
        }
        if (zrc == Z_NEED_DICT || zrc == Z_DATA_ERROR) {
            rc = PPROF_E_GZIP;
            snprintf(err, errlen, "gzip: corrupt stream at input byte %zu (%s)",
                     (size_t)(zs.next_in - (const Bytef *)in),
                     zs.msg ? zs.msg : "invalid data");
            goto out;
        }
        if (zrc == Z_MEM_ERROR) {
            rc = PPROF_E_NOMEM;
            snprintf(err, errlen, "out of memory decompressing");
            goto out;
        }
        if (zrc == Z_BUF_ERROR || zrc == Z_OK) {
            size_t consumed = (size_t)(zs.next_in - (const Bytef *)in);
            if (consumed >= inlen && zs.avail_out > 0) {
                rc = PPROF_E_TRUNC;
                snprintf(err, errlen,
                         "gzip: truncated stream (input ends after %zu bytes,"
                         " %zu decompressed)", inlen, used);
                goto out;
            }
            continue;
        }
        rc = PPROF_E_GZIP;
        snprintf(err, errlen, "gzip: zlib error %d", zrc);
        goto out;
    }
    *out = buf;
    *outlen = used;
    buf = NULL;
out:
    inflateEnd(&zs);
    free(buf);
    return rc;
}

int pprof_gzip(const uint8_t *in, size_t inlen, uint8_t **out,
               size_t *outlen, char *err, size_t errlen)
{
    z_stream zs;
    uLong bound;
    uint8_t *buf;
    int zrc;

    *out = NULL;
    *outlen = 0;
    memset(&zs, 0, sizeof zs);
    /* 31 = 15-bit window + gzip wrapper; mtime 0 keeps output deterministic */
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 16 + MAX_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK) {
        snprintf(err, errlen, "gzip: cannot initialise zlib");
        return PPROF_E_NOMEM;
    }
    if (inlen > (1u << 30)) {
        deflateEnd(&zs);
        snprintf(err, errlen, "profile too large to compress (%zu bytes)",
                 inlen);
        return PPROF_E_TOOBIG;
    }
    bound = deflateBound(&zs, (uLong)inlen) + 32;
    buf = malloc(bound);
    if (!buf) {
        deflateEnd(&zs);
        snprintf(err, errlen, "out of memory compressing");
        return PPROF_E_NOMEM;
    }
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)inlen;
    zs.next_out = buf;
    zs.avail_out = (uInt)bound;
    zrc = deflate(&zs, Z_FINISH);
    if (zrc != Z_STREAM_END) {
        deflateEnd(&zs);
        free(buf);
        snprintf(err, errlen, "gzip: compression failed (zlib %d)", zrc);
        return PPROF_E_GZIP;
    }
    *outlen = zs.total_out;
    *out = buf;
    deflateEnd(&zs);
    return PPROF_OK;
}
