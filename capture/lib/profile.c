/*
 * profile.c -- `corodbg profile`: a CPU profile of a live process, each
 * sample labelled with the coroutine running on that thread.
 *
 * Method: perf_event_open on each of the target's threads, the software
 * clock PERF_COUNT_SW_TASK_CLOCK (the thread's CPU time, like Go's
 * SIGPROF profile) every 1/HZ s, user space only, each sample carrying
 * the user registers and a 16 KiB copy of the stack top.  The kernel takes
 * the sample in the thread's own context: no thread is ever stopped and
 * the program sees no signal (the alternative, short ptrace interrupts as
 * py-spy does, stops every thread at every sample).  Samples are unwound
 * afterwards by the shared unwinder over the copied stack.  The coroutine
 * is the one whose stack holds the sample's sp (stacks from the table,
 * re-read every second); a thread on its own stack runs no coroutine and
 * is labelled "(none)".  `kernel.perf_event_paranoid` 2 allows this for
 * the user's own processes.
 */
#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <corodbg.h>

#include "corocap.h"
#include "cpu_prof.h"

#define MAX_THREADS 256
#define RING_PAGES 64           /* data pages per thread (power of two) */

/* x86-64 perf register numbers -> DWARF: the pc, sp, fp and callee-saved
 * registers the unwinder needs (arch/x86/include/uapi/asm/perf_regs.h) */
static const struct { int perf, dwarf; } regmap[] = {
    {1, 3}, {6, 6}, {7, 7}, {8, 16}, {20, 12}, {21, 13}, {22, 14}, {23, 15}};
#define NREGMAP (sizeof regmap / sizeof *regmap)

struct ring {
    int fd;
    pid_t tid;
    struct perf_event_mmap_page *meta;
    uint8_t *data;
    size_t size;
};

struct coro_stack { uint64_t lo, hi, id; char name[CC_NAME_LEN]; };

struct prof {
    cc_target *t;
    cc_cpu_prof *cp;            /* unwinding, counting, writing */
    struct coro_stack *cs;
    size_t ncs;
    uint64_t period_ns;
    size_t lost;
};

static int cmp_cs(const void *a, const void *b)
{
    const struct coro_stack *x = a, *y = b;
    return x->lo < y->lo ? -1 : x->lo > y->lo;
}

/* The coroutines' stacks, sorted, for the sp -> coroutine lookup. */
static void read_stacks(struct prof *p)
{
    char err[CC_ERRLEN];
    cc_table *tb = cc_table_read(p->t->reader, p->t->table_addr, err);
    if (!tb)
        return;
    struct coro_stack *cs = malloc((tb->ncos ? tb->ncos : 1) * sizeof *cs);
    if (!cs) {
        cc_table_free(tb);
        return;
    }
    size_t n = 0;
    for (size_t i = 0; i < tb->ncos; i++) {
        const cc_coroutine *co = &tb->cos[i];
        if (!(co->has & CC_HAS_STACK) || co->stack_lo >= co->stack_hi)
            continue;
        cs[n].lo = co->stack_lo;
        cs[n].hi = co->stack_hi;
        cs[n].id = co->id;
        snprintf(cs[n].name, sizeof cs[n].name, "%s", co->name);
        n++;
    }
    qsort(cs, n, sizeof *cs, cmp_cs);
    free(p->cs);
    p->cs = cs;
    p->ncs = n;
    cc_table_free(tb);
}

static const struct coro_stack *coroutine_at(const struct prof *p, uint64_t sp)
{
    size_t lo = 0, hi = p->ncs;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (p->cs[mid].lo <= sp)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo && sp < p->cs[lo - 1].hi)
        return &p->cs[lo - 1];
    return NULL;
}

/* One PERF_RECORD_SAMPLE: ip, pid/tid, time, period, regs, stack. */
static void sample(struct prof *p, const uint8_t *rec, size_t len)
{
    const uint8_t *q = rec + sizeof(struct perf_event_header);
    const uint8_t *end = rec + len;
    uint64_t ip, abi, regs[NREGMAP], size;
    if (q + 8 * 4 > end)
        return;
    memcpy(&ip, q, 8);
    q += 8 + 8 + 8 + 8;        /* ip, pid/tid, time, period */
    memcpy(&abi, q, 8);
    q += 8;
    if (abi == PERF_SAMPLE_REGS_ABI_NONE)
        return;                /* a kernel thread or no user context */
    if (q + 8 * NREGMAP + 8 > end)
        return;
    /* the registers come in bit order of the mask */
    for (size_t i = 0; i < NREGMAP; i++)
        memcpy(&regs[i], q + 8 * i, 8);
    q += 8 * NREGMAP;
    memcpy(&size, q, 8);
    q += 8;
    const uint8_t *stack = q;
    uint64_t dyn = 0;
    if (size && q + size + 8 <= end)
        memcpy(&dyn, q + size, 8);
    if (dyn > size)
        dyn = 0;
    uint16_t regno[NREGMAP];
    uint64_t val[NREGMAP], sp = 0;
    /* regmap is in perf-bit order already: 1, 6, 7, 8, 20..23 */
    for (size_t i = 0; i < NREGMAP; i++) {
        regno[i] = (uint16_t)regmap[i].dwarf;
        val[i] = regs[i];
        if (regmap[i].dwarf == 7)
            sp = regs[i];
    }
    const struct coro_stack *co = coroutine_at(p, sp);
    cc_cpu_prof_sample(p->cp, regno, val, NREGMAP, ip, sp, stack,
                       dyn >= 64 ? dyn : 0, co ? co->id : 0,
                       co ? co->name : NULL);
}

static void drain(struct prof *p, struct ring *r)
{
    uint64_t head = __atomic_load_n(&r->meta->data_head, __ATOMIC_ACQUIRE);
    uint64_t tail = r->meta->data_tail;
    static uint8_t rec[65536];   /* a record is at most 64 KiB */
    while (tail < head) {
        struct perf_event_header h;
        size_t off = tail % r->size;
        for (size_t i = 0; i < sizeof h; i++)
            ((uint8_t *)&h)[i] = r->data[(off + i) % r->size];
        if (h.size < sizeof h)
            break;
        for (size_t i = 0; i < h.size; i++)   /* may wrap around */
            rec[i] = r->data[(off + i) % r->size];
        if (h.type == PERF_RECORD_SAMPLE)
            sample(p, rec, h.size);
        else if (h.type == PERF_RECORD_LOST)
            p->lost++;
        tail += h.size;
    }
    __atomic_store_n(&r->meta->data_tail, tail, __ATOMIC_RELEASE);
}

static int open_ring(struct ring *r, pid_t tid, uint64_t period_ns)
{
    struct perf_event_attr a;
    memset(&a, 0, sizeof a);
    a.size = sizeof a;
    a.type = PERF_TYPE_SOFTWARE;
    a.config = PERF_COUNT_SW_TASK_CLOCK;
    a.sample_period = period_ns;
    a.sample_type = PERF_SAMPLE_IP | PERF_SAMPLE_TID | PERF_SAMPLE_TIME |
                    PERF_SAMPLE_PERIOD | PERF_SAMPLE_REGS_USER |
                    PERF_SAMPLE_STACK_USER;
    for (size_t i = 0; i < NREGMAP; i++)
        a.sample_regs_user |= 1ull << regmap[i].perf;
    a.sample_stack_user = CC_CPU_STACK_COPY;
    a.exclude_kernel = 1;
    a.exclude_hv = 1;
    a.wakeup_events = 1;
    r->fd = (int)syscall(SYS_perf_event_open, &a, tid, -1, -1,
                         PERF_FLAG_FD_CLOEXEC);
    if (r->fd < 0)
        return -1;
    long page = sysconf(_SC_PAGESIZE);
    size_t len = (size_t)page * (RING_PAGES + 1);
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, r->fd, 0);
    if (m == MAP_FAILED) {
        close(r->fd);
        r->fd = -1;
        return -1;
    }
    r->meta = m;
    r->data = (uint8_t *)m + page;
    r->size = (size_t)page * RING_PAGES;
    r->tid = tid;
    return 0;
}

static uint64_t mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int cc_profile(cc_target *t, cc_symbolizer *sym, double seconds, unsigned hz,
               const char *out, FILE *log, char *err)
{
    struct ring rings[MAX_THREADS];
    size_t nr = 0;
    struct prof p;
    int rc = -1, partial = 0;
    memset(&p, 0, sizeof p);
    p.t = t;
    p.period_ns = 1000000000ull / hz;
    if (!t->table_addr) {
        snprintf(err, CC_ERRLEN, "no coroutine table in process %d (symbol "
                 "corodbg_table and section .corodbg not found in any "
                 "module: is it linked with libcorodbg?)", (int)t->pid);
        return -1;
    }
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/task", (int)t->pid);
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, CC_ERRLEN, "no process %d", (int)t->pid);
        return -1;
    }
    struct dirent *de;
    int first_errno = 0;
    while ((de = readdir(d)) && nr < MAX_THREADS) {
        pid_t tid = (pid_t)atoi(de->d_name);
        if (tid <= 0)
            continue;
        if (open_ring(&rings[nr], tid, p.period_ns)) {
            if (!first_errno)
                first_errno = errno;
            continue;
        }
        nr++;
    }
    closedir(d);
    if (!nr) {
        long paranoid = -1;
        FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "r");
        if (f) {
            if (fscanf(f, "%ld", &paranoid) != 1)
                paranoid = -1;
            fclose(f);
        }
        snprintf(err, CC_ERRLEN, "cannot sample process %d: "
                 "perf_event_open: %s (kernel.perf_event_paranoid is %ld; "
                 "profiling needs the process's own user, or "
                 "CAP_PERFMON, and a paranoid level of 2 or less)",
                 (int)t->pid, strerror(first_errno), paranoid);
        return -1;
    }
    p.cp = cc_cpu_prof_new(t, p.period_ns, err);
    if (!p.cp)
        goto out;
    read_stacks(&p);
    uint64_t start = mono(), deadline = start + (uint64_t)(seconds * 1e9),
             refresh = start + 1000000000u;
    struct pollfd pf[MAX_THREADS];
    for (size_t i = 0; i < nr; i++)
        pf[i] = (struct pollfd){rings[i].fd, POLLIN, 0};
    while (mono() < deadline) {
        poll(pf, nr, 50);
        for (size_t i = 0; i < nr; i++)
            drain(&p, &rings[i]);
        if (mono() >= refresh) {
            char path[64];
            snprintf(path, sizeof path, "/proc/%d", (int)t->pid);
            if (access(path, F_OK)) {
                partial = 1;
                break;
            }
            read_stacks(&p);
            refresh = mono() + 1000000000u;
        }
    }
    for (size_t i = 0; i < nr; i++)
        drain(&p, &rings[i]);
    uint64_t duration = mono() - start;
    rc = cc_cpu_prof_write(p.cp, sym, out, NULL, duration, err);
    if (!rc && log) {
        fprintf(log, "corodbg: %zu samples from %zu thread%s in %.1f s "
                "(%zu lost records)\n", cc_cpu_prof_samples(p.cp), nr,
                nr == 1 ? "" : "s",
                duration / 1e9, p.lost);
        if (partial)
            fprintf(log, "corodbg: process %d exited during the profile: "
                    "the samples until then are written\n", (int)t->pid);
    }
    if (!rc && partial)
        rc = 3;
out:
    for (size_t i = 0; i < nr; i++) {
        munmap(rings[i].meta, (size_t)sysconf(_SC_PAGESIZE) * (RING_PAGES + 1));
        close(rings[i].fd);
    }
    free(p.cs);
    cc_cpu_prof_free(p.cp);
    return rc;
}
