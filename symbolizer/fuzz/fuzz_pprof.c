/*
 * fuzz_pprof.c - libFuzzer harness for the pprof decoder.
 *
 * Input: a profile file's bytes (gzip or plain).  Whatever decodes must
 * survive the folded-stack writer, editing (new strings, functions and
 * lines) and an encode/decode round trip; a round trip that fails is a bug
 * and aborts.
 */
#include <stdio.h>
#include <stdlib.h>

#include "folded.h"
#include "pprof.h"

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pprof *pr = NULL, *again = NULL;
    char err[PPROF_ERRLEN];
    uint8_t *enc = NULL;
    size_t enclen = 0;
    int idx;

    pprof_max_bytes = 16u << 20; /* keep bombs within the RSS limit */
    if (!devnull)
        devnull = fopen("/dev/null", "w");
    if (pprof_decode(data, size, &pr, err, sizeof err) != PPROF_OK)
        return 0;
    idx = folded_sample_index(pr, NULL, err, sizeof err);
    if (idx >= 0 && devnull)
        folded_write(pr, devnull, idx, err, sizeof err);
    if (pr->p->n_location) {
        PprofLocation *loc = pr->p->location[0];
        uint64_t fid = pprof_add_function(pr, "fuzz_fn", "_Z7fuzz_fnv",
                                          "/src/fuzz.c", 12);
        PprofLine **lines = pprof_set_lines(pr, loc, 2);
        if (fid && lines) {
            lines[0]->function_id = fid;
            lines[0]->line = 13;
            lines[1]->function_id = fid;
            lines[1]->line = 20;
        }
    }
    if (pprof_encode(pr, size & 1, &enc, &enclen, err, sizeof err) ==
        PPROF_OK) {
        if (pprof_decode(enc, enclen, &again, err, sizeof err) != PPROF_OK) {
            fprintf(stderr, "round trip failed: %s\n", err);
            abort();
        }
    }
    free(enc);
    pprof_free(again);
    pprof_free(pr);
    return 0;
}
