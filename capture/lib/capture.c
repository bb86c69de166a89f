/*
 * capture.c -- one capture: the table, then every coroutine's stack.
 *
 * Parked coroutines are unwound from their register blocks while the
 * program runs.  A running coroutine's registers are its thread's: that
 * thread alone is stopped, its entry re-read (it may have switched out
 * meanwhile), its stack unwound, and it is let go at once; from inside
 * the process, that thread copies them itself in a signal handler.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <corodbg.h>

#include "corocap.h"
#include "cc_int.h"
#include "thread_int.h"

void cc_capture_note(cc_capture *c, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    cc_warn(&c->notes, &c->nnotes, "%s", buf);
}

/* Has the live process gone away (exited, or a zombie with no memory)? */
static int gone(const cc_target *t)
{
    if (t->is_core)
        return 0;
    uint8_t b;
    if (t->reader->gone)
        return 1;
    /* one byte of the table: fails with ESRCH once the memory is gone */
    return cc_read(t->reader, t->table_addr, &b, 1) && t->reader->gone;
}

/* Tests only: keep a stopped thread stopped this long (ms), so a test can
 * kill corodbg or the target at that moment. */
static void test_hold(void)
{
    const char *ms = getenv("CORODBG_TEST_HOLD_STOPPED_MS");
    if (ms) {
        long v = strtol(ms, NULL, 10);
        struct timespec ts = {v / 1000, (v % 1000) * 1000000L};
        if (v > 0)
            nanosleep(&ts, NULL);
    }
}

/* A running coroutine on a live thread: stop, unwind, release. */
static size_t running(cc_capture *c, cc_unwinder *u, cc_coroutine *co,
                      uint64_t *pcs, size_t max, const char **why)
{
    uint16_t regno[CC_MAX_THREAD_REGS];
    uint64_t val[CC_MAX_THREAD_REGS];
    size_t nregs = 0, n = 0;
    cc_target *t = c->target;
    if (t->is_core) {
        nregs = cc_core_thread_regs(t, (pid_t)co->tid, regno, val);
        if (!nregs) {
            *why = "its thread is not in the core";
            return 0;
        }
        return cc_unwind(u, regno, val, nregs, 0, pcs, max, why);
    }
    struct cc_stopped st;
    if (cc_thread_stop((pid_t)co->tid, &st, regno, val, &nregs)) {
        *why = errno == EPERM ? "its thread could not be stopped (traced "
               "by a debugger?)" : errno == ESRCH ? "its thread exited "
               "during the capture" : "its thread could not be stopped";
        return 0;
    }
    c->stopped++;
    /* still running there?  If it switched out before the stop, its
     * register block is valid again and the thread's are someone else's */
    pid_t tid = (pid_t)co->tid;
    if (cc_entry_reread(t->reader, c->table, co) == 1 &&
        !(cc_on_thread(co) && (pid_t)co->tid == tid))
        nregs = cc_regs_of(c->table, co, regno, val, CC_MAX_REGS);
    /* copy the stack top while the thread is stopped, let it go, and
     * unwind from the copy: the stall is a few syscalls, not an unwind */
    uint64_t sp = 0;
    for (size_t i = 0; i < nregs; i++)
        if (regno[i] == 7 || regno[i] == 31)
            sp = val[i];
    size_t len = sizeof c->thread_stack;
    if ((co->has & CC_HAS_STACK) && co->stack_hi > sp && co->stack_hi - sp < len)
        len = (size_t)(co->stack_hi - sp);
    while (len >= 64 && cc_read(t->reader, sp, c->thread_stack, len))
        len /= 2;
    test_hold();
    uint64_t stall = cc_thread_release(&st);
    if (stall > c->max_stall_ns)
        c->max_stall_ns = stall;
    if (len >= 64)
        cc_unwinder_use_snapshot(u, sp, c->thread_stack, len);
    n = nregs ? cc_unwind(u, regno, val, nregs, 0, pcs, max, why) : 0;
    return n;
}

/* The same from inside the process (CC_SNAPSHOT_SELF): the thread copies
 * its own registers and stack top in the sampling signal's handler and
 * runs on.  The snapshot names the coroutine it ran at that moment: if it
 * is no longer CO (CO switched out first), CO's register block is valid
 * again, or CO runs on another thread now (M:N), which is asked next.  A
 * busy coroutine that yields every 100 us or so moves between an M:N
 * runtime's threads about as fast as a snapshot answers (tens of us), so
 * it is asked up to SNAPSHOT_TRIES times before the dump says it moved. */
enum { SNAPSHOT_TRIES = 16 };

static size_t running_self(cc_capture *c, cc_unwinder *u, cc_coroutine *co,
                           uint64_t *pcs, size_t max, const char **why)
{
    cc_thread_snapshot *s = malloc(sizeof *s);
    char err[CC_ERRLEN];
    size_t n = 0;
    if (!s) {
        *why = "out of memory";
        return 0;
    }
    for (int tries = 0; tries < SNAPSHOT_TRIES; tries++) {
        if (cc_snapshot_thread((pid_t)co->tid, s, 100, err)) {
            *why = strstr(err, "did not answer") ?
                   "its thread did not answer the snapshot signal in 100 ms "
                   "(it blocks SIGPROF?)" :
                   "its thread could not be signalled";
            break;
        }
        if (s->co_id == co->id) {
            cc_unwinder_use_snapshot(u, s->sp, s->stack, s->len);
            n = cc_unwind(u, s->regno, s->val, s->nregs, 0, pcs, max, why);
            break;
        }
        if (cc_entry_reread(c->target->reader, c->table, co) != 1) {
            *why = "it exited during the capture";
            break;
        }
        if (!(co->state == CORODBG_RUNNING && co->tid)) {
            uint16_t regno[CC_MAX_REGS];
            uint64_t val[CC_MAX_REGS];
            size_t nr = cc_regs_of(c->table, co, regno, val, CC_MAX_REGS);
            n = nr ? cc_unwind(u, regno, val, nr, (co->has & CC_HAS_STACK) ?
                               co->stack_hi : 0, pcs, max, why) : 0;
            break;
        }
        *why = "it moved between threads during the capture";
    }
    free(s);
    return n;
}

/* A core's thread that runs no coroutine: its own stack, from its
 * NT_PRSTATUS registers, whole (no coroutine start to end at). */
static void core_thread(cc_capture *c, cc_unwinder *u, cc_os_thread *th,
                        uint64_t *pcs, size_t max)
{
    uint16_t regno[CC_MAX_THREAD_REGS];
    uint64_t val[CC_MAX_THREAD_REGS];
    if (th->co != SIZE_MAX)
        return;
    size_t nr = cc_core_thread_regs(c->target, th->tid, regno, val);
    const char *why = NULL;
    size_t k = nr ? cc_unwind(u, regno, val, nr, 0, pcs, max, &why) : 0;
    th->stack.error = why;
    if (k && c->sym)
        cc_symbolize_stack(c->sym, pcs, k, 1, &th->stack);
}

/* Was CO unwound from its thread's registers (frame 0 an exact pc)?
 * model.on_thread's tid rule for the states that execute: running, and
 * panicked or crashed there (still on the thread's stack; their register
 * blocks are where they last parked). */
int cc_on_thread(const cc_coroutine *co)
{
    return co->tid && (co->state == CORODBG_RUNNING ||
                       co->state == CORODBG_PANICKED ||
                       co->state == CORODBG_CRASHED);
}

/* Is CO unwound from its register block (the parked path below)? */
static int parked(const cc_coroutine *co)
{
    return !cc_on_thread(co) && co->unreadable != CC_BAD_STACK;
}

/* Read the stack tops of the parked coroutines from FIRST on, up to
 * CC_PREFETCH of them, in one batch.  Returns the index after the batch. */
static size_t prefetch(cc_capture *c, cc_unwinder *u, size_t first)
{
    uint64_t sp[CC_PREFETCH], hi[CC_PREFETCH];
    uint16_t regno[CC_MAX_REGS];
    uint64_t val[CC_MAX_REGS];
    size_t m = 0, i = first;
    for (; i < c->table->ncos && m < CC_PREFETCH; i++) {
        const cc_coroutine *co = &c->table->cos[i];
        size_t nr = parked(co) ? cc_regs_of(c->table, co, regno, val,
                                            CC_MAX_REGS) : 0;
        if (!nr)
            continue;
        sp[m] = 0;
        for (size_t r = 0; r < nr; r++)
            if (regno[r] == 7 || regno[r] == 31)
                sp[m] = val[r];
        hi[m++] = (co->has & CC_HAS_STACK) ? co->stack_hi : 0;
    }
    cc_unwinder_prefetch(u, sp, hi, m);
    return i;
}

/* Coroutines parked at the same place share one raw stack and one
 * symbolized copy of it: 100,000 coroutines are often a few dozen
 * distinct stacks, and one copy each saves most of the memory a dump
 * touches (every fresh page is a page fault).  An open-addressing set of
 * coroutine indexes, keyed by (unwound pcs, leaf, start function): the
 * frames `bt` shows are cut from those alone (cc_frames_shown), once per
 * distinct stack.  FULL[i]: how many pcs coroutine I's unwind gave (its
 * raw array holds them all, nraw only the shown ones). */
struct stack_set { size_t *slot, cap, *full; };

static uint64_t stack_hash(const uint64_t *pcs, size_t n, int leaf)
{
    uint64_t h = 0x9e3779b97f4a7c15ull * (n * 2 + (unsigned)leaf + 1);
    for (size_t i = 0; i < n; i++)
        h = (h ^ pcs[i]) * 0xff51afd7ed558ccdull;
    return h ^ (h >> 29);
}

/* The earlier coroutine with the same stack as coroutine I's N PCS, or
 * record I as the first with it.  Returns its index, or I when I is the
 * first. */
static size_t stack_share(struct stack_set *s, const cc_capture *c,
                          size_t i, const uint64_t *pcs, size_t n)
{
    if (!s->slot)
        return i;
    const cc_coroutine *co = &c->table->cos[i];
    int leaf = cc_on_thread(co);
    size_t h = (size_t)stack_hash(pcs, n, leaf) & (s->cap - 1);
    for (;; h = (h + 1) & (s->cap - 1)) {
        size_t j = s->slot[h];
        if (j == SIZE_MAX) {
            s->slot[h] = i;
            s->full[i] = n;
            return i;
        }
        const cc_coroutine *cj = &c->table->cos[j];
        if (c->raw[j] && s->full[j] == n &&
            cc_on_thread(cj) == leaf &&
            cj->entry_fn == co->entry_fn &&
            !memcmp(c->raw[j], pcs, n * sizeof *pcs))
            return j;
    }
}

static uint64_t cpu_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static uint64_t now_ns(const cc_target *t, const cc_table *tb)
{
    return t->is_core ? tb->clock_ns : mono_ns();
}

cc_capture *cc_capture_take(cc_target *t, cc_symbolizer *sym, unsigned flags,
                            size_t max_depth, char *err)
{
    if (!t->table_addr) {
        snprintf(err, CC_ERRLEN, "no coroutine table in %s %s (symbol "
                 "corodbg_table and section .corodbg not found in any "
                 "module: is it linked with libcorodbg?)",
                 t->is_core ? "core" : "process",
                 t->is_core ? t->core_path : "");
        if (!t->is_core) {
            snprintf(err, CC_ERRLEN, "no coroutine table in process %d "
                     "(symbol corodbg_table and section .corodbg not found "
                     "in any module: is it linked with libcorodbg?)",
                     (int)t->pid);
        }
        return NULL;
    }
    cc_capture *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, CC_ERRLEN, "out of memory");
        return NULL;
    }
    c->target = t;
    c->sym = sym;
    errno = 0;
    uint64_t wall0 = mono_ns(), cpu0 = cpu_ns();
    c->table = cc_table_read(t->reader, t->table_addr, err);
    if (!c->table) {
        int e = errno;
        if (!t->is_core && (e == EPERM || e == EACCES || e == ESRCH))
            cc_explain_read_error(t->pid, e, err);
        free(c);
        return NULL;
    }
    c->now_ns = now_ns(t, c->table);
    cc_capture_threads(c);  /* after the table: a thread gone since counts */
    c->table_ns = mono_ns() - wall0;
    c->table_cpu_ns = cpu_ns() - cpu0;
    wall0 = mono_ns();
    cpu0 = cpu_ns();
    size_t n = c->table->ncos;
    c->stacks = calloc(n ? n : 1, sizeof *c->stacks);
    c->raw = calloc(n ? n : 1, sizeof *c->raw);
    c->nraw = calloc(n ? n : 1, sizeof *c->nraw);
    if (!c->stacks || !c->raw || !c->nraw) {
        cc_capture_free(c);
        snprintf(err, CC_ERRLEN, "out of memory");
        return NULL;
    }
    if (!(flags & CC_WITH_STACKS) || !n)
        return c;
    char uerr[CC_ERRLEN];
    cc_unwinder *u = cc_unwinder_new(t, c->table, uerr);
    if (!u) {
        cc_capture_note(c, "no stacks: %s", uerr);
        return c;
    }
    uint64_t *pcs = malloc(max_depth * sizeof *pcs);
    struct stack_set set = {NULL, 16, malloc(n * sizeof *set.full)};
    while (set.cap < 2 * n)
        set.cap *= 2;
    if (set.full)                                   /* NULL: no sharing */
        set.slot = malloc(set.cap * sizeof *set.slot);
    if (set.slot)
        memset(set.slot, 0xff, set.cap * sizeof *set.slot);
    uint16_t regno[CC_MAX_REGS];
    uint64_t val[CC_MAX_REGS];
    size_t batch_end = 0;
    for (size_t i = 0; pcs && i < n; i++) {
        cc_coroutine *co = &c->table->cos[i];
        const char *why = NULL;
        size_t k = 0;
        if (i == batch_end)
            batch_end = prefetch(c, u, i);
        if (co->unreadable == CC_UNKNOWN_THREAD) {
            why = co->note;
        } else if (cc_on_thread(co)) {
            if ((flags & CC_SNAPSHOT_SELF) && !t->is_core &&
                t->pid == getpid())
                k = running_self(c, u, co, pcs, max_depth, &why);
            else if (flags & CC_STOP_RUNNING)
                k = running(c, u, co, pcs, max_depth, &why);
            else
                why = "on its thread: not stopped (--no-stop)";
        } else if (co->unreadable == CC_BAD_STACK) {
            why = co->note;
        } else {
            size_t nr = cc_regs_of(c->table, co, regno, val, CC_MAX_REGS);
            if (nr)
                k = cc_unwind(u, regno, val, nr,
                              (co->has & CC_HAS_STACK) ? co->stack_hi : 0,
                              pcs, max_depth, &why);
        }
        if (t->reader->gone || (k < 2 && gone(t))) {
            c->partial = 1;
            cc_capture_note(c, "process %d exited during the capture: "
                            "stacks of %zu of %zu coroutines are missing",
                            (int)t->pid, n - i, n);
            break;
        }
        c->stacks[i].error = why;
        if (!k)
            continue;
        size_t j = stack_share(&set, c, i, pcs, k);
        if (j != i) {
            c->raw[i] = c->raw[j];
            c->nraw[i] = c->nraw[j];
            c->stacks[i].f = c->stacks[j].f;
            c->stacks[i].n = c->stacks[j].n;
            c->stacks[i].shared = 1;
            continue;
        }
        c->unique_stacks++;
        c->raw[i] = malloc(k * sizeof **c->raw);
        if (!c->raw[i])
            continue;
        memcpy(c->raw[i], pcs, k * sizeof *pcs);
        /* what `bt` shows: a parked coroutine's stack ends at its start
         * (not the trampoline and junk below); one on its thread is the
         * thread's whole stack (`coroutine N` selects the thread) */
        if (!cc_on_thread(co))
            k = cc_frames_shown(c->table->runtime, sym, u, t->reader,
                                (co->has & CC_HAS_ENTRY_FN) ? co->entry_fn
                                                           : 0,
                                pcs, k, 0);
        c->nraw[i] = k;
        if (sym && k)
            cc_symbolize_stack(sym, pcs, k, cc_on_thread(co), &c->stacks[i]);
    }
    for (size_t k = 0; pcs && t->is_core && k < c->nthreads; k++)
        core_thread(c, u, &c->threads[k], pcs, max_depth);
    free(pcs);
    free(set.slot);
    free(set.full);
    cc_unwinder_free(u);
    c->stacks_ns = mono_ns() - wall0;
    c->stacks_cpu_ns = cpu_ns() - cpu0;
    return c;
}

void cc_capture_free(cc_capture *c)
{
    if (!c)
        return;
    size_t n = c->table ? c->table->ncos : 0;
    for (size_t i = 0; i < n; i++) {
        if (c->raw && !(c->stacks && c->stacks[i].shared))
            free(c->raw[i]);
        if (c->stacks)
            cc_stack_clear(&c->stacks[i]);
    }
    for (size_t i = 0; i < c->nthreads; i++)
        cc_stack_clear(&c->threads[i].stack);
    free(c->threads);
    free(c->stacks);
    free(c->raw);
    free(c->nraw);
    for (size_t i = 0; i < c->nnotes; i++)
        free(c->notes[i]);
    free(c->notes);
    cc_table_free(c->table);
    free(c);
}
