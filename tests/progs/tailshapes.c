/* tailshapes.c -- chains of sibling calls, for the tail-call frames a
 * debugger infers from DWARF call sites (tests/capture/test_tail_calls.py).
 *
 * Built with gcc -O2, every `f(...)` at the end of a function below is a
 * `jmp`: the function leaves no frame, and GDB's `bt` puts it back only
 * when the call sites say unambiguously how the caller's call reached the
 * parked function.  One coroutine per shape, each parked in wait_here():
 *
 *   chain   chain_worker -> mid_a -jmp-> mid_b -jmp-> wait_here
 *           one path: both mid_a and mid_b are shown
 *   fork    fork_worker -> pick -jmp-> left | right -jmp-> wait_here
 *           two paths sharing nothing: neither is shown
 *   join    join_worker -> pick2 -jmp-> l2 | r2 -jmp-> join -jmp-> wait_here
 *           two paths sharing their last call: only join is shown
 *   cycle   cycle_worker -> ping -jmp-> pong -jmp-> ping ... -jmp-> wait_here
 *           ping and pong call each other: the paths share ping's last
 *           call, so ping is shown
 *   pointer pointer_worker -> via_pointer -jmp *-> wait_here
 *           an indirect tail call: nothing can be shown
 *   extern  extern_worker -> to_elsewhere -jmp-> wait_elsewhere
 *           a callee in another unit (tailshapes_wait.c), named by its
 *           declaration
 *
 * wait_* is described as runtime code, so `coroutine leaks` names the
 * first frame above the parking function: often a tail-call frame.
 *
 * Usage: tailshapes; stops in shapes_ready() with every coroutine parked.
 */
#include "minirt.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#ifdef __cplusplus
#define SHAPES_API extern "C"
#else
#define SHAPES_API
#endif

#define NOINLINE __attribute__((noinline))

static volatile long sink;
static int chan;

/* Parks, keeping its frame (it works after the switch): the frame every
 * shape's tail calls lead to. */
NOINLINE void wait_here(int *ch)
{
    struct co *me = current;
    corodbg_block(me->dbg, CORODBG_WAIT_CHAN_RECV, ch);
    corodbg_switch(me->dbg, NULL);
    fx_switch(me->regs, sched_regs);
    sink += *ch;
}

/* chain */
NOINLINE void mid_b(int *ch) { sink += 2; wait_here(ch); }
NOINLINE void mid_a(int *ch) { sink += 1; mid_b(ch); }
NOINLINE void chain_worker(struct co *self)
{
    mid_a(&chan);
    sink += self->arg;
}

/* fork */
NOINLINE void left(int *ch) { sink += 3; wait_here(ch); }
NOINLINE void right(int *ch) { sink *= 4; wait_here(ch); }
NOINLINE void pick(int *ch, long n)
{
    if (n & 1)
        left(ch);
    else
        right(ch);
}
NOINLINE void fork_worker(struct co *self)
{
    pick(&chan, self->arg);
    sink += 5;
}

/* join */
NOINLINE void join(int *ch) { sink += 6; wait_here(ch); }
NOINLINE void l2(int *ch) { sink += 7; join(ch); }
NOINLINE void r2(int *ch) { sink *= 8; join(ch); }
NOINLINE void pick2(int *ch, long n)
{
    if (n & 1)
        l2(ch);
    else
        r2(ch);
}
NOINLINE void join_worker(struct co *self)
{
    pick2(&chan, self->arg);
    sink += 9;
}

/* cycle */
NOINLINE void pong(int *ch, long n);
NOINLINE void ping(int *ch, long n)
{
    sink += 10;
    if (n > 0)
        pong(ch, n - 1);
    else
        wait_here(ch);
}
NOINLINE void pong(int *ch, long n) { sink *= 11; ping(ch, n); }
NOINLINE void cycle_worker(struct co *self)
{
    ping(&chan, 2);
    sink += self->arg + 12;
}

/* pointer */
static void (*volatile hook)(int *) = wait_here;
NOINLINE void via_pointer(int *ch) { sink += 13; hook(ch); }
NOINLINE void pointer_worker(struct co *self)
{
    via_pointer(&chan);
    sink += self->arg + 14;
}

/* extern */
void wait_elsewhere(int *ch);   /* tailshapes_wait.c; C++: a mangled name */
NOINLINE void to_elsewhere(int *ch) { sink += 15; wait_elsewhere(ch); }
NOINLINE void extern_worker(struct co *self)
{
    to_elsewhere(&chan);
    sink += self->arg + 16;
}

/* ---- the program's own coroutines -------------------------------------- */
static NOINLINE void trampoline(void)
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
    enum { STACK = 16 * 1024 };
    struct co *c = (struct co *)calloc(1, sizeof *c);
    char *stack = (char *)mmap(NULL, STACK, PROT_READ | PROT_WRITE,
                               MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (!c || stack == MAP_FAILED) {
        perror("tailshapes: spawn");
        exit(2);
    }
    c->fn = fn;
    c->arg = arg;
    c->dbg = corodbg_create(name, (void *)fn, stack, STACK,
                            __builtin_return_address(0));
    c->regs = corodbg_regs(c->dbg);
    uint64_t *top = (uint64_t *)(stack + STACK) - 1; /* 16n+8 */
    top[0] = 0;
    c->regs[0] = (uint64_t)(uintptr_t)trampoline;
    c->regs[1] = (uint64_t)(uintptr_t)top;
    return c;
}

SHAPES_API NOINLINE void shapes_ready(void)
{
    __asm__ __volatile__("" ::: "memory");
}

int main(void)
{
    static const struct {
        const char *name;
        void (*fn)(struct co *);
    } shapes[] = {
        {"chain", chain_worker}, {"fork", fork_worker},
        {"join", join_worker}, {"cycle", cycle_worker},
        {"pointer", pointer_worker}, {"extern", extern_worker},
    };
    corodbg_set_runtime_name("tailshapes");
    /* the parking functions are the runtime: a wait site is then the
     * innermost frame above them, often a tail-call frame */
    corodbg_set_runtime_code("wait_*");
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
        resume(spawn(shapes[k].name, shapes[k].fn, (long)k));
    shapes_ready();
    return 0;
}
