/* lineproto.h - llvm-symbolizer's input line protocol (private API, also
   used by the fuzz harness). */
#ifndef COROSYM_LINEPROTO_H
#define COROSYM_LINEPROTO_H

#include <stddef.h>
#include <stdint.h>

enum { CS_REQ_CODE, CS_REQ_DATA, CS_REQ_FRAME };

typedef struct corosym_request {
    int kind;                 /* CS_REQ_* */
    char *module;             /* malloc'ed, NULL: use the default object */
    uint8_t build_id[64];
    size_t build_id_len;      /* > 0 for BUILDID:HEX */
    char *symbol;             /* malloc'ed, SYMBOL[+OFF] form, or NULL */
    uint64_t offset;          /* the address (or offset from SYMBOL) */
    char *error;              /* malloc'ed llvm-style message, or NULL */
} corosym_request;

/* Parses one input LINE (LEN bytes, no newline needed) as llvm-symbolizer
   19 does: [CODE |DATA |FRAME ][FILE:|BUILDID:]MODULE ADDR, or just ADDR
   when HAVE_DEFAULT (--obj or --build-id given).  Never fails hard: a bad
   line gets REQ->error.  Free with corosym_request_free(). */
void corosym_parse_request(const char *line, size_t len, int have_default,
                           corosym_request *req);
void corosym_request_free(corosym_request *req);

#endif
