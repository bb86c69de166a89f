/*
 * corocap.h -- libcorocap: read a process's coroutine table without a
 * debugger, unwind its parked coroutines and write dumps.
 *
 * Shared by the `corodbg` capture tool (capture/cli) and the in-process
 * endpoint (issue 12).  Stages, each usable alone:
 *
 *   reader    one function, read(addr, len): a live process
 *             (process_vm_readv), a core file (PT_LOAD + the mapped files
 *             for pages a core lacks) or a test image
 *   target    the modules (path, load bias, build-id) and the table's
 *             address, from /proc/PID/maps or the core's NT_FILE note
 *   decode    the table, through its self-description only (docs/abi.md),
 *             with the same one-line reasons as python/corodbg/core/decode.py
 *   unwind    libdwfl over the reader, from the register block (.eh_frame
 *             is enough: stripped binaries work)
 *   symbolize libcorosym, else module+0xoff with the build-id
 *   writers   text, grouped, json, pprof, leaks
 *
 * Errors: functions that can fail return NULL or -1 and write one line
 * (no newline) into a caller's char[CC_ERRLEN].  Ownership: every object
 * comes with its _free function, which accepts NULL.
 */
#ifndef COROCAP_H
#define COROCAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#define CC_ERRLEN 512

/* ---- reader ---------------------------------------------------------- */

/* The one-function memory interface.  read() returns 0 when all LEN bytes
 * at ADDR were copied into BUF, else -1 and sets errno (EFAULT/EIO:
 * unmapped, EPERM/EACCES: not allowed, ESRCH: the process is gone). */
typedef struct cc_reader cc_reader;
struct cc_reader {
    int (*read)(cc_reader *r, uint64_t addr, void *buf, size_t len);
    void (*free)(cc_reader *r);
    int live;       /* a running process: entries may change under us */
    pid_t pid;      /* live: the process; core: the pid it had */
    int gone;       /* live: a read found the process gone (ESRCH) */
    /* Optional: N reads at once (one syscall for many stacks).  Sets
     * GOT[i] to LEN[i] or 0 for each read.  NULL: cc_read_many loops. */
    void (*read_many)(cc_reader *r, const uint64_t *addr, uint8_t *const *buf,
                      const size_t *len, size_t n, size_t *got);
};

static inline int cc_read(cc_reader *r, uint64_t addr, void *buf, size_t len)
{
    return r->read(r, addr, buf, len);
}
void cc_reader_free(cc_reader *r);
void cc_read_many(cc_reader *r, const uint64_t *addr, uint8_t *const *buf,
                  const size_t *len, size_t n, size_t *got);

/* A live process.  Never stops it. */
cc_reader *cc_reader_pid(pid_t pid, char *err);
/* This process, from inside (the in-process endpoint): never faults on
 * memory unmapped meanwhile, works where a seccomp filter forbids
 * process_vm_readv (reader_self.c). */
cc_reader *cc_reader_self(char *err);
int cc_reader_self_uses_pipe(const cc_reader *r);
/* Regions (base, bytes) loaded from a test image file: records of
 * u64 base, u64 length, bytes (little endian). */
cc_reader *cc_reader_image(const char *path, char *err);

/* ---- target: modules and the table's address --------------------------- */

typedef struct cc_module {
    char *path;             /* as mapped (or --exe) */
    uint64_t start, end;    /* lowest and highest+1 mapped address */
    uint64_t offset;        /* file offset of START */
    uint64_t bias;          /* load bias: address - file vaddr */
    uint8_t build_id[64];
    size_t build_id_len;
    int is_exec;            /* has an executable mapping */
} cc_module;

typedef struct cc_target {
    cc_reader *reader;      /* owned */
    cc_module *mods;
    size_t nmods;
    uint64_t table_addr;    /* 0: no table found */
    int is_core;
    char *core_path, *exe_path;
    pid_t pid;
    uint64_t clock_ns;      /* core: filled from the table later */
    /* core: the threads' registers from NT_PRSTATUS (arch_regs.c) */
    struct cc_thread_regs *threads;
    size_t nthreads;
} cc_target;

/* A thread's general registers: x86-64 has 17 in DWARF, aarch64 33. */
#define CC_MAX_THREAD_REGS 40
struct cc_thread_regs {
    pid_t tid;
    size_t nregs;
    uint16_t regno[CC_MAX_THREAD_REGS];     /* DWARF numbers */
    uint64_t val[CC_MAX_THREAD_REGS];
};

/* Open a live PID or a core file (EXE: the executable when the core does
 * not name it, may be NULL).  Finds the modules and the table. */
cc_target *cc_target_open_pid(pid_t pid, char *err);
cc_target *cc_target_open_core(const char *core, const char *exe, char *err);
/* This process (reader_self). */
cc_target *cc_target_open_self(char *err);
void cc_target_free(cc_target *t);
/* The module mapping ADDR, or NULL. */
const cc_module *cc_target_module(const cc_target *t, uint64_t addr);
/* Why a live read failed, as one line that says what fixes it. */
void cc_explain_read_error(pid_t pid, int errnum, char *err);

/* ---- decode -------------------------------------------------------------- */

/* Registers kept per coroutine: x86-64 publishes 8, aarch64 22. */
#define CC_MAX_REGS 32

enum cc_unreadable {            /* model.py's UNREADABLE_REASONS */
    CC_OK = 0, CC_BAD_STATE, CC_MID_UPDATE, CC_BAD_NAME, CC_BAD_STACK,
    CC_DUPLICATE_ID, CC_BAD_REGS,
    CC_UNKNOWN_THREAD           /* running on a thread the target lacks */
};

/* One record of a register layout (struct corodbg_reg_loc, regs.py). */
typedef struct cc_regloc { uint16_t dwarf, how; int32_t off; } cc_regloc;
/* Records a layout field can hold: the largest descriptor / 8 bytes. */
#define CC_LAYOUT_RECS 512
/* Escaped name room: 32 raw bytes, each at worst "\\xNN" or U+FFFD. */
#define CC_NAME_LEN 160

/* Availability bits of a coroutine's fields (an older table may lack some). */
enum {
    CC_HAS_NAME = 1u << 0, CC_HAS_TID = 1u << 1, CC_HAS_SINCE = 1u << 2,
    CC_HAS_WAIT = 1u << 3, CC_HAS_REGS = 1u << 4, CC_HAS_CREATE_PC = 1u << 5,
    CC_HAS_CREATED = 1u << 6, CC_HAS_STACK = 1u << 7, CC_HAS_ENTRY_FN = 1u << 8,
    CC_HAS_PARENT = 1u << 9, CC_HAS_WAIT_ADDR = 1u << 10,
    CC_HAS_REGS_MODE = 1u << 11
};

typedef struct cc_coroutine {
    uint64_t slot, addr;        /* slot index, entry address */
    uint64_t id;
    uint32_t state, tid, wait_reason, seq;
    uint64_t since_ns, created_ns, create_pc, entry_fn, parent_id, wait_addr;
    uint64_t stack_lo, stack_hi;
    char name[CC_NAME_LEN];     /* escaped as the core's escape.py does */
    unsigned has;               /* CC_HAS_* */
    uint64_t regs[CC_MAX_REGS]; /* reg_dwarf order (see cc_regs_of) */
    unsigned nregs;
    uint32_t regs_missing;      /* bit i: regs[i] not in the layout (None) */
    uint32_t regs_mode;         /* CORODBG_REGS_TABLE/BLOCK/FRAME */
    uint64_t regs_addr;
    enum cc_unreadable unreadable;
    char note[96];              /* why, as the Python core says it */
    int torn;                   /* live: still odd after the retries */
} cc_coroutine;

/* A table's coroutines counted, not kept (cc_table_count). */
#define CC_COUNT_STATES 16
#define CC_COUNT_WAITS 32
typedef struct cc_counts {
    uint64_t by_state[CC_COUNT_STATES];  /* by state value */
    uint64_t by_wait[CC_COUNT_WAITS];    /* blocked ones by wait reason */
    uint64_t other_state, other_wait;    /* values past those */
    uint64_t unreadable;                 /* entries marked unreadable */
    uint64_t oldest_blocked_since;       /* least since_ns blocked, 0 none */
} cc_counts;

typedef struct cc_table {
    uint64_t addr;
    unsigned abi_major, abi_minor, desc_size, entry_size, ptr_size, arch;
    int big_endian;
    /* descriptor values; a field the table lacks reads 0, has_* says */
    uint64_t generation, live_count, next_id, chunk_dir, nchunks,
             chunk_entries, clock_ns, crashed_id;
    int has_generation, has_live_count, has_clock;
    char runtime_name[32];
    /* ABI 1.1: register modes (regs.py) and the runtime's self-description
     * (runtime_rules.RuntimeFrames.adopt); [0] block_layout, [1] frame_layout */
    uint64_t regs_modes;
    cc_regloc layout_recs[2][CC_LAYOUT_RECS];
    unsigned layout_nrecs[2];
    uint64_t layout_count[2];
    int has_layout[2], has_layout_count[2];
    char *runtime_code;         /* NULL: not described */
    uint64_t runtime_start, runtime_code_lo, runtime_code_hi;
    struct cc_runtime_rule *runtime; /* built from the above (decode) */
    uint16_t reg_dwarf[CC_MAX_REGS];
    unsigned nregs;
    int mid_update;
    cc_coroutine *cos;
    size_t ncos, cap;
    char **warnings;
    size_t nwarnings;
    void *layout;               /* the checked field layout (decode.c) */
    cc_counts *tally;           /* while counting (cc_table_count) */
} cc_table;

/* Decode the table at ADDR.  NULL (ERR says why, the debuggers' words)
 * only when the descriptor itself is unusable; bad chunks and entries
 * become warnings and marked coroutines.  A live reader re-reads a torn
 * entry a few times and the whole table while its generation moves. */
cc_table *cc_table_read(cc_reader *r, uint64_t addr, char *err);
void cc_table_free(cc_table *t);
/* The same walk, checks and retries, but each entry is only counted into
 * COUNTS (the agent's /metrics: no per-coroutine objects, no register
 * reads).  The table returned has the descriptor's values and warnings
 * and no coroutines (ncos 0). */
cc_table *cc_table_count(cc_reader *r, uint64_t addr, cc_counts *counts,
                         char *err);
/* Read CO's entry again (e.g. with its thread stopped).  1 when the slot
 * still holds a live coroutine (CO updated), 0 when not, -1 unreadable. */
int cc_entry_reread(cc_reader *r, const cc_table *t, cc_coroutine *co);
const char *cc_state_name(uint32_t state);   /* "blocked", "state-9" */
const char *cc_wait_name(const cc_coroutine *co);  /* "" unless blocked */
const char *cc_unreadable_name(enum cc_unreadable u); /* "bad-stack" */

/* "Is this frame runtime code?" as the debuggers decide it: the built-in
 * globs plus the table's own description (runtime_rule.c). */
typedef struct cc_runtime_rule cc_runtime_rule;
cc_runtime_rule *cc_runtime_rule_new(const cc_table *t);
void cc_runtime_rule_free(cc_runtime_rule *r);
struct cc_frame;
int cc_runtime_frame(const cc_runtime_rule *r, const struct cc_frame *f);
/* FN without a '::' scope or a template's return type, as the runtime
 * globs name it (points into FN). */
const char *cc_qualified_name(const char *fn);
/* How many of the N unwound PCS (frame 0 first; LEAF_PC: frame 0 is an
 * exact pc, not a return address) `bt` in the coroutine shows, as GDB
 * cuts it (gdb/corodbg_gdb/view.py, CoroutineFrameFilter): it stops
 * before a frame past the bottom (pc 0, or no name and nothing readable
 * at it: a sentinel), before the runtime's start function (its
 * trampoline, the table's runtime_start) once a frame is shown (after it
 * when it is the first: nothing below it is the coroutine's), and after
 * the frame of ENTRY_FN (the coroutine's start function, 0 unknown).
 * Functions are compared by start address: the symbol's through S (may
 * be NULL), else the CFI's through U (may be NULL), so a stripped
 * program is cut as its symbolized copy is. */
struct cc_symbolizer;
struct cc_unwinder;
size_t cc_frames_shown(const cc_runtime_rule *r, struct cc_symbolizer *s,
                       struct cc_unwinder *u, cc_reader *rd,
                       uint64_t entry_fn, const uint64_t *pcs, size_t n,
                       int leaf_pc);

/* Where a coroutine's registers come from: the one place that knows
 * (regs.c, the core's regs.py).  The decoder resolves block and frame
 * entries once (cc_regs_resolve), so regs[] is in reg_dwarf order in every
 * mode.  Writes up to MAX (DWARF regno, value) pairs; returns how many,
 * 0 for none. */
void cc_regs_resolve(cc_reader *r, const cc_table *t, cc_coroutine *co);
size_t cc_regs_of(const cc_table *t, const cc_coroutine *co,
                  uint16_t *regno, uint64_t *val, size_t max);
/* The coroutine's saved pc, or 0. */
uint64_t cc_pc_of(const cc_table *t, const cc_coroutine *co);

/* ---- unwind + symbolize ------------------------------------------------ */

typedef struct cc_frame {
    uint64_t pc;          /* as unwound (a return address above frame 0) */
    uint64_t lookup;      /* the address symbolized: pc, or pc-1 above #0 */
    const char *function; /* NULL unknown; owned by the symbolizer */
    const char *file;
    unsigned line;
    int inlined;          /* an inlined frame at the same pc */
    int tailcall;         /* a function a sibling call left, which GDB
                             infers between two unwound frames (no raw pc
                             of its own; pc: the jump's end) */
    const cc_module *mod; /* NULL: unmapped */
    uint64_t func_start;  /* where the function this physical frame runs
                             starts (DWARF or symbol), 0 unknown */
} cc_frame;

typedef struct cc_stack {
    cc_frame *f;
    size_t n;
    const char *error;    /* why it stopped early / has none, or NULL */
    int shared;           /* F (and the capture's raw pcs) belong to an
                             earlier coroutine with the same stack: not
                             freed here (cc_capture_take) */
} cc_stack;

typedef struct cc_unwinder cc_unwinder;
typedef struct cc_symbolizer cc_symbolizer;

cc_unwinder *cc_unwinder_new(cc_target *t, const cc_table *tbl, char *err);
void cc_unwinder_free(cc_unwinder *u);
/* Read the stack tops of the next N unwinds (SP[i], bounded by HI[i], 0
 * unknown) in one batch; cc_unwind uses them in that order.  N is capped
 * at CC_PREFETCH. */
#define CC_PREFETCH 256
/* The next cc_unwind reads the stack from BUF (LEN bytes at LO), e.g. a
 * copy taken while a thread was stopped.  BUF must live until then. */
void cc_unwinder_use_snapshot(cc_unwinder *u, uint64_t lo, const uint8_t *buf,
                              size_t len);
void cc_unwinder_prefetch(cc_unwinder *u, const uint64_t *sp,
                          const uint64_t *hi, size_t n);
/* Unwind from the given registers, at most MAX frames; writes raw pcs.
 * STACK_HI (0: unknown) bounds the stack snapshot.  Returns the count;
 * *WHY gets a reason when it stopped on an error. */
size_t cc_unwind(cc_unwinder *u, const uint16_t *regno, const uint64_t *val,
                 size_t nregs, uint64_t stack_hi, uint64_t *pcs, size_t max,
                 const char **why);

/* The start of the function ADDR is in, from the CFI's FDE table
 * (.eh_frame_hdr: stripped programs have it), or 0 unknown. */
uint64_t cc_unwinder_function_start(cc_unwinder *u, uint64_t addr);

/* DEBUG_DIRS as in corosym; SYMBOLIZE 0: only module+offset. */
cc_symbolizer *cc_symbolizer_new(cc_target *t, const char *const *debug_dirs,
                                 size_t ndirs, int symbolize);
void cc_symbolizer_free(cc_symbolizer *s);
/* Fill S from raw PCS (frame 0 first), inline frames expanded.  LEAF_PC:
 * frame 0 is where the thread was (a CPU sample), not a return address
 * (a parked coroutine's saved pc). */
void cc_symbolize_stack(cc_symbolizer *s, const uint64_t *pcs, size_t n,
                        int leaf_pc, cc_stack *out);
void cc_stack_clear(cc_stack *s);
/* The frames `bt` shows for one address, innermost (inlined) first;
 * returns their count (0 for pc 0).  Owned by the symbolizer. */
size_t cc_symbolize_frames(cc_symbolizer *s, uint64_t pc, int is_return,
                           const cc_frame **out);
/* The frames `bt` shows for raw frame K of PCS (frame 0 first; LEAF_PC as
 * above): the tail-call frames GDB infers between frame K-1 and frame K
 * (see symbolize.c), then frame K's own, innermost first; their count.
 * Valid until the next call on S. */
size_t cc_symbolize_raw(cc_symbolizer *s, const uint64_t *pcs, size_t k,
                        int leaf_pc, const cc_frame **out);
/* One address -> frame (pc as is when IS_RETURN is 0, else pc-1). */
void cc_symbolize_pc(cc_symbolizer *s, uint64_t pc, int is_return,
                     cc_frame *out);

/* ---- the capture: table + stacks ---------------------------------------- */

/* One OS thread of the target (threads.c). */
typedef struct cc_os_thread {
    pid_t tid;
    char name[CC_NAME_LEN];     /* a live thread's comm, escaped; "" */
    size_t co;                  /* the coroutine running on it (index in
                                   the table), or SIZE_MAX: none */
    cc_stack stack;             /* none: a core's from NT_PRSTATUS; a live
                                   thread is never stopped for it */
} cc_os_thread;

typedef struct cc_capture {
    cc_target *target;          /* borrowed */
    cc_symbolizer *sym;         /* borrowed, may be NULL */
    cc_table *table;
    cc_stack *stacks;           /* one per coroutine (table order) */
    uint64_t **raw;             /* raw pcs per coroutine */
    size_t *nraw;
    uint64_t now_ns;            /* "now" for ages */
    char **notes;               /* capture-level messages */
    size_t nnotes;
    int partial;                /* the process went away mid-capture */
    uint64_t max_stall_ns;      /* longest a thread was kept stopped */
    size_t stopped;             /* threads stopped to read registers */
    size_t unique_stacks;       /* distinct (raw pcs, leaf) unwound */
    cc_os_thread *threads;      /* sorted by tid; NULL: not listed */
    size_t nthreads;
    /* where the time went (CLOCK_MONOTONIC and this process's CPU, ns):
     * reading the table, then unwinding and symbolizing the stacks */
    uint64_t table_ns, table_cpu_ns, stacks_ns, stacks_cpu_ns;
    uint8_t thread_stack[32768];/* a stopped thread's stack top */
} cc_capture;

/* CC_STOP_RUNNING: a running coroutine's thread is stopped (ptrace) to
 * read its registers.  CC_SNAPSHOT_SELF: the target is this process
 * (cc_target_open_self, the in-process endpoint): the thread is sent
 * SIGPROF instead and copies its own registers and stack top
 * (cc_snapshot_thread); nothing is stopped, and no ptrace right needed. */
enum { CC_WITH_STACKS = 1, CC_STOP_RUNNING = 2, CC_SNAPSHOT_SELF = 4 };
/* Read the table and unwind every coroutine.  NULL + ERR only when there
 * is nothing to show (no table, unusable descriptor, not allowed). */
cc_capture *cc_capture_take(cc_target *t, cc_symbolizer *sym, unsigned flags,
                            size_t max_depth, char *err);
void cc_capture_free(cc_capture *c);
/* List the target's threads into C->threads, and mark every running
 * entry whose thread the target lacks 'unknown-thread' (a warning each).
 * -1 when the threads cannot be listed (nothing marked). */
int cc_capture_threads(cc_capture *c);
/* How many of C->threads run no coroutine. */
size_t cc_threads_without_coroutine(const cc_capture *c);
/* Is CO running on a thread (its stack unwound from the thread's own
 * registers, frame 0 an exact pc rather than a return address)? */
int cc_on_thread(const cc_coroutine *co);
void cc_capture_note(cc_capture *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ---- writers ------------------------------------------------------------ */

void cc_format_age(uint64_t ns, char *buf, size_t len); /* render.format_age */
/* co's age, or -1 when unknown (model.age_ns) */
int64_t cc_age_ns(const cc_coroutine *co, uint64_t now_ns);
/* "func at file.c:42", "func", "0x.. in module+0x..", "??" */
void cc_format_frame(const cc_frame *f, char *buf, size_t len);

int cc_write_text(FILE *out, const cc_capture *c);
int cc_write_grouped(FILE *out, const cc_capture *c);
int cc_write_json(FILE *out, const cc_capture *c);
int cc_write_pprof(const char *path, const cc_capture *c, char *err);
int cc_write_pprof_fp(FILE *f, const cc_capture *c, char *err);
/* Where coroutine I waits, as `coroutine leaks` names it (the first frame
 * outside the runtime, else the top frame, else the saved pc); C->sym
 * must be set.  BUF holds CC_SITE_LEN bytes. */
#define CC_SITE_LEN 512
void cc_wait_site(const cc_capture *c, size_t i, char *buf);

/* `coroutine leaks`: MIN_AGE_NS < 0 for none. */
int cc_write_leaks(FILE *out, const cc_capture *c, cc_symbolizer *s,
                   int64_t min_age_ns);

/* `corodbg profile`: sample the live target's threads for SECONDS at HZ
 * (perf_event_open, task clock, user registers + stack copy; nothing is
 * stopped), label each sample with the coroutine on that thread, write a
 * pprof CPU profile (samples/count, cpu/nanoseconds) to OUT.  Summary
 * lines go to LOG (may be NULL).  0, 3 when the process exited meanwhile
 * (the samples so far are written), -1 + ERR. */
int cc_profile(cc_target *t, cc_symbolizer *sym, double seconds, unsigned hz,
               const char *out, FILE *log, char *err);

/* The same for THIS process, from inside it (the in-process endpoint's
 * /debug/pprof/profile?seconds=N): a POSIX timer per thread on its CPU
 * clock delivers SIGPROF to it every 1/HZ s of its CPU time (threads that
 * start meanwhile get one within 100 ms); the handler copies registers
 * and stack top into a ring and chains every SIGPROF that is not ours to
 * the program's disposition, which is put back afterwards.  The calling
 * thread drains the ring, unwinds, labels each sample with the coroutine
 * running on that thread (corodbg_current(): the program must be
 * linked with libcorodbg) and is itself not sampled.  The profile has the
 * sample types and labels of cc_profile and goes to the open stream OUT;
 * T is cc_target_open_self().  CANCEL (may be NULL), set by another
 * thread, stops it within 10 ms.  One profile at a time: a second call
 * meanwhile fails at once with ERR "busy".  0; 3 when cancelled (the
 * samples so far are written); -1 + ERR (bad SECONDS or HZ, no table,
 * busy, out of memory, a write error).  Limits: docs/capture.md. */
int cc_profile_self(cc_target *t, cc_symbolizer *sym, double seconds,
                    unsigned hz, FILE *out, volatile int *cancel, FILE *log,
                    char *err);

/* A running thread of THIS process as its own signal handler saw it
 * (the handler of cc_profile_self, sent to it with rt_tgsigqueueinfo;
 * the program's own SIGPROF handling is kept as there).  Waits at most
 * TIMEOUT_MS (100 is plenty for a thread that runs): a thread that blocks
 * SIGPROF never answers, and the call fails rather than hang.  The
 * registers are x86-64 DWARF 0..16; STACK holds LEN bytes from SP.
 * 0, or -1 + ERR (no such thread, no answer in time, not x86-64). */
typedef struct cc_thread_snapshot {
    uint16_t regno[17];
    uint64_t val[17];
    size_t nregs;
    uint64_t sp;
    uint64_t co_id;         /* the coroutine it ran then (0: none) */
    size_t len;
    uint8_t stack[16384];
} cc_thread_snapshot;
int cc_snapshot_thread(pid_t tid, cc_thread_snapshot *out,
                       unsigned timeout_ms, char *err);

/* `corodbg watch`: counts by state and by (state, creation site, wait
 * site) across captures, each with its growth; groups that grew at every
 * step (and at least twice) are flagged.  Feed one capture per interval. */
typedef struct cc_watch cc_watch;
cc_watch *cc_watch_new(void);
void cc_watch_free(cc_watch *w);
int cc_watch_step(cc_watch *w, FILE *out, const cc_capture *c,
                  const char *stamp);

#endif
