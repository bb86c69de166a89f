/*
 * target_core.c -- a core file: memory from its PT_LOAD segments, and for
 * the pages a core leaves out (read-only file-backed ones such as .rodata
 * and .text, see ../shared/FACTS.md) from the mapped files named by its
 * NT_FILE note.  Thread registers from NT_PRSTATUS (arch_regs.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libgen.h>
#include <link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corocap.h"
#include "arch_int.h"
#include "cc_int.h"
#include "target_int.h"

#ifndef NT_FILE
#define NT_FILE 0x46494c45
#endif

struct seg { uint64_t vaddr, memsz, offset, filesz; };
struct fmap { uint64_t start, end, fileoff; const cc_module *mod; };

struct core_reader {
    cc_reader r;
    int fd;
    struct seg *segs;
    size_t nsegs;
    struct fmap *maps;
    size_t nmaps;
    cc_target *t;
    int *modfd;          /* per module: open file or -1, -2 not tried */
};

static int file_fd(struct core_reader *c, const cc_module *m)
{
    size_t i = (size_t)(m - c->t->mods);
    if (c->modfd[i] == -2)
        c->modfd[i] = open(m->path, O_RDONLY | O_CLOEXEC);
    return c->modfd[i];
}

/* Copy what one source can give from ADDR: returns bytes copied, 0 none. */
static size_t piece(struct core_reader *c, uint64_t addr, uint8_t *buf,
                    size_t len)
{
    for (size_t i = 0; i < c->nsegs; i++) {
        struct seg *s = &c->segs[i];
        if (addr < s->vaddr || addr - s->vaddr >= s->memsz)
            continue;
        uint64_t in = addr - s->vaddr;
        if (in < s->filesz) {
            size_t n = len < s->filesz - in ? len : s->filesz - in;
            if (pread(c->fd, buf, n, (off_t)(s->offset + in)) != (ssize_t)n)
                return 0;
            return n;
        }
        break;     /* in the segment but not dumped: try the files */
    }
    for (size_t i = 0; i < c->nmaps; i++) {
        struct fmap *m = &c->maps[i];
        if (addr < m->start || addr >= m->end)
            continue;
        int fd = file_fd(c, m->mod);
        if (fd < 0)
            return 0;
        size_t n = len < m->end - addr ? len : m->end - addr;
        ssize_t got = pread(fd, buf, n, (off_t)(m->fileoff + addr - m->start));
        return got > 0 ? (size_t)got : 0;
    }
    return 0;
}

static int core_read(cc_reader *r, uint64_t addr, void *buf, size_t len)
{
    struct core_reader *c = (struct core_reader *)r;
    size_t done = 0;
    while (done < len) {
        size_t n = piece(c, addr + done, (uint8_t *)buf + done, len - done);
        if (!n) {
            errno = EFAULT;
            return -1;
        }
        done += n;
    }
    return 0;
}

static void core_free(cc_reader *r)
{
    struct core_reader *c = (struct core_reader *)r;
    for (size_t i = 0; c->modfd && i < c->t->nmods; i++)
        if (c->modfd[i] >= 0)
            close(c->modfd[i]);
    free(c->modfd);
    if (c->fd >= 0)
        close(c->fd);
    free(c->segs);
    free(c->maps);
    free(c);
}

/* One thread's elf_prstatus: pr_pid and pr_reg where A says. */
static void prstatus(cc_target *t, const struct cc_arch *a, const uint8_t *d,
                     size_t n)
{
    if (n < a->prstatus_regs + a->nwords * 8 || a->nwords > 64)
        return;
    struct cc_thread_regs *nt = realloc(t->threads,
                                        (t->nthreads + 1) * sizeof *nt);
    if (!nt)
        return;
    t->threads = nt;
    struct cc_thread_regs *th = &nt[t->nthreads++];
    memset(th, 0, sizeof *th);
    int32_t tid;
    memcpy(&tid, d + a->prstatus_tid, 4);
    th->tid = tid;
    uint64_t words[64];
    memcpy(words, d + a->prstatus_regs, a->nwords * 8);
    th->nregs = cc_arch_regs(a, words, th->regno, th->val,
                             CC_MAX_THREAD_REGS);
}

struct ntfile { uint64_t start, end, pgoff; char *name; };

static int notes(cc_target *t, Elf *e, const struct cc_arch *a,
                 const GElf_Phdr *ph, struct ntfile **files, size_t *nfiles,
                 uint64_t *page, char *fname, uint64_t *at_entry)
{
    Elf_Data *d = elf_getdata_rawchunk(e, ph->p_offset, ph->p_filesz,
                                       ELF_T_NHDR);
    if (!d)
        return -1;
    GElf_Nhdr nh;
    size_t off = 0, noff, doff;
    while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
        const uint8_t *desc = (const uint8_t *)d->d_buf + doff;
        if (nh.n_type == NT_PRSTATUS && nh.n_namesz == 5)
            prstatus(t, a, desc, nh.n_descsz);
        else if (nh.n_type == NT_PRPSINFO && nh.n_descsz >= 56 + 16) {
            int32_t pid;
            memcpy(&pid, desc + 24, 4);
            t->pid = pid;
            memcpy(fname, desc + 40, 16);
            fname[16] = 0;
        } else if (nh.n_type == NT_AUXV) {
            for (size_t i = 0; i + 16 <= nh.n_descsz; i += 16) {
                uint64_t type;
                memcpy(&type, desc + i, 8);
                if (type == AT_ENTRY)
                    memcpy(at_entry, desc + i + 8, 8);
            }
        } else if (nh.n_type == NT_FILE && nh.n_descsz >= 16) {
            uint64_t count, pg;
            memcpy(&count, desc, 8);
            memcpy(&pg, desc + 8, 8);
            if (count > (nh.n_descsz - 16) / 24)
                continue;
            *page = pg;
            const char *names = (const char *)desc + 16 + 24 * count;
            const char *end = (const char *)desc + nh.n_descsz;
            *files = calloc(count ? count : 1, sizeof **files);
            if (!*files)
                return -1;
            for (uint64_t i = 0; i < count && names < end; i++) {
                struct ntfile *f = &(*files)[i];
                memcpy(&f->start, desc + 16 + 24 * i, 8);
                memcpy(&f->end, desc + 24 + 24 * i, 8);
                memcpy(&f->pgoff, desc + 32 + 24 * i, 8);
                size_t len = strnlen(names, (size_t)(end - names));
                f->name = strndup(names, len);
                names += len + 1;
                *nfiles = i + 1;
            }
        }
    }
    return 0;
}

/* A core without NT_FILE (qemu-user writes none): the executable EXE
 * alone, mapped where the entry point the core's NT_AUXV names puts it
 * (AT_ENTRY; 0 when absent: a position-dependent program).  Its
 * libraries stay unknown: their frames are unnamed addresses. */
static int exe_mappings(const char *exe, uint64_t at_entry,
                        struct ntfile **files, size_t *nfiles, uint64_t *page)
{
    int fd = open(exe, O_RDONLY | O_CLOEXEC), rc = -1;
    if (fd < 0)
        return -1;
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    GElf_Ehdr eh;
    size_t nph;
    if (!e || !gelf_getehdr(e, &eh) || elf_getphdrnum(e, &nph))
        goto out;
    uint64_t bias = at_entry ? at_entry - eh.e_entry : 0;
    *files = calloc(nph ? nph : 1, sizeof **files);
    if (!*files)
        goto out;
    *page = 1;                  /* pgoff below is in bytes */
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
            continue;
        uint64_t align = 4096, skew = ph.p_vaddr % align;
        struct ntfile *f = &(*files)[(*nfiles)++];
        f->start = ph.p_vaddr - skew + bias;
        f->end = ph.p_vaddr + ph.p_memsz + bias;
        f->pgoff = ph.p_offset - skew;
        f->name = strdup(exe);
        if (!f->name)
            goto out;
    }
    rc = 0;
out:
    if (e)
        elf_end(e);
    close(fd);
    return rc;
}

cc_target *cc_target_open_core(const char *core, const char *exe, char *err)
{
    cc_target *t = calloc(1, sizeof *t);
    struct core_reader *c = calloc(1, sizeof *c);
    struct ntfile *files = NULL;
    size_t nfiles = 0;
    uint64_t page = 4096, at_entry = 0;
    char fname[17] = "";
    Elf *e = NULL;
    if (!t || !c) {
        snprintf(err, CC_ERRLEN, "out of memory");
        goto fail;
    }
    c->t = t;
    t->is_core = 1;
    t->core_path = strdup(core);
    t->exe_path = exe ? strdup(exe) : NULL;
    c->fd = open(core, O_RDONLY | O_CLOEXEC);
    if (c->fd < 0) {
        snprintf(err, CC_ERRLEN, "%s: %s", core, strerror(errno));
        goto fail;
    }
    elf_version(EV_CURRENT);
    e = elf_begin(c->fd, ELF_C_READ_MMAP, NULL);
    GElf_Ehdr eh;
    size_t nph;
    if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) ||
        eh.e_type != ET_CORE || elf_getphdrnum(e, &nph)) {
        snprintf(err, CC_ERRLEN, "%s: not a core file (and not a process id)",
                 core);
        goto fail;
    }
    const struct cc_arch *arch = cc_arch_of(eh.e_machine);
    if (!arch) {
        snprintf(err, CC_ERRLEN, "%s: core files of machine %u are not "
                 "supported (x86-64 and aarch64 only)", core, eh.e_machine);
        goto fail;
    }
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e, i, &ph))
            continue;
        if (ph.p_type == PT_LOAD) {
            struct seg *ns = realloc(c->segs, (c->nsegs + 1) * sizeof *ns);
            if (!ns)
                goto nomem;
            c->segs = ns;
            ns[c->nsegs++] = (struct seg){ph.p_vaddr, ph.p_memsz, ph.p_offset,
                                          ph.p_filesz};
        } else if (ph.p_type == PT_NOTE && !files) {
            if (notes(t, e, arch, &ph, &files, &nfiles, &page, fname,
                      &at_entry))
                goto nomem;
        }
    }
    if (!nfiles && exe && exe_mappings(exe, at_entry, &files, &nfiles, &page)) {
        snprintf(err, CC_ERRLEN, "%s: %s", exe, strerror(errno ? errno : EIO));
        goto fail;
    }
    /* --exe stands for the executable: the module named like the
     * process (NT_PRPSINFO's pr_fname, 15 chars) or like EXE itself */
    const char *exe_module = NULL;
    for (size_t i = 0; exe && i < nfiles; i++) {
        char *copy = strdup(files[i].name);
        const char *b = copy ? basename(copy) : "";
        char *ecopy = strdup(exe);
        const char *eb = ecopy ? basename(ecopy) : "";
        int hit = !strcmp(b, eb) || (fname[0] && !strncmp(b, fname, 15));
        free(copy);
        free(ecopy);
        if (hit) {
            exe_module = files[i].name;
            break;
        }
    }
    for (size_t i = 0; i < nfiles; i++) {
        const char *path = exe_module && !strcmp(files[i].name, exe_module)
                               ? exe : files[i].name;
        if (!cc_target_add_mapping(t, path, files[i].start, files[i].end,
                                   files[i].pgoff * page, 1))
            goto nomem;
    }
    c->maps = calloc(nfiles ? nfiles : 1, sizeof *c->maps);
    c->modfd = malloc((t->nmods ? t->nmods : 1) * sizeof *c->modfd);
    if (!c->maps || !c->modfd)
        goto nomem;
    for (size_t i = 0; i < t->nmods; i++)
        c->modfd[i] = -2;
    for (size_t i = 0; i < nfiles; i++) {
        const char *path = exe_module && !strcmp(files[i].name, exe_module)
                               ? exe : files[i].name;
        const cc_module *m = NULL;
        for (size_t k = 0; k < t->nmods; k++)
            if (!strcmp(t->mods[k].path, path))
                m = &t->mods[k];
        c->maps[c->nmaps++] = (struct fmap){files[i].start, files[i].end,
                                            files[i].pgoff * page, m};
    }
    c->r.read = core_read;
    c->r.free = core_free;
    c->r.pid = t->pid;
    c->t = t;
    t->reader = &c->r;
    c = NULL;
    cc_target_finish_modules(t, NULL);
    if (!t->nmods) {
        snprintf(err, CC_ERRLEN, "%s: the core has no NT_FILE note: cannot "
                 "find the program's modules (give the executable with "
                 "--exe)", core);
        goto fail;
    }
    goto done;
nomem:
    snprintf(err, CC_ERRLEN, "out of memory");
fail:
    if (c)
        core_free(&c->r);
    cc_target_free(t);
    t = NULL;
done:
    for (size_t i = 0; i < nfiles; i++)
        free(files[i].name);
    free(files);
    if (e)
        elf_end(e);
    return t;
}
