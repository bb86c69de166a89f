/*
 * elfinfo.c -- what the capture needs from a module's ELF file: its
 * build-id, where its first PT_LOAD sits (for the load bias) and where the
 * coroutine table is (docs/abi.md: the dynamic symbol corodbg_table, else
 * the allocated section .corodbg; both survive strip --strip-all).
 */
#include <fcntl.h>
#include <gelf.h>
#include <string.h>
#include <unistd.h>

#include "cc_int.h"

static void build_id(Elf *e, uint8_t *out, size_t *len)
{
    size_t n;
    *len = 0;
    if (elf_getphdrnum(e, &n))
        return;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e, i, &ph) || ph.p_type != PT_NOTE)
            continue;
        Elf_Data *d = elf_getdata_rawchunk(e, ph.p_offset, ph.p_filesz,
                                           ELF_T_NHDR);
        if (!d)
            continue;
        GElf_Nhdr nh;
        size_t off = 0, noff, doff;
        while ((off = gelf_getnote(d, off, &nh, &noff, &doff)) > 0) {
            if (nh.n_type == NT_GNU_BUILD_ID && nh.n_namesz == 4 &&
                !memcmp((char *)d->d_buf + noff, "GNU", 4) &&
                nh.n_descsz <= 64) {
                memcpy(out, (char *)d->d_buf + doff, nh.n_descsz);
                *len = nh.n_descsz;
                return;
            }
        }
    }
}

static uint64_t find_table(Elf *e)
{
    Elf_Scn *scn = NULL;
    size_t shstrndx;
    uint64_t section = 0;
    if (elf_getshdrstrndx(e, &shstrndx))
        return 0;
    while ((scn = elf_nextscn(e, scn))) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh))
            continue;
        const char *name = elf_strptr(e, shstrndx, sh.sh_name);
        if (name && !strcmp(name, ".corodbg") && (sh.sh_flags & SHF_ALLOC))
            section = sh.sh_addr;
        if (sh.sh_type != SHT_DYNSYM)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        if (!d || !sh.sh_entsize)
            continue;
        for (size_t i = 0; i < sh.sh_size / sh.sh_entsize; i++) {
            GElf_Sym s;
            if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF)
                continue;
            const char *n = elf_strptr(e, sh.sh_link, s.st_name);
            if (n && !strcmp(n, "corodbg_table"))
                return s.st_value;
        }
    }
    return section;
}

int cc_elf_info(const char *path, uint8_t *bid, size_t *bid_len,
                uint64_t *table_vaddr, uint64_t *first_vaddr,
                uint64_t *first_offset)
{
    elf_version(EV_CURRENT);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    int rc = -1;
    size_t n;
    if (!e || elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &n))
        goto out;
    *first_vaddr = 0;
    *first_offset = 0;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(e, i, &ph) && ph.p_type == PT_LOAD) {
            *first_vaddr = ph.p_vaddr - ph.p_offset;  /* vaddr of offset 0 */
            *first_offset = 0;
            break;
        }
    }
    build_id(e, bid, bid_len);
    *table_vaddr = find_table(e);
    rc = 0;
out:
    if (e)
        elf_end(e);
    close(fd);
    return rc;
}
