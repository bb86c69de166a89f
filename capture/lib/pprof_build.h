/* pprof_build.h -- a pprof profile built from captured stacks (shared by
 * the coroutine profile of `dump --format pprof` and `profile`). */
#ifndef PPROF_BUILD_H
#define PPROF_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "corocap.h"

typedef struct cc_pprof cc_pprof;

/* A profile of the target's executable mappings (each with its build-id)
 * and NTYPES sample types, TYPES = {type, unit, type, unit, ...}; the
 * first is also the period type. */
cc_pprof *cc_pprof_new(const cc_target *t, const char *const *types,
                       size_t ntypes);
/* One sample: RAW pcs (frame 0 first; LEAF_PC: frame 0 is where the
 * thread was, not a return address) and, when symbolized, their frames
 * S (may be NULL); VALUES (ntypes); NSTR string labels KEYS[i]=VALS[i]
 * (an empty value is left out); a numeric label NKEY=NVAL unless NKEY is
 * NULL.  0, or -1 when out of memory. */
int cc_pprof_sample(cc_pprof *p, const uint64_t *raw, size_t nraw,
                    int leaf_pc, const cc_stack *s, const int64_t *values,
                    const char *const *keys, const char *const *vals,
                    size_t nstr, const char *nkey, int64_t nval);
/* Encode, gzip and write to PATH ("-": standard output). */
int cc_pprof_write(cc_pprof *p, const char *path, int64_t period,
                   int64_t time_ns, int64_t duration_ns, char *err);
/* The same, to an open stream (the endpoint's response buffer). */
int cc_pprof_write_fp(cc_pprof *p, FILE *f, int64_t period, int64_t time_ns,
                      int64_t duration_ns, char *err);
void cc_pprof_free(cc_pprof *p);

#endif
