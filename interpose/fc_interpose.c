/*
 * fc_interpose.c -- publish Boost.Context fcontext coroutines (Boost
 * Coroutine2, Fiber, Asio spawn through Boost.Coroutine) in the corodbg
 * table with no change to the program: LD_PRELOAD=libcorodbg-fcontext.so.
 * docs/interpose.md, "Boost.Context".
 *
 * The model:
 *   - make_fcontext(sp, size, fn) creates a coroutine: entry = fn,
 *     creation site = make_fcontext's return address, stack [sp - size,
 *     sp).  A new context on the stack top of a parked one ends that one
 *     (its stack was reused).
 *   - A suspended context is the sp Boost saved (fcontext_t).  A hash maps
 *     each saved sp to its coroutine; an sp not in it (a thread's own
 *     stack) is "not a coroutine".
 *   - jump_fcontext/ontop_fcontext (fc_stubs.S) switch the running
 *     coroutine out with its saved sp = entry rsp - 0x38, known before
 *     Boost stores it, and the target in.  The table reads registers in
 *     place from Boost's frame (register mode frame): one word per switch.
 *   - Boost.Context's fiber ends with ontop_fcontext(..., rec, fiber_exit)
 *     where rec is its control record, placed 64 bytes above the stack
 *     top it gave make_fcontext (Boost 1.74 create_fiber): such an ontop
 *     exits the coroutine.
 *
 * The saved sp is published before Boost's first eight instructions
 * write the frame: a debugger stopped inside jump_fcontext itself may
 * show the leaving coroutine's registers half-written.
 * Loaded into a program without Boost: nothing is called, nothing
 * printed; the table stays empty.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>

#include "corodbg.h"

#define HIDDEN __attribute__((visibility("hidden")))
#define TLS __thread __attribute__((tls_model("initial-exec")))

/* Boost 1.74 x86-64: the frame jump/ontop_fcontext push below the return
 * address (FACTS.md): mxcsr/x87 cw, r12..r15, rbx, rbp, then the return
 * address; the caller's sp is the saved sp + 0x40. */
#define FC_FRAME 0x38
#define L CORODBG_LOC_LOAD
static const struct corodbg_reg_loc fc_layout[] = {
    {12, L, 0x08}, {13, L, 0x10}, {14, L, 0x18}, {15, L, 0x20},
    {3, L, 0x28},  {6, L, 0x30},  {16, L, 0x38}, {7, CORODBG_LOC_ADDR, 0x40},
};
#undef L
/* How far above the stack top fiber_exit's control record may lie. */
#define FC_RECORD_SPAN 4096

HIDDEN void *fc_real_jump;
HIDDEN void *fc_real_ontop;
static uint64_t (*real_make)(void *sp, size_t size, void (*fn)(void));

HIDDEN void fc_pre_switch(uint64_t to, uint64_t entry_rsp, uint64_t vp,
                          uint64_t fn);

struct fcoro {
    corodbg_co *co;
    uint64_t sp;  /* the saved sp while parked: the table reads it */
    uint64_t top; /* the stack top given to make_fcontext */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static TLS struct fcoro *cur; /* running on this thread; NULL: its own */

/* ---- u64 -> fcoro maps: open addressing, backward-shift deletion ---- */

struct slot {
    uint64_t key;
    struct fcoro *val;
};
struct map {
    struct slot *s;
    size_t cap, n; /* cap a power of two, n < cap / 2 */
};
static struct map by_sp, by_top;

static size_t home(uint64_t k, size_t cap)
{
    return (size_t)((k * 0x9e3779b97f4a7c15ull) >> 17) & (cap - 1);
}

static void map_put(struct map *m, uint64_t k, struct fcoro *v);

static int map_grow(struct map *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    struct slot *s = calloc(cap, sizeof *s), *old = m->s;
    if (!s)
        return -1;
    size_t ocap = m->cap;
    m->s = s;
    m->cap = cap;
    m->n = 0;
    for (size_t i = 0; i < ocap; i++)
        if (old[i].key)
            map_put(m, old[i].key, old[i].val);
    free(old);
    return 0;
}

static void map_put(struct map *m, uint64_t k, struct fcoro *v)
{
    if (2 * (m->n + 1) > m->cap && map_grow(m))
        return; /* out of memory: this context is not tracked */
    size_t i = home(k, m->cap);
    while (m->s[i].key && m->s[i].key != k)
        i = (i + 1) & (m->cap - 1);
    m->n += !m->s[i].key;
    m->s[i].key = k;
    m->s[i].val = v;
}

/* Remove K; its value, or NULL. */
static struct fcoro *map_take(struct map *m, uint64_t k)
{
    if (!m->cap || !k)
        return NULL;
    size_t mask = m->cap - 1, i = home(k, m->cap);
    while (m->s[i].key && m->s[i].key != k)
        i = (i + 1) & mask;
    if (!m->s[i].key)
        return NULL;
    struct fcoro *v = m->s[i].val;
    for (size_t j = i;;) { /* shift later members of the run back */
        j = (j + 1) & mask;
        if (!m->s[j].key)
            break;
        size_t h = home(m->s[j].key, m->cap);
        if ((i <= j) ? (i < h && h <= j) : (i < h || h <= j))
            continue;
        m->s[i] = m->s[j];
        i = j;
    }
    m->s[i].key = 0;
    m->s[i].val = NULL;
    m->n--;
    return v;
}

/* ---- the coroutines ---- */

static void end(struct fcoro *f) /* lock held */
{
    if (f->sp)
        map_take(&by_sp, f->sp);
    map_take(&by_top, f->top);
    corodbg_exit(f->co);
    free(f);
}

void fc_pre_switch(uint64_t to, uint64_t entry_rsp, uint64_t vp, uint64_t fn)
{
    struct fcoro *from = cur;
    pthread_mutex_lock(&lock);
    struct fcoro *next = map_take(&by_sp, to);
    if (next)
        next->sp = 0;
    int exiting = from && fn && vp >= from->top &&
                  vp < from->top + FC_RECORD_SPAN;
    if (from && !exiting) {
        from->sp = entry_rsp - FC_FRAME;
        map_put(&by_sp, from->sp, from);
    }
    corodbg_switch(from ? from->co : NULL, next ? next->co : NULL);
    if (exiting)
        end(from);
    pthread_mutex_unlock(&lock);
    cur = next;
}

/* make_fcontext is an ordinary call: a C wrapper is enough. */
__attribute__((visibility("default"))) uint64_t
make_fcontext(void *sp, size_t size, void (*fn)(void))
{
    uint64_t fctx = real_make(sp, size, fn);
    struct fcoro *f = calloc(1, sizeof *f);
    if (!f || !fctx)
        return fctx;
    f->top = (uint64_t)(uintptr_t)sp;
    f->co = corodbg_create("fcontext", (void *)fn, (char *)sp - size, size,
                           __builtin_return_address(0));
    if (!f->co) {
        free(f);
        return fctx;
    }
    f->sp = fctx;
    corodbg_regs_at_frame(f->co, &f->sp);
    pthread_mutex_lock(&lock);
    struct fcoro *old = map_take(&by_top, f->top);
    if (old)
        end(old); /* its stack now holds a new context */
    map_put(&by_top, f->top, f);
    map_put(&by_sp, fctx, f);
    pthread_mutex_unlock(&lock);
    return fctx;
}

__attribute__((constructor)) static void fc_init(void)
{
    fc_real_jump = dlsym(RTLD_NEXT, "jump_fcontext");
    fc_real_ontop = dlsym(RTLD_NEXT, "ontop_fcontext");
    *(void **)&real_make = dlsym(RTLD_NEXT, "make_fcontext");
    if (!fc_real_jump || !fc_real_ontop || !real_make)
        return; /* no Boost.Context: stay silent; nothing calls us */
    corodbg_set_runtime_name("fcontext");
    /* Boost's frames between a parked fiber and the user's code, so -u,
     * -group user and leaks show the user's line with no setting. */
    corodbg_set_runtime_code("*_fcontext,boost::context::*,boost::fibers::*,"
                             "boost::coroutines::*,boost::coroutines2::*,"
                             "boost::asio::*,std::*");
    corodbg_set_frame_layout(fc_layout,
                             sizeof fc_layout / sizeof fc_layout[0]);
}
