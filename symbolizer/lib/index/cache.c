/* cache.c - the index as a per-build-id cache file: saved, checked and
   mapped.

   Cache file layout (little-endian, every array 8-byte aligned):
     struct cache_hdr   magic "CSYMIDX\1", version, sizes, key, checksum
     cs_row[nrows] cs_scope[nscopes] cs_seg[nsegs] cs_sym[nsyms]
     uint32_t files[nfiles] char str[strsize]
   The checksum covers everything after the header; the key covers the
   identity (size, mtime) of the files the index was built from.  Any
   mismatch makes the caller rebuild and atomically replace the file. */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corosym_int.h"

#define CACHE_MAGIC "CSYMIDX\1"
#define CACHE_VERSION 1

typedef struct cache_hdr {
    char magic[8];
    uint32_t version, hdr_size;
    uint64_t key, file_size, checksum;
    uint64_t nrows, nscopes, nsegs, nsyms, nfiles, strsize;
    uint32_t flags, row_size, scope_size, sym_size;
} cache_hdr;

uint64_t cs_checksum(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint64_t h1 = 0x9e3779b97f4a7c15ull ^ n, h2 = 0xc2b2ae3d27d4eb4full;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        uint64_t x, y;
        memcpy(&x, b + i, 8);
        memcpy(&y, b + i + 8, 8);
        h1 = (h1 ^ x) * 0xff51afd7ed558ccdull;
        h2 = (h2 ^ y) * 0xc4ceb9fe1a85ec53ull;
        h1 ^= h1 >> 31;
        h2 ^= h2 >> 29;
    }
    for (; i < n; i++)
        h1 = (h1 ^ b[i]) * 0x100000001b3ull;
    return h1 ^ (h2 * 31);
}

static size_t al8(size_t n) { return (n + 7) & ~(size_t)7; }

/* Checksum of a cache body, run on its own thread by cs_cache_view. */
typedef struct sum_job { const uint8_t *p; size_t n; uint64_t sum; } sum_job;

static void *sum_thread(void *arg)
{
    sum_job *j = arg;
    j->sum = cs_checksum(j->p, j->n);
    return NULL;
}

/* Below this size a thread costs more than the checksum. */
#define SUM_THREAD_MIN ((size_t)1 << 20)

/* Where each table starts in the mapped file. */
typedef struct cache_offs { size_t rows, scopes, segs, syms, files, strs; }
    cache_offs;

/* Points IX at the tables of the mapped index and checks every reference
   stays inside its table (checksums catch accidents, this catches crafted
   files).  1 when all do, else 0 with the complaint in *WHY. */
static int check_refs(const uint8_t *base, const cache_hdr *h,
                      const cache_offs *o, cs_index *ix, const char **why)
{
    const char *str = (const char *)base + o->strs;
    if (h->strsize && str[h->strsize - 1] != 0) {
        *why = "index string table is corrupt";
        return 0;
    }
    ix->rows = (const cs_row *)(base + o->rows);
    ix->nrows = h->nrows;
    ix->scopes = (const cs_scope *)(base + o->scopes);
    ix->nscopes = h->nscopes;
    ix->segs = (const cs_seg *)(base + o->segs);
    ix->nsegs = h->nsegs;
    ix->syms = (const cs_sym *)(base + o->syms);
    ix->nsyms = h->nsyms;
    ix->files = (const uint32_t *)(base + o->files);
    ix->nfiles = h->nfiles;
    ix->str = str;
    ix->strsize = h->strsize;
    ix->flags = h->flags & ~COROSYM_FROM_CACHE;
    /* Every reference must stay inside its table (checksums catch
       accidents, this catches crafted files). */
    for (size_t i = 0; i < ix->nfiles; i++)
        if (ix->files[i] >= ix->strsize)
            goto bad;
    for (size_t i = 0; i < ix->nrows; i++) {
        uint32_t f = ix->rows[i].file;
        if (f < CS_NONE - 1 && f >= ix->nfiles)
            goto bad;
        if (i && ix->rows[i].addr < ix->rows[i - 1].addr)
            goto bad;
    }
    for (size_t i = 0; i < ix->nscopes; i++) {
        const cs_scope *s = &ix->scopes[i];
        if ((s->parent != CS_NONE && s->parent >= i) ||
            (s->name != CS_NONE && s->name >= ix->strsize) ||
            (s->sname != CS_NONE && s->sname >= ix->strsize) ||
            (s->call_file != CS_NONE && s->call_file >= ix->nfiles) ||
            (s->decl_file != CS_NONE && s->decl_file >= ix->nfiles))
            goto bad;
    }
    for (size_t i = 0; i < ix->nsegs; i++)
        if ((ix->segs[i].scope != CS_NONE && ix->segs[i].scope >= ix->nscopes) ||
            (i && ix->segs[i].start <= ix->segs[i - 1].start))
            goto bad;
    for (size_t i = 0; i < ix->nsyms; i++)
        if (ix->syms[i].name >= ix->strsize ||
            (ix->syms[i].file != CS_NONE && ix->syms[i].file >= ix->strsize) ||
            (i && ix->syms[i].addr <= ix->syms[i - 1].addr))
            goto bad;
    return 1;
bad:
    *why = "index references are out of range (corrupt file)";
    return 0;
}


int cs_cache_view(const void *data, size_t size, uint64_t key,
                  cs_index *ix, char **err)
{
    const cache_hdr *h = data;
    memset(ix, 0, sizeof *ix);
    if (size < sizeof *h || memcmp(h->magic, CACHE_MAGIC, 8) != 0) {
        *err = cs_fmt("not a corosym index (bad magic)");
        return -1;
    }
    if (h->version != CACHE_VERSION || h->hdr_size != sizeof *h ||
        h->row_size != sizeof(cs_row) || h->scope_size != sizeof(cs_scope) ||
        h->sym_size != sizeof(cs_sym)) {
        *err = cs_fmt("index version %u not supported", h->version);
        return -1;
    }
    if (h->file_size != size) {
        *err = cs_fmt("index truncated (%zu of %llu bytes)", size,
                      (unsigned long long)h->file_size);
        return -1;
    }
    if (h->key != key) {
        *err = cs_fmt("index is stale (input files changed)");
        return -1;
    }
    /* Sizes must add up exactly, without overflow. */
    uint64_t lim = size;
    if (h->nrows > lim / sizeof(cs_row) || h->nscopes > lim / sizeof(cs_scope) ||
        h->nsegs > lim / sizeof(cs_seg) || h->nsyms > lim / sizeof(cs_sym) ||
        h->nfiles > lim / 4 || h->strsize > lim) {
        *err = cs_fmt("index sizes are corrupt");
        return -1;
    }
    size_t off = sizeof *h;
    size_t o_rows = off; off += al8(h->nrows * sizeof(cs_row));
    size_t o_sc = off; off += al8(h->nscopes * sizeof(cs_scope));
    size_t o_sg = off; off += al8(h->nsegs * sizeof(cs_seg));
    size_t o_sy = off; off += al8(h->nsyms * sizeof(cs_sym));
    size_t o_fi = off; off += al8(h->nfiles * 4);
    size_t o_st = off; off += al8(h->strsize);
    if (off != size) {
        *err = cs_fmt("index sizes are corrupt");
        return -1;
    }
    const uint8_t *base = data;
    /* The checksum runs on a second thread while this one checks every
       reference (both only read the mapping, whose sizes are now known
       to add up); a file must pass both. */
    sum_job sj = {base + sizeof *h, size - sizeof *h, 0};
    pthread_t sum_th;
    int threaded = size >= SUM_THREAD_MIN &&
                   pthread_create(&sum_th, NULL, sum_thread, &sj) == 0;
    if (!threaded)
        sum_thread(&sj);
    cache_offs offs = {o_rows, o_sc, o_sg, o_sy, o_fi, o_st};
    const char *why = NULL;
    int refs_ok = check_refs(base, h, &offs, ix, &why);
    if (refs_ok)
        cs_index_accel(ix); /* meanwhile, too */
    if (threaded)
        pthread_join(sum_th, NULL);
    if (sj.sum != h->checksum || !refs_ok) {
        for (int i = 0; i < 3; i++)
            free(ix->acc[i]);
    }
    if (sj.sum != h->checksum) {
        memset(ix, 0, sizeof *ix);
        *err = cs_fmt("index checksum mismatch (corrupt file)");
        return -1;
    }
    if (!refs_ok) {
        memset(ix, 0, sizeof *ix);
        *err = cs_fmt("%s", why);
        return -1;
    }
    return 0;
}

int cs_cache_check(const void *data, size_t size, uint64_t key, char **err)
{
    cs_index ix;
    if (cs_cache_view(data, size, key, &ix, err) < 0)
        return -1;
    cs_index_free(&ix); /* the bucket tables; DATA is the caller's */
    return 0;
}

int cs_cache_load(const char *path, uint64_t key, cs_index *ix, char **err)
{
    *err = NULL;
    /* O_NOFOLLOW: a planted symlink is refused, not followed; O_NONBLOCK:
       a FIFO in its place cannot block the open. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        if (errno == ELOOP)
            *err = cs_fmt("%s: a symlink, refused", path);
        else if (errno != ENOENT)
            *err = cs_fmt("%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    const char *why = NULL;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
        why = "not a regular file";
    else if ((why = cs_untrusted(&st)) == NULL && st.st_size == 0)
        why = "empty index file";
    if (why) {
        close(fd);
        *err = cs_fmt("%s: %s, refused", path, why);
        return -1;
    }
    void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) {
        *err = cs_fmt("%s: mmap: %s", path, strerror(errno));
        return -1;
    }
    char *e2 = NULL;
    if (cs_cache_view(m, (size_t)st.st_size, key, ix, &e2) < 0) {
        munmap(m, (size_t)st.st_size);
        *err = cs_fmt("%s: %s", path, e2);
        free(e2);
        return -1;
    }
    ix->map = m;
    ix->map_size = (size_t)st.st_size;
    ix->flags |= COROSYM_FROM_CACHE;
    return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

int cs_cache_save(const char *path, uint64_t key, const cs_index *ix,
                  char **err)
{
    *err = NULL;
    cache_hdr h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, CACHE_MAGIC, 8);
    h.version = CACHE_VERSION;
    h.hdr_size = sizeof h;
    h.key = key;
    h.nrows = ix->nrows;
    h.nscopes = ix->nscopes;
    h.nsegs = ix->nsegs;
    h.nsyms = ix->nsyms;
    h.nfiles = ix->nfiles;
    h.strsize = ix->strsize;
    h.flags = ix->flags & ~COROSYM_FROM_CACHE;
    h.row_size = sizeof(cs_row);
    h.scope_size = sizeof(cs_scope);
    h.sym_size = sizeof(cs_sym);
    struct { const void *p; size_t n; } part[6] = {
        {ix->rows, ix->nrows * sizeof(cs_row)},
        {ix->scopes, ix->nscopes * sizeof(cs_scope)},
        {ix->segs, ix->nsegs * sizeof(cs_seg)},
        {ix->syms, ix->nsyms * sizeof(cs_sym)},
        {ix->files, ix->nfiles * 4},
        {ix->str, ix->strsize},
    };
    size_t total = 0;
    for (int i = 0; i < 6; i++)
        total += al8(part[i].n);
    char *body = malloc(total ? total : 1);
    if (!body) {
        *err = cs_fmt("%s: out of memory", path);
        return -1;
    }
    size_t off = 0;
    for (int i = 0; i < 6; i++) {
        if (part[i].n)
            memcpy(body + off, part[i].p, part[i].n);
        memset(body + off + part[i].n, 0, al8(part[i].n) - part[i].n);
        off += al8(part[i].n);
    }
    h.file_size = sizeof h + total;
    h.checksum = cs_checksum(body, total);
    /* A fresh name created with O_EXCL and mode 0600: nothing planted
       under a predictable name can redirect the write. */
    char *tmp = cs_fmt("%s.tmp.XXXXXX", path);
    int fd = mkostemp(tmp, O_CLOEXEC);
    int rc = -1;
    if (fd < 0) {
        *err = cs_fmt("%s: %s", tmp, strerror(errno));
        goto out;
    }
    if (write_all(fd, &h, sizeof h) < 0 || write_all(fd, body, total) < 0) {
        *err = cs_fmt("%s: write: %s", tmp, strerror(errno));
        close(fd);
        unlink(tmp);
        goto out;
    }
    close(fd);
    if (rename(tmp, path) < 0) {
        *err = cs_fmt("%s: rename: %s", path, strerror(errno));
        unlink(tmp);
        goto out;
    }
    rc = 0;
out:
    free(tmp);
    free(body);
    return rc;
}

void cs_cache_seal(void *data, size_t size)
{
    if (size < sizeof(cache_hdr))
        return;
    cache_hdr h;
    memcpy(&h, data, sizeof h);
    h.file_size = size;
    h.checksum = cs_checksum((uint8_t *)data + sizeof h, size - sizeof h);
    memcpy(data, &h, sizeof h);
}
