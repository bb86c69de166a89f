/* Shared by the examples: the debugger stop point and argument parsing. */
#include "common.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* Debuggers break here.  The asm keeps calls from being merged away.
 * With EXAMPLE_HOLD set in the environment the program then waits here
 * until killed, so tools that read a live process without stopping it
 * (`corodbg dump PID`) find every coroutine where the README says. */
__attribute__((noinline)) void example_checkpoint(void)
{
    __asm__ volatile("" ::: "memory");
    if (getenv("EXAMPLE_HOLD")) {
        printf("holding at example_checkpoint (pid %d)\n", (int)getpid());
        fflush(stdout);
        for (;;)
            pause();
    }
}

long example_count(const char *prog, const char *what, const char *arg,
                   long def, long min, long max)
{
    if (!arg)
        return def;
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno || end == arg || *end || v < min || v > max) {
        fprintf(stderr, "%s: %s must be an integer from %ld to %ld, not '%s'\n",
                prog, what, min, max, arg);
        exit(2);
    }
    return v;
}
