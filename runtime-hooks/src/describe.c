/* The runtime describes itself: its code (function and file globs, an
 * address range), its start function, and creation sites fixed after
 * create.  Debuggers read these instead of guessing per runtime. */
#include "internal.h"

#include <string.h>

int corodbg_set_runtime_code(const char *code)
{
    if (!code)
        return CORODBG_EINVAL;
    char *dst = corodbg_table.runtime_code;
    size_t cap = sizeof corodbg_table.runtime_code;
    size_t n = strlen(code);
    int trunc = n >= cap;
    if (trunc) { /* keep whole globs only: a cut glob would match wrongly */
        n = cap - 1;
        while (n && code[n] != ',')
            n--;
    }
    pthread_mutex_lock(&corodbg__lock);
    memset(dst, 0, cap);
    memcpy(dst, code, n);
    pthread_mutex_unlock(&corodbg__lock);
    return trunc ? CORODBG_ETRUNC : CORODBG_OK;
}

void corodbg_set_runtime_range(const void *lo, const void *hi)
{
    corodbg_table.runtime_code_lo = (uint64_t)(uintptr_t)lo;
    corodbg_table.runtime_code_hi = (uint64_t)(uintptr_t)hi;
}

void corodbg_set_runtime_start(const void *fn)
{
    corodbg_table.runtime_start = (uint64_t)(uintptr_t)fn;
}

int corodbg_set_create_pc(corodbg_co *co, const void *pc)
{
    if (!co)
        return CORODBG_EINVAL;
    corodbg__entry_begin(co);
    co->create_pc = (uint64_t)(uintptr_t)pc;
    corodbg__entry_end(co);
    return CORODBG_OK;
}
