/*
 * corosym.h - public API of libcorosym, corodbg's offline symbolizer.
 *
 * libcorosym turns module-relative addresses into source locations:
 * function, file, line and column, with the chain of inlined calls,
 * innermost first.  It reads ELF with libelf and DWARF 4/5 (gcc, clang,
 * zlib or zstd compressed sections), finds separate debug files by
 * build-id and/or path, and keeps a persistent per-build-id index so a
 * second run on the same binary only maps a file.
 *
 * Concepts
 *   session  owns every module, string and cache handle.  Not thread-safe:
 *            use one session per thread.
 *   module   one ELF object (executable, shared object or debug file)
 *            identified by path and/or build-id.  A module always exists
 *            once asked for; when it cannot be used, corosym_module_error()
 *            says why in one line and every lookup misses.
 *   address  a module-relative *file virtual address* (the st_value /
 *            DW_AT_low_pc space of the ELF file), i.e. what
 *            llvm-symbolizer calls a module offset.  Use
 *            corosym_module_offset_to_vaddr() for a mapping file offset.
 *
 * Debug-info search order for a module (first hit wins):
 *   1. each --debug-dir DIR:  DIR/.build-id/NN/REST.debug
 *   2. /usr/lib/debug/.build-id/NN/REST.debug   (unless disabled)
 *   3. the binary itself, when it has .debug_info or .debug_line
 *   4. .gnu_debuglink: next to the binary, in its .debug/ subdirectory,
 *      and under each debug dir + the binary's directory; CRC32 checked
 *   5. debuginfod (libdebuginfod) when DEBUGINFOD_URLS is set
 * A found file whose build-id differs from the wanted one is refused, and
 * the module error names both ids.  Without DWARF, the ELF .symtab (or
 * .dynsym) gives function+offset; with nothing, lookups miss.
 *
 * Minimal example
 *
 *     corosym_options o;
 *     corosym_options_init(&o);
 *     corosym_session *s = corosym_session_new(&o);
 *     corosym_module *m = corosym_module_get(s, "/usr/bin/prog", NULL, 0);
 *     if (corosym_module_error(m))
 *         fprintf(stderr, "%s\n", corosym_module_error(m));
 *     corosym_frame f[16];
 *     corosym_miss miss;
 *     size_t n = corosym_symbolize(m, 0x1234, f, 16, &miss);
 *     for (size_t i = 0; i < n && i < 16; i++)
 *         printf("%s %s:%u:%u\n", f[i].function ? f[i].function : "??",
 *                f[i].file ? f[i].file : "??", f[i].line, f[i].column);
 *     corosym_session_free(s);
 *
 * Ownership: every pointer returned by this API (modules, strings inside
 * frames, error texts) is owned by the session and stays valid until
 * corosym_session_free().  Callers never free them.
 */
#ifndef COROSYM_H
#define COROSYM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define COROSYM_API_VERSION 1

typedef struct corosym_session corosym_session;
typedef struct corosym_module corosym_module;

/* Session options.  Always start from corosym_options_init(). */
typedef struct corosym_options {
    size_t struct_size;            /* sizeof(corosym_options), set by init */
    const char *const *debug_dirs; /* extra debug roots, searched first */
    size_t n_debug_dirs;           /* number of entries in DEBUG_DIRS */
    int default_debug_dir;         /* also search /usr/lib/debug (1) */
    int debuginfod;                /* ask debuginfod if DEBUGINFOD_URLS (1) */
    const char *cache_dir;         /* index dir; NULL: $XDG_CACHE_HOME/corosym
                                      or $HOME/.cache/corosym */
    int use_cache;                 /* read and write the index (1) */
    int demangle;                  /* demangle C++ names (1) */
    int inlines;                   /* report inlined frames (1) */
    int use_symtab;                /* name the outermost frame from the ELF
                                      symbol table, like llvm-symbolizer (1) */
    int progress;                  /* progress lines on stderr (0) */
    int short_names;               /* DW_AT_name instead of linkage names,
                                      no symbol-table override (0) */
    unsigned threads;              /* threads reading a module's DWARF:
                                      0 (default) the online CPUs, at most
                                      8, for a module with 1 MB or more of
                                      .debug_info (one thread below); N:
                                      N DIE walkers besides the line-table
                                      thread; 1: everything on one */
    unsigned char reserved[24];    /* zero; room for growth */
} corosym_options;

/* Why an address produced no (or only partial) information. */
typedef enum corosym_miss {
    COROSYM_OK = 0,           /* function and/or line found */
    COROSYM_MISS_MODULE,      /* module unusable: see corosym_module_error */
    COROSYM_MISS_NO_INFO,     /* module has neither DWARF nor symbols */
    COROSYM_MISS_NOT_FOUND,   /* no symbol or DWARF range covers the address */
    COROSYM_MISS_NO_LINE      /* function known (symbol), no line info */
} corosym_miss;

/* One frame of an address's inline chain.  Unknown strings are NULL,
   unknown numbers 0. */
typedef struct corosym_frame {
    const char *function;     /* name llvm-symbolizer would print: DWARF
                                 (linkage name, demangled if asked), the
                                 outermost frame from the symbol table */
    const char *file;         /* absolute source path (comp_dir joined) */
    uint32_t line;            /* 1-based; 0 unknown */
    uint32_t column;          /* 1-based; 0 unknown */
    uint32_t discriminator;   /* DWARF line discriminator (innermost) */
    uint32_t start_line;      /* DW_AT_decl_line of the function */
    const char *start_file;   /* DW_AT_decl_file of the function */
    uint64_t start_address;   /* function start (symbol or low_pc), 0 unk. */
    const char *symbol;       /* ELF symbol covering the address (set on
                                 every frame of the chain), or NULL */
    uint64_t symbol_address;  /* st_value of SYMBOL */
    uint64_t symbol_size;     /* st_size of SYMBOL */
    uint64_t symbol_offset;   /* address - symbol_address */
} corosym_frame;

/* Module capability bits, see corosym_module_flags(). */
enum {
    COROSYM_HAS_SYMTAB  = 1u << 0, /* .symtab or .dynsym symbols */
    COROSYM_HAS_LINES   = 1u << 1, /* DWARF line table */
    COROSYM_HAS_FUNCS   = 1u << 2, /* DWARF subprograms */
    COROSYM_HAS_INLINES = 1u << 3, /* DWARF inlined subroutines */
    COROSYM_FROM_CACHE  = 1u << 4  /* index was mapped from the cache */
};

/* Fill O with defaults (see each field). */
void corosym_options_init(corosym_options *o);

/* Create a session; copies O (strings included).  NULL only when out of
   memory or O->struct_size is unknown. */
corosym_session *corosym_session_new(const corosym_options *o);

/* Free the session and everything it owns.  Accepts NULL. */
void corosym_session_free(corosym_session *s);

/* Find or open a module by PATH (may be NULL) and/or BUILD_ID (raw bytes,
   may be NULL with LEN 0).  Repeated calls with the same key return the
   same module.  Loading (and index building) happens here.  Returns NULL
   only when out of memory; otherwise check corosym_module_error(). */
corosym_module *corosym_module_get(corosym_session *s, const char *path,
                                   const uint8_t *build_id,
                                   size_t build_id_len);

/* Open a module from an in-memory ELF image (copied).  NAME is used in
   messages.  No debug-file search, no cache.  For tests and fuzzing. */
corosym_module *corosym_module_from_memory(corosym_session *s,
                                           const char *name,
                                           const void *data, size_t size);

/* One line of text saying why the module is unusable or degraded, or NULL
   when it loaded fine.  Example: "corosym: /x/y.debug: build-id
   0123... does not match wanted abcd...". */
const char *corosym_module_error(const corosym_module *m);

/* Non-fatal notes (e.g. "no DWARF, using .symtab"), or NULL. */
const char *corosym_module_warning(const corosym_module *m);

/* Path given or found for the binary, and the file that supplied DWARF
   (NULL if none). */
const char *corosym_module_path(const corosym_module *m);
const char *corosym_module_debug_path(const corosym_module *m);

/* Build-id bytes (NULL, 0 when unknown). */
const uint8_t *corosym_module_build_id(const corosym_module *m,
                                       size_t *len);

/* COROSYM_HAS_* bits. */
unsigned corosym_module_flags(const corosym_module *m);

/* Translate a file offset inside the module (as in /proc/PID/maps or a
   pprof mapping) to a file virtual address through PT_LOAD headers.
   Returns 0 and sets *VADDR on success, -1 if no segment covers it. */
int corosym_module_offset_to_vaddr(const corosym_module *m,
                                   uint64_t file_offset, uint64_t *vaddr);

/* Symbolize ADDR (module-relative file virtual address).  Writes up to
   MAX frames, innermost first, into FRAMES and returns the total number
   of frames (>= 1; retry with a larger array if it exceeds MAX).  On a
   miss one frame with NULL/0 fields is returned and *MISS (may be NULL)
   says why.  With inlines off, only the outermost frame is returned, with
   the line of the address. */
size_t corosym_symbolize(corosym_module *m, uint64_t addr,
                         corosym_frame *frames, size_t max,
                         corosym_miss *miss);

/* What a DATA request answers (llvm-symbolizer's DATA): the ELF symbol
   covering the address, and the declaration of the variable there.
   Unknown strings are NULL, unknown numbers 0. */
typedef struct corosym_data {
    const char *name;         /* symbol covering the address (demangled if
                                 asked), or NULL */
    uint64_t start;           /* its st_value */
    uint64_t size;            /* its st_size */
    const char *decl_file;    /* the DWARF variable's declaration file when
                                 it has a line, else a local symbol's
                                 STT_FILE name, else NULL */
    uint32_t decl_line;       /* the variable's DW_AT_decl_line, or 0 */
} corosym_data;

/* Answer a DATA request for ADDR into *D.  The DWARF variables are read
   on a module's first DATA request (one pass over .debug_info).  Returns
   COROSYM_OK when a name or a declaration line was found, else why not
   (*D then has only what was found). */
corosym_miss corosym_symbolize_data(corosym_module *m, uint64_t addr,
                                    corosym_data *d);

/* The tail-call frames GDB's `bt` shows between two frames, from DWARF
   call-site information (DW_TAG_call_site) alone: CALLER_RET is the
   caller frame's return address in M, CALLEE the entry of the function
   the frame below it runs, in CALLEE_MODULE (NULL: M; in another module
   the callee is matched by its symbol's name, as GDB finds a declared
   callee in whichever module defines it).  When the caller's call site
   called another function, whose tail calls (a `jmp` at its end, and so
   on) lead to CALLEE by one path, those calls are the frames; by several
   paths, the calls they share at either end.  Writes the return
   addresses of those tail calls in M, innermost first, up to MAX into
   PCS (a frame's line is that of PCS[i] - 1) and returns how many: 0
   when CALLEE is called directly, or no unambiguous chain exists, or M
   lacks the information (the rules GDB keeps are in calls.c).  The call
   sites are read on a module's first question that a direct call at
   CALLER_RET does not answer (one pass over .debug_info). */
size_t corosym_tail_calls(corosym_module *m, uint64_t caller_ret,
                          corosym_module *callee_module, uint64_t callee,
                          uint64_t *pcs, size_t max);

/* The address NAME stands for in M, as llvm-symbolizer resolves a
   "MODULE SYMBOL[+OFFSET]" request: the first ELF symbol (address order)
   named exactly NAME, else the first DWARF subprogram whose DW_AT_name is
   NAME (inlined copies excluded).  Returns 0 and sets *ADDR, or -1 when
   nothing is named so (or M is unusable). */
int corosym_symbol_address(const corosym_module *m, const char *name,
                           uint64_t *addr);

/* Batch lookup: many addresses of one module, in ascending order, where
   each lookup starts from the last one's place in the index (a sweep,
   not a search per address) and the index entries a few addresses ahead
   are prefetched.  The usual use:

       corosym_sort_addresses(addrs, n, sorted, order);
       corosym_walk *w = corosym_walk_new(m, sorted, n);
       for (size_t j = 0; j < n; j++) {
           int same = corosym_walk_next(w);  // looks up sorted[j]
           if (!same)
               k = corosym_walk_frames(w, frames, max, &miss);
           ... the answer for input addrs[order[j]] ...
       }
       corosym_walk_free(w);

   Several walks may run at once on one module (one per thread, e.g. one
   per slice of SORTED): they only read the index.  Nothing else of the
   session may be used meanwhile. */
typedef struct corosym_walk corosym_walk;

/* SORTED[j] = ADDRS[ORDER[j]] for j < N, SORTED ascending; equal
   addresses keep their input order (a stable radix sort). */
void corosym_sort_addresses(const uint64_t *addrs, size_t n,
                            uint64_t *sorted, uint32_t *order);

/* A walk of M over ADDRS[0..N), which must be ascending and stay valid
   until corosym_walk_free().  NULL only when out of memory. */
corosym_walk *corosym_walk_new(corosym_module *m, const uint64_t *addrs,
                               size_t n);

/* Looks up the next address.  Returns 1 when its frames are those of the
   address before (same line-table row, scope and symbol: only
   symbol_offset differs), 0 when they may differ, -1 after the last. */
int corosym_walk_next(corosym_walk *w);

/* The frames of the address corosym_walk_next() looked up last, as
   corosym_symbolize() gives them (same return value and MISS). */
size_t corosym_walk_frames(corosym_walk *w, corosym_frame *frames,
                           size_t max, corosym_miss *miss);

/* Frees W.  Accepts NULL. */
void corosym_walk_free(corosym_walk *w);

/* The size of M's index (all 0 for an unusable module), for statistics:
   line-table rows, DWARF scopes (functions and inlined calls), address
   segments, symbols, file names and string bytes. */
typedef struct corosym_index_stats {
    size_t rows, scopes, segments, symbols, files, string_bytes;
} corosym_index_stats;
void corosym_module_index_stats(const corosym_module *m,
                                corosym_index_stats *st);

/* Text for a miss reason, e.g. "no symbol or line covers the address". */
const char *corosym_miss_string(corosym_miss miss);

/* Demangle NAME if it is an Itanium C++ name; returns NAME otherwise.
   The result is owned by the session. */
const char *corosym_demangle(corosym_session *s, const char *name);

#ifdef __cplusplus
}
#endif
#endif /* COROSYM_H */
