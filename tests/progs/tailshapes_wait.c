/* tailshapes_wait.c -- the parking function of tailshapes.c's "extern"
 * shape, in a unit of its own: the call site that jumps here names it by
 * a declaration only, which a reader resolves through the symbol table. */
#include "minirt.h"

static volatile long sink;

__attribute__((noinline)) void wait_elsewhere(int *ch)
{
    struct co *me = current;
    corodbg_block(me->dbg, CORODBG_WAIT_CHAN_RECV, ch);
    corodbg_switch(me->dbg, NULL);
    fx_switch(me->regs, sched_regs);  /* a call: work follows */
    sink += *ch;
}
