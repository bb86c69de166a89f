/* session.c - sessions, modules, the debug-file search and lookups. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dlfcn.h>
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



void corosym_options_init(corosym_options *o)
{
    memset(o, 0, sizeof *o);
    o->struct_size = sizeof *o;
    o->default_debug_dir = 1;
    o->debuginfod = 1;
    o->use_cache = 1;
    o->demangle = 1;
    o->inlines = 1;
    o->use_symtab = 1;
}

const char *cs_session_keep(corosym_session *s, char *str)
{
    if (s->nowned == s->capowned) {
        s->capowned = s->capowned ? 2 * s->capowned : 64;
        s->owned = cs_xrealloc(s->owned, s->capowned * sizeof *s->owned);
    }
    s->owned[s->nowned++] = str;
    return str;
}

corosym_session *corosym_session_new(const corosym_options *o)
{
    corosym_options def;
    if (!o) {
        corosym_options_init(&def);
        o = &def;
    }
    if (o->struct_size != sizeof *o)
        return NULL;
    corosym_session *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->o = *o;
    s->ndirs = o->n_debug_dirs;
    s->dirs = cs_xcalloc(s->ndirs ? s->ndirs : 1, sizeof *s->dirs);
    for (size_t i = 0; i < s->ndirs; i++)
        s->dirs[i] = cs_xstrdup(o->debug_dirs[i]);
    s->o.debug_dirs = NULL;
    if (o->cache_dir && *o->cache_dir) {
        s->cache_dir = cs_xstrdup(o->cache_dir);
    } else {
        const char *x = getenv("XDG_CACHE_HOME");
        const char *h = getenv("HOME");
        if (x && *x == '/')
            s->cache_dir = cs_fmt("%s/corosym", x);
        else if (h && *h)
            s->cache_dir = cs_fmt("%s/.cache/corosym", h);
    }
    s->o.cache_dir = NULL;
    return s;
}

void corosym_session_free(corosym_session *s)
{
    if (!s)
        return;
    for (corosym_module *m = s->mods, *n; m; m = n) {
        n = m->next;
        cs_index_free(&m->ix);
        cs_elf_close(m->bin);
        free(m->path);
        free(m->debug_path);
        free(m->error);
        free(m->warning);
        free(m->dem);
        cs_vars_free(&m->vars);
        free(m);
    }
    for (size_t i = 0; i < s->ndirs; i++)
        free(s->dirs[i]);
    free(s->dirs);
    for (size_t i = 0; i < s->nowned; i++)
        free(s->owned[i]);
    free(s->owned);
    free(s->cache_dir);
    if (s->dc)
        dfd.end(s->dc);
    free(s);
}

/* ------------------------------------------------------------- search */
static void add_warning(corosym_module *m, char *w)
{
    if (!m->warning) {
        m->warning = w;
    } else {
        /* one "corosym: " for the whole line */
        const char *t = strncmp(w, "corosym: ", 9) == 0 ? w + 9 : w;
        char *x = cs_fmt("%s; %s", m->warning, t);
        free(m->warning);
        free(w);
        m->warning = x;
    }
}

static int id_equal(const corosym_module *m, const cs_elf *e)
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
        add_warning(m, cs_fmt("corosym: %s", err));
        free(err);
        return NULL;
    }
    if (m->want_id_len && e->build_id_len && !id_equal(m, e)) {
        char a[129], b[129];
        cs_hex(e->build_id, e->build_id_len, a);
        cs_hex(m->want_id, m->want_id_len, b);
        add_warning(m, cs_fmt("corosym: %s: build-id %s does not match "
                              "wanted %s, refused", cand, a, b));
        cs_elf_close(e);
        return NULL;
    }
    if (check_crc) {
        /* .gnu_debuglink's CRC is the ordinary CRC-32 (zlib's) */
        uint32_t crc = (uint32_t)crc32_z(0, e->map, e->map_size);
        if (crc != want_crc) {
            add_warning(m, cs_fmt("corosym: %s: .gnu_debuglink CRC %08x "
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
        add_warning(m, cs_fmt("corosym: debuginfod: cannot load "
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
        add_warning(m, cs_fmt("corosym: debuginfod: %s: %s", hex,
                              strerror(-fd)));
        return NULL;
    }
    close(fd);
    cs_elf *e = try_debug(m, path, 0, 0, 0);
    free(path);
    return e;
}

/* A content check of E for the cache key: the whole file up to 256 KB;
   above, its first and last 4 KB, its section header table and 64
   pieces of 256 bytes spread evenly over it.  Hashing a 7.7 MB library
   whole doubled a warm one-address run (4.7 -> 9.7 ms: every page
   faulted in); the samples cost about 70 page touches. */
#define KEY_WHOLE (256u << 10)
#define KEY_PIECES 64u
#define KEY_PIECE 256u
static uint64_t content_key(const cs_elf *e)
{
    const uint8_t *p = e->map;
    size_t n = e->map_size;
    if (n <= KEY_WHOLE)
        return cs_checksum(p, n);
    uint64_t k[3 + KEY_PIECES];
    k[0] = cs_checksum(p, 4096);
    k[1] = cs_checksum(p + n - 4096, 4096);
    /* e_shoff and the table's size, from the header libelf checked */
    GElf_Ehdr eh;
    k[2] = 0;
    if (e->elf && gelf_getehdr(e->elf, &eh) && eh.e_shoff < n &&
        (uint64_t)eh.e_shnum * eh.e_shentsize <= n - eh.e_shoff)
        k[2] = cs_checksum(p + eh.e_shoff,
                           (size_t)eh.e_shnum * eh.e_shentsize);
    size_t step = (n - KEY_PIECE) / KEY_PIECES;
    for (size_t i = 0; i < KEY_PIECES; i++)
        k[3 + i] = cs_checksum(p + i * step, KEY_PIECE);
    return cs_hash(k, sizeof k);
}

/* The cache key: what a different input file cannot copy by setting its
   size and mtime (anyone can) or forcing a build-id: those plus a content
   check of each input. */
static uint64_t ident_key(const cs_elf *bin, const cs_elf *dbg)
{
    uint64_t k[11] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4};
    if (bin) {
        k[0] = bin->file_size;
        k[1] = bin->file_mtime;
        k[2] = content_key(bin);
        k[3] = cs_hash(bin->build_id, bin->build_id_len);
    }
    if (dbg) {
        k[4] = dbg->file_size;
        k[5] = dbg->file_mtime;
        k[6] = content_key(dbg);
        k[7] = cs_hash(dbg->build_id, dbg->build_id_len);
        k[8] = cs_hash(dbg->path, strlen(dbg->path));
    }
    return cs_hash(k, sizeof k);
}

/* The cache directory, created 0700, or NULL with a warning on M when it
   may not be used: another user's, or writable by group or others (they
   could plant index files or symlinks there). */
static const char *cache_dir_checked(corosym_module *m)
{
    corosym_session *s = m->s;
    /* mkdir -p, one level below an existing parent is the common case */
    if (mkdir(s->cache_dir, 0700) < 0 && errno == ENOENT) {
        char *t = cs_xstrdup(s->cache_dir);
        for (char *q = t + 1; *q; q++)
            if (*q == '/') {
                *q = 0;
                mkdir(t, 0700);
                *q = '/';
            }
        mkdir(t, 0700);
        free(t);
    }
    struct stat st;
    const char *why = NULL;
    if (stat(s->cache_dir, &st) < 0)
        return NULL; /* no cache directory: only the cache is lost */
    if (!S_ISDIR(st.st_mode))
        why = "not a directory";
    else
        why = cs_untrusted(&st);
    if (why) {
        add_warning(m, cs_fmt("corosym: cache directory %s is %s: not used",
                              s->cache_dir, why));
        return NULL;
    }
    return s->cache_dir;
}

static char *cache_path(corosym_module *m, const cs_elf *bin,
                        const cs_elf *dbg)
{
    corosym_session *s = m->s;
    if (!s->o.use_cache || !s->cache_dir)
        return NULL;
    char name[200];
    if (m->want_id_len) {
        cs_hex(m->want_id, m->want_id_len, name);
        /* symbols from a stripped binary, DWARF from its debug file: not
           the same index as the debug file alone (asked by build-id) */
        if (bin && dbg) {
            char real[PATH_MAX];
            const char *p = realpath(bin->path, real) ? real : bin->path;
            size_t l = strlen(name);
            snprintf(name + l, sizeof name - l, "-%08llx",
                     (unsigned long long)(cs_hash(p, strlen(p)) & 0xffffffffu));
        }
    } else {
        const cs_elf *e = bin ? bin : dbg;
        if (!e)
            return NULL;
        char real[PATH_MAX];
        const char *p = realpath(e->path, real) ? real : e->path;
        snprintf(name, sizeof name, "path-%016llx",
                 (unsigned long long)cs_hash(p, strlen(p)));
    }
    const char *dir = cache_dir_checked(m);
    return dir ? cs_fmt("%s/%s.idx", dir, name) : NULL;
}

static void load_module(corosym_module *m, const void *mem, size_t memsize)
{
    corosym_session *s = m->s;
    char *err = NULL;
    cs_elf *bin = NULL, *dbg = NULL;
    if (m->path) {
        bin = cs_elf_open(m->path, mem, memsize, &err);
        if (!bin) {
            m->error = cs_fmt("corosym: %s", err);
            free(err);
            if (!m->want_id_len)
                return;
        } else if (m->want_id_len && bin->build_id_len && !id_equal(m, bin)) {
            char a[129], b[129];
            cs_hex(bin->build_id, bin->build_id_len, a);
            cs_hex(m->want_id, m->want_id_len, b);
            m->error = cs_fmt("corosym: %s: build-id %s does not match "
                              "wanted %s, refused", m->path, a, b);
            cs_elf_close(bin);
            bin = NULL;
        } else if (!m->want_id_len && bin->build_id_len) {
            memcpy(m->want_id, bin->build_id, bin->build_id_len);
            m->want_id_len = bin->build_id_len;
        }
    }
    if (!mem) {
        for (size_t i = 0; i < s->ndirs && !dbg; i++)
            dbg = by_build_id_dir(m, s->dirs[i]);
        if (!dbg && s->o.default_debug_dir)
            dbg = by_build_id_dir(m, "/usr/lib/debug");
    }
    int self = 0;
    if (!dbg && bin && cs_elf_has_dwarf(bin))
        self = 1;
    if (!dbg && !self && !mem)
        dbg = by_debuglink(m, bin);
    if (!dbg && !self && !mem)
        dbg = by_debuginfod(m);
    if (!bin && !dbg) {
        if (!m->error) {
            char hex[129];
            cs_hex(m->want_id, m->want_id_len, hex);
            m->error = cs_fmt("corosym: no file found for build-id %s", hex);
        } else if (m->warning && !m->path) {
            char *x = cs_fmt("%s (%s)", m->error, m->warning);
            free(m->error);
            m->error = x;
        }
        return;
    }
    if (m->error && dbg) {
        /* the binary path failed but the build-id found debug info */
        add_warning(m, m->error);
        m->error = NULL;
    }
    memcpy(m->build_id, m->want_id, m->want_id_len);
    m->build_id_len = m->want_id_len;
    cs_elf *dwarf_src = dbg ? dbg : (self ? bin : NULL);
    cs_elf *sym_src = bin ? bin : dbg;
    if (dwarf_src)
        m->debug_path = cs_xstrdup(dwarf_src->path);

    char *cpath = mem ? NULL : cache_path(m, bin, dbg);
    uint64_t key = cpath ? ident_key(bin, dbg) : 0;
    if (cpath) {
        char *cerr = NULL;
        if (cs_cache_load(cpath, key, &m->ix, &cerr) == 0) {
            free(cpath);
            cs_index_accel(&m->ix);
            if (!dwarf_src && !(m->ix.flags & COROSYM_HAS_SYMTAB))
                add_warning(m, cs_fmt("corosym: %s: no debug info and no "
                                      "symbols", sym_src->path));
            m->bin = bin ? bin : dbg;
            if (bin && dbg)
                cs_elf_close(dbg);
            return;
        }
        free(cerr); /* rebuilt below */
    }
    cs_builder b;
    cs_builder_init(&b);
    b.progress = s->o.progress;
    b.threads = s->o.threads;
    if (dwarf_src && cs_dwarf_read(dwarf_src, &b) < 0 && b.err)
        add_warning(m, cs_fmt("corosym: %s", b.err));
    else if (b.err)
        add_warning(m, cs_fmt("corosym: %s", b.err));
    int dwarf_bad = b.err != NULL;
    if (s->o.use_symtab)
        cs_symtab_read(sym_src, &b);
    cs_index_finish(&b, &m->ix);
    cs_index_accel(&m->ix);
    if (!dwarf_src && !(m->ix.flags & COROSYM_HAS_SYMTAB))
        add_warning(m, cs_fmt("corosym: %s: no debug info and no symbols",
                              sym_src->path));
    /* Corrupt DWARF is not cached: its warning would be lost on the next
       run.  An empty index is not worth a file. */
    if (cpath && !dwarf_bad &&
        (m->ix.flags & (COROSYM_HAS_SYMTAB | COROSYM_HAS_LINES |
                        COROSYM_HAS_FUNCS))) {
        char *cerr = NULL;
        if (cs_cache_save(cpath, key, &m->ix, &cerr) < 0) {
            /* a read-only cache is not an error for the lookup */
            free(cerr);
        }
    }
    free(cpath);
    m->bin = bin ? bin : dbg;
    if (bin && dbg)
        cs_elf_close(dbg);
}

static corosym_module *new_module(corosym_session *s, const char *path,
                                  const uint8_t *id, size_t idlen)
{
    corosym_module *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->s = s;
    m->path = path ? cs_xstrdup(path) : NULL;
    if (idlen > sizeof m->want_id)
        idlen = sizeof m->want_id;
    if (id && idlen)
        memcpy(m->want_id, id, idlen);
    m->want_id_len = id ? idlen : 0;
    m->next = s->mods;
    s->mods = m;
    return m;
}

corosym_module *corosym_module_get(corosym_session *s, const char *path,
                                   const uint8_t *build_id,
                                   size_t build_id_len)
{
    if (!s)
        return NULL;
    if (!build_id)
        build_id_len = 0;
    for (corosym_module *m = s->mods; m; m = m->next) {
        if ((path == NULL) != (m->path == NULL))
            continue;
        if (path && strcmp(path, m->path) != 0)
            continue;
        if (build_id_len) {
            if (m->want_id_len != build_id_len ||
                memcmp(m->want_id, build_id, build_id_len) != 0)
                continue;
        } else if (!path) {
            continue;
        } else if (m->loaded == 2) {
            continue; /* asked by path+id before; ask again by path */
        }
        return m;
    }
    corosym_module *m = new_module(s, path, build_id, build_id_len);
    if (!m)
        return NULL;
    m->loaded = build_id_len ? 2 : 1;
    if (!path && !build_id_len) {
        m->error = cs_xstrdup("corosym: module has neither path nor build-id");
        return m;
    }
    load_module(m, NULL, 0);
    return m;
}

corosym_module *corosym_module_from_memory(corosym_session *s,
                                           const char *name,
                                           const void *data, size_t size)
{
    if (!s)
        return NULL;
    corosym_module *m = new_module(s, name ? name : "<memory>", NULL, 0);
    if (!m)
        return NULL;
    m->loaded = 3;
    load_module(m, data, size);
    return m;
}

const char *corosym_module_error(const corosym_module *m)
{
    return m ? m->error : "corosym: no module";
}

const char *corosym_module_warning(const corosym_module *m)
{
    return m ? m->warning : NULL;
}

const char *corosym_module_path(const corosym_module *m)
{
    return m->bin ? m->bin->path : m->path;
}

const char *corosym_module_debug_path(const corosym_module *m)
{
    return m->debug_path;
}

const uint8_t *corosym_module_build_id(const corosym_module *m, size_t *len)
{
    *len = m->build_id_len;
    return m->build_id_len ? m->build_id : NULL;
}

unsigned corosym_module_flags(const corosym_module *m)
{
    return m->error ? 0 : m->ix.flags;
}

int corosym_module_offset_to_vaddr(const corosym_module *m,
                                   uint64_t off, uint64_t *vaddr)
{
    if (!m || !m->bin)
        return -1;
    const cs_elf *e = m->bin;
    /* objcopy --only-keep-debug files keep the program headers but zero
       the file offsets of segments whose bytes they dropped.  For those,
       assume the usual linker layout: offset = vaddr - first LOAD vaddr. */
    uint64_t base = UINT64_MAX;
    int debug_only = 0;
    for (size_t i = 0; i < e->nphdr; i++) {
        const GElf_Phdr *p = &e->phdr[i];
        if (p->p_type != PT_LOAD)
            continue;
        if (base == UINT64_MAX)
            base = p->p_vaddr & ~(p->p_align > 1 ? p->p_align - 1 : 0);
        if ((p->p_flags & PF_X) && p->p_filesz == 0 && p->p_memsz > 0)
            debug_only = 1;
    }
    for (size_t i = 0; i < e->nphdr; i++) {
        const GElf_Phdr *p = &e->phdr[i];
        if (p->p_type != PT_LOAD)
            continue;
        uint64_t poff = p->p_offset;
        if (debug_only && p->p_filesz == 0)
            poff = p->p_vaddr - base;
        if (off >= poff && off - poff < p->p_memsz) {
            *vaddr = p->p_vaddr + (off - poff);
            return 0;
        }
    }
    return -1;
}

/* -------------------------------------------------------------- lookup */
const char *corosym_demangle(corosym_session *s, const char *name)
{
    if (!name || name[0] != '_' || name[1] != 'Z')
        return name;
    char *d = cs_demangle(name);
    return d ? cs_session_keep(s, d) : name;
}

static const char *ix_str(const cs_index *ix, uint32_t off)
{
    return off < ix->strsize ? ix->str + off : NULL;
}

static const char *ix_file(const cs_index *ix, uint32_t id)
{
    return id < ix->nfiles ? ix->str + ix->files[id] : NULL;
}

static const char *fname(corosym_module *m, uint32_t off)
{
    const cs_index *ix = &m->ix;
    if (off >= ix->strsize)
        return NULL;
    if (!m->s->o.demangle)
        return ix->str + off;
    const char *n = ix->str + off;
    if (n[0] != '_' || n[1] != 'Z')
        return n;
    /* memo keyed by string offset (open addressing, offset+1 / ptr);
       locked because corosym's batch renders on several threads */
    static pthread_mutex_t memo_lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&memo_lock);
    if (m->ndem == 0) {
        m->ndem = 1024;
        m->dem = cs_xcalloc(m->ndem * 2, sizeof *m->dem);
    }
    const char *found = NULL;
    size_t h = (off * 2654435761u) & (m->ndem - 1);
    for (size_t probes = 0; probes < m->ndem; probes++) {
        const char **slot = &m->dem[2 * h];
        if (!slot[0]) {
            slot[0] = n;
            slot[1] = corosym_demangle(m->s, n);
            found = slot[1];
            break;
        }
        if (slot[0] == n) {
            found = slot[1];
            break;
        }
        h = (h + 1) & (m->ndem - 1);
    }
    if (!found) /* memo full */
        found = corosym_demangle(m->s, n);
    pthread_mutex_unlock(&memo_lock);
    return found;
}

const char *corosym_miss_string(corosym_miss miss)
{
    switch (miss) {
    case COROSYM_OK: return "ok";
    case COROSYM_MISS_MODULE: return "module could not be loaded";
    case COROSYM_MISS_NO_INFO: return "module has no debug info or symbols";
    case COROSYM_MISS_NOT_FOUND: return "no symbol or line covers the address";
    case COROSYM_MISS_NO_LINE: return "no line information for the address";
    }
    return "unknown";
}

void cs_lookup(const cs_index *ix, uint64_t addr, cs_hit *h)
{
    size_t k = cs_index_find(ix, 0, addr);
    h->row = k == SIZE_MAX ? CS_NONE : (uint32_t)k;
    k = cs_index_find(ix, 1, addr);
    h->seg = k == SIZE_MAX ? CS_NONE : (uint32_t)k;
    k = cs_index_find(ix, 2, addr);
    h->sym = k == SIZE_MAX ? CS_NONE : (uint32_t)k;
}

/* LSD radix sort of (key, index) pairs on the bits that vary. */
typedef struct kv { uint64_t k; uint32_t i, pad; } kv;

static void radix_sort(kv *a, size_t n)
{
    if (n < 2)
        return;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        if (a[i].k < lo)
            lo = a[i].k;
        if (a[i].k > hi)
            hi = a[i].k;
    }
    kv *b = cs_xmalloc(n * sizeof *b);
    size_t cnt[2048];
    for (unsigned sh = 0; sh < 64 && ((hi - lo) >> sh) != 0; sh += 11) {
        memset(cnt, 0, sizeof cnt);
        for (size_t i = 0; i < n; i++)
            cnt[((a[i].k - lo) >> sh) & 2047]++;
        size_t sum = 0;
        for (size_t d = 0; d < 2048; d++) {
            size_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (size_t i = 0; i < n; i++)
            b[cnt[((a[i].k - lo) >> sh) & 2047]++] = a[i];
        kv *t = a;
        memcpy(t, b, n * sizeof *t);
    }
    free(b);
}

/* The usual case of cs_sort_addrs: the span of the addresses and the
   index of each fit one 64-bit word together ((address - lowest) above
   IB index bits), so the sort moves 8 bytes per address, not 16, and
   counts every digit in one read.  Stable LSD radix on the address bits
   only: equal addresses keep their input order. */
static void sort_packed(const uint64_t *addrs, size_t n, uint64_t lo,
                        unsigned keybits, unsigned ib, uint64_t *saddrs,
                        uint32_t *order)
{
    enum { D = 11, R = 1 << D };
    unsigned passes = (keybits + D - 1) / D;
    uint64_t *a = cs_xmalloc(n * sizeof *a), *b = cs_xmalloc(n * sizeof *b);
    size_t (*cnt)[R] = cs_xcalloc(passes ? passes : 1, sizeof *cnt);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = addrs[i] - lo;
        a[i] = k << ib | i;
        for (unsigned p = 0; p < passes; p++)
            cnt[p][(k >> (p * D)) & (R - 1)]++;
    }
    for (unsigned p = 0; p < passes; p++) {
        size_t sum = 0;
        for (size_t d = 0; d < R; d++) {
            size_t c = cnt[p][d];
            cnt[p][d] = sum;
            sum += c;
        }
        unsigned sh = ib + p * D;
        for (size_t i = 0; i < n; i++)
            b[cnt[p][(a[i] >> sh) & (R - 1)]++] = a[i];
        uint64_t *s = a;
        a = b;
        b = s;
    }
    uint64_t mask = ((uint64_t)1 << ib) - 1;
    for (size_t j = 0; j < n; j++) {
        saddrs[j] = (a[j] >> ib) + lo;
        order[j] = (uint32_t)(a[j] & mask);
    }
    free(cnt);
    free(a);
    free(b);
}

void cs_sort_addrs(const uint64_t *addrs, size_t n, uint64_t *saddrs,
                   uint32_t *order)
{
    if (!n)
        return;
    uint64_t lo = UINT64_MAX, hi = 0;
    for (size_t i = 0; i < n; i++) {
        if (addrs[i] < lo)
            lo = addrs[i];
        if (addrs[i] > hi)
            hi = addrs[i];
    }
    unsigned ib = 1, keybits = 0;
    while (ib < 32 && ((size_t)1 << ib) < n)
        ib++;
    while (keybits < 64 && ((hi - lo) >> keybits) != 0)
        keybits++;
    if (keybits + ib <= 64) {
        sort_packed(addrs, n, lo, keybits, ib, saddrs, order);
        return;
    }
    kv *a = cs_xmalloc(n * sizeof *a);
    for (size_t i = 0; i < n; i++) {
        a[i].k = addrs[i];
        a[i].i = (uint32_t)i;
        a[i].pad = 0;
    }
    radix_sort(a, n);
    for (size_t j = 0; j < n; j++) {
        saddrs[j] = a[j].k;
        order[j] = a[j].i;
    }
    free(a);
}

/* Moves P forward to the last element of ARR[0..N) whose FIELD is <= X,
   given ARR[P].FIELD <= X: doubling steps, then halving ones, so a batch
   of sparse addresses skips the rows between them in O(log gap). */
#define GALLOP(arr, n, p, field, x)                                        \
    do {                                                                   \
        size_t s_ = 1;                                                     \
        while ((p) + s_ < (n) && (arr)[(p) + s_].field <= (x)) {           \
            (p) += s_;                                                     \
            s_ <<= 1;                                                      \
        }                                                                  \
        while (s_ >>= 1)                                                   \
            if ((p) + s_ < (n) && (arr)[(p) + s_].field <= (x))            \
                (p) += s_;                                                 \
    } while (0)

void cs_lookup_next(const cs_index *ix, cs_cursor *cur, uint64_t x,
                    cs_hit *h)
{
    if (!cur->started) {
        cs_lookup(ix, x, h);
        cur->started = 1;
        cur->have_r = h->row != CS_NONE;
        cur->have_s = h->seg != CS_NONE;
        cur->have_y = h->sym != CS_NONE;
        cur->pr = cur->have_r ? h->row : 0;
        cur->ps = cur->have_s ? h->seg : 0;
        cur->py = cur->have_y ? h->sym : 0;
        return;
    }
    if (!cur->have_r && ix->nrows && ix->rows[0].addr <= x)
        cur->have_r = 1, cur->pr = 0;
    if (cur->have_r)
        GALLOP(ix->rows, ix->nrows, cur->pr, addr, x);
    if (!cur->have_s && ix->nsegs && ix->segs[0].start <= x)
        cur->have_s = 1, cur->ps = 0;
    if (cur->have_s)
        GALLOP(ix->segs, ix->nsegs, cur->ps, start, x);
    if (!cur->have_y && ix->nsyms && ix->syms[0].addr <= x)
        cur->have_y = 1, cur->py = 0;
    if (cur->have_y)
        GALLOP(ix->syms, ix->nsyms, cur->py, addr, x);
    h->row = cur->have_r ? (uint32_t)cur->pr : CS_NONE;
    h->seg = cur->have_s ? (uint32_t)cur->ps : CS_NONE;
    h->sym = cur->have_y ? (uint32_t)cur->py : CS_NONE;
}

const cs_var *cs_module_var_at(corosym_module *m, uint64_t addr)
{
    if (!m || m->error || !m->debug_path)
        return NULL;
    if (!m->vars_read) {
        m->vars_read = 1;
        /* the binary itself when it carries the DWARF (also a module
           from memory), else the debug file, opened again */
        if (m->bin && m->bin->path && !strcmp(m->bin->path, m->debug_path)) {
            cs_dwarf_read_vars(m->bin, m->s->o.threads, &m->vars);
        } else {
            char *err = NULL;
            cs_elf *e = cs_elf_open(m->debug_path, NULL, 0, &err);
            if (e) {
                cs_dwarf_read_vars(e, m->s->o.threads, &m->vars);
                cs_elf_close(e);
            }
            free(err); /* the index was built from this file: a failure
                          now only costs the variable names */
        }
    }
    return cs_var_at(&m->vars, addr);
}

size_t corosym_symbolize(corosym_module *m, uint64_t addr,
                         corosym_frame *frames, size_t max,
                         corosym_miss *miss)
{
    cs_hit h;
    if (m && !m->error)
        cs_lookup(&m->ix, addr, &h);
    return cs_symbolize_hit(m, addr, &h, frames, max, miss);
}

size_t cs_symbolize_hit(corosym_module *m, uint64_t addr, const cs_hit *h,
                        corosym_frame *frames, size_t max,
                        corosym_miss *miss)
{
    corosym_frame tmp;
    corosym_frame *out = max ? frames : &tmp;
    corosym_miss ms = COROSYM_OK;
    memset(out, 0, sizeof *out);
    if (!m || m->error) {
        if (miss)
            *miss = COROSYM_MISS_MODULE;
        return 1;
    }
    const cs_index *ix = &m->ix;
    if (!ix->nrows && !ix->nsegs && !ix->nsyms) {
        if (miss)
            *miss = COROSYM_MISS_NO_INFO;
        return 1;
    }
    const cs_row *row = NULL;
    if (h->row != CS_NONE && ix->rows[h->row].file != CS_NONE)
        row = &ix->rows[h->row];
    uint32_t sc = h->seg != CS_NONE ? ix->segs[h->seg].scope : CS_NONE;
    const cs_sym *sym = NULL;
    if (h->sym != CS_NONE) {
        const cs_sym *y = &ix->syms[h->sym];
        if (!(y->size != 0 && addr - y->addr >= y->size))
            sym = y;
    }
    size_t n = 0;
    int inl = m->s->o.inlines;
    uint32_t chain[256];
    size_t nchain = 0;
    for (uint32_t c = sc; c != CS_NONE && nchain < 256; c = ix->scopes[c].parent) {
        chain[nchain++] = c;
        if (!ix->scopes[c].inlined)
            break;
    }
    size_t total = inl ? (nchain ? nchain : 1) : 1;
    for (size_t i = 0; i < total; i++) {
        corosym_frame f;
        memset(&f, 0, sizeof f);
        if (nchain) {
            const cs_scope *s = &ix->scopes[chain[i]];
            f.function = m->s->o.short_names ? ix_str(ix, s->sname)
                                             : fname(m, s->name);
            f.start_line = s->decl_line;
            f.start_file = ix_file(ix, s->decl_file);
            f.start_address = s->low;
        }
        if (i == 0) {
            if (row) {
                f.file = row->file < ix->nfiles ? ix_file(ix, row->file) : NULL;
                if (f.file) {
                    f.line = row->line;
                    f.column = row->col;
                    f.discriminator = row->disc;
                }
            }
        } else {
            const cs_scope *callee = &ix->scopes[chain[i - 1]];
            f.file = ix_file(ix, callee->call_file);
            f.line = callee->call_line;
            f.column = callee->call_col;
        }
        if (sym) {
            f.symbol = fname(m, sym->name);
            f.symbol_address = sym->addr;
            f.symbol_size = sym->size;
            f.symbol_offset = addr - sym->addr;
        }
        if (i == total - 1 && sym && m->s->o.use_symtab &&
            !m->s->o.short_names) {
            f.function = f.symbol;
            f.start_address = sym->addr;
            if (!f.file && sym->file != CS_NONE && ix_str(ix, sym->file) &&
                ix_str(ix, sym->file)[0])
                f.file = ix_str(ix, sym->file);
        }
        if (n < max)
            frames[n] = f;
        n++;
    }
    if (!row && !nchain && !sym)
        ms = COROSYM_MISS_NOT_FOUND;
    else if (!row)
        ms = COROSYM_MISS_NO_LINE;
    if (miss)
        *miss = ms;
    return n;
}
