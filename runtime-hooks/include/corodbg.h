/*
 * corodbg.h -- publish a C coroutine runtime's coroutines to debuggers.
 *
 * WHAT IT IS
 *   libcorodbg keeps a *coroutine table* in the process's memory: one
 *   statically initialised descriptor (`corodbg_table`) plus fixed-size
 *   entries, one per live coroutine.  A debugger (the corodbg GDB and LLDB
 *   front ends) reads it with plain memory reads from a live process, a
 *   core file, a gdbserver target or a stripped binary: it needs no DWARF
 *   for the program, only the table's own self-description.  The binary
 *   layout and its compatibility rule are in docs/abi.md.
 *
 * HOW A RUNTIME INTEGRATES (a complete example, one hook per event)
 *
 *     #include <corodbg.h>
 *
 *     co->dbg = corodbg_create("worker", (void *)fn, stack, stack_size,
 *                              __builtin_return_address(0));
 *     // save this coroutine's registers straight into the table (or
 *     // point the entry at your own block: corodbg_regs_at_block/frame):
 *     co->regs = corodbg_regs(co->dbg);
 *
 *     // the scheduler runs a coroutine (the ordering rule, see
 *     // corodbg_switch): switched in before its registers are loaded,
 *     // switched out after they were saved
 *     corodbg_switch(NULL, co->dbg);
 *     my_swap(sched_regs, co->regs);           // returns when co yields
 *     corodbg_switch(co->dbg, NULL);
 *
 *     corodbg_block(me->dbg, CORODBG_WAIT_CHAN_RECV, chan);
 *     // or say where the program's blocking call returns (see
 *     // corodbg_block_at): no stack read per coroutine through gdbserver
 *     corodbg_wake(other->dbg);                // blocked -> runnable
 *     corodbg_exit(me->dbg);                   // finished; see its rule
 *     corodbg_panic("bad request %d", id);     // records, fires, returns
 *
 *   docs/integrate.md walks through a whole integration, for each place a
 *   runtime may keep its registers.
 *
 *   A coroutine handle is a `corodbg_co *`.  Every function accepts NULL
 *   for it and then does nothing (returns CORODBG_EINVAL where it returns
 *   a result), so a runtime can keep its code unconditional when the table
 *   is full or the debugger support is compiled out.
 *
 * THREADING RULES
 *   - corodbg_create, corodbg_exit, corodbg_lookup and the leak helpers may
 *     be called from any thread at any time; they take an internal lock.
 *   - The per-coroutine hooks (switch, block, wake, set_name, panic) write
 *     only that coroutine's entry.  The caller must own the coroutine at
 *     that moment, as any M:N scheduler already guarantees: a coroutine is
 *     switched by at most one OS thread at a time.
 *   - Readers (debuggers) never take a lock.  Structural changes (slot
 *     allocation) bump the descriptor's `generation` to odd and back to
 *     even; entry updates bump the entry's own `seq` the same way.  A reader
 *     that stopped the process mid-update sees an odd counter and says so.
 *
 * COST
 *   corodbg_switch is a handful of plain stores and one load of the armed
 *   event filter: no clock read, no lock, no call.  Only transitions that
 *   match a filter armed by the debugger call corodbg_event_hook().
 *
 * ERRORS
 *   Functions that can fail return enum corodbg_result; corodbg_strerror()
 *   turns it into text.  Misuse (NULL, double exit, unknown id, a name that
 *   is too long) returns a specific code and never corrupts memory.
 */
#ifndef CORODBG_H
#define CORODBG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Everything declared here is the library's public surface, even though
 * the library itself is built with -fvisibility=hidden. */
#pragma GCC visibility push(default)

/* ---------------------------------------------------------------------
 * Vocabulary shared with the debugger side.  These X-macros are parsed by
 * tools/gen_layout.py to generate corodbg/core/layout.py: keep one entry
 * per line, in the form X(NAME, value, "text"), or X(NAME, id, member,
 * KIND) for the two field lists.
 * ------------------------------------------------------------------- */

/* Coroutine states.  Values are ABI: never renumber, only append. */
#define CORODBG_STATES(X)                                                  \
    X(FREE, 0, "free")         /* slot unused: not a coroutine */         \
    X(RUNNABLE, 1, "runnable") /* ready, waiting for a worker */          \
    X(RUNNING, 2, "running")   /* on an OS thread right now */            \
    X(BLOCKED, 3, "blocked")   /* waiting; see wait_reason/wait_addr */   \
    X(DEAD, 4, "dead")         /* returned; slot about to be reused */    \
    X(PANICKED, 5, "panicked") /* corodbg_panic() was called */           \
    X(CRASHED, 6, "crashed")   /* a fatal signal arrived while running */

/* Why a blocked coroutine waits.  Values are ABI: only append. */
#define CORODBG_WAITS(X)                                                   \
    X(NONE, 0, "")                                                         \
    X(CHAN_SEND, 1, "chan send")                                           \
    X(CHAN_RECV, 2, "chan receive")                                        \
    X(SLEEP, 3, "sleep")                                                   \
    X(WAITGROUP, 4, "waitgroup")                                           \
    X(MUTEX, 5, "mutex")                                                   \
    X(IO, 6, "io")                                                         \
    X(JOIN, 7, "join")                                                     \
    X(YIELD, 8, "yield")                                                   \
    X(OTHER, 9, "other")                                                   \
    X(RESUME, 10, "resumed another") /* wait_addr: its entry (1.1) */

/* Event kinds recorded in the descriptor before corodbg_event_hook(). */
#define CORODBG_EVENTS(X)                                                  \
    X(STATE, 1, "state")   /* a coroutine entered a state in the mask */   \
    X(PANIC, 2, "panic")   /* corodbg_panic() on a coroutine */            \
    X(CRASH, 3, "crash")   /* fatal signal inside a coroutine */

/* The table's self-description, one line per field of the descriptor
 * (after its fixed prefix) and of an entry: X(NAME, id, member, KIND).
 * NAME gives the enum CORODBG_DF_NAME / CORODBG_EF_NAME = id; MEMBER is
 * the struct member holding it, whose name is also the field's name for
 * readers; KIND is a CORODBG_FIELD_KINDS name (how readers decode it).
 * From these lines alone come the field records in corodbg_table and
 * their counts (table.c), and layout.py (tools/gen_layout.py).  Adding a
 * field: append its line here and its member to the struct; table.c's
 * static asserts fail until both agree (docs/abi.md, "Adding a field").
 * Ids are ABI: only append, in id order. */

/* The descriptor's fields. */
#define CORODBG_DESC_FIELDS(X)                                             \
    X(GENERATION, 1, generation, UINT)                                     \
    X(LIVE_COUNT, 2, live_count, UINT)                                     \
    X(NEXT_ID, 3, next_id, UINT)                                           \
    X(CHUNK_DIR, 4, chunk_dir, PTR)                                        \
    X(NCHUNKS, 5, nchunks, UINT)                                           \
    X(CHUNK_ENTRIES, 6, chunk_entries, UINT)                               \
    X(CLOCK_NS, 7, clock_ns, UINT)                                         \
    X(FILTER_STATE_MASK, 8, filter_state_mask, UINT)                       \
    X(FILTER_FLAGS, 9, filter_flags, UINT)                                 \
    X(FILTER_ID, 10, filter_id, UINT)                                      \
    X(FILTER_NAME, 11, filter_name, CHARS)                                 \
    X(EVENT_HOOK, 12, event_hook, PTR)                                     \
    X(EVENT_SEQ, 13, event_seq, UINT)                                      \
    X(EVENT_KIND, 14, event_kind, UINT)                                    \
    X(EVENT_ID, 15, event_id, UINT)                                        \
    X(EVENT_OLD_STATE, 16, event_old_state, UINT)                          \
    X(EVENT_NEW_STATE, 17, event_new_state, UINT)                          \
    X(CRASHED_ID, 18, crashed_id, UINT)                                    \
    X(RUNTIME_NAME, 19, runtime_name, CHARS)                               \
    X(HOOK_CALLS, 20, hook_calls, UINT)                                    \
    X(FILTERED, 21, filtered, UINT)                                        \
    X(REGS_MODES, 22, regs_modes, UINT)                                    \
    X(BLOCK_LAYOUT, 23, block_layout, REGLOCS)                             \
    X(BLOCK_LAYOUT_COUNT, 24, block_layout_count, UINT)                    \
    X(FRAME_LAYOUT, 25, frame_layout, REGLOCS)                             \
    X(FRAME_LAYOUT_COUNT, 26, frame_layout_count, UINT)                    \
    X(RUNTIME_CODE, 27, runtime_code, CHARS)                               \
    X(RUNTIME_START, 28, runtime_start, PTR)                               \
    X(RUNTIME_CODE_LO, 29, runtime_code_lo, PTR)                           \
    X(RUNTIME_CODE_HI, 30, runtime_code_hi, PTR)

/* An entry's fields. */
#define CORODBG_ENTRY_FIELDS(X)                                            \
    X(ID, 1, id, UINT)                                                     \
    X(SEQ, 2, seq, UINT)                                                   \
    X(STATE, 3, state, UINT)                                               \
    X(TID, 4, tid, UINT)                                                   \
    X(LAST_TID, 5, last_tid, UINT)                                         \
    X(SWITCHES, 6, switches, UINT)                                         \
    X(ENTRY_FN, 7, entry_fn, PTR)                                          \
    X(CREATE_PC, 8, create_pc, PTR)                                        \
    X(STACK_LO, 9, stack_lo, PTR)                                          \
    X(STACK_HI, 10, stack_hi, PTR)                                         \
    X(CREATED_NS, 11, created_ns, UINT)                                    \
    X(SINCE_NS, 12, since_ns, UINT)                                        \
    X(WAIT_REASON, 13, wait_reason, UINT)                                  \
    X(SIGNAL, 14, signal, UINT)                                            \
    X(WAIT_ADDR, 15, wait_addr, PTR)                                       \
    X(FAULT_ADDR, 16, fault_addr, PTR)                                     \
    X(PANIC_MSG, 17, panic_msg, PTR)                                       \
    X(PANIC_LEN, 18, panic_len, UINT)                                      \
    X(PARENT_ID, 19, parent_id, UINT)                                      \
    X(NAME, 20, name, CHARS)                                               \
    X(REGS, 21, regs, U64S)                                                \
    X(REGS_MODE, 22, regs_mode, UINT)                                      \
    X(REGS_ADDR, 23, regs_addr, PTR)                                       \
    X(WAIT_PC, 24, wait_pc, PTR)

/* Kinds of a field record: how a reader decodes the bytes. */
#define CORODBG_FIELD_KINDS(X)                                             \
    X(UINT, 1, "uint")   /* little/big endian unsigned, 1/2/4/8 bytes */   \
    X(PTR, 2, "ptr")     /* target address stored as a uint */            \
    X(CHARS, 3, "chars") /* inline char array, NUL-padded */              \
    X(U64S, 4, "u64s")   /* array of 8-byte uints (register block) */    \
    X(REGLOCS, 5, "reglocs") /* array of struct corodbg_reg_loc */

/* Where a parked coroutine's registers are: the entry's regs_mode.
 * Values are ABI: only append.  docs/abi.md "Register modes". */
#define CORODBG_REGS_MODES(X)                                              \
    X(TABLE, 0, "table") /* the entry's own register block (regs) */      \
    X(BLOCK, 1, "block") /* regs_addr: the runtime's block; block_layout */ \
    X(FRAME, 2, "frame") /* regs_addr: a saved-sp word; frame_layout */

/* How one register of a layout is found from the layout's base (the
 * block's address, or the saved sp).  Values are ABI: only append. */
#define CORODBG_LOC_HOWS(X)                                                \
    X(LOAD, 0, "load") /* the 8-byte word at base + offset */              \
    X(ADDR, 1, "addr") /* the value base + offset: the caller's sp/CFA */

#define CORODBG__ENUM(prefix, name, value, text) prefix##name = value,
#define CORODBG__STATE(n, v, t) CORODBG__ENUM(CORODBG_, n, v, t)
#define CORODBG__WAIT(n, v, t) CORODBG__ENUM(CORODBG_WAIT_, n, v, t)
#define CORODBG__EVENT(n, v, t) CORODBG__ENUM(CORODBG_EVENT_, n, v, t)
#define CORODBG__DF(n, v, member, kind) CORODBG__ENUM(CORODBG_DF_, n, v, 0)
#define CORODBG__EF(n, v, member, kind) CORODBG__ENUM(CORODBG_EF_, n, v, 0)
#define CORODBG__KIND(n, v, t) CORODBG__ENUM(CORODBG_KIND_, n, v, t)
#define CORODBG__MODE(n, v, t) CORODBG__ENUM(CORODBG_REGS_, n, v, t)
#define CORODBG__HOW(n, v, t) CORODBG__ENUM(CORODBG_LOC_, n, v, t)

enum corodbg_state { CORODBG_STATES(CORODBG__STATE) CORODBG_NSTATES };
enum corodbg_wait { CORODBG_WAITS(CORODBG__WAIT) CORODBG_NWAITS };
enum corodbg_event_kind { CORODBG_EVENTS(CORODBG__EVENT) };
enum corodbg_desc_field { CORODBG_DESC_FIELDS(CORODBG__DF) };
enum corodbg_entry_field { CORODBG_ENTRY_FIELDS(CORODBG__EF) };
enum corodbg_field_kind { CORODBG_FIELD_KINDS(CORODBG__KIND) };
enum corodbg_regs_mode { CORODBG_REGS_MODES(CORODBG__MODE) };
enum corodbg_loc_how { CORODBG_LOC_HOWS(CORODBG__HOW) };

/* How many fields each list has: the length of corodbg_table's record
 * arrays (desc_fields_count, entry_fields_count), counted here so that
 * appending a line is the only edit. */
#define CORODBG__ONE(...) +1
#define CORODBG_NDESC_FIELDS (0 CORODBG_DESC_FIELDS(CORODBG__ONE))
#define CORODBG_NENTRY_FIELDS (0 CORODBG_ENTRY_FIELDS(CORODBG__ONE))

/* ---------------------------------------------------------------------
 * The binary layout (docs/abi.md).  Readers must not rely on these
 * structs beyond the fixed prefix: they locate every other field through
 * the field records.
 * ------------------------------------------------------------------- */

#define CORODBG_MAGIC "\x7f" "CORODBG" /* 8 bytes, no NUL needed */
#define CORODBG_ABI_MAJOR 1 /* bumped only for incompatible change */
#define CORODBG_ABI_MINOR 1 /* bumped when fields are appended */

#define CORODBG_NAME_MAX 32   /* bytes of name, including the NUL */
#define CORODBG_PANIC_MAX 256 /* bytes of panic message kept */
#define CORODBG_FILTER_NAME_MAX 32
#define CORODBG_RUNTIME_CODE_MAX 160 /* bytes of runtime_code, with NUL */

/* Architecture ids are ELF e_machine values. */
#define CORODBG_ARCH_X86_64 62
#define CORODBG_ARCH_AARCH64 183

/*
 * The register block: a plain array of 8-byte registers, no mangling.
 * x86-64: rip, rsp, rbp, rbx, r12, r13, r14, r15
 * aarch64: pc, sp, fp(x29), lr(x30), x19..x28, d8..d15
 * The descriptor lists each slot's DWARF register number (regs_off), so a
 * reader needs no per-architecture table of its own.  Slot 0 is always the
 * pc, slot 1 the sp, slot 2 the frame pointer.
 *
 * CORODBG_REG_DWARF_<ARCH> is that list for each architecture, named
 * after its CORODBG_ARCH_<ARCH> id: tools/gen_layout.py copies them into
 * layout.py for a debugger that cannot read the table's own list.
 */
#define CORODBG_REG_DWARF_X86_64 {16, 7, 6, 3, 12, 13, 14, 15}
#define CORODBG_REG_DWARF_AARCH64                                          \
    {32, 31, 29, 30, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28,               \
     72, 73, 74, 75, 76, 77, 78, 79}
#if defined(__x86_64__)
#define CORODBG_ARCH CORODBG_ARCH_X86_64
#define CORODBG_NREGS 8 /* entries of CORODBG_REG_DWARF (table.c checks) */
#define CORODBG_REG_DWARF CORODBG_REG_DWARF_X86_64
#elif defined(__aarch64__)
#define CORODBG_ARCH CORODBG_ARCH_AARCH64
#define CORODBG_NREGS 22
#define CORODBG_REG_DWARF CORODBG_REG_DWARF_AARCH64
#else
#error "corodbg: unsupported architecture (x86-64 and aarch64 only)"
#endif
#define CORODBG_REG_PC 0
#define CORODBG_REG_SP 1
#define CORODBG_REG_FP 2

/* One register of a runtime's context layout (register modes BLOCK and
 * FRAME): DWARF register DWARF is found HOW (enum corodbg_loc_how) at
 * OFFSET bytes from the layout's base.  A layout must give the pc and the
 * sp (the first two DWARF numbers of CORODBG_REG_DWARF). */
struct corodbg_reg_loc {
    uint16_t dwarf;  /* DWARF register number */
    uint16_t how;    /* CORODBG_LOC_LOAD or CORODBG_LOC_ADDR */
    int32_t offset;  /* bytes from the base */
};
#define CORODBG_LAYOUT_MAX 24 /* records per layout */

/* One record of the self-description: where a field lives. */
struct corodbg_field {
    uint16_t id;     /* CORODBG_DF_* or CORODBG_EF_* */
    uint16_t offset; /* from the start of the descriptor or entry */
    uint16_t size;   /* bytes */
    uint16_t kind;   /* CORODBG_KIND_* */
};

/* One coroutine.  8-byte aligned; all pointers are stored as uint64_t. */
struct corodbg_entry {
    uint64_t id;          /* never reused; 0 while the slot is free */
    uint32_t seq;         /* odd while the owner updates this entry */
    uint32_t last_tid;    /* OS thread it last ran on (0: never ran) */
    /* state and tid are one aligned 64-bit word: a context switch changes
     * both with a single store, so no reader sees one without the other. */
    uint32_t state;       /* enum corodbg_state */
    uint32_t tid;         /* OS thread id while RUNNING, else 0 */
    uint64_t switches;    /* times switched in */
    uint64_t entry_fn;    /* start function */
    uint64_t create_pc;   /* return address of the spawn call */
    uint64_t stack_lo;    /* lowest stack address */
    uint64_t stack_hi;    /* one past the highest stack address */
    uint64_t created_ns;  /* CLOCK_MONOTONIC at creation */
    uint64_t since_ns;    /* CLOCK_MONOTONIC at the last block/wake/exit */
    uint32_t wait_reason; /* enum corodbg_wait while BLOCKED */
    uint32_t signal;      /* fatal signal number when CRASHED */
    uint64_t wait_addr;   /* object waited on (channel, mutex...) */
    uint64_t fault_addr;  /* si_addr of a fault (SEGV/BUS/FPE/ILL raised
                           * by the kernel); 0 for kill/raise/abort */
    uint64_t panic_msg;   /* char * of panic_len bytes, or 0 */
    uint32_t panic_len;   /* bytes at panic_msg, < CORODBG_PANIC_MAX */
    uint32_t regs_mode;   /* enum corodbg_regs_mode: where regs are */
    uint64_t parent_id;   /* coroutine that created it, 0 if none */
    char name[CORODBG_NAME_MAX];        /* NUL-terminated, truncated */
    uint64_t regs[CORODBG_NREGS];       /* saved registers, see above */
    uint64_t regs_addr;   /* BLOCK: the runtime's context block;
                           * FRAME: the word holding the saved sp */
    uint64_t wait_pc;     /* while BLOCKED: where the runtime's blocking
                           * call returns to (corodbg_block_at), or 0 */
};

/* The descriptor.  Only the fixed prefix (up to `reserved`) is read
 * without the field records; it never changes across ABI versions. */
struct corodbg_descriptor {
    /* ---- fixed prefix: 40 bytes ---- */
    char magic[8];              /* CORODBG_MAGIC */
    uint16_t abi_major;         /* reader refuses a major it does not know */
    uint16_t abi_minor;         /* informational; fields only appended */
    uint16_t desc_size;         /* sizeof this descriptor */
    uint16_t entry_size;        /* sizeof one entry (the stride) */
    uint8_t ptr_size;           /* 8 */
    uint8_t byte_order;         /* 1 little endian, 2 big endian */
    uint16_t arch;              /* ELF e_machine */
    uint16_t desc_fields_off;   /* -> struct corodbg_field[] */
    uint16_t desc_fields_count;
    uint16_t entry_fields_off;  /* -> struct corodbg_field[] */
    uint16_t entry_fields_count;
    uint16_t regs_off;          /* -> uint16_t DWARF regnum[regs_count] */
    uint16_t regs_count;
    uint16_t field_record_size; /* sizeof(struct corodbg_field) */
    uint16_t reserved;
    /* ---- body: located through the field records ---- */
    volatile uint64_t generation; /* odd while slots are (re)allocated */
    volatile uint64_t live_count; /* coroutines not FREE */
    volatile uint64_t next_id;    /* next id to hand out */
    uint64_t chunk_dir;     /* uint64_t[nchunks]: addresses of chunks */
    volatile uint32_t nchunks;       /* chunks published so far */
    uint32_t chunk_entries; /* entries per chunk */
    volatile uint64_t clock_ns; /* last CLOCK_MONOTONIC the runtime read */
    /* In-process event filter, written by the debugger. */
    volatile uint32_t filter_state_mask; /* bit per state: fire on entry */
    volatile uint32_t filter_flags;      /* CORODBG_FILTER_* */
    volatile uint64_t filter_id;         /* 0: any coroutine */
    char filter_name[CORODBG_FILTER_NAME_MAX]; /* fnmatch glob, "" any */
    uint64_t event_hook;                 /* &corodbg_event_hook */
    /* The last event, written before corodbg_event_hook() is called. */
    volatile uint64_t event_seq;
    volatile uint32_t event_kind;
    volatile uint32_t event_old_state;
    volatile uint64_t event_id;
    volatile uint32_t event_new_state;
    uint32_t reserved1;
    volatile uint64_t crashed_id; /* coroutine that took a fatal signal */
    char runtime_name[16];        /* who publishes: "corort", "ucontext" */
    volatile uint64_t hook_calls; /* times corodbg_event_hook was called */
    volatile uint64_t filtered;   /* transitions the filter rejected (approximate under M:N) */
    /* Register modes (ABI 1.1): bit per mode some entry has used, and the
     * per-table layouts of modes BLOCK and FRAME. */
    volatile uint32_t regs_modes;
    volatile uint16_t block_layout_count;
    volatile uint16_t frame_layout_count;
    struct corodbg_reg_loc block_layout[CORODBG_LAYOUT_MAX];
    struct corodbg_reg_loc frame_layout[CORODBG_LAYOUT_MAX];
    /* The runtime describes its own code (ABI 1.1): corodbg_set_runtime_*. */
    char runtime_code[CORODBG_RUNTIME_CODE_MAX]; /* "glob,file:glob,..." */
    uint64_t runtime_start;   /* its start/trampoline function */
    uint64_t runtime_code_lo; /* [lo, hi): more runtime code, or 0 */
    uint64_t runtime_code_hi;
    /* ---- self-description ---- */
    struct corodbg_field desc_fields[CORODBG_NDESC_FIELDS];
    struct corodbg_field entry_fields[CORODBG_NENTRY_FIELDS];
    uint16_t reg_dwarf[CORODBG_NREGS];
};

/* filter_flags bits. */
#define CORODBG_FILTER_ARMED 0x1u  /* state mask / id / name are active */
#define CORODBG_FILTER_PANIC 0x2u  /* fire on every panic */
#define CORODBG_FILTER_CRASH 0x4u  /* fire on a fatal signal */

/* The one table of the process.  Exported as a dynamic symbol and placed
 * in the allocated section ".corodbg", which `strip --strip-all` keeps. */
extern struct corodbg_descriptor corodbg_table;

/* Called only when an event passes the armed filter.  Never inlined and
 * does nothing: debuggers put a breakpoint on it.  Its address is also in
 * corodbg_table.event_hook, for stripped binaries. */
void corodbg_event_hook(void);

/* ---------------------------------------------------------------------
 * The API for runtimes.
 * ------------------------------------------------------------------- */

enum corodbg_result {
    CORODBG_OK = 0,
    CORODBG_EINVAL = -1,   /* NULL handle or argument out of range */
    CORODBG_ENOMEM = -2,   /* table full or allocation failed */
    /* -3 was CORODBG_ENOENT, which no function returned; not reused */
    CORODBG_ESTATE = -4,   /* not allowed in the coroutine's state */
    CORODBG_ETRUNC = -5    /* string truncated to fit; call succeeded */
};

typedef struct corodbg_entry corodbg_co;

/* Text for a result code; never NULL. */
const char *corodbg_strerror(int result);

/* Register a new coroutine in state RUNNABLE.  NAME may be NULL; a longer
 * name is truncated to CORODBG_NAME_MAX-1 bytes.  ENTRY_FN, CREATE_PC and
 * the stack are recorded for the debugger only.  The parent is the calling
 * coroutine (corodbg_current()).  Returns NULL when the table is full
 * (CORODBG_MAX_COROUTINES) or memory is exhausted. */
corodbg_co *corodbg_create(const char *name, const void *entry_fn,
                           void *stack_lo, size_t stack_size,
                           const void *create_pc);

/* The coroutine returned: state DEAD (an armed filter may fire), then the
 * slot is freed for reuse and the handle becomes invalid.  Exiting a handle
 * that is not live returns CORODBG_ESTATE and changes nothing.
 * The exit rule: the slot is reused at once, by the next corodbg_create
 * on any thread.  So stop every write into the entry first: a runtime
 * that saves its context into corodbg_regs() must point its saves back
 * at its own memory before this call (the coroutine's last switch away
 * must not land in a slot another coroutine now owns), and must not use
 * the handle afterwards. */
int corodbg_exit(corodbg_co *co);

/* FROM stops running (RUNNING -> RUNNABLE unless it already blocked,
 * panicked or died) and TO starts running on this OS thread.  Either may
 * be NULL: the scheduler's own stack is not a coroutine.
 *
 * Ordering rule for runtimes that save contexts into corodbg_regs():
 * readers use the register block only for coroutines that are not
 * RUNNING.  So switch FROM out only after its registers are saved (for
 * example on the scheduler's stack, right after the context switch
 * returns there), and switch TO in before loading its registers.  Then a
 * debugger that stops the process mid-switch never unwinds a half-written
 * block: it sees FROM still RUNNING on its OS thread.
 *
 * corodbg_switch_inline() below is the same operation inlined into the
 * runtime's switch path (no call); corodbg_switch() is that body out of
 * line, for runtimes that prefer a stable symbol. */
void corodbg_switch(corodbg_co *from, corodbg_co *to);

/* CO waits for REASON on ADDR (state BLOCKED).  Call it before
 * corodbg_switch(CO, ...), which keeps a blocked coroutine blocked:
 * either on the coroutine itself (it keeps its tid until that switch), or,
 * so that a debugger stopped at the BLOCKED event sees the complete saved
 * context, on the scheduler's stack once the switch saved it, as corort
 * does: called off CO's known stack, it clears the tid with the state. */
int corodbg_block(corodbg_co *co, enum corodbg_wait reason,
                  const void *addr);

/* corodbg_block, and where the blocking call returns to: RET is the
 * return address of the runtime's blocking function the program called
 * (its __builtin_return_address(0), taken in that function itself and
 * passed down if the block happens deeper or on the scheduler's stack).
 * A debugger then finds the wait site of a blocked coroutine (`-group
 * user`, leaks) without reading its stack, which through gdbserver is a
 * round trip per coroutine.  The contract: until the coroutine is woken
 * it stays parked inside that call, and only runtime code runs between
 * the call and the park.  A debugger checks the first coroutine at each
 * (park pc, RET, REASON) against a real walk of its stack and ignores RET
 * there when they disagree (docs/integrate.md, "Wait sites").  RET NULL:
 * corodbg_block.  corodbg_block and corodbg_wake clear it. */
int corodbg_block_at(corodbg_co *co, enum corodbg_wait reason,
                     const void *addr, const void *ret);

/* Asymmetric runtimes: FROM resumes TO and waits inside the resume call
 * until TO yields back.  FROM is BLOCKED with reason CORODBG_WAIT_RESUME
 * and wait_addr = TO's entry (listed as "resumed another", not running),
 * then the switch is done.  When TO yields, corodbg_switch(TO, FROM) runs
 * FROM again.  FROM may be NULL (the scheduler's own stack): a plain
 * switch.  CORODBG_EINVAL for a NULL TO; corodbg_block's errors. */
int corodbg_resume(corodbg_co *from, corodbg_co *to);

/* A blocked coroutine becomes RUNNABLE.  CORODBG_ESTATE if not blocked. */
int corodbg_wake(corodbg_co *co);

/* Rename; CORODBG_ETRUNC when NAME did not fit (it is still set). */
int corodbg_set_name(corodbg_co *co, const char *name);

/* The coroutine running on this OS thread, or NULL. */
corodbg_co *corodbg_current(void);

/* The live coroutine with this id, or NULL.  O(1). */
corodbg_co *corodbg_lookup(uint64_t id);

/* Its id, or 0 for NULL. */
uint64_t corodbg_id(const corodbg_co *co);

/* Its register block (CORODBG_NREGS uint64_t).  A runtime may save the
 * context straight into it, which is what the table's readers see. */
uint64_t *corodbg_regs(corodbg_co *co);

/* ---- Registers where the runtime already keeps them (docs/abi.md,
 * "Register modes"; docs/integrate.md shows each mode).
 *
 * A runtime with its own saved-context block (mode BLOCK), or one whose
 * switch pushes the callee-saved registers on the coroutine's stack and
 * keeps only the stack pointer (mode FRAME: Boost fcontext, libco,
 * libaco), describes that layout once per table and then points each
 * entry at the block or at the word holding the saved sp.  The switch
 * then costs no copy at all.  The ordering rule of corodbg_switch holds
 * as for the table's own block: switch a coroutine out only after the
 * runtime stored its context (block, or saved-sp word and the frame).
 * For a coroutine that never ran, the block or frame must describe its
 * start (pc at the trampoline, sp over a zero return address); a saved
 * sp of 0 means "no context yet" and the debugger shows no stack. */

/* The layout of every entry in mode BLOCK: register LOCS[i].dwarf is at
 * block + LOCS[i].offset (LOAD) or is that address (ADDR).  N <=
 * CORODBG_LAYOUT_MAX; the pc and the sp must be given, each register at
 * most once.  CORODBG_EINVAL otherwise.  Set it before pointing entries
 * at blocks; one layout per process. */
int corodbg_set_block_layout(const struct corodbg_reg_loc *locs, size_t n);

/* The same for mode FRAME: offsets count from the saved sp; the caller's
 * sp is usually an ADDR record (e.g. x86-64 fcontext: sp + 64). */
int corodbg_set_frame_layout(const struct corodbg_reg_loc *locs, size_t n);

/* CO's registers are in the runtime's block at BLOCK (mode BLOCK), or on
 * its stack at the sp stored in the word at SAVED_SP (mode FRAME).
 * CORODBG_ESTATE before the matching layout is set; CORODBG_EINVAL for a
 * NULL handle or address.  The table's own block is then unused (pc 0, so
 * a reader that predates ABI 1.1 shows the coroutine without a stack). */
int corodbg_regs_at_block(corodbg_co *co, const void *block);
int corodbg_regs_at_frame(corodbg_co *co, const void *saved_sp);

/* Number of live coroutines (not FREE). */
size_t corodbg_live_count(void);

/* Record a panic on the current coroutine: message (truncated to
 * CORODBG_PANIC_MAX-1 bytes), state PANICKED, and the panic event fires
 * when armed.  Returns to the caller, which decides whether to abort or
 * park the coroutine.  CORODBG_ESTATE when no coroutine runs here. */
int corodbg_panic(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
int corodbg_vpanic(const char *fmt, va_list ap);

/* Install handlers for SIGSEGV, SIGBUS, SIGFPE, SIGILL and SIGABRT that
 * record the running coroutine as CRASHED (signal, fault address), fire
 * the crash event, then let the signal take the course it would have
 * taken without libcorodbg, so a core file names the crashing coroutine.
 * Idempotent.  The promise, for the dispositions in place when this is
 * called (docs/runtime.md, "Crashes", has the details):
 *   - SIG_DFL: the process dies of the same signal with the same core,
 *     and the core's siginfo is the original one: a fault (si_code > 0)
 *     is left to happen again with the default action in place; a sent
 *     signal (kill, raise, abort) is re-sent with the sender's siginfo.
 *   - SIG_IGN: an ignored sent signal is not recorded and changes
 *     nothing; an ignored fault kills, as the kernel does.
 *   - A handler runs as the kernel would have run it: SA_SIGINFO or not,
 *     its sa_mask and the signal (unless SA_NODEFER) blocked, SIG_DFL in
 *     place first for SA_RESETHAND.  One without SA_ONSTACK, when the
 *     crash handler is on the alternate stack and the program was not,
 *     gets the signal from the kernel on the interrupted stack instead.
 *   - A coroutine whose handler recovers (siglongjmp) is live again at
 *     its next switch or block: not CRASHED, no longer crashed_id.
 *   - A fault inside the crash handler abandons the recording; the
 *     original signal still takes its course. */
int corodbg_install_crash_handler(void);

/* Totals since the program started, for monitoring (libcorodbg-agent's
 * /metrics): coroutines created and exited (freed), corodbg_panic()
 * calls, fatal signals recorded on a coroutine.  Lock-free reads. */
struct corodbg_totals { uint64_t created, exited, panics, crashes; };
void corodbg_totals(struct corodbg_totals *out);

/* Name the publisher in the descriptor ("corort", "ucontext", ...). */
void corodbg_set_runtime_name(const char *name);

/* ---- The runtime describes itself, so debuggers need no configuration
 * to tell its frames from the user's (`info coroutines -u`, `-group user`,
 * `coroutine leaks`, where `bt` ends).  A debugger setting such as
 * `set corodbg runtime-functions` still overrides the function globs. */

/* CODE: comma-separated fnmatch globs on function names ("corort_*"; a
 * C++ name is matched qualified, without a template's return type),
 * and "file:GLOB" entries on source file paths, for static helpers that
 * share no name prefix (corort: "file:" + a glob of its source
 * directory).  CORODBG_ETRUNC when it does not fit
 * CORODBG_RUNTIME_CODE_MAX - 1 bytes (it is cut at the last whole glob);
 * CORODBG_EINVAL for NULL. */
int corodbg_set_runtime_code(const char *code);

/* [LO, HI) is runtime code too: a library's text, for runtimes without
 * symbols.  (0, 0) clears it. */
void corodbg_set_runtime_range(const void *lo, const void *hi);

/* The function every coroutine starts in (its trampoline): a coroutine's
 * stack ends there, below its entry function. */
void corodbg_set_runtime_start(const void *fn);

/* Set CO's creation site after corodbg_create.  The rule: the creation
 * site is the return address of the call the *user* made into the
 * runtime.  A runtime whose public create function calls an inner one
 * that calls corodbg_create (layered), or whose create function may be
 * inlined, takes __builtin_return_address(0) in its public, noinline
 * entry point and passes it to corodbg_create or sets it here. */
int corodbg_set_create_pc(corodbg_co *co, const void *pc);

/* ---------------------------------------------------------------------
 * The switch fast path, inlined into runtimes.  Everything below is part
 * of the library's ABI only through these declarations; do not call the
 * corodbg__ functions directly.
 * ------------------------------------------------------------------- */

/* Per-OS-thread state: the running coroutine and the cached thread id.
 * initial-exec TLS: one %fs-relative load, no __tls_get_addr call. */
struct corodbg_thread {
    corodbg_co *current; /* corodbg_current() */
    uint32_t tid;        /* gettid(), 0 until first needed */
    uint32_t reserved;
};
extern __thread struct corodbg_thread corodbg__thread
    __attribute__((tls_model("initial-exec")));

/* Out of line, cold: cache and return this thread's id. */
uint32_t corodbg__thread_tid(void);
/* Out of line, cold: a transition whose new state is in the armed mask. */
void corodbg__state_event(corodbg_co *co, uint32_t old_state,
                          uint32_t new_state);
/* Out of line, cold: a switch while the debugger has armed a filter. */
void corodbg__switch_armed(corodbg_co *from, corodbg_co *to);
/* Out of line, cold: a CRASHED coroutine runs on (its program's signal
 * handler recovered); it becomes STATE (RUNNABLE drops the tid). */
void corodbg__crash_survived(corodbg_co *co, uint32_t state);

/* Store CO's state and tid as the one 64-bit word they share. */
static inline void corodbg__put_state_tid(corodbg_co *co, uint32_t state,
                                          uint32_t tid)
{
    typedef uint64_t word __attribute__((may_alias, aligned(8)));
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v = (uint64_t)state | (uint64_t)tid << 32;
#else
    uint64_t v = (uint64_t)state << 32 | (uint64_t)tid;
#endif
    /* release: a register block saved before the switch out (the
     * ordering rule) is never published after the state saying so */
    __atomic_store_n((word *)&co->state, v, __ATOMIC_RELEASE);
}

/* The entry updates of a switch, shared by the inline fast path and the
 * armed slow path (which also needs the old states for its events).  No
 * seqlock: RUNNING and its tid come and go in one store, and last_tid and
 * switches are statistics a reader may see one switch behind. */
static inline void corodbg__switch_entries(corodbg_co *from, corodbg_co *to,
                                           uint32_t *from_old,
                                           uint32_t *to_old)
{
    if (from) {
        uint32_t st = from->state;
        *from_old = st;
        if (st == CORODBG_RUNNING)
            corodbg__put_state_tid(from, CORODBG_RUNNABLE, 0);
        else if (__builtin_expect(st == CORODBG_CRASHED, 0))
            corodbg__crash_survived(from, CORODBG_RUNNABLE);
        else /* blocked, panicked or dead: keep the state, which another
              * thread may be changing (a wake), and drop the tid */
            __atomic_store_n(&from->tid, 0, __ATOMIC_RELEASE);
    }
    if (to) {
        uint32_t tid = corodbg__thread.tid;
        if (__builtin_expect(!tid, 0))
            tid = corodbg__thread_tid();
        *to_old = to->state;
        corodbg__put_state_tid(to, CORODBG_RUNNING, tid);
        to->last_tid = tid;
        to->switches++;
    }
    corodbg__thread.current = to;
}

static inline void corodbg_switch_inline(corodbg_co *from, corodbg_co *to)
{
    /* One load and one test while no filter is armed; the old states
     * are dead stores then, and the compiler drops their loads. */
    if (__builtin_expect(corodbg_table.filter_state_mask != 0, 0)) {
        corodbg__switch_armed(from, to);
        return;
    }
    uint32_t from_old, to_old;
    corodbg__switch_entries(from, to, &from_old, &to_old);
}

/* ---------------------------------------------------------------------
 * Leak hunting.
 * ------------------------------------------------------------------- */

/* A point in time to compare against: coroutines created after it and
 * still live at the check are leaks. */
typedef struct {
    uint64_t first_id;  /* ids >= this were created after the mark */
    size_t live;        /* corodbg_live_count() at the mark */
} corodbg_mark;

corodbg_mark corodbg_leak_mark(void);

/* Print one line per coroutine created since MARK that is still live (id,
 * name, state, wait reason, age, creation site via dladdr) to OUT (stderr
 * if NULL).  Returns how many leaked. */
size_t corodbg_leak_check(corodbg_mark mark, FILE *out);

/* Print the same report for every BLOCKED coroutine; returns the count. */
size_t corodbg_report_blocked(FILE *out);

/* Run BLOCK and fail (print the report, then abort()) when it leaves more
 * live coroutines than it found.  For tests. */
#define CORODBG_ASSERT_CONSERVED(BLOCK)                                    \
    do {                                                                   \
        corodbg_mark corodbg__m = corodbg_leak_mark();                     \
        BLOCK;                                                             \
        if (corodbg_leak_check(corodbg__m, stderr) != 0) {                 \
            fprintf(stderr, "%s:%d: coroutine count not conserved\n",      \
                    __FILE__, __LINE__);                                   \
            abort();                                                       \
        }                                                                  \
    } while (0)

/* The most coroutines the table can hold. */
#define CORODBG_MAX_COROUTINES (4u << 20)

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif /* CORODBG_H */
