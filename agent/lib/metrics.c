/*
 * metrics.c -- /metrics: the coroutine table in Prometheus' text
 * exposition format (version 0.0.4), the number a dashboard shows a leak
 * with, as Go services export their goroutine count.
 *
 * It reads the table as any reader does (decode.c over our own memory,
 * seqlock retries on torn entries): no lock the runtime takes is held and
 * no thread is paused, whatever the number of coroutines.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <corodbg.h>

#include "agent_int.h"
#include "corocap.h"

/* Weak: the agent may be LD_PRELOADed into a program whose executable
 * does not export these (or has no libcorodbg at all); it must then load
 * and serve what it can, never fail the program's start. */
#pragma weak corodbg_table
#pragma weak corodbg_totals

/* The table's address: libcorodbg's symbol, else as any reader finds it
 * (the executable's dynamic symbol or .corodbg section); 0 if none. */
uint64_t ca_table_address(void)
{
    if (&corodbg_table)
        return (uint64_t)(uintptr_t)&corodbg_table;
    char err[CC_ERRLEN];
    cc_target *t = cc_target_open_self(err);
    uint64_t a = t ? t->table_addr : 0;
    cc_target_free(t);
    return a;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void family(FILE *out, const char *name, const char *type,
                   const char *help)
{
    fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

#define STATE_NAME(N, V, S) [V] = S,
static const char *const state_names[] = {CORODBG_STATES(STATE_NAME)};
#define WAIT_NAME(N, V, S) [V] = S,
static const char *const wait_names[] = {CORODBG_WAITS(WAIT_NAME)};
#define NSTATES (sizeof state_names / sizeof *state_names)
#define NWAITS (sizeof wait_names / sizeof *wait_names)

int ca_metrics(FILE *out, char *err)
{
    uint64_t t0 = mono_ns();
    uint64_t addr = ca_table_address();
    if (!addr) {
        snprintf(err, CC_ERRLEN, "no coroutine table in this process (is it "
                 "linked with libcorodbg?)");
        return -1;
    }
    cc_reader *r = cc_reader_self(err);
    cc_counts n;
    cc_table *t = r ? cc_table_count(r, addr, &n, err) : NULL;
    if (!t) {
        cc_reader_free(r);
        return -1;
    }
    uint64_t now = mono_ns();
    uint64_t oldest = n.oldest_blocked_since && n.oldest_blocked_since < now
                          ? now - n.oldest_blocked_since : 0;
    uint64_t other_state = n.other_state, other_wait = n.other_wait;
    for (size_t s = NSTATES; s < CC_COUNT_STATES; s++)
        other_state += n.by_state[s];
    for (size_t w = NWAITS; w < CC_COUNT_WAITS; w++)
        other_wait += n.by_wait[w];
    struct corodbg_totals tot = {0, 0, 0, 0};
    int have_totals = corodbg_totals != NULL;
    if (have_totals) {
        corodbg_totals(&tot);
    } else if (t->has_live_count && t->next_id) {
        /* what the table itself says (corodbg_totals' own rule) */
        tot.created = t->next_id - 1;
        tot.exited = tot.created > t->live_count ? tot.created - t->live_count
                                                 : 0;
    }

    family(out, "corodbg_coroutines", "gauge",
           "Coroutines in the table by state.");
    for (size_t s = 1; s < NSTATES; s++)
        fprintf(out, "corodbg_coroutines{state=\"%s\"} %llu\n",
                state_names[s], (unsigned long long)n.by_state[s]);
    if (other_state)
        fprintf(out, "corodbg_coroutines{state=\"other\"} %llu\n",
                (unsigned long long)other_state);
    family(out, "corodbg_coroutines_blocked", "gauge",
           "Blocked coroutines by wait reason.");
    for (size_t w = 1; w < NWAITS; w++)
        fprintf(out, "corodbg_coroutines_blocked{wait=\"%s\"} %llu\n",
                wait_names[w], (unsigned long long)n.by_wait[w]);
    fprintf(out, "corodbg_coroutines_blocked{wait=\"none\"} %llu\n",
            (unsigned long long)(n.by_wait[0] + other_wait));
    family(out, "corodbg_coroutines_unreadable", "gauge",
           "Table entries that could not be read consistently.");
    fprintf(out, "corodbg_coroutines_unreadable %llu\n",
            (unsigned long long)n.unreadable);
    family(out, "corodbg_coroutines_created_total", "counter",
           "Coroutines created since the program started.");
    fprintf(out, "corodbg_coroutines_created_total %llu\n",
            (unsigned long long)tot.created);
    family(out, "corodbg_coroutines_exited_total", "counter",
           "Coroutines that exited and were freed since the program started.");
    fprintf(out, "corodbg_coroutines_exited_total %llu\n",
            (unsigned long long)tot.exited);
    if (have_totals) {      /* only libcorodbg counts these */
        family(out, "corodbg_panics_total", "counter",
               "corodbg_panic() calls since the program started.");
        fprintf(out, "corodbg_panics_total %llu\n",
                (unsigned long long)tot.panics);
        family(out, "corodbg_crashes_total", "counter",
               "Fatal signals recorded on a coroutine since the program "
               "started.");
        fprintf(out, "corodbg_crashes_total %llu\n",
                (unsigned long long)tot.crashes);
    }
    family(out, "corodbg_oldest_blocked_seconds", "gauge",
           "How long the longest-blocked coroutine has been blocked.");
    fprintf(out, "corodbg_oldest_blocked_seconds %.6f\n", oldest / 1e9);
    family(out, "corodbg_scrape_duration_seconds", "gauge",
           "Time this scrape spent reading the table.");
    fprintf(out, "corodbg_scrape_duration_seconds %.6f\n",
            (mono_ns() - t0) / 1e9);
    cc_table_free(t);
    cc_reader_free(r);
    return 0;
}
