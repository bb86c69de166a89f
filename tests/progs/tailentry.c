/* tailentry: coroutines whose entry function's frame is gone.  At -O2
 * waiter() ends in a sibling call (`jmp corort_chan_recv`), so nothing
 * of it stays on the stack: the blocking call returns straight into
 * corort__start.  A stack must then end above the start function the
 * runtime describes (corodbg_set_runtime_start: corort__trampoline),
 * with corort__start the last frame shown.
 *
 * Usage: tailentry; stops in stop_here() once the 3 waiters are parked
 * for good. */
#include <corort.h>

static corort_chan *ch;
static int slot;

static void waiter(void *arg)
{
    (void)arg;
    corort_chan_recv(ch, &slot);
}

__attribute__((noinline)) void stop_here(void)
{
    __asm__ volatile("" ::: "memory");
}

int main(void)
{
    if (corort_init(NULL) != 0)
        return 1;
    ch = corort_chan_new(sizeof slot, 0);
    for (int i = 0; i < 3; i++)
        corort_spawn("waiter", waiter, NULL);
    corort_run();
    stop_here();
    return 0;
}
