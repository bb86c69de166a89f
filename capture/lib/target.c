/*
 * target.c -- what both kinds of target share: the module list and its
 * lookups, finding the table among the modules, freeing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corocap.h"
#include "cc_int.h"
#include "target_int.h"

const cc_module *cc_target_module(const cc_target *t, uint64_t addr)
{
    for (size_t i = 0; i < t->nmods; i++)
        if (t->mods[i].start <= addr && addr < t->mods[i].end)
            return &t->mods[i];
    return NULL;
}

cc_module *cc_target_add_mapping(cc_target *t, const char *path,
                                 uint64_t start, uint64_t end,
                                 uint64_t offset, int exec)
{
    for (size_t i = 0; i < t->nmods; i++) {
        cc_module *m = &t->mods[i];
        if (strcmp(m->path, path))
            continue;
        if (start < m->start) {
            m->start = start;
            m->offset = offset;
        }
        if (end > m->end)
            m->end = end;
        m->is_exec |= exec;
        return m;
    }
    cc_module *n = realloc(t->mods, (t->nmods + 1) * sizeof *n);
    if (!n)
        return NULL;
    t->mods = n;
    cc_module *m = &n[t->nmods++];
    memset(m, 0, sizeof *m);
    m->path = strdup(path);
    m->start = start;
    m->end = end;
    m->offset = offset;
    m->is_exec = exec;
    return m;
}

/* Build-ids, biases and the table's address, once every mapping is in. */
void cc_target_finish_modules(cc_target *t, const char *(*file_of)(
                                  const cc_target *, const cc_module *))
{
    for (size_t i = 0; i < t->nmods; i++) {
        cc_module *m = &t->mods[i];
        uint64_t table = 0, vaddr0 = 0, off0 = 0;
        const char *file = file_of ? file_of(t, m) : m->path;
        if (cc_elf_info(file, m->build_id, &m->build_id_len, &table, &vaddr0,
                        &off0))
            continue;
        m->bias = m->start - m->offset - vaddr0;
        if (table && !t->table_addr)
            t->table_addr = table + m->bias;
    }
}

void cc_target_free(cc_target *t)
{
    if (!t)
        return;
    cc_reader_free(t->reader);
    for (size_t i = 0; i < t->nmods; i++)
        free(t->mods[i].path);
    free(t->mods);
    free(t->core_path);
    free(t->exe_path);
    free(t->threads);
    free(t);
}
