/* thread_int.h -- stopping one thread briefly (thread_regs.c). */
#ifndef THREAD_INT_H
#define THREAD_INT_H

#include "corocap.h"

struct cc_stopped { pid_t tid; int seized; uint64_t t0; };

/* Stop TID (PTRACE_SEIZE + INTERRUPT) and read its registers as DWARF
 * (regno, value) pairs (REGNO, VAL: CC_MAX_THREAD_REGS each).  0, or -1
 * with errno (EPERM: traced by another debugger or not allowed).  Always
 * pair with cc_thread_release. */
int cc_thread_stop(pid_t tid, struct cc_stopped *st, uint16_t *regno,
                   uint64_t *val, size_t *nregs);
/* Let it run again; returns how long it was stopped (ns). */
uint64_t cc_thread_release(struct cc_stopped *st);
/* A core's thread registers (NT_PRSTATUS) as DWARF pairs (REGNO, VAL:
 * CC_MAX_THREAD_REGS each); 0 if none. */
size_t cc_core_thread_regs(const cc_target *t, pid_t tid, uint16_t *regno,
                           uint64_t *val);

#endif
