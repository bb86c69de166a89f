/* batch.c - render a batch of CODE answers on several threads and emit
   them in input order without copying (see batch.h).

   Threads only read the module's index (the demangling memo in session.c
   takes its own lock), and each renders into a buffer of its own, so
   they share nothing else.  Output order is the input order, whatever
   the number of threads: the answers are the same bytes either way. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"

/* Below this many answers a batch is rendered on the calling thread:
   starting a thread costs about as much as rendering a few hundred. */
#define MIN_PER_THREAD 2048
#define MAX_THREADS 8

typedef struct worker {
    struct cs_batch *b;
    unsigned id;
    size_t from, to;          /* slice of job->order, or of answers */
    size_t at;                /* where the copied slice starts in obuf */
    cs_out side;              /* memory-only: the rendered answers */
    corosym_frame *fr;
    size_t nfr;
    pthread_t th;
} worker;

struct cs_batch {
    unsigned nthreads;
    worker w[MAX_THREADS];
    const cs_batch_job *job;
    uint64_t *loc;            /* per answer: offset << 8 | worker */
    uint32_t *len;
    size_t cap;
    char *obuf;               /* cs_batch_write_all's output */
    size_t ocap;
};

unsigned cs_batch_default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > MAX_THREADS ? MAX_THREADS : (unsigned)n;
}

cs_batch *cs_batch_new(unsigned threads)
{
    cs_batch *b = cs_xcalloc(1, sizeof *b);
    if (threads < 1)
        threads = 1;
    b->nthreads = threads > MAX_THREADS ? MAX_THREADS : threads;
    for (unsigned t = 0; t < MAX_THREADS; t++) {
        b->w[t].b = b;
        b->w[t].id = t;
        b->w[t].side.fd = -1;
    }
    return b;
}

void cs_batch_free(cs_batch *b)
{
    if (!b)
        return;
    for (unsigned t = 0; t < MAX_THREADS; t++) {
        free(b->w[t].side.buf);
        free(b->w[t].fr);
    }
    free(b->loc);
    free(b->len);
    free(b->obuf);
    free(b);
}

static void render_slice(worker *w)
{
    const cs_batch_job *j = w->b->job;
    cs_batch *b = w->b;
    w->side.n = 0;
    if (w->from >= w->to)
        return;
    /* One reservation for the slice (mapped lazily) instead of doubling
       and copying while rendering; typical answers are under 256 bytes. */
    size_t want = (w->to - w->from) * 256;
    if (w->side.cap < want) {
        free(w->side.buf);
        w->side.buf = cs_xmalloc(want);
        w->side.cap = want;
    }
    if (!w->fr) {
        w->nfr = 64;
        w->fr = cs_xmalloc(w->nfr * sizeof *w->fr);
    }
    for (size_t i = w->from; i < w->to; i++) {
        uint64_t addr = j->addrs[i];
        size_t nf = cs_symbolize_hit(j->m, addr, &j->hits[i], w->fr, w->nfr,
                                     NULL);
        if (nf > w->nfr) {
            w->nfr = nf;
            w->fr = cs_xrealloc(w->fr, nf * sizeof *w->fr);
            nf = cs_symbolize_hit(j->m, addr, &j->hits[i], w->fr, w->nfr,
                                  NULL);
        }
        size_t at = w->side.n;
        cs_print_code(&w->side, j->oc, j->module, j->bid, j->bidlen, 1,
                      addr + j->adjust_vma, w->fr, nf, 0);
        uint32_t q = j->order[i];
        b->loc[q] = (uint64_t)at << 8 | w->id;
        b->len[q] = (uint32_t)(w->side.n - at);
    }
}

static void *render_thread(void *arg)
{
    render_slice(arg);
    return NULL;
}

/* Threads worth starting for N items. */
static unsigned threads_for(const cs_batch *b, size_t n)
{
    unsigned nt = b->nthreads;
    if (n / MIN_PER_THREAD < nt)
        nt = (unsigned)(n / MIN_PER_THREAD);
    return nt < 1 ? 1 : nt;
}

/* Runs FN on workers 0..NT), worker 0 on this thread; a worker whose
   thread cannot be started runs here too. */
static void run_workers(cs_batch *b, unsigned nt, void *(*fn)(void *))
{
    int started[MAX_THREADS] = {0};
    for (unsigned t = 1; t < nt; t++)
        started[t] = pthread_create(&b->w[t].th, NULL, fn, &b->w[t]) == 0;
    fn(&b->w[0]);
    for (unsigned t = 1; t < nt; t++) {
        if (started[t])
            pthread_join(b->w[t].th, NULL);
        else
            fn(&b->w[t]);
    }
}

void cs_batch_render(cs_batch *b, const cs_batch_job *j)
{
    b->job = j;
    if (b->cap < j->n) {
        free(b->loc);
        free(b->len);
        b->cap = j->n + j->n / 2;
        b->loc = cs_xmalloc(b->cap * sizeof *b->loc);
        b->len = cs_xmalloc(b->cap * sizeof *b->len);
    }
    unsigned nt = threads_for(b, j->n);
    for (unsigned t = 0; t < nt; t++) {
        b->w[t].from = j->n * t / nt;
        b->w[t].to = j->n * (t + 1) / nt;
    }
    run_workers(b, nt, render_thread);
}

static const char *answer(const cs_batch *b, size_t q)
{
    return b->w[b->loc[q] & 0xff].side.buf + (b->loc[q] >> 8);
}

void cs_batch_emit(cs_batch *b, cs_out *out, size_t q)
{
    cs_out_mem(out, answer(b, q), b->len[q]);
}

/* Copies answers [from, to) into b->obuf at AT, in input order. */
static void copy_slice(worker *w)
{
    cs_batch *b = w->b;
    char *p = b->obuf + w->at;
    for (size_t q = w->from; q < w->to; q++) {
        memcpy(p, answer(b, q), b->len[q]);
        p += b->len[q];
    }
}

static void *copy_thread(void *arg)
{
    copy_slice(arg);
    return NULL;
}

static void write_fully(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EPIPE)
                exit(0);
            return; /* like cs_out_flush: the rest is lost with the fd */
        }
        p += w;
        n -= (size_t)w;
    }
}

void cs_batch_write_all(cs_batch *b, cs_out *out)
{
    size_t n = b->job ? b->job->n : 0;
    unsigned nt = threads_for(b, n);
    if (out->fd < 0 || nt < 2) {
        for (size_t q = 0; q < n; q++)
            cs_batch_emit(b, out, q);
        return;
    }
    /* Each thread copies a contiguous run of answers; its place in the
       output is the total length of the runs before it. */
    size_t total = 0;
    for (unsigned t = 0; t < nt; t++) {
        worker *w = &b->w[t];
        w->from = n * t / nt;
        w->to = n * (t + 1) / nt;
        w->at = total;
        for (size_t q = w->from; q < w->to; q++)
            total += b->len[q];
    }
    if (b->ocap < total) {
        free(b->obuf);
        b->ocap = total + total / 4;
        b->obuf = cs_xmalloc(b->ocap);
    }
    run_workers(b, nt, copy_thread);
    cs_out_flush(out);
    write_fully(out->fd, b->obuf, total);
}
