/*
 * corodbg -- coroutine dumps and leak reports from a live process or a
 * core file, without a debugger.  A thin CLI over libcorocap
 * (capture/include/corocap.h); docs/capture.md is the manual.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "corocap.h"
#include "cli.h"

static const char usage_main[] =
    "Usage: corodbg COMMAND PID|CORE [OPTIONS]\n"
    "\n"
    "Coroutine dumps and leak reports from a live process or a core file,\n"
    "without a debugger.  The process is not stopped: only a thread running\n"
    "a coroutine is interrupted, briefly, to read its registers.\n"
    "\n"
    "Commands:\n"
    "  dump    every coroutine's id, name, state, wait reason, age and stack\n"
    "  leaks   blocked coroutines grouped by creation site and wait site\n"
    "          (the report of GDB's `coroutine leaks`)\n"
    "  watch   counts by state and by site, refreshed, growth flagged\n"
    "  profile a CPU profile, each sample labelled with its coroutine\n"
    "  fetch   the same from a process's in-process endpoint (no ptrace):\n"
    "          `corodbg fetch PID metrics`, see `corodbg fetch --help`\n"
    "  help    this text, or `corodbg help COMMAND`\n"
    "\n"
    "PID is a running process; anything else is a core file.\n"
    "Run `corodbg COMMAND --help` for a command's options.\n";

static const char usage_dump[] =
    "Usage: corodbg dump PID|CORE [--format text|grouped|json|pprof]\n"
    "                    [-o FILE] [--exe EXE] [--debug-dir DIR]...\n"
    "                    [--no-symbolize] [--no-stop] [--depth N]\n"
    "\n"
    "Every coroutine with its stack.\n"
    "  --format text      one block per coroutine, like Go's goroutine\n"
    "                     debug=2 (default)\n"
    "  --format grouped   one block per unique stack with its count and\n"
    "                     states, like Go's debug=1\n"
    "  --format json      one JSON object\n"
    "  --format pprof     a gzipped pprof \"coroutines\" profile\n"
    "                     (coroutines/count; labels state and wait; every\n"
    "                     mapping with its build-id, for `corosym pprof`)\n"
    "  -o FILE            write there instead of standard output\n"
    "  --exe EXE          the executable, when a core does not name it\n"
    "  --debug-dir DIR    also look for debug files under DIR/.build-id\n"
    "  --no-symbolize     frames as module+0xADDR only (symbolize later)\n"
    "  --no-stop          never interrupt a thread (running coroutines are\n"
    "                     shown without a stack)\n"
    "  --depth N          at most N frames per stack (default 64)\n";

static const char usage_leaks[] =
    "Usage: corodbg leaks PID|CORE [--min-age DURATION] [--exe EXE]\n"
    "                     [--debug-dir DIR]...\n"
    "\n"
    "Blocked coroutines grouped by creation site and wait site, the\n"
    "oldest age of each group and a few ids: the report of GDB's\n"
    "`coroutine leaks`.  DURATION: 1m23s, 500ms, 2h, 10 (seconds).\n";

static const char usage_watch[] =
    "Usage: corodbg watch PID [--interval SECONDS] [--count N]\n"
    "                    [--debug-dir DIR]...\n"
    "\n"
    "Every interval (default 5 s), the coroutines counted by state and by\n"
    "(state, creation site, wait site), each with its change since the\n"
    "last count.  A group that grew at every count since it appeared (at\n"
    "least twice) is flagged: a likely leak.  --count N stops after N\n"
    "counts (default: until interrupted).  Threads are never stopped.\n";

static const char usage_profile[] =
    "Usage: corodbg profile PID [--seconds S] [--hz H] -o FILE\n"
    "                      [--debug-dir DIR]... [--no-symbolize]\n"
    "\n"
    "A pprof CPU profile (samples/count, cpu/nanoseconds) of S seconds\n"
    "(default 10) at H samples per second of each thread's CPU time\n"
    "(default 100).  Each sample has the string label `coroutine` (the\n"
    "name of the coroutine running on that thread, \"(none)\" for a thread\n"
    "running none) and the numeric label `coroutine_id`.  Sampled by\n"
    "perf_event_open with a copy of the stack: no thread is stopped.\n";

static int usage_error(const char *usage, const char *fmt, const char *arg)
{
    fprintf(stderr, "corodbg: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n%s", usage);
    return 2;
}

/* query.parse_duration: '1m23s', '500ms', '2h', '10' (seconds). */
int cli_parse_duration(const char *text, int64_t *ns)
{
    static const struct { const char *u; double mul; } units[] = {
        {"ns", 1}, {"us", 1e3}, {"ms", 1e6}, {"s", 1e9}, {"m", 60e9},
        {"h", 3600e9}, {"d", 86400e9}};
    const char *p = text;
    double total = 0;
    if (!*p)
        return -1;
    char *end;
    double v = strtod(p, &end);
    if (isdigit((unsigned char)*p) && !*end) {
        *ns = (int64_t)(v * 1e9);
        return 0;
    }
    while (*p) {
        if (!isdigit((unsigned char)*p))
            return -1;
        v = strtod(p, &end);
        p = end;
        size_t best = 0;
        double mul = 0;
        for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
            size_t l = strlen(units[i].u);
            if (!strncmp(p, units[i].u, l) && l > best) {
                best = l;
                mul = units[i].mul;
            }
        }
        if (!best)
            return -1;
        /* "m" must not swallow "ms": the longest unit wins above */
        total += v * mul;
        p += best;
    }
    *ns = (int64_t)total;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        fputs(usage_main, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "fetch"))
        return cli_fetch(argc - 2, argv + 2);
    if (!strcmp(cmd, "help") && argc > 2 && !strcmp(argv[2], "fetch")) {
        char *help[] = {(char *)"--help"};
        return cli_fetch(1, help);
    }
    if (!strcmp(cmd, "help")) {
        const char *what = argc > 2 ? argv[2] : "";
        fputs(!strcmp(what, "dump") ? usage_dump :
              !strcmp(what, "leaks") ? usage_leaks :
              !strcmp(what, "watch") ? usage_watch :
              !strcmp(what, "profile") ? usage_profile : usage_main, stdout);
        return 0;
    }
    const char *usage = !strcmp(cmd, "dump") ? usage_dump :
                        !strcmp(cmd, "leaks") ? usage_leaks :
                        !strcmp(cmd, "watch") ? usage_watch :
                        !strcmp(cmd, "profile") ? usage_profile : NULL;
    if (!usage)
        return usage_error(usage_main, "unknown command '%s'", cmd);
    struct cli_opts o = {.format = "text", .out = "-", .depth = 64,
                         .min_age = -1, .symbolize = 1, .stop = 1,
                         .interval = 5.0, .count = 0, .seconds = 10,
                         .hz = 100};
    const char *dirs[64];
    o.debug_dirs = dirs;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
#define NEED_VAL()                                                         \
        do {                                                               \
            if (!val)                                                      \
                return usage_error(usage, "%s needs a value", a);          \
            i++;                                                           \
        } while (0)
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage, stdout);
            return 0;
        } else if (!strcmp(a, "--format") && usage == usage_dump) {
            NEED_VAL();
            if (strcmp(val, "text") && strcmp(val, "grouped") &&
                strcmp(val, "json") && strcmp(val, "pprof"))
                return usage_error(usage, "unknown format '%s' (text, "
                                   "grouped, json or pprof)", val);
            o.format = val;
        } else if (!strcmp(a, "--seconds") && usage == usage_profile) {
            NEED_VAL();
            char *end;
            double v = strtod(val, &end);
            if (*end || !(v >= 0.1 && v <= 86400))
                return usage_error(usage, "--seconds must be from 0.1 to "
                                   "86400, not '%s'", val);
            o.seconds = v;
        } else if (!strcmp(a, "--hz") && usage == usage_profile) {
            NEED_VAL();
            char *end;
            long v = strtol(val, &end, 10);
            if (*end || v < 1 || v > 10000)
                return usage_error(usage, "--hz must be from 1 to 10000, "
                                   "not '%s'", val);
            o.hz = (unsigned)v;
        } else if (!strcmp(a, "-o") &&
                   (usage == usage_dump || usage == usage_profile)) {
            NEED_VAL();
            o.out = val;
        } else if (!strcmp(a, "--exe")) {
            NEED_VAL();
            o.exe = val;
        } else if (!strcmp(a, "--debug-dir")) {
            NEED_VAL();
            if (o.ndirs == 64)
                return usage_error(usage, "too many %s", a);
            dirs[o.ndirs++] = val;
        } else if (!strcmp(a, "--no-symbolize") &&
                   (usage == usage_dump || usage == usage_profile)) {
            o.symbolize = 0;
        } else if (!strcmp(a, "--no-stop") && usage == usage_dump) {
            o.stop = 0;
        } else if (!strcmp(a, "--depth") && usage == usage_dump) {
            NEED_VAL();
            char *end;
            long d = strtol(val, &end, 10);
            if (*end || d < 1 || d > 1024)
                return usage_error(usage, "--depth must be from 1 to 1024, "
                                   "not '%s'", val);
            o.depth = (size_t)d;
        } else if (!strcmp(a, "--min-age") && usage == usage_leaks) {
            NEED_VAL();
            if (cli_parse_duration(val, &o.min_age))
                return usage_error(usage, "bad duration '%s' (use e.g. "
                                   "1m23s, 500ms, 2h)", val);
        } else if (!strcmp(a, "--interval") && usage == usage_watch) {
            NEED_VAL();
            char *end;
            double v = strtod(val, &end);
            if (*end || !(v >= 0.1 && v <= 86400))
                return usage_error(usage, "--interval must be from 0.1 to "
                                   "86400 seconds, not '%s'", val);
            o.interval = v;
        } else if (!strcmp(a, "--count") && usage == usage_watch) {
            NEED_VAL();
            char *end;
            long v = strtol(val, &end, 10);
            if (*end || v < 1 || v > 1000000)
                return usage_error(usage, "--count must be from 1 to "
                                   "1000000, not '%s'", val);
            o.count = v;
        } else if (a[0] == '-' && a[1]) {
            return usage_error(usage, "unknown option '%s'", a);
        } else if (!o.target) {
            o.target = a;
        } else {
            return usage_error(usage, "unexpected argument '%s'", a);
        }
    }
    if (!o.target)
        return usage_error(usage, "%s: which process or core?", cmd);
    if ((!strcmp(o.format, "pprof") || usage == usage_profile) &&
        !strcmp(o.out, "-") && isatty(STDOUT_FILENO))
        return usage_error(usage, "%s", "a pprof profile is binary: give -o "
                           "FILE (or redirect standard output)");
    return cli_run(cmd, &o);
}
