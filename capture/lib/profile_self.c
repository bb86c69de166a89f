/*
 * profile_self.c -- cc_profile_self: a CPU profile of this process, taken
 * from inside it (the in-process endpoint's /debug/pprof/profile), where
 * perf_event_open on another process is not an option.
 *
 * One POSIX timer per thread on that thread's CPU clock, delivering the
 * sampling signal to that thread (SIGEV_THREAD_ID) every 1/HZ s of its
 * CPU time; threads that appear meanwhile get one at the next look at
 * /proc/self/task (every 100 ms), and a vanished thread's timer is
 * deleted.  The handler (sample_sig.c) copies registers and stack top
 * into a ring; this thread, the caller's, drains it every 10 ms and
 * unwinds, labels and counts each copy (cpu_prof.c, shared with
 * `corodbg profile`).  The caller's own thread is not sampled: its CPU
 * time is the profiler's.
 *
 * cc_snapshot_thread: one running thread's registers and stack top, by
 * the same handler (for CC_SNAPSHOT_SELF dumps).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cc_int.h"
#include "cpu_prof.h"
#include "sample_sig.h"

#define MAX_TIMERS 1024
#define SCAN_NS 100000000ull
#define DRAIN_NS 10000000ull

struct th { pid_t tid; timer_t timer; int seen; };

struct self_prof {
    cc_cpu_prof *cp;
    uint64_t period_ns;
    pid_t me;
    struct th *th;
    size_t nth, sampled;        /* timers now, threads ever sampled */
    size_t no_timer;            /* threads whose timer failed */
};

static uint64_t mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A thread's CPU clock from its tid, as glibc's pthread_getcpuclockid
 * builds it for a pthread_t (the kernel's MAKE_THREAD_CPUCLOCK(tid,
 * CPUCLOCK_SCHED)): we know the tids, not the pthread_ts. */
static clockid_t thread_cpu_clock(pid_t tid)
{
    return (clockid_t)((~(unsigned)tid << 3) | 6);
}

static int start_timer(struct self_prof *p, pid_t tid, timer_t *out)
{
    struct sigevent ev;
    memset(&ev, 0, sizeof ev);
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGPROF;
    ev.sigev_value.sival_ptr = cc_sig_cookie();
    ev._sigev_un._tid = tid;
    if (timer_create(thread_cpu_clock(tid), &ev, out))
        return -1;
    struct itimerspec it;
    it.it_interval.tv_sec = (time_t)(p->period_ns / 1000000000u);
    it.it_interval.tv_nsec = (long)(p->period_ns % 1000000000u);
    it.it_value = it.it_interval;
    if (timer_settime(*out, 0, &it, NULL)) {
        timer_delete(*out);
        return -1;
    }
    return 0;
}

/* Timers for new threads, none for gone ones. */
static void scan_threads(struct self_prof *p)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return;
    for (size_t i = 0; i < p->nth; i++)
        p->th[i].seen = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        pid_t tid = (pid_t)atoi(de->d_name);
        if (tid <= 0 || tid == p->me)
            continue;
        size_t i = 0;
        while (i < p->nth && p->th[i].tid != tid)
            i++;
        if (i < p->nth) {
            p->th[i].seen = 1;
            continue;
        }
        if (p->nth == MAX_TIMERS || start_timer(p, tid, &p->th[i].timer)) {
            p->no_timer++;      /* gone already, or too many */
            continue;
        }
        p->th[i].tid = tid;
        p->th[i].seen = 1;
        p->nth++;
        p->sampled++;
    }
    closedir(d);
    for (size_t i = 0; i < p->nth;) {
        if (p->th[i].seen) {
            i++;
            continue;
        }
        /* its tid may come back as a new thread: that one gets a timer
         * on its own clock at the next scan */
        timer_delete(p->th[i].timer);
        p->th[i] = p->th[--p->nth];
    }
}

static void drain(struct self_prof *p)
{
    static const uint16_t regno[CC_SAMPLE_NREGS] = {
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    unsigned cursor = 0;
    struct cc_sample *s;
    char name[CC_NAME_LEN];
    while ((s = cc_sig_next(&cursor))) {
        /* the raw name, escaped as the decoder escapes the table's */
        cc_escape((const uint8_t *)s->co_name,
                  strnlen(s->co_name, sizeof s->co_name), name, sizeof name);
        cc_cpu_prof_sample(p->cp, regno, s->regs, CC_SAMPLE_NREGS,
                           s->regs[16], s->regs[7], s->stack, s->len,
                           s->co_id, name);
        cc_sig_done(s);
    }
}

int cc_snapshot_thread(pid_t tid, cc_thread_snapshot *out,
                       unsigned timeout_ms, char *err)
{
    static struct cc_sample s;  /* 16 KiB: not on the caller's stack */
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&lock);
    int rc = cc_sig_snapshot(tid, timeout_ms, &s, err);
    if (!rc) {
        for (int i = 0; i < CC_SAMPLE_NREGS; i++) {
            out->regno[i] = (uint16_t)i;
            out->val[i] = s.regs[i];
        }
        out->nregs = CC_SAMPLE_NREGS;
        out->sp = s.regs[7];
        out->co_id = s.co_id;
        out->len = s.len < sizeof out->stack ? s.len : sizeof out->stack;
        memcpy(out->stack, s.stack, out->len);
    }
    pthread_mutex_unlock(&lock);
    return rc;
}

static void sleep_ns(uint64_t ns)
{
    struct timespec ts = {(time_t)(ns / 1000000000u),
                          (long)(ns % 1000000000u)};
    nanosleep(&ts, NULL);
}

int cc_profile_self(cc_target *t, cc_symbolizer *sym, double seconds,
                    unsigned hz, FILE *out, volatile int *cancel, FILE *log,
                    char *err)
{
    if (!(seconds > 0 && seconds <= 3600)) {
        snprintf(err, CC_ERRLEN, "seconds must be more than 0 and at most "
                 "3600");
        return -1;
    }
    if (hz < 1 || hz > 10000) {
        snprintf(err, CC_ERRLEN, "hz must be from 1 to 10000");
        return -1;
    }
    if (!t->table_addr) {
        snprintf(err, CC_ERRLEN, "no coroutine table in this process "
                 "(symbol corodbg_table and section .corodbg not found in "
                 "any module: is it linked with libcorodbg?)");
        return -1;
    }
    if (cc_sig_profile_begin()) {
        snprintf(err, CC_ERRLEN, "busy");
        return -1;
    }
    struct self_prof p;
    memset(&p, 0, sizeof p);
    int rc = -1, cancelled = 0, kept = 0;
    p.period_ns = 1000000000ull / hz;
    p.me = (pid_t)syscall(SYS_gettid);
    p.th = calloc(MAX_TIMERS, sizeof *p.th);
    if (!p.th) {
        snprintf(err, CC_ERRLEN, "out of memory");
        goto out;
    }
    p.cp = cc_cpu_prof_new(t, p.period_ns, err);
    if (!p.cp || cc_sig_install(err))
        goto out;
    cc_sig_enable(1);
    uint64_t dropped0 = cc_sig_dropped();
    uint64_t start = mono(), deadline = start + (uint64_t)(seconds * 1e9),
             next_scan = start;
    for (;;) {
        uint64_t now = mono();
        if (cancel && *cancel) {
            cancelled = 1;
            break;
        }
        if (now >= next_scan) {
            scan_threads(&p);
            next_scan = now + SCAN_NS;
        }
        drain(&p);
        if (now >= deadline)
            break;
        sleep_ns(deadline - now < DRAIN_NS ? deadline - now : DRAIN_NS);
    }
    uint64_t duration = mono() - start;
    for (size_t i = 0; i < p.nth; i++)
        timer_delete(p.th[i].timer);
    p.nth = 0;
    kept = cc_sig_restore();
    drain(&p);
    rc = cc_cpu_prof_write(p.cp, sym, NULL, out, duration, err);
    if (!rc && log) {
        fprintf(log, "corodbg: %zu samples from %zu thread%s in %.1f s "
                "(%llu dropped)\n", cc_cpu_prof_samples(p.cp), p.sampled,
                p.sampled == 1 ? "" : "s", duration / 1e9,
                (unsigned long long)(cc_sig_dropped() - dropped0));
        if (cancelled)
            fprintf(log, "corodbg: cancelled: the samples until then are "
                    "written\n");
        if (kept)
            fprintf(log, "corodbg: a thread that blocks SIGPROF still has "
                    "a sample pending: the sampling handler stays "
                    "installed, passing the program's own signals on\n");
    }
    if (!rc && cancelled)
        rc = 3;
out:
    for (size_t i = 0; i < p.nth; i++)
        timer_delete(p.th[i].timer);
    cc_cpu_prof_free(p.cp);
    free(p.th);
    cc_sig_profile_end();
    return rc;
}
