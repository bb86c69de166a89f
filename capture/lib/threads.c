/*
 * threads.c -- the target's OS threads: which run a coroutine, which run
 * none, and which a coroutine names but the process (or core) does not
 * have.
 *
 * A running entry names its thread by tid.  When that thread is not
 * there (it exited, as docs/interpose.md allows, or the tid is corrupt),
 * the entry is marked 'unknown-thread' with the words of the debuggers'
 * model.mark_unknown_threads and gets no stack: nothing is stopped for
 * it.  A thread no coroutine names runs the program's own code (a
 * scheduler loop, a pool's idle wait); a live one is never stopped, so
 * only a core shows its stack (from NT_PRSTATUS), as `thread apply all
 * bt` would.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corocap.h"
#include "cc_int.h"

static int cmp_tid(const void *a, const void *b)
{
    pid_t x = *(const pid_t *)a, y = *(const pid_t *)b;
    return x < y ? -1 : x > y;
}

/* The threads of T, sorted; -1 when they cannot be listed. */
static int list_tids(const cc_target *t, pid_t **out, size_t *n)
{
    size_t cap = 16, k = 0;
    pid_t *tids = malloc(cap * sizeof *tids);
    if (!tids)
        return -1;
    if (t->is_core) {
        for (size_t i = 0; i < t->nthreads; i++) {
            if (k == cap) {
                pid_t *g = realloc(tids, 2 * cap * sizeof *g);
                if (!g)
                    goto fail;
                tids = g;
                cap *= 2;
            }
            tids[k++] = t->threads[i].tid;
        }
    } else {
        char path[64];
        snprintf(path, sizeof path, "/proc/%d/task", (int)t->pid);
        DIR *d = opendir(path);
        if (!d)
            goto fail;
        for (struct dirent *e; (e = readdir(d));) {
            long tid = strtol(e->d_name, NULL, 10);
            if (tid <= 0)
                continue;
            if (k == cap) {
                pid_t *g = realloc(tids, 2 * cap * sizeof *g);
                if (!g) {
                    closedir(d);
                    goto fail;
                }
                tids = g;
                cap *= 2;
            }
            tids[k++] = (pid_t)tid;
        }
        closedir(d);
    }
    qsort(tids, k, sizeof *tids, cmp_tid);
    *out = tids;
    *n = k;
    return 0;
fail:
    free(tids);
    return -1;
}

/* A live thread's name (its comm), escaped as coroutine names are. */
static void thread_name(pid_t pid, pid_t tid, char *buf, size_t len)
{
    char path[64], raw[32];
    buf[0] = 0;
    snprintf(path, sizeof path, "/proc/%d/task/%d/comm", (int)pid, (int)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    size_t n = fread(raw, 1, sizeof raw - 1, f);
    fclose(f);
    while (n && raw[n - 1] == '\n')
        n--;
    cc_escape((const uint8_t *)raw, n, buf, len);
}

int cc_capture_threads(cc_capture *c)
{
    cc_target *t = c->target;
    cc_table *tb = c->table;
    pid_t *tids;
    size_t n;
    if (list_tids(t, &tids, &n))
        return -1;
    const char *where = t->is_core ? "the core" : "the process";
    /* model.mark_unknown_threads: a running entry on a thread not there */
    for (size_t i = 0; i < tb->ncos; i++) {
        cc_coroutine *co = &tb->cos[i];
        pid_t tid = (pid_t)co->tid;
        if (!cc_on_thread(co) || co->unreadable != CC_OK ||
            bsearch(&tid, tids, n, sizeof *tids, cmp_tid))
            continue;
        co->unreadable = CC_UNKNOWN_THREAD;
        snprintf(co->note, sizeof co->note, "on thread %d, which %s does "
                 "not have", (int)tid, where);
        cc_warn(&tb->warnings, &tb->nwarnings, "coroutine %llu is %s on "
                "thread %d, which %s does not have (exited?): marked '?'",
                (unsigned long long)co->id, cc_state_name(co->state),
                (int)tid, where);
    }
    c->threads = calloc(n ? n : 1, sizeof *c->threads);
    if (!c->threads) {
        free(tids);
        return -1;
    }
    c->nthreads = n;
    for (size_t k = 0; k < n; k++) {
        cc_os_thread *th = &c->threads[k];
        th->tid = tids[k];
        th->co = SIZE_MAX;
        if (!t->is_core)
            thread_name(t->pid, th->tid, th->name, sizeof th->name);
    }
    for (size_t i = 0; i < tb->ncos; i++) {
        const cc_coroutine *co = &tb->cos[i];
        pid_t tid = (pid_t)co->tid;
        if (!cc_on_thread(co) || co->unreadable == CC_UNKNOWN_THREAD)
            continue;
        pid_t *hit = bsearch(&tid, tids, n, sizeof *tids, cmp_tid);
        if (hit && c->threads[hit - tids].co == SIZE_MAX)
            c->threads[hit - tids].co = i;
    }
    free(tids);
    return 0;
}

size_t cc_threads_without_coroutine(const cc_capture *c)
{
    size_t k = 0;
    for (size_t i = 0; i < c->nthreads; i++)
        k += c->threads[i].co == SIZE_MAX;
    return k;
}
