/*
 * fetch.c -- `corodbg fetch`: a client of the in-process endpoint
 * (libcorodbg-agent), for hosts where curl is missing or too old for
 * --unix-socket.  One GET over the process's Unix socket (or its
 * loopback TCP port with a token), the body to standard output or -o.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"

static const char usage_fetch[] =
    "Usage: corodbg fetch PID|SOCKET WHAT [-o FILE]\n"
    "       corodbg fetch --tcp 127.0.0.1:PORT --token-file FILE WHAT [-o FILE]\n"
    "\n"
    "Fetch from a process's in-process endpoint (a program linked with\n"
    "libcorodbg-agent and started with CORODBG_AGENT or\n"
    "corodbg_agent_start()): no ptrace and no privilege needed, only\n"
    "access to its socket.\n"
    "  PID        the socket $XDG_RUNTIME_DIR/corodbg/PID.sock, else\n"
    "             /tmp/corodbg-UID/PID.sock\n"
    "  SOCKET     a socket path (anything with a '/')\n"
    "  WHAT       a path such as /metrics or /debug/pprof/goroutine?debug=1,\n"
    "             or a short name: goroutine (pprof), goroutine?debug=2,\n"
    "             profile?seconds=10, leaks, metrics\n"
    "  -o FILE    write the body there (binary profiles need it, or a\n"
    "             redirect)\n"
    "Exit status: 0 on success; 1 when the agent answered an error (its\n"
    "status and reason are printed); 3 when it cannot be reached.\n";

static int fail(int status, const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "corodbg fetch: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
    return status;
}

/* The socket a PID's agent uses by default (agent/lib/config.c). */
static void default_socket(const char *pid, char *out, size_t room)
{
    const char *x = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    if (x && x[0] == '/' && !stat(x, &st) && S_ISDIR(st.st_mode) &&
        st.st_uid == geteuid())
        snprintf(out, room, "%s/corodbg/%s.sock", x, pid);
    else
        snprintf(out, room, "/tmp/corodbg-%u/%s.sock", (unsigned)geteuid(),
                 pid);
}

static int connect_unix(const char *path, char *why, size_t room)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof a.sun_path) {
        snprintf(why, room, "socket path too long");
        return -1;
    }
    strcpy(a.sun_path, path);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
        int e = errno;
        snprintf(why, room, "%s%s", strerror(e),
                 e == ENOENT ? " (is the agent running? CORODBG_AGENT=1)"
                 : e == EACCES ? " (the socket is its owner's only)"
                 : e == ECONNREFUSED ? " (a stale socket: the process "
                                       "is gone)" : "");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

static int connect_tcp(const char *hostport, char *why, size_t room)
{
    char host[64];
    const char *colon = strrchr(hostport, ':');
    struct sockaddr_in a = {.sin_family = AF_INET};
    if (!colon || (size_t)(colon - hostport) >= sizeof host) {
        snprintf(why, room, "expected HOST:PORT");
        return -1;
    }
    memcpy(host, hostport, (size_t)(colon - hostport));
    host[colon - hostport] = 0;
    a.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        snprintf(why, room, "expected an IPv4 address");
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof a)) {
        snprintf(why, room, "%s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

/* "metrics" -> "/metrics", "goroutine?debug=1" -> "/debug/pprof/..." */
static void full_path(const char *what, char *out, size_t room)
{
    if (what[0] == '/')
        snprintf(out, room, "%s", what);
    else if (!strncmp(what, "metrics", 7))
        snprintf(out, room, "/%s", what);
    else
        snprintf(out, room, "/debug/pprof/%s", what);
}

/* Seconds the answer may take: a CPU profile's length plus a margin. */
static long patience(const char *path)
{
    const char *s = strstr(path, "seconds=");
    long secs = s ? atol(s + 8) : (strstr(path, "/profile") ? 30 : 0);
    return (secs > 0 && secs < 100000 ? secs : 0) + 60;
}

int cli_fetch(int argc, char **argv)
{
    const char *target = NULL, *what = NULL, *out = "-", *tcp = NULL,
               *token_file = NULL;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_fetch, stdout);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--tcp") ||
                   !strcmp(a, "--token-file")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "corodbg fetch: %s needs a value\n%s", a,
                        usage_fetch);
                return 2;
            }
            const char *v = argv[++i];
            if (!strcmp(a, "-o"))
                out = v;
            else if (!strcmp(a, "--tcp"))
                tcp = v;
            else
                token_file = v;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "corodbg fetch: unknown option '%s'\n%s", a,
                    usage_fetch);
            return 2;
        } else if (!target && !tcp) {
            target = a;
        } else if (!what) {
            what = a;
        } else {
            fprintf(stderr, "corodbg fetch: unexpected argument '%s'\n%s", a,
                    usage_fetch);
            return 2;
        }
    }
    if ((!target && !tcp) || !what) {
        fprintf(stderr, "corodbg fetch: which process and what?\n%s",
                usage_fetch);
        return 2;
    }
    if (tcp && !token_file)
        return fail(2, "--tcp needs --token-file%s%s", "", "");

    char path[1200], sock[4200], why[256], token[256] = "";
    full_path(what, path, sizeof path);
    if (token_file) {
        FILE *f = fopen(token_file, "r");
        if (!f || !fgets(token, sizeof token, f))
            return fail(2, "%s: %s", token_file, strerror(errno));
        fclose(f);
        token[strcspn(token, "\r\n")] = 0;
    }
    int fd;
    if (tcp) {
        fd = connect_tcp(tcp, why, sizeof why);
        snprintf(sock, sizeof sock, "%s", tcp);
    } else {
        if (strchr(target, '/'))
            snprintf(sock, sizeof sock, "%s", target);
        else if (strspn(target, "0123456789") == strlen(target))
            default_socket(target, sock, sizeof sock);
        else
            return fail(2, "'%s' is neither a PID nor a socket path%s",
                        target, "");
        fd = connect_unix(sock, why, sizeof why);
    }
    if (fd < 0)
        return fail(3, "cannot connect to %s: %s", sock, why);
    struct timeval tv = {patience(path), 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char req[2048];
    int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: corodbg\r\n"
                     "%s%s%sConnection: close\r\n\r\n", path,
                     token[0] ? "Authorization: Bearer " : "", token,
                     token[0] ? "\r\n" : "");
    if (send(fd, req, (size_t)n, MSG_NOSIGNAL) != n) {
        close(fd);
        return fail(3, "%s: %s", sock, strerror(errno));
    }
    /* Read everything (the agent closes after one answer). */
    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    for (;;) {
        if (buf && len == cap)
            buf = realloc(buf, cap *= 2);
        if (!buf) {
            close(fd);
            return fail(3, "out of memory%s%s", "", "");
        }
        ssize_t r = recv(fd, buf + len, cap - len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            int e = errno;
            close(fd);
            free(buf);
            return fail(3, "%s: %s", sock, e == EAGAIN ? "no answer in time"
                                                       : strerror(e));
        }
        if (!r)
            break;
        len += (size_t)r;
    }
    close(fd);
    char *head_end = len ? memmem(buf, len, "\r\n\r\n", 4) : NULL;
    int status = 0;
    if (!head_end || sscanf(buf, "HTTP/1.%*d %d", &status) != 1) {
        free(buf);
        return fail(3, "%s: not an HTTP answer (an agent of another "
                    "version?)%s", sock, "");
    }
    char *body = head_end + 4;
    size_t blen = len - (size_t)(body - buf);
    if (status != 200) {
        char line[300];
        snprintf(line, sizeof line, "%.*s", (int)(blen < 290 ? blen : 290),
                 body);
        line[strcspn(line, "\n")] = 0;
        fprintf(stderr, "corodbg fetch: %s: HTTP %d: %s\n", path, status,
                line);
        free(buf);
        return 1;
    }
    int binary = memmem(buf, (size_t)(head_end - buf),
                        "application/octet-stream", 24) != NULL;
    if (binary && !strcmp(out, "-") && isatty(STDOUT_FILENO)) {
        free(buf);
        return fail(2, "%s is a binary profile: give -o FILE (or redirect "
                    "standard output)%s", path, "");
    }
    FILE *f = strcmp(out, "-") ? fopen(out, "wb") : stdout;
    int bad = !f || fwrite(body, 1, blen, f) != blen ||
              (f != stdout ? fclose(f) : fflush(f));
    free(buf);
    if (bad)
        return fail(1, "%s: %s", out, strerror(errno));
    return 0;
}
