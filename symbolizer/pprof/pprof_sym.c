/*
 * pprof_sym.c - symbolize a pprof profile with libcorosym (pprof_sym.h).
 */
#include <fcntl.h>
#include <gelf.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util.h"
#include "pprof_sym.h"

size_t pprof_parse_build_id(const char *hex, uint8_t *buf, size_t cap)
{
    size_t n = 0;
    /* libcorosym's own hex parser: one definition of a build-id's text. */
    return cs_unhex(hex, strlen(hex), buf, cap, &n) == 0 ? n : 0;
}

/* Per-mapping state while symbolizing. */
struct mstate {
    PprofMapping *m;
    corosym_module *mod;
    int usable;
    int funcs, files, lines, inlines;
    int have_bias;      /* no binary: vaddr = address - start + bias */
    uint64_t bias;
};

#define PAGE_DOWN(x) ((x) & ~(uint64_t)0xfff)

/*
 * The module was found without its binary (only a debug file, whose
 * PT_LOAD p_offset values objcopy rewrote), so the library cannot turn
 * file offsets into addresses.  Work out where the mapping starts in the
 * module's address space from the debug file's segment addresses instead.
 * Profile locations are code addresses, so the mapping is taken to be the
 * executable segment; a mapping at offset 0 that spans up to the end of
 * the executable segment maps the whole file from its first segment.
 * With several executable segments, offsets are assumed to equal
 * addresses minus the first segment's (GNU ld's layout).
 */
static int bias_from_debug_file(struct mstate *ms)
{
    const char *path = corosym_module_debug_path(ms->mod);
    const PprofMapping *m = ms->m;
    uint64_t first = 0, exec_lo = 0, exec_hi = 0;
    size_t nph = 0, i, nexec = 0;
    int fd, have_first = 0, rc = -1;
    struct stat st;
    Elf *e;

    if (!path || elf_version(EV_CURRENT) == EV_NONE)
        return -1;
    /* O_NONBLOCK and S_ISREG: a FIFO must not hang the open or the read */
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    e = elf_begin(fd, ELF_C_READ, NULL);
    if (!e || elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &nph) != 0)
        goto out;
    for (i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
            continue;
        if (!have_first) {
            first = PAGE_DOWN(ph.p_vaddr);
            have_first = 1;
        }
        if (ph.p_flags & PF_X) {
            nexec++;
            exec_lo = PAGE_DOWN(ph.p_vaddr);
            exec_hi = ph.p_vaddr + ph.p_memsz;
        }
    }
    if (!have_first || !nexec)
        goto out;
    if (nexec == 1 &&
        !(m->file_offset == 0 && m->memory_limit > m->memory_start &&
          m->memory_limit - m->memory_start >= exec_hi - first))
        ms->bias = exec_lo;
    else
        ms->bias = m->file_offset + first;
    ms->have_bias = 1;
    rc = 0;
out:
    if (e)
        elf_end(e);
    close(fd);
    return rc;
}

static int is_pseudo(const char *file)
{
    /* [vdso], [heap], [stack], //anon, [kernel.kallsyms] ... */
    return file[0] == '[' || strncmp(file, "//anon", 6) == 0 ||
           strncmp(file, "/dev/zero", 9) == 0 ||
           strncmp(file, "anon_inode:", 11) == 0;
}

static void open_mapping(corosym_session *s, struct pprof *pr,
                         struct mstate *ms, FILE *warn,
                         struct pprof_sym_stats *st)
{
    const char *file = pprof_str(pr, ms->m->filename);
    const char *bid = pprof_str(pr, ms->m->build_id);
    uint8_t idbuf[64];
    size_t idlen = pprof_parse_build_id(bid, idbuf, sizeof idbuf);
    const char *why = NULL;

    if ((!*file || is_pseudo(file)) && !idlen) {
        why = *file ? "pseudo mapping, no build-id"
                    : "no file name or build-id";
    } else {
        ms->mod = corosym_module_get(s, *file ? file : NULL,
                                     idlen ? idbuf : NULL, idlen);
        if (!ms->mod) {
            why = "out of memory";
        } else if (corosym_module_error(ms->mod)) {
            why = corosym_module_error(ms->mod);
            if (strncmp(why, "corosym: ", 9) == 0)
                why += 9;       /* the line already names the program */
        } else if (!(corosym_module_flags(ms->mod) &
                     (COROSYM_HAS_SYMTAB | COROSYM_HAS_LINES |
                      COROSYM_HAS_FUNCS))) {
            why = "no symbols and no debug info";
        }
    }
    if (why) {
        st->mappings_missing++;
        if (warn)
            fprintf(warn, "corosym pprof: mapping %llu (%s%s%s): %s\n",
                    (unsigned long long)ms->m->id, *file ? file : "no file",
                    *bid ? ", build-id " : "", bid, why);
        return;
    }
    ms->usable = 1;
    st->mappings_found++;
    {
        /* File offsets are only translatable with the binary's own program
           headers: objcopy --only-keep-debug rewrites p_offset.  Without
           the binary, the module's path is the debug file's; a binary
           that carries its own DWARF is both, under the mapping's name. */
        const char *bin = corosym_module_path(ms->mod);
        const char *dbg = corosym_module_debug_path(ms->mod);
        int have_bin = bin && access(bin, R_OK) == 0 &&
                       (!dbg || strcmp(bin, dbg) != 0 ||
                        (*file && strcmp(bin, file) == 0));
        uint64_t va;
        if (dbg && (!have_bin ||
                    corosym_module_offset_to_vaddr(ms->mod,
                                                   ms->m->file_offset,
                                                   &va) != 0))
            bias_from_debug_file(ms);
    }
}

/* Module-relative virtual address of LOC in MS, or -1. */
static int loc_vaddr(const struct mstate *ms, const PprofLocation *loc,
                     uint64_t *vaddr)
{
    const PprofMapping *m = ms->m;

    if (m->memory_start == 0 && m->memory_limit == 0 && m->file_offset == 0) {
        *vaddr = loc->address;
        return 0;
    }
    if (loc->address < m->memory_start ||
        (m->memory_limit && loc->address >= m->memory_limit))
        return -1;
    if (ms->have_bias) {
        *vaddr = loc->address - m->memory_start + ms->bias;
        return 0;
    }
    return corosym_module_offset_to_vaddr(
        ms->mod, loc->address - m->memory_start + m->file_offset, vaddr);
}

#define NFRAMES 64

static int symbolize_location(struct pprof *pr, corosym_session *s,
                              struct mstate *ms, PprofLocation *loc,
                              int *done)
{
    corosym_frame stackbuf[NFRAMES], *fr = stackbuf;
    corosym_miss miss = COROSYM_OK;
    uint64_t vaddr;
    size_t n, i;
    PprofLine **lines;
    int rc = PPROF_OK;

    *done = 0;
    if (loc_vaddr(ms, loc, &vaddr))
        return PPROF_OK;
    n = corosym_symbolize(ms->mod, vaddr, fr, NFRAMES, &miss);
    if (n > NFRAMES) {
        fr = malloc(n * sizeof *fr);
        if (!fr)
            return PPROF_E_NOMEM;
        n = corosym_symbolize(ms->mod, vaddr, fr, n, &miss);
    }
    if (n == 0 || (miss != COROSYM_OK && miss != COROSYM_MISS_NO_LINE) ||
        (!fr[0].function && !fr[0].file))
        goto out;
    lines = pprof_set_lines(pr, loc, n);
    if (!lines) {
        rc = PPROF_E_NOMEM;
        goto out;
    }
    for (i = 0; i < n; i++) {
        const corosym_frame *f = &fr[i];
        const char *raw = f->function ? f->function : "";
        const char *name = *raw ? corosym_demangle(s, raw) : "";
        /* the frame's own source file, as pprof's llvm-symbolizer path
           records it (start_file may be relative to the CU's comp_dir) */
        const char *file = f->file ? f->file
                                   : (f->start_file ? f->start_file : "");
        uint64_t fid = pprof_add_function(pr, name ? name : raw, raw, file,
                                          f->start_line);
        if (!fid) {
            rc = PPROF_E_NOMEM;
            goto out;
        }
        lines[i]->function_id = fid;
        lines[i]->line = f->line;
        lines[i]->column = f->column;
        if (*raw)
            ms->funcs = 1;
        if (f->file)
            ms->files = 1;
        if (f->line)
            ms->lines = 1;
    }
    if (n > 1)
        ms->inlines = 1;
    *done = 1;
out:
    if (fr != stackbuf)
        free(fr);
    return rc;
}

int pprof_symbolize(struct pprof *pr, corosym_session *s, int force,
                    FILE *warn, struct pprof_sym_stats *st, char *err,
                    size_t errlen)
{
    PprofProfile *p = pr->p;
    struct mstate *ms;
    size_t i, j;
    int rc = PPROF_OK;

    memset(st, 0, sizeof *st);
    st->mappings = p->n_mapping;
    st->locations = p->n_location;
    ms = calloc(p->n_mapping ? p->n_mapping : 1, sizeof *ms);
    if (!ms) {
        snprintf(err, errlen, "out of memory");
        return PPROF_E_NOMEM;
    }
    for (i = 0; i < p->n_mapping; i++) {
        ms[i].m = p->mapping[i];
        open_mapping(s, pr, &ms[i], warn, st);
    }
    for (i = 0; i < p->n_location; i++) {
        PprofLocation *loc = p->location[i];
        struct mstate *m = NULL;
        int done = 0;

        if (loc->n_line && !force) {
            st->locations_kept++;
            continue;
        }
        if (!loc->mapping_id)
            continue;
        /* mapping ids are usually 1..N in order; fall back to a search */
        if (loc->mapping_id <= p->n_mapping &&
            p->mapping[loc->mapping_id - 1]->id == loc->mapping_id) {
            m = &ms[loc->mapping_id - 1];
        } else {
            for (j = 0; j < p->n_mapping; j++)
                if (p->mapping[j]->id == loc->mapping_id) {
                    m = &ms[j];
                    break;
                }
        }
        if (!m || !m->usable)
            continue;
        rc = symbolize_location(pr, s, m, loc, &done);
        if (rc) {
            snprintf(err, errlen, "out of memory symbolizing");
            goto out;
        }
        if (done)
            st->locations_done++;
    }
    for (i = 0; i < p->n_mapping; i++) {
        unsigned fl;
        if (!ms[i].usable)
            continue;
        fl = corosym_module_flags(ms[i].mod);
        if (ms[i].funcs)
            ms[i].m->has_functions = 1;
        if (ms[i].files)
            ms[i].m->has_filenames = 1;
        if (ms[i].lines)
            ms[i].m->has_line_numbers = 1;
        /* inline chains were expanded when DWARF described the functions */
        if (ms[i].inlines || (ms[i].funcs && (fl & COROSYM_HAS_FUNCS)))
            ms[i].m->has_inline_frames = 1;
    }
out:
    free(ms);
    return rc;
}
