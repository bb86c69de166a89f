/*
 * uc_demo.c -- plain glibc ucontext coroutines, no corodbg.h.  Exercises
 * what libpcl does not: a function that returns through uc_link,
 * setcontext, seven makecontext arguments (some on the stack), and a
 * coroutine context overwritten by getcontext.
 *
 * uc_checkpoint(PHASE) stops for a debugger:
 *   1  gen parked in gen_yield (called from generator), jumper parked
 *      after its setcontext back to main, finisher never ran
 *   2  finisher returned through uc_link (exited), gen still parked
 *   3  gen's context overwritten by getcontext (ended)
 *   4  tworker, made on a second OS thread, running there
 *   5  tworker migrated: resumed by main's thread after that thread ended
 *
 * `uc_demo crash` instead runs one coroutine, crasher, that dies of SIGSEGV;
 * `uc_demo overflow` one, overflower, that overflows its stack into a
 * guard page (the crash handler then needs an alternate stack).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>

static ucontext_t main_ctx, gen_ctx, fin_ctx, jump_ctx;
static char gen_stack[65536] __attribute__((aligned(16)));
static char fin_stack[65536] __attribute__((aligned(16)));
static char jump_stack[65536] __attribute__((aligned(16)));
static volatile long value, fin_done, jumped;

static ucontext_t t_main_ctx, tw_ctx, *tw_back;
static char tw_stack[65536] __attribute__((aligned(16)));
static volatile int tw_phase;

__attribute__((noinline)) void uc_checkpoint(int phase)
{
    __asm__ __volatile__("" ::"r"(phase) : "memory");
}

__attribute__((noinline)) void gen_yield(void)
{
    if (swapcontext(&gen_ctx, &main_ctx) != 0)
        abort();
}

/* Seven arguments: the last one travels on the stack. */
__attribute__((noinline)) void generator(int a, int b, int c, int d, int e,
                                         int f, int g)
{
    long v = a + b + c + d + e + f + g; /* 1+2+...+7 = 28 */
    for (;;) {
        value = v++;
        gen_yield();
    }
}

__attribute__((noinline)) void finisher(void)
{
    fin_done = 1; /* returns: uc_link takes us back to main */
}

__attribute__((noinline)) void jumper(void)
{
    jumped = 1;
    setcontext(&main_ctx); /* leave without saving */
}

/* Runs on whichever OS thread resumes it and reports that phase. */
__attribute__((noinline)) void tworker(void)
{
    for (;;) {
        uc_checkpoint(tw_phase);
        if (swapcontext(&tw_ctx, tw_back) != 0)
            abort();
    }
}

__attribute__((noinline)) void crasher(void)
{
    *(volatile int *)(uintptr_t)16 = 1; /* fault address 0x10 */
}

static volatile int depth_limit = 1 << 30; /* gcc must not see the end */

__attribute__((noinline)) int overflower(int n)
{
    volatile char pad[256];
    pad[0] = (char)n;
    if (n >= depth_limit)
        return 0;
    return overflower(n + 1) + pad[0];
}

__attribute__((noinline)) void overflow_entry(void)
{
    overflower(0);
}

static void make(ucontext_t *uc, char *stack, size_t size, ucontext_t *link)
{
    if (getcontext(uc) != 0)
        abort();
    uc->uc_stack.ss_sp = stack;
    uc->uc_stack.ss_size = size;
    uc->uc_link = link;
}

static void *thread_main(void *arg)
{
    (void)arg;
    make(&tw_ctx, tw_stack, sizeof tw_stack, NULL);
    makecontext(&tw_ctx, tworker, 0);
    tw_phase = 4;
    tw_back = &t_main_ctx;
    if (swapcontext(&t_main_ctx, &tw_ctx) != 0)
        abort();
    return NULL;
}

int main(int argc, char **argv)
{
    pthread_t t;
    if (argc > 1 && strcmp(argv[1], "crash") == 0) {
        make(&fin_ctx, fin_stack, sizeof fin_stack, &main_ctx);
        makecontext(&fin_ctx, crasher, 0);
        swapcontext(&main_ctx, &fin_ctx);
        return 0; /* not reached */
    }
    if (argc > 1 && strcmp(argv[1], "overflow") == 0) {
        size_t size = 65536, page = 4096;
        char *mem = mmap(NULL, size + page, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem == MAP_FAILED || mprotect(mem, page, PROT_NONE) != 0)
            abort();
        make(&fin_ctx, mem + page, size, &main_ctx);
        makecontext(&fin_ctx, overflow_entry, 0);
        swapcontext(&main_ctx, &fin_ctx);
        return 0; /* not reached */
    }
    make(&gen_ctx, gen_stack, sizeof gen_stack, NULL);
    makecontext(&gen_ctx, (void (*)(void))generator, 7, 1, 2, 3, 4, 5, 6, 7);
    make(&fin_ctx, fin_stack, sizeof fin_stack, &main_ctx);
    makecontext(&fin_ctx, finisher, 0);
    make(&jump_ctx, jump_stack, sizeof jump_stack, NULL);
    makecontext(&jump_ctx, jumper, 0);

    if (swapcontext(&main_ctx, &gen_ctx) != 0) /* value = 28 */
        abort();
    if (swapcontext(&main_ctx, &gen_ctx) != 0) /* value = 29 */
        abort();
    if (swapcontext(&main_ctx, &jump_ctx) != 0) /* returns via setcontext */
        abort();
    uc_checkpoint(1);
    if (swapcontext(&main_ctx, &fin_ctx) != 0) /* returns via uc_link */
        abort();
    uc_checkpoint(2);
    if (getcontext(&gen_ctx) != 0) /* gen can never resume now */
        abort();
    uc_checkpoint(3);
    if (pthread_create(&t, NULL, thread_main, NULL) != 0 ||
        pthread_join(t, NULL) != 0)
        abort();
    tw_phase = 5;
    tw_back = &main_ctx;
    if (swapcontext(&main_ctx, &tw_ctx) != 0) /* tworker migrates here */
        abort();
    printf("uc_demo: value=%ld fin_done=%ld jumped=%ld\n", value, fin_done,
           jumped);
    return 0;
}
