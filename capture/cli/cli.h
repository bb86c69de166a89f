/* cli.h -- the corodbg command line's options and commands. */
#ifndef CLI_H
#define CLI_H

#include <stddef.h>
#include <stdint.h>

struct cli_opts {
    const char *target;      /* PID or core path */
    const char *exe;
    const char *format;
    const char *out;
    const char **debug_dirs;
    size_t ndirs;
    size_t depth;
    int64_t min_age;         /* -1: none */
    int symbolize, stop;
    double interval;         /* watch: seconds between counts */
    long count;              /* watch: counts to take, 0 = until killed */
    double seconds;          /* profile: how long */
    unsigned hz;             /* profile: samples per CPU second */
};

int cli_parse_duration(const char *text, int64_t *ns);
/* Run CMD ("dump", "leaks", "watch"); returns the exit status. */
int cli_run(const char *cmd, const struct cli_opts *o);
/* `corodbg fetch ARGS...` (fetch.c): the in-process endpoint's client. */
int cli_fetch(int argc, char **argv);

#endif
