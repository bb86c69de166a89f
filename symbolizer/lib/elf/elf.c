/* elf.c - open an ELF file with libelf; sections (decompressed), notes,
   build-id, .gnu_debuglink and program headers.  Its symbol tables are
   symtab.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libdeflate.h>
#include <zlib.h>
#include <zstd.h>

#include "corosym_int.h"

#ifndef ELFCOMPRESS_ZSTD
#define ELFCOMPRESS_ZSTD 2
#endif

void cs_elf_close(cs_elf *e)
{
    if (!e)
        return;
    for (size_t i = 0; i < e->nsec; i++)
        if (e->sec[i].owned)
            free((void *)e->sec[i].data);
    free(e->sec);
    free(e->phdr);
    if (e->elf)
        elf_end(e->elf);
    if (e->map && e->map != MAP_FAILED)
        munmap(e->map, e->map_size);
    if (e->fd >= 0)
        close(e->fd);
    free(e->path);
    free(e->err);
    free(e);
}

static void read_build_id(cs_elf *e, const uint8_t *d, size_t n)
{
    size_t off = 0;
    while (off + 12 <= n) {
        uint32_t nsz, dsz, type;
        memcpy(&nsz, d + off, 4);
        memcpy(&dsz, d + off + 4, 4);
        memcpy(&type, d + off + 8, 4);
        size_t np = (nsz + 3) & ~(size_t)3, dp = (dsz + 3) & ~(size_t)3;
        if (np > n - off - 12 || dp > n - off - 12 - np)
            return;
        const uint8_t *name = d + off + 12, *desc = name + np;
        if (type == 3 && nsz == 4 && memcmp(name, "GNU", 4) == 0 &&
            dsz > 0 && dsz <= sizeof e->build_id && !e->build_id_len) {
            memcpy(e->build_id, desc, dsz);
            e->build_id_len = dsz;
        }
        off += 12 + np + dp;
    }
}

/* Opening a file, phase by phase.  Each phase returns 0, or -1 with
   *ERR set (malloc'ed, naming E->path); E->file_size is the image's size
   from the first phase on. */

/* Phase 1: E->map holds the image: a private copy of DATA/SIZE, or the
   file at E->path mapped privately. */
static int map_input(cs_elf *e, const void *data, size_t size, char **err)
{
    const char *path = e->path;
    if (data) {
        e->map = mmap(NULL, size ? size : 1, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (e->map == MAP_FAILED) {
            *err = cs_fmt("%s: cannot allocate %zu bytes", path, size);
            return -1;
        }
        memcpy(e->map, data, size);
        e->map_size = size ? size : 1;
        e->file_size = size;
        return 0;
    }
    struct stat st;
    /* O_NONBLOCK: opening a FIFO (a planted module path or debug file
       candidate) would otherwise wait forever for a writer; it changes
       nothing for the regular files accepted below. */
    e->fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (e->fd < 0 || fstat(e->fd, &st) < 0) {
        *err = cs_fmt("%s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        *err = cs_fmt("%s: not a regular file", path);
        return -1;
    }
    if (st.st_size < 16) {
        *err = cs_fmt("%s: not an ELF file (too short)", path);
        return -1;
    }
    e->file_size = (uint64_t)st.st_size;
    e->file_mtime = (uint64_t)st.st_mtim.tv_sec * 1000000000ull +
                    (uint64_t)st.st_mtim.tv_nsec;
    e->map_size = (size_t)st.st_size;
    e->map = mmap(NULL, e->map_size, PROT_READ | PROT_WRITE, MAP_PRIVATE,
                  e->fd, 0);
    if (e->map == MAP_FAILED) {
        *err = cs_fmt("%s: mmap: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* libelf reports a section header table beyond the end of the buffer as
   "no sections", which would pass a truncated file off as a bare one:
   check the header fields ourselves, in llvm's words. */
static int check_section_table(cs_elf *e, const GElf_Ehdr *eh, char **err)
{
    size_t size = (size_t)e->file_size;
    if (eh->e_shoff == 0)
        return 0;
    size_t shsz = e->is64 ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr);
    if (eh->e_shoff > size || size - eh->e_shoff < shsz) {
        *err = cs_fmt("%s: section header table goes past the end of "
                      "the file: e_shoff = 0x%llx (truncated?)", e->path,
                      (unsigned long long)eh->e_shoff);
        return -1;
    }
    uint64_t nsh = eh->e_shnum;
    if (nsh == 0) { /* extended numbering: sh_size of section 0 */
        const uint8_t *s0 = (const uint8_t *)e->map + eh->e_shoff;
        if (e->is64) {
            Elf64_Shdr h0;
            memcpy(&h0, s0, sizeof h0);
            nsh = h0.sh_size;
        } else {
            Elf32_Shdr h0;
            memcpy(&h0, s0, sizeof h0);
            nsh = h0.sh_size;
        }
    }
    if (nsh > (size - eh->e_shoff) / shsz) {
        *err = cs_fmt("%s: section table goes past the end of file "
                      "(truncated?)", e->path);
        return -1;
    }
    return 0;
}

/* Phase 2: the ELF header, through libelf (E->elf), with the checks
   libelf leaves out. */
static int read_header(cs_elf *e, char **err)
{
    const char *path = e->path;
    size_t size = (size_t)e->file_size;
    if (size < 16 || memcmp(e->map, ELFMAG, SELFMAG) != 0) {
        *err = cs_fmt("%s: not an ELF file", path);
        return -1;
    }
    int cls = ((const uint8_t *)e->map)[EI_CLASS];
    size_t ehsz = cls == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
    if (size < ehsz) {
        *err = cs_fmt("%s: invalid buffer: the size (%zu) is smaller than "
                      "an ELF header (%zu) (truncated?)", path, size, ehsz);
        return -1;
    }
    e->elf = elf_memory(e->map, size);
    if (!e->elf || elf_kind(e->elf) != ELF_K_ELF) {
        *err = cs_fmt("%s: invalid ELF: %s", path, elf_errmsg(-1));
        return -1;
    }
    GElf_Ehdr eh;
    if (!gelf_getehdr(e->elf, &eh)) {
        *err = cs_fmt("%s: invalid ELF header: %s", path, elf_errmsg(-1));
        return -1;
    }
    e->is64 = eh.e_ident[EI_CLASS] == ELFCLASS64;
    e->little = eh.e_ident[EI_DATA] == ELFDATA2LSB;
    e->e_type = eh.e_type;
    e->e_machine = eh.e_machine;
    if (!e->little) {
        *err = cs_fmt("%s: big-endian ELF is not supported", path);
        return -1;
    }
    return check_section_table(e, &eh, err);
}

/* .gnu_debuglink's file name and CRC, when well-formed. */
static void read_debuglink(cs_elf *e, Elf_Scn *scn)
{
    Elf_Data *d = elf_rawdata(scn, NULL);
    if (!d || !d->d_buf || d->d_size < 8)
        return;
    const char *nmz = d->d_buf;
    size_t l = strnlen(nmz, d->d_size);
    size_t crco = (l + 4) & ~(size_t)3;
    if (l > 0 && l < d->d_size && crco + 4 <= d->d_size) {
        e->debuglink = nmz;
        memcpy(&e->debuglink_crc, (char *)d->d_buf + crco, 4);
        e->has_debuglink = 1;
    }
}

/* Phase 3: the section table (E->sec, data left for cs_elf_section),
   the build-id notes and .gnu_debuglink. */
static int read_sections(cs_elf *e, char **err)
{
    const char *path = e->path;
    size_t size = (size_t)e->file_size;
    size_t shstrndx;
    if (elf_getshdrnum(e->elf, &e->nsec) < 0 ||
        elf_getshdrstrndx(e->elf, &shstrndx) < 0) {
        *err = cs_fmt("%s: invalid section headers: %s", path,
                      elf_errmsg(-1));
        return -1;
    }
    e->sec = cs_xcalloc(e->nsec ? e->nsec : 1, sizeof *e->sec);
    for (size_t i = 0; i < e->nsec; i++) {
        Elf_Scn *scn = elf_getscn(e->elf, i);
        GElf_Shdr sh;
        if (!scn || !gelf_getshdr(scn, &sh)) {
            *err = cs_fmt("%s: invalid section header %zu: %s", path, i,
                          elf_errmsg(-1));
            return -1;
        }
        cs_section *s = &e->sec[i];
        const char *nm = elf_strptr(e->elf, shstrndx, sh.sh_name);
        s->name = nm ? nm : "";
        s->addr = sh.sh_addr;
        s->flags = sh.sh_flags;
        s->type = sh.sh_type;
        s->size = sh.sh_size;
        if (sh.sh_type != SHT_NOBITS && sh.sh_type != SHT_NULL &&
            (sh.sh_offset > size || sh.sh_size > size - sh.sh_offset)) {
            *err = cs_fmt("%s: section %s extends past the end of the file "
                          "(truncated?)", path, s->name);
            return -1;
        }
        if (sh.sh_type == SHT_NOTE) {
            Elf_Data *d = elf_rawdata(scn, NULL);
            if (d && d->d_buf)
                read_build_id(e, d->d_buf, d->d_size);
        }
        if (strcmp(s->name, ".gnu_debuglink") == 0 &&
            sh.sh_type != SHT_NOBITS)
            read_debuglink(e, scn);
    }
    return 0;
}

/* Phase 4: the program headers (E->phdr), and the build-id from a
   PT_NOTE when no section gave it. */
static void read_phdrs(cs_elf *e)
{
    size_t size = (size_t)e->file_size;
    size_t nph = 0;
    if (elf_getphdrnum(e->elf, &nph) != 0 || nph == 0)
        return;
    e->phdr = cs_xcalloc(nph, sizeof *e->phdr);
    for (size_t i = 0; i < nph; i++) {
        if (!gelf_getphdr(e->elf, (int)i, &e->phdr[e->nphdr]))
            break;
        GElf_Phdr *p = &e->phdr[e->nphdr];
        if (p->p_type == PT_NOTE && !e->build_id_len &&
            p->p_offset < size && p->p_filesz <= size - p->p_offset)
            read_build_id(e, (uint8_t *)e->map + p->p_offset, p->p_filesz);
        e->nphdr++;
    }
}

cs_elf *cs_elf_open(const char *path, const void *data, size_t size,
                    char **err)
{
    cs_elf *e = cs_xcalloc(1, sizeof *e);
    e->fd = -1;
    e->path = cs_xstrdup(path);
    *err = NULL;
    elf_version(EV_CURRENT);
    if (map_input(e, data, size, err) < 0 || read_header(e, err) < 0 ||
        read_sections(e, err) < 0) {
        cs_elf_close(e);
        return NULL;
    }
    read_phdrs(e);
    return e;
}

static int decompress(cs_elf *e, cs_section *s, const uint8_t *raw,
                      size_t rawn, char **err)
{
    uint32_t type = 0;
    uint64_t usize = 0;
    size_t hdr = 0;
    if (s->flags & SHF_COMPRESSED) {
        if (e->is64) {
            Elf64_Chdr ch;
            if (rawn < sizeof ch)
                goto bad;
            memcpy(&ch, raw, sizeof ch);
            type = ch.ch_type;
            usize = ch.ch_size;
            hdr = sizeof ch;
        } else {
            Elf32_Chdr ch;
            if (rawn < sizeof ch)
                goto bad;
            memcpy(&ch, raw, sizeof ch);
            type = ch.ch_type;
            usize = ch.ch_size;
            hdr = sizeof ch;
        }
    } else { /* .zdebug: "ZLIB" + 8-byte big-endian size */
        if (rawn < 12 || memcmp(raw, "ZLIB", 4) != 0)
            goto bad;
        for (int i = 0; i < 8; i++)
            usize = usize << 8 | raw[4 + i];
        type = ELFCOMPRESS_ZLIB;
        hdr = 12;
    }
    if (usize > (uint64_t)1 << 34 || usize > rawn * 1100ull + 4096)
        goto bad;
    uint8_t *out = cs_xmalloc(usize ? usize : 1);
    if (type == ELFCOMPRESS_ZLIB) {
        /* libdeflate inflates about twice as fast as zlib */
        struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
        size_t got = 0;
        enum libdeflate_result lr = d ? libdeflate_zlib_decompress(
            d, raw + hdr, rawn - hdr, out, usize, &got) : LIBDEFLATE_BAD_DATA;
        if (d)
            libdeflate_free_decompressor(d);
        uLongf dl = usize;
        if (lr != LIBDEFLATE_SUCCESS && lr != LIBDEFLATE_SHORT_OUTPUT &&
            !d) /* allocation failed: fall back to zlib */
            lr = uncompress(out, &dl, raw + hdr, rawn - hdr) == Z_OK
                     ? LIBDEFLATE_SUCCESS : LIBDEFLATE_BAD_DATA;
        else
            dl = got;
        if (lr != LIBDEFLATE_SUCCESS || dl != usize) {
            free(out);
            *err = cs_fmt("%s: section %s: corrupt zlib data", e->path,
                          s->name);
            return -1;
        }
    } else if (type == ELFCOMPRESS_ZSTD) {
        size_t r = ZSTD_decompress(out, usize, raw + hdr, rawn - hdr);
        if (ZSTD_isError(r) || r != usize) {
            free(out);
            *err = cs_fmt("%s: section %s: corrupt zstd data", e->path,
                          s->name);
            return -1;
        }
    } else {
        free(out);
        *err = cs_fmt("%s: section %s: unknown compression type %u",
                      e->path, s->name, type);
        return -1;
    }
    s->data = out;
    s->size = usize;
    s->owned = 1;
    return 0;
bad:
    *err = cs_fmt("%s: section %s: bad compression header", e->path,
                  s->name);
    return -1;
}

const cs_section *cs_elf_section(cs_elf *e, const char *name, char **err)
{
    const char *zname = NULL;
    for (size_t pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < e->nsec; i++) {
            cs_section *s = &e->sec[i];
            if (pass == 0 ? strcmp(s->name, name) != 0
                          : !(zname && strcmp(s->name, zname) == 0))
                continue;
            if (s->type == SHT_NOBITS || s->type == SHT_NULL)
                return NULL;
            if (s->data)
                return s->size ? s : NULL;
            Elf_Scn *scn = elf_getscn(e->elf, i);
            GElf_Shdr sh;
            if (!scn || !gelf_getshdr(scn, &sh))
                return NULL;
            const uint8_t *raw = (const uint8_t *)e->map + sh.sh_offset;
            size_t rawn = sh.sh_size;
            if ((s->flags & SHF_COMPRESSED) || pass == 1) {
                if (decompress(e, s, raw, rawn, err) < 0)
                    return NULL;
            } else {
                s->data = raw;
                s->size = rawn;
            }
            return s->size ? s : NULL;
        }
        if (strncmp(name, ".debug_", 7) != 0)
            break;
        static __thread char zb[64];
        snprintf(zb, sizeof zb, ".zdebug_%s", name + 7);
        zname = zb;
    }
    return NULL;
}

int cs_elf_has_dwarf(cs_elf *e)
{
    for (size_t i = 0; i < e->nsec; i++) {
        const cs_section *s = &e->sec[i];
        if (s->type != SHT_NOBITS && s->size > 0 &&
            (strcmp(s->name, ".debug_info") == 0 ||
             strcmp(s->name, ".debug_line") == 0 ||
             strcmp(s->name, ".zdebug_info") == 0 ||
             strcmp(s->name, ".zdebug_line") == 0))
            return 1;
    }
    return 0;
}

int cs_elf_has_symbols(cs_elf *e)
{
    for (size_t i = 0; i < e->nsec; i++)
        if ((e->sec[i].type == SHT_SYMTAB || e->sec[i].type == SHT_DYNSYM) &&
            e->sec[i].size > 0)
            return 1;
    return 0;
}
