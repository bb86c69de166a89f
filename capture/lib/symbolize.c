/*
 * symbolize.c -- addresses to source locations through libcorosym (the
 * project's one symbolizer), cached per address; without debug info a
 * frame keeps module+0xVADDR and the module's build-id, for corosym to
 * finish elsewhere.
 *
 * Return addresses are looked up at pc-1 (the call's line) unless pc
 * starts a function (a coroutine that never ran sits at its start), the
 * rule GDB's adapter applies (gdb/corodbg_gdb/target.py symbolize).
 *
 * Between two unwound frames, GDB's `bt` shows the functions that left
 * by a sibling call (`jmp`) on the way from the caller's call to the
 * callee: its tail-call frames, found from DWARF call sites alone
 * (corosym_tail_calls).  libdwfl unwinds only what is on the stack, so
 * they are added here, cached per (caller's return address, callee's
 * function), for every stack this library shows.
 */
#include <stdlib.h>
#include <string.h>

#include <corosym.h>

#include "corocap.h"

#define MAX_INLINE 16
#define MAX_TAIL 64            /* tail-call frames between two frames
                                  (corosym's longest chain) */

struct entry {                 /* one cached address */
    uint64_t key;              /* pc << 1 | is_return; 0 empty */
    cc_frame f[MAX_INLINE];    /* innermost first */
    size_t n;
};

struct tails {                 /* one cached pair of frames */
    uint64_t caller, callee;   /* caller 0: empty */
    uint32_t at, n;            /* return addresses of the tail calls:
                                  tpc[at .. at + n) (most pairs have
                                  none: kept apart, not MAX_TAIL each) */
};

struct cc_symbolizer {
    cc_target *t;
    corosym_session *s;
    corosym_module **mods;     /* per target module, opened on first use */
    struct entry *tab;
    size_t cap, used;
    struct tails *tails;
    size_t tcap, tused;
    uint64_t *tpc;             /* the pairs' tail calls, back to back */
    size_t ntpc, captpc;
    cc_frame *out;             /* cc_symbolize_raw's answer */
    size_t outcap;
};

cc_symbolizer *cc_symbolizer_new(cc_target *t, const char *const *dirs,
                                 size_t ndirs, int symbolize)
{
    cc_symbolizer *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    s->t = t;
    s->cap = 4096;
    s->tab = calloc(s->cap, sizeof *s->tab);
    s->mods = calloc(t->nmods ? t->nmods : 1, sizeof *s->mods);
    if (!s->tab || !s->mods) {
        cc_symbolizer_free(s);
        return NULL;
    }
    if (symbolize) {
        corosym_options o;
        corosym_options_init(&o);
        o.debug_dirs = dirs;
        o.n_debug_dirs = ndirs;
        o.debuginfod = 0;      /* no network from a capture */
        o.use_cache = 0;       /* never write a cache as the target's user */
        s->s = corosym_session_new(&o);
    }
    return s;
}

void cc_symbolizer_free(cc_symbolizer *s)
{
    if (!s)
        return;
    corosym_session_free(s->s);
    free(s->tails);
    free(s->tpc);
    free(s->out);
    free(s->mods);
    free(s->tab);
    free(s);
}

static corosym_module *module(cc_symbolizer *s, const cc_module *m)
{
    if (!s->s)
        return NULL;
    size_t i = (size_t)(m - s->t->mods);
    if (!s->mods[i])
        s->mods[i] = corosym_module_get(s->s, m->path,
                                        m->build_id_len ? m->build_id : NULL,
                                        m->build_id_len);
    return s->mods[i];
}

static void resolve(cc_symbolizer *s, uint64_t pc, int is_return,
                    struct entry *e)
{
    const cc_module *m = cc_target_module(s->t, pc);
    e->n = 1;
    memset(e->f, 0, sizeof e->f);
    e->f[0].pc = pc;
    e->f[0].lookup = is_return ? pc - 1 : pc;
    e->f[0].mod = m;
    corosym_module *cm = m ? module(s, m) : NULL;
    if (!cm || corosym_module_error(cm))
        return;
    corosym_frame fr[MAX_INLINE];
    uint64_t vaddr = pc - m->bias;
    if (is_return) {
        /* not at a function's first byte: look at the call instead */
        size_t n = corosym_symbolize(cm, vaddr, fr, 1, NULL);
        if (!(n >= 1 && fr[0].symbol && fr[0].symbol_offset == 0))
            vaddr--;
    }
    corosym_miss miss;
    size_t n = corosym_symbolize(cm, vaddr, fr, MAX_INLINE, &miss);
    if (n > MAX_INLINE)
        n = MAX_INLINE;
    if (miss == COROSYM_MISS_MODULE || miss == COROSYM_MISS_NO_INFO ||
        miss == COROSYM_MISS_NOT_FOUND) {
        e->f[0].lookup = vaddr + m->bias;
        return;
    }
    /* the physical frame's function is the outermost of the chain */
    uint64_t start = n ? fr[n - 1].start_address : 0;
    for (size_t i = 0; i < n; i++) {
        cc_frame *f = &e->f[i];
        f->func_start = start ? start + m->bias : 0;
        f->pc = pc;
        f->lookup = vaddr + m->bias;
        f->mod = m;
        f->function = fr[i].function;
        f->file = fr[i].file;
        f->line = fr[i].line;
        f->inlined = i + 1 < n;
    }
    e->n = n;
}

static struct entry *lookup(cc_symbolizer *s, uint64_t pc, int is_return)
{
    uint64_t key = pc << 1 | (is_return ? 1 : 0);
    if (!key)
        key = 2;    /* pc 0, not a return: unused otherwise */
    if (2 * (s->used + 1) > s->cap) {
        size_t nc = s->cap * 2;
        struct entry *nt = calloc(nc, sizeof *nt);
        if (nt) {
            for (size_t i = 0; i < s->cap; i++) {
                if (!s->tab[i].key)
                    continue;
                size_t h = (s->tab[i].key * 0x9e3779b97f4a7c15ull) >> 20;
                while (nt[h % nc].key)
                    h++;
                nt[h % nc] = s->tab[i];
            }
            free(s->tab);
            s->tab = nt;
            s->cap = nc;
        }
    }
    size_t h = (key * 0x9e3779b97f4a7c15ull) >> 20;
    for (;; h++) {
        struct entry *e = &s->tab[h % s->cap];
        if (e->key == key)
            return e;
        if (!e->key) {
            e->key = key;
            s->used++;
            resolve(s, pc, is_return, e);
            return e;
        }
    }
}

/* The tail calls GDB shows between a frame returning to CALLER and the
 * frame below it, which runs the function at CALLEE (in the same module
 * or another: a runtime in a shared library). */
static size_t tail_calls(cc_symbolizer *s, uint64_t caller, uint64_t callee,
                         const uint64_t **pcs)
{
    if (!s->s || !caller || !callee)
        return 0;
    if (2 * (s->tused + 1) > s->tcap) {
        size_t nc = s->tcap ? 2 * s->tcap : 256;
        struct tails *nt = calloc(nc, sizeof *nt);
        if (!nt)
            return 0;
        for (size_t i = 0; i < s->tcap; i++) {
            if (!s->tails[i].caller)
                continue;
            size_t h = (s->tails[i].caller ^ s->tails[i].callee * 31) *
                       0x9e3779b97f4a7c15ull >> 20;
            while (nt[h % nc].caller)
                h++;
            nt[h % nc] = s->tails[i];
        }
        free(s->tails);
        s->tails = nt;
        s->tcap = nc;
    }
    size_t h = (caller ^ callee * 31) * 0x9e3779b97f4a7c15ull >> 20;
    struct tails *e;
    for (;; h++) {
        e = &s->tails[h % s->tcap];
        if (!e->caller)
            break;
        if (e->caller == caller && e->callee == callee) {
            *pcs = e->n ? s->tpc + e->at : NULL;
            return e->n;
        }
    }
    e->caller = caller;
    e->callee = callee;
    e->at = e->n = 0;
    s->tused++;
    const cc_module *m = cc_target_module(s->t, caller);
    const cc_module *m2 = cc_target_module(s->t, callee);
    corosym_module *cm = m ? module(s, m) : NULL;
    corosym_module *cm2 = m2 ? module(s, m2) : NULL;
    uint64_t pc[MAX_TAIL];
    size_t n = 0;
    if (cm && cm2 && !corosym_module_error(cm))
        n = corosym_tail_calls(cm, caller - m->bias, cm2, callee - m2->bias,
                               pc, MAX_TAIL);
    if (n > MAX_TAIL)
        n = MAX_TAIL;
    if (n && s->ntpc + n > s->captpc) {
        size_t nc = s->captpc ? 2 * s->captpc : 64;
        while (nc < s->ntpc + n)
            nc *= 2;
        uint64_t *t = realloc(s->tpc, nc * sizeof *t);
        if (!t)
            n = 0;
        else {
            s->tpc = t;
            s->captpc = nc;
        }
    }
    e->at = (uint32_t)s->ntpc;
    e->n = (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        s->tpc[s->ntpc++] = pc[i] + m->bias;
    *pcs = n ? s->tpc + e->at : NULL;
    return e->n;
}

static cc_frame *out_room(cc_symbolizer *s, size_t n)
{
    if (n > s->outcap) {
        size_t nc = s->outcap ? s->outcap : 32;
        while (nc < n)
            nc *= 2;
        cc_frame *f = realloc(s->out, nc * sizeof *f);
        if (!f)
            return NULL;
        s->out = f;
        s->outcap = nc;
    }
    return s->out;
}

size_t cc_symbolize_raw(cc_symbolizer *s, const uint64_t *pcs, size_t k,
                        int leaf_pc, const cc_frame **out)
{
    if (!pcs[k])
        return 0;
    const uint64_t *tp = NULL;
    size_t nt = 0;
    if (k > 0 && pcs[k - 1]) {
        struct entry *below = lookup(s, pcs[k - 1], !(k == 1 && leaf_pc));
        nt = tail_calls(s, pcs[k], below->f[0].func_start, &tp);
    }
    size_t n = 0;
    for (size_t i = 0; i < nt; i++) {
        /* a tail call's frame: its function at the jump (return pc - 1) */
        struct entry *e = lookup(s, tp[i] - 1, 0);
        cc_frame *f = out_room(s, n + e->n);
        if (!f)
            return 0;
        for (size_t j = 0; j < e->n; j++) {
            f[n + j] = e->f[j];
            f[n + j].pc = tp[i];
            f[n + j].tailcall = 1;
        }
        n += e->n;
    }
    struct entry *e = lookup(s, pcs[k], !(k == 0 && leaf_pc));
    cc_frame *f = out_room(s, n + e->n);
    if (!f)
        return 0;
    memcpy(f + n, e->f, e->n * sizeof *f);
    *out = f;
    return n + e->n;
}

void cc_symbolize_pc(cc_symbolizer *s, uint64_t pc, int is_return,
                     cc_frame *out)
{
    if (!pc) {
        memset(out, 0, sizeof *out);
        return;
    }
    struct entry *e = lookup(s, pc, is_return);
    /* GDB's one-frame view: the outermost function (the symbol), the
     * innermost line */
    *out = e->f[0];
    out->function = e->f[e->n - 1].function;
    out->inlined = 0;
}

size_t cc_symbolize_frames(cc_symbolizer *s, uint64_t pc, int is_return,
                           const cc_frame **out)
{
    if (!pc)
        return 0;
    struct entry *e = lookup(s, pc, is_return);
    *out = e->f;
    return e->n;
}

void cc_symbolize_stack(cc_symbolizer *s, const uint64_t *pcs, size_t n,
                        int leaf_pc, cc_stack *out)
{
    out->n = 0;
    size_t total = 0;
    const cc_frame *fr;
    for (size_t i = 0; i < n; i++)      /* cached: the second pass is free */
        total += cc_symbolize_raw(s, pcs, i, leaf_pc, &fr);
    cc_frame *f = realloc(out->f, (total ? total : 1) * sizeof *f);
    if (!f)
        return;
    out->f = f;
    for (size_t i = 0; i < n; i++) {
        size_t m = cc_symbolize_raw(s, pcs, i, leaf_pc, &fr);
        if (out->n + m > total)
            break;
        memcpy(f + out->n, fr, m * sizeof *fr);
        out->n += m;
    }
}

void cc_stack_clear(cc_stack *s)
{
    if (!s->shared)
        free(s->f);
    s->shared = 0;
    s->f = NULL;
    s->n = 0;
}
