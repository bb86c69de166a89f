/*
 * thread_regs.c -- the registers of a coroutine that is running on an OS
 * thread: the only time a capture stops anything.
 *
 * PTRACE_SEIZE + PTRACE_INTERRUPT stop just that thread, with no signal
 * the program could see; the caller reads what it needs while it is
 * stopped and calls cc_thread_release().  If corodbg dies meanwhile
 * (even SIGKILL), the kernel detaches the tracee and it runs on.
 * Cores have these registers in NT_PRSTATUS.
 */
#include <errno.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>

#include "corocap.h"
#include "thread_int.h"

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static size_t from_user_regs(const struct user_regs_struct *r, uint16_t *regno,
                             uint64_t *val)
{
    /* DWARF x86-64: 0 rax 1 rdx 2 rcx 3 rbx 4 rsi 5 rdi 6 rbp 7 rsp
     * 8..15 r8..r15, 16 rip */
    const uint64_t v[17] = {r->rax, r->rdx, r->rcx, r->rbx, r->rsi, r->rdi,
                            r->rbp, r->rsp, r->r8, r->r9, r->r10, r->r11,
                            r->r12, r->r13, r->r14, r->r15, r->rip};
    for (int i = 0; i < 17; i++) {
        regno[i] = (uint16_t)i;
        val[i] = v[i];
    }
    return 17;
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
    struct user_regs_struct r;
    if (ptrace(PTRACE_GETREGS, tid, 0, &r))
        goto fail;
    *nregs = from_user_regs(&r, regno, val);
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
            for (int k = 0; k < 17; k++) {
                regno[k] = (uint16_t)k;
                val[k] = t->threads[i].dwarf[k];
            }
            return 17;
        }
    return 0;
}
