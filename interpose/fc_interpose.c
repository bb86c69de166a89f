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
 *   - A suspended context is the sp Boost saved (fcontext_t).  Which
 *     coroutine it belongs to is written on its own stack, just below
 *     that sp (the cookie, below), so a jump finds its target with no
 *     lock and no shared map; an sp without a valid cookie (a thread's
 *     own stack) is "not a coroutine".
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
#include <string.h>
#include <sys/auxv.h>

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

/* What the stub writes below the saved sp of the context it parks:
 * returned in rax:rdx, stored at sp - 8 (id) and sp - 16 (seal). */
struct fc_cookie {
    uint64_t id;   /* the coroutine's slot index + 1; 0: not a coroutine */
    uint64_t seal; /* id ^ sp ^ fc_key */
};
HIDDEN struct fc_cookie fc_pre_switch(uint64_t to, uint64_t entry_rsp,
                                      uint64_t vp, uint64_t fn);

struct fcoro {
    corodbg_co *co;
    uint64_t sp;  /* the saved sp while parked, else 0: the table reads it */
    uint64_t top; /* the stack top given to make_fcontext */
    uint32_t id;  /* its slot index + 1: what its cookies hold */
    uint32_t next_free; /* while free: id of the next free slot, or 0 */
};

/* make_fcontext and the end of a coroutine take this lock (slots, the
 * by_top map, corodbg_create/exit take a lock anyway); a jump does not. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static TLS struct fcoro *cur; /* running on this thread; NULL: its own */

/* ---- the cookie: which coroutine a saved sp belongs to, lock-free ----
 *
 * Why on the stack: a parked fcontext is only its sp, and nothing
 * writes below a parked context's sp until it runs again (the stack is
 * its own; signal handlers run on the running context's stack).  So
 * the two words just below the frame Boost pushes are ours: the stub
 * stores the cookie there after fc_pre_switch returns (inside the red
 * zone, which the kernel's signal delivery skips; fc_pre_switch's own
 * frame covers those words while it runs), and make_fcontext's wrapper
 * stores one below a new context.  A context parked from a thread's own
 * stack gets a zero cookie, clearing whatever was there.
 *
 * Why it can be trusted: the id is only an index, checked against the
 * slot table's bounds, and slots are never freed (type-stable), so a
 * wrong cookie can never make us read unmapped memory.  The slot found
 * must be parked at exactly that sp (slot->sp == to): slot->sp is set
 * only when that coroutine parks there, and then its cookie is the one
 * below (nothing wrote below since).  Stale bytes on a reused stack, or
 * on a thread's stack, fail the seal (a per-process random key) or the
 * slot->sp test.  Ordering: the cookie and slot->sp are written before
 * the real jump that produces the fcontext value, and the program hands
 * that value to whichever thread resumes it with its own synchronization
 * (Boost.Fiber's ready queues), which orders our writes before the read.
 */
static uint64_t fc_key;

#define FC_CHUNK_BITS 12 /* 4096 slots (128 KiB) per chunk */
#define FC_CHUNK (1u << FC_CHUNK_BITS)
#define FC_NCHUNKS (CORODBG_MAX_COROUTINES / FC_CHUNK)
static struct fcoro *chunks[FC_NCHUNKS]; /* published with release */
static uint32_t nslots;    /* slots handed out so far; lock held */
static uint32_t free_head; /* id of a free slot, or 0; lock held */

static struct fc_cookie seal(uint64_t id, uint64_t sp)
{
    struct fc_cookie c = {id, id ^ sp ^ fc_key};
    return c;
}

static struct fcoro *slot_at(uint64_t id)
{
    uint64_t i = id - 1;
    if (!id || i >= (uint64_t)FC_NCHUNKS * FC_CHUNK)
        return NULL;
    struct fcoro *c =
        __atomic_load_n(&chunks[i >> FC_CHUNK_BITS], __ATOMIC_ACQUIRE);
    return c ? &c[i & (FC_CHUNK - 1)] : NULL;
}

/* The coroutine parked at saved sp TO, or NULL. */
static struct fcoro *lookup(uint64_t to)
{
    /* Boost's contexts are 16-byte aligned stack addresses; a jump to
     * anything else faults in Boost anyway, and is left to do so there
     * rather than in the reads below (nothing is mapped under 64 KiB). */
    if (to < 0x10000 || (to & 7))
        return NULL;
    const uint64_t *below = (const uint64_t *)(uintptr_t)to;
    struct fc_cookie c = {below[-1], below[-2]};
    struct fcoro *f = c.id && c.seal == seal(c.id, to).seal
                          ? slot_at(c.id) : NULL;
    return f && __atomic_load_n(&f->sp, __ATOMIC_RELAXED) == to ? f : NULL;
}

/* Store F's cookie (F NULL: an empty one) below a new context at SP. */
static void put_cookie(const struct fcoro *f, uint64_t sp)
{
    struct fc_cookie c = f ? seal(f->id, sp) : (struct fc_cookie){0, 0};
    uint64_t *below = (uint64_t *)(uintptr_t)sp;
    below[-1] = c.id;
    below[-2] = c.seal;
}

/* ---- u64 -> fcoro map: open addressing, backward-shift deletion ---- */

struct slot {
    uint64_t key;
    struct fcoro *val;
};
struct map {
    struct slot *s;
    size_t cap, n; /* cap a power of two, n < cap / 2 */
};
static struct map by_top; /* stack top -> its coroutine; lock held */

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

/* A zeroed slot, or NULL (out of memory, or the table's maximum). */
static struct fcoro *slot_new(void) /* lock held */
{
    struct fcoro *f;
    if (free_head) {
        f = slot_at(free_head);
        free_head = f->next_free;
    } else {
        if (nslots >= (uint64_t)FC_NCHUNKS * FC_CHUNK)
            return NULL;
        uint32_t c = nslots >> FC_CHUNK_BITS;
        if (!chunks[c]) {
            struct fcoro *base = calloc(FC_CHUNK, sizeof *base);
            if (!base)
                return NULL;
            __atomic_store_n(&chunks[c], base, __ATOMIC_RELEASE);
        }
        f = &chunks[c][nslots & (FC_CHUNK - 1)];
        f->id = ++nslots;
    }
    f->next_free = 0;
    return f;
}

static void end(struct fcoro *f) /* lock held */
{
    map_take(&by_top, f->top);
    corodbg_exit(f->co);
    /* Kept, not freed: a cookie naming it stays harmless (sp 0 never
     * matches a saved sp), and the table's regs_addr never dangles. */
    __atomic_store_n(&f->sp, 0, __ATOMIC_RELAXED);
    f->co = NULL;
    f->top = 0;
    f->next_free = free_head;
    free_head = f->id;
}

/* Out of line: once per coroutine, and its call keeps the lock and the
 * map out of the jump path's registers. */
static __attribute__((noinline, cold)) void end_locked(struct fcoro *f)
{
    pthread_mutex_lock(&lock);
    end(f);
    pthread_mutex_unlock(&lock);
}

struct fc_cookie fc_pre_switch(uint64_t to, uint64_t entry_rsp, uint64_t vp,
                               uint64_t fn)
{
    struct fcoro *from = cur, *next = lookup(to);
    struct fc_cookie out = {0, 0};
    if (next) /* running: its saved sp is spent */
        __atomic_store_n(&next->sp, 0, __ATOMIC_RELAXED);
    int exiting = from && fn && vp >= from->top &&
                  vp < from->top + FC_RECORD_SPAN;
    if (from && !exiting) {
        uint64_t sp = entry_rsp - FC_FRAME;
        /* release: what the switch below publishes follows it */
        __atomic_store_n(&from->sp, sp, __ATOMIC_RELEASE);
        out = seal(from->id, sp);
    }
    corodbg_switch_inline(from ? from->co : NULL, next ? next->co : NULL);
    if (exiting)
        end_locked(from);
    cur = next;
    return out;
}

/* make_fcontext is an ordinary call: a C wrapper is enough. */
__attribute__((visibility("default"))) uint64_t
make_fcontext(void *sp, size_t size, void (*fn)(void))
{
    uint64_t fctx = real_make(sp, size, fn);
    if (!fctx)
        return fctx;
    uint64_t top = (uint64_t)(uintptr_t)sp;
    corodbg_co *co = corodbg_create("fcontext", (void *)fn,
                                    (char *)sp - size, size,
                                    __builtin_return_address(0));
    struct fcoro *f = NULL;
    pthread_mutex_lock(&lock);
    struct fcoro *old = map_take(&by_top, top);
    if (old)
        end(old); /* its stack now holds a new context */
    if (co && (f = slot_new())) {
        f->co = co;
        f->top = top;
        __atomic_store_n(&f->sp, fctx, __ATOMIC_RELAXED);
        map_put(&by_top, top, f);
    }
    pthread_mutex_unlock(&lock);
    if (co && !f)
        corodbg_exit(co); /* out of slots: not tracked */
    else if (f)
        corodbg_regs_at_frame(co, &f->sp);
    put_cookie(f, fctx); /* untracked: an empty cookie, not stale bytes */
    return fctx;
}

__attribute__((constructor)) static void fc_init(void)
{
    fc_real_jump = dlsym(RTLD_NEXT, "jump_fcontext");
    fc_real_ontop = dlsym(RTLD_NEXT, "ontop_fcontext");
    *(void **)&real_make = dlsym(RTLD_NEXT, "make_fcontext");
    if (!fc_real_jump || !fc_real_ontop || !real_make)
        return; /* no Boost.Context: stay silent; nothing calls us */
    /* The seal's key: random bytes the kernel gave the process, no call
     * that could fail or block. */
    const unsigned char *r = (const unsigned char *)getauxval(AT_RANDOM);
    if (r)
        memcpy(&fc_key, r + 8, sizeof fc_key);
    corodbg_set_runtime_name("fcontext");
    /* Boost's frames between a parked fiber and the user's code, so -u,
     * -group user and leaks show the user's line with no setting. */
    corodbg_set_runtime_code("*_fcontext,boost::context::*,boost::fibers::*,"
                             "boost::coroutines::*,boost::coroutines2::*,"
                             "boost::asio::*,std::*");
    corodbg_set_frame_layout(fc_layout,
                             sizeof fc_layout / sizeof fc_layout[0]);
}
