/* batch.c - render a batch of CODE answers on several threads and emit
   them in input order without copying (see batch.h).

   Threads only read the module's index, each through its own
   corosym_walk (the demangling memo in libcorosym takes its own lock),
   and each renders into a buffer of its own, so they share nothing
   else.  Output order is the input order, whatever
   the number of threads: the answers are the same bytes either way. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "util.h"

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
    const cs_batch_job *job;  /* during cs_batch_render only */
    size_t n;                 /* answers of the last render */
    uint64_t *loc;            /* per answer: offset << 8 | worker */
    uint32_t *len;
    size_t cap;
    struct parse_job *parse;  /* cs_batch_parse_addrs's job */
    /* cs_batch_write_all's output, double-buffered: one buffer is written
       in the background while the next window fills the other. */
    char *obuf[2];
    size_t ocap[2], olen[2];
    int cur;                  /* the buffer the next window fills */
    int wbuf;                 /* the buffer being written */
    int ofd;
    pthread_t writer;
    int writing;              /* the writer thread runs */
    int epipe;                /* its write found the reader gone */
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
    cs_batch_sync(b);
    free(b->obuf[0]);
    free(b->obuf[1]);
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
    corosym_walk *walk = corosym_walk_new(j->m, j->addrs + w->from,
                                          w->to - w->from);
    if (!walk)
        cs_oom();
    /* Neighbouring addresses on the same line-table row, in the same
       scope and symbol, get the same answer unless it prints the address
       or an offset: such an answer points at the bytes of the one before. */
    int reuse = j->oc->style != CS_STYLE_JSON && !j->oc->print_address &&
                !j->oc->offsets;
    size_t prev_at = 0;
    for (size_t i = w->from; i < w->to; i++) {
        uint64_t addr = j->addrs[i];
        int same = corosym_walk_next(walk) == 1;
        uint32_t q = j->order[i];
        if (reuse && same) {
            b->loc[q] = (uint64_t)prev_at << 8 | w->id;
            b->len[q] = (uint32_t)(w->side.n - prev_at);
            continue;
        }
        size_t nf = corosym_walk_frames(walk, w->fr, w->nfr, NULL);
        if (nf > w->nfr) {
            w->nfr = nf;
            w->fr = cs_xrealloc(w->fr, nf * sizeof *w->fr);
            nf = corosym_walk_frames(walk, w->fr, w->nfr, NULL);
        }
        size_t at = w->side.n;
        cs_print_code(&w->side, j->oc, j->module, j->bid, j->bidlen, 1,
                      addr + j->adjust_vma, w->fr, nf, 0);
        prev_at = at;
        b->loc[q] = (uint64_t)at << 8 | w->id;
        b->len[q] = (uint32_t)(w->side.n - at);
    }
    corosym_walk_free(walk);
}

/* Writes all N bytes; -1 when the reader is gone (EPIPE).  Other errors
   drop the rest, like cs_out_flush. */
static int write_fully(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno == EPIPE ? -1 : 0;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
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
    b->job = NULL; /* the caller's: gone after this */
    b->n = j->n;
}

/* What a parse worker reads and reports. */
typedef struct parse_job {
    const char *buf;
    const size_t *starts;
    uint64_t *addrs;
    int bad[MAX_THREADS];
} parse_job;

/* "0x" and 1 to 16 hex digits, nothing else: what corosym_parse_request
   reads as that number for the default module.  Anything else (octal,
   decimal, blanks, a module, a prefix) goes to the general parser. */
static int parse_hex_line(const char *s, size_t n, uint64_t *v)
{
    if (n < 3 || n > 18 || s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
        return -1;
    uint64_t x = 0;
    for (size_t i = 2; i < n; i++) {
        unsigned c = (unsigned char)s[i], d;
        if (c - '0' < 10)
            d = c - '0';
        else if ((c | 0x20) - 'a' < 6)
            d = (c | 0x20) - 'a' + 10;
        else
            return -1;
        x = x << 4 | d;
    }
    *v = x;
    return 0;
}

static void *parse_thread(void *arg)
{
    worker *w = arg;
    parse_job *p = w->b->parse;
    for (size_t i = w->from; i < w->to; i++)
        if (parse_hex_line(p->buf + p->starts[i],
                           p->starts[i + 1] - p->starts[i] - 1,
                           &p->addrs[i]) < 0) {
            p->bad[w->id] = 1;
            break;
        }
    return NULL;
}

int cs_batch_parse_addrs(cs_batch *b, const char *buf, const size_t *starts,
                         size_t n, uint64_t *addrs)
{
    parse_job p = {buf, starts, addrs, {0}};
    unsigned nt = threads_for(b, n);
    for (unsigned t = 0; t < nt; t++) {
        b->w[t].from = n * t / nt;
        b->w[t].to = n * (t + 1) / nt;
    }
    b->parse = &p;
    run_workers(b, nt, parse_thread);
    b->parse = NULL;
    for (unsigned t = 0; t < nt; t++)
        if (p.bad[t])
            return -1;
    return 0;
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
    char *p = b->obuf[b->cur] + w->at;
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

static void *write_thread(void *arg)
{
    cs_batch *b = arg;
    /* EPIPE is acted on by the main thread, in cs_batch_sync */
    b->epipe = write_fully(b->ofd, b->obuf[b->wbuf], b->olen[b->wbuf]) < 0;
    return NULL;
}

void cs_batch_sync(void *arg)
{
    cs_batch *b = arg;
    if (b->writing) {
        pthread_join(b->writer, NULL);
        b->writing = 0;
    }
    if (b->epipe)
        exit(0); /* the reader is gone: done, as cs_out_flush does */
}

void cs_batch_write_all(cs_batch *b, cs_out *out)
{
    size_t n = b->n;
    unsigned nt = threads_for(b, n);
    if (out->fd < 0) {
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
    int c = b->cur;
    if (b->ocap[c] < total) {
        free(b->obuf[c]);
        b->ocap[c] = total + total / 4;
        b->obuf[c] = cs_xmalloc(b->ocap[c]);
    }
    run_workers(b, nt, copy_thread);
    /* OUT's own bytes and the previous window go first (cs_out_flush
       waits for the background write through OUT's hook). */
    cs_out_flush(out);
    cs_batch_sync(b);
    b->olen[c] = total;
    b->ofd = out->fd;
    b->wbuf = c;
    b->cur = !c;
    /* One thread asked for: no writer thread either.  The output is the
       same bytes at the same places relative to stderr either way (see
       cs_batch_sync's callers). */
    b->writing = b->nthreads > 1 &&
                 pthread_create(&b->writer, NULL, write_thread, b) == 0;
    if (!b->writing && write_fully(out->fd, b->obuf[c], total) < 0)
        exit(0);
}
