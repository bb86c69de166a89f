/*
 * server.c -- the agent's loop: accept, check the peer, read a request
 * head, hand it to a worker thread, close when the worker is done.
 *
 * One thread owns every descriptor and sleeps in poll() while idle.
 * Reading heads is non-blocking with a deadline, so a slow client
 * (slowloris) holds one slot for 5 s at most and never the loop.  A
 * complete request runs on a worker (at most CA_WORKERS at once, else
 * 503), so a 30 s CPU profile delays nobody; while it runs the loop
 * watches its connection and raises the worker's cancel flag when the
 * client hangs up.  Agent threads block every asynchronous signal: the
 * program's signals keep going to the program's threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "agent_int.h"

#define CA_CONNS 64
#define CA_WORKERS 4
#define CA_HEAD_MS 5000
#define CA_SEND_S 10

enum { FREE, READING, WORKING, DRAINING };
#define CA_DRAIN_MS 1000

struct conn {
    int fd, tcp, state;
    uint64_t deadline;
    size_t len;
    char buf[CA_HTTP_MAX_HEAD];
    ca_request req;
    volatile int cancel, done;
    pthread_t th;
    const ca_config *cfg;
    int wake;                   /* the loop's wake-up pipe (write end) */
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

const char *ca_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 414: return "URI Too Long";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
    }
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static void send_head(int fd, int status, const char *type,
                      const char *disposition, size_t len)
{
    char h[512];
    int n = snprintf(h, sizeof h,
                     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n%s%s%s"
                     "Content-Length: %zu\r\nX-Content-Type-Options: nosniff"
                     "\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
                     status, ca_status_text(status), type,
                     disposition ? "Content-Disposition: " : "",
                     disposition ? disposition : "", disposition ? "\r\n" : "",
                     len);
    send_all(fd, h, (size_t)n);
}

/* A short error from the loop itself: never blocks (a client that does
 * not read its answer loses it). */
static void quick_error(int fd, int status, const char *fmt, ...)
{
    char body[CA_ERRLEN + 2], msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(body, sizeof body - 1, fmt, ap);
    va_end(ap);
    strcat(body, "\n");
    int n = snprintf(msg, sizeof msg,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; "
                     "charset=utf-8\r\nContent-Length: %zu\r\nConnection: "
                     "close\r\n\r\n%s", status, ca_status_text(status),
                     strlen(body), body);
    if (n > 0)
        (void)!send(fd, msg, (size_t)n < sizeof msg ? (size_t)n : sizeof msg,
                    MSG_NOSIGNAL | MSG_DONTWAIT);
}

/* Answer an error and stop listening to this client.  Closing a socket
 * with unread input makes the kernel send RST, which can destroy the
 * answer before the client reads it: so shut our side down and drain
 * (DRAINING) for a moment before closing. */
static void refuse(struct conn *c, int status, const char *why)
{
    quick_error(c->fd, status, "%s", why);
    shutdown(c->fd, SHUT_WR);
    c->state = DRAINING;
    c->deadline = now_ms() + CA_DRAIN_MS;
}

static void *worker(void *arg)
{
    struct conn *c = arg;
    /* accepted non-blocking for the loop; the answer is written
     * blocking, bounded by SO_SNDTIMEO */
    int flags = fcntl(c->fd, F_GETFL);
    if (flags >= 0)
        fcntl(c->fd, F_SETFL, flags & ~O_NONBLOCK);
    struct timeval tv = {CA_SEND_S, 0};
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    ca_response res = {.status = 200, .type = "text/plain; charset=utf-8"};
    res.f = open_memstream(&res.body, &res.len);
    if (!res.f) {
        quick_error(c->fd, 500, "out of memory");
    } else {
        ca_route(c->cfg, &c->req, &res, &c->cancel);
        fclose(res.f);
        if (!c->cancel) {
            send_head(c->fd, res.status, res.type, res.disposition, res.len);
            if (!c->req.head_only)
                send_all(c->fd, res.body, res.len);
        }
        free(res.body);
    }
    c->done = 1;
    (void)!write(c->wake, "w", 1);
    return NULL;
}

static void close_conn(struct conn *c)
{
    close(c->fd);
    c->fd = -1;
    c->state = FREE;
}

/* A complete head: authorise and start its worker. */
static void dispatch(struct conn *c, int *workers)
{
    if (c->tcp) {
        const char *a = c->req.auth;
        if (strncmp(a, "Bearer ", 7) || strcmp(a + 7, c->cfg->token)) {
            refuse(c, 401, "a bearer token is required (Authorization: "
                   "Bearer ...)");
            return;
        }
    }
    if (*workers >= CA_WORKERS) {
        refuse(c, 503, "busy: too many requests in progress; retry later");
        return;
    }
    c->cancel = c->done = 0;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setstacksize(&at, 1 << 20);
    if (pthread_create(&c->th, &at, worker, c)) {
        refuse(c, 503, "busy: cannot start a worker thread");
    } else {
        c->state = WORKING;
        ++*workers;
    }
    pthread_attr_destroy(&at);
}

static void drain(struct conn *c)
{
    char junk[4096];
    ssize_t n = recv(c->fd, junk, sizeof junk, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        close_conn(c);
}

static void read_head(struct conn *c, int *workers)
{
    ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        close_conn(c);
        return;
    }
    c->len += (size_t)n;
    int r = ca_http_parse(c->buf, c->len, &c->req);
    if (r == CA_HTTP_MORE)
        return;
    if (r == CA_HTTP_BAD) {
        refuse(c, c->req.status, c->req.why);
        return;
    }
    dispatch(c, workers);
}

static void accept_on(int lfd, int tcp, struct conn *conns,
                      const ca_config *cfg, int wake)
{
    for (;;) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        struct conn *c = NULL;
        for (int i = 0; i < CA_CONNS && !c; i++)
            if (conns[i].state == FREE)
                c = &conns[i];
        if (!c) {
            quick_error(fd, 503, "busy: too many connections");
            close(fd);
            continue;
        }
        c->fd = fd;
        c->tcp = tcp;
        c->state = READING;
        c->len = 0;
        c->deadline = now_ms() + CA_HEAD_MS;
        c->cfg = cfg;
        c->wake = wake;
        char why[CA_ERRLEN];
        if (!tcp && !ca_peer_allowed(fd, cfg, why))
            refuse(c, 403, why);
    }
}

void ca_serve(const ca_config *cfg, int unix_fd, int tcp_fd, int stop_fd)
{
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    struct conn *conns = calloc(CA_CONNS, sizeof *conns);
    int wake[2];
    if (!conns || pipe2(wake, O_CLOEXEC)) {
        free(conns);
        return;
    }
    for (int i = 0; i < CA_CONNS; i++)
        conns[i].fd = -1;
    int workers = 0;
    struct pollfd pf[4 + CA_CONNS];
    int at[4 + CA_CONNS];
    for (;;) {
        int n = 0, timeout = -1;
        uint64_t now = now_ms();
        pf[n++] = (struct pollfd){stop_fd, POLLIN, 0};
        pf[n++] = (struct pollfd){wake[0], POLLIN, 0};
        pf[n++] = (struct pollfd){unix_fd, POLLIN, 0};
        if (tcp_fd >= 0)
            pf[n++] = (struct pollfd){tcp_fd, POLLIN, 0};
        int fixed = n;
        for (int i = 0; i < CA_CONNS; i++) {
            struct conn *c = &conns[i];
            if (c->state == READING || c->state == DRAINING) {
                if (c->deadline <= now) {
                    if (c->state == READING)
                        quick_error(c->fd, 408, "request head not received "
                                    "within %d s", CA_HEAD_MS / 1000);
                    close_conn(c);
                    continue;
                }
                int left = (int)(c->deadline - now);
                if (timeout < 0 || left < timeout)
                    timeout = left;
                at[n] = i;
                pf[n++] = (struct pollfd){c->fd, POLLIN, 0};
            } else if (c->state == WORKING && !c->cancel) {
                at[n] = i;
                pf[n++] = (struct pollfd){c->fd, POLLRDHUP, 0};
            }
        }
        if (poll(pf, (nfds_t)n, timeout) < 0 && errno != EINTR)
            break;
        if (pf[0].revents)
            break;
        if (pf[1].revents) {
            char drain[64];
            (void)!read(wake[0], drain, sizeof drain);
        }
        for (int i = 0; i < CA_CONNS; i++)
            if (conns[i].state == WORKING && conns[i].done) {
                pthread_join(conns[i].th, NULL);
                close_conn(&conns[i]);
                workers--;
            }
        for (int k = fixed; k < n; k++) {
            struct conn *c = &conns[at[k]];
            if (!pf[k].revents || c->state == FREE)
                continue;
            if (c->state == READING)
                read_head(c, &workers);
            else if (c->state == DRAINING)
                drain(c);
            else if (c->state == WORKING)
                c->cancel = 1;      /* the client hung up */
        }
        if (pf[2].revents)
            accept_on(unix_fd, 0, conns, cfg, wake[1]);
        if (tcp_fd >= 0 && pf[3].revents)
            accept_on(tcp_fd, 1, conns, cfg, wake[1]);
    }
    /* Stopping: let running workers see cancel, then wait for them. */
    for (int i = 0; i < CA_CONNS; i++) {
        struct conn *c = &conns[i];
        if (c->state == WORKING) {
            c->cancel = 1;
            pthread_join(c->th, NULL);
        }
        if (c->state != FREE)
            close_conn(c);
    }
    close(wake[0]);
    close(wake[1]);
    free(conns);
}
