/* output.h - llvm-symbolizer-compatible output (LLVM, GNU, JSON). */
#ifndef COROSYM_OUTPUT_H
#define COROSYM_OUTPUT_H

#include <stddef.h>
#include <stdint.h>
#include "corosym.h"

typedef struct cs_out {
    char *buf;
    size_t n, cap;
    int fd;
    /* Called before every write to FD: another writer of the same fd
       (batch.c's background write) finishes first.  May be NULL. */
    void (*before_write)(void *arg);
    void *before_arg;
} cs_out;

enum { CS_STYLE_LLVM, CS_STYLE_GNU, CS_STYLE_JSON };
enum { CS_FN_NONE, CS_FN_SHORT, CS_FN_LINKAGE };

typedef struct cs_outcfg {
    int style;          /* CS_STYLE_* */
    int functions;      /* CS_FN_* */
    int print_address;  /* -a */
    int pretty;         /* -p */
    int basenames;      /* -s */
    int json_array;     /* collect JSON objects in one array */
    int offsets;        /* corosym: symbol+0xOFF when there is no line */
} cs_outcfg;

void cs_out_init(cs_out *o, int fd);
void cs_out_flush(cs_out *o);
void cs_out_str(cs_out *o, const char *s);
void cs_out_mem(cs_out *o, const char *s, size_t n);
void cs_out_char(cs_out *o, char c);
void cs_out_u64(cs_out *o, uint64_t v);
void cs_out_hex(cs_out *o, uint64_t v);
void cs_out_json_str(cs_out *o, const char *s);

/* Re-indents the compact JSON written since FROM (llvm's -p), starting at
   nesting DEPTH. */
void cs_json_pretty(cs_out *o, size_t from, int depth);
/* One CODE request: FRAMES[0..N) innermost first. */
void cs_print_code(cs_out *o, const cs_outcfg *c, const char *module,
                   const uint8_t *bid, size_t bidlen, int has_addr,
                   uint64_t addr, const corosym_frame *f, size_t n,
                   int first_json);
/* One DATA request. */
void cs_print_data(cs_out *o, const cs_outcfg *c, const char *module,
                   const uint8_t *bid, size_t bidlen, uint64_t addr,
                   const char *name, uint64_t start, uint64_t size,
                   const char *decl_file, uint32_t decl_line,
                   int first_json);
/* A SYMBOL[+OFF] request: llvm prints the frame, or in JSON a "Loc"
   list.  F may be NULL when the symbol is unknown. */
void cs_print_symbol(cs_out *o, const cs_outcfg *c, const char *module,
                     const char *sym, int data, const corosym_frame *f,
                     int first_json);
/* A module that could not be loaded (MSG is llvm's error text). */
void cs_print_module_error(cs_out *o, const cs_outcfg *c, const char *module,
                           uint64_t addr, const char *msg, int first_json);
/* A request that could not be parsed or a module that failed, printed as
   llvm does (unknown frame).  MSG non-NULL adds the JSON "Error". */
void cs_print_error(cs_out *o, const cs_outcfg *c, const char *module,
                    const char *msg, int first_json);

#endif
