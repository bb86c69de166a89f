/* Leak hunting from inside the process: which coroutines are still alive
 * that should not be, where they were created, and what they wait on. */
#include "internal.h"

#include <dlfcn.h>
#include <inttypes.h>
#include <string.h>

static const char *const state_names[] = {
#define CORODBG__STATE_NAME(n, v, t) [v] = t,
    CORODBG_STATES(CORODBG__STATE_NAME)
};

static const char *const wait_names[] = {
#define CORODBG__WAIT_NAME(n, v, t) [v] = t,
    CORODBG_WAITS(CORODBG__WAIT_NAME)
};

static const char *state_name(uint32_t s)
{
    return s < CORODBG_NSTATES ? state_names[s] : "?";
}

static void print_age(FILE *out, uint64_t ns)
{
    uint64_t ms = ns / 1000000u;
    if (ms < 1000)
        fprintf(out, "%" PRIu64 "ms", ms);
    else if (ms < 60000)
        fprintf(out, "%" PRIu64 ".%01" PRIu64 "s", ms / 1000, ms % 1000 / 100);
    else
        fprintf(out, "%" PRIu64 "m%02" PRIu64 "s", ms / 60000, ms / 1000 % 60);
}

/* "func+0x1f (file)" when dladdr knows the address, else the raw pc. */
static void print_site(FILE *out, uint64_t pc)
{
    Dl_info info;
    if (pc && dladdr((void *)(uintptr_t)pc, &info) && info.dli_fname) {
        const char *base = strrchr(info.dli_fname, '/');
        base = base ? base + 1 : info.dli_fname;
        if (info.dli_sname)
            fprintf(out, "%s+0x%" PRIxPTR " (%s)", info.dli_sname,
                    (uintptr_t)pc - (uintptr_t)info.dli_saddr, base);
        else
            fprintf(out, "%s+0x%" PRIxPTR, base,
                    (uintptr_t)pc - (uintptr_t)info.dli_fbase);
        return;
    }
    fprintf(out, "0x%" PRIx64, pc);
}

static void print_entry(FILE *out, const corodbg_co *co, uint64_t now)
{
    fprintf(out, "  #%" PRIu64 " \"%.*s\" %s", co->id,
            (int)sizeof co->name, co->name, state_name(co->state));
    if (co->state == CORODBG_BLOCKED) {
        uint32_t w = co->wait_reason;
        fprintf(out, " [%s", w < CORODBG_NWAITS ? wait_names[w] : "?");
        if (co->wait_addr)
            fprintf(out, " 0x%" PRIx64, co->wait_addr);
        fputs("]", out);
    }
    fputs(" for ", out);
    print_age(out, now > co->since_ns ? now - co->since_ns : 0);
    fputs(", created at ", out);
    print_site(out, co->create_pc);
    fputc('\n', out);
}

/* Print every live entry with id >= FIRST_ID whose state is in
 * STATE_MASK; returns how many.  Holds the lock so slots stay put. */
static size_t walk(uint64_t first_id, uint32_t state_mask, FILE *out,
                   const char *title)
{
    size_t n = 0;
    uint64_t now = corodbg__now();
    pthread_mutex_lock(&corodbg__lock);
    uint32_t slots = corodbg_table.nchunks * CORODBG_CHUNK_ENTRIES;
    for (uint32_t i = 0; i < slots; i++) {
        const corodbg_co *co = corodbg__slot(i);
        if (!co->id || co->id < first_id || !(state_mask & (1u << co->state)))
            continue;
        if (n++ == 0 && out)
            fprintf(out, "%s\n", title);
        if (out)
            print_entry(out, co, now);
    }
    pthread_mutex_unlock(&corodbg__lock);
    return n;
}

corodbg_mark corodbg_leak_mark(void)
{
    corodbg_mark m;
    pthread_mutex_lock(&corodbg__lock);
    m.first_id = corodbg_table.next_id;
    m.live = (size_t)corodbg_table.live_count;
    pthread_mutex_unlock(&corodbg__lock);
    return m;
}

size_t corodbg_leak_check(corodbg_mark mark, FILE *out)
{
    uint32_t not_free = ~(1u << CORODBG_FREE);
    return walk(mark.first_id, not_free, out ? out : stderr,
                "corodbg: coroutines created since the mark and still live:");
}

size_t corodbg_report_blocked(FILE *out)
{
    return walk(0, 1u << CORODBG_BLOCKED, out ? out : stderr,
                "corodbg: blocked coroutines:");
}
