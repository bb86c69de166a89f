/* panic: a panic deep in a coroutine's call chain.
 *
 * Four workers each take one request from a channel.  worker-3 gets
 * request 42, whose Content-Length header is -1, and panics three calls
 * down: handle_request -> parse_headers -> check_content_length ->
 * corort_panic.  The other workers wait for more requests.  Like Go's
 * unrecovered panic, corort_panic records the message on the coroutine
 * (state PANICKED in the table, the debugger's panic catch fires), prints
 * it and aborts, so the process ends with SIGABRT (exit status 134).
 * example_checkpoint() is called just before the panic, in the deepest
 * frame, with every local set.
 *
 *   build/examples/panic
 */
#include "common.h"

#include <corort.h>

#include <stdint.h>
#include <stdio.h>
#include <string.h>

struct request {
    int request_id;
    const char *method;
    const char *path;
    int content_length;
};

static corort_chan *requests;

static __attribute__((noinline)) void check_content_length(
    const struct request *req, int limit)
{
    int content_length = req->content_length;
    int request_id = req->request_id;
    if (content_length < 0 || content_length > limit) {
        example_checkpoint();
        corort_panic("request %d: invalid Content-Length %d (limit %d)",
                     request_id, content_length, limit);
    }
}

static __attribute__((noinline)) int parse_headers(const struct request *req)
{
    int header_count = 3;
    int limit = 65536;
    check_content_length(req, limit);
    return header_count;
}

static __attribute__((noinline)) void handle_request(struct request *req,
                                                     int worker_id)
{
    int request_id = req->request_id;
    const char *path = req->path;
    int headers = parse_headers(req);
    printf("worker-%d: request %d %s %s: %d headers ok\n", worker_id,
           request_id, req->method, path, headers);
}

static void worker(void *arg)
{
    int worker_id = (int)(intptr_t)arg;
    struct request req;
    while (corort_chan_recv(requests, &req) == CORORT_OK)
        handle_request(&req, worker_id);
}

int main(void)
{
    static const struct request incoming[] = {
        {40, "GET", "/api/v1/orders", 0},
        {41, "POST", "/api/v1/orders", 512},
        {42, "POST", "/api/v1/orders", -1},
    };
    char name[32];

    setvbuf(stdout, NULL, _IOLBF, 0);
    corort_init(NULL);
    requests = corort_chan_new(sizeof(struct request), 8);
    for (int i = 1; i <= 4; i++) {
        snprintf(name, sizeof name, "worker-%d", i);
        corort_spawn(name, worker, (void *)(intptr_t)i);
    }
    /* All four workers park on recv; each send below hands one over. */
    corort_run();
    for (size_t i = 0; i < sizeof incoming / sizeof incoming[0]; i++)
        corort_chan_send(requests, &incoming[i]);
    corort_run();
    printf("panic: not reached\n");
    return 1;
}
