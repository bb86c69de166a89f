/*
 * uc_interpose.c -- publish ucontext coroutines in the corodbg table with
 * no change to the program: LD_PRELOAD=libcorodbg-ucontext.so.
 *
 * The model (docs/interpose.md):
 *   - makecontext(ucp, fn, ...) creates a coroutine: entry = fn, creation
 *     site = makecontext's return address, stack = ucp->uc_stack.
 *   - A coroutine is identified by the ucontext_t it resumes from.  A hash
 *     table maps that address to the coroutine in O(1).  Contexts that no
 *     makecontext built (the main context of every OS thread, signal
 *     contexts) are "not a coroutine".
 *   - swapcontext(oucp, ucp) parks the current coroutine (its register
 *     block is written from the registers swapcontext saves into oucp) and
 *     runs the one ucp belongs to; setcontext(ucp) runs it without saving.
 *   - A coroutine whose function returns is exited: the function's return
 *     address (glibc's __start_context) is replaced by uc_exit_trampoline.
 *   - A context overwritten while its coroutine is parked (getcontext,
 *     makecontext or swapcontext's save into its ucontext_t) ends that
 *     coroutine: it can never resume.
 *   - libpcl adapter: when the process uses Debian's libpcl, co_create and
 *     co_delete are interposed too, so a coroutine is named and dated
 *     after the user's function and co_create call site, and co_delete
 *     (also how co_exit ends a coroutine) exits it.
 *
 * All hooks run with one mutex held; the table calls (corodbg_*) nest
 * inside it, never the other way round.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include "corodbg.h"

#define HIDDEN __attribute__((visibility("hidden")))
/* Preloaded at start-up, so static TLS: no __tls_get_addr call per hook. */
#define TLS __thread __attribute__((tls_model("initial-exec")))

/* The stack frame the assembly stubs pass (uc_stubs.S). */
struct uc_frame {
    uint64_t rax, r9, r8, rcx, rdx, rsi, rdi;
    uint64_t regs[CORODBG_NREGS]; /* rip rsp rbp rbx r12 r13 r14 r15 */
};

/* The real glibc functions; the stubs tail-jump through these. */
HIDDEN void *uc_real_swapcontext;
HIDDEN void *uc_real_setcontext;
HIDDEN void *uc_real_getcontext;
HIDDEN void *uc_real_makecontext;

HIDDEN void uc_pre_swap(struct uc_frame *f);
HIDDEN void uc_pre_set(struct uc_frame *f);
HIDDEN void uc_pre_get(struct uc_frame *f);
HIDDEN void uc_pre_make(struct uc_frame *f);
HIDDEN uint64_t uc_post_make(void);
HIDDEN uint64_t uc_on_return(uint64_t *link_slot);
HIDDEN extern char uc_exit_trampoline[];

/* One coroutine as the interposer knows it. */
struct ucoro {
    uintptr_t ucp;     /* key: the ucontext_t it resumes from */
    corodbg_co *co;    /* its table entry */
    struct ucoro *next;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct ucoro **buckets;
static size_t nbuckets, count;
static uint64_t start_context; /* glibc's __start_context, or 0 */

/* The coroutine running on this OS thread; NULL on its own context. */
static TLS struct ucoro *cur;

/* Between makecontext's pre- and post-hook (see uc_stubs.S). */
static TLS struct {
    uint64_t ret;
    uintptr_t ucp;
    uint64_t fn;
} making;

/* Set by the co_create adapter around the real co_create. */
static TLS struct {
    int active;
    uint64_t fn;
    uint64_t create_pc;
} pcl;

/* CORODBG_UC_CRASH=1: crash handler installed, alternate stacks given
 * out (see altstack_ensure), each freed by this key's destructor. */
static int crash_mode;
static pthread_key_t altstack_key;
static void altstack_free(void *mem);

static uintptr_t (*real_co_create)(uintptr_t, uintptr_t, uintptr_t,
                                   uintptr_t);
static void (*real_co_delete)(uintptr_t);
static int is_pcl; /* the co_create found is Debian's libpcl's */

/* ---- the ucontext address -> coroutine hash (chained, grows x2) ---- */

static size_t bucket_of(uintptr_t ucp, size_t n)
{
    uint64_t h = (uint64_t)ucp * 0x9e3779b97f4a7c15ull;
    return (size_t)(h >> 20) & (n - 1);
}

static struct ucoro *find(uintptr_t ucp)
{
    if (!nbuckets || !ucp)
        return NULL;
    for (struct ucoro *u = buckets[bucket_of(ucp, nbuckets)]; u; u = u->next)
        if (u->ucp == ucp)
            return u;
    return NULL;
}

static void grow(void)
{
    size_t n = nbuckets ? nbuckets * 2 : 1024;
    struct ucoro **nb = calloc(n, sizeof *nb);
    if (!nb)
        return; /* keep the old table: longer chains, still correct */
    for (size_t i = 0; i < nbuckets; i++) {
        struct ucoro *u = buckets[i], *next;
        for (; u; u = next) {
            next = u->next;
            size_t b = bucket_of(u->ucp, n);
            u->next = nb[b];
            nb[b] = u;
        }
    }
    free(buckets);
    buckets = nb;
    nbuckets = n;
}

static int insert(struct ucoro *u)
{
    if (count >= nbuckets)
        grow();
    if (!nbuckets)
        return -1;
    size_t b = bucket_of(u->ucp, nbuckets);
    u->next = buckets[b];
    buckets[b] = u;
    count++;
    return 0;
}

static void unlink_ucoro(struct ucoro *u)
{
    struct ucoro **p = &buckets[bucket_of(u->ucp, nbuckets)];
    for (; *p; p = &(*p)->next)
        if (*p == u) {
            *p = u->next;
            count--;
            return;
        }
}

/* The coroutine ended: DEAD in the table, then forgotten. */
static void end(struct ucoro *u)
{
    unlink_ucoro(u);
    corodbg_exit(u->co);
    if (cur == u)
        cur = NULL;
    free(u);
}

/* ---- set-up ---- */

static void probe_start_context(void)
{
    /* Build (never run) one context to learn the return address glibc's
     * makecontext plants: the exit trampoline replaces exactly that. */
    static ucontext_t probe;
    static char stack[4096] __attribute__((aligned(16)));
    int (*get)(ucontext_t *) = (int (*)(ucontext_t *))uc_real_getcontext;
    void (*make)(ucontext_t *, void (*)(void), int, ...) =
        (void (*)(ucontext_t *, void (*)(void), int, ...))uc_real_makecontext;
    if (get(&probe) != 0)
        return;
    probe.uc_stack.ss_sp = stack;
    probe.uc_stack.ss_size = sizeof stack;
    probe.uc_link = NULL;
    make(&probe, (void (*)(void))probe_start_context, 0);
    uintptr_t sp = (uintptr_t)probe.uc_mcontext.gregs[REG_RSP];
    if (sp < (uintptr_t)stack || sp + 8 > (uintptr_t)stack + sizeof stack)
        return;
    uint64_t ret = *(uint64_t *)sp;
    Dl_info a, b;
    if (dladdr((void *)(uintptr_t)ret, &a) && dladdr(uc_real_makecontext, &b) &&
        a.dli_fbase == b.dli_fbase)
        start_context = ret; /* inside libc, as expected */
}

static void init_once(void)
{
    uc_real_swapcontext = dlsym(RTLD_NEXT, "swapcontext");
    uc_real_setcontext = dlsym(RTLD_NEXT, "setcontext");
    uc_real_getcontext = dlsym(RTLD_NEXT, "getcontext");
    uc_real_makecontext = dlsym(RTLD_NEXT, "makecontext");
    if (!uc_real_swapcontext || !uc_real_setcontext || !uc_real_getcontext ||
        !uc_real_makecontext) {
        fprintf(stderr, "libcorodbg-ucontext: cannot find the ucontext "
                        "functions of the C library\n");
        abort();
    }
    *(void **)&real_co_create = dlsym(RTLD_NEXT, "co_create");
    *(void **)&real_co_delete = dlsym(RTLD_NEXT, "co_delete");
    Dl_info di;
    if (real_co_create && real_co_delete &&
        dladdr((void *)real_co_create, &di) && di.dli_fname &&
        strstr(di.dli_fname, "libpcl"))
        is_pcl = 1;
    probe_start_context();
    corodbg_set_runtime_name("ucontext");
    /* glibc's switch functions and libpcl's API are runtime code. */
    corodbg_set_runtime_code("*swapcontext*,*setcontext*,co_*");
    const char *crash = getenv("CORODBG_UC_CRASH");
    if (crash && strcmp(crash, "1") == 0 &&
        pthread_key_create(&altstack_key, altstack_free) == 0) {
        crash_mode = 1;
        corodbg_install_crash_handler();
    }
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
    pthread_once(&once, init_once);
}

__attribute__((constructor)) static void uc_constructor(void)
{
    init();
}

/* ---- naming ---- */

static void name_lookup(char *buf, size_t cap, const char *prefix,
                        uint64_t fn)
{
    Dl_info di;
    memset(&di, 0, sizeof di);
    if (!dladdr((void *)(uintptr_t)fn, &di))
        memset(&di, 0, sizeof di);
    if (di.dli_sname && di.dli_saddr == (void *)(uintptr_t)fn) {
        snprintf(buf, cap, "%s:%s", prefix, di.dli_sname);
    } else if (di.dli_fname && di.dli_fbase) {
        const char *base = strrchr(di.dli_fname, '/');
        base = base ? base + 1 : di.dli_fname;
        snprintf(buf, cap, "%s:%s+0x%llx", prefix, base,
                 (unsigned long long)(fn - (uintptr_t)di.dli_fbase));
    } else {
        snprintf(buf, cap, "%s:0x%llx", prefix, (unsigned long long)fn);
    }
}

/* dladdr walks a module's symbols: remember the last names (lock held). */
#define NAME_CACHE 256
static struct {
    uint64_t fn;
    int pcl;
    char name[CORODBG_NAME_MAX];
} name_cache[NAME_CACHE];

static void name_for(char *buf, size_t cap, const char *prefix, uint64_t fn)
{
    int is_pcl_name = prefix[0] == 'p';
    size_t i = (size_t)((fn * 0x9e3779b97f4a7c15ull) >> 56) % NAME_CACHE;
    if (name_cache[i].fn != fn || name_cache[i].pcl != is_pcl_name) {
        name_lookup(name_cache[i].name, sizeof name_cache[i].name, prefix, fn);
        name_cache[i].fn = fn;
        name_cache[i].pcl = is_pcl_name;
    }
    snprintf(buf, cap, "%s", name_cache[i].name);
}

/* ---- the hooks ---- */

/* The current coroutine saves its state into OUCP: OUCP now belongs to
 * it, and any other coroutine parked there is overwritten. */
static void save_into(uintptr_t oucp, const uint64_t *regs)
{
    struct ucoro *owner = find(oucp);
    if (owner && owner != cur)
        end(owner);
    if (!cur)
        return;
    if (cur->ucp != oucp) {
        unlink_ucoro(cur);
        cur->ucp = oucp;
        insert(cur);
    }
    uint64_t *block = corodbg_regs(cur->co);
    if (block)
        memcpy(block, regs, CORODBG_NREGS * sizeof *block);
}

/* ---- crash mode: an alternate signal stack per thread ----
 *
 * A coroutine that overflows its stack faults with no stack left: the
 * kernel can only run the crash handler (SA_ONSTACK) on an alternate
 * stack, else it kills the process unrecorded.  So with CORODBG_UC_CRASH=1
 * every thread that enters a coroutine gets one, unless it has its own;
 * a key destructor frees it when the thread ends. */
#define ALTSTACK_SIZE (64u * 1024u)
static TLS int altstack_checked;

static void altstack_free(void *mem)
{
    stack_t ss = {.ss_sp = NULL, .ss_flags = SS_DISABLE, .ss_size = 0};
    sigaltstack(&ss, NULL);
    free(mem);
}

static void altstack_ensure(void)
{
    stack_t old, ss;
    altstack_checked = 1;
    if (sigaltstack(NULL, &old) != 0 || !(old.ss_flags & SS_DISABLE))
        return;
    ss.ss_sp = malloc(ALTSTACK_SIZE);
    ss.ss_size = ALTSTACK_SIZE;
    ss.ss_flags = 0;
    if (!ss.ss_sp || sigaltstack(&ss, NULL) != 0) {
        free(ss.ss_sp);
        return;
    }
    pthread_setspecific(altstack_key, ss.ss_sp);
}

static void switch_to(struct ucoro *to)
{
    if (to && crash_mode && !altstack_checked)
        altstack_ensure();
    corodbg_switch(cur ? cur->co : NULL, to ? to->co : NULL);
    cur = to;
}

void uc_pre_swap(struct uc_frame *f)
{
    init();
    pthread_mutex_lock(&lock);
    save_into((uintptr_t)f->rdi, f->regs);
    switch_to(find((uintptr_t)f->rsi));
    pthread_mutex_unlock(&lock);
}

void uc_pre_set(struct uc_frame *f)
{
    init();
    pthread_mutex_lock(&lock);
    /* The current coroutine keeps whatever it last saved. */
    switch_to(find((uintptr_t)f->rdi));
    pthread_mutex_unlock(&lock);
}

void uc_pre_get(struct uc_frame *f)
{
    init();
    pthread_mutex_lock(&lock);
    struct ucoro *owner = find((uintptr_t)f->rdi);
    if (owner == cur && cur) {
        /* getcontext + setcontext switching: the coroutine saves itself. */
        uint64_t *block = corodbg_regs(cur->co);
        if (block)
            memcpy(block, f->regs, CORODBG_NREGS * sizeof *block);
    } else if (owner) {
        end(owner); /* its parked state is overwritten */
    }
    pthread_mutex_unlock(&lock);
}

void uc_pre_make(struct uc_frame *f)
{
    init();
    making.ret = f->regs[CORODBG_REG_PC];
    making.ucp = (uintptr_t)f->rdi;
    making.fn = f->rsi;
}

uint64_t uc_post_make(void)
{
    uint64_t ret = making.ret;
    ucontext_t *uc = (ucontext_t *)making.ucp;
    if (!uc)
        return ret;
    pthread_mutex_lock(&lock);
    struct ucoro *old = find(making.ucp);
    if (old)
        end(old); /* the context is rebuilt: its coroutine is gone */

    uint64_t fn = making.fn, site = ret;
    const char *prefix = "uc";
    if (pcl.active) {
        fn = pcl.fn;
        site = pcl.create_pc;
        prefix = "pcl";
    }
    char name[CORODBG_NAME_MAX];
    name_for(name, sizeof name, prefix, fn);
    struct ucoro *u = malloc(sizeof *u);
    corodbg_co *co = NULL;
    if (u)
        co = corodbg_create(name, (const void *)(uintptr_t)fn,
                            uc->uc_stack.ss_sp, uc->uc_stack.ss_size,
                            (const void *)(uintptr_t)site);
    if (!co) { /* table full: the program runs on, unpublished */
        free(u);
        pthread_mutex_unlock(&lock);
        return ret;
    }
    u->ucp = making.ucp;
    u->co = co;
    if (insert(u) != 0) {
        corodbg_exit(co);
        free(u);
        pthread_mutex_unlock(&lock);
        return ret;
    }

    /* Never ran: pc = the function glibc starts, sp = its first rsp,
     * whose return slot holds the exit trampoline (CFI: stop here). */
    uint64_t *block = corodbg_regs(co);
    uintptr_t sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
    memset(block, 0, CORODBG_NREGS * sizeof *block);
    block[CORODBG_REG_PC] = (uint64_t)uc->uc_mcontext.gregs[REG_RIP];
    block[CORODBG_REG_SP] = sp;
    block[3] = (uint64_t)uc->uc_mcontext.gregs[REG_RBX];
    uintptr_t lo = (uintptr_t)uc->uc_stack.ss_sp;
    if (start_context && sp >= lo && sp + 8 <= lo + uc->uc_stack.ss_size &&
        *(uint64_t *)sp == start_context)
        *(uint64_t *)sp = (uint64_t)(uintptr_t)uc_exit_trampoline;
    pthread_mutex_unlock(&lock);
    return ret;
}

uint64_t uc_on_return(uint64_t *link_slot)
{
    pthread_mutex_lock(&lock);
    if (cur)
        end(cur);
    uintptr_t link = (uintptr_t)*link_slot;
    switch_to(link ? find(link) : NULL);
    pthread_mutex_unlock(&lock);
    return start_context;
}

/* ---- the libpcl adapter ----
 * Arguments pass through untouched as four integer registers, so a
 * different library's co_create of up to four integer arguments still
 * works; only libpcl's is interpreted. */

__attribute__((visibility("default"))) uintptr_t
co_create(uintptr_t func, uintptr_t data, uintptr_t stack,
                    uintptr_t size)
{
    init();
    if (!real_co_create) {
        fprintf(stderr, "libcorodbg-ucontext: co_create not found\n");
        abort();
    }
    if (!is_pcl)
        return real_co_create(func, data, stack, size);
    pcl.active = 1;
    pcl.fn = func;
    pcl.create_pc = (uint64_t)(uintptr_t)__builtin_return_address(0);
    uintptr_t co = real_co_create(func, data, stack, size);
    pcl.active = 0;
    return co;
}

__attribute__((visibility("default"))) void co_delete(uintptr_t coro)
{
    init();
    if (!real_co_delete) {
        fprintf(stderr, "libcorodbg-ucontext: co_delete not found\n");
        abort();
    }
    if (is_pcl) {
        /* libpcl's coroutine_t is the address of its ucontext_t.  It
         * refuses (and exits) to delete the running coroutine. */
        pthread_mutex_lock(&lock);
        struct ucoro *u = find(coro);
        if (u && u != cur)
            end(u);
        pthread_mutex_unlock(&lock);
    }
    real_co_delete(coro);
}
