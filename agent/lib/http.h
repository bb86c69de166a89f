/* http.h -- the agent's HTTP/1.1 request parser (http.c): a pure function
 * over the bytes received so far, so it can be fuzzed on its own. */
#ifndef CA_HTTP_H
#define CA_HTTP_H

#include <stddef.h>
#include <stdint.h>

/* The whole request head (request line + headers + blank line) must fit:
 * a client that sends more gets 431, one that never finishes is dropped
 * by the server's deadline. */
#define CA_HTTP_MAX_HEAD 8192
#define CA_HTTP_MAX_HEADERS 64

enum { CA_HTTP_MORE = 0, CA_HTTP_DONE = 1, CA_HTTP_BAD = -1 };

typedef struct ca_request {
    char method[8];
    char path[256];         /* percent-decoded, without the query */
    char query[1024];       /* raw, without '?' */
    int head_only;          /* HEAD: headers only */
    char auth[256];         /* Authorization header value, "" if none */
    size_t head_len;        /* bytes of the head (CA_HTTP_DONE) */
    int status;             /* CA_HTTP_BAD: the 4xx/5xx to answer */
    const char *why;        /* CA_HTTP_BAD: one line, no newline */
} ca_request;

/* Parse BUF[0..LEN): CA_HTTP_MORE (a complete head not seen yet),
 * CA_HTTP_DONE (REQ filled) or CA_HTTP_BAD (REQ->status, REQ->why). */
int ca_http_parse(const char *buf, size_t len, ca_request *req);

/* Query parameter NAME, percent-decoded, into OUT (ROOM bytes): 1 found,
 * 0 absent, -1 malformed (bad escape, too long, a NUL). */
int ca_query_get(const char *query, const char *name, char *out,
                 size_t room);
/* An unsigned decimal parameter in [LO, HI], DFLT when absent: 0, or -1
 * with WHY ("seconds must be 1..600") for anything else. */
int ca_query_uint(const char *query, const char *name, uint64_t lo,
                  uint64_t hi, uint64_t dflt, uint64_t *out, char *why,
                  size_t room);
/* Every parameter name is one of NAMES (NULL-terminated): 0, or -1 with
 * WHY naming the first unknown one. */
int ca_query_check(const char *query, const char *const *names, char *why,
                   size_t room);

#endif
