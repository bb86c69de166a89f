/*
 * pprof_tool.c - `corosym-pprof`: the pprof subcommand as its own program,
 * so it can be built and tested without the corosym CLI.  Same arguments
 * and exit codes as `corosym pprof`.
 */
#include "pprof_main.h"

int main(int argc, char **argv)
{
    return corosym_pprof_main(argc, argv);
}
