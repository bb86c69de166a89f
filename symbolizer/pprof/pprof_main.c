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

/* The command line. */
typedef struct pargs {
    const char *in, *out, *sample_spec, *cache_dir;
    const char **dirs;           /* --debug-dir, NDIRS of them */
    size_t ndirs;
    int folded, gzip, quiet, force, symbolize;
    int default_dir, debuginfod, use_cache, progress;
} pargs;

/* Phase 1: ARGV into A.  Returns -1 to go on, else the exit status
   (help printed, or a usage error said). */
static int parse_pargs(int argc, char **argv, pargs *a)
{
    int c;
    optind = 0; /* full getopt reset: main may have used it */
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:qh", longopts, NULL)) != -1) {
        switch (c) {
        case 'o': a->out = optarg; break;
        case OPT_FOLDED: a->folded = 1; break;
        case OPT_SAMPLE_INDEX: a->sample_spec = optarg; break;
        case OPT_NO_GZIP: a->gzip = 0; break;
        case OPT_DEBUG_DIR: a->dirs[a->ndirs++] = optarg; break;
        case OPT_NO_DEFAULT_DEBUG_DIR: a->default_dir = 0; break;
        case OPT_NO_DEBUGINFOD: a->debuginfod = 0; break;
        case OPT_CACHE_DIR: a->cache_dir = optarg; break;
        case OPT_NO_CACHE: a->use_cache = 0; break;
        case OPT_NO_SYMBOLIZE: a->symbolize = 0; break;
        case OPT_FORCE: a->force = 1; break;
        case OPT_PROGRESS: a->progress = 1; break;
        case 'q': a->quiet = 1; break;
        case 'h':
            fputs(usage_text, stdout);
            return PPROF_EXIT_OK;
        default: {
            char msg[128];
            if (optopt && optopt < 256)
                snprintf(msg, sizeof msg, "bad option '-%c'", optopt);
            else
                snprintf(msg, sizeof msg, "bad option '%s'",
                         argv[optind - 1] ? argv[optind - 1] : "?");
            return usage_error(msg);
        }
        }
    }
    /* GNU getopt permutes: options may also follow the input file */
    if (optind < argc)
        a->in = argv[optind++];
    if (optind < argc)
        return usage_error("more than one input profile");
    if (!a->in)
        return usage_error("no input profile given");
    if (!a->out && !a->folded)
        return usage_error("no output given: use -o OUT.pb.gz (or --folded)");
    if (a->sample_spec && !a->folded)
        return usage_error("--sample-index only applies to --folded");
    return -1;
}

/* Phase 2: PR's locations symbolized in session *S (created here, freed
   by the caller).  Returns the exit status. */
static int symbolize_profile(const pargs *a, struct pprof *pr,
                             corosym_session **s)
{
    char err[PPROF_ERRLEN] = "";
    corosym_options o;
    struct pprof_sym_stats st;

    corosym_options_init(&o);
    o.debug_dirs = a->dirs;
    o.n_debug_dirs = a->ndirs;
    o.default_debug_dir = a->default_dir;
    o.debuginfod = a->debuginfod;
    o.cache_dir = a->cache_dir;
    o.use_cache = a->use_cache;
    o.demangle = 0; /* pprof keeps both: demangled name, system name */
    o.inlines = 1;
    o.progress = a->progress && !a->quiet;
    *s = corosym_session_new(&o);
    if (!*s) {
        fprintf(stderr, "corosym pprof: cannot create a session\n");
        return PPROF_EXIT_NOMEM;
    }
    int rc = pprof_symbolize(pr, *s, a->force, a->quiet ? NULL : stderr,
                             &st, err, sizeof err);
    if (rc) {
        fprintf(stderr, "corosym pprof: %s\n", err);
        return exit_for(rc);
    }
    if (!a->quiet) {
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
    return PPROF_EXIT_OK;
}

/* Phase 3: PR written as a profile, or as folded stacks of sample value
   IDX.  Returns the exit status. */
static int write_output(const pargs *a, struct pprof *pr, int idx)
{
    char err[PPROF_ERRLEN] = "";
    int rc;
    if (a->folded) {
        FILE *f = stdout;
        if (a->out && strcmp(a->out, "-") != 0) {
            f = fopen(a->out, "w");
            if (!f) {
                fprintf(stderr, "corosym pprof: %s: %m\n", a->out);
                return PPROF_EXIT_IO;
            }
        }
        rc = folded_write(pr, f, idx, err, sizeof err);
        if (f != stdout && fclose(f) != 0 && !rc) {
            snprintf(err, sizeof err, "%s: write failed", a->out);
            rc = PPROF_E_IO;
        }
    } else {
        rc = pprof_write_file(pr, a->out, a->gzip, err, sizeof err);
    }
    if (rc) {
        fprintf(stderr, "corosym pprof: %s\n", err);
        return exit_for(rc);
    }
    return PPROF_EXIT_OK;
}

int corosym_pprof_main(int argc, char **argv)
{
    char err[PPROF_ERRLEN] = "";
    struct pprof *pr = NULL;
    corosym_session *s = NULL;
    int ex, idx = 0;
    pargs a;

    memset(&a, 0, sizeof a);
    a.gzip = a.symbolize = a.default_dir = a.debuginfod = a.use_cache = 1;
    a.progress = isatty(2);
    a.dirs = calloc((size_t)argc + 1, sizeof *a.dirs);
    if (!a.dirs) {
        fprintf(stderr, "corosym pprof: out of memory\n");
        return PPROF_EXIT_NOMEM;
    }
    ex = parse_pargs(argc, argv, &a);
    if (ex >= 0) {
        free(a.dirs);
        return ex;
    }
    ex = PPROF_EXIT_OK;
    int rc = pprof_read_file(a.in, &pr, err, sizeof err);
    if (rc) {
        fprintf(stderr, "corosym pprof: %s\n", err);
        ex = exit_for(rc);
        goto out;
    }
    if (a.folded) {
        /* before any symbolization: a bad --sample-index costs no work */
        idx = folded_sample_index(pr, a.sample_spec, err, sizeof err);
        if (idx < 0) {
            fprintf(stderr, "corosym pprof: %s\n", err);
            ex = PPROF_EXIT_USAGE;
            goto out;
        }
    }
    if (a.symbolize)
        ex = symbolize_profile(&a, pr, &s);
    if (ex == PPROF_EXIT_OK)
        ex = write_output(&a, pr, idx);
out:
    corosym_session_free(s);
    pprof_free(pr);
    free(a.dirs);
    return ex;
}
