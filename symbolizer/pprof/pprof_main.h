/*
 * pprof_main.h - the `corosym pprof` subcommand.
 *
 * Usage: corosym pprof [OPTIONS] IN.pb.gz -o OUT.pb.gz
 *        corosym pprof [OPTIONS] --folded IN.pb.gz [-o OUT.txt]
 *
 * Exit codes (documented in --help):
 *   0  done (mappings without debug info are reported, not fatal)
 *   2  usage error
 *   3  input or output file cannot be read or written
 *   4  corrupt or truncated gzip stream
 *   5  not a pprof profile, or one with broken references
 *   6  out of memory or profile too large
 */
#ifndef COROSYM_PPROF_MAIN_H
#define COROSYM_PPROF_MAIN_H

enum {
    PPROF_EXIT_OK = 0,
    PPROF_EXIT_USAGE = 2,
    PPROF_EXIT_IO = 3,
    PPROF_EXIT_GZIP = 4,
    PPROF_EXIT_PROFILE = 5,
    PPROF_EXIT_NOMEM = 6,
};

/* ARGV[0] is "pprof" (the subcommand name).  Returns the exit code. */
int corosym_pprof_main(int argc, char **argv);

#endif
