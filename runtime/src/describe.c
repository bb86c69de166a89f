/* corort describes itself in the coroutine table, so debuggers tell its
 * frames from the user's with no configuration: its API and internals by
 * name, its static helpers (chan.c's recv, ...) by source file, and the
 * trampoline every coroutine starts in (corodbg.h, "The runtime describes
 * itself"). */
#include "internal.h"

void corort__describe(void)
{
#ifndef CORORT_NO_HOOKS
    corodbg_set_runtime_name("corort");
    corodbg_set_runtime_code("corort_*,corort__*,file:*runtime/src/*");
    corodbg_set_runtime_start((const void *)&corort__trampoline);
#endif
}
