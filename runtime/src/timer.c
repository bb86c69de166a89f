/* The timer heap: sleeping coroutines ordered by deadline.  A binary
 * min-heap of coroutine pointers; every function runs under the
 * scheduler's lock (sched.c). */
#include "internal.h"

#include <stdlib.h>

static corort_co **heap;
static size_t nheap, capheap;

static void place(size_t i, corort_co *co)
{
    heap[i] = co;
    co->heap_idx = i;
}

static void sift_up(size_t i)
{
    corort_co *co = heap[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (heap[parent]->wake_at <= co->wake_at)
            break;
        place(i, heap[parent]);
        i = parent;
    }
    place(i, co);
}

static void sift_down(size_t i)
{
    corort_co *co = heap[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= nheap)
            break;
        if (c + 1 < nheap && heap[c + 1]->wake_at < heap[c]->wake_at)
            c++;
        if (co->wake_at <= heap[c]->wake_at)
            break;
        place(i, heap[c]);
        i = c;
    }
    place(i, co);
}

int corort__timer_add(corort_co *co)
{
    if (nheap == capheap) {
        size_t cap = capheap ? 2 * capheap : 64;
        corort_co **h = realloc(heap, cap * sizeof *h);
        if (!h)
            return CORORT_ENOMEM;
        heap = h;
        capheap = cap;
    }
    heap[nheap] = co;
    sift_up(nheap++);
    return CORORT_OK;
}

corort_co *corort__timer_pop_expired(uint64_t now)
{
    if (nheap == 0 || heap[0]->wake_at > now)
        return NULL;
    corort_co *co = heap[0];
    if (--nheap > 0) {
        heap[0] = heap[nheap];
        sift_down(0);
    }
    return co;
}

uint64_t corort__timer_next(void)
{
    /* A deadline of 0 would read as "none": CLOCK_MONOTONIC is never 0
     * after boot, but keep the contract exact. */
    if (nheap == 0)
        return 0;
    return heap[0]->wake_at ? heap[0]->wake_at : 1;
}
