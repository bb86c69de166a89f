/* symtab.c - an ELF file's symbols (.symtab, else .dynsym) into the
   index builder, chosen and ordered the way llvm-symbolizer does. */
#include <stdlib.h>
#include <string.h>

#include "corosym_int.h"

typedef struct tmp_sym {
    uint64_t addr, size;
    uint32_t name, file;
    uint32_t order;
} tmp_sym;

static int cmp_tmp_sym(const void *a, const void *b)
{
    const tmp_sym *x = a, *y = b;
    if (x->addr != y->addr)
        return x->addr < y->addr ? -1 : 1;
    if (x->size != y->size)
        return x->size < y->size ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

static size_t read_one_symtab(cs_elf *e, cs_builder *b, uint32_t type,
                              cs_buf *out)
{
    size_t added = 0;
    for (size_t i = 0; i < e->nsec; i++) {
        if (e->sec[i].type != type)
            continue;
        Elf_Scn *scn = elf_getscn(e->elf, i);
        GElf_Shdr sh;
        if (!scn || !gelf_getshdr(scn, &sh) || sh.sh_entsize == 0)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        if (!d)
            continue;
        size_t n = sh.sh_size / sh.sh_entsize;
        uint32_t cur_file = CS_NONE;
        for (size_t k = 1; k < n; k++) {
            GElf_Sym sym;
            if (!gelf_getsym(d, (int)k, &sym))
                break;
            int st = GELF_ST_TYPE(sym.st_info);
            const char *nm = elf_strptr(e->elf, sh.sh_link, sym.st_name);
            if (!nm)
                continue;
            if (st == STT_FILE) {
                cur_file = cs_strpool_add(&b->strs, nm, strlen(nm));
                continue;
            }
            if (sym.st_shndx == SHN_UNDEF || sym.st_shndx == SHN_ABS ||
                sym.st_shndx == SHN_COMMON ||
                (sym.st_shndx >= SHN_LORESERVE && sym.st_shndx != SHN_XINDEX))
                continue;
            if (sym.st_shndx < e->nsec &&
                !(e->sec[sym.st_shndx].flags & SHF_ALLOC))
                continue;
            if (st != STT_NOTYPE && st != STT_FUNC && st != STT_OBJECT &&
                st != STT_GNU_IFUNC)
                continue;
            tmp_sym *t = cs_buf_reserve(out, sizeof *t);
            t->addr = sym.st_value;
            t->size = sym.st_size;
            t->name = cs_strpool_add(&b->strs, nm, strlen(nm));
            t->file = GELF_ST_BIND(sym.st_info) == STB_LOCAL ? cur_file
                                                              : CS_NONE;
            t->order = (uint32_t)(out->n / sizeof *t);
            added++;
        }
    }
    return added;
}

void cs_symtab_read(cs_elf *e, cs_builder *b)
{
    cs_buf tmp = {0};
    if (read_one_symtab(e, b, SHT_SYMTAB, &tmp) == 0)
        read_one_symtab(e, b, SHT_DYNSYM, &tmp);
    size_t n = tmp.n / sizeof(tmp_sym);
    tmp_sym *t = (tmp_sym *)tmp.p;
    if (n)
        qsort(t, n, sizeof *t, cmp_tmp_sym);
    /* Like llvm-symbolizer: for each address keep the last of the sorted
       group (largest size, then last in table order). */
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j + 1 < n && t[j + 1].addr == t[i].addr)
            j++;
        cs_sym s = {t[j].addr, t[j].size, t[j].name, t[j].file};
        cs_buf_add(&b->syms, &s, sizeof s);
        i = j + 1;
    }
    free(tmp.p);
}
