/* M:N consistency: a reader thread snapshots the coroutine table while
 * WORKERS scheduler threads churn coroutines through every state.
 *
 * The reader decodes the table only through the descriptor's
 * self-description (field records), the way a debugger would, and takes
 * each snapshot seqlock-style: generation before, copy every chunk, per
 * entry seq before/after, generation after.  A snapshot is *consistent*
 * when the generation was even and unchanged; an entry is *stable* when
 * its seq was even and unchanged.  Everything consistent or stable must
 * satisfy the invariants below; everything else must be flagged (and is
 * counted, not checked).  Any violation is printed and fails the test.
 *
 *   rt_mn [WORKERS [MILLISECONDS]]       driven by test_mn.py */
#include <corodbg.h>
#include <corort.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the reader: self-description only ---- */

struct layout {
    const unsigned char *desc;
    size_t entry_size;
    /* descriptor fields */
    size_t generation, live_count, next_id, chunk_dir, nchunks, chunk_entries;
    /* entry fields */
    size_t id, seq, state, tid, wait_reason, stack_lo, stack_hi, name, regs;
    size_t name_size;
};

static uint64_t rd(const unsigned char *p, size_t size)
{
    uint64_t v = 0;
    switch (size) {
    case 1: v = __atomic_load_n((const uint8_t *)p, __ATOMIC_RELAXED); break;
    case 2: v = __atomic_load_n((const uint16_t *)p, __ATOMIC_RELAXED); break;
    case 4: v = __atomic_load_n((const uint32_t *)p, __ATOMIC_RELAXED); break;
    case 8: v = __atomic_load_n((const uint64_t *)p, __ATOMIC_RELAXED); break;
    }
    return v;
}

static int find_field(const unsigned char *desc, size_t recs_off,
                      size_t count, size_t rec_size, unsigned id,
                      size_t *off, size_t *size)
{
    for (size_t i = 0; i < count; i++) {
        const unsigned char *r = desc + recs_off + i * rec_size;
        if (rd(r, 2) == id) {
            *off = rd(r + 2, 2);
            *size = rd(r + 4, 2);
            return 1;
        }
    }
    return 0;
}

static int load_layout(struct layout *L, const void *table)
{
    const unsigned char *d = table;
    size_t sz;
    if (memcmp(d, CORODBG_MAGIC, 8) != 0 || rd(d + 8, 2) != CORODBG_ABI_MAJOR)
        return 0;
    L->desc = d;
    L->entry_size = rd(d + 14, 2);
    size_t df = rd(d + 20, 2), dn = rd(d + 22, 2);
    size_t ef = rd(d + 24, 2), en = rd(d + 26, 2), rs = rd(d + 32, 2);
#define DFIELD(F, ID) if (!find_field(d, df, dn, rs, ID, &L->F, &sz)) return 0
#define EFIELD(F, ID) if (!find_field(d, ef, en, rs, ID, &L->F, &sz)) return 0
    DFIELD(generation, CORODBG_DF_GENERATION);
    DFIELD(live_count, CORODBG_DF_LIVE_COUNT);
    DFIELD(next_id, CORODBG_DF_NEXT_ID);
    DFIELD(chunk_dir, CORODBG_DF_CHUNK_DIR);
    DFIELD(nchunks, CORODBG_DF_NCHUNKS);
    DFIELD(chunk_entries, CORODBG_DF_CHUNK_ENTRIES);
    EFIELD(id, CORODBG_EF_ID);
    EFIELD(seq, CORODBG_EF_SEQ);
    EFIELD(state, CORODBG_EF_STATE);
    EFIELD(tid, CORODBG_EF_TID);
    EFIELD(wait_reason, CORODBG_EF_WAIT_REASON);
    EFIELD(stack_lo, CORODBG_EF_STACK_LO);
    EFIELD(stack_hi, CORODBG_EF_STACK_HI);
    EFIELD(regs, CORODBG_EF_REGS);
    EFIELD(name, CORODBG_EF_NAME);
    L->name_size = sz;
    return 1;
}

static struct layout L;
static volatile int stop_reader;
static long snapshots, consistent, flagged, stable_entries, unstable_entries,
    violations, max_live_seen;
static size_t stack_size_expected;

static void violation(const char *what, uint64_t a, uint64_t b)
{
    if (violations++ < 10)
        printf("VIOLATION %s (%llu, %llu)\n", what, (unsigned long long)a,
               (unsigned long long)b);
}

#define CHUNK_ENTRIES_MAX 4096
static unsigned char copybuf[CHUNK_ENTRIES_MAX * 512];
static uint32_t seq_before[CHUNK_ENTRIES_MAX];

static void take_snapshot(void)
{
    const unsigned char *d = L.desc;
    uint64_t g0 = __atomic_load_n((const uint64_t *)(d + L.generation),
                                  __ATOMIC_ACQUIRE);
    uint64_t live = rd(d + L.live_count, 8);
    uint64_t next_id = rd(d + L.next_id, 8);
    uint32_t nchunks = (uint32_t)rd(d + L.nchunks, 4);
    uint32_t per = (uint32_t)rd(d + L.chunk_entries, 4);
    const uint64_t *dir = (const uint64_t *)(uintptr_t)rd(d + L.chunk_dir, 8);
    uint64_t nonfree = 0;
    int snapshot_ok = 1;

    if (per > CHUNK_ENTRIES_MAX || L.entry_size * per > sizeof copybuf) {
        violation("chunk too large for the test", per, L.entry_size);
        return;
    }
    for (uint32_t c = 0; c < nchunks; c++) {
        const unsigned char *chunk =
            (const unsigned char *)(uintptr_t)__atomic_load_n(&dir[c],
                                                              __ATOMIC_ACQUIRE);
        for (uint32_t i = 0; i < per; i++)
            seq_before[i] = (uint32_t)__atomic_load_n(
                (const uint32_t *)(chunk + i * L.entry_size + L.seq),
                __ATOMIC_ACQUIRE);
        for (size_t b = 0; b < per * L.entry_size; b += 8)
            *(uint64_t *)(copybuf + b) =
                __atomic_load_n((const uint64_t *)(chunk + b), __ATOMIC_RELAXED);
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        for (uint32_t i = 0; i < per; i++) {
            const unsigned char *e = copybuf + i * L.entry_size;
            uint32_t s1 = (uint32_t)__atomic_load_n(
                (const uint32_t *)(chunk + i * L.entry_size + L.seq),
                __ATOMIC_RELAXED);
            uint64_t id = rd(e + L.id, 8);
            if (id)
                nonfree++;
            if ((seq_before[i] & 1) || seq_before[i] != s1) {
                unstable_entries++; /* mid-update: flagged, not checked */
                snapshot_ok = 0;
                continue;
            }
            if (!id)
                continue;
            stable_entries++;
            uint32_t state = (uint32_t)rd(e + L.state, 4);
            uint32_t tid = (uint32_t)rd(e + L.tid, 4);
            uint64_t lo = rd(e + L.stack_lo, 8), hi = rd(e + L.stack_hi, 8);
            uint64_t sp = rd(e + L.regs + 8 * CORODBG_REG_SP, 8);
            if (id >= next_id + 1000000)
                violation("id beyond next_id", id, next_id);
            if (state == CORODBG_FREE || state >= CORODBG_NSTATES)
                violation("bad state for a live id", id, state);
            if (state == CORODBG_RUNNING && tid == 0)
                violation("running without a tid", id, tid);
            if (state != CORODBG_RUNNING && state != CORODBG_DEAD && tid != 0)
                violation("tid set while not running", id, state);
            if (state == CORODBG_BLOCKED &&
                rd(e + L.wait_reason, 4) == CORODBG_WAIT_NONE)
                violation("blocked without a wait reason", id, state);
            if (hi - lo != stack_size_expected)
                violation("stack bounds", id, hi - lo);
            if (sp != 0 && (sp < lo || sp >= hi))
                violation("saved sp outside the stack", id, sp);
            if (memcmp(e + L.name, "churn", 5) != 0 &&
                memcmp(e + L.name, "spawner", 7) != 0)
                violation("unexpected name", id, 0);
        }
    }
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint64_t g1 = __atomic_load_n((const uint64_t *)(d + L.generation),
                                  __ATOMIC_ACQUIRE);
    snapshots++;
    if ((g0 & 1) || g0 != g1) {
        flagged++;
        return;
    }
    /* No slot changed hands during the copy: the census must add up. */
    if (nonfree != live)
        violation("live_count differs from the entries", live, nonfree);
    if ((long)live > max_live_seen)
        max_live_seen = (long)live;
    consistent++;
    (void)snapshot_ok;
}

static void *reader(void *arg)
{
    (void)arg;
    while (!stop_reader)
        take_snapshot();
    return NULL;
}

/* ---- the churn ---- */

static long rounds_per_spawner = 4000;
static corort_chan *pipe_ch;
static uint64_t stop_at;

static void churn_child(void *arg)
{
    long v = (long)(intptr_t)arg;
    corort_yield();
    if (v % 3 == 0)
        corort_chan_send(pipe_ch, &v);
    else if (v % 3 == 1)
        corort_chan_recv(pipe_ch, &v);
    else
        corort_sleep_ns(1000);
}

static void spawner(void *arg)
{
    corort_wg *wg = arg;
    for (long r = 0; r < rounds_per_spawner && corort_now_ns() < stop_at; r++) {
        /* 3 children: one sender, one receiver, one sleeper, so every
         * channel operation finds its partner. */
        for (long k = 0; k < 3; k++)
            corort_spawn("churn", churn_child, (void *)(intptr_t)k);
        corort_yield();
    }
    corort_wg_done(wg);
}

int main(int argc, char **argv)
{
    unsigned workers = argc > 1 ? (unsigned)atoi(argv[1]) : 3;
    long ms = argc > 2 ? atol(argv[2]) : 1500;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!load_layout(&L, &corodbg_table)) {
        printf("FAIL: cannot decode the descriptor's self-description\n");
        return 1;
    }
    corort_config cfg = {.workers = workers};
    corort_init(&cfg);
    stack_size_expected = CORORT_STACK_DEFAULT;
    pipe_ch = corort_chan_new(sizeof(long), 0);
    stop_at = corort_now_ns() + (uint64_t)ms * 1000000u;
    corort_wg *wg = corort_wg_new();
    corort_wg_add(wg, 4);
    for (int i = 0; i < 4; i++)
        corort_spawn("spawner", spawner, wg);

    pthread_t th;
    pthread_create(&th, NULL, reader, NULL);
    long left = corort_run();
    stop_reader = 1;
    pthread_join(th, NULL);
    take_snapshot(); /* quiescent: must be consistent and empty */
    corort_wg_free(wg);

    printf("run=%ld workers=%u\n", left, workers);
    printf("snapshots>=50: %d consistent>0: %d flagged+consistent=all: %d\n",
           snapshots >= 50, consistent > 0, flagged + consistent == snapshots);
    printf("stable entries>0: %d\n", stable_entries > 0);
    printf("violations=%ld\n", violations);
    printf("table after: live=%llu generation_even=%d\n",
           (unsigned long long)corodbg_table.live_count,
           (int)(corodbg_table.generation % 2 == 0));
    fprintf(stderr, "rt_mn: %ld snapshots, %ld consistent, %ld flagged; "
            "%ld stable entries, %ld mid-update; max live %ld\n",
            snapshots, consistent, flagged, stable_entries, unstable_entries,
            max_live_seen);
    return 0;
}
