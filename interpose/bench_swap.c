/*
 * bench_swap.c -- what the interposer costs a ucontext program.
 * Run it twice, plain and with LD_PRELOAD=libcorodbg-ucontext.so
 * (interpose/bench.sh does, and prints the ratios).
 *
 *   bench_swap N ROUNDS
 *
 * switch: N parked coroutines resumed round-robin ROUNDS times; one
 *         resume is two swapcontext calls (there and back).
 * create: makecontext + first switch + return through uc_link, on one
 *         reused stack, N*ROUNDS/16 times.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>

#define STACK 8192

static ucontext_t main_ctx, *ctxs;
static volatile long work;

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void loop(int i)
{
    for (;;) {
        work++;
        swapcontext(&ctxs[i], &main_ctx);
    }
}

static void once(void)
{
    work++;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 1000;
    long rounds = argc > 2 ? atol(argv[2]) : 100;
    if (n < 1 || rounds < 1 || n > 10000000) {
        fprintf(stderr, "usage: bench_swap N ROUNDS (N 1..10000000)\n");
        return 2;
    }
    ctxs = calloc((size_t)n, sizeof *ctxs);
    char *stacks = mmap(NULL, (size_t)n * STACK, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (!ctxs || stacks == MAP_FAILED) {
        fprintf(stderr, "bench_swap: out of memory for %ld stacks\n", n);
        return 1;
    }
    for (long i = 0; i < n; i++) {
        getcontext(&ctxs[i]);
        ctxs[i].uc_stack.ss_sp = stacks + i * STACK;
        ctxs[i].uc_stack.ss_size = STACK;
        ctxs[i].uc_link = NULL;
        makecontext(&ctxs[i], (void (*)(void))loop, 1, (int)i);
    }
    for (long i = 0; i < n; i++) /* first run: fault the stacks in */
        swapcontext(&main_ctx, &ctxs[i]);
    double t0 = now();
    for (long r = 0; r < rounds; r++)
        for (long i = 0; i < n; i++)
            swapcontext(&main_ctx, &ctxs[i]);
    double t1 = now();
    double per_switch = (t1 - t0) / ((double)rounds * n * 2);

    long cycles = n * rounds / 16 + 1;
    ucontext_t c;
    double t2 = now();
    for (long k = 0; k < cycles; k++) {
        getcontext(&c);
        c.uc_stack.ss_sp = stacks;
        c.uc_stack.ss_size = STACK;
        c.uc_link = &main_ctx;
        makecontext(&c, once, 0);
        swapcontext(&main_ctx, &c);
    }
    double t3 = now();
    printf("n=%ld switch_ns=%.1f create_exit_ns=%.1f\n", n, per_switch,
           (t3 - t2) / cycles);
    return 0;
}
