/* minirt.h -- the mini coroutine runtime shared by the debugger test
 * programs (tests/gdb/progs/fixture.c, tests/lldb/progs/lldbprog.c).
 *
 * One x86-64 switch routine saving straight into the table's register
 * block, a per-thread scheduler context, fx_park/fx_chan_recv/fx_nap (the
 * "runtime": the tests name it with the glob fx_*), and the workers whose
 * lines and locals both test suites assert (LINE_* markers in minirt.c).
 * Each program keeps its own spawn() and trampoline (how a coroutine's
 * stack is made and how it starts) and the modes only it has.
 */
#ifndef MINIRT_H
#define MINIRT_H

#include <corodbg.h>

#include <stdint.h>
#include <string.h>

#ifdef __cplusplus
extern "C" { /* the C++ test programs link the C runtime */
#endif

struct co {
    corodbg_co *dbg;
    uint64_t *regs; /* = corodbg_regs(dbg): the switch saves into the table */
    void (*fn)(struct co *);
    long arg;
    int done;
};

/* fx_switch(save, load): save the callee-saved context into SAVE (in the
 * corodbg register-block order rip, rsp, rbp, rbx, r12..r15, with rip the
 * return address and rsp the stack pointer after the return) and resume
 * LOAD.  Resuming is a return into LOAD's caller. */
void fx_switch(uint64_t *save, const uint64_t *load);

extern __thread uint64_t sched_regs[CORODBG_NREGS]; /* the scheduler's */
extern __thread struct co *current;  /* the coroutine running here */
extern int chan_token;               /* what blocked workers wait on */

void resume(struct co *c);      /* run C until it yields or blocks */
void fx_park(void);             /* from a coroutine: back to the scheduler */
void fx_chan_recv(int *chan);   /* block on CHAN (chan receive) */
void fx_nap(long ms);           /* block (sleep); never woken */

/* The workers (arg: see each). */
void consumer(struct co *self);  /* blocks on chan_token */
void sleeper(struct co *self);   /* naps (arg + 1) * 100 ms */
void yielder(struct co *self);   /* parks, runnable */
void crasher(struct co *self);   /* writes through the pointer ARG */
void aborter(struct co *self);   /* abort(): SIGABRT, sent, no fault */
void panicker(struct co *self);  /* corodbg_panic("bad request ARG") */

/* Provided by each program: a coroutine running FN(ARG), never run yet
 * (its pc is the program's trampoline). */
struct co *spawn(const char *name, void (*fn)(struct co *), long arg);

#define MR_ALL 64
extern struct co *all[MR_ALL];   /* the first coroutines make_mix made */

/* N workers: i % 3 = consumer, sleeper, yielder; all but the last run
 * until they block or park. */
void make_mix(long n);
/* N OS threads, each running one "spinner" coroutine on its own stack;
 * returns once they are all in the table. */
void start_spinners(long n);

/* The modes both test programs have, each stopping in CHECKPOINT (the
 * program's breakpoint function): list N (N workers), crash, abort and
 * panic (6 workers, then "crasher", "aborter" or "panicker"), threads N (6 workers and N
 * spinner threads), sleep N (like threads N, then print "ready PID" and
 * sleep, for attach and gcore; never returns), join (6 workers, then
 * "ready PID" and the main thread hangs in pthread_join, for attach to
 * a hung process), and rm_run_mode's.  0 when it ran MODE, -1 when MODE
 * is none of them. */
int mr_run_mode(const char *mode, long n, void (*checkpoint)(void));

/* tests/progs/regmodes.c: block N, frame N (N workers parked by a runtime
 * publishing its registers in mode BLOCK or FRAME, plus one that never
 * ran), block-bad N and frame-bad N (the second worker's saved sp lies
 * outside its stack).  Called by mr_run_mode; -1 for another MODE. */
int rm_run_mode(const char *mode, long n, void (*checkpoint)(void));

#ifdef __cplusplus
}
#endif

#endif
