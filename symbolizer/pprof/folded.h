/*
 * folded.h - "folded stacks" output for flame graphs.
 *
 * One line per distinct stack: frames root-first separated by ';', a space,
 * then the sum of the chosen sample value over all samples with that stack.
 * Inlined frames are expanded (caller before callee).  Lines are sorted
 * bytewise; stacks whose sum is 0 are left out.  A frame with no function
 * prints as MODULE+0xOFFSET (file offset in the mapping's file, basename
 * only) or as 0xADDRESS when it has no mapping.  ';' and control characters
 * inside names are replaced by '_' so the format stays parseable.
 */
#ifndef COROSYM_FOLDED_H
#define COROSYM_FOLDED_H

#include <stdio.h>

#include "pprof.h"

/*
 * Resolve the sample index named by SPEC: a number, a sample_type name
 * ("cpu", "samples"), or NULL for the default (default_sample_type, else
 * the last type, as pprof does).  Returns the index or -1 with ERR set.
 */
int folded_sample_index(const struct pprof *pr, const char *spec, char *err,
                        size_t errlen);

/* Writes PR's folded stacks for value index IDX to OUT.  PPROF_E_* code. */
int folded_write(struct pprof *pr, FILE *out, int idx, char *err,
                 size_t errlen);

#endif
