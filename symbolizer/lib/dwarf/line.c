/* line.c - DWARF line programs (.debug_line, versions 2-5): the file
   table, then the rows of every sequence into the builder. */
#include <stdlib.h>
#include <string.h>

#include "dwarf_int.h"

/* --------------------------------------------------------- line table */
/* Joins like llvm::sys::path::append (no normalisation). */
static void path_append(cs_buf *p, const char *comp)
{
    if (!comp || !*comp)
        return;
    int has_sep = p->n > 0 && p->p[p->n - 1] == '/';
    if (has_sep) {
        while (*comp == '/')
            comp++;
    } else if (p->n > 0 && *comp != '/') {
        cs_buf_add(p, "/", 1);
    }
    cs_buf_add(p, comp, strlen(comp));
}

typedef struct lt_entry { const char *name; uint64_t dir; } lt_entry;

static int read_lnct_entries(ctx *c, const cu *u, rd *r, int is64,
                             cs_buf *out, int want_dir)
{
    (void)want_dir;
    unsigned nfmt = (unsigned)rd_u8(r);
    uint64_t fmt[2 * 16];
    if (nfmt > 16)
        return -1;
    for (unsigned i = 0; i < nfmt; i++) {
        fmt[2 * i] = rd_uleb(r);
        fmt[2 * i + 1] = rd_uleb(r);
    }
    uint64_t count = rd_uleb(r);
    if (r->bad || count > (uint64_t)(r->end - r->p))
        return -1;
    cu fake = *u;
    fake.is64 = (uint8_t)is64;
    for (uint64_t k = 0; k < count; k++) {
        lt_entry e = {NULL, 0};
        for (unsigned i = 0; i < nfmt; i++) {
            aval a;
            if (dw_read_form(c, &fake, r, (unsigned)fmt[2 * i + 1], 0, &a) < 0)
                return -1;
            if (fmt[2 * i] == DW_LNCT_path)
                e.name = a.s;
            else if (fmt[2 * i] == DW_LNCT_directory_index)
                e.dir = a.v;
        }
        cs_buf_add(out, &e, sizeof e);
    }
    return 0;
}

typedef struct seq_rows { size_t first, n; uint64_t lo; } seq_rows;

/* A line program's header, as read by read_header. */
typedef struct lt_header {
    uint16_t ver;
    int is64;
    uint8_t min_inst, line_range, opbase;
    int8_t line_base;
    uint8_t oplen[256];          /* operands of each standard opcode */
    const uint8_t *prog, *end;   /* the opcodes */
    cs_buf dirs, files;          /* lt_entry tables */
} lt_header;

/* Phase 1: the header of the line program at OFF (its version, opcode
   parameters and directory and file tables) into H.  -1 after noting the
   error (H's tables then freed). */
static int read_header(ctx *c, const cu *u, uint64_t off, lt_header *h)
{
    memset(h, 0, sizeof *h);
    rd r = {c->line.p + off, c->line.p + c->line.n, 0};
    uint64_t len = rd_u32(&r);
    if (len == 0xffffffffu) {
        len = rd_u64(&r);
        h->is64 = 1;
    }
    if (r.bad || len > (uint64_t)(r.end - r.p)) {
        dw_note_err(c, "line table length", off);
        return -1;
    }
    h->end = r.p + len;
    r.end = h->end;
    h->ver = (uint16_t)rd_u16(&r);
    if (h->ver < 2 || h->ver > 5) {
        dw_note_err(c, "unsupported line table version", off);
        return -1;
    }
    if (h->ver >= 5) {
        rd_u8(&r); /* address_size */
        rd_u8(&r); /* seg_sel_size */
    }
    uint64_t hlen = rd_n(&r, h->is64 ? 8 : 4);
    if (r.bad || hlen > (uint64_t)(h->end - r.p)) {
        dw_note_err(c, "line table header length", off);
        return -1;
    }
    h->prog = r.p + hlen;
    h->min_inst = (uint8_t)rd_u8(&r);
    if (h->ver >= 4)
        rd_u8(&r); /* maximum_operations_per_instruction */
    rd_u8(&r);     /* default_is_stmt */
    h->line_base = (int8_t)rd_u8(&r);
    h->line_range = (uint8_t)rd_u8(&r);
    h->opbase = (uint8_t)rd_u8(&r);
    for (unsigned i = 1; i < h->opbase; i++)
        h->oplen[i] = (uint8_t)rd_u8(&r);
    if (r.bad || h->line_range == 0) {
        dw_note_err(c, "line table header", off);
        return -1;
    }
    if (h->ver >= 5) {
        if (read_lnct_entries(c, u, &r, h->is64, &h->dirs, 1) < 0 ||
            read_lnct_entries(c, u, &r, h->is64, &h->files, 0) < 0) {
            dw_note_err(c, "line table v5 entry formats", off);
            free(h->dirs.p);
            free(h->files.p);
            return -1;
        }
        return 0;
    }
    for (;;) {
        const char *d = rd_cstr(&r);
        if (!d || !*d)
            break;
        lt_entry e = {d, 0};
        cs_buf_add(&h->dirs, &e, sizeof e);
    }
    for (;;) {
        const char *f = rd_cstr(&r);
        if (!f || !*f)
            break;
        lt_entry e = {f, rd_uleb(&r)};
        rd_uleb(&r);
        rd_uleb(&r);
        cs_buf_add(&h->files, &e, sizeof e);
    }
    return 0;
}

/* Phase 2: the builder's file id of each DWARF file register value of
   H (CS_NONE: none), llvm's path joins; *NMAP entries, malloc'ed. */
static uint32_t *file_map(ctx *c, const lt_header *h, const char *comp_dir,
                          size_t *nmap)
{
    const lt_entry *D = (const lt_entry *)h->dirs.p;
    const lt_entry *F = (const lt_entry *)h->files.p;
    size_t nd = h->dirs.n / sizeof *D, nf = h->files.n / sizeof *F;
    int v5 = h->ver >= 5;
    size_t n = v5 ? nf : nf + 1;   /* before DWARF 5, file 0 is none */
    uint32_t *fmap = cs_xmalloc((n ? n : 1) * sizeof *fmap);
    cs_buf path = {0};
    for (size_t i = 0; i < n; i++) {
        fmap[i] = CS_NONE;
        if (!v5 && i == 0)
            continue;
        const lt_entry *fe = &F[v5 ? i : i - 1];
        if (!fe->name)
            continue;
        path.n = 0;
        if (fe->name[0] == '/') {
            path_append(&path, fe->name);
        } else {
            const char *inc = NULL;
            if (v5) {
                if (fe->dir < nd)
                    inc = D[fe->dir].name;
            } else if (fe->dir > 0 && fe->dir <= nd) {
                inc = D[fe->dir - 1].name;
            }
            if ((!v5 || fe->dir != 0) && comp_dir && *comp_dir &&
                !(inc && inc[0] == '/'))
                path_append(&path, comp_dir);
            path_append(&path, inc);
            path_append(&path, fe->name);
        }
        fmap[i] = cs_builder_file(c->b, path.p ? path.p : "", path.n);
    }
    free(path.p);
    *nmap = n;
    return fmap;
}

/* Phase 3: runs H's opcodes, appending a row per emitted line-table row
   (file ids through FMAP[0..NMAP)) to the builder.  A sequence that goes
   backwards, has under two rows, starts below the text or is not
   terminated is dropped. */
static void run_program(ctx *c, const lt_header *h, const uint32_t *fmap,
                        size_t nmap, uint64_t off)
{
    rd r = {h->prog, h->end, 0};
    const uint8_t min_inst = h->min_inst, line_range = h->line_range;
    const uint8_t opbase = h->opbase;
    const int8_t line_base = h->line_base;
    uint64_t addr = 0;
    uint32_t file = 1, line = 1, col = 0, disc = 0;
    size_t seq_start = c->b->rows.n / sizeof(cs_row);
    int drop = 0;
    cs_buf *rb = &c->b->rows;
#define EMIT(endseq)                                                       \
    do {                                                                   \
        if (rb->n + sizeof(cs_row) > rb->cap) {                            \
            cs_buf_reserve(rb, sizeof(cs_row)); /* grows, counts it */    \
            rb->n -= sizeof(cs_row);                                       \
        }                                                                  \
        cs_row *row_ = (cs_row *)(rb->p + rb->n);                          \
        rb->n += sizeof(cs_row);                                           \
        row_->addr = addr;                                                 \
        row_->file = (endseq) ? CS_NONE                                    \
                   : (file < nmap && fmap[file] != CS_NONE ? fmap[file]    \
                                                          : CS_NONE - 1);  \
        row_->line = line;                                                 \
        row_->col = (uint16_t)(col > 0xffff ? 0xffff : col);               \
        row_->disc = disc;                                                 \
        row_->pad = 0;                                                     \
        disc = 0;                                                          \
    } while (0)
    while (r.p < r.end && !r.bad) {
        uint8_t op = (uint8_t)rd_u8(&r);
        if (op >= opbase) {
            unsigned adj = op - opbase;
            addr += (uint64_t)(adj / line_range) * min_inst;
            line += (uint32_t)(line_base + (int)(adj % line_range));
            EMIT(0);
            continue;
        }
        switch (op) {
        case 0: {
            uint64_t elen = rd_uleb(&r);
            if (r.bad || elen == 0 || elen > (uint64_t)(r.end - r.p)) {
                r.bad = 1;
                break;
            }
            const uint8_t *next = r.p + elen;
            uint8_t eop = (uint8_t)rd_u8(&r);
            if (eop == DW_LNE_end_sequence) {
                EMIT(1);
                size_t now = c->b->rows.n / sizeof(cs_row);
                cs_row *rows = (cs_row *)c->b->rows.p;
                if (drop || now - seq_start < 2 ||
                    rows[seq_start].addr < c->min_text)
                    c->b->rows.n = seq_start * sizeof(cs_row);
                seq_start = c->b->rows.n / sizeof(cs_row);
                addr = 0;
                file = 1;
                line = 1;
                col = 0;
                disc = 0;
                drop = 0;
            } else if (eop == DW_LNE_set_address) {
                uint64_t na = rd_n(&r, (size_t)(elen - 1 > 8 ? 8 : elen - 1));
                if (na < addr)
                    drop = 1; /* not monotonic: unusable sequence */
                addr = na;
            } else if (eop == DW_LNE_set_discriminator) {
                disc = (uint32_t)rd_uleb(&r);
            }
            r.p = next;
            break;
        }
        case DW_LNS_copy: EMIT(0); break;
        case DW_LNS_advance_pc: addr += rd_uleb(&r) * min_inst; break;
        case DW_LNS_advance_line: line += (uint32_t)rd_sleb(&r); break;
        case DW_LNS_set_file: file = (uint32_t)rd_uleb(&r); break;
        case DW_LNS_set_column: col = (uint32_t)rd_uleb(&r); break;
        case DW_LNS_negate_stmt: case DW_LNS_set_basic_block:
        case DW_LNS_set_prologue_end: case DW_LNS_set_epilogue_begin:
            break;
        case DW_LNS_const_add_pc:
            addr += (uint64_t)((255 - opbase) / line_range) * min_inst;
            break;
        case DW_LNS_fixed_advance_pc: addr += rd_u16(&r); break;
        case DW_LNS_set_isa: rd_uleb(&r); break;
        default:
            for (unsigned i = 0; i < h->oplen[op]; i++)
                rd_uleb(&r);
        }
    }
#undef EMIT
    /* An unterminated sequence is dropped. */
    c->b->rows.n = seq_start * sizeof(cs_row);
    if (r.bad)
        dw_note_err(c, "line program", off);
}

/* Reads the line program at OFF for unit U (comp dir COMP_DIR), once per
   program: rows into the builder, U's file map (shared by the units that
   name the same program). */
void dw_read_line_program(ctx *c, cu *u, uint64_t off,
                          const char *comp_dir)
{
    for (size_t i = 0; i < c->nlt; i++)
        if (c->lt[i].off == off) {
            u->fmap = c->lt[i].fmap;
            u->nfmap = c->lt[i].n;
            return;
        }
    if (off >= c->line.n) {
        dw_note_err(c, "DW_AT_stmt_list out of range", off);
        return;
    }
    lt_header h;
    if (read_header(c, u, off, &h) < 0)
        return;
    size_t nmap;
    uint32_t *fmap = file_map(c, &h, comp_dir, &nmap);
    free(h.dirs.p);
    free(h.files.p);
    u->fmap = fmap;
    u->nfmap = nmap;
    if (c->nlt == c->caplt) {
        c->caplt = c->caplt ? 2 * c->caplt : 64;
        c->lt = cs_xrealloc(c->lt, c->caplt * sizeof *c->lt);
    }
    c->lt[c->nlt].off = off;
    c->lt[c->nlt].fmap = fmap;
    c->lt[c->nlt].n = nmap;
    c->nlt++;
    run_program(c, &h, fmap, nmap, off);
}
