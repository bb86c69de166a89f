/* The register-block convention, checked from inside the process.
 *
 * A coroutine that never ran: pc = corort__trampoline, sp 16-aligned
 * inside its stack with a zero return address at [sp] (where unwinders
 * stop).  A parked coroutine: pc = the return address into the C function
 * that called the switch routine, so it equals the word just below sp
 * (the call pushed it there and nothing overwrote it); sp lies inside the
 * coroutine's stack.  Prints pc offsets from the executable's base so
 * test_regs.py can name the functions with addr2line.
 *
 *   rt_regs */
#include <corodbg.h>
#include <corort.h>

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

static corort_chan *never;

static void parked(void *arg)
{
    (void)arg;
    int v;
    corort_chan_recv(never, &v);
}

static uintptr_t base;

static void show(const char *what, corodbg_co *e)
{
    uint64_t pc = e->regs[CORODBG_REG_PC], sp = e->regs[CORODBG_REG_SP];
    int in_stack = sp >= e->stack_lo && sp < e->stack_hi;
    printf("%s: state=%u pc=0x%llx in_stack=%d sp_mod16=%llu", what,
           e->state, (unsigned long long)(pc - base), in_stack,
           (unsigned long long)(sp % 16));
    if (in_stack)
        printf(" word_at_sp=%llu ret_below_sp_is_pc=%d",
               (unsigned long long)*(uint64_t *)(uintptr_t)sp,
               *(uint64_t *)(uintptr_t)(sp - 8) == pc);
    printf("\n");
}

int main(void)
{
    Dl_info info;
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!dladdr((void *)&main, &info)) {
        fprintf(stderr, "rt_regs: dladdr failed\n");
        return 1;
    }
    base = (uintptr_t)info.dli_fbase;
    corort_init(NULL);
    never = corort_chan_new(sizeof(int), 0);
    corort_co *fresh = corort_spawn("fresh", parked, NULL);
    show("fresh", corodbg_lookup(corort_id(fresh)));
    long left = corort_run();
    printf("run=%ld\n", left);
    show("parked", corodbg_lookup(corort_id(fresh)));
    return 0;
}
