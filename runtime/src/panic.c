/* corort_panic: Go's unrecovered panic, for C.  The message is recorded on
 * the running coroutine first (libcorodbg: state PANICKED, the debugger's
 * panic catch fires in corodbg_event_hook), then printed, then abort(). */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void corort_panic(const char *fmt, ...)
{
    va_list ap;
    char msg[CORODBG_PANIC_MAX];

#ifndef CORORT_NO_HOOKS
    va_start(ap, fmt);
    corodbg_vpanic(fmt, ap);
    va_end(ap);
#endif
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);

    corort_co *co = corort__current();
    fprintf(stderr, "panic: %s\n\n", msg);
    if (co) {
#ifndef CORORT_NO_HOOKS
        const char *name = co->dbg ? co->dbg->name : "";
#else
        const char *name = "";
#endif
        fprintf(stderr, "coroutine %llu \"%s\" [running]\n",
                (unsigned long long)co->id, name);
    } else {
        fprintf(stderr, "(not in a coroutine)\n");
    }
    fflush(stderr);
    abort();
}
