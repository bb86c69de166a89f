/*
 * pprof.h - reading, checking, editing and writing pprof profiles.
 *
 * A pprof profile is a serialized perftools.profiles.Profile message
 * (symbolizer/proto/profile.proto), usually gzip-compressed.  This layer
 * knows nothing about debug info: it turns bytes into a checked, editable
 * profile and back.  pprof_sym.c fills in symbols; folded.c prints stacks.
 *
 * Memory: every profile lives in its own arena.  The protobuf-c decoder
 * allocates from it, and so do the editing helpers below, so a decoded
 * message can be grown in place (new strings, functions, lines) without
 * mixing allocators.  pprof_free() releases everything at once.
 *
 * Errors: functions return a PPROF_E_* code and write a one-line message
 * (no trailing newline) into the caller's buffer.
 */
#ifndef COROSYM_PPROF_H
#define COROSYM_PPROF_H

#include <stddef.h>
#include <stdint.h>

#include "profile.pb-c.h"

typedef Perftools__Profiles__Profile PprofProfile;
typedef Perftools__Profiles__Mapping PprofMapping;
typedef Perftools__Profiles__Location PprofLocation;
typedef Perftools__Profiles__Line PprofLine;
typedef Perftools__Profiles__Function PprofFunction;
typedef Perftools__Profiles__Sample PprofSample;

/* Result codes.  The pprof subcommand maps them to its exit codes. */
enum pprof_err {
    PPROF_OK = 0,
    PPROF_E_IO,        /* the file could not be read or written */
    PPROF_E_GZIP,      /* corrupt gzip stream */
    PPROF_E_TRUNC,     /* gzip stream ends early */
    PPROF_E_PROTO,     /* the bytes are not a Profile message */
    PPROF_E_INVALID,   /* a Profile whose references do not hold */
    PPROF_E_TOOBIG,    /* beyond PPROF_MAX_BYTES after decompression, or
                          decoding to more than PPROF_DECODE_PER_BYTE
                          bytes per message byte */
    PPROF_E_NOMEM,     /* allocation failed */
};

/* Decompressed profiles larger than this are refused (bounded memory). */
#define PPROF_MAX_BYTES ((size_t)1 << 30)

/* Decoding may allocate at most this many bytes per byte of the message
   (plus PPROF_DECODE_SLACK), and never more than twice the limit in
   force.  Real profiles need under 12 (a sample with one location and
   one value: 8 wire bytes, 96 decoded); a flood of empty submessages
   needs 40 or more (2 wire bytes each, a 72-byte struct and a pointer),
   so a 65 KB gzip bomb would otherwise take gigabytes. */
#define PPROF_DECODE_PER_BYTE 16
#define PPROF_DECODE_SLACK ((size_t)16 << 20)

/* The limit in force (PPROF_MAX_BYTES; the fuzz harness lowers it). */
extern size_t pprof_max_bytes;

#define PPROF_ERRLEN 256

/* An arena-backed, decoded profile.  P is the message itself. */
struct pprof {
    PprofProfile *p;
    struct pprof_arena *arena;
};

/*
 * Decode BUF (LEN bytes, gzip or plain) into *OUT.  On success *OUT is a
 * new profile the caller frees with pprof_free; on failure *OUT is NULL and
 * ERR holds a one-line message.  The profile is checked (pprof_check).
 */
int pprof_decode(const uint8_t *buf, size_t len, struct pprof **out,
                 char *err, size_t errlen);

/* Read PATH ("-" is stdin) and decode it, as pprof_decode. */
int pprof_read_file(const char *path, struct pprof **out,
                    char *err, size_t errlen);

/*
 * Serialize PR.  With GZIP nonzero the result is gzip-compressed (what
 * pprof writes).  *OUT is malloc'd; the caller frees it.
 */
int pprof_encode(const struct pprof *pr, int gzip, uint8_t **out,
                 size_t *outlen, char *err, size_t errlen);

/* Encode and write to PATH ("-" is stdout), atomically for regular files. */
int pprof_write_file(const struct pprof *pr, const char *path, int gzip,
                     char *err, size_t errlen);

/* Frees PR and everything decoded or added into it.  NULL is fine. */
void pprof_free(struct pprof *pr);

/*
 * Check references: string indexes in range, string_table[0] == "",
 * nonzero unique ids, every sample location and every line function
 * exists, location mapping ids exist.  Returns PPROF_E_INVALID with the
 * first problem named.
 */
int pprof_check(const struct pprof *pr, char *err, size_t errlen);

/* String at index I, or "" when out of range. */
const char *pprof_str(const struct pprof *pr, int64_t i);

/* Lookups by id (array slot when ids are 1..N, else a hash; NULL when
   absent). */
PprofMapping *pprof_mapping_by_id(const struct pprof *pr, uint64_t id);
PprofLocation *pprof_location_by_id(const struct pprof *pr, uint64_t id);
PprofFunction *pprof_function_by_id(const struct pprof *pr, uint64_t id);

/* Index of location ID in pr->p->location, or -1. */
long pprof_location_index(const struct pprof *pr, uint64_t id);

/* ---- editing (all memory from the profile's arena) ---- */

/* Index of string S in the string table, appending it when new. -1: NOMEM. */
int64_t pprof_intern(struct pprof *pr, const char *s);

/*
 * Id of the function (NAME, SYSTEM_NAME, FILENAME, START_LINE), adding it
 * when no equal one exists.  Strings are interned.  0 on allocation failure.
 */
uint64_t pprof_add_function(struct pprof *pr, const char *name,
                            const char *system_name, const char *filename,
                            int64_t start_line);

/*
 * Replace LOC's lines with N new ones (zeroed, from the arena) and return
 * them for the caller to fill; NULL on allocation failure.
 */
PprofLine **pprof_set_lines(struct pprof *pr, PprofLocation *loc, size_t n);

/* Allocate from the profile's arena (zeroed). */
void *pprof_alloc(struct pprof *pr, size_t size);

/* Text for a PPROF_E_* code. */
const char *pprof_strerror(int code);

/* Low-level gzip helpers, exposed for tests and the fuzz harness. */
int pprof_gunzip(const uint8_t *in, size_t inlen, uint8_t **out,
                 size_t *outlen, size_t max, char *err, size_t errlen);
int pprof_gzip(const uint8_t *in, size_t inlen, uint8_t **out,
               size_t *outlen, char *err, size_t errlen);

#endif
