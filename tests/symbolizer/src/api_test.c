/* Drives libcorosym's public API: prints one line per address
   "ADDR MISS NFRAMES fn@file:line:col|... sym+off", then the module flags,
   error and warning.  Usage: api_test [--debug-dir D] [--no-inlines]
   [--buildid HEX] MODULE|- ADDR... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "corosym.h"

static int unhex(const char *s, unsigned char *out)
{
    size_t n = strlen(s) / 2;
    for (size_t i = 0; i < n; i++)
        if (sscanf(s + 2 * i, "%2hhx", &out[i]) != 1)
            return -1;
    return (int)n;
}

int main(int argc, char **argv)
{
    corosym_options o;
    corosym_options_init(&o);
    const char *dirs[8];
    unsigned char id[64];
    int idlen = 0, i = 1;
    o.use_cache = 0;
    o.default_debug_dir = 0;
    for (; i < argc && argv[i][0] == '-' && argv[i][1] == '-'; i++) {
        if (!strcmp(argv[i], "--debug-dir") && o.n_debug_dirs < 8)
            dirs[o.n_debug_dirs++] = argv[++i];
        else if (!strcmp(argv[i], "--no-inlines"))
            o.inlines = 0;
        else if (!strcmp(argv[i], "--buildid"))
            idlen = unhex(argv[++i], id);
        else if (!strcmp(argv[i], "--offset")) {
            /* handled below */
        }
    }
    o.debug_dirs = dirs;
    corosym_session *s = corosym_session_new(&o);
    if (!s || i >= argc)
        return 1;
    const char *path = strcmp(argv[i], "-") ? argv[i] : NULL;
    corosym_module *m = corosym_module_get(s, path, idlen > 0 ? id : NULL,
                                           idlen > 0 ? (size_t)idlen : 0);
    for (i++; i < argc; i++) {
        uint64_t a = strtoull(argv[i], NULL, 0);
        if (argv[i][0] == 'o') {      /* oOFFSET: a file offset */
            uint64_t off = strtoull(argv[i] + 1, NULL, 0);
            if (corosym_module_offset_to_vaddr(m, off, &a) < 0) {
                printf("%s novaddr\n", argv[i]);
                continue;
            }
        }
        corosym_frame f[32];
        corosym_miss miss;
        size_t n = corosym_symbolize(m, a, f, 32, &miss);
        printf("0x%llx %s %zu", (unsigned long long)a,
               corosym_miss_string(miss), n);
        for (size_t k = 0; k < n && k < 32; k++)
            printf(" %s@%s:%u:%u", f[k].function ? f[k].function : "??",
                   f[k].file ? f[k].file : "??", f[k].line, f[k].column);
        if (n && f[n - 1].symbol)
            printf(" %s+0x%llx", f[n - 1].symbol,
                   (unsigned long long)f[n - 1].symbol_offset);
        printf("\n");
    }
    size_t bl;
    const uint8_t *b = corosym_module_build_id(m, &bl);
    printf("flags %u buildid %zu%s\n", corosym_module_flags(m), bl,
           b ? "" : " none");
    printf("error %s\n", corosym_module_error(m) ? corosym_module_error(m) : "-");
    printf("warning %s\n", corosym_module_warning(m) ? corosym_module_warning(m) : "-");
    printf("debug %s\n", corosym_module_debug_path(m) ? corosym_module_debug_path(m) : "-");
    corosym_session_free(s);
    corosym_session_free(NULL);
    return 0;
}
