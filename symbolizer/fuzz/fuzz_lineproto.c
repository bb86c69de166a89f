/*
 * fuzz_lineproto.c - libFuzzer harness for the llvm-symbolizer line
 * protocol parser (lineproto.h).
 *
 * Input: text; each line is parsed twice (with and without a default
 * object, i.e. --obj given or not).  Every string in the request is read
 * so ASan sees bad pointers; a request must have either an error or a
 * sane kind.
 */
#include <stdlib.h>
#include <string.h>

#include "lineproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *line, size_t len, int have_default)
{
    corosym_request req;

    memset(&req, 0, sizeof req);
    corosym_parse_request(line, len, have_default, &req);
    if (req.module)
        (void)strlen(req.module);
    if (req.symbol)
        (void)strlen(req.symbol);
    if (req.error)
        (void)strlen(req.error);
    else if (req.kind != CS_REQ_CODE && req.kind != CS_REQ_DATA &&
             req.kind != CS_REQ_FRAME)
        abort();
    if (req.build_id_len > sizeof req.build_id)
        abort();
    corosym_request_free(&req);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data, *end = p + size;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        /* copy: the parser gets exactly LEN bytes, no terminator after */
        char *line = malloc(len ? len : 1);
        if (!line)
            return 0;
        memcpy(line, p, len);
        one(line, len, 0);
        one(line, len, 1);
        free(line);
        p += len + 1;
    }
    return 0;
}
