/*
 * config.c -- the agent's SPEC ("", "1", "DIR/", "PATH.sock", then
 * gid=, tcp=, token_file=, symbolize=), parsed into ca_config.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_int.h"

/* Read the token: a regular file of ours that nobody else can read. */
static int read_token(const char *file, ca_config *c, char *err)
{
    int fd = open(file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        snprintf(err, CA_ERRLEN, "token_file %.200s: %s", file, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
        (st.st_mode & 077)) {
        close(fd);
        snprintf(err, CA_ERRLEN, "token_file %.200s must be a regular file of "
                 "uid %u with mode 0600 (it is mode %04o, uid %u)", file,
                 (unsigned)geteuid(), (unsigned)(st.st_mode & 07777),
                 (unsigned)st.st_uid);
        return -1;
    }
    ssize_t n = read(fd, c->token, sizeof c->token - 1);
    close(fd);
    if (n < 0)
        n = 0;
    c->token[n] = 0;
    c->token[strcspn(c->token, "\r\n")] = 0;
    if (strlen(c->token) < 16) {
        snprintf(err, CA_ERRLEN, "token_file %.200s: the token must be at least "
                 "16 characters on its first line", file);
        return -1;
    }
    return 0;
}

static int parse_tcp(const char *v, ca_config *c, char *err)
{
    char host[64];
    const char *colon = strrchr(v, ':');
    if (!colon || (size_t)(colon - v) >= sizeof host) {
        snprintf(err, CA_ERRLEN, "tcp=%s: expected 127.0.0.1:PORT", v);
        return -1;
    }
    memcpy(host, v, (size_t)(colon - v));
    host[colon - v] = 0;
    struct in_addr a;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (inet_pton(AF_INET, host, &a) != 1 || *end || port < 1 ||
        port > 65535) {
        snprintf(err, CA_ERRLEN, "tcp=%s: expected 127.0.0.1:PORT", v);
        return -1;
    }
    if ((ntohl(a.s_addr) >> 24) != 127) {
        snprintf(err, CA_ERRLEN, "tcp=%s: only a loopback address (127.x.x.x)"
                 " may be used; the agent never listens on the network", v);
        return -1;
    }
    c->has_tcp = 1;
    c->tcp_addr = a.s_addr;
    c->tcp_port = (uint16_t)port;
    return 0;
}

/* The default directory: $XDG_RUNTIME_DIR/corodbg, else /tmp/corodbg-UID. */
static void default_dir(char *out, size_t room)
{
    const char *x = getenv("XDG_RUNTIME_DIR");
    struct stat st;
    if (x && x[0] == '/' && !stat(x, &st) && S_ISDIR(st.st_mode) &&
        st.st_uid == geteuid())
        snprintf(out, room, "%s/corodbg/", x);
    else
        snprintf(out, room, "/tmp/corodbg-%u/", (unsigned)geteuid());
}

int ca_config_parse(const char *spec, pid_t pid, int forked, ca_config *c,
                    char *err)
{
    memset(c, 0, sizeof *c);
    c->symbolize = 1;
    char buf[4096 + 512], token_file[4096] = "";
    if (!spec)
        spec = "";
    if (strlen(spec) >= sizeof buf) {
        snprintf(err, CA_ERRLEN, "CORODBG_AGENT is too long");
        return -1;
    }
    strcpy(buf, spec);
    int first = 1;
    for (char *save, *it = strtok_r(buf, ",", &save); it;
         it = strtok_r(NULL, ",", &save), first = 0) {
        char *eq = strchr(it, '=');
        if (!eq) {
            if (!first) {
                snprintf(err, CA_ERRLEN, "agent option '%s': expected "
                         "name=value (gid, tcp, token_file, symbolize)", it);
                return -1;
            }
            if (strcmp(it, "1"))
                snprintf(c->place, sizeof c->place, "%s", it);
            continue;
        }
        *eq = 0;
        const char *v = eq + 1;
        char *end;
        if (!strcmp(it, "gid")) {
            long g = strtol(v, &end, 10);
            if (!*v || *end || g < 0) {
                snprintf(err, CA_ERRLEN, "gid=%s: expected a number", v);
                return -1;
            }
            c->has_gid = 1;
            c->gid = (gid_t)g;
        } else if (!strcmp(it, "tcp")) {
            if (parse_tcp(v, c, err))
                return -1;
        } else if (!strcmp(it, "token_file")) {
            snprintf(token_file, sizeof token_file, "%s", v);
        } else if (!strcmp(it, "symbolize")) {
            if (strcmp(v, "0") && strcmp(v, "1")) {
                snprintf(err, CA_ERRLEN, "symbolize=%s: expected 0 or 1", v);
                return -1;
            }
            c->symbolize = *v == '1';
        } else {
            snprintf(err, CA_ERRLEN, "unknown agent option '%s' (known: gid, "
                     "tcp, token_file, symbolize)", it);
            return -1;
        }
    }
    if (c->has_tcp && !token_file[0]) {
        snprintf(err, CA_ERRLEN, "tcp= needs token_file=: a TCP port is "
                 "reachable by every local user");
        return -1;
    }
    if (token_file[0] && read_token(token_file, c, err))
        return -1;

    char dir[4096];
    int n;
    size_t pl = strlen(c->place);
    if (pl > 5 && !strcmp(c->place + pl - 5, ".sock")) {
        if (c->place[0] != '/') {
            snprintf(err, CA_ERRLEN, "agent socket %.200s: must be an absolute "
                     "path", c->place);
            return -1;
        }
        n = !forked
                ? snprintf(c->path, sizeof c->path, "%s", c->place)
                : snprintf(c->path, sizeof c->path, "%s.%d", c->place,
                           (int)pid);
    } else {
        if (!pl)
            default_dir(dir, sizeof dir);
        else if (c->place[0] != '/' || c->place[pl - 1] != '/') {
            snprintf(err, CA_ERRLEN, "agent place '%.200s': expected 1, an "
                     "absolute DIR/ (ending in /) or a PATH.sock", c->place);
            return -1;
        } else
            snprintf(dir, sizeof dir, "%s", c->place);
        n = snprintf(c->path, sizeof c->path, "%s%d.sock", dir, (int)pid);
    }
    if (n < 0 || (size_t)n >= sizeof c->path) {
        snprintf(err, CA_ERRLEN, "agent socket path is longer than %zu bytes",
                 sizeof c->path - 1);
        return -1;
    }
    return 0;
}
