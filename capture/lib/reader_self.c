/*
 * reader_self.c -- this process's own memory, for the in-process endpoint.
 *
 * A plain memcpy would do for memory that stays mapped, but a coroutine
 * can exit and its stack be unmapped while we read it, and a fault in the
 * agent would kill the program it serves.  So every read goes through the
 * kernel, which reports an unmapped page as EFAULT instead of a signal:
 *
 *   process_vm_readv on our own pid: allowed for the same thread group
 *   whatever Yama says or whether we are dumpable (the kernel's
 *   ptrace_may_access answers yes before any other check);
 *
 *   where a seccomp filter forbids that system call (Docker's default
 *   profile without CAP_SYS_PTRACE), write() the range into a pipe and
 *   read it back: write() returns EFAULT for an unmapped source too.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "corocap.h"

struct self_reader {
    cc_reader r;
    int use_pipe;       /* process_vm_readv was refused */
    int pipe[2];
};

/* Copy through the pipe, a page-sized piece at a time (a pipe holds at
 * least 64 KiB, so a piece never blocks). */
static int pipe_read(struct self_reader *s, uint64_t addr, void *buf,
                     size_t len)
{
    if (s->pipe[0] < 0 && pipe2(s->pipe, O_CLOEXEC | O_NONBLOCK))
        return -1;
    size_t done = 0;
    while (done < len) {
        size_t n = len - done < 4096 ? len - done : 4096;
        ssize_t w = write(s->pipe[1], (const void *)(uintptr_t)(addr + done),
                          n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            if (w == 0)
                errno = EFAULT;
            return -1;
        }
        size_t got = 0;
        while (got < (size_t)w) {
            ssize_t r = read(s->pipe[0], (char *)buf + done + got,
                             (size_t)w - got);
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return -1;
            got += (size_t)r;
        }
        done += (size_t)w;
    }
    return 0;
}

static int self_read(cc_reader *r, uint64_t addr, void *buf, size_t len)
{
    struct self_reader *s = (struct self_reader *)r;
    if (!s->use_pipe) {
        size_t done = 0;
        while (done < len) {
            struct iovec local = {(char *)buf + done, len - done};
            struct iovec remote = {(void *)(uintptr_t)(addr + done),
                                   len - done};
            ssize_t n = process_vm_readv(r->pid, &local, 1, &remote, 1, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0 && (errno == ENOSYS || errno == EPERM ||
                          errno == EACCES)) {
                s->use_pipe = 1;    /* a seccomp filter: from now on */
                break;
            }
            if (n <= 0) {
                if (n == 0)
                    errno = EFAULT;
                return -1;
            }
            done += (size_t)n;
        }
        if (!s->use_pipe)
            return 0;
    }
    return pipe_read(s, addr, buf, len);
}

static void self_free(cc_reader *r)
{
    struct self_reader *s = (struct self_reader *)r;
    if (s->pipe[0] >= 0) {
        close(s->pipe[0]);
        close(s->pipe[1]);
    }
    free(s);
}

cc_reader *cc_reader_self(char *err)
{
    struct self_reader *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, CC_ERRLEN, "out of memory");
        return NULL;
    }
    s->r.read = self_read;
    s->r.free = self_free;
    s->r.live = 1;
    s->r.pid = getpid();
    s->pipe[0] = s->pipe[1] = -1;
    return &s->r;
}

int cc_reader_self_uses_pipe(const cc_reader *r)
{
    return ((const struct self_reader *)r)->use_pipe;
}
