/*
 * run.c -- open the target, take the capture, write it.  Exit status:
 * 0 done, 1 a one-line error (printed), 3 partial output (the process
 * went away mid-capture).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "corocap.h"
#include "cli.h"

static int is_pid(const char *s)
{
    if (!*s)
        return 0;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return 0;
    return 1;
}

/* `watch`: one capture (parked stacks only, no thread stopped) per
 * interval, each counted by cc_watch_step. */
static int watch(cc_target *t, cc_symbolizer *sym, const struct cli_opts *o)
{
    char err[CC_ERRLEN], stamp[32];
    cc_watch *w = cc_watch_new();
    int rc = w ? 0 : 1;
    for (long k = 0; w && (!o->count || k < o->count); k++) {
        if (k) {
            struct timespec ts = {(time_t)o->interval,
                                  (long)((o->interval - (time_t)o->interval)
                                         * 1e9)};
            nanosleep(&ts, NULL);
        }
        cc_capture *c = cc_capture_take(t, sym, CC_WITH_STACKS, 32, err);
        if (!c) {
            fprintf(stderr, "corodbg: %s\n", err);
            rc = 1;
            break;
        }
        time_t now = time(NULL);
        strftime(stamp, sizeof stamp, "%H:%M:%S", localtime(&now));
        if (cc_watch_step(w, stdout, c, stamp))
            rc = 1;
        int partial = c->partial;
        for (size_t i = 0; partial && i < c->nnotes; i++)
            fprintf(stderr, "corodbg: %s\n", c->notes[i]);
        cc_capture_free(c);
        if (partial || rc)
            break;
    }
    cc_watch_free(w);
    return rc;
}

static uint64_t clock_of(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static uint64_t mono_ns(void) { return clock_of(CLOCK_MONOTONIC); }
static uint64_t cpu_ns(void) { return clock_of(CLOCK_PROCESS_CPUTIME_ID); }

/* CORODBG_TIMING=1: where a capture's time went, one line on stderr
 * (bench/capture/bench_capture.py reports it). */
static void timing(const cc_capture *c, uint64_t write_ns, uint64_t write_cpu)
{
    fprintf(stderr, "corodbg: timing: table %.3f s (cpu %.3f), stacks %.3f s "
            "(cpu %.3f, %zu unique of %zu), write %.3f s (cpu %.3f)\n",
            c->table_ns / 1e9, c->table_cpu_ns / 1e9, c->stacks_ns / 1e9,
            c->stacks_cpu_ns / 1e9, c->unique_stacks, c->table->ncos,
            write_ns / 1e9, write_cpu / 1e9);
}

int cli_run(const char *cmd, const struct cli_opts *o)
{
    char err[CC_ERRLEN];
    cc_target *t;
    if (is_pid(o->target)) {
        long pid = strtol(o->target, NULL, 10);
        if (pid <= 0 || pid > 0x3fffffff) {
            fprintf(stderr, "corodbg: no process %s\n", o->target);
            return 1;
        }
        t = cc_target_open_pid((pid_t)pid, err);
    } else {
        t = cc_target_open_core(o->target, o->exe, err);
    }
    if (!t) {
        fprintf(stderr, "corodbg: %s\n", err);
        return 1;
    }
    int leaks = !strcmp(cmd, "leaks");
    if ((!strcmp(cmd, "watch") || !strcmp(cmd, "profile")) && t->is_core) {
        fprintf(stderr, "corodbg: %s needs a running process, not a core "
                "file\n", cmd);
        cc_target_free(t);
        return 1;
    }
    if (!strcmp(cmd, "profile")) {
        cc_symbolizer *ps = cc_symbolizer_new(t, o->debug_dirs, o->ndirs,
                                              o->symbolize);
        int rc = ps ? cc_profile(t, ps, o->seconds, o->hz, o->out, stderr,
                                 err) : -1;
        if (rc < 0)
            fprintf(stderr, "corodbg: %s\n", ps ? err : "out of memory");
        cc_symbolizer_free(ps);
        cc_target_free(t);
        return rc < 0 ? 1 : rc;
    }
    if (!strcmp(cmd, "watch")) {
        if (t->is_core) {
            fprintf(stderr, "corodbg: watch needs a running process, not a "
                    "core file\n");
            cc_target_free(t);
            return 1;
        }
        cc_symbolizer *ws = cc_symbolizer_new(t, o->debug_dirs, o->ndirs, 1);
        int rc = ws ? watch(t, ws, o) : 1;
        cc_symbolizer_free(ws);
        cc_target_free(t);
        return rc;
    }
    cc_symbolizer *sym = cc_symbolizer_new(t, o->debug_dirs, o->ndirs,
                                           leaks || o->symbolize);
    unsigned flags = CC_WITH_STACKS | (o->stop ? CC_STOP_RUNNING : 0);
    /* leaks needs only blocked coroutines' stacks: never stop a thread */
    if (leaks)
        flags = CC_WITH_STACKS;
    cc_capture *c = sym ? cc_capture_take(t, sym, flags, o->depth, err) : NULL;
    if (!c) {
        fprintf(stderr, "corodbg: %s\n", sym ? err : "out of memory");
        cc_symbolizer_free(sym);
        cc_target_free(t);
        return 1;
    }
    int rc = 0;
    FILE *out = stdout;
    uint64_t w0 = mono_ns(), c0 = cpu_ns();
    if (leaks) {
        rc = cc_write_leaks(out, c, sym, o->min_age);
        for (size_t i = 0; i < c->table->nwarnings; i++)
            fprintf(stderr, "corodbg: warning: %s\n", c->table->warnings[i]);
        for (size_t i = 0; i < c->nnotes; i++)
            fprintf(stderr, "corodbg: %s\n", c->notes[i]);
    } else if (!strcmp(o->format, "pprof")) {
        rc = cc_write_pprof(o->out, c, err);
        if (rc)
            fprintf(stderr, "corodbg: %s\n", err);
        for (size_t i = 0; i < c->table->nwarnings; i++)
            fprintf(stderr, "corodbg: warning: %s\n", c->table->warnings[i]);
        for (size_t i = 0; i < c->nnotes; i++)
            fprintf(stderr, "corodbg: %s\n", c->notes[i]);
    } else {
        if (strcmp(o->out, "-") && !(out = fopen(o->out, "w"))) {
            fprintf(stderr, "corodbg: %s: %s\n", o->out, strerror(errno));
            rc = -1;
        } else {
            rc = !strcmp(o->format, "json") ? cc_write_json(out, c) :
                 !strcmp(o->format, "grouped") ? cc_write_grouped(out, c) :
                 cc_write_text(out, c);
            if (out != stdout && fclose(out))
                rc = -1;
        }
        if (c->partial)
            for (size_t i = 0; i < c->nnotes; i++)
                fprintf(stderr, "corodbg: %s\n", c->notes[i]);
    }
    if (getenv("CORODBG_TIMING"))
        timing(c, mono_ns() - w0, cpu_ns() - c0);
    int partial = c->partial;
    cc_capture_free(c);
    cc_symbolizer_free(sym);
    cc_target_free(t);
    return rc ? 1 : partial ? 3 : 0;
}
