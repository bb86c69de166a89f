/* sample_sig.h -- the in-process sampling signal: its handler, which
 * copies the interrupted thread's registers and stack top into a
 * lock-free ring, and the ring's consumer side (sample_sig.c). */
#ifndef SAMPLE_SIG_H
#define SAMPLE_SIG_H

#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#include "cpu_prof.h"

#define CC_RING_SLOTS 64
#define CC_SAMPLE_NREGS 17      /* x86-64 DWARF 0..16 (16 = rip) */

/* One slot of the ring, filled by the handler on the sampled thread. */
struct cc_sample {
    int state;                  /* atomic: free, writing, ready */
    pid_t tid;
    uint64_t co_id;             /* the thread's coroutine, 0: none */
    char co_name[32];           /* its name, raw (CORODBG_NAME_MAX) */
    uint64_t regs[CC_SAMPLE_NREGS];
    uint32_t len;               /* stack bytes copied from regs[7] */
    uint8_t stack[CC_CPU_STACK_COPY];
};

/* One profile at a time: 0, or -1 when one runs (the caller says
 * "busy"); cc_sig_profile_end when done.  Reset in a forked child. */
int cc_sig_profile_begin(void);
void cc_sig_profile_end(void);
/* Put our handler in place of the program's (kept and chained to); each
 * profile or snapshot in progress holds it (pair with cc_sig_restore).
 * -1 + ERR when the platform is not supported or sigaction fails. */
int cc_sig_install(char *err);
/* The value a timer of ours carries in si_value. */
void *cc_sig_cookie(void);
/* Take samples from now on (1), or drop ours from now on (0). */
void cc_sig_enable(int on);
/* Done with it: the last user gives the program its disposition back,
 * once no signal of ours is pending on any thread (waits up to 100 ms for
 * that).  0, or 1 when a thread that blocks the signal still holds one of
 * ours: our handler then stays, passing the program's own signals on and
 * dropping ours. */
int cc_sig_restore(void);
/* Registers and stack top of thread TID of this process, taken by the
 * handler on that thread (rt_tgsigqueueinfo), waiting at most TIMEOUT_MS.
 * 0, or -1 + ERR (no such thread, no answer in time). */
int cc_sig_snapshot(pid_t tid, unsigned timeout_ms, struct cc_sample *out,
                    char *err);
/* The next ready slot at or after *CURSOR, or NULL; give it back with
 * cc_sig_done.  Samples dropped because the ring was full: */
struct cc_sample *cc_sig_next(unsigned *cursor);
void cc_sig_done(struct cc_sample *s);
uint64_t cc_sig_dropped(void);

#endif
