/*
 * routes.c -- what each path answers.  The dumps go through libcorocap
 * exactly as `corodbg dump` does for another process, over this process's
 * own memory (cc_target_open_self): the same decoder, unwinder,
 * symbolizer and writers, so a dump here and there read the same.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "agent_int.h"
#include "corocap.h"

#define DUMP_DEPTH 100
/* A running coroutine's stack: its thread copies its own registers and
 * stack top in the SIGPROF handler (cc_snapshot_thread); nothing stops. */
#define DUMP_FLAGS (CC_WITH_STACKS | CC_SNAPSHOT_SELF)

void ca_error(ca_response *res, int status, const char *fmt, ...)
{
    /* whatever a handler wrote so far is dropped */
    fflush(res->f);
    rewind(res->f);
    res->status = status;
    res->type = "text/plain; charset=utf-8";
    res->disposition = NULL;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(res->f, fmt, ap);
    va_end(ap);
    fputc('\n', res->f);
    /* open_memstream: the size is the position at the last flush */
    fflush(res->f);
}

static void index_page(ca_response *res)
{
    fputs("corodbg in-process endpoint (libcorodbg-agent)\n\n"
          "/debug/pprof/goroutine?debug=0  coroutine profile (pprof, "
          "symbolize offline with corosym pprof)\n"
          "/debug/pprof/goroutine?debug=1  coroutines grouped by stack\n"
          "/debug/pprof/goroutine?debug=2  every coroutine with its stack\n"
          "/debug/pprof/profile?seconds=30 CPU profile labelled by coroutine "
          "(pprof; &hz=100)\n"
          "/debug/pprof/leaks?min_age=60   coroutines blocked longest, by "
          "wait site\n"
          "/metrics                        Prometheus metrics\n", res->f);
}

/* Open ourselves as a capture target; NULL after answering the error. */
static cc_target *open_self(const ca_config *c, cc_symbolizer **sym,
                            ca_response *res)
{
    char err[CC_ERRLEN];
    cc_target *t = cc_target_open_self(err);
    if (!t) {
        ca_error(res, 500, "%s", err);
        return NULL;
    }
    if (!t->table_addr) {
        ca_error(res, 500, "no coroutine table in this process (is it "
                 "linked with libcorodbg?)");
        cc_target_free(t);
        return NULL;
    }
    *sym = cc_symbolizer_new(t, NULL, 0, c->symbolize);
    return t;
}

static int check_params(const ca_request *req, const char *const *names,
                        ca_response *res)
{
    char why[256];
    if (ca_query_check(req->query, names, why, sizeof why)) {
        ca_error(res, 400, "%s", why);
        return -1;
    }
    return 0;
}

/* A request whose only parameter is NAME, an integer in [LO, HI] (DFLT
 * when absent): 0 with *V, or -1 after answering 400. */
static int only_param(const ca_request *req, const char *name, uint64_t lo,
                      uint64_t hi, uint64_t dflt, uint64_t *v,
                      ca_response *res)
{
    const char *const names[] = {name, NULL};
    char why[256];
    if (check_params(req, names, res))
        return -1;
    if (ca_query_uint(req->query, name, lo, hi, dflt, v, why, sizeof why)) {
        ca_error(res, 400, "%s", why);
        return -1;
    }
    return 0;
}

/* Every coroutine with its stack, as `corodbg dump` takes it. */
struct dump { cc_target *t; cc_symbolizer *sym; cc_capture *c; };

static int take_dump(const ca_config *cfg, ca_response *res, struct dump *d)
{
    char err[CC_ERRLEN];
    d->c = NULL;
    d->sym = NULL;
    d->t = open_self(cfg, &d->sym, res);
    if (!d->t)
        return -1;
    if (!d->sym)
        snprintf(err, sizeof err, "out of memory");
    else
        d->c = cc_capture_take(d->t, d->sym, DUMP_FLAGS, DUMP_DEPTH, err);
    if (!d->c) {
        ca_error(res, 500, "%s", err);
        return -1;
    }
    return 0;
}

static void dump_free(struct dump *d)
{
    cc_capture_free(d->c);
    cc_symbolizer_free(d->sym);
    cc_target_free(d->t);
}

static void coroutines(const ca_config *cfg, const ca_request *req,
                       ca_response *res)
{
    uint64_t debug;
    struct dump d;
    char err[CC_ERRLEN];
    if (only_param(req, "debug", 0, 2, 0, &debug, res))
        return;
    if (!take_dump(cfg, res, &d)) {
        if (debug == 0) {
            res->type = "application/octet-stream";
            res->disposition = "attachment; filename=\"coroutine\"";
            if (cc_write_pprof_fp(res->f, d.c, err))
                ca_error(res, 500, "%s", err);
        } else if (debug == 1) {
            cc_write_grouped(res->f, d.c);
        } else {
            cc_write_text(res->f, d.c);
        }
    }
    dump_free(&d);
}

static void leaks(const ca_config *cfg, const ca_request *req,
                  ca_response *res)
{
    uint64_t min_age;       /* seconds; UINT64_MAX: no minimum */
    struct dump d;
    if (only_param(req, "min_age", 0, 100000000, UINT64_MAX, &min_age, res))
        return;
    if (!take_dump(cfg, res, &d))
        cc_write_leaks(res->f, d.c, d.sym,
                       min_age == UINT64_MAX
                           ? -1 : (int64_t)(min_age * 1000000000u));
    dump_free(&d);
}

static void metrics(const ca_request *req, ca_response *res)
{
    static const char *const names[] = {NULL};
    char err[CC_ERRLEN];
    if (check_params(req, names, res))
        return;
    res->type = "text/plain; version=0.0.4; charset=utf-8";
    if (ca_metrics(res->f, err))
        ca_error(res, 500, "%s", err);
}

static void profile(const ca_config *cfg, const ca_request *req,
                    ca_response *res, volatile int *cancel)
{
    static const char *const names[] = {"seconds", "hz", NULL};
    uint64_t seconds, hz;
    char why[256];
    if (check_params(req, names, res))
        return;
    if (ca_query_uint(req->query, "seconds", 1, 3600, 30, &seconds, why,
                      sizeof why) ||
        ca_query_uint(req->query, "hz", 1, 1000, 100, &hz, why, sizeof why)) {
        ca_error(res, 400, "%s", why);
        return;
    }
    cc_symbolizer *sym = NULL;
    cc_target *t = open_self(cfg, &sym, res);
    if (!t)
        return;
    char err[CC_ERRLEN];
    res->type = "application/octet-stream";
    res->disposition = "attachment; filename=\"profile\"";
    /* 3: cancelled, the client is gone and nobody reads the answer */
    if (cc_profile_self(t, sym, (double)seconds, (unsigned)hz, res->f, cancel,
                        NULL, err) < 0)
        ca_error(res, strstr(err, "busy") ? 503 : 500, "%s", err);
    cc_symbolizer_free(sym);
    cc_target_free(t);
}

void ca_route(const ca_config *cfg, const ca_request *req, ca_response *res,
              volatile int *cancel)
{
    const char *p = req->path;
    if (!strcmp(p, "/") || !strcmp(p, "/debug/pprof") ||
        !strcmp(p, "/debug/pprof/"))
        index_page(res);
    else if (!strcmp(p, "/debug/pprof/goroutine") ||
             !strcmp(p, "/debug/pprof/coroutine"))
        coroutines(cfg, req, res);
    else if (!strcmp(p, "/debug/pprof/profile"))
        profile(cfg, req, res, cancel);
    else if (!strcmp(p, "/debug/pprof/leaks"))
        leaks(cfg, req, res);
    else if (!strcmp(p, "/metrics"))
        metrics(req, res);
    else
        ca_error(res, 404, "no such endpoint: %.200s (see /debug/pprof/)", p);
}
