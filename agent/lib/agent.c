/*
 * agent.c -- starting and stopping the agent: by corodbg_agent_start(),
 * or by CORODBG_AGENT from a constructor; its thread; fork and exit.
 *
 * fork: the child gets none of the parent's threads, only copies of its
 * descriptors.  It must not serve on (or remove) the parent's socket, so
 * the atfork child handler closes the copies and starts a fresh agent on
 * the child's own socket.  That agent waits CA_CHILD_DELAY_MS before
 * making its socket: a child that execs at once (the usual fork+exec)
 * leaves nothing behind, since every descriptor is close-on-exec.
 * exit: the socket is removed (by the process that made it, and only if
 * it is still the file we made).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <corodbg_agent.h>

#include "agent_int.h"

#define CA_CHILD_DELAY_MS 200

static struct {
    pthread_mutex_t lock;
    int running;
    char spec[4096 + 512];
    ca_config cfg;
    int unix_fd, tcp_fd, stop[2];
    ino_t ino;
    pid_t owner;            /* the process that made the socket */
    pthread_t th;
    int child_start;        /* a forked child's agent: bind after a delay */
    char error[CA_ERRLEN];
} A = {.lock = PTHREAD_MUTEX_INITIALIZER, .unix_fd = -1, .tcp_fd = -1,
       .stop = {-1, -1}};

static void close_fds(void)
{
    if (A.unix_fd >= 0)
        close(A.unix_fd);
    if (A.tcp_fd >= 0)
        close(A.tcp_fd);
    if (A.stop[0] >= 0) {
        close(A.stop[0]);
        close(A.stop[1]);
    }
    A.unix_fd = A.tcp_fd = A.stop[0] = A.stop[1] = -1;
}

/* Make the sockets (lock held): 0, or -1 with A.error. */
static int open_sockets(void)
{
    A.unix_fd = ca_listen_unix(&A.cfg, &A.ino, A.error);
    if (A.unix_fd < 0)
        return -1;
    A.owner = getpid();
    if (A.cfg.has_tcp) {
        A.tcp_fd = ca_listen_tcp(&A.cfg, A.error);
        if (A.tcp_fd < 0) {
            ca_unlink_socket(A.cfg.path, A.ino);
            close_fds();
            return -1;
        }
    }
    return 0;
}

static void *agent_main(void *arg)
{
    (void)arg;
    if (A.child_start) {
        struct timespec d = {0, CA_CHILD_DELAY_MS * 1000000L};
        nanosleep(&d, NULL);
        pthread_mutex_lock(&A.lock);
        int ok = A.running && !open_sockets();
        if (!ok && A.running)
            fprintf(stderr, "corodbg-agent: %s\n", A.error);
        pthread_mutex_unlock(&A.lock);
        if (!ok)
            return NULL;
    }
    ca_serve(&A.cfg, A.unix_fd, A.tcp_fd, A.stop[0]);
    return NULL;
}

/* Start with A.spec (lock held). */
static int start_locked(int forked)
{
    char err[CA_ERRLEN];
    if (ca_config_parse(A.spec, getpid(), forked, &A.cfg, err)) {
        snprintf(A.error, sizeof A.error, "%s", err);
        return -1;
    }
    if (pipe2(A.stop, O_CLOEXEC)) {
        snprintf(A.error, sizeof A.error, "pipe: %s", strerror(errno));
        return -1;
    }
    A.child_start = forked;
    if (!forked && open_sockets()) {
        close_fds();
        return -1;
    }
    sigset_t all, old;
    sigfillset(&all);
    /* the thread starts with every signal blocked (ca_serve keeps it so) */
    pthread_sigmask(SIG_BLOCK, &all, &old);
    int rc = pthread_create(&A.th, NULL, agent_main, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc) {
        snprintf(A.error, sizeof A.error, "cannot start the agent thread: %s",
                 strerror(rc));
        if (!forked)
            ca_unlink_socket(A.cfg.path, A.ino);
        close_fds();
        return -1;
    }
    A.running = 1;
    return 0;
}

int corodbg_agent_start(const char *spec)
{
    pthread_mutex_lock(&A.lock);
    int rc = -1;
    if (A.running) {
        snprintf(A.error, sizeof A.error, "the agent is already running on %s",
                 A.cfg.path);
    } else {
        snprintf(A.spec, sizeof A.spec, "%s", spec ? spec : "");
        rc = start_locked(0);
    }
    pthread_mutex_unlock(&A.lock);
    return rc;
}

void corodbg_agent_stop(void)
{
    pthread_mutex_lock(&A.lock);
    if (!A.running) {
        pthread_mutex_unlock(&A.lock);
        return;
    }
    A.running = 0;
    (void)!write(A.stop[1], "s", 1);
    pthread_t th = A.th;
    pthread_mutex_unlock(&A.lock);
    pthread_join(th, NULL);
    pthread_mutex_lock(&A.lock);
    if (A.owner == getpid())
        ca_unlink_socket(A.cfg.path, A.ino);
    close_fds();
    pthread_mutex_unlock(&A.lock);
}

const char *corodbg_agent_path(void)
{
    return A.running && A.unix_fd >= 0 ? A.cfg.path : NULL;
}

const char *corodbg_agent_error(void)
{
    return A.error;
}

static void before_fork(void) { pthread_mutex_lock(&A.lock); }
static void after_fork_parent(void) { pthread_mutex_unlock(&A.lock); }

static void after_fork_child(void)
{
    /* The parent's sockets are not ours: close our copies (never remove
     * the files) and start over on the child's own socket. */
    int was = A.running;
    A.running = 0;
    A.owner = 0;
    close_fds();
    if (was && start_locked(1))
        fprintf(stderr, "corodbg-agent: in the child %d: %s\n", (int)getpid(),
                A.error);
    pthread_mutex_unlock(&A.lock);
}

static void at_exit(void)
{
    /* Only the socket's own process removes it, and only its own file;
     * the thread itself dies with the process. */
    if (A.running && A.owner == getpid())
        ca_unlink_socket(A.cfg.path, A.ino);
}

__attribute__((constructor)) static void agent_init(void)
{
    pthread_atfork(before_fork, after_fork_parent, after_fork_child);
    atexit(at_exit);
    const char *spec = getenv("CORODBG_AGENT");
    if (!spec || !spec[0] || !strcmp(spec, "0"))
        return;
    /* The environment reaches every process of a service (a shell, a
     * `timeout` in front of it, LD_PRELOAD too): serve only the ones
     * with coroutines, silently skip the rest. */
    if (!ca_table_address()) {
        snprintf(A.error, sizeof A.error, "no coroutine table in this "
                 "process: CORODBG_AGENT ignored");
        return;
    }
    if (corodbg_agent_start(spec))
        fprintf(stderr, "corodbg-agent: not started: %s\n", A.error);
}
