/* cpu_prof.h -- a CPU profile being built: samples unwound, labelled with
 * their coroutine, counted per unique (stack, coroutine) and written as
 * pprof.  Shared by `corodbg profile` (profile.c: perf_event_open on
 * another process) and cc_profile_self (profile_self.c: this process). */
#ifndef CPU_PROF_H
#define CPU_PROF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "corocap.h"

#define CC_CPU_STACK_COPY 16384   /* stack top copied per sample */
#define CC_CPU_MAX_DEPTH 64

typedef struct cc_cpu_prof cc_cpu_prof;

/* A profile of T's threads sampled every PERIOD_NS of CPU time.  NULL +
 * ERR when no module can be opened for unwinding. */
cc_cpu_prof *cc_cpu_prof_new(cc_target *t, uint64_t period_ns, char *err);
void cc_cpu_prof_free(cc_cpu_prof *p);
/* One sample: the thread's registers (DWARF pairs), its pc IP and sp,
 * STACK (LEN bytes copied from sp; LEN < 64: none, memory is read through
 * the target's reader), and the coroutine it ran: ID 0 for none, NAME as
 * escaped by the decoder.  Unwound at once; -1 when out of memory. */
int cc_cpu_prof_sample(cc_cpu_prof *p, const uint16_t *regno,
                       const uint64_t *val, size_t nregs, uint64_t ip,
                       uint64_t sp, const uint8_t *stack, size_t len,
                       uint64_t id, const char *name);
/* Samples so far. */
size_t cc_cpu_prof_samples(const cc_cpu_prof *p);
/* The pprof profile (samples/count, cpu/nanoseconds; string label
 * `coroutine`: the name, "(unnamed)" or "(none)"; numeric label
 * `coroutine_id`), symbolized with SYM when not NULL, over DURATION_NS
 * ending now, to PATH or, when PATH is NULL, to the open stream OUT. */
int cc_cpu_prof_write(cc_cpu_prof *p, cc_symbolizer *sym, const char *path,
                      FILE *out, uint64_t duration_ns, char *err);

#endif
