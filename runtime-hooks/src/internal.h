/* Private to libcorodbg: shared between table.c, transition.c, panic.c
 * and leak.c.  Nothing here is ABI. */
#ifndef CORODBG_INTERNAL_H
#define CORODBG_INTERNAL_H

#include "corodbg.h"

#include <pthread.h>

#define CORODBG_CHUNK_ENTRIES 4096u
#define CORODBG_MAX_CHUNKS (CORODBG_MAX_COROUTINES / CORODBG_CHUNK_ENTRIES)

#define CORODBG_HIDDEN __attribute__((visibility("hidden")))
#define CORODBG_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* Serialises slot allocation and the leak helpers' walks. */
CORODBG_HIDDEN extern pthread_mutex_t corodbg__lock;

/* Writer side of the per-entry seqlock (odd while the entry changes),
 * for every multi-field update.  A context switch does not need it: see
 * corodbg__switch_entries in corodbg.h.
 * Only the owning thread writes an entry, so the counter is read once:
 * begin returns the even value, end stores it + 2. */
static inline uint32_t corodbg__seq_begin(corodbg_co *co)
{
    uint32_t seq = co->seq;
    __atomic_store_n(&co->seq, seq + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    return seq;
}

static inline void corodbg__seq_end(corodbg_co *co, uint32_t seq)
{
    __atomic_thread_fence(__ATOMIC_RELEASE);
    __atomic_store_n(&co->seq, seq + 2, __ATOMIC_RELAXED);
}

/* The same, keeping the counter in the entry between begin and end. */
static inline void corodbg__entry_begin(corodbg_co *co)
{
    (void)corodbg__seq_begin(co);
}

static inline void corodbg__entry_end(corodbg_co *co)
{
    corodbg__seq_end(co, co->seq - 1);
}

/* CLOCK_MONOTONIC in ns; also stamped into corodbg_table.clock_ns so a
 * core file tells how "now" looked to the process. */
CORODBG_HIDDEN uint64_t corodbg__now(void);

/* Fire an event of KIND for CO unconditionally (the caller filtered). */
CORODBG_HIDDEN void corodbg__fire(uint32_t kind, corodbg_co *co,
                                  uint32_t old_state, uint32_t new_state);

/* Does CO pass the id and name parts of the armed filter? */
CORODBG_HIDDEN int corodbg__filter_matches(const corodbg_co *co);

/* The coroutine running on this thread (set by corodbg_switch). */
#define corodbg__current (corodbg__thread.current)

/* Entry by slot index; the chunk must exist. */
static inline corodbg_co *corodbg__slot(uint32_t idx)
{
    uint64_t chunk = ((const uint64_t *)(uintptr_t)corodbg_table.chunk_dir)
        [idx / CORODBG_CHUNK_ENTRIES];
    return (corodbg_co *)(uintptr_t)chunk + idx % CORODBG_CHUNK_ENTRIES;
}

/* Set the state; true when the armed filter wants to hear of it.  The
 * caller fires corodbg__state_event() only after corodbg__entry_end(), so
 * a debugger stopped in the hook sees a consistent entry. */
static inline int corodbg__set_state(corodbg_co *co, uint32_t new_state,
                                     uint32_t *old_state)
{
    *old_state = co->state;
    co->state = new_state;
    return CORODBG_UNLIKELY(corodbg_table.filter_state_mask &
                            (1u << new_state)) != 0;
}

#endif
