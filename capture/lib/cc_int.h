/* cc_int.h -- libcorocap's private helpers (not part of corocap.h). */
#ifndef CC_INT_H
#define CC_INT_H

#include <stddef.h>
#include <stdint.h>

/* Append a formatted line to a malloc'd list of strings. */
void cc_warn(char ***list, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* RAW (N bytes) as the core's escape.printable shows it, UTF-8, written
 * into OUT (ROOM bytes, NUL-terminated, whole characters only); returns
 * the length.  See escape.c. */
size_t cc_escape(const uint8_t *raw, size_t n, char *out, size_t room);
/* The code point at P (N >= 1 bytes left) as Python's strict UTF-8 reads
 * it; *LEN gets the bytes used.  A bad sequence is U+FFFD for its
 * maximal valid prefix (at least one byte). */
uint32_t cc_utf8_next(const uint8_t *p, size_t n, size_t *len);
/* qsort comparator of (u64, u64) pairs. */
int cc_cmp_pair(const void *a, const void *b);
/* BYTES for an array a capture fills at once (100,000 coroutines: tens
 * of MB).  A large one is asked for in transparent huge pages, so filling
 * it costs a few dozen page faults instead of thousands: each costs
 * microseconds, most of a table read in a VM.  ZERO: cleared.  Freed
 * (and realloc'd) as malloc's. */
void *cc_big_alloc(size_t bytes, int zero);
/* Read a whole file into memory (malloc'd); NULL + errno on failure. */
uint8_t *cc_slurp(const char *path, size_t *len);
/* ELF helpers on a file: the build-id note, the load bias base (the
 * lowest PT_LOAD p_vaddr & ~(align-1) for offset 0), and the address of the
 * table (dynamic symbol corodbg_table, else section .corodbg), 0 if none.
 * Return -1 when the file cannot be read as ELF. */
int cc_elf_info(const char *path, uint8_t *build_id, size_t *build_id_len,
                uint64_t *table_vaddr, uint64_t *first_vaddr,
                uint64_t *first_offset);

#endif
