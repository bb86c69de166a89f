/* corosym_int.h - private types shared by libcorosym's .c files. */
#ifndef COROSYM_INT_H
#define COROSYM_INT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>
#include <gelf.h>

#include "corosym.h"
#include "util.h"

#define CS_NONE UINT32_MAX

/* The base every layer uses (allocation, hex, buffers, the string
   pool) is util/util.h. */
/* Demangles an Itanium name in llvm's spelling; malloc'ed, or NULL when
   NAME is not a mangled C++ name. */
char *cs_demangle(const char *name);

/* ----------------------------------------------------------------- ELF */
typedef struct cs_section {
    const char *name;
    const uint8_t *data;   /* decompressed, NULL if NOBITS/absent */
    size_t size;
    uint64_t addr, flags;
    uint32_t type;
    int owned;             /* data was malloc'ed (decompressed) */
} cs_section;

typedef struct cs_elf {
    char *path;
    int fd;
    void *map; size_t map_size;   /* whole file, read-only */
    Elf *elf;
    int is64, little;
    uint16_t e_type, e_machine;
    size_t nsec;
    cs_section *sec;
    uint8_t build_id[64]; size_t build_id_len;
    const char *debuglink; uint32_t debuglink_crc; int has_debuglink;
    GElf_Phdr *phdr; size_t nphdr;
    uint64_t file_size, file_mtime;
    char *err;                    /* first fatal error */
} cs_elf;

/* Opens PATH (or DATA/SIZE if DATA non-NULL).  Returns NULL with *ERR set
   (malloc'ed one-line message) on failure. */
cs_elf *cs_elf_open(const char *path, const void *data, size_t size,
                    char **err);
void cs_elf_close(cs_elf *e);
/* Section by name, decompressing on first use.  NULL if absent/empty.
   Sets *ERR on a decompression failure. */
const cs_section *cs_elf_section(cs_elf *e, const char *name, char **err);
int cs_elf_has_dwarf(cs_elf *e);
int cs_elf_has_symbols(cs_elf *e);

/* --------------------------------------------------------------- index */
/* Flat lookup tables, identical in memory and in the cache file. */
typedef struct cs_row {
    uint64_t addr;
    uint32_t file;        /* global file id, CS_NONE = gap (end_sequence) */
    uint32_t line;
    uint32_t disc;
    uint16_t col;
    uint16_t pad;
} cs_row;

typedef struct cs_scope {
    uint64_t low;         /* DW_AT_low_pc or first range start */
    uint32_t parent;      /* enclosing scope, CS_NONE for a subprogram */
    uint32_t name;        /* linkage-or-short name offset, CS_NONE unknown */
    uint32_t sname;       /* DW_AT_name offset, CS_NONE unknown */
    uint32_t call_file, call_line, call_col;
    uint32_t decl_file, decl_line;
    uint32_t inlined;     /* 1 for DW_TAG_inlined_subroutine */
} cs_scope;

typedef struct cs_seg {
    uint64_t start;       /* segment covers [start, next.start) */
    uint32_t scope;       /* innermost scope, CS_NONE = none */
    uint32_t pad;
} cs_seg;

typedef struct cs_sym {
    uint64_t addr, size;
    uint32_t name;        /* string offset */
    uint32_t file;        /* STT_FILE name offset for locals, CS_NONE */
} cs_sym;

typedef struct cs_index {
    const cs_row *rows; size_t nrows;
    const cs_scope *scopes; size_t nscopes;
    const cs_seg *segs; size_t nsegs;
    const cs_sym *syms; size_t nsyms;
    const uint32_t *files; size_t nfiles;  /* file id -> string offset */
    const char *str; size_t strsize;
    unsigned flags;                         /* COROSYM_HAS_* */
    /* acceleration: for bucket k of [acc_lo, acc_lo + nacc << acc_shift),
       acc[t][k] is the first element of table t (rows, segs, syms) whose
       address is >= the bucket's start; acc[t][nacc] closes the table. */
    uint64_t acc_lo;
    unsigned acc_shift;
    size_t nacc;
    uint32_t *acc[3];
    /* ownership */
    void *map; size_t map_size;             /* mmap'ed cache file */
    void *owned[6];                         /* malloc'ed arrays */
} cs_index;

/* Builder used by the DWARF and ELF readers. */
/* A code range of a scope, as the DWARF reader finds them. */
typedef struct cs_range { uint64_t lo, hi; uint32_t scope, pad; } cs_range;

typedef struct cs_builder {
    cs_strpool strs;
    cs_buf rows, scopes, ranges, syms, files;
    uint32_t *fslots; size_t nfslots, nfiles;
    char *err;              /* first DWARF error, non-fatal */
    int progress;
    unsigned threads;       /* 1: read DWARF on one thread */
    int want_vars;          /* also collect variables (cs_dwarf_read_vars) */
    cs_buf vars;            /* then: cs_dwarf_var records */
} cs_builder;

/* A variable DWARF places at a fixed address, for DATA requests. */
typedef struct cs_var {
    uint64_t lo, hi;        /* [lo, hi): location, + type size (or 1) */
    uint32_t unit;          /* compile unit index, .debug_info order */
    uint32_t line;          /* DW_AT_decl_line, 0 unknown */
    const char *file;       /* declaration file, absolute; NULL unknown */
} cs_var;
/* A module's variables: V sorted by unit, then start, one entry per start
   within a unit (the last DIE, as llvm's map keeps); UNIT[k] is where the
   k-th unit with variables starts in V (UNIT[NUNITS] = N); the file names
   live in STRS. */
typedef struct cs_vars {
    cs_var *v; size_t n;
    size_t *unit; size_t nunits;
    char *strs;
} cs_vars;
/* Reads the variables of E's DWARF into VS (a full pass, not part of the
   index: done on the first DATA request for a module).  THREADS as in
   cs_builder.  cs_vars_free releases them. */
void cs_dwarf_read_vars(cs_elf *e, unsigned threads, cs_vars *vs);
void cs_vars_free(cs_vars *vs);
/* llvm's getVariableForAddress over units in order: the first unit whose
   variable starting at or before ADDR (the nearest) covers it. */
const cs_var *cs_var_at(const cs_vars *vs, uint64_t addr);

/* A module's call sites (DW_TAG_call_site, gcc's DW_TAG_GNU_call_site)
   as GDB keeps them for its tail-call frames: CALL sorted by return
   address, one per address (the first DIE); FUNC, every function with
   code sorted by entry, heads the list of its tail calls (through
   NEXT_TAIL) when its DWARF says the list is complete
   (DW_AT_call_all_calls or the like), else has none. */
typedef struct cs_call {    /* (the key first: calls.c find_key) */
    uint64_t ret;           /* DW_AT_call_return_pc (GNU: DW_AT_low_pc) */
    uint64_t target;        /* the callee's entry, when HAS_TARGET */
    uint32_t next_tail;     /* the function's next tail call, CS_NONE */
    uint32_t name;          /* a declared callee this module has no
                               symbol for (in another module): its
                               linkage name in NAMES, else CS_NONE */
    uint8_t tail;           /* DW_AT_call_tail_call */
    uint8_t has_target;     /* 0: indirect, or not resolvable here */
    uint16_t pad;
} cs_call;
typedef struct cs_func { uint64_t entry; uint32_t tails, pad; } cs_func;
typedef struct cs_calls {
    cs_call *call; size_t ncall;
    cs_func *func; size_t nfunc;
    char *names;            /* NUL-terminated names, cs_call.name */
} cs_calls;
/* Reads E's call sites into CS (one pass over .debug_info, done on a
   module's first tail-call question).  A callee named only by a
   declaration is found by its linkage name among IX's symbols.
   cs_calls_free releases them. */
void cs_dwarf_read_calls(cs_elf *e, const cs_index *ix, cs_calls *cs);
void cs_calls_free(cs_calls *cs);
/* GDB's tail-call frames between a caller frame whose return address is
   CALLER_RET and the callee frame, running the function that starts at
   CALLEE (this module), or, in another module, the one whose symbol is
   CALLEE_NAME (then CALLEE is not used): the return addresses of the
   tail calls that must have happened in between, innermost first, up to
   MAX into OUT; how many.  0 when the callee is called directly, or no
   chain of tail calls, or more than one without a common part, leads
   from the call site to it. */
size_t cs_tail_chain(const cs_calls *cs, uint64_t caller_ret,
                     uint64_t callee, const char *callee_name,
                     uint64_t *out, size_t max);

void cs_builder_init(cs_builder *b);
void cs_builder_free(cs_builder *b);
uint32_t cs_builder_file(cs_builder *b, const char *path, size_t n);
/* Reads .debug_line / .debug_info of E into B.  Returns 0, or -1 with a
   message in B->err when nothing could be read at all. */
int cs_dwarf_read(cs_elf *e, cs_builder *b);
/* Adds symbols of E (.symtab, else .dynsym) the way llvm-symbolizer does. */
void cs_symtab_read(cs_elf *e, cs_builder *b);
/* Turns the builder into a final index (consumes B). */
void cs_index_finish(cs_builder *b, cs_index *ix);
void cs_index_free(cs_index *ix);
/* Builds the bucket tables (after finish or cache load). */
void cs_index_accel(cs_index *ix);
/* Table T of IX (0 rows, 1 segs, 2 syms): its size, and the address of
   its element I (the key the tables are sorted by). */
static inline size_t cs_index_size(const cs_index *ix, int t)
{
    return t == 0 ? ix->nrows : t == 1 ? ix->nsegs : ix->nsyms;
}
static inline uint64_t cs_index_key(const cs_index *ix, int t, size_t i)
{
    return t == 0 ? ix->rows[i].addr : t == 1 ? ix->segs[i].start
                                              : ix->syms[i].addr;
}
/* lookup.c: upper_bound - 1 on table T: the last element with address
   <= ADDR, or SIZE_MAX. */
size_t cs_index_find(const cs_index *ix, int t, uint64_t addr);

/* A fast 64-bit hash of a whole file's bytes (the cache body checksum and
   the cache key's content check). */
uint64_t cs_checksum(const void *p, size_t n);

/* Cache file.  KEY identifies the inputs (build-id, sizes and a hash of
   their contents).  Load refuses a symlink, a non-regular file and one
   cs_untrusted names; save creates a fresh 0600 temporary (O_EXCL) and
   renames it into place. */
int cs_cache_load(const char *path, uint64_t key, cs_index *ix, char **err);
int cs_cache_save(const char *path, uint64_t key, const cs_index *ix,
                  char **err);
/* Validates a cache image in memory (fuzzing).  0 ok, -1 with *ERR. */
int cs_cache_check(const void *data, size_t size, uint64_t key, char **err);
/* Sets file_size and checksum of a cache image so the integrity checks
   pass (fuzzing only). */
void cs_cache_seal(void *data, size_t size);
int cs_cache_view(const void *data, size_t size, uint64_t key,
                  cs_index *ix, char **err);

/* -------------------------------------------------------------- lookup */
/* lookup.c.  Lookup result: indices into rows, segs, syms (CS_NONE:
   none). */
typedef struct cs_hit { uint32_t row, seg, sym; } cs_hit;
void cs_lookup(const cs_index *ix, uint64_t addr, cs_hit *h);
/* For N addresses at once, in two halves, for a caller that walks the
   answers in address order (and splits the walk between threads):
   SADDRS[j] = ADDRS[ORDER[j]] sorted; then, with a cursor per walk
   (zeroed), the hit of each next address, which must not be lower than
   the one before.  Looking up and
   using each hit in turn keeps the rows it touched in cache. */
void cs_sort_addrs(const uint64_t *addrs, size_t n, uint64_t *saddrs,
                   uint32_t *order);
typedef struct cs_cursor {
    size_t pr, ps, py;
    int have_r, have_s, have_y, started;
} cs_cursor;
void cs_lookup_next(const cs_index *ix, cs_cursor *cur, uint64_t addr,
                    cs_hit *h);
/* The symbol of H that covers ADDR (a sized symbol ends), or NULL. */
const cs_sym *cs_sym_covering(const cs_index *ix, const cs_hit *h,
                              uint64_t addr);

/* -------------------------------------------------------------- frames */
/* frames.c: corosym_symbolize() from a lookup result. */
size_t cs_symbolize_hit(corosym_module *m, uint64_t addr, const cs_hit *h,
                        corosym_frame *frames, size_t max,
                        corosym_miss *miss);

/* ------------------------------------------------------------- session */
struct corosym_module {
    struct corosym_module *next;
    corosym_session *s;
    char *path;            /* as asked */
    uint8_t want_id[64]; size_t want_id_len;
    uint8_t build_id[64]; size_t build_id_len;
    char *debug_path;
    char *error, *warning;
    cs_elf *bin;           /* binary (kept for PT_LOAD), may be NULL */
    cs_index ix;
    int loaded;
    /* demangle memo: string offset -> session string */
    const char **dem; size_t ndem;
    /* DWARF variables, read on the first DATA request */
    int vars_read;
    cs_vars vars;
    /* call sites, read on the first tail-call question */
    int calls_read;
    cs_calls calls;
};

struct corosym_session {
    corosym_options o;
    char **dirs; size_t ndirs;
    char *cache_dir;
    corosym_module *mods;
    cs_strpool extra;       /* demangled names etc. */
    char **owned; size_t nowned, capowned;
    void *dc;               /* debuginfod client */
};

const char *cs_session_keep(corosym_session *s, char *str); /* takes str */
/* Adds W (malloc'ed, taken) to M's warnings, one line for all. */
void cs_module_warn(corosym_module *m, char *w);
/* lookup.c: the DWARF variable covering ADDR in M, or NULL (see
   cs_var_at). */
const cs_var *cs_module_var_at(corosym_module *m, uint64_t addr);

/* -------------------------------------------------------------- search */
/* search.c.  The debug file of M, whose binary BIN (may be NULL) was
   opened: the first source in corosym.h's order that yields a file with
   DWARF and the wanted build-id, or NULL; *SELF is set when the binary's
   own DWARF is to be used instead.  FROM_MEMORY: no file search at all.
   Refused candidates add warnings to M. */
cs_elf *cs_debug_find(corosym_module *m, cs_elf *bin, int from_memory,
                      int *self);
/* Whether E has the build-id M wants. */
int cs_id_matches(const corosym_module *m, const cs_elf *e);
/* Ends S's debuginfod client, if any. */
void cs_search_end(corosym_session *s);

#endif
