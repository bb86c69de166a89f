/* main.c - corosym command line: a drop-in for llvm-symbolizer's line
   protocol, on libcorosym.

   Exit status: 0 all requests answered (unknown addresses print ??);
   1 bad command line; 2 some module or input line had an error (each was
   reported on stderr, the rest was symbolized).  Invoked as
   "llvm-symbolizer", the exit status is 0 like the original. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batch.h"
#include "corosym.h"
#include "lineproto.h"
#include "output.h"
#include "util.h"

#include "pprof_main.h"

static const char *prog = "corosym";
static int llvm_mode;      /* argv[0] is llvm-symbolizer */
static int had_error;      /* exit 2 */

static const char usage_text[] =
"Usage: corosym [options] [ADDRESS...]\n"
"       corosym pprof IN.pb.gz -o OUT.pb.gz [options]\n"
"\n"
"Symbolizes module-relative addresses like llvm-symbolizer: each input\n"
"line (stdin, or each ADDRESS argument) is one of\n"
"  [CODE |DATA ]ADDR                with --obj FILE or --build-id HEX\n"
"  [CODE |DATA ]MODULE ADDR\n"
"  [CODE |DATA ]BUILDID:HEX ADDR\n"
"  [CODE |DATA ][FILE:]MODULE SYMBOL[+OFFSET]\n"
"An empty line answers ?? silently, as in llvm-symbolizer.\n"
"FRAME requests (local variables) are not supported: each answers ??\n"
"\n"
"llvm-symbolizer options:\n"
"  --obj=FILE, --exe=FILE, -e FILE   default module\n"
"  --build-id=HEX                    default module by build-id\n"
"  --inlines, -i, --inlining         show inlined frames (default)\n"
"  --no-inlines                      only the outermost frame\n"
"  --functions[=none|short|linkage], -f   function names (default linkage)\n"
"  --demangle, -C / --no-demangle    C++ demangling (default on)\n"
"  --relative-address                addresses are relative to the image base\n"
"  --adjust-vma=OFF                  add OFF to section addresses\n"
"  --debug-file-directory=DIR        extra debug root (same as --debug-dir)\n"
"  --output-style=LLVM|GNU|JSON      output format (default LLVM)\n"
"  --print-address, --addresses, -a  print the address first\n"
"  --pretty-print, -p                one line per frame\n"
"  --basenames, -s                   strip directories from file names\n"
"  --no-debuginfod                   do not ask debuginfod\n"
"corosym options:\n"
"  --debug-dir=DIR                   extra debug root, searched first\n"
"  --no-default-debug-dir            do not search /usr/lib/debug\n"
"  --cache-dir=DIR                   index cache (default $XDG_CACHE_HOME/corosym)\n"
"  --no-cache                        neither read nor write the index cache\n"
"  --progress                        progress on stderr (default: if a TTY)\n"
"  --offsets                         name+0xOFF for frames without line info\n"
"  --stats                           say on stderr where each index came from\n"
"  --threads=N                       threads rendering answers and reading\n"
"                                    DWARF, 1-8 (default: the online CPUs,\n"
"                                    at most 8)\n"
"  --help, --version\n"
"Debug info is searched in: --debug-dir trees (.build-id/NN/REST.debug),\n"
"/usr/lib/debug, the binary itself, .gnu_debuglink (CRC checked), then\n"
"debuginfod when DEBUGINFOD_URLS is set.\n"
"Exit status: 0 ok, 1 usage error, 2 some input or module had an error.\n";

static void die_usage(const char *fmt, const char *arg)
{
    fprintf(stderr, "%s: error: ", prog);
    fprintf(stderr, fmt, arg);
    fputs("\n", stderr);
    exit(1);
}

typedef struct cli {
    corosym_options o;
    cs_outcfg oc;
    const char *obj;
    uint8_t bid[64];
    size_t bidlen;
    uint64_t adjust_vma;
    int relative;
    int stats;
    unsigned threads;
    char **dirs;
    size_t ndirs;
    char **addrs;
    size_t naddrs;
} cli;

/* Matches "--name", "-name", "--name=V", "-name=V"; with NEEDS_VALUE the
   value may also be the next argument. */
static int opt(int argc, char **argv, int *i, const char *name,
               int needs_value, const char **val)
{
    const char *a = argv[*i];
    if (a[0] != '-')
        return 0;
    a += a[1] == '-' ? 2 : 1;
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0)
        return 0;
    if (a[n] == 0) {
        if (needs_value) {
            if (*i + 1 >= argc)
                die_usage("option '%s' requires a value", argv[*i]);
            *val = argv[++*i];
        }
        return 1;
    }
    if (a[n] == '=') {
        if (val)
            *val = a + n + 1;
        return needs_value ? 1 : (val ? 1 : 0);
    }
    return 0;
}

static int truthy(const char *v)
{
    return !(v && (strcmp(v, "false") == 0 || strcmp(v, "0") == 0 ||
                   strcmp(v, "no") == 0));
}

static void parse_args(cli *c, int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        if (a[0] != '-' || a[1] == 0) {
            c->addrs = cs_xrealloc(c->addrs, (c->naddrs + 1) * sizeof *c->addrs);
            c->addrs[c->naddrs++] = argv[i];
            continue;
        }
        if (!strcmp(a, "--")) {
            for (i++; i < argc; i++) {
                c->addrs = cs_xrealloc(c->addrs, (c->naddrs + 1) * sizeof *c->addrs);
                c->addrs[c->naddrs++] = argv[i];
            }
            break;
        }
        if (!strcmp(a, "-h") || opt(argc, argv, &i, "help", 0, NULL)) {
            fputs(usage_text, stdout);
            exit(0);
        }
        if (!strcmp(a, "-v") || !strcmp(a, "-V") ||
            opt(argc, argv, &i, "version", 0, NULL)) {
            printf("corosym 1.0 (libcorosym API %d; llvm-symbolizer 19 "
                   "compatible)\n", COROSYM_API_VERSION);
            exit(0);
        }
        if (!strcmp(a, "-e") || opt(argc, argv, &i, "obj", 1, &v) ||
            opt(argc, argv, &i, "exe", 1, &v)) {
            if (!v) {
                if (i + 1 >= argc)
                    die_usage("option '%s' requires a value", a);
                v = argv[++i];
            }
            c->obj = v;
        } else if (!strncmp(a, "-e", 2) && a[2] != 0 && a[2] != '=') {
            c->obj = a + 2;
        } else if (opt(argc, argv, &i, "build-id", 1, &v)) {
            if (cs_unhex(v, strlen(v), c->bid, sizeof c->bid, &c->bidlen) < 0)
                die_usage("--build-id: '%s' is not a hex build-id", v);
        } else if (!strcmp(a, "-i") || opt(argc, argv, &i, "inlines", 0, &v) ||
                   opt(argc, argv, &i, "inlining", 0, &v)) {
            c->o.inlines = truthy(v);
        } else if (opt(argc, argv, &i, "no-inlines", 0, NULL)) {
            c->o.inlines = 0;
        } else if (!strcmp(a, "-C") || opt(argc, argv, &i, "demangle", 0, &v)) {
            c->o.demangle = truthy(v);
        } else if (opt(argc, argv, &i, "no-demangle", 0, NULL)) {
            c->o.demangle = 0;
        } else if (!strcmp(a, "-f") || opt(argc, argv, &i, "functions", 0, &v)) {
            if (!v || !strcmp(v, "linkage"))
                c->oc.functions = CS_FN_LINKAGE;
            else if (!strcmp(v, "short"))
                c->oc.functions = CS_FN_SHORT;
            else if (!strcmp(v, "none"))
                c->oc.functions = CS_FN_NONE;
            else
                die_usage("--functions: unknown value '%s'", v);
        } else if (opt(argc, argv, &i, "relative-address", 0, NULL)) {
            c->relative = 1;
        } else if (opt(argc, argv, &i, "adjust-vma", 1, &v)) {
            char *e;
            c->adjust_vma = strtoull(v, &e, 0);
            if (*e)
                die_usage("--adjust-vma: '%s' is not a number", v);
        } else if (opt(argc, argv, &i, "debug-file-directory", 1, &v) ||
                   opt(argc, argv, &i, "debug-dir", 1, &v)) {
            c->dirs = cs_xrealloc(c->dirs, (c->ndirs + 1) * sizeof *c->dirs);
            c->dirs[c->ndirs++] = (char *)v;
        } else if (opt(argc, argv, &i, "no-default-debug-dir", 0, NULL)) {
            c->o.default_debug_dir = 0;
        } else if (opt(argc, argv, &i, "cache-dir", 1, &v)) {
            c->o.cache_dir = v;
        } else if (opt(argc, argv, &i, "stats", 0, NULL)) {
            c->stats = 1;
        } else if (opt(argc, argv, &i, "threads", 1, &v)) {
            char *end;
            errno = 0;
            unsigned long n = strtoul(v, &end, 10);
            if (errno || end == v || *end || n < 1 || n > 8 || v[0] == '-')
                die_usage("--threads takes a number from 1 to 8, not '%s'", v);
            c->threads = (unsigned)n;
            c->o.threads = c->threads;
        } else if (opt(argc, argv, &i, "offsets", 0, NULL)) {
            c->oc.offsets = 1;
        } else if (opt(argc, argv, &i, "no-cache", 0, NULL)) {
            c->o.use_cache = 0;
        } else if (opt(argc, argv, &i, "progress", 0, NULL)) {
            c->o.progress = 1;
        } else if (opt(argc, argv, &i, "no-debuginfod", 0, NULL)) {
            c->o.debuginfod = 0;
        } else if (opt(argc, argv, &i, "debuginfod", 0, &v)) {
            c->o.debuginfod = truthy(v);
        } else if (opt(argc, argv, &i, "output-style", 1, &v)) {
            if (!strcmp(v, "LLVM"))
                c->oc.style = CS_STYLE_LLVM;
            else if (!strcmp(v, "GNU"))
                c->oc.style = CS_STYLE_GNU;
            else if (!strcmp(v, "JSON"))
                c->oc.style = CS_STYLE_JSON;
            else
                die_usage("--output-style: unknown value '%s'", v);
        } else if (!strcmp(a, "-a") || opt(argc, argv, &i, "print-address", 0, NULL) ||
                   opt(argc, argv, &i, "addresses", 0, NULL)) {
            c->oc.print_address = 1;
        } else if (!strcmp(a, "-p") || opt(argc, argv, &i, "pretty-print", 0, NULL)) {
            c->oc.pretty = 1;
        } else if (!strcmp(a, "-s") || opt(argc, argv, &i, "basenames", 0, NULL)) {
            c->oc.basenames = 1;
        } else if (opt(argc, argv, &i, "use-symbol-table", 0, &v)) {
            c->o.use_symtab = truthy(v);
        } else if (opt(argc, argv, &i, "default-arch", 1, &v) ||
                   opt(argc, argv, &i, "color", 0, &v) ||
                   opt(argc, argv, &i, "no-untag-addresses", 0, NULL)) {
            /* accepted for compatibility, no effect */
        } else {
            die_usage("unknown option '%s' (see --help)", a);
        }
    }
}

/* ------------------------------------------------------------ running */
typedef struct runner {
    cli *c;
    corosym_session *s;
    cs_out out;
    corosym_frame *fr;
    size_t nfr;
    int json_first;
    /* last module, to skip lookups */
    corosym_module *last;
    char *last_name;
    uint8_t last_bid[64];
    size_t last_bidlen;
    corosym_module **reported;
    size_t nreported;
    unsigned long count;
    /* per-chunk scratch, kept between chunks (no page faults per chunk) */
    cs_batch *batch;
    void *scr[8];
    size_t scrcap[8];
} runner;

static void *scratch(runner *r, int slot, size_t bytes)
{
    if (r->scrcap[slot] < bytes) {
        free(r->scr[slot]);
        r->scrcap[slot] = bytes + bytes / 2;
        r->scr[slot] = cs_xmalloc(r->scrcap[slot]);
    }
    return r->scr[slot];
}

/* The module error as llvm words it: without our "corosym: PATH: "
   prefix. */
static const char *module_message(corosym_module *m, const char *name)
{
    const char *e = corosym_module_error(m);
    if (!e)
        return "";
    if (!strncmp(e, "corosym: ", 9))
        e += 9;
    size_t n = strlen(name);
    if (!strncmp(e, name, n) && !strncmp(e + n, ": ", 2))
        e += n + 2;
    if (!strncmp(e, "no file found for build-id", 26))
        return "could not find build ID";
    return e;
}

static void report_module(runner *r, corosym_module *m, const char *name)
{
    for (size_t i = 0; i < r->nreported; i++)
        if (r->reported[i] == m)
            return;
    r->reported = cs_xrealloc(r->reported, (r->nreported + 1) * sizeof *r->reported);
    r->reported[r->nreported++] = m;
    const char *e = corosym_module_error(m);
    const char *w = corosym_module_warning(m);
    if (r->c->stats || e || w)
        cs_batch_sync(r->batch); /* the answers before it, first */
    if (r->c->stats) {
        corosym_index_stats ist;
        corosym_module_index_stats(m, &ist);
        unsigned f = corosym_module_flags(m);
        const char *dp = corosym_module_debug_path(m);
        fprintf(stderr, "%s: stats: '%s': index %s, debug info %s, "
                "flags%s%s%s%s; %zu rows, %zu scopes, %zu segments, "
                "%zu symbols, %zu files, %zu string bytes\n", prog, name,
                (f & COROSYM_FROM_CACHE) ? "from cache" : "built",
                dp ? dp : "none", (f & COROSYM_HAS_SYMTAB) ? " symtab" : "",
                (f & COROSYM_HAS_LINES) ? " lines" : "",
                (f & COROSYM_HAS_FUNCS) ? " functions" : "",
                (f & COROSYM_HAS_INLINES) ? " inlines" : "",
                ist.rows, ist.scopes, ist.segments, ist.symbols, ist.files,
                ist.string_bytes);
    }
    if (e) {
        fprintf(stderr, "%s: error: '%s': %s\n", prog, name,
                module_message(m, name));
        had_error = 1;
    }
    if (w) {
        fprintf(stderr, "%s: warning: '%s': %s\n", prog, name,
                strncmp(w, "corosym: ", 9) == 0 ? w + 9 : w);
    }
}

/* A module asked by build-id only is named by it, in upper-case hex as
   llvm prints it.  OUT: 2 * LEN + 1 bytes (LEN <= 64). */
static void bid_name(const uint8_t *bid, size_t len, char *out)
{
    static const char d[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = d[bid[i] >> 4];
        out[2 * i + 1] = d[bid[i] & 15];
    }
    out[2 * len] = 0;
}

static corosym_module *get_module(runner *r, const char *name,
                                  const uint8_t *bid, size_t bidlen)
{
    if (r->last && ((name && r->last_name && !strcmp(name, r->last_name)) ||
                    (!name && !r->last_name)) &&
        bidlen == r->last_bidlen && !memcmp(bid, r->last_bid, bidlen))
        return r->last;
    corosym_module *m = corosym_module_get(r->s, name, bidlen ? bid : NULL,
                                           bidlen);
    free(r->last_name);
    r->last_name = name ? cs_xstrdup(name) : NULL;
    memcpy(r->last_bid, bid, bidlen);
    r->last_bidlen = bidlen;
    r->last = m;
    char hex[2 * 64 + 1];
    if (!name)
        bid_name(bid, bidlen, hex);
    report_module(r, m, name ? name : hex);
    return m;
}

/* One request, by kind.  MODNAME names the module in the answer; FIRST
   says whether it is the first JSON answer. */

/* A line that could not be parsed (Q->error). */
static void answer_bad_line(runner *r, const char *line, size_t len,
                            const corosym_request *q, const char *modname,
                            int first)
{
    /* an empty line (or a lone CR) is answered like llvm: "??", no
       message, not an error; a line of blanks is reported as llvm does */
    int empty = len == 0 || (len == 1 && line[0] == '\r');
    if (!empty) {
        cs_batch_sync(r->batch);
        fprintf(stderr, "%s: error: '%.*s': %s\n", prog, (int)len, line,
                q->error);
        had_error = 1;
    }
    size_t k = 0;
    while (k < len && (line[k] == ' ' || line[k] == '\r'))
        k++;
    /* llvm names no module for an empty line */
    cs_print_error(&r->out, &r->c->oc, k == len ? "" : modname, q->error,
                   first);
}

/* MODULE SYMBOL[+OFFSET]: the outermost frame at the symbol's address. */
static void answer_symbol(runner *r, corosym_module *m,
                          const corosym_request *q, const char *modname,
                          int first)
{
    const cs_outcfg *oc = &r->c->oc;
    uint64_t sa;
    if (!m || corosym_module_error(m) || q->kind == CS_REQ_DATA ||
        corosym_symbol_address(m, q->symbol, &sa) < 0) {
        cs_print_symbol(&r->out, oc, modname, q->symbol,
                        q->kind == CS_REQ_DATA, NULL, first);
        return;
    }
    corosym_symbolize(m, sa + q->offset, r->fr, 1, NULL);
    cs_print_symbol(&r->out, oc, modname, q->symbol, 0, &r->fr[0], first);
}

/* FRAME requests (local variables) are not supported: "??" as llvm
   prints an unknown frame. */
static void answer_frame(runner *r, const corosym_request *q,
                         const char *modname, int first)
{
    const cs_outcfg *oc = &r->c->oc;
    if (oc->style == CS_STYLE_JSON) {
        cs_print_error(&r->out, oc, modname, NULL, first);
        return;
    }
    if (oc->print_address) {
        cs_out_hex(&r->out, q->offset);
        cs_out_str(&r->out, oc->pretty ? ": " : "\n");
    }
    cs_out_str(&r->out, "??\n");
    if (oc->style == CS_STYLE_LLVM)
        cs_out_char(&r->out, '\n');
}

/* CODE and DATA requests for an address. */
static void answer_address(runner *r, corosym_module *m,
                           const corosym_request *q, const char *modname,
                           const uint8_t *bid, size_t bidlen, int first)
{
    const cs_outcfg *oc = &r->c->oc;
    uint64_t addr = q->offset - r->c->adjust_vma;
    if (q->kind == CS_REQ_DATA) {
        /* Like llvm: name, start and size from the symbol table, and the
           STT_FILE name of a local symbol, line 0; replaced by the
           declaration of a DWARF variable covering the address when it
           has a line. */
        corosym_data d;
        corosym_symbolize_data(m, addr, &d);
        cs_print_data(&r->out, oc, modname, bid, bidlen, q->offset, d.name,
                      d.start, d.size, d.decl_file, d.decl_line, first);
        return;
    }
    size_t n = corosym_symbolize(m, addr, r->fr, r->nfr, NULL);
    if (n > r->nfr) {
        r->nfr = n;
        r->fr = cs_xrealloc(r->fr, n * sizeof *r->fr);
        n = corosym_symbolize(m, addr, r->fr, r->nfr, NULL);
    }
    cs_print_code(&r->out, oc, modname, bid, bidlen, 1, q->offset, r->fr, n,
                  first);
}

static void run_line_raw(runner *r, const char *line, size_t len)
{
    cli *c = r->c;
    corosym_request q;
    int have_default = c->obj != NULL || c->bidlen > 0;
    corosym_parse_request(line, len, have_default, &q);
    const char *modname = q.module ? q.module : c->obj;
    const uint8_t *bid = q.build_id_len ? q.build_id : c->bid;
    size_t bidlen = q.build_id_len ? q.build_id_len : (q.module ? 0 : c->bidlen);
    int first = r->json_first;
    r->json_first = 0;
    r->count++;
    if (q.error) {
        answer_bad_line(r, line, len, &q, modname, first);
        corosym_request_free(&q);
        return;
    }
    corosym_module *m = get_module(r, modname, bid, bidlen);
    char bidname[2 * 64 + 1];
    if (!modname) {
        bid_name(bid, bidlen, bidname);
        modname = bidname;
    }
    if (q.symbol)
        answer_symbol(r, m, &q, modname, first);
    else if (q.kind == CS_REQ_FRAME)
        answer_frame(r, &q, modname, first);
    else if (corosym_module_error(m))
        cs_print_module_error(&r->out, &c->oc, modname, q.offset,
                              module_message(m, modname), first);
    else
        answer_address(r, m, &q, modname, bid, bidlen, first);
    corosym_request_free(&q);
}

static void run_line(runner *r, const char *line, size_t len)
{
    cli *c = r->c;
    if (c->oc.style != CS_STYLE_JSON || !c->oc.pretty) {
        run_line_raw(r, line, len);
        return;
    }
    if (r->out.n > r->out.cap / 2)
        cs_out_flush(&r->out);
    int depth = c->oc.json_array && !r->json_first ? 1 : 0;
    size_t from = r->out.n;
    run_line_raw(r, line, len);
    cs_json_pretty(&r->out, from, depth);
}

/* Runs the complete lines in BUF[0..N), a window at a time.  Plain CODE
   requests for the first module are looked up at once (radix-sorted,
   then swept) and their answers are rendered in address order, where the
   index is read almost sequentially, on several threads (batch.c); then
   every line's answer is written in input order. */
static void run_window(runner *r, const char *buf, const size_t *starts,
                       size_t nl);

/* Windows of at most this many lines: the render buffers (~15 MB) are
   then reused from window to window instead of being faulted in anew. */
#define WINDOW 65536

static void run_chunk(runner *r, const char *buf, size_t n)
{
    size_t off = 0;
    while (off < n) {
        size_t *starts = scratch(r, 0, (WINDOW + 1) * sizeof *starts);
        size_t nl = 0, p = off;
        while (p < n && nl < WINDOW) {
            const char *e = memchr(buf + p, '\n', n - p);
            if (!e)
                break;
            starts[nl++] = p - off;
            p = (size_t)(e - buf) + 1;
        }
        if (!nl)
            break;
        starts[nl] = p - off;
        run_window(r, buf + off, starts, nl);
        off = p;
    }
}

/* Lines 0..NL) of BUF, line i at STARTS[i] up to the byte before
   STARTS[i + 1] (its newline). */
static void run_window(runner *r, const char *buf, const size_t *starts,
                       size_t nl)
{
    cli *c = r->c;
    int fast_ok = nl >= 64 && !(c->oc.style == CS_STYLE_JSON &&
                                (c->oc.pretty || c->oc.json_array));
    uint64_t *addrs = NULL;
    uint32_t *which = NULL, *order = NULL;
    size_t k = 0;
    corosym_module *m0 = NULL;
    char *m0name = NULL;
    const uint8_t *m0bid = NULL;
    size_t m0bidlen = 0;
    if (fast_ok && c->obj) {
        /* The commonest big batch: bare addresses for --obj, parsed on
           the batch's threads. */
        addrs = scratch(r, 1, nl * sizeof *addrs);
        if (cs_batch_parse_addrs(r->batch, buf, starts, nl, addrs) == 0) {
            corosym_module *m = get_module(r, c->obj, c->bid, c->bidlen);
            if (!corosym_module_error(m)) {
                m0 = m;
                m0name = cs_xstrdup(c->obj);
                m0bid = c->bid;
                m0bidlen = c->bidlen;
                for (size_t i = 0; i < nl; i++)
                    addrs[i] -= c->adjust_vma;
                k = nl;
            }
        }
    }
    if (fast_ok && !k) {
        addrs = scratch(r, 1, nl * sizeof *addrs);
        which = scratch(r, 3, nl * sizeof *which);
        int have_default = c->obj != NULL || c->bidlen > 0;
        for (size_t i = 0; i < nl; i++) {
            which[i] = UINT32_MAX;
            corosym_request q;
            corosym_parse_request(buf + starts[i], starts[i + 1] - starts[i] - 1,
                                  have_default, &q);
            if (!q.error && !q.symbol && q.kind == CS_REQ_CODE &&
                !q.build_id_len) {
                const char *mn = q.module ? q.module : c->obj;
                const uint8_t *bid = c->bid;
                size_t bl = q.module ? 0 : c->bidlen;
                corosym_module *m = get_module(r, mn, bid, bl);
                if (!m0 && !corosym_module_error(m) && mn) {
                    m0 = m;
                    m0name = cs_xstrdup(mn);
                    m0bid = bid;
                    m0bidlen = bl;
                }
                if (m == m0 && mn && !strcmp(mn, m0name)) {
                    addrs[k] = q.offset - c->adjust_vma;
                    which[i] = (uint32_t)k++;
                }
            }
            corosym_request_free(&q);
        }
    }
    if (k) {
        order = scratch(r, 5, k * sizeof *order);
        uint64_t *sorted = scratch(r, 6, k * sizeof *sorted);
        corosym_sort_addresses(addrs, k, sorted, order);
        cs_batch_job job = {m0, &c->oc, m0name, m0bid, m0bidlen,
                            sorted, order, c->adjust_vma, k};
        cs_batch_render(r->batch, &job);
    }
    if (k && k == nl) { /* the common case: answers 0..k) in input order */
        r->count += k;
        r->json_first = 0;
        cs_batch_write_all(r->batch, &r->out);
        free(m0name);
        return;
    }
    for (size_t i = 0; i < nl; i++) {
        if (which && which[i] != UINT32_MAX) {
            r->count++;
            r->json_first = 0;
            cs_batch_emit(r->batch, &r->out, which[i]);
            continue;
        }
        run_line(r, buf + starts[i], starts[i + 1] - starts[i] - 1);
    }
    free(m0name);
}

static int input_pending(void)
{
    struct pollfd p = {0, POLLIN, 0};
    return poll(&p, 1, 0) > 0;
}

static void run_stdin(runner *r)
{
    size_t cap = 1 << 20, n = 0;
    char *buf = cs_xmalloc(cap);
    int tty = isatty(2) || r->c->o.progress;
    unsigned long next_progress = 100000;
    for (;;) {
        if (n == cap) {
            cap *= 2;
            buf = cs_xrealloc(buf, cap);
        }
        ssize_t got = read(0, buf + n, cap - n);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) {
            char *last = n ? memrchr(buf, '\n', n) : NULL;
            size_t done = last ? (size_t)(last - buf) + 1 : 0;
            if (done)
                run_chunk(r, buf, done);
            if (n > done)
                run_line(r, buf + done, n - done);
            break;
        }
        n += (size_t)got;
        if (n < cap && input_pending())
            continue;               /* fill the buffer: bigger batches */
        size_t start = 0;
        char *last = memrchr(buf, '\n', n);
        if (last) {
            start = (size_t)(last - buf) + 1;
            run_chunk(r, buf, start);
        }
        memmove(buf, buf + start, n - start);
        n -= start;
        if (tty && r->count >= next_progress) {
            cs_out_flush(&r->out);
            fprintf(stderr, "\r%s: %lu addresses", prog, r->count);
            next_progress += 100000;
        }
        if (!input_pending())
            cs_out_flush(&r->out);
    }
    if (tty && r->count >= 100000)
        fprintf(stderr, "\r%s: %lu addresses, done\n", prog, r->count);
    free(buf);
}

int main(int argc, char **argv)
{
    const char *b = strrchr(argv[0], '/');
    b = b ? b + 1 : argv[0];
    if (strncmp(b, "llvm-symbolizer", 15) == 0) {
        llvm_mode = 1;
        prog = "llvm-symbolizer";
    }
    if (argc > 1 && strcmp(argv[1], "pprof") == 0)
        return corosym_pprof_main(argc - 1, argv + 1);
    cli c;
    memset(&c, 0, sizeof c);
    corosym_options_init(&c.o);
    c.oc.functions = CS_FN_LINKAGE;
    parse_args(&c, argc, argv);
    if (c.obj && c.bidlen)
        die_usage("%s", "--obj and --build-id are mutually exclusive");
    c.o.debug_dirs = (const char *const *)c.dirs;
    c.o.n_debug_dirs = c.ndirs;
    c.o.short_names = c.oc.functions == CS_FN_SHORT;
    runner r;
    memset(&r, 0, sizeof r);
    r.c = &c;
    r.s = corosym_session_new(&c.o);
    if (!r.s) {
        fprintf(stderr, "%s: error: cannot create a session\n", prog);
        return 1;
    }
    r.nfr = 64;
    r.fr = cs_xmalloc(r.nfr * sizeof *r.fr);
    r.batch = cs_batch_new(c.threads ? c.threads : cs_batch_default_threads());
    r.json_first = 1;
    cs_out_init(&r.out, 1);
    r.out.before_write = cs_batch_sync;
    r.out.before_arg = r.batch;
    if (c.naddrs) {
        c.oc.json_array = c.oc.style == CS_STYLE_JSON;
        for (size_t i = 0; i < c.naddrs; i++)
            if (c.addrs[i][0])      /* llvm skips empty arguments */
                run_line(&r, c.addrs[i], strlen(c.addrs[i]));
        if (c.oc.json_array) {
            size_t from = r.out.n;
            cs_out_str(&r.out, "]");
            if (c.oc.pretty)
                cs_json_pretty(&r.out, from, 1);
            cs_out_str(&r.out, "\n");
        }
    } else {
        run_stdin(&r);
    }
    cs_out_flush(&r.out);
#if defined(__SANITIZE_ADDRESS__) || defined(COROSYM_FREE_AT_EXIT)
    corosym_session_free(r.s);      /* leak checkers want it */
#else
    (void)corosym_session_free;     /* the OS unmaps it faster */
#endif
    free(r.fr);
    free(r.last_name);
    free(r.reported);
    free(c.dirs);
    free(c.addrs);
    free(r.out.buf);
    cs_batch_free(r.batch);
    for (int i = 0; i < 8; i++)
        free(r.scr[i]);
    return llvm_mode ? 0 : (had_error ? 2 : 0);
}
