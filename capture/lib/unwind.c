/*
 * unwind.c -- parked coroutines' stacks with elfutils libdwfl.
 *
 * dwfl_attach_state with our own callbacks: each "thread" is one unwind
 * request, its initial registers come from cc_regs_of() (the table's
 * register block) or a stopped thread, and memory comes from the
 * capture's reader through a snapshot of the stack top (one read per
 * coroutine instead of one per word).  CFI from .eh_frame is enough, so a
 * stripped binary unwinds.  The modules are reported at the addresses the
 * target maps them, from the files on this machine.
 */
#include <elfutils/libdwfl.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corocap.h"

/* Stack top copied per unwind: a parked coroutine's frames usually fit
 * in a few hundred bytes; words beyond are read one by one. */
#define SNAP_BYTES 8192
#define SNAP_FIRST 2048

struct cc_unwinder {
    Dwfl *dwfl;
    cc_target *t;
    /* the request being unwound */
    const uint16_t *regno;
    const uint64_t *val;
    size_t nregs;
    uint64_t snap_lo;
    size_t snap_len;
    const uint8_t *snap;        /* own[] or a prefetched buffer */
    uint8_t own[SNAP_BYTES];
    /* prefetched stack tops, used in order by the next unwinds */
    uint64_t pf_sp[CC_PREFETCH];
    size_t pf_got[CC_PREFETCH], pf_n, pf_next;
    uint8_t pf_buf[CC_PREFETCH][SNAP_FIRST];
    /* a caller's snapshot for the next unwind (cc_unwinder_use_snapshot) */
    const uint8_t *given;
    uint64_t given_lo;
    size_t given_len;
};

static pid_t next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
    (void)dwfl; (void)arg; (void)thread_argp;
    return 0;           /* threads are asked for by id only */
}

static bool get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
    (void)dwfl; (void)tid;
    *thread_argp = arg;
    return true;
}

static bool memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result,
                        void *arg)
{
    (void)dwfl;
    cc_unwinder *u = arg;
    uint64_t w;
    if (addr >= u->snap_lo && addr - u->snap_lo + 8 <= u->snap_len) {
        memcpy(&w, u->snap + (addr - u->snap_lo), 8);
    } else if (cc_read(u->t->reader, addr, &w, 8)) {
        return false;
    }
    *result = w;
    return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
    cc_unwinder *u = arg;
    for (size_t i = 0; i < u->nregs; i++) {
        Dwarf_Word v = u->val[i];
        if (!dwfl_thread_state_registers(thread, u->regno[i], 1, &v))
            return false;
    }
    /* x86-64: the pc is DWARF 16 and dwfl also wants it as the pc */
    for (size_t i = 0; i < u->nregs; i++)
        if (u->regno[i] == 16 || u->regno[i] == 32) {
            dwfl_thread_state_register_pc(thread, u->val[i]);
            break;
        }
    return true;
}

static const Dwfl_Thread_Callbacks callbacks = {
    .next_thread = next_thread,
    .get_thread = get_thread,
    .memory_read = memory_read,
    .set_initial_registers = set_initial_registers,
};

static char *debuginfo_path;
static const Dwfl_Callbacks dwfl_cb = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

cc_unwinder *cc_unwinder_new(cc_target *t, const cc_table *tbl, char *err)
{
    cc_unwinder *u = calloc(1, sizeof *u);
    if (!u) {
        snprintf(err, CC_ERRLEN, "out of memory");
        return NULL;
    }
    u->t = t;
    u->dwfl = dwfl_begin(&dwfl_cb);
    if (!u->dwfl) {
        snprintf(err, CC_ERRLEN, "libdwfl: %s", dwfl_errmsg(-1));
        free(u);
        return NULL;
    }
    dwfl_report_begin(u->dwfl);
    Dwfl_Module *first = NULL;
    for (size_t i = 0; i < t->nmods; i++) {
        cc_module *m = &t->mods[i];
        if (!m->is_exec)
            continue;
        Dwfl_Module *dm = dwfl_report_elf(u->dwfl, m->path, m->path, -1,
                                          m->bias, false);
        if (dm && !first)
            first = dm;
    }
    dwfl_report_end(u->dwfl, NULL, NULL);
    if (!first) {
        snprintf(err, CC_ERRLEN, "none of the program's modules could be "
                 "opened for unwinding");
        dwfl_end(u->dwfl);
        free(u);
        return NULL;
    }
    /* the table's arch is the target's: one Ebl from the first module */
    if (!dwfl_attach_state(u->dwfl, NULL, t->pid ? t->pid : 1, &callbacks, u)) {
        snprintf(err, CC_ERRLEN, "libdwfl: %s", dwfl_errmsg(-1));
        dwfl_end(u->dwfl);
        free(u);
        return NULL;
    }
    (void)tbl;
    return u;
}

static int free_fde_table(Dwfl_Module *m, void **user, const char *name,
                          Dwarf_Addr start, void *arg)
{
    (void)m; (void)name; (void)start; (void)arg;
    free(*user);
    *user = NULL;
    return DWARF_CB_OK;
}

void cc_unwinder_free(cc_unwinder *u)
{
    if (!u)
        return;
    dwfl_getmodules(u->dwfl, free_fde_table, NULL, 0);
    dwfl_end(u->dwfl);
    free(u);
}

void cc_unwinder_use_snapshot(cc_unwinder *u, uint64_t lo, const uint8_t *buf,
                              size_t len)
{
    u->given = buf;
    u->given_lo = lo;
    u->given_len = len;
}

void cc_unwinder_prefetch(cc_unwinder *u, const uint64_t *sp,
                          const uint64_t *hi, size_t n)
{
    uint8_t *bufs[CC_PREFETCH];
    size_t lens[CC_PREFETCH];
    if (n > CC_PREFETCH)
        n = CC_PREFETCH;
    for (size_t i = 0; i < n; i++) {
        u->pf_sp[i] = sp[i];
        bufs[i] = u->pf_buf[i];
        lens[i] = SNAP_FIRST;
        if (hi[i] > sp[i] && hi[i] - sp[i] < SNAP_FIRST)
            lens[i] = (size_t)(hi[i] - sp[i]);
        if (!sp[i])
            lens[i] = 0;
    }
    cc_read_many(u->t->reader, u->pf_sp, bufs, lens, n, u->pf_got);
    u->pf_n = n;
    u->pf_next = 0;
}

struct walk { uint64_t *pcs; size_t n, max; const char *why; };

static int frame_cb(Dwfl_Frame *f, void *arg)
{
    struct walk *w = arg;
    Dwarf_Addr pc;
    bool act;
    if (!dwfl_frame_pc(f, &pc, &act))
        return DWARF_CB_ABORT;
    if (pc == 0 && w->n)
        return DWARF_CB_ABORT;      /* the zero return address: the end */
    w->pcs[w->n++] = pc;
    return w->n < w->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

size_t cc_unwind(cc_unwinder *u, const uint16_t *regno, const uint64_t *val,
                 size_t nregs, uint64_t stack_hi, uint64_t *pcs, size_t max,
                 const char **why)
{
    *why = NULL;
    if (!nregs || !max)
        return 0;
    u->regno = regno;
    u->val = val;
    u->nregs = nregs;
    u->snap_len = 0;
    uint64_t sp = 0;
    for (size_t i = 0; i < nregs; i++)
        if (regno[i] == 7 || regno[i] == 31)
            sp = val[i];
    if (u->given) {
        u->snap = u->given;
        u->snap_lo = u->given_lo;
        u->snap_len = u->given_len;
        u->given = NULL;
        sp = 0;
    }
    if (sp && u->pf_next < u->pf_n && u->pf_sp[u->pf_next] == sp) {
        size_t k = u->pf_next++;
        if (u->pf_got[k]) {
            u->snap = u->pf_buf[k];
            u->snap_lo = sp;
            u->snap_len = u->pf_got[k];
            sp = 0;                 /* no read needed */
        }
    }
    if (sp) {
        u->snap = u->own;
        /* one read of the stack top; fewer bytes when it crosses the end */
        size_t len = SNAP_FIRST;
        if (stack_hi > sp && stack_hi - sp < len)
            len = (size_t)(stack_hi - sp);
        while (len >= 64 && cc_read(u->t->reader, sp, u->own, len))
            len /= 2;
        if (len >= 64) {
            u->snap_lo = sp;
            u->snap_len = len;
        }
    }
    struct walk w = {pcs, 0, max, NULL};
    /* each request gets a fresh thread state: dwfl caches it per tid */
    static pid_t next_tid = 1;
    int rc = dwfl_getthread_frames(u->dwfl, next_tid++ & 0x3fffffff,
                                   frame_cb, &w);
    if (rc == -1 && w.n < max) {
        int e = dwfl_errno();
        /* running off the outermost frame is the normal end */
        if (e && w.n < 2)
            *why = dwfl_errmsg(e);
    }
    return w.n;
}

/* ---- function starts from .eh_frame_hdr ---------------------------------
 * A stripped program has no symbols, but every function with CFI has an
 * FDE, and .eh_frame_hdr's sorted table gives each FDE's first address:
 * the start of the function a pc is in, for cutting a stack at its start
 * function (cc_frames_shown) the same with or without symbols. */

struct fde_table {
    const uint8_t *tab;     /* (int32 start, int32 fde) pairs, datarel */
    size_t n;
    uint64_t base;          /* .eh_frame_hdr's address (file vaddr) */
};

static int32_t s32(const uint8_t *p)
{
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The table of module M, parsed once (kept in its dwfl userdata). */
static const struct fde_table *fde_table(Dwfl_Module *m)
{
    void **user;
    dwfl_module_info(m, &user, NULL, NULL, NULL, NULL, NULL, NULL);
    if (*user)
        return *user;
    struct fde_table *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    *user = t;      /* empty when unusable: asked once */
    GElf_Addr bias;
    Elf *e = dwfl_module_getelf(m, &bias);
    size_t nph;
    if (!e || elf_getphdrnum(e, &nph))
        return t;
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_GNU_EH_FRAME)
            continue;
        Elf_Data *d = elf_getdata_rawchunk(e, (int64_t)ph.p_offset,
                                           ph.p_filesz, ELF_T_BYTE);
        const uint8_t *h = d ? d->d_buf : NULL;
        /* version 1; eh_frame_ptr sdata4; count udata4; table datarel
         * sdata4: what GNU ld and lld write (other encodings: unknown) */
        if (!h || d->d_size < 12 || h[0] != 1 || (h[1] & 0x0f) != 0x0b ||
            h[2] != 0x03 || h[3] != 0x3b)
            break;
        uint32_t n;
        memcpy(&n, h + 8, 4);
        if (n > (d->d_size - 12) / 8)
            break;
        t->tab = h + 12;
        t->n = n;
        t->base = ph.p_vaddr;
        break;
    }
    return t;
}

uint64_t cc_unwinder_function_start(cc_unwinder *u, uint64_t addr)
{
    Dwfl_Module *m = u ? dwfl_addrmodule(u->dwfl, addr) : NULL;
    const struct fde_table *t = m ? fde_table(m) : NULL;
    Dwarf_Addr bias;
    if (!t || !t->n || !dwfl_module_getelf(m, &bias))
        return 0;
    uint64_t v = addr - bias;
    /* the last entry starting at or below V */
    size_t lo = 0, hi = t->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (t->base + (uint64_t)(int64_t)s32(t->tab + 8 * mid) <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (!lo)
        return 0;
    return t->base + (uint64_t)(int64_t)s32(t->tab + 8 * (lo - 1)) + bias;
}
