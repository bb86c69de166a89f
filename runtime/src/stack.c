/* Coroutine stacks and the initial context.
 *
 * Default: each stack is its own mapping, PROT_NONE guard page below it,
 * so an overflow is a SIGSEGV in the right coroutine instead of silent
 * corruption.  Freed stacks are kept in a small cache to make create+exit
 * cheap.  With no_guard, stacks are carved 64 at a time from one mapping
 * (the kernel limits a process to ~65k mappings, and a guard page costs
 * one) and recycled forever, so memory stays bounded by the peak. */
#include "internal.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/asan_interface.h>
#endif

/* Tell Valgrind about every stack, so it neither warns "client switching
 * stacks?" nor misreads frames.  The macros cost a few instructions and
 * do nothing outside Valgrind. */
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CORORT_VALGRIND 1
#endif
#endif

#define CACHE_MAX 1024/* guarded stacks kept for reuse */
#define SLAB_STACKS 64

static size_t stack_size = CORORT_STACK_DEFAULT;
static size_t page_size;
static int no_guard;
static corort__lock stack_lock = PTHREAD_MUTEX_INITIALIZER;

/* Free stacks, linked through a word near their top (which the next user
 * touches anyway, so an idle slab costs no resident memory). */
struct free_stack {
    struct free_stack *next;
};
static struct free_stack *free_list;
static size_t nfree;

static struct free_stack *link_of(void *lo, size_t size)
{
    return (struct free_stack *)((char *)lo + size - 64);
}

static void *lo_of(struct free_stack *f, size_t size)
{
    return (char *)f + 64 - size;
}

static size_t page(void)
{
    if (!page_size)
        page_size = (size_t)sysconf(_SC_PAGESIZE);
    return page_size;
}

void corort__stack_config(size_t size, int no_guard_)
{
    size_t p = page();
    if (size == 0)
        size = CORORT_STACK_DEFAULT;
    if (size < CORORT_STACK_MIN)
        size = CORORT_STACK_MIN;
    size = (size + p - 1) & ~(p - 1);
    corort__lock_take(&stack_lock);
    if (size != stack_size || !!no_guard_ != no_guard) {
        /* Drop the cache of the old shape (slab stacks are never unmapped:
         * forgetting them only leaks address space of an old config). */
        while (free_list) {
            struct free_stack *f = free_list;
            free_list = f->next;
            if (!no_guard)
                munmap((char *)lo_of(f, stack_size) - p, stack_size + p);
        }
        nfree = 0;
        stack_size = size;
        no_guard = !!no_guard_;
    }
    corort__lock_drop(&stack_lock);
}

static int slab_refill(void)
{
    size_t len = stack_size * SLAB_STACKS;
    char *m = mmap(NULL, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED)
        return CORORT_ENOMEM;
    for (size_t i = SLAB_STACKS; i-- > 0;) {
        struct free_stack *f = link_of(m + i * stack_size, stack_size);
        f->next = free_list;
        free_list = f;
        nfree++;
    }
    return CORORT_OK;
}

int corort__stack_alloc(corort_co *co)
{
    size_t p = page();
    void *lo = NULL;

    corort__lock_take(&stack_lock);
    if (!free_list && no_guard && slab_refill() != CORORT_OK) {
        corort__lock_drop(&stack_lock);
        return CORORT_ENOMEM;
    }
    if (free_list) {
        struct free_stack *f = free_list;
        free_list = f->next;
        nfree--;
        lo = lo_of(f, stack_size);
    }
    size_t size = stack_size;
    int guard = !no_guard;
    corort__lock_drop(&stack_lock);

    if (!lo) {
        char *m = mmap(NULL, size + p, PROT_NONE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            return CORORT_ENOMEM;
        if (mprotect(m + p, size, PROT_READ | PROT_WRITE) != 0) {
            munmap(m, size + p);
            return CORORT_ENOMEM;
        }
        lo = m + p;
    }
#ifdef __SANITIZE_ADDRESS__
    /* A coroutine that exited from deep frames leaves poisoned redzones. */
    __asan_unpoison_memory_region(lo, size);
#endif
    (void)guard;
    co->stack_lo = lo;
    co->stack_size = size;
#ifdef CORORT_VALGRIND
    co->valgrind_id = VALGRIND_STACK_REGISTER(lo, (char *)lo + size);
#endif
    return CORORT_OK;
}

void corort__stack_free(corort_co *co)
{
    size_t p = page();
    if (!co->stack_lo)
        return;
#ifdef CORORT_VALGRIND
    VALGRIND_STACK_DEREGISTER(co->valgrind_id);
#endif
    corort__lock_take(&stack_lock);
    if (co->stack_size == stack_size && (no_guard || nfree < CACHE_MAX)) {
        struct free_stack *f = link_of(co->stack_lo, co->stack_size);
        f->next = free_list;
        free_list = f;
        nfree++;
        corort__lock_drop(&stack_lock);
    } else {
        int guard = !no_guard;
        corort__lock_drop(&stack_lock);
        if (guard)
            munmap((char *)co->stack_lo - p, co->stack_size + p);
    }
    co->stack_lo = NULL;
}

void corort__ctx_init(corort_co *co)
{
    uintptr_t top = ((uintptr_t)co->stack_lo + co->stack_size) & ~(uintptr_t)15;
    uint64_t *bottom = (uint64_t *)(top - 16);

    /* The zero return address (x86-64) / zero frame record (aarch64) that
     * ends every unwind of this coroutine. */
    bottom[0] = 0;
    bottom[1] = 0;
    memset(co->regs, 0, CORORT_NREGS * sizeof(uint64_t));
    co->regs[CORODBG_REG_PC] = (uint64_t)(uintptr_t)&corort__trampoline;
    co->regs[CORODBG_REG_SP] = (uint64_t)(uintptr_t)bottom;
#if defined(__x86_64__)
    co->regs[CORORT_REG_RBX] = (uint64_t)(uintptr_t)co;
#elif defined(__aarch64__)
    co->regs[CORORT_REG_X19] = (uint64_t)(uintptr_t)co;
#endif
}
