/* agent_int.h -- the agent's parts: configuration (config.c), the socket
 * and its directory (sockdir.c), the server loop (server.c), the request
 * handlers (routes.c, metrics.c) and the lifecycle (agent.c). */
#ifndef CA_AGENT_INT_H
#define CA_AGENT_INT_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "http.h"

#define CA_ERRLEN 512

typedef struct ca_config {
    char place[4096];       /* as given: "", "DIR/" or "PATH.sock" */
    char path[108];         /* the socket (sun_path) */
    int has_gid;
    gid_t gid;
    int has_tcp;
    uint32_t tcp_addr;      /* network order, always loopback */
    uint16_t tcp_port;
    char token[128];        /* from token_file, required with tcp */
    int symbolize;
} ca_config;

/* Parse SPEC (corodbg_agent.h) and resolve the socket path for PID
 * (FORKED: a child's, whose explicit PATH.sock gets ".PID"): 0, or -1
 * with ERR. */
int ca_config_parse(const char *spec, pid_t pid, int forked, ca_config *c,
                    char *err);

/* Make (or check) the socket's directory and bind + listen on the socket:
 * the listening fd, or -1 with ERR.  *INO gets the socket file's inode
 * (so only that file is ever removed). */
int ca_listen_unix(const ca_config *c, ino_t *ino, char *err);
int ca_listen_tcp(const ca_config *c, char *err);
/* May the peer of connected unix socket FD talk to us?  1 yes; 0 no,
 * WHY (room CA_ERRLEN) says who it was. */
int ca_peer_allowed(int fd, const ca_config *c, char *why);
/* Remove PATH if it is still the socket INO we made. */
void ca_unlink_socket(const char *path, ino_t ino);

/* A response being built: status, content type, body (open_memstream). */
typedef struct ca_response {
    int status;
    const char *type;
    const char *disposition;    /* Content-Disposition, or NULL */
    char *body;
    size_t len;
    FILE *f;                    /* writes go here until sent */
} ca_response;

/* Answer REQ into RES.  CANCEL turns 1 when the client went away (long
 * requests stop early). */
void ca_route(const ca_config *c, const ca_request *req, ca_response *res,
              volatile int *cancel);
/* The coroutine table's address in this process, 0 if it has none. */
uint64_t ca_table_address(void);
/* Prometheus text exposition of the coroutine table to OUT: 0, or -1
 * with ERR. */
int ca_metrics(FILE *out, char *err);
/* Set RES to STATUS with a one-line text body. */
void ca_error(ca_response *res, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *ca_status_text(int status);

/* The server loop, on the agent thread: returns when STOP_FD is readable
 * (or cannot be polled). */
void ca_serve(const ca_config *c, int unix_fd, int tcp_fd, int stop_fd);

#endif
