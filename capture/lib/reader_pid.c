/*
 * reader_pid.c -- a live process's memory through process_vm_readv.
 *
 * process_vm_readv needs the same permission as ptrace attach (same uid
 * and dumpable, or CAP_SYS_PTRACE; Yama may restrict further) but never
 * stops the process, so the table and parked stacks are read while the
 * program runs.  A read that crosses into an unmapped page fails as a
 * whole (EFAULT), like a debugger's.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "corocap.h"

static int pid_read(cc_reader *r, uint64_t addr, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        struct iovec local = {(char *)buf + done, len - done};
        struct iovec remote = {(void *)(uintptr_t)(addr + done), len - done};
        ssize_t n = process_vm_readv(r->pid, &local, 1, &remote, 1, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ESRCH)
                r->gone = 1;
            return -1;
        }
        if (n == 0) {
            errno = EFAULT;
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

/* One process_vm_readv for many ranges; a range that fails ends that
 * call (the kernel stops at the first fault): it is marked and the next
 * call starts after it. */
static void pid_read_many(cc_reader *r, const uint64_t *addr,
                          uint8_t *const *buf, const size_t *len, size_t n,
                          size_t *got)
{
    struct iovec local[256], remote[256];
    size_t i = 0;
    while (i < n) {
        size_t k = n - i < 256 ? n - i : 256;
        for (size_t j = 0; j < k; j++) {
            local[j] = (struct iovec){buf[i + j], len[i + j]};
            remote[j] = (struct iovec){(void *)(uintptr_t)addr[i + j],
                                       len[i + j]};
        }
        ssize_t total = process_vm_readv(r->pid, local, k, remote, k, 0);
        if (total < 0) {
            if (errno == ESRCH)
                r->gone = 1;
            total = 0;
        }
        size_t j = 0;
        for (; j < k && (size_t)total >= len[i + j]; j++) {
            got[i + j] = len[i + j];
            total -= (ssize_t)len[i + j];
        }
        if (j < k)
            got[i + j++] = 0;       /* the range it stopped in */
        i += j;
        if (r->gone)
            while (i < n)
                got[i++] = 0;
    }
}

static void pid_free(cc_reader *r)
{
    free(r);
}

cc_reader *cc_reader_pid(pid_t pid, char *err)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d", (int)pid);
    if (pid <= 0 || access(path, F_OK)) {
        snprintf(err, CC_ERRLEN, "no process %d", (int)pid);
        return NULL;
    }
    cc_reader *r = calloc(1, sizeof *r);
    if (!r) {
        snprintf(err, CC_ERRLEN, "out of memory");
        return NULL;
    }
    r->read = pid_read;
    r->read_many = pid_read_many;
    r->free = pid_free;
    r->live = 1;
    r->pid = pid;
    return r;
}

void cc_reader_free(cc_reader *r)
{
    if (r)
        r->free(r);
}

void cc_read_many(cc_reader *r, const uint64_t *addr, uint8_t *const *buf,
                  const size_t *len, size_t n, size_t *got)
{
    if (r->read_many) {
        r->read_many(r, addr, buf, len, n, got);
        return;
    }
    for (size_t i = 0; i < n; i++)
        got[i] = cc_read(r, addr[i], buf[i], len[i]) ? 0 : len[i];
}

/* One line: why we may not read PID and what would allow it. */
void cc_explain_read_error(pid_t pid, int errnum, char *err)
{
    if (errnum == ESRCH) {
        snprintf(err, CC_ERRLEN, "process %d exited", (int)pid);
        return;
    }
    if (errnum != EPERM && errnum != EACCES) {
        snprintf(err, CC_ERRLEN, "cannot read process %d: %s", (int)pid,
                 strerror(errnum));
        return;
    }
    char path[64], line[256];
    long owner = -1, scope = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "Uid:", 4)) {
            long ruid, euid;
            if (sscanf(line + 4, "%ld %ld", &ruid, &euid) == 2)
                owner = euid;
        }
    if (f)
        fclose(f);
    f = fopen("/proc/sys/kernel/yama/ptrace_scope", "r");
    if (f) {
        if (fscanf(f, "%ld", &scope) != 1)
            scope = -1;
        fclose(f);
    }
    char why[160];
    if (owner >= 0 && (uid_t)owner != geteuid() && geteuid() != 0)
        snprintf(why, sizeof why, "it belongs to uid %ld and you are uid %u",
                 owner, (unsigned)geteuid());
    else if (scope >= 1)
        snprintf(why, sizeof why, "Yama kernel.yama.ptrace_scope is %ld", scope);
    else
        snprintf(why, sizeof why, "it is not dumpable or this process lacks "
                 "CAP_SYS_PTRACE (a container?)");
    snprintf(err, CC_ERRLEN,
             "not allowed to read process %d: %s; run corodbg as its user "
             "or with CAP_SYS_PTRACE, set kernel.yama.ptrace_scope=0, have "
             "the program call prctl(PR_SET_PTRACER, ...), or use the "
             "in-process endpoint (CORODBG_AGENT)", (int)pid, why);
}
