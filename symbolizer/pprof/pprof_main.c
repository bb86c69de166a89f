/*
 * pprof_main.c - `corosym pprof`: symbolize a pprof profile, or print its
 * folded stacks.  See pprof_main.h for the exit codes.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "folded.h"
#include "pprof_main.h"
#include "pprof_sym.h"

static const char usage_text[] =
    "Usage: corosym pprof [OPTIONS] IN.pb.gz -o OUT.pb.gz\n"
    "       corosym pprof [OPTIONS] --folded IN.pb.gz [-o OUT.txt]\n"
    "\n"
    "Fill in the functions, source lines and inline chains of a pprof\n"
    "profile whose mappings carry build-ids and/or file names, using the\n"
    "same debug-file search as corosym.  IN may be gzip-compressed or not;\n"
    "'-' is stdin.  A one-line summary goes to stderr.\n"
    "\n"
    "Options:\n"
    "  -o, --output FILE        write here ('-' is stdout; required for a\n"
    "                           profile, stdout by default for --folded)\n"
    "      --folded             write folded stacks (root first, ';'-separated,\n"
    "                           then the summed value) for flame graphs\n"
    "      --sample-index N|NAME  value summed by --folded (default: the\n"
    "                           profile's default sample type, else the last)\n"
    "      --no-gzip            write the profile uncompressed\n"
    "      --debug-dir DIR      search DIR/.build-id first (repeatable)\n"
    "      --debug-file-directory=DIR  same as --debug-dir\n"
    "      --no-default-debug-dir  do not search /usr/lib/debug\n"
    "      --no-debuginfod      do not ask debuginfod\n"
    "      --cache-dir DIR      index cache directory\n"
    "      --no-cache           neither read nor write the index cache\n"
    "      --no-symbolize       keep the profile's symbols as they are\n"
    "      --force              re-symbolize locations that already have lines\n"
    "      --progress           progress on stderr while indexing debug info\n"
    "                           (default: when stderr is a terminal)\n"
    "  -q, --quiet              no summary and no per-mapping warnings\n"
    "  -h, --help               this text\n"
    "\n"
    "Exit status: 0 done (missing debug info is reported, not fatal);\n"
    "2 usage; 3 cannot read or write a file; 4 corrupt or truncated gzip;\n"
    "5 not a pprof profile or broken references; 6 out of memory/too large.\n";

static int exit_for(int rc)
{
    switch (rc) {
    case PPROF_OK: return PPROF_EXIT_OK;
    case PPROF_E_IO: return PPROF_EXIT_IO;
    case PPROF_E_GZIP:
    case PPROF_E_TRUNC: return PPROF_EXIT_GZIP;
    case PPROF_E_PROTO:
    case PPROF_E_INVALID: return PPROF_EXIT_PROFILE;
    default: return PPROF_EXIT_NOMEM;
    }
}

static int usage_error(const char *msg)
{
    fprintf(stderr, "corosym pprof: %s (try 'corosym pprof --help')\n", msg);
    return PPROF_EXIT_USAGE;
}

enum {
    OPT_FOLDED = 256, OPT_SAMPLE_INDEX, OPT_NO_GZIP, OPT_DEBUG_DIR,
    OPT_NO_DEFAULT_DEBUG_DIR, OPT_NO_DEBUGINFOD, OPT_CACHE_DIR, OPT_NO_CACHE,
    OPT_NO_SYMBOLIZE, OPT_FORCE, OPT_PROGRESS,
};

static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"folded", no_argument, NULL, OPT_FOLDED},
    {"sample-index", required_argument, NULL, OPT_SAMPLE_INDEX},
    {"no-gzip", no_argument, NULL, OPT_NO_GZIP},
    {"debug-dir", required_argument, NULL, OPT_DEBUG_DIR},
    {"debug-file-directory", required_argument, NULL, OPT_DEBUG_DIR},
    {"no-default-debug-dir", no_argument, NULL, OPT_NO_DEFAULT_DEBUG_DIR},
    {"no-debuginfod", no_argument, NULL, OPT_NO_DEBUGINFOD},
    {"cache-dir", required_argument, NULL, OPT_CACHE_DIR},
    {"no-cache", no_argument, NULL, OPT_NO_CACHE},
    {"no-symbolize", no_argument, NULL, OPT_NO_SYMBOLIZE},
    {"force", no_argument, NULL, OPT_FORCE},
    {"progress", no_argument, NULL, OPT_PROGRESS},
    {"quiet", no_argument, NULL, 'q'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int corosym_pprof_main(int argc, char **argv)
{
    const char *in = NULL, *out = NULL, *sample_spec = NULL;
    const char **dirs = NULL;
    size_t ndirs = 0;
    int folded = 0, gzip = 1, quiet = 0, force = 0, symbolize = 1;
    int default_dir = 1, debuginfod = 1, use_cache = 1;
    int progress = isatty(2);
    const char *cache_dir = NULL;
    char err[PPROF_ERRLEN] = "";
    struct pprof *pr = NULL;
    corosym_session *s = NULL;
    int c, rc, ex = PPROF_EXIT_OK, idx = 0;

    dirs = calloc((size_t)argc + 1, sizeof *dirs);
    if (!dirs) {
        fprintf(stderr, "corosym pprof: out of memory\n");
        return PPROF_EXIT_NOMEM;
    }
    optind = 0; /* full getopt reset: main may have used it */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': out = optarg; break;
        case OPT_FOLDED: folded = 1; break;
        case OPT_SAMPLE_INDEX: sample_spec = optarg; break;
        case OPT_NO_GZIP: gzip = 0; break;
        case OPT_DEBUG_DIR: dirs[ndirs++] = optarg; break;
        case OPT_NO_DEFAULT_DEBUG_DIR: default_dir = 0; break;
        case OPT_NO_DEBUGINFOD: debuginfod = 0; break;
        case OPT_CACHE_DIR: cache_dir = optarg; break;
        case OPT_NO_CACHE: use_cache = 0; break;
        case OPT_NO_SYMBOLIZE: symbolize = 0; break;
        case OPT_FORCE: force = 1; break;
        case OPT_PROGRESS: progress = 1; break;
        case 'q': quiet = 1; break;
        case 'h':
            fputs(usage_text, stdout);
            free(dirs);
            return PPROF_EXIT_OK;
        default: {
            char msg[128];
            if (optopt && optopt < 256)
                snprintf(msg, sizeof msg, "bad option '-%c'", optopt);
            else
                snprintf(msg, sizeof msg, "bad option '%s'",
                         argv[optind - 1] ? argv[optind - 1] : "?");
            free(dirs);
            return usage_error(msg);
        }
        }
    }
    /* GNU getopt permutes: options may also follow the input file */
    if (optind < argc)
        in = argv[optind++];
    if (optind < argc) {
        free(dirs);
        return usage_error("more than one input profile");
    }
    if (!in) {
        free(dirs);
        return usage_error("no input profile given");
    }
    if (!out && !folded) {
        free(dirs);
        return usage_error("no output given: use -o OUT.pb.gz (or --folded)");
    }
    if (sample_spec && !folded) {
        free(dirs);
        return usage_error("--sample-index only applies to --folded");
    }

    rc = pprof_read_file(in, &pr, err, sizeof err);
    if (rc) {
        fprintf(stderr, "corosym pprof: %s\n", err);
        ex = exit_for(rc);
        goto out;
    }
    if (folded) {
        /* before any symbolization: a bad --sample-index costs no work */
        idx = folded_sample_index(pr, sample_spec, err, sizeof err);
        if (idx < 0) {
            fprintf(stderr, "corosym pprof: %s\n", err);
            ex = PPROF_EXIT_USAGE;
            goto out;
        }
    }
    if (symbolize) {
        corosym_options o;
        struct pprof_sym_stats st;

        corosym_options_init(&o);
        o.debug_dirs = dirs;
        o.n_debug_dirs = ndirs;
        o.default_debug_dir = default_dir;
        o.debuginfod = debuginfod;
        o.cache_dir = cache_dir;
        o.use_cache = use_cache;
        o.demangle = 0; /* pprof keeps both: demangled name, system name */
        o.inlines = 1;
        o.progress = progress && !quiet;
        s = corosym_session_new(&o);
        if (!s) {
            fprintf(stderr, "corosym pprof: cannot create a session\n");
            ex = PPROF_EXIT_NOMEM;
            goto out;
        }
        rc = pprof_symbolize(pr, s, force, quiet ? NULL : stderr, &st, err,
                             sizeof err);
        if (rc) {
            fprintf(stderr, "corosym pprof: %s\n", err);
            ex = exit_for(rc);
            goto out;
        }
        if (!quiet) {
            char kept[64] = "";
            if (st.locations_kept)
                snprintf(kept, sizeof kept, " (%zu already had lines)",
                         st.locations_kept);
            fprintf(stderr,
                    "corosym pprof: mappings: %zu found, %zu missing; "
                    "locations: %zu of %zu symbolized%s\n",
                    st.mappings_found, st.mappings_missing, st.locations_done,
                    st.locations, kept);
        }
    }
    if (folded) {
        FILE *f = stdout;
        if (out && strcmp(out, "-") != 0) {
            f = fopen(out, "w");
            if (!f) {
                fprintf(stderr, "corosym pprof: %s: %m\n", out);
                ex = PPROF_EXIT_IO;
                goto out;
            }
        }
        rc = folded_write(pr, f, idx, err, sizeof err);
        if (f != stdout && fclose(f) != 0 && !rc) {
            snprintf(err, sizeof err, "%s: write failed", out);
            rc = PPROF_E_IO;
        }
    } else {
        rc = pprof_write_file(pr, out, gzip, err, sizeof err);
    }
    if (rc) {
        fprintf(stderr, "corosym pprof: %s\n", err);
        ex = exit_for(rc);
    }
out:
    corosym_session_free(s);
    pprof_free(pr);
    free(dirs);
    return ex;
}
