/*
 * agent_target -- a corort service with the agent, for tests/agent.
 *
 *   agent_target [N]     N workers parked in wait_for_job() (default 20),
 *                        a sleeper, a busy coroutine in burn_cpu()
 *
 * Environment: AGENT_SPEC=spec calls corodbg_agent_start(spec) (without
 * it, CORODBG_AGENT starts the agent from the library's constructor);
 * AGENT_NODUMP=1 makes the process non-dumpable first (no ptrace, no
 * process_vm_readv from outside); AGENT_WORKERS=k runs k OS threads.
 * Prints "ready PID SOCKET" once the workers are parked.  A line on
 * stdin: "fork" forks a child that prints "child PID SOCKET" and lives
 * until killed; "exit N" exits with status N; "stop" calls
 * corodbg_agent_stop() and prints "stopped"; "start SPEC" starts it again
 * and prints "started SOCKET" (or "agent: WHY").  AGENT_PANIC=1 adds a
 * coroutine that calls corodbg_panic() and stays PANICKED.
 */
#include <corodbg.h>
#include <corodbg_agent.h>
#include <corort.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static corort_chan *jobs;
static volatile unsigned long spins;

static __attribute__((noinline)) void wait_for_job(void)
{
    int job;
    corort_chan_recv(jobs, &job);
}

static void worker(void *arg)
{
    (void)arg;
    wait_for_job();
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

static __attribute__((noinline)) void burn_cpu(void)
{
    for (unsigned i = 0; i < 200000; i++)
        spins += i;
}

static void busy(void *arg)
{
    (void)arg;
    for (;;) {
        burn_cpu();
        corort_yield();
    }
}

static const char *socket_path(void)
{
    /* the constructor's or our own start; in a fork's child the agent
     * binds after a short delay */
    for (int i = 0; i < 200 && !corodbg_agent_path(); i++)
        usleep(10000);
    return corodbg_agent_path() ? corodbg_agent_path() : "-";
}

static void *control(void *arg)
{
    (void)arg;
    char line[4200];
    while (fgets(line, sizeof line, stdin)) {
        if (!strncmp(line, "fork", 4)) {
            pid_t p = fork();
            if (p == 0) {
                printf("child %d %s\n", (int)getpid(), socket_path());
                fflush(stdout);
                for (;;)
                    pause();
            }
            printf("forked %d\n", (int)p);
            fflush(stdout);
        } else if (!strncmp(line, "exit", 4)) {
            exit(atoi(line + 4));
        } else if (!strncmp(line, "stop", 4)) {
            corodbg_agent_stop();
            printf("stopped %s\n", corodbg_agent_path() ? "still" : "-");
            fflush(stdout);
        } else if (!strncmp(line, "start ", 6)) {
            line[strcspn(line, "\n")] = 0;
            if (corodbg_agent_start(line + 6))
                printf("agent: %s\n", corodbg_agent_error());
            else
                printf("started %s\n", corodbg_agent_path());
            fflush(stdout);
        }
    }
    exit(0);
}

static void panicker(void *arg)
{
    (void)arg;
    corodbg_panic("request %d failed", 42);
    nap();
}

static void spawner(void *arg)
{
    int n = (int)(long)arg;
    for (int i = 0; i < n; i++)
        corort_spawn("worker", worker, NULL);
    corort_spawn("sleeper", sleeper, NULL);
    if (getenv("AGENT_PANIC"))
        corort_spawn("panicker", panicker, NULL);
    while (corort_blocked() < (size_t)n + 1)
        corort_yield();
    printf("ready %d %s\n", (int)getpid(), socket_path());
    fflush(stdout);
    pthread_t th;
    pthread_create(&th, NULL, control, NULL);
    busy(NULL);
}

int main(int argc, char **argv)
{
    if (getenv("AGENT_NODUMP"))
        prctl(PR_SET_DUMPABLE, 0);
    const char *spec = getenv("AGENT_SPEC");
    if (spec && corodbg_agent_start(spec)) {
        printf("agent: %s\n", corodbg_agent_error());
        return 2;
    }
    corort_config cfg = {0};
    cfg.workers = getenv("AGENT_WORKERS") ? (unsigned)atoi(getenv(
                                                "AGENT_WORKERS")) : 0;
    int n = argc > 1 ? atoi(argv[1]) : 20;
    cfg.no_guard = n > 30000;   /* past the kernel's mapping limit */
    corort_init(&cfg);
    jobs = corort_chan_new(sizeof(int), 0);
    corort_spawn("spawner", spawner, (void *)(long)n);
    corort_run();
    return 1;
}
