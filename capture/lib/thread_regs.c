/*
 * thread_regs.c -- the registers of a coroutine that is running on an OS
 * thread: the only time a capture stops anything.
 *
 * PTRACE_SEIZE + PTRACE_INTERRUPT stop just that thread, with no signal
 * the program could see; the caller reads what it needs while it is
 * stopped and calls cc_thread_release().  If corodbg dies meanwhile
 * (even SIGKILL), the kernel detaches the tracee and it runs on.
 * Cores have these registers in NT_PRSTATUS; both are read as
 * arch_regs.c's tables say.
 */
#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include "corocap.h"
#include "arch_int.h"
#include "thread_int.h"

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int cc_thread_stop(pid_t tid, struct cc_stopped *st, uint16_t *regno,
                   uint64_t *val, size_t *nregs)
{
    memset(st, 0, sizeof *st);
    st->tid = tid;
    if (ptrace(PTRACE_SEIZE, tid, 0, 0))
        return -1;
    st->seized = 1;
    if (ptrace(PTRACE_INTERRUPT, tid, 0, 0))
        goto fail;
    int status;
    for (;;) {
        pid_t w = waitpid(tid, &status, __WALL);
        if (w == tid)
            break;
        if (w < 0 && errno != EINTR)
            goto fail;
    }
    /* the thread is stopped from here (and from a little before: the
     * scheduler's delay in waking us, which only the target can see) */
    st->t0 = mono_ns();
    if (WIFEXITED(status) || WIFSIGNALED(status)) {
        st->seized = 0;
        errno = ESRCH;
        return -1;
    }
    /* the NT_PRSTATUS set is pr_reg: the same words as in a core */
    const struct cc_arch *a = cc_arch_host();
    uint64_t words[64];
    struct iovec iov = {words, sizeof words};
    if (!a) {
        errno = ENOSYS;
        goto fail;
    }
    if (ptrace(PTRACE_GETREGSET, tid, (void *)NT_PRSTATUS, &iov))
        goto fail;
    if (iov.iov_len < a->nwords * 8) {
        errno = EIO;
        goto fail;
    }
    *nregs = cc_arch_regs(a, words, regno, val, CC_MAX_THREAD_REGS);
    return 0;
fail:
    {
        int e = errno;
        cc_thread_release(st);
        errno = e;
    }
    return -1;
}

uint64_t cc_thread_release(struct cc_stopped *st)
{
    if (!st->seized)
        return 0;
    /* a thread stopped by something else meanwhile (a group stop) is
     * left in that stop: PTRACE_DETACH resumes only our interrupt */
    ptrace(PTRACE_DETACH, st->tid, 0, 0);
    st->seized = 0;
    return mono_ns() - st->t0;
}

size_t cc_core_thread_regs(const cc_target *t, pid_t tid, uint16_t *regno,
                           uint64_t *val)
{
    for (size_t i = 0; i < t->nthreads; i++)
        if (t->threads[i].tid == tid) {
            const struct cc_thread_regs *th = &t->threads[i];
            memcpy(regno, th->regno, th->nregs * sizeof *regno);
            memcpy(val, th->val, th->nregs * sizeof *val);
            return th->nregs;
        }
    return 0;
}
