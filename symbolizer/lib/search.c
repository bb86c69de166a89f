/* search.c - where a module's DWARF comes from: the debug-file search,
   in the order corosym.h documents (build-id trees, the binary itself,
   .gnu_debuglink, debuginfod).  Each source is one by_*() function and
   one step of cs_debug_find(); a new source goes there.  Every file a
   source proposes passes try_debug()'s checks (build-id, CRC, DWARF). */
#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <elfutils/debuginfod.h>
#include <zlib.h>

#include "corosym_int.h"

/* libdebuginfod pulls in libcurl and its TLS stack (about 30 shared
   libraries); load it only when a lookup needs it. */
static struct {
    int tried;
    void *h;
    debuginfod_client *(*begin)(void);
    void (*end)(debuginfod_client *);
    int (*find)(debuginfod_client *, const unsigned char *, int, char **);
} dfd;

static int dfd_load(void)
{
    if (dfd.tried)
        return dfd.h != NULL;
    dfd.tried = 1;
    dfd.h = dlopen("libdebuginfod.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!dfd.h)
        return 0;
    *(void **)&dfd.begin = dlsym(dfd.h, "debuginfod_begin");
    *(void **)&dfd.end = dlsym(dfd.h, "debuginfod_end");
    *(void **)&dfd.find = dlsym(dfd.h, "debuginfod_find_debuginfo");
    if (!dfd.begin || !dfd.end || !dfd.find) {
        dlclose(dfd.h);
        dfd.h = NULL;
        return 0;
    }
    return 1;
}

int cs_id_matches(const corosym_module *m, const cs_elf *e)
{
    return e->build_id_len == m->want_id_len &&
           memcmp(e->build_id, m->want_id, m->want_id_len) == 0;
}

/* Opens CAND as a debug file for M.  Returns it if usable. */
static cs_elf *try_debug(corosym_module *m, const char *cand, int quiet_enoent,
                         uint32_t want_crc, int check_crc)
{
    if (quiet_enoent && access(cand, F_OK) != 0)
        return NULL;
    char *err = NULL;
    cs_elf *e = cs_elf_open(cand, NULL, 0, &err);
    if (!e) {
        cs_module_warn(m, cs_fmt("corosym: %s", err));
        free(err);
        return NULL;
    }
    if (m->want_id_len && e->build_id_len && !cs_id_matches(m, e)) {
        char a[129], b[129];
        cs_hex(e->build_id, e->build_id_len, a);
        cs_hex(m->want_id, m->want_id_len, b);
        cs_module_warn(m, cs_fmt("corosym: %s: build-id %s does not match "
                              "wanted %s, refused", cand, a, b));
        cs_elf_close(e);
        return NULL;
    }
    if (check_crc) {
        /* .gnu_debuglink's CRC is the ordinary CRC-32 (zlib's) */
        uint32_t crc = (uint32_t)crc32_z(0, e->map, e->map_size);
        if (crc != want_crc) {
            cs_module_warn(m, cs_fmt("corosym: %s: .gnu_debuglink CRC %08x "
                                  "does not match file CRC %08x, refused",
                                  cand, want_crc, crc));
            cs_elf_close(e);
            return NULL;
        }
    }
    if (!cs_elf_has_dwarf(e)) {
        cs_elf_close(e);
        return NULL;
    }
    return e;
}

static cs_elf *by_build_id_dir(corosym_module *m, const char *dir)
{
    if (!m->want_id_len)
        return NULL;
    char hex[129];
    cs_hex(m->want_id, m->want_id_len, hex);
    char *p = cs_fmt("%s/.build-id/%.2s/%s.debug", dir, hex, hex + 2);
    cs_elf *e = try_debug(m, p, 1, 0, 0);
    free(p);
    return e;
}

static cs_elf *by_debuglink(corosym_module *m, const cs_elf *bin)
{
    if (!bin || !bin->has_debuglink)
        return NULL;
    const char *link = bin->debuglink;
    if (strchr(link, '/') && link[0] != '/')
        return NULL;
    char real[PATH_MAX];
    const char *bp = realpath(bin->path, real) ? real : bin->path;
    char *dir = cs_xstrdup(bp);
    char *sl = strrchr(dir, '/');
    if (sl)
        *sl = 0;
    else
        strcpy(dir, ".");
    corosym_session *s = m->s;
    size_t nc = 0;
    char *cand[64];
    if (link[0] == '/') {
        cand[nc++] = cs_xstrdup(link);
    } else {
        cand[nc++] = cs_fmt("%s/%s", dir, link);
        cand[nc++] = cs_fmt("%s/.debug/%s", dir, link);
        for (size_t i = 0; i < s->ndirs && nc < 60; i++)
            cand[nc++] = cs_fmt("%s%s/%s", s->dirs[i], dir, link);
        if (s->o.default_debug_dir)
            cand[nc++] = cs_fmt("/usr/lib/debug%s/%s", dir, link);
    }
    cs_elf *e = NULL;
    for (size_t i = 0; i < nc; i++) {
        if (!e && strcmp(cand[i], bp) != 0)
            e = try_debug(m, cand[i], 1, bin->debuglink_crc, 1);
        free(cand[i]);
    }
    free(dir);
    return e;
}

static cs_elf *by_debuginfod(corosym_module *m)
{
    const char *urls = getenv("DEBUGINFOD_URLS");
    if (!m->want_id_len || !m->s->o.debuginfod || !urls || !*urls)
        return NULL;
    if (!dfd_load()) {
        cs_module_warn(m, cs_fmt("corosym: debuginfod: cannot load "
                              "libdebuginfod.so.1: %s", dlerror()));
        return NULL;
    }
    if (!m->s->dc)
        m->s->dc = dfd.begin();
    if (!m->s->dc)
        return NULL;
    char *path = NULL;
    int fd = dfd.find(m->s->dc, m->want_id, (int)m->want_id_len, &path);
    if (fd < 0) {
        char hex[129];
        cs_hex(m->want_id, m->want_id_len, hex);
        cs_module_warn(m, cs_fmt("corosym: debuginfod: %s: %s", hex,
                              strerror(-fd)));
        return NULL;
    }
    close(fd);
    cs_elf *e = try_debug(m, path, 0, 0, 0);
    free(path);
    return e;
}

cs_elf *cs_debug_find(corosym_module *m, cs_elf *bin, int from_memory,
                      int *self)
{
    corosym_session *s = m->s;
    cs_elf *dbg = NULL;
    /* an image in memory has no path to search from */
    if (!from_memory) {
        for (size_t i = 0; i < s->ndirs && !dbg; i++)
            dbg = by_build_id_dir(m, s->dirs[i]);
        if (!dbg && s->o.default_debug_dir)
            dbg = by_build_id_dir(m, "/usr/lib/debug");
    }
    *self = !dbg && bin && cs_elf_has_dwarf(bin);
    if (!dbg && !*self && !from_memory)
        dbg = by_debuglink(m, bin);
    if (!dbg && !*self && !from_memory)
        dbg = by_debuginfod(m);
    return dbg;
}

void cs_search_end(corosym_session *s)
{
    if (s->dc)
        dfd.end(s->dc);
    s->dc = NULL;
}
