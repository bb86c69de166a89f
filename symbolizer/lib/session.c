/* session.c - sessions and the module lifecycle: options, the session's
   strings, finding or loading a module (its binary, its debug file from
   search.c, its index from the cache or built) and the module accessors.
   Lookups are lookup.c, the frames of an answer frames.c. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "corosym_int.h"

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
        cs_calls_free(&m->calls);
        free(m);
    }
    for (size_t i = 0; i < s->ndirs; i++)
        free(s->dirs[i]);
    free(s->dirs);
    for (size_t i = 0; i < s->nowned; i++)
        free(s->owned[i]);
    free(s->owned);
    free(s->cache_dir);
    cs_search_end(s);
    free(s);
}

void cs_module_warn(corosym_module *m, char *w)
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
        cs_module_warn(m, cs_fmt("corosym: cache directory %s is %s: not used",
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

/* Loading a module, phase by phase: the binary, the debug-file search
   (search.c), then the index, mapped from the cache or built. */

/* The binary at M's path (or the image MEM), checked against the wanted
   build-id or the source of it.  NULL when there is none or it was
   refused; then M->error says why. */
static cs_elf *open_binary(corosym_module *m, const void *mem,
                           size_t memsize)
{
    char *err = NULL;
    if (!m->path)
        return NULL;
    cs_elf *bin = cs_elf_open(m->path, mem, memsize, &err);
    if (!bin) {
        m->error = cs_fmt("corosym: %s", err);
        free(err);
        return NULL;
    }
    if (m->want_id_len && bin->build_id_len && !cs_id_matches(m, bin)) {
        char a[129], b[129];
        cs_hex(bin->build_id, bin->build_id_len, a);
        cs_hex(m->want_id, m->want_id_len, b);
        m->error = cs_fmt("corosym: %s: build-id %s does not match "
                          "wanted %s, refused", m->path, a, b);
        cs_elf_close(bin);
        return NULL;
    }
    if (!m->want_id_len && bin->build_id_len) {
        memcpy(m->want_id, bin->build_id, bin->build_id_len);
        m->want_id_len = bin->build_id_len;
    }
    return bin;
}

/* Neither a binary nor a debug file: M's error says so. */
static void no_file_error(corosym_module *m)
{
    if (!m->error) {
        char hex[129];
        cs_hex(m->want_id, m->want_id_len, hex);
        m->error = cs_fmt("corosym: no file found for build-id %s", hex);
    } else if (m->warning && !m->path) {
        char *x = cs_fmt("%s (%s)", m->error, m->warning);
        free(m->error);
        m->error = x;
    }
}

/* M's index from the cache file CPATH when it holds KEY.  0, or -1 (then
   it is rebuilt: a stale or damaged file is no error). */
static int index_from_cache(corosym_module *m, const char *cpath,
                            uint64_t key)
{
    char *cerr = NULL;
    if (!cpath)
        return -1;
    int rc = cs_cache_load(cpath, key, &m->ix, &cerr);
    free(cerr);
    return rc;
}

/* M's index built from DWARF_SRC's DWARF (may be NULL) and SYM_SRC's
   symbols, then saved to CPATH (may be NULL) under KEY. */
static void build_index(corosym_module *m, cs_elf *dwarf_src,
                        cs_elf *sym_src, const char *cpath, uint64_t key)
{
    corosym_session *s = m->s;
    cs_builder b;
    cs_builder_init(&b);
    b.progress = s->o.progress;
    b.threads = s->o.threads;
    if (dwarf_src && cs_dwarf_read(dwarf_src, &b) < 0 && b.err)
        cs_module_warn(m, cs_fmt("corosym: %s", b.err));
    else if (b.err)
        cs_module_warn(m, cs_fmt("corosym: %s", b.err));
    int dwarf_bad = b.err != NULL;
    if (s->o.use_symtab)
        cs_symtab_read(sym_src, &b);
    cs_index_finish(&b, &m->ix);
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
}

static void load_module(corosym_module *m, const void *mem, size_t memsize)
{
    cs_elf *bin = open_binary(m, mem, memsize);
    if (!bin && m->error && !m->want_id_len)
        return;
    int self = 0;
    cs_elf *dbg = cs_debug_find(m, bin, mem != NULL, &self);
    if (!bin && !dbg) {
        no_file_error(m);
        return;
    }
    if (m->error && dbg) {
        /* the binary path failed but the build-id found debug info */
        cs_module_warn(m, m->error);
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
    if (index_from_cache(m, cpath, key) < 0)
        build_index(m, dwarf_src, sym_src, cpath, key);
    free(cpath);
    cs_index_accel(&m->ix);
    if (!dwarf_src && !(m->ix.flags & COROSYM_HAS_SYMTAB))
        cs_module_warn(m, cs_fmt("corosym: %s: no debug info and no "
                                 "symbols", sym_src->path));
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

void corosym_module_index_stats(const corosym_module *m,
                                corosym_index_stats *st)
{
    memset(st, 0, sizeof *st);
    if (!m || m->error)
        return;
    st->rows = m->ix.nrows;
    st->scopes = m->ix.nscopes;
    st->segments = m->ix.nsegs;
    st->symbols = m->ix.nsyms;
    st->files = m->ix.nfiles;
    st->string_bytes = m->ix.strsize;
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
