/*
 * grower -- a leak in progress, for `corodbg watch`: ten sleepers park at
 * once (a steady group), then a "request" coroutine leaks every 100 ms,
 * blocked forever on a channel nobody sends to (a group that only grows).
 * Prints "ready PID" once the sleepers are parked.
 */
#include <corort.h>

#include <stdio.h>
#include <unistd.h>

static corort_chan *never;

static __attribute__((noinline)) void wait_forever(void)
{
    char c;
    corort_chan_recv(never, &c);
}

static void leaked_request(void *arg)
{
    (void)arg;
    wait_forever();
}

static __attribute__((noinline)) void nap(void)
{
    corort_sleep_ns(3600ull * 1000000000ull);
}

static void sleeper(void *arg)
{
    (void)arg;
    nap();
}

static void spawner(void *arg)
{
    (void)arg;
    for (int i = 0; i < 10; i++)
        corort_spawn("sleeper", sleeper, NULL);
    while (corort_blocked() < 10)
        corort_yield();
    printf("ready %d\n", (int)getpid());
    fflush(stdout);
    for (;;) {
        corort_spawn("request", leaked_request, NULL);
        corort_sleep_ns(100000000ull);
    }
}

int main(void)
{
    never = corort_chan_new(1, 0);
    corort_spawn("spawner", spawner, NULL);
    corort_run();
    return 1;
}
