/*
 * corort.h -- a small stackful coroutine runtime for C, visible to debuggers.
 *
 * WHAT IT IS
 *   corort ("coroutine runtime") runs many stackful coroutines on one OS
 *   thread or on N worker threads (M:N).  It is the reference runtime of
 *   corodbg: every coroutine is published in libcorodbg's coroutine table,
 *   so `info coroutines` in GDB or `coroutine list` in LLDB shows it, and a
 *   parked coroutine's saved registers are the table's register block
 *   itself (no copy).  Link with -lcorort -lcorodbg -lpthread.
 *
 * FEATURES
 *   - stackful coroutines on mmap'd stacks with a guard page below each
 *   - hand-written context switch: x86-64 and aarch64 (runtime/arch/)
 *   - scheduler: single-thread mode, or N workers over pthreads sharing
 *     one FIFO work queue
 *   - channels: typed by element size, unbuffered or buffered, blocking
 *     send and receive, close
 *   - sleep (a timer heap), wait groups, coroutine mutexes, join
 *   - corort_panic(): records the panic for the debugger, prints it, aborts
 *   - every worker thread gets an alternate signal stack, so a stack
 *     overflow into the guard page is still recorded as a crash of the
 *     right coroutine; stacks are announced to ASan and Valgrind
 *
 * A COMPLETE PROGRAM
 *
 *     #include <corort.h>
 *     #include <stdio.h>
 *
 *     static void producer(void *arg)
 *     {
 *         corort_chan *ch = arg;
 *         for (int i = 1; i <= 3; i++)
 *             corort_chan_send(ch, &i);
 *         corort_chan_close(ch);
 *     }
 *
 *     static void consumer(void *arg)
 *     {
 *         int v;
 *         while (corort_chan_recv(arg, &v) == CORORT_OK)
 *             printf("got %d\n", v);
 *     }
 *
 *     int main(void)
 *     {
 *         corort_init(NULL);                       // single-thread mode
 *         corort_chan *ch = corort_chan_new(sizeof(int), 0);
 *         corort_spawn("producer", producer, ch);
 *         corort_spawn("consumer", consumer, ch);
 *         long stuck = corort_run();               // until all finished
 *         corort_chan_free(ch);
 *         return stuck == 0 ? 0 : 1;
 *     }
 *
 * CONCEPTS
 *   - A coroutine is *runnable* (in the work queue), *running* (on a worker
 *     thread), *blocked* (parked on a channel, timer, wait group, mutex or
 *     join) or finished.  These are also its states in the debugger table.
 *   - corort_run() drives the scheduler on the calling thread (workers = 0)
 *     or starts the workers and waits for them.  It returns when no
 *     coroutine can ever run again: 0 when every coroutine finished, or the
 *     number of coroutines left blocked forever (a deadlock or a leak, like
 *     Go's "all goroutines are asleep").  Those stay parked and visible:
 *     corodbg_report_blocked() prints them.
 *   - Coroutines may be spawned before corort_run() and from coroutines.
 *     Blocking calls (send, recv, sleep, wait, lock, join) need a running
 *     coroutine; outside one they return CORORT_ESTATE instead of blocking.
 *   - In N-worker mode a coroutine may resume on another OS thread after
 *     any blocking call or yield.  Do not keep pointers to thread-local
 *     variables across them.
 *
 * DEBUGGER HOOKS
 *   The runtime calls libcorodbg at create (corodbg_create with the spawn
 *   call's return address as creation site), at each switch, block, wake
 *   and exit, and at panic.  corort_init() installs corodbg's crash handler
 *   (a SIGSEGV in a coroutine marks it CRASHED, then the default action
 *   runs) and names the runtime "corort" in the table.  The context switch
 *   saves into the table's register block following corodbg's convention:
 *   pc is the return address into the C function that called the switch,
 *   sp the stack pointer after that return, plus the callee-saved
 *   registers.  A coroutine that never ran has pc = corort__trampoline and
 *   sp near the top of its stack, above which lies a zero return address.
 *
 * CONFIGURATION MACROS (when building the library)
 *   CORORT_NO_HOOKS   compile every libcorodbg call out; the context then
 *                     lives in the runtime's own struct.  This is the
 *                     benchmark baseline (build/runtime/libcorort-nohooks.a)
 *                     and needs no libcorodbg at link time.
 *
 * ERRORS
 *   Functions that can fail return enum corort_result (0 or negative);
 *   corort_strerror() gives text.  NULL handles and misuse return a code,
 *   never corrupt memory.  Programming errors that cannot be reported
 *   (a negative wait-group counter, unlocking an unlocked mutex) panic.
 *
 * THREADING
 *   corort_init() and corort_run() are called from one thread (usually
 *   main).  Everything else may be called from any coroutine on any worker.
 *   corort_spawn() may also be called from main before and after run.
 */
#ifndef CORORT_H
#define CORORT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Result codes. */
enum corort_result {
    CORORT_OK = 0,
    CORORT_EINVAL = -1,  /* NULL handle or argument out of range */
    CORORT_ENOMEM = -2,  /* stack or allocation failed */
    CORORT_ECLOSED = -3, /* channel closed (send, recv, double close) */
    CORORT_ESTATE = -4,  /* not allowed here: would block outside a
                            coroutine, already initialised, still in use */
    CORORT_EAGAIN = -5   /* try_send / try_recv would have blocked */
};

/* Text for a result code; never NULL. */
const char *corort_strerror(int result);

/* ---------------------------------------------------------------------
 * Runtime.
 * ------------------------------------------------------------------- */

#define CORORT_STACK_DEFAULT (64u * 1024u) /* bytes per coroutine stack */
#define CORORT_STACK_MIN (4u * 1024u)      /* smaller sizes are raised */

typedef struct corort_config {
    unsigned workers;  /* 0: single-thread mode on corort_run()'s caller;
                          N: N worker threads (M:N), at most 256 */
    size_t stack_size; /* 0: CORORT_STACK_DEFAULT; rounded up to pages */
    int no_guard;      /* 0: each stack is its own mapping with a guard
                          page below it.  1: stacks are carved from large
                          shared mappings without guard pages, for 100k+
                          coroutines (the kernel allows ~65k mappings) */
} corort_config;

/* Set the mode.  CFG may be NULL (single-thread, default stacks).  Calling
 * it again after coroutines exist returns CORORT_ESTATE.  Optional: the
 * first spawn initialises with defaults. */
int corort_init(const corort_config *cfg);

/* Run the scheduler until no coroutine can run again.  Returns 0 when all
 * finished, N > 0 when N coroutines are left blocked forever, or a
 * negative result code (CORORT_ESTATE when called from a coroutine). */
long corort_run(void);

/* ---------------------------------------------------------------------
 * Coroutines.
 * ------------------------------------------------------------------- */

typedef struct corort_co corort_co;
typedef void (*corort_fn)(void *arg);

/* Start FN(ARG) as a new runnable coroutine named NAME (may be NULL;
 * truncated to 31 bytes in the table).  The handle stays valid only until
 * the coroutine finishes.  NULL on ENOMEM. */
corort_co *corort_spawn(const char *name, corort_fn fn, void *arg);

/* The same, but the handle stays valid until corort_join() is called on
 * it, exactly once (not calling it leaks the handle). */
corort_co *corort_spawn_joinable(const char *name, corort_fn fn, void *arg);

/* Wait until CO finished, then free its handle.  CORORT_EINVAL for NULL
 * or a handle not made by corort_spawn_joinable, CORORT_ESTATE outside a
 * coroutine when CO has not finished yet (call it again from one). */
int corort_join(corort_co *co);

/* Let the other runnable coroutines run; no-op outside a coroutine. */
void corort_yield(void);

/* Finish the calling coroutine now, as if its function returned.  Outside
 * a coroutine it panics. */
__attribute__((noreturn)) void corort_exit(void);

/* The running coroutine, or NULL outside one. */
corort_co *corort_self(void);

/* CO's id: the debugger table's id (with hooks), else a runtime-local
 * counter.  0 for NULL. */
uint64_t corort_id(const corort_co *co);

/* Rename CO in the table.  CORORT_EINVAL for NULL. */
int corort_set_name(corort_co *co, const char *name);

/* Coroutines not finished (runnable, running or blocked). */
size_t corort_live(void);

/* Coroutines parked right now (their context is saved). */
size_t corort_blocked(void);

/* ---------------------------------------------------------------------
 * Time.
 * ------------------------------------------------------------------- */

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t corort_now_ns(void);

/* Park the calling coroutine for at least NS nanoseconds (wait reason
 * "sleep").  CORORT_ESTATE outside a coroutine. */
int corort_sleep_ns(uint64_t ns);
#define corort_sleep_ms(ms) corort_sleep_ns((uint64_t)(ms) * 1000000u)

/* ---------------------------------------------------------------------
 * Channels: FIFO, any element size, unbuffered (cap 0) or buffered.
 * Elements are copied (memcpy of elem_size bytes).
 * ------------------------------------------------------------------- */

typedef struct corort_chan corort_chan;

/* A new channel; NULL on ENOMEM.  ELEM_SIZE may be 0 (pure signals). */
corort_chan *corort_chan_new(size_t elem_size, size_t cap);

/* Free CH.  CORORT_ESTATE (and nothing freed) while coroutines wait on it.
 * NULL is accepted and returns CORORT_OK. */
int corort_chan_free(corort_chan *ch);

/* Send *ELEM: blocks (wait reason "chan send") until a receiver takes it
 * or buffer space frees.  CORORT_ECLOSED when CH is or gets closed. */
int corort_chan_send(corort_chan *ch, const void *elem);

/* Receive into *ELEM (may be NULL to discard): blocks (wait reason "chan
 * receive") until a value arrives.  CORORT_ECLOSED, with *ELEM zeroed,
 * once CH is closed and drained. */
int corort_chan_recv(corort_chan *ch, void *elem);

/* Non-blocking forms: CORORT_EAGAIN instead of blocking. */
int corort_chan_try_send(corort_chan *ch, const void *elem);
int corort_chan_try_recv(corort_chan *ch, void *elem);

/* Close CH: blocked receivers get CORORT_ECLOSED, blocked senders get
 * CORORT_ECLOSED.  Closing twice returns CORORT_ECLOSED. */
int corort_chan_close(corort_chan *ch);

/* Values buffered right now. */
size_t corort_chan_len(const corort_chan *ch);

/* ---------------------------------------------------------------------
 * Wait groups and mutexes.
 * ------------------------------------------------------------------- */

typedef struct corort_wg corort_wg;

corort_wg *corort_wg_new(void);         /* counter 0; NULL on ENOMEM */
int corort_wg_free(corort_wg *wg);      /* CORORT_ESTATE while waited on */
int corort_wg_add(corort_wg *wg, long delta); /* panics below zero */
int corort_wg_done(corort_wg *wg);      /* corort_wg_add(wg, -1) */
int corort_wg_wait(corort_wg *wg);      /* block ("waitgroup") until 0 */

typedef struct corort_mutex corort_mutex;

corort_mutex *corort_mutex_new(void);          /* unlocked; NULL: ENOMEM */
int corort_mutex_free(corort_mutex *m);        /* CORORT_ESTATE if locked */
int corort_mutex_lock(corort_mutex *m);        /* block ("mutex") */
int corort_mutex_trylock(corort_mutex *m);     /* CORORT_EAGAIN if held */
int corort_mutex_unlock(corort_mutex *m);      /* FIFO hand-off */

/* ---------------------------------------------------------------------
 * Panics.
 * ------------------------------------------------------------------- */

/* Like Go's unrecovered panic: record the message on the running
 * coroutine (corodbg_panic: state PANICKED, the debugger's panic catch
 * fires), print "panic: MESSAGE" and the coroutine to stderr, abort(). */
__attribute__((noreturn, format(printf, 1, 2)))
void corort_panic(const char *fmt, ...);

#ifdef __cplusplus
}
#endif
#endif /* CORORT_H */
