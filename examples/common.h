/* Shared by the examples: the debugger stop point and argument parsing. */
#ifndef EXAMPLES_COMMON_H
#define EXAMPLES_COMMON_H

/* Called once the interesting state is set up.  Never inlined and does
 * nothing, so a debugger can `break example_checkpoint` and find every
 * coroutine parked where examples/README.md says. */
void example_checkpoint(void);

/* ARG as an integer in [MIN, MAX], or DEF when ARG is NULL.  Anything else
 * prints "PROG: WHAT must be an integer from MIN to MAX" and exits 2. */
long example_count(const char *prog, const char *what, const char *arg,
                   long def, long min, long max);

#endif
