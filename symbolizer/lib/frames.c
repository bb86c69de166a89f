/* frames.c - what an answer says: the frames of an address's inline
   chain, innermost first (names demangled once per string, through a
   memo), and the answer to a DATA request.  The lookups are lookup.c. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "corosym_int.h"

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

size_t corosym_symbolize(corosym_module *m, uint64_t addr,
                         corosym_frame *frames, size_t max,
                         corosym_miss *miss)
{
    cs_hit h;
    if (m && !m->error)
        cs_lookup(&m->ix, addr, &h);
    return cs_symbolize_hit(m, addr, &h, frames, max, miss);
}

/* The scopes at segment scope SC, innermost first, up to and including
   their subprogram: at most MAX into CHAIN; returns how many. */
static size_t scope_chain(const cs_index *ix, uint32_t sc, uint32_t *chain,
                          size_t max)
{
    size_t n = 0;
    for (uint32_t c = sc; c != CS_NONE && n < max; c = ix->scopes[c].parent) {
        chain[n++] = c;
        if (!ix->scopes[c].inlined)
            break;
    }
    return n;
}

/* What frame I of TOTAL says at ADDR: its function from scope CHAIN[I]
   (NCHAIN 0: none), its place from ROW (the innermost) or from the call
   site in the callee below it, the symbol SYM on every frame, and the
   outermost named from the symbol table as llvm-symbolizer does. */
static void fill_frame(corosym_module *m, uint64_t addr,
                       const uint32_t *chain, size_t nchain, size_t i,
                       size_t total, const cs_row *row, const cs_sym *sym,
                       corosym_frame *f)
{
    const cs_index *ix = &m->ix;
    memset(f, 0, sizeof *f);
    if (nchain) {
        const cs_scope *s = &ix->scopes[chain[i]];
        f->function = m->s->o.short_names ? ix_str(ix, s->sname)
                                          : fname(m, s->name);
        f->start_line = s->decl_line;
        f->start_file = ix_file(ix, s->decl_file);
        f->start_address = s->low;
    }
    if (i == 0) {
        if (row) {
            f->file = row->file < ix->nfiles ? ix_file(ix, row->file) : NULL;
            if (f->file) {
                f->line = row->line;
                f->column = row->col;
                f->discriminator = row->disc;
            }
        }
    } else {
        const cs_scope *callee = &ix->scopes[chain[i - 1]];
        f->file = ix_file(ix, callee->call_file);
        f->line = callee->call_line;
        f->column = callee->call_col;
    }
    if (sym) {
        f->symbol = fname(m, sym->name);
        f->symbol_address = sym->addr;
        f->symbol_size = sym->size;
        f->symbol_offset = addr - sym->addr;
    }
    if (i == total - 1 && sym && m->s->o.use_symtab &&
        !m->s->o.short_names) {
        f->function = f->symbol;
        f->start_address = sym->addr;
        if (!f->file && sym->file != CS_NONE && ix_str(ix, sym->file) &&
            ix_str(ix, sym->file)[0])
            f->file = ix_str(ix, sym->file);
    }
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
    const cs_sym *sym = cs_sym_covering(ix, h, addr);
    uint32_t chain[256];
    size_t nchain = scope_chain(ix, sc, chain, 256);
    size_t total = m->s->o.inlines ? (nchain ? nchain : 1) : 1;
    for (size_t i = 0; i < total; i++) {
        corosym_frame f;
        fill_frame(m, addr, chain, nchain, i, total, row, sym, &f);
        if (i < max)
            frames[i] = f;
    }
    if (!row && !nchain && !sym)
        ms = COROSYM_MISS_NOT_FOUND;
    else if (!row)
        ms = COROSYM_MISS_NO_LINE;
    if (miss)
        *miss = ms;
    return total;
}

corosym_miss corosym_symbolize_data(corosym_module *m, uint64_t addr,
                                    corosym_data *d)
{
    memset(d, 0, sizeof *d);
    if (!m || m->error)
        return COROSYM_MISS_MODULE;
    const cs_index *ix = &m->ix;
    cs_hit h;
    cs_lookup(ix, addr, &h);
    const cs_sym *sym = cs_sym_covering(ix, &h, addr);
    d->name = sym ? fname(m, sym->name) : NULL;
    if (d->name) {
        d->start = sym->addr;
        d->size = sym->size;
        /* a local symbol's STT_FILE, as llvm reports it */
        if (sym->file != CS_NONE && sym->file < ix->strsize &&
            ix->str[sym->file])
            d->decl_file = ix->str + sym->file;
    }
    /* An address in the line table is code: llvm's .debug_aranges unit
       has no variable there. */
    int code = h.row != CS_NONE && ix->rows[h.row].file != CS_NONE;
    const cs_var *v = code ? NULL : cs_module_var_at(m, addr);
    if (v && v->line) {
        d->decl_file = v->file;
        d->decl_line = v->line;
    }
    if (d->name || d->decl_line)
        return COROSYM_OK;
    return !ix->nrows && !ix->nsegs && !ix->nsyms ? COROSYM_MISS_NO_INFO
                                                  : COROSYM_MISS_NOT_FOUND;
}
