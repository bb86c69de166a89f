/* util.h - the base under every layer of the symbolizer: allocation that
   exits on failure, hex, hashing, a growable buffer and a string pool.
   Shared by libcorosym (lib/), the CLI (cli/) and pprof (pprof/); it
   knows nothing of ELF, DWARF or the index. */
#ifndef COROSYM_UTIL_H
#define COROSYM_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

/* Says "corosym: out of memory" and exits 70 (EX_SOFTWARE), as every
   cs_x* allocation does when it fails. */
void cs_oom(void) __attribute__((noreturn));
void *cs_xmalloc(size_t n);
void *cs_xcalloc(size_t n, size_t m);
void *cs_xrealloc(void *p, size_t n);
char *cs_xstrdup(const char *s);
char *cs_fmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
uint64_t cs_hash(const void *p, size_t n);
/* Why a cache file or directory with status ST must not be trusted (not
   owned by the effective user, or writable by group or others), or NULL
   when it may be.  Static text. */
const char *cs_untrusted(const struct stat *st);
void cs_hex(const uint8_t *p, size_t n, char *out); /* out: 2n+1 bytes */
int cs_unhex(const char *s, size_t slen, uint8_t *out, size_t max,
             size_t *outlen);

/* Growable byte buffer. */
typedef struct cs_buf { char *p; size_t n, cap; } cs_buf;
void cs_buf_add(cs_buf *b, const void *p, size_t n);
void *cs_buf_reserve(cs_buf *b, size_t n); /* returns room for N bytes */

/* String pool: NUL-terminated strings in one blob, interned by content.
   Offsets (uint32_t) are stable. */
typedef struct cs_strpool {
    cs_buf blob;
    uint32_t *slots;   /* hash slots holding offset+1, 0 = empty */
    size_t nslots, count;
} cs_strpool;
void cs_strpool_init(cs_strpool *sp);
uint32_t cs_strpool_add(cs_strpool *sp, const char *s, size_t n);
void cs_strpool_free(cs_strpool *sp);

#endif
