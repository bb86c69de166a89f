/*
 * sample_sig.c -- the signal that samples this process's threads from
 * inside (cc_profile_self), and the ring its handler fills.
 *
 * The signal is SIGPROF.  It is the one POSIX sets aside for profiling,
 * so code that must survive a profiler (glibc, and any library profiled
 * with gperftools or setitimer) already expects it; its default action
 * and its non-queuing are no drawback here (a per-thread timer has one
 * preallocated signal; an expiry while it is pending is an overrun, not
 * a lost queue entry).  A real-time signal would be a guess: no number
 * above SIGRTMIN is reserved for anyone, and a library that takes the
 * same one after us would receive our timers' signals.  Either way the
 * program may use the signal itself: ours carry si_code SI_TIMER (or
 * SI_QUEUE) and a cookie in si_value, and everything else is passed on to
 * the disposition the program had, as the kernel would have delivered it.
 *
 * The handler is async-signal-safe: no lock, no allocation.  It copies
 * the interrupted registers from the ucontext and the stack top into a
 * free slot of a static ring (claimed with a compare-and-swap; a full
 * ring drops the sample and counts it).  The copy never faults: it goes
 * through the kernel (process_vm_readv on ourselves, else pread of
 * /proc/self/mem), which stops at the first unmapped page, and it is
 * bounded by the running coroutine's stack_hi (corodbg_current())
 * when the sp is on that coroutine's stack.  A thread's own stack needs
 * no precomputed bound: the kernel's copy ends where its mapping does.
 * Where a seccomp filter forbids both, only a running coroutine's stack
 * is copied (memcpy within [sp, stack_hi), mapped while it runs); other
 * samples keep their registers, and the unwinder reads their stack later
 * through the fault-free reader.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include <corodbg.h>

#include "sample_sig.h"

/* Weak: the `corodbg` tool links libcorocap without libcorodbg and never
 * samples itself; a program with a coroutine table has it (transition.c,
 * the object of every runtime's switch).  It only reads initial-exec
 * TLS (corodbg__thread.current): async-signal-safe. */
#pragma weak corodbg_current

#define SIG SIGPROF
enum { FREE = 0, WRITING = 1, READY = 2 };
enum { COPY_VM_READV, COPY_PROC_MEM, COPY_CORO_ONLY };

static struct cc_sample ring[CC_RING_SLOTS];
static unsigned ring_next;              /* atomic: the next slot to try */
static uint64_t dropped;                /* atomic */
static int enabled;                     /* atomic */
static struct sigaction prev;           /* the program's disposition */
static uint8_t cookie[2];               /* [0]: a timer's, [1]: a snapshot's */
static int copy_mode, mem_fd = -1;
static pid_t self_pid;

static pthread_mutex_t users_lock = PTHREAD_MUTEX_INITIALIZER;
static int users;                       /* profiles and snapshots now */
static int profiling;                   /* atomic: a profile runs */
static pthread_once_t fork_once = PTHREAD_ONCE_INIT;

/* The snapshot being asked for (one at a time: snap_lock). */
enum { IDLE = 0, ASKED = 1 };           /* then WRITING, READY */
static pthread_mutex_t snap_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cc_sample snap;           /* state, tid: the one asked */

void *cc_sig_cookie(void)
{
    return &cookie[0];
}

/* 0: not ours, 1: a timer's sample, 2: a snapshot asked for */
static int ours(const siginfo_t *si)
{
    if (si->si_code != SI_TIMER && si->si_code != SI_QUEUE)
        return 0;
    return si->si_value.sival_ptr == (void *)&cookie[0] ? 1 :
           si->si_value.sival_ptr == (void *)&cookie[1] ? 2 : 0;
}

/* The copy of [sp, sp+len): the kernel checks every page. */
static size_t copy_stack(uint8_t *dst, uint64_t sp, size_t len, int on_co)
{
    ssize_t n = 0;
    if (copy_mode == COPY_VM_READV) {
        struct iovec l = {dst, len}, r = {(void *)(uintptr_t)sp, len};
        n = syscall(SYS_process_vm_readv, self_pid, &l, 1UL, &r, 1UL, 0UL);
    } else if (copy_mode == COPY_PROC_MEM) {
        n = pread(mem_fd, dst, len, (off_t)sp);
    } else if (on_co) {
        memcpy(dst, (const void *)(uintptr_t)sp, len);
        n = (ssize_t)len;
    }
    return n > 0 ? (size_t)n : 0;
}

/* Registers, coroutine and stack top of this thread (TID) into S. */
static void take_into(struct cc_sample *s, pid_t tid, void *uctx)
{
#if defined(__x86_64__)
    const greg_t *g = ((const ucontext_t *)uctx)->uc_mcontext.gregs;
    /* DWARF order: rax rdx rcx rbx rsi rdi rbp rsp r8..r15 rip */
    static const int from[CC_SAMPLE_NREGS] = {
        REG_RAX, REG_RDX, REG_RCX, REG_RBX, REG_RSI, REG_RDI, REG_RBP,
        REG_RSP, REG_R8, REG_R9, REG_R10, REG_R11, REG_R12, REG_R13,
        REG_R14, REG_R15, REG_RIP};
    for (int i = 0; i < CC_SAMPLE_NREGS; i++)
        s->regs[i] = (uint64_t)g[from[i]];
#else
    (void)uctx;
#endif
    s->tid = tid;
    uint64_t sp = s->regs[7], hi = 0;
    int on_co = 0;
    const corodbg_co *co = corodbg_current ? corodbg_current() : NULL;
    s->co_id = 0;
    /* the coroutine whose stack the thread is on; mid-switch (current
     * already the next one, sp still the scheduler's) it is none, as for
     * `corodbg profile`, which goes by the sp */
    if (co) {
        uint64_t lo = co->stack_lo, top = co->stack_hi;
        if (!top || (sp >= lo && sp < top)) {
            s->co_id = co->id;
            memcpy(s->co_name, co->name, sizeof s->co_name);
            hi = top;
            on_co = top != 0;
        }
    }
    size_t len = CC_CPU_STACK_COPY;
    if (hi && hi - sp < len)
        len = (size_t)(hi - sp);
    s->len = (uint32_t)copy_stack(s->stack, sp, len, on_co);
}

static void take_sample(pid_t tid, void *uctx)
{
    unsigned first = __atomic_fetch_add(&ring_next, 1, __ATOMIC_RELAXED);
    struct cc_sample *s = NULL;
    for (unsigned k = 0; k < 4 && !s; k++) {
        struct cc_sample *c = &ring[(first + k) % CC_RING_SLOTS];
        int expect = FREE;
        if (__atomic_compare_exchange_n(&c->state, &expect, WRITING, 0,
                                        __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
            s = c;
    }
    if (!s) {
        __atomic_fetch_add(&dropped, 1, __ATOMIC_RELAXED);
        return;
    }
    take_into(s, tid, uctx);
    __atomic_store_n(&s->state, READY, __ATOMIC_RELEASE);
}

/* A snapshot is taken only for the thread it was asked of and only while
 * asked: a signal that arrives after its asker gave up finds IDLE. */
static void take_snapshot(pid_t tid, void *uctx)
{
    int expect = ASKED;
    if (__atomic_load_n(&snap.tid, __ATOMIC_ACQUIRE) != tid ||
        !__atomic_compare_exchange_n(&snap.state, &expect, WRITING, 0,
                                     __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
        return;
    take_into(&snap, tid, uctx);
    __atomic_store_n(&snap.state, READY, __ATOMIC_RELEASE);
}

/* Give the signal back to the kernel with the program's disposition in
 * place (SIG_DFL: SIGPROF then ends the process, as it would have): it
 * is re-sent to this thread, blocked until we return. */
static void hand_back(int sig, siginfo_t *si)
{
    sigaction(sig, &prev, NULL);
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, sig);
    pthread_sigmask(SIG_BLOCK, &one, NULL);
    if (syscall(SYS_rt_tgsigqueueinfo, self_pid, (pid_t)syscall(SYS_gettid),
                sig, si) != 0)
        raise(sig);
}

/* A signal that is not ours, delivered as the kernel would have without
 * us: our handler runs on the same stack (SA_ONSTACK copied) and with the
 * same sa_mask as the program's, so only SA_NODEFER and SA_RESETHAND are
 * left to do here. */
static void chain(int sig, siginfo_t *si, void *uctx)
{
    struct sigaction p = prev;
    if (p.sa_handler == SIG_IGN)
        return;
    if (p.sa_handler == SIG_DFL) {
        hand_back(sig, si);
        return;
    }
    if (p.sa_flags & SA_NODEFER) {
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, sig);
        pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    }
    if (p.sa_flags & SA_RESETHAND) {
        /* the kernel would put SIG_DFL in place: we keep our handler
         * (SIG_DFL would end the process at our next sample) and
         * remember SIG_DFL as the program's, restored at the end */
        prev.sa_handler = SIG_DFL;
        prev.sa_flags &= ~(SA_SIGINFO | SA_RESETHAND);
    }
    if (p.sa_flags & SA_SIGINFO)
        p.sa_sigaction(sig, si, uctx);
    else
        p.sa_handler(sig);
}

static void on_signal(int sig, siginfo_t *si, void *uctx)
{
    int kind = ours(si);
    if (!kind) {
        chain(sig, si, uctx);
        return;
    }
    if (kind == 1 && !__atomic_load_n(&enabled, __ATOMIC_ACQUIRE))
        return;                 /* late, after the profile: dropped */
    int saved = errno;
    pid_t tid = (pid_t)syscall(SYS_gettid);
    if (kind == 1)
        take_sample(tid, uctx);
    else
        take_snapshot(tid, uctx);
    errno = saved;
}

/* Which kernel copy works here (a seccomp filter may refuse one). */
static void pick_copy_mode(void)
{
    uint64_t probe = 0x5a5a5a5a, got = 0;
    struct iovec l = {&got, 8}, r = {&probe, 8};
    copy_mode = COPY_VM_READV;
    if (process_vm_readv(self_pid, &l, 1, &r, 1, 0) == 8 && got == probe)
        return;
    if (mem_fd < 0)
        mem_fd = open("/proc/self/mem", O_RDONLY | O_CLOEXEC);
    copy_mode = COPY_PROC_MEM;
    if (mem_fd >= 0 && pread(mem_fd, &got, 8, (off_t)(uintptr_t)&probe) == 8)
        return;
    copy_mode = COPY_CORO_ONLY;
}

static int install(char *err)
{
    self_pid = getpid();
    pick_copy_mode();
    struct sigaction cur, sa;
    if (sigaction(SIG, NULL, &cur)) {
        snprintf(err, CC_ERRLEN, "sigaction(SIGPROF): %s", strerror(errno));
        return -1;
    }
    /* still in place from a profile whose signal stayed pending: the
     * program's disposition is the one kept then */
    if (!((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_signal))
        prev = cur;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_signal;
    sa.sa_mask = prev.sa_mask;
    /* SA_RESTART: a sample must not make a read() fail with EINTR */
    sa.sa_flags = SA_SIGINFO | SA_RESTART | (prev.sa_flags & SA_ONSTACK);
    if (sigaction(SIG, &sa, NULL)) {
        snprintf(err, CC_ERRLEN, "sigaction(SIGPROF): %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* A child forked mid-profile has none of the parent's timers or threads:
 * it starts idle (not "busy" forever), with its own pid for the copies
 * (install() reads it again), and our handler, still in place, dropping
 * any late sample and chaining the rest as before. */
static void after_fork_child(void)
{
    pthread_mutex_init(&users_lock, NULL);
    pthread_mutex_init(&snap_lock, NULL);
    users = 0;
    profiling = 0;
    enabled = 0;
    snap.state = IDLE;
    for (int i = 0; i < CC_RING_SLOTS; i++)
        ring[i].state = FREE;
}

static void at_fork(void)
{
    pthread_atfork(NULL, NULL, after_fork_child);
}

int cc_sig_profile_begin(void)
{
    int expect = 0;
    pthread_once(&fork_once, at_fork);
    return __atomic_compare_exchange_n(&profiling, &expect, 1, 0,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)
               ? 0 : -1;
}

void cc_sig_profile_end(void)
{
    __atomic_store_n(&profiling, 0, __ATOMIC_RELEASE);
}

int cc_sig_install(char *err)
{
    pthread_once(&fork_once, at_fork);
#if !defined(__x86_64__)
    snprintf(err, CC_ERRLEN, "in-process sampling is only implemented "
             "for x86-64");
    return -1;
#endif
    int rc = 0;
    pthread_mutex_lock(&users_lock);
    if (!users)
        rc = install(err);
    if (!rc)
        users++;
    pthread_mutex_unlock(&users_lock);
    return rc;
}

void cc_sig_enable(int on)
{
    /* a new profile starts from an empty ring (a sample that came
     * after the last drain of the previous one is not this one's) */
    for (int i = 0; on && i < CC_RING_SLOTS; i++) {
        int expect = READY;
        __atomic_compare_exchange_n(&ring[i].state, &expect, FREE, 0,
                                    __ATOMIC_ACQ_REL, __ATOMIC_RELAXED);
    }
    __atomic_store_n(&enabled, on, __ATOMIC_RELEASE);
}

/* Does any thread have SIGPROF pending (SigPnd in its status file)? */
static int pending_anywhere(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return 0;
    struct dirent *de;
    int found = 0;
    while (!found && (de = readdir(d))) {
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        char path[300], line[256];
        snprintf(path, sizeof path, "/proc/self/task/%s/status", de->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        while (fgets(line, sizeof line, f)) {
            unsigned long long mask;
            if (sscanf(line, "SigPnd: %llx", &mask) == 1) {
                found = (mask >> (SIG - 1)) & 1;
                break;
            }
        }
        fclose(f);
    }
    closedir(d);
    return found;
}

int cc_sig_restore(void)
{
    /* a timer deleted with its signal pending still delivers it: let the
     * running threads take theirs before the program's SIG_DFL (which
     * would end the process) is back */
    int pending = 1;
    for (int i = 0; i < 100 && (pending = pending_anywhere()); i++) {
        struct timespec ms = {0, 1000000};
        nanosleep(&ms, NULL);
    }
    pthread_mutex_lock(&users_lock);
    if (--users == 0 && !pending) {
        struct sigaction cur;
        if (!sigaction(SIG, NULL, &cur) && (cur.sa_flags & SA_SIGINFO) &&
            cur.sa_sigaction == on_signal)
            sigaction(SIG, &prev, NULL);
        /* else the program installed its own handler meanwhile: it stays */
    }
    pthread_mutex_unlock(&users_lock);
    return pending;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int cc_sig_snapshot(pid_t tid, unsigned timeout_ms, struct cc_sample *out,
                    char *err)
{
    if (cc_sig_install(err))
        return -1;
    pthread_mutex_lock(&snap_lock);
    __atomic_store_n(&snap.tid, tid, __ATOMIC_RELEASE);
    __atomic_store_n(&snap.state, ASKED, __ATOMIC_RELEASE);
    siginfo_t si;
    memset(&si, 0, sizeof si);
    si.si_signo = SIG;
    si.si_code = SI_QUEUE;
    si.si_pid = self_pid;
    si.si_uid = getuid();
    si.si_value.sival_ptr = &cookie[1];
    int rc = -1;
    if (syscall(SYS_rt_tgsigqueueinfo, self_pid, tid, SIG, &si)) {
        snprintf(err, CC_ERRLEN, "cannot signal thread %d: %s", (int)tid,
                 strerror(errno));
        __atomic_store_n(&snap.state, IDLE, __ATOMIC_RELEASE);
        goto out;
    }
    /* the handler takes microseconds once the thread runs; a thread that
     * blocks SIGPROF never answers, and we do not wait for it */
    uint64_t end = mono_ns() + (uint64_t)timeout_ms * 1000000u;
    for (;;) {
        int st = __atomic_load_n(&snap.state, __ATOMIC_ACQUIRE);
        if (st == READY)
            break;
        int expect = ASKED;
        if (mono_ns() >= end &&
            __atomic_compare_exchange_n(&snap.state, &expect, IDLE, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
            snprintf(err, CC_ERRLEN, "thread %d did not answer in %u ms "
                     "(it blocks SIGPROF, or is not scheduled)", (int)tid,
                     timeout_ms);
            goto out;
        }
        struct timespec ts = {0, 50000};
        nanosleep(&ts, NULL);
    }
    memcpy(out, &snap, sizeof snap);
    __atomic_store_n(&snap.state, IDLE, __ATOMIC_RELEASE);
    rc = 0;
out:
    pthread_mutex_unlock(&snap_lock);
    cc_sig_restore();
    return rc;
}

struct cc_sample *cc_sig_next(unsigned *cursor)
{
    for (; *cursor < CC_RING_SLOTS; (*cursor)++)
        if (__atomic_load_n(&ring[*cursor].state, __ATOMIC_ACQUIRE) == READY)
            return &ring[(*cursor)++];
    return NULL;
}

void cc_sig_done(struct cc_sample *s)
{
    __atomic_store_n(&s->state, FREE, __ATOMIC_RELEASE);
}

uint64_t cc_sig_dropped(void)
{
    return __atomic_load_n(&dropped, __ATOMIC_RELAXED);
}
