/* stackprog.c -- wait sites shaped the way optimizing compilers shape
 * them, for the differential test of the stack walker (tests/stacks/).
 *
 * Built as C and as C++ (gcc, clang; -O0, -O2, -O3): the same coroutines
 * in both, so `-group user` and `coroutine leaks` can be checked against
 * the debugger's own per-coroutine `bt` on every build.  Its "runtime" is
 * tests/progs/minirt.c (functions fx_*) plus, here, an inlined park and a
 * trampoline; the tests name the runtime with the glob fx_*.
 *
 * Usage: stackprog [N] [zero|sentinel|stub] [runtime]
 *   N rounds of the workers below (default 2), every coroutine blocked or
 *   parked, then a stop in stack_ready().  The bottom of every stack holds
 *   a zero return address, or (default) the sentinel 0xdeaddeaddeaddead,
 *   as runtimes that poison their stack bottom do, or (stub) the address
 *   of a finish stub, fx_finish, where a trampoline that returned would
 *   go, as Boost.Context's make_fcontext plants its `finish`: real code,
 *   with a name, below the trampoline.  A stub runtime describes its
 *   start function (the trampoline), which ends a stack whose entry
 *   function's frame sibling calls removed.  With "runtime" the
 *   program describes fx_* as its runtime code in its table (tools that
 *   read no debugger setting, such as `corodbg leaks`, then see it).
 *
 * Each worker has its own body: gcc's identical-code folding would give
 * two identical functions one name.
 */
#include "minirt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#ifdef __cplusplus
#define STACK_API extern "C"
#else
#define STACK_API
#endif

#define NOINLINE __attribute__((noinline))

static size_t stack_size = 16 * 1024;
static uint64_t bottom = 0xdeaddeaddeaddeadULL;
static int tokens[4];
static volatile long sink;

/* The runtime's wait helper, inlined into its callers: a debugger shows
 * it as an inline frame of the user function that called it. */
static inline __attribute__((always_inline)) void fx_park_inline(void)
{
    struct co *me = current;
    corodbg_block(me->dbg, CORODBG_WAIT_MUTEX, &tokens[3]);
    corodbg_switch(me->dbg, NULL);
    fx_switch(me->regs, sched_regs);
}

/* A runtime wait that keeps its frame: it works after the switch, so even
 * at -O2 the switch is a call, not a jump.  It says where it returns to
 * (corodbg_block_at); reached by a sibling call (await_io at -O2) that
 * skips the tail-call frame `bt` shows, which the reader must notice. */
NOINLINE void fx_wait(int *chan)
{
    struct co *me = current;
    corodbg_block_at(me->dbg, CORODBG_WAIT_IO, chan,
                     __builtin_return_address(0));
    corodbg_switch(me->dbg, NULL);
    fx_switch(me->regs, sched_regs);
    sink += *chan;
}

/* The stub mode's stack bottom: where a trampoline would return to.
 * Never reached (the trampoline switches away for good). */
NOINLINE void fx_finish(void)
{
    fprintf(stderr, "stackprog: a coroutine returned past its trampoline\n");
    abort();
}

static NOINLINE void fx_trampoline(void)
{
    struct co *c = current;
    c->fn(c);
    c->done = 1;
    corodbg_exit(c->dbg);
    c->dbg = NULL;
    uint64_t dead[CORODBG_NREGS];
    corodbg_switch(NULL, NULL);
    fx_switch(dead, sched_regs);
}

struct co *spawn(const char *name, void (*fn)(struct co *), long arg)
{
    struct co *c = (struct co *)calloc(1, sizeof *c);
    char *stack = (char *)mmap(NULL, stack_size, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!c || stack == MAP_FAILED) {
        perror("stackprog: spawn");
        exit(2);
    }
    c->fn = fn;
    c->arg = arg;
    c->dbg = corodbg_create(name, (void *)fn, stack, stack_size,
                            __builtin_return_address(0));
    c->regs = corodbg_regs(c->dbg);
    uint64_t *top = (uint64_t *)(stack + stack_size) - 1; /* 16n+8 */
    top[0] = bottom;
    c->regs[0] = (uint64_t)(uintptr_t)fx_trampoline;
    c->regs[1] = (uint64_t)(uintptr_t)top;
    return c;
}

/* ---- the user's code ---------------------------------------------------- */

/* A user wait helper that ends in a sibling call: at -O2 a `jmp`, and the
 * debugger shows it as a tail-call frame (from DWARF call-site info). */
NOINLINE void await_token(int *chan)
{
    sink += *chan;
    fx_chan_recv(chan);
}

/* The shape: a user helper ending in a sibling call (`jmp
 * fx_wait`) into a runtime function that keeps its frame.  `bt` shows the
 * helper as a tail-call frame between fx_wait and relay_worker. */
NOINLINE void await_io(int *chan)
{
    sink -= 3;
    fx_wait(chan);
}

NOINLINE void relay_worker(struct co *self)
{
    await_io(&tokens[0]);
    sink += self->arg * 13;
}

/* Plain: calls the runtime and does more afterwards. */
NOINLINE void plain_worker(struct co *self)
{
    long before = self->arg;
    fx_chan_recv(&tokens[0]);
    printf("plain %ld\n", before);
}

/* Waits through the tail-calling helper, then works on. */
NOINLINE void tail_worker(struct co *self)
{
    await_token(&tokens[1]);
    sink += self->arg * 3;
}

/* Waits in the runtime's inlined park. */
NOINLINE void inline_worker(struct co *self)
{
    sink -= self->arg;
    fx_park_inline();
    sink ^= self->arg;
}

/* conn -> await_x -> fx_chan_recv, every call a sibling call at -O2: the
 * user's frames are gone from the stack (see docs/gdb.md on
 * -fno-optimize-sibling-calls). */
NOINLINE void await_x(int *chan)
{
    sink *= 5;
    fx_chan_recv(chan);
}

NOINLINE void conn(struct co *self)
{
    sink += self->arg + 7;
    await_x(&tokens[2]);
}

/* Parks (runnable) two calls deep. */
NOINLINE void helper_yield(long n)
{
    sink += n;
    fx_park();
    sink -= 2 * n;
}

NOINLINE void nested_worker(struct co *self)
{
    helper_yield(self->arg);
    sink += 11;
}

STACK_API NOINLINE void stack_ready(void)
{
    __asm__ __volatile__("" ::: "memory");
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 2;
    if (argc > 2 && !strcmp(argv[2], "zero"))
        bottom = 0;
    if (argc > 2 && !strcmp(argv[2], "stub")) {
        bottom = (uint64_t)(uintptr_t)fx_finish;
        corodbg_set_runtime_start((const void *)fx_trampoline);
    }
    corodbg_set_runtime_name("stackprog");
    if (argc > 3 && !strcmp(argv[3], "runtime"))
        corodbg_set_runtime_code("fx_*");
    static const struct {
        const char *name;
        void (*fn)(struct co *);
    } kinds[] = {
        {"plain", plain_worker}, {"tail", tail_worker},
        {"inline", inline_worker}, {"conn", conn},
        {"nested", nested_worker}, {"relay", relay_worker},
    };
    for (long r = 0; r < rounds; r++)
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
            resume(spawn(kinds[k].name, kinds[k].fn, r));
    /* one that never ran: it sits at the trampoline */
    spawn("fresh", plain_worker, 0);
    stack_ready();
    return 0;
}
