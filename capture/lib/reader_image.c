/*
 * reader_image.c -- memory made of (base, bytes) regions loaded from a
 * file, for the differential tests: records of u64 base, u64 length
 * (little endian), then the bytes.  A read must fall inside one region,
 * as the Python core's BytesReader.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corocap.h"
#include "cc_int.h"

struct region { uint64_t base, len; const uint8_t *data; };
struct image {
    cc_reader r;
    uint8_t *file;
    struct region *reg;
    size_t n;
};

static int image_read(cc_reader *r, uint64_t addr, void *buf, size_t len)
{
    struct image *im = (struct image *)r;
    for (size_t i = 0; i < im->n; i++) {
        struct region *g = &im->reg[i];
        if (g->base <= addr && addr - g->base <= g->len &&
            len <= g->len - (addr - g->base)) {
            memcpy(buf, g->data + (addr - g->base), len);
            return 0;
        }
    }
    errno = EFAULT;
    return -1;
}

static void image_free(cc_reader *r)
{
    struct image *im = (struct image *)r;
    free(im->file);
    free(im->reg);
    free(im);
}

static uint64_t le64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

cc_reader *cc_reader_image(const char *path, char *err)
{
    size_t len;
    uint8_t *file = cc_slurp(path, &len);
    if (!file) {
        snprintf(err, CC_ERRLEN, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct image *im = calloc(1, sizeof *im);
    if (!im)
        goto bad;
    im->file = file;
    for (size_t pos = 0; pos < len;) {
        if (len - pos < 16 || le64(file + pos + 8) > len - pos - 16) {
            snprintf(err, CC_ERRLEN, "%s: truncated image", path);
            image_free(&im->r);
            return NULL;
        }
        struct region *n = realloc(im->reg, (im->n + 1) * sizeof *n);
        if (!n)
            goto bad;
        im->reg = n;
        n[im->n].base = le64(file + pos);
        n[im->n].len = le64(file + pos + 8);
        n[im->n].data = file + pos + 16;
        pos += 16 + n[im->n].len;
        im->n++;
    }
    im->r.read = image_read;
    im->r.free = image_free;
    return &im->r;
bad:
    snprintf(err, CC_ERRLEN, "out of memory");
    if (im)
        image_free(&im->r);
    else
        free(file);
    return NULL;
}
