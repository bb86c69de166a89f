/*
 * pcl_demo.c -- a program that uses only Debian's libpcl (pcl.h, -lpcl).
 * It knows nothing of corodbg: run it with
 *     LD_PRELOAD=build/interpose/libcorodbg-ucontext.so
 * and its coroutines appear in the corodbg table.
 *
 * It stops (for a debugger) in pcl_checkpoint(PHASE):
 *   1  inside `consumer`: consumer running, producer parked in co_resume,
 *      idle never ran, quick already exited (dead), pcl's delete helper
 *   2  in main: every coroutine parked
 *   3  in main after co_delete of producer, consumer and idle
 */
#include <pcl.h>
#include <stdio.h>

static coroutine_t prod, cons, idle_co, quick_co;
static int value = -1, quick_ran, got[2];

/* Debuggers break here; never inlined, exported through -rdynamic. */
__attribute__((noinline)) void pcl_checkpoint(int phase)
{
    __asm__ __volatile__("" ::"r"(phase) : "memory");
}

__attribute__((noinline)) void producer(void *arg)
{
    int step = *(int *)arg;
    for (int i = 0; i < 3; i++) {
        value = i * step;
        co_resume(); /* park until the consumer calls again */
    }
}

__attribute__((noinline)) void consumer(void *arg)
{
    (void)arg;
    co_call(prod);
    got[0] = value;
    co_call(prod);
    got[1] = value;
    pcl_checkpoint(1);
    co_resume(); /* back to main; never resumed again */
}

__attribute__((noinline)) void quick(void *arg)
{
    (void)arg;
    quick_ran = 1; /* returns: libpcl's co_exit ends it */
}

__attribute__((noinline)) void idle(void *arg)
{
    (void)arg; /* created, never called */
}

int main(void)
{
    static int step = 10;
    if (co_thread_init() != 0) {
        fprintf(stderr, "pcl_demo: co_thread_init failed\n");
        return 1;
    }
    quick_co = co_create(quick, NULL, NULL, 64 * 1024);
    prod = co_create(producer, &step, NULL, 64 * 1024);
    cons = co_create(consumer, NULL, NULL, 64 * 1024);
    idle_co = co_create(idle, NULL, NULL, 64 * 1024);
    if (!quick_co || !prod || !cons || !idle_co) {
        fprintf(stderr, "pcl_demo: co_create failed\n");
        return 1;
    }
    co_call(quick_co);
    co_call(cons);
    pcl_checkpoint(2);
    co_delete(prod);
    co_delete(cons);
    co_delete(idle_co);
    pcl_checkpoint(3);
    printf("pcl_demo: quick_ran=%d got=%d,%d\n", quick_ran, got[0], got[1]);
    co_thread_cleanup();
    return 0;
}
