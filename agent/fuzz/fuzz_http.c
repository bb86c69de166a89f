/*
 * fuzz_http.c -- libFuzzer harness of the agent's request parser
 * (agent/lib/http.c): every prefix a client may have sent so far, then
 * the query helpers on whatever parsed.  A client can only ever get a
 * status and a reason back; no input may crash, read out of bounds or
 * leave a field unterminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* a private copy with no slack after it, so ASan sees any overread */
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    ca_request r;
    for (size_t cut = size > 64 ? size - 64 : 0; cut <= size; cut++) {
        int rc = ca_http_parse(buf, cut, &r);
        if (rc == CA_HTTP_BAD) {
            if (r.status < 400 || r.status > 599 || !r.why || !*r.why)
                abort();
        } else if (rc == CA_HTTP_DONE) {
            if (r.head_len > cut || strlen(r.path) >= sizeof r.path ||
                strlen(r.query) >= sizeof r.query || r.path[0] != '/')
                abort();
            static const char *const names[] = {"debug", "seconds", "hz",
                                                "min_age", NULL};
            char why[256], out[64];
            uint64_t v;
            ca_query_check(r.query, names, why, sizeof why);
            ca_query_get(r.query, "debug", out, sizeof out);
            ca_query_uint(r.query, "seconds", 1, 3600, 30, &v, why,
                          sizeof why);
        } else if (rc != CA_HTTP_MORE) {
            abort();
        }
    }
    free(buf);
    return 0;
}
