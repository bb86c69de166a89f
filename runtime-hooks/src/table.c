/* The descriptor and slot management: create, exit, lookup.
 *
 * Entries live in chunks of CORODBG_CHUNK_ENTRIES, allocated on demand
 * and never freed or moved, so a published entry address stays valid for
 * the life of the process (a debugger may hold it across stops, and a
 * runtime saves its context straight into it).  Freed slots go on a LIFO
 * stack and are reused first, which keeps memory bounded by the peak
 * number of live coroutines.  Ids are sequential and never reused; an
 * open-addressing hash maps id -> slot for O(1) lookup. */
#include "internal.h"

#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>

/* The field records, one per line of the header's X-macros: where each
 * member lives and how a reader decodes it. */
#define FIELD(struct_, enum_, member, kind)                                \
    {enum_, (uint16_t)offsetof(struct_, member),                           \
     (uint16_t)sizeof(((struct_ *)0)->member), CORODBG_KIND_##kind},
#define DF(name, id, member, kind)                                         \
    FIELD(struct corodbg_descriptor, CORODBG_DF_##name, member, kind)
#define EF(name, id, member, kind)                                         \
    FIELD(struct corodbg_entry, CORODBG_EF_##name, member, kind)

static uint64_t chunk_dir[CORODBG_MAX_CHUNKS];

__attribute__((section(".corodbg"), used, visibility("default"), aligned(64)))
struct corodbg_descriptor corodbg_table = {
    .magic = CORODBG_MAGIC,
    .abi_major = CORODBG_ABI_MAJOR,
    .abi_minor = CORODBG_ABI_MINOR,
    .desc_size = sizeof(struct corodbg_descriptor),
    .entry_size = sizeof(struct corodbg_entry),
    .ptr_size = sizeof(void *),
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    .byte_order = 1,
#else
    .byte_order = 2,
#endif
    .arch = CORODBG_ARCH,
    .desc_fields_off = offsetof(struct corodbg_descriptor, desc_fields),
    .desc_fields_count = CORODBG_NDESC_FIELDS,
    .entry_fields_off = offsetof(struct corodbg_descriptor, entry_fields),
    .entry_fields_count = CORODBG_NENTRY_FIELDS,
    .regs_off = offsetof(struct corodbg_descriptor, reg_dwarf),
    .regs_count = CORODBG_NREGS,
    .field_record_size = sizeof(struct corodbg_field),
    .next_id = 1,
    .chunk_dir = (uint64_t)(uintptr_t)chunk_dir,
    .chunk_entries = CORODBG_CHUNK_ENTRIES,
    .event_hook = (uint64_t)(uintptr_t)&corodbg_event_hook,
    .desc_fields = {CORODBG_DESC_FIELDS(DF)},
    .entry_fields = {CORODBG_ENTRY_FIELDS(EF)},
    .reg_dwarf = CORODBG_REG_DWARF,
};

/* The prefix is frozen: readers hard-code exactly these offsets. */
_Static_assert(offsetof(struct corodbg_descriptor, abi_major) == 8, "abi");
_Static_assert(offsetof(struct corodbg_descriptor, desc_size) == 12, "abi");
_Static_assert(offsetof(struct corodbg_descriptor, ptr_size) == 16, "abi");
_Static_assert(offsetof(struct corodbg_descriptor, desc_fields_off) == 20,
               "abi");
_Static_assert(offsetof(struct corodbg_descriptor, generation) == 40, "abi");

/* The X-macro lines and the structs agree (the checks behind "append a
 * line and a member": docs/abi.md, "Adding a field").  Each member's
 * size suits its kind, as readers check it (decode.py field_records). */
#define KIND_FITS(size, kind) KIND_FITS_##kind(size)
#define KIND_FITS_UINT(n) ((n) == 1 || (n) == 2 || (n) == 4 || (n) == 8)
#define KIND_FITS_PTR(n) ((n) == sizeof(void *))
#define KIND_FITS_CHARS(n) ((n) >= 1)
#define KIND_FITS_U64S(n) ((n) % 8 == 0)
#define KIND_FITS_REGLOCS(n) ((n) % sizeof(struct corodbg_reg_loc) == 0)
#define CHECK_KIND(struct_, member, kind)                                  \
    _Static_assert(KIND_FITS(sizeof(((struct_ *)0)->member), kind),        \
                   #member ": its size does not suit kind " #kind);
#define CHECK_DF(name, id, member, kind)                                   \
    CHECK_KIND(struct corodbg_descriptor, member, kind)
#define CHECK_EF(name, id, member, kind)                                   \
    CHECK_KIND(struct corodbg_entry, member, kind)
CORODBG_DESC_FIELDS(CHECK_DF)
CORODBG_ENTRY_FIELDS(CHECK_EF)

/* Every member is described: the described bytes add up to the struct
 * (the descriptor's body, between its prefix and the records, has one
 * undescribed padding word, reserved1).  A member added to a struct
 * without its X-macro line fails here. */
#define SIZE_DF(name, id, member, kind)                                    \
    + sizeof(((struct corodbg_descriptor *)0)->member)
#define SIZE_EF(name, id, member, kind)                                    \
    + sizeof(((struct corodbg_entry *)0)->member)
_Static_assert(0 CORODBG_ENTRY_FIELDS(SIZE_EF) ==
                   sizeof(struct corodbg_entry),
               "an entry member without a CORODBG_ENTRY_FIELDS line");
_Static_assert(offsetof(struct corodbg_descriptor, generation)
                   CORODBG_DESC_FIELDS(SIZE_DF)
                   + sizeof(((struct corodbg_descriptor *)0)->reserved1) ==
                   offsetof(struct corodbg_descriptor, desc_fields),
               "a descriptor member without a CORODBG_DESC_FIELDS line");
_Static_assert(sizeof(struct corodbg_descriptor) <= UINT16_MAX,
               "record offsets are 16 bits");
/* CORODBG_NREGS is the length of the DWARF list it sizes. */
_Static_assert(sizeof((uint16_t[])CORODBG_REG_DWARF) ==
                   CORODBG_NREGS * sizeof(uint16_t),
               "CORODBG_NREGS is not the length of CORODBG_REG_DWARF");
_Static_assert(sizeof(struct corodbg_reg_loc) == 8, "layout record");
_Static_assert(sizeof(struct corodbg_entry) % 8 == 0, "entry stride");
/* corodbg__put_state_tid stores both with one aligned 64-bit store. */
_Static_assert(offsetof(struct corodbg_entry, state) % 8 == 0, "state word");
_Static_assert(offsetof(struct corodbg_entry, tid) ==
                   offsetof(struct corodbg_entry, state) + 4, "state word");
_Static_assert(CORODBG_NSTATES <= 32, "state mask is 32 bits");

pthread_mutex_t corodbg__lock = PTHREAD_MUTEX_INITIALIZER;

/* Free slots, LIFO.  Capacity grows with the chunks. */
static uint32_t *free_stack;
static size_t free_top;
static uint32_t slots_used; /* slots ever handed out (high-water mark) */

/* id -> slot + 1 (0 = empty); open addressing, linear probing,
 * backward-shift deletion so no tombstones accumulate under churn. */
struct id_slot {
    uint64_t id;
    uint32_t slot;
};
static struct id_slot *id_map;
static size_t id_map_cap; /* power of two */

static size_t id_hash(uint64_t id)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdULL;
    id ^= id >> 33;
    return (size_t)id;
}

static int id_map_put(uint64_t id, uint32_t slot);

static int id_map_grow(void)
{
    size_t old_cap = id_map_cap;
    struct id_slot *old = id_map;
    size_t cap = old_cap ? old_cap * 2 : 1024;
    struct id_slot *map = calloc(cap, sizeof *map);
    if (!map)
        return CORODBG_ENOMEM;
    id_map = map;
    id_map_cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].id)
            id_map_put(old[i].id, old[i].slot);
    free(old);
    return CORODBG_OK;
}

static int id_map_put(uint64_t id, uint32_t slot)
{
    size_t mask = id_map_cap - 1;
    size_t i = id_hash(id) & mask;
    while (id_map[i].id)
        i = (i + 1) & mask;
    id_map[i].id = id;
    id_map[i].slot = slot;
    return CORODBG_OK;
}

static struct id_slot *id_map_find(uint64_t id)
{
    if (!id_map_cap || !id)
        return NULL;
    size_t mask = id_map_cap - 1;
    for (size_t i = id_hash(id) & mask; id_map[i].id; i = (i + 1) & mask)
        if (id_map[i].id == id)
            return &id_map[i];
    return NULL;
}

static void id_map_del(struct id_slot *hole)
{
    size_t mask = id_map_cap - 1;
    size_t i = (size_t)(hole - id_map);
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        if (!id_map[j].id)
            break;
        size_t home = id_hash(id_map[j].id) & mask;
        /* Move j back into the hole unless its home lies in (i, j]. */
        int stays = (i <= j) ? (i < home && home <= j)
                             : (i < home || home <= j);
        if (!stays) {
            id_map[i] = id_map[j];
            i = j;
        }
    }
    id_map[i].id = 0;
    id_map[i].slot = 0;
}

/* Publish one more chunk.  Lock held, generation odd. */
static int add_chunk(void)
{
    uint32_t n = corodbg_table.nchunks;
    if (n >= CORODBG_MAX_CHUNKS)
        return CORODBG_ENOMEM;
    size_t bytes = (size_t)CORODBG_CHUNK_ENTRIES * sizeof(struct corodbg_entry);
    void *chunk = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (chunk == MAP_FAILED)
        return CORODBG_ENOMEM;
    size_t cap = (size_t)(n + 1) * CORODBG_CHUNK_ENTRIES;
    uint32_t *stack = realloc(free_stack, cap * sizeof *stack);
    if (!stack) {
        munmap(chunk, bytes);
        return CORODBG_ENOMEM;
    }
    free_stack = stack;
    chunk_dir[n] = (uint64_t)(uintptr_t)chunk;
    __atomic_store_n(&corodbg_table.nchunks, n + 1, __ATOMIC_RELEASE);
    return CORODBG_OK;
}

static void generation_bump(void)
{
    __atomic_store_n(&corodbg_table.generation, corodbg_table.generation + 1,
                     __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* A free slot index, or -1.  Lock held, generation odd. */
static int64_t take_slot(void)
{
    if (free_top)
        return free_stack[--free_top];
    if (slots_used == corodbg_table.nchunks * CORODBG_CHUNK_ENTRIES &&
        add_chunk() != CORODBG_OK)
        return -1;
    return slots_used++;
}

static void copy_name(char *dst, const char *src, size_t cap, int *trunc)
{
    size_t n = src ? strnlen(src, cap) : 0;
    *trunc = n == cap;
    if (n == cap)
        n = cap - 1;
    memcpy(dst, src ? src : "", n);
    memset(dst + n, 0, cap - n);
}

corodbg_co *corodbg_create(const char *name, const void *entry_fn,
                           void *stack_lo, size_t stack_size,
                           const void *create_pc)
{
    uint64_t now = corodbg__now();
    corodbg_co *parent = corodbg__current;
    corodbg_co *co = NULL;

    pthread_mutex_lock(&corodbg__lock);
    if (2 * (corodbg_table.live_count + 1) > id_map_cap &&
        id_map_grow() != CORODBG_OK)
        goto out;
    generation_bump();
    int64_t slot = take_slot();
    if (slot >= 0) {
        uint64_t id = corodbg_table.next_id;
        co = corodbg__slot((uint32_t)slot);
        corodbg__entry_begin(co);
        uint32_t seq = co->seq;
        memset(co, 0, sizeof *co);
        co->seq = seq;
        int trunc;
        copy_name(co->name, name, sizeof co->name, &trunc);
        co->entry_fn = (uint64_t)(uintptr_t)entry_fn;
        co->create_pc = (uint64_t)(uintptr_t)create_pc;
        co->stack_lo = (uint64_t)(uintptr_t)stack_lo;
        co->stack_hi = co->stack_lo + stack_size;
        co->created_ns = co->since_ns = now;
        co->parent_id = parent ? parent->id : 0;
        co->state = CORODBG_RUNNABLE;
        co->id = id;
        corodbg__entry_end(co);
        id_map_put(id, (uint32_t)slot);
        corodbg_table.next_id = id + 1;
        corodbg_table.live_count++;
    }
    generation_bump();
out:
    pthread_mutex_unlock(&corodbg__lock);
    if (co && CORODBG_UNLIKELY(corodbg_table.filter_state_mask &
                               (1u << CORODBG_RUNNABLE)))
        corodbg__state_event(co, CORODBG_FREE, CORODBG_RUNNABLE);
    return co;
}

/* The id-map record of CO when CO is a live entry, else NULL.  Lock held.
 * A stale handle (double exit) has id 0 or an id now mapped elsewhere. */
static struct id_slot *live_record(const corodbg_co *co)
{
    struct id_slot *m = id_map_find(co->id);
    return m && corodbg__slot(m->slot) == co ? m : NULL;
}

/* Free CO's slot.  Lock held; M is CO's live id-map record. */
static void free_slot(corodbg_co *co, struct id_slot *m)
{
    uint32_t slot = m->slot;
    generation_bump();
    id_map_del(m);
    corodbg__entry_begin(co);
    co->id = 0;
    co->state = CORODBG_FREE;
    co->panic_msg = 0;
    co->panic_len = 0;
    corodbg__entry_end(co);
    free_stack[free_top++] = slot;
    corodbg_table.live_count--;
    generation_bump();
}

int corodbg_exit(corodbg_co *co)
{
    if (!co)
        return CORODBG_EINVAL;
    pthread_mutex_lock(&corodbg__lock);
    struct id_slot *m = live_record(co);
    if (!m || co->state == CORODBG_DEAD) { /* stale handle: double exit */
        pthread_mutex_unlock(&corodbg__lock);
        return CORODBG_ESTATE;
    }
    char *msg = (char *)(uintptr_t)co->panic_msg;
    int armed = (corodbg_table.filter_state_mask & (1u << CORODBG_DEAD)) != 0;
    if (CORODBG_UNLIKELY(armed)) {
        /* DEAD is observable, and catchable, before the slot is recycled:
         * the debugger stops in the hook with the entry intact and the
         * lock released. */
        uint32_t old;
        uint64_t now = corodbg__now();
        corodbg__entry_begin(co);
        corodbg__set_state(co, CORODBG_DEAD, &old);
        co->tid = 0;
        co->since_ns = now;
        corodbg__entry_end(co);
        pthread_mutex_unlock(&corodbg__lock);
        corodbg__state_event(co, old, CORODBG_DEAD);
        pthread_mutex_lock(&corodbg__lock);
        m = live_record(co);
    }
    if (m)
        free_slot(co, m);
    pthread_mutex_unlock(&corodbg__lock);
    if (corodbg__current == co)
        corodbg__current = NULL;
    if (!m)
        return CORODBG_ESTATE; /* a racing exit freed it meanwhile */
    free(msg);
    return CORODBG_OK;
}

corodbg_co *corodbg_lookup(uint64_t id)
{
    corodbg_co *co = NULL;
    pthread_mutex_lock(&corodbg__lock);
    struct id_slot *m = id_map_find(id);
    if (m)
        co = corodbg__slot(m->slot);
    pthread_mutex_unlock(&corodbg__lock);
    return co;
}

uint64_t corodbg_id(const corodbg_co *co)
{
    return co ? co->id : 0;
}

uint64_t *corodbg_regs(corodbg_co *co)
{
    return co ? co->regs : NULL;
}

size_t corodbg_live_count(void)
{
    return (size_t)__atomic_load_n(&corodbg_table.live_count, __ATOMIC_RELAXED);
}

int corodbg_set_name(corodbg_co *co, const char *name)
{
    if (!co)
        return CORODBG_EINVAL;
    int trunc;
    corodbg__entry_begin(co);
    copy_name(co->name, name, sizeof co->name, &trunc);
    corodbg__entry_end(co);
    return trunc ? CORODBG_ETRUNC : CORODBG_OK;
}

void corodbg_set_runtime_name(const char *name)
{
    int trunc;
    copy_name(corodbg_table.runtime_name, name,
              sizeof corodbg_table.runtime_name, &trunc);
}

const char *corodbg_strerror(int result)
{
    switch (result) {
    case CORODBG_OK: return "success";
    case CORODBG_EINVAL: return "invalid argument (NULL handle?)";
    case CORODBG_ENOMEM: return "coroutine table full or out of memory";
    case CORODBG_ESTATE: return "not allowed in the coroutine's state";
    case CORODBG_ETRUNC: return "string truncated to fit";
    default: return "unknown corodbg result";
    }
}
