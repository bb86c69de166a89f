/* dwarf_int.h - what the DWARF reader's files share: the byte reader,
   the reading context (sections, units, abbreviations, the name memo)
   and the attribute decoder.

     form.c    sections, attribute forms, abbreviation tables
     line.c    line programs (.debug_line)
     ranges.c  code ranges (.debug_ranges, .debug_rnglists, .debug_addr)
     names.c   names and declarations through abstract origins
     info.c    the DIE walk and cs_dwarf_read (threads)
     vars.c    variables at fixed addresses, for DATA requests
     calls.c   call sites, and the tail calls between two frames

   This is the hot path of a cold run, so it is a single forward pass with
   no per-DIE allocation: abbreviations are decoded once per unit into flat
   tables, attributes we do not need are skipped (a whole DIE at once when
   all its forms have a fixed size), and names reached through
   DW_AT_abstract_origin / DW_AT_specification are resolved once per
   target DIE and memoized. */
#ifndef COROSYM_DWARF_INT_H
#define COROSYM_DWARF_INT_H

#include <stdint.h>
#include <string.h>
#include <dwarf.h>

#include "corosym_int.h"

#ifndef DW_FORM_addrx
#define DW_FORM_addrx 0x1b
#endif

/* ------------------------------------------------------------- reader */
typedef struct rd {
    const uint8_t *p, *end;
    int bad;
} rd;

static inline uint64_t rd_n(rd *r, size_t n)
{
    if ((size_t)(r->end - r->p) < n) {
        r->bad = 1;
        r->p = r->end;
        return 0;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += n;
    return v;
}
#define rd_u8(r) rd_n(r, 1)
#define rd_u16(r) rd_n(r, 2)
#define rd_u32(r) rd_n(r, 4)
#define rd_u64(r) rd_n(r, 8)

static inline uint64_t rd_uleb(rd *r)
{
    uint64_t v = 0;
    unsigned sh = 0;
    while (r->p < r->end) {
        uint8_t b = *r->p++;
        if (sh < 64)
            v |= (uint64_t)(b & 0x7f) << sh;
        sh += 7;
        if (!(b & 0x80))
            return v;
    }
    r->bad = 1;
    return v;
}

static inline int64_t rd_sleb(rd *r)
{
    int64_t v = 0;
    unsigned sh = 0;
    uint8_t b = 0;
    while (r->p < r->end) {
        b = *r->p++;
        if (sh < 64)
            v |= (int64_t)((uint64_t)(b & 0x7f) << sh);
        sh += 7;
        if (!(b & 0x80)) {
            if (sh < 64 && (b & 0x40))
                v |= -((int64_t)1 << sh);
            return v;
        }
    }
    r->bad = 1;
    return v;
}

static inline void rd_skip(rd *r, uint64_t n)
{
    if ((uint64_t)(r->end - r->p) < n) {
        r->bad = 1;
        r->p = r->end;
    } else {
        r->p += n;
    }
}

static inline const char *rd_cstr(rd *r)
{
    const char *s = (const char *)r->p;
    const uint8_t *z = memchr(r->p, 0, (size_t)(r->end - r->p));
    if (!z) {
        r->bad = 1;
        r->p = r->end;
        return NULL;
    }
    r->p = z + 1;
    return s;
}

/* ------------------------------------------------------------ context */
typedef struct sect { const uint8_t *p; size_t n; } sect;

typedef struct abbrev_attr { uint16_t name, form; int64_t ic; } abbrev_attr;
typedef struct abbrev {
    uint64_t code;
    uint32_t tag;
    uint8_t children;
    uint8_t interesting; /* subprogram / inlined_subroutine / CU */
    uint8_t skip_kids;   /* children never hold code ranges (types...) */
    int16_t sib;         /* index of DW_AT_sibling, -1 if none */
    uint32_t first, nattr;
    int32_t fixed;       /* total size if all forms fixed, else -1 */
} abbrev;
typedef struct abbrev_tab {
    uint64_t off;
    abbrev *a; size_t n;
    abbrev **direct; size_t ndirect;  /* code -> abbrev for small codes */
    abbrev_attr *attrs;
    int has_inlined;     /* some abbrev is DW_TAG_inlined_subroutine */
} abbrev_tab;

typedef struct cu {
    uint64_t off, end, die_off;   /* in .debug_info */
    uint16_t version;
    uint8_t addr_size, is64, unit_type;
    abbrev_tab *ab;
    uint64_t str_off_base, addr_base, rnglists_base, base;
    int has_str_off_base;
    uint32_t *fmap; size_t nfmap;  /* DWARF file index -> global file id */
    /* from the unit DIE, read before the line and DIE passes */
    const char *comp_dir;
    uint64_t stmt, kids_off;       /* DW_AT_stmt_list; first child DIE */
    uint8_t has_stmt, has_kids, walk;
} cu;

typedef struct memo { uint64_t off; uint32_t name, sname, decl_file, decl_line, used; } memo;

typedef struct ctx {
    cs_elf *e;
    cs_builder *b;
    sect info, abbrev, line, line_str, str, str_off, addr, ranges, rnglists;
    sect loc, loclists;            /* only read in want_vars mode */
    cu *cus; size_t ncus, capcus;
    abbrev_tab **tabs; size_t ntabs;
    struct { uint64_t off; uint32_t *fmap; size_t n; } *lt; size_t nlt, caplt;
    memo *memo; size_t nmemo, memocount;
    uint64_t min_text;
    size_t nerr;
} ctx;

/* Value of one attribute.  Strings come back in S, numbers in V, blocks
   (exprloc and blockN forms) in BLK/BLKLEN only: S and V stay NULL and 0
   for them, since code that wants a name or a number never checks the
   class. */
typedef struct aval {
    uint64_t v;
    const char *s;
    int cls;
    const uint8_t *blk;
    uint64_t blklen;
} aval;
enum { C_NONE, C_ADDR, C_ADDRX, C_CONST, C_REF, C_STR, C_SECOFF, C_RNGX,
       C_BLOCK, C_OTHER };

static inline abbrev *find_abbrev(abbrev_tab *t, uint64_t code)
{
    if (code < t->ndirect)
        return t->direct[code];
    for (size_t i = 0; i < t->n; i++)
        if (t->a[i].code == code)
            return &t->a[i];
    return NULL;
}


/* ---------------------------------------------------------- functions */
/* form.c: the first corruption of a pass, as the builder's error. */
void dw_note_err(ctx *c, const char *what, uint64_t off);
/* Section NAME of the file, decompressed ({NULL, 0} when absent). */
sect dw_get_sect(ctx *c, const char *name);
/* The value of one attribute of form FORM at R (aval above); -1 when
   the form is unknown or the data ends. */
int dw_read_form(ctx *c, const cu *u, rd *r, unsigned form, int64_t ic,
                 aval *a);
/* Skips one attribute of form FORM at R; -1 as dw_read_form. */
int dw_skip_form(const cu *u, rd *r, unsigned form);
/* The abbreviation table at OFF in .debug_abbrev, decoded once. */
abbrev_tab *dw_get_abbrevs(ctx *c, uint64_t off, const cu *u);
/* line.c: the line program at OFF of .debug_line, for unit U: its rows
   into the builder, its file table into U->fmap. */
void dw_read_line_program(ctx *c, cu *u, uint64_t off, const char *comp_dir);
/* ranges.c: entry IDX of U's .debug_addr slice (*OK = 0 when outside). */
uint64_t dw_addrx(ctx *c, const cu *u, uint64_t idx, int *ok);
/* Adds [LO, HI) as a code range of scope SCOPE. */
void dw_add_range(ctx *c, uint64_t lo, uint64_t hi, uint32_t scope);
/* Adds the ranges of DW_AT_ranges value V (form class CLS) to SCOPE;
   returns the lowest start. */
uint64_t dw_read_ranges(ctx *c, const cu *u, uint64_t v, int cls,
                        uint32_t scope);
/* names.c: the builder's file id of U's DWARF file index IDX, or
   CS_NONE. */
uint32_t dw_file_of(const cu *u, uint64_t idx);
/* The unit holding .debug_info offset OFF, or NULL. */
cu *dw_cu_of(ctx *c, uint64_t off);
/* The abbreviation of the DIE at OFF in U, with R just after its code. */
abbrev *dw_die_at(ctx *c, cu *u, uint64_t off, rd *r);
/* The names and declaration of the DIE at OFF, following
   DW_AT_abstract_origin / DW_AT_specification, memoized. */
memo *dw_resolve(ctx *c, uint64_t off);
/* info.c: C ready for a walk of its own over E's units (sections, unit
   headers and unit DIEs; B takes the strings and ranges it reads): 0, or
   -1 when E has no .debug_info (C must still be closed). */
int dw_open_units(ctx *c, cs_elf *e, cs_builder *b);
void dw_close_units(ctx *c);
/* vars.c: collects the variable DIE at R (abbreviation A) if it has a
   fixed address. */
int dw_read_variable(ctx *c, cu *u, rd *r, const abbrev *a, uint64_t die_off);
/* Sizes and declarations of the collected variables. */
void dw_finish_vars(ctx *c);

#endif
