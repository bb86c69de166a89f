/*
 * sockdir.c -- the agent's socket, reachable by its owner only.
 *
 * HotSpot's attach listener discipline rather than net/http/pprof's open
 * port: the socket lives in a directory that is ours and closed to
 * everyone else (0700), the socket is 0600, and every connection's
 * SO_PEERCRED is checked anyway (a descriptor can be passed on).  What
 * is already at the path is never trusted: a symlink, a file that is not
 * a socket or a socket that is not ours refuses the start; only a stale
 * socket of ours (nobody listening) is replaced.  With gid=N the group N
 * may also enter (0710) and connect (0660).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "agent_int.h"

/* Check (creating it when missing) the directory holding the socket. */
static int check_dir(const ca_config *c, char *err)
{
    char dir[sizeof c->path];
    snprintf(dir, sizeof dir, "%s", c->path);
    char *slash = strrchr(dir, '/');
    if (!slash || slash == dir) {
        snprintf(err, CA_ERRLEN, "agent socket %s: must be in a directory of "
                 "its own, not /", c->path);
        return -1;
    }
    *slash = 0;
    mode_t want = c->has_gid ? 0710 : 0700;
    if (!mkdir(dir, 0700)) {
        if ((c->has_gid && chown(dir, (uid_t)-1, c->gid)) ||
            chmod(dir, want)) {
            snprintf(err, CA_ERRLEN, "agent directory %s: %s", dir,
                     strerror(errno));
            return -1;
        }
    } else if (errno != EEXIST) {
        snprintf(err, CA_ERRLEN, "agent directory %s: cannot create: %s", dir,
                 strerror(errno));
        return -1;
    }
    struct stat st;
    if (lstat(dir, &st)) {
        snprintf(err, CA_ERRLEN, "agent directory %s: %s", dir,
                 strerror(errno));
        return -1;
    }
    if (S_ISLNK(st.st_mode)) {
        snprintf(err, CA_ERRLEN, "agent directory %s is a symlink; refusing "
                 "it (use a real directory of uid %u, mode 0700)", dir,
                 (unsigned)geteuid());
        return -1;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid()) {
        snprintf(err, CA_ERRLEN, "agent directory %s is not a directory of "
                 "uid %u (owner uid %u); refusing it", dir,
                 (unsigned)geteuid(), (unsigned)st.st_uid);
        return -1;
    }
    mode_t forbidden = c->has_gid ? 027 : 077;
    if ((st.st_mode & forbidden) ||
        (c->has_gid && st.st_gid != c->gid && (st.st_mode & 070))) {
        snprintf(err, CA_ERRLEN, "agent directory %s has mode %04o; it must "
                 "be %04o%s (chmod %o %s)", dir,
                 (unsigned)(st.st_mode & 07777), (unsigned)want,
                 c->has_gid ? " with the allowed group" : " (owner only)",
                 (unsigned)want, dir);
        return -1;
    }
    return 0;
}

/* Whatever is at the socket path: nothing, or a stale socket of ours. */
static int check_existing(const char *path, char *err)
{
    struct stat st;
    if (lstat(path, &st))
        return errno == ENOENT ? 0 : -1;
    if (S_ISLNK(st.st_mode)) {
        snprintf(err, CA_ERRLEN, "agent socket %s is a symlink; refusing to "
                 "use or remove it", path);
        return -1;
    }
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, CA_ERRLEN, "agent socket %s exists and is not a socket;"
                 " refusing to replace it", path);
        return -1;
    }
    if (st.st_uid != geteuid()) {
        snprintf(err, CA_ERRLEN, "agent socket %s belongs to uid %u, not us "
                 "(uid %u); refusing it", path, (unsigned)st.st_uid,
                 (unsigned)geteuid());
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    int live = fd >= 0 && !connect(fd, (struct sockaddr *)&a, sizeof a);
    if (fd >= 0)
        close(fd);
    if (live) {
        snprintf(err, CA_ERRLEN, "agent socket %s: another agent is "
                 "listening there", path);
        return -1;
    }
    if (unlink(path) && errno != ENOENT) {
        snprintf(err, CA_ERRLEN, "agent socket %s: stale, cannot remove: %s",
                 path, strerror(errno));
        return -1;
    }
    return 0;
}

int ca_listen_unix(const ca_config *c, ino_t *ino, char *err)
{
    if (check_dir(c, err) || check_existing(c->path, err))
        return -1;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    snprintf(a.sun_path, sizeof a.sun_path, "%s", c->path);
    struct stat st;
    /* The directory is closed to others, so the moment between bind()
     * (mode from the umask) and chmod() exposes nothing. */
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) ||
        chmod(c->path, c->has_gid ? 0660 : 0600) ||
        (c->has_gid && chown(c->path, (uid_t)-1, c->gid)) ||
        lstat(c->path, &st) || listen(fd, 64)) {
        snprintf(err, CA_ERRLEN, "agent socket %s: %s", c->path,
                 strerror(errno));
        if (fd >= 0) {
            close(fd);
            unlink(c->path);
        }
        return -1;
    }
    *ino = st.st_ino;
    return fd;
}

int ca_listen_tcp(const ca_config *c, char *err)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons(c->tcp_port),
                            .sin_addr = {c->tcp_addr}};
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 64)) {
        char host[INET_ADDRSTRLEN];
        inet_ntop(AF_INET, &a.sin_addr, host, sizeof host);
        snprintf(err, CA_ERRLEN, "agent tcp %s:%u: %s", host,
                 (unsigned)c->tcp_port, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    return fd;
}

int ca_peer_allowed(int fd, const ca_config *c, char *why)
{
    struct ucred cr;
    socklen_t len = sizeof cr;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &len)) {
        snprintf(why, CA_ERRLEN, "no peer credentials: %s", strerror(errno));
        return 0;
    }
    if (cr.uid == geteuid() || cr.uid == 0 ||
        (c->has_gid && cr.gid == c->gid))
        return 1;
    snprintf(why, CA_ERRLEN, "uid %u gid %u (pid %d) is not allowed: only "
             "uid %u, root%s", (unsigned)cr.uid, (unsigned)cr.gid, (int)cr.pid,
             (unsigned)geteuid(), c->has_gid ? " and the allowed gid" : "");
    return 0;
}

void ca_unlink_socket(const char *path, ino_t ino)
{
    struct stat st;
    if (path[0] && !lstat(path, &st) && S_ISSOCK(st.st_mode) &&
        st.st_ino == ino && st.st_uid == geteuid())
        unlink(path);
}
