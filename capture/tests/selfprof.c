/*
 * selfprof -- a corort program that profiles itself with cc_profile_self
 * (tests/capture/test_profile_self.py, bench/run-selfprof.sh).
 *
 * Two coroutines, "spinner-a" in spin_a() and "spinner-b" in spin_b(),
 * burn CPU on two worker threads (M:N) and yield now and then; a plain
 * pthread, the endpoint's stand-in, runs the profile.  MODE:
 *
 *   profile OUT SECONDS HZ   one profile to OUT; prints "rc N" and the
 *                            log line; "nodump" first: non-dumpable
 *   signals OUT KIND         the program's own SIGPROF (KIND handler:
 *                            a counting handler fed by its own 500 Hz
 *                            ITIMER_PROF; ign: SIG_IGN) must keep working
 *                            during and after the profile; prints counts
 *                            and whether the disposition came back
 *   busy OUT                 a second profile during the first: "busy"
 *   cancel OUT               a 30 s profile cancelled after 300 ms
 *   fork OUT                 fork() mid-profile; the child profiles too
 *   blocker OUT              a thread blocks SIGPROF during the profile
 *                            and unblocks it after: prints "survived"
 *   dump snapshot|stop       an in-process dump (cc_capture_take) with
 *                            CC_SNAPSHOT_SELF or CC_STOP_RUNNING
 *   dump-blocked snapshot    the same while the workers block SIGPROF
 *   bench SECONDS HZ         switch-heavy ping-pong for SECONDS, with a
 *                            profile at HZ over the whole run when HZ > 0;
 *                            prints switches per second and per CPU s
 */
#include <corort.h>
#include <corocap.h>

#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile uint64_t sink;
static volatile int stop;
static int block_sigprof;       /* dump-blocked: workers block SIGPROF */

static __attribute__((noinline)) uint64_t spin_a(uint64_t h)
{
    for (int i = 0; i < 20000; i++)
        h = (h ^ (uint64_t)i) * 0x100000001b3ull;
    return h;
}

static __attribute__((noinline)) uint64_t spin_b(uint64_t h)
{
    for (int i = 0; i < 20000; i++)
        h = (h + (uint64_t)i) * 0x9e3779b97f4a7c15ull;
    return h;
}

static void spinner(void *arg)
{
    uint64_t (*fn)(uint64_t) = arg;
    if (block_sigprof) {
        sigset_t one;
        sigemptyset(&one);
        sigaddset(&one, SIGPROF);
        pthread_sigmask(SIG_BLOCK, &one, NULL);
    }
    for (uint64_t n = 0; !stop; n++) {
        sink = fn(sink + n);
        if (n % 16 == 0)
            corort_yield();
    }
}

/* ---- the switch-heavy workload of the benchmark --------------------- */
static corort_chan *ping, *pong;
static volatile uint64_t switches;

static void pinger(void *arg)
{
    (void)arg;
    int v = 0;
    while (!stop) {
        corort_chan_send(ping, &v);
        corort_chan_recv(pong, &v);
        switches += 2;
    }
    corort_chan_close(ping);
}

static void ponger(void *arg)
{
    (void)arg;
    int v;
    while (corort_chan_recv(ping, &v) == 0)
        corort_chan_send(pong, &v);
}

/* ---- the profiler's side ------------------------------------------- */
struct job {
    const char *out;
    double seconds;
    unsigned hz;
    volatile int cancel;
    int rc;
    char err[CC_ERRLEN];
    double took;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *profile(void *arg)
{
    struct job *j = arg;
    double t0 = now_s();
    cc_target *t = cc_target_open_self(j->err);
    if (!t) {
        j->rc = -2;
        return NULL;
    }
    cc_symbolizer *sym = cc_symbolizer_new(t, NULL, 0, 1);
    FILE *f = fopen(j->out, "wb");
    if (!f) {
        snprintf(j->err, sizeof j->err, "cannot open %s", j->out);
        j->rc = -2;
    } else {
        j->rc = cc_profile_self(t, sym, j->seconds, j->hz, f, &j->cancel,
                                stderr, j->err);
        fclose(f);
    }
    cc_symbolizer_free(sym);
    cc_target_free(t);
    j->took = now_s() - t0;
    return NULL;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the program's own SIGPROF -------------------------------------- */
static volatile long own_signals;

static void own_handler(int sig)
{
    (void)sig;
    own_signals++;
}

static long own_during(long ms)
{
    long before = own_signals;
    sleep_ms(ms);
    return own_signals - before;
}

static int signals_mode(const char *out, const char *kind)
{
    struct sigaction sa, back;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = strcmp(kind, "ign") ? own_handler : SIG_IGN;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGPROF, &sa, NULL);
    /* the program's own profiling timer: process CPU time, 500 Hz */
    struct itimerval it = {{0, 2000}, {0, 2000}};
    setitimer(ITIMER_PROF, &it, NULL);
    long before = own_during(300);
    struct job j = {.out = out, .seconds = 1, .hz = 100};
    pthread_t th;
    pthread_create(&th, NULL, profile, &j);
    long during = own_during(900);
    pthread_join(th, NULL);
    long after = own_during(300);
    sigaction(SIGPROF, NULL, &back);
    printf("rc %d %s\n", j.rc, j.rc < 0 ? j.err : "");
    printf("own before %ld during %ld after %ld\n", before, during, after);
    printf("disposition %s\n",
           back.sa_handler == sa.sa_handler && !(back.sa_flags & SA_SIGINFO)
               ? "restored" : "changed");
    /* and a SIGPROF sent to a thread after the profile still reaches it */
    long k = own_signals;
    kill(getpid(), SIGPROF);
    sleep_ms(50);
    printf("sent %s\n", own_signals > k ? "received" : "not received");
    return 0;
}

static void run_profile_mode(int argc, char **argv, int nodump)
{
    if (nodump && prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) {
        perror("prctl");
        exit(1);
    }
    struct job j = {.out = argv[2],
                    .seconds = argc > 3 ? atof(argv[3]) : 1,
                    .hz = argc > 4 ? (unsigned)atoi(argv[4]) : 100};
    profile(&j);
    struct sigaction back;
    sigaction(SIGPROF, NULL, &back);
    printf("dumpable %d\n", prctl(PR_GET_DUMPABLE, 0, 0, 0, 0));
    printf("disposition %s\n", back.sa_handler == SIG_DFL ? "default"
                                                           : "changed");
    printf("rc %d %s\n", j.rc, j.rc < 0 ? j.err : "");
}

static void busy_mode(const char *out)
{
    struct job a = {.out = out, .seconds = 1, .hz = 100};
    char out2[4096];
    snprintf(out2, sizeof out2, "%s.2", out);
    struct job b = {.out = out2, .seconds = 1, .hz = 100};
    pthread_t th;
    pthread_create(&th, NULL, profile, &a);
    sleep_ms(200);
    profile(&b);
    pthread_join(th, NULL);
    printf("first rc %d\n", a.rc);
    printf("second rc %d err %s took %.3f\n", b.rc, b.err, b.took);
    struct job c = {.out = out2, .seconds = 0.2, .hz = 100};
    profile(&c);
    printf("third rc %d %s\n", c.rc, c.rc < 0 ? c.err : "");
}

/* fork() in the middle of a profile: the child profiles itself at once
 * (not "busy"), and the parent's profile completes. */
static void fork_mode(const char *out)
{
    struct job a = {.out = out, .seconds = 1, .hz = 100};
    pthread_t th;
    pthread_create(&th, NULL, profile, &a);
    sleep_ms(300);
    pid_t pid = fork();
    if (pid == 0) {
        char out2[4096];
        snprintf(out2, sizeof out2, "%s.child", out);
        struct job c = {.out = out2, .seconds = 0.2, .hz = 100};
        profile(&c);
        printf("child rc %d %s\n", c.rc, c.rc < 0 ? c.err : "");
        fflush(stdout);
        _exit(0);
    }
    int status;
    waitpid(pid, &status, 0);
    pthread_join(th, NULL);
    printf("child exit %d\nparent rc %d\n",
           WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
           a.rc);
}

static void cancel_mode(const char *out)
{
    struct job j = {.out = out, .seconds = 30, .hz = 100};
    pthread_t th;
    pthread_create(&th, NULL, profile, &j);
    sleep_ms(300);
    j.cancel = 1;
    pthread_join(th, NULL);
    printf("rc %d took %.3f %s\n", j.rc, j.took, j.rc < 0 ? j.err : "");
}

static volatile int profile_done;

/* A thread that blocks SIGPROF while it burns CPU: its timer's signal
 * stays pending past the profile, and must not end the process when the
 * thread unblocks it afterwards. */
static void *blocking_burner(void *arg)
{
    (void)arg;
    sigset_t one;
    sigemptyset(&one);
    sigaddset(&one, SIGPROF);
    pthread_sigmask(SIG_BLOCK, &one, NULL);
    while (!profile_done)       /* until the profile has ended */
        sink = spin_a(sink);
    pthread_sigmask(SIG_UNBLOCK, &one, NULL);
    return NULL;
}

static void blocker_mode(const char *out)
{
    pthread_t b;
    pthread_create(&b, NULL, blocking_burner, NULL);
    struct job j = {.out = out, .seconds = 1, .hz = 100};
    profile(&j);
    profile_done = 1;
    pthread_join(b, NULL);
    sleep_ms(50);
    printf("rc %d\nsurvived\n", j.rc);
}

static double cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Switches per wall second (the workload's view: the profiler's thread
 * runs beside it) and per CPU second of the whole process (the profiler's
 * own thread and the handler's time counted as cost). */
static void bench_mode(double seconds, unsigned hz)
{
    struct job j = {.out = "/dev/null", .seconds = seconds, .hz = hz};
    pthread_t th;
    if (hz)
        pthread_create(&th, NULL, profile, &j);
    double t0 = now_s(), c0 = cpu_s();
    uint64_t n0 = switches;
    sleep_ms((long)(seconds * 1000));
    uint64_t n = switches - n0;
    double dt = now_s() - t0, dc = cpu_s() - c0;
    if (hz)
        pthread_join(th, NULL);
    printf("per_s %.0f per_cpu_s %.0f rc %d\n", n / dt, n / dc,
           hz ? j.rc : 0);
}

/* An in-process dump (the endpoint's debug=2): running coroutines'
 * stacks by snapshot (FLAG "snapshot") or by ptrace ("stop", which a
 * process cannot do to itself). */
static void dump_mode(const char *flag)
{
    char err[CC_ERRLEN];
    cc_target *t = cc_target_open_self(err);
    if (!t) {
        printf("error %s\n", err);
        return;
    }
    cc_symbolizer *sym = cc_symbolizer_new(t, NULL, 0, 1);
    double t0 = now_s();
    cc_capture *c = cc_capture_take(t, sym, CC_WITH_STACKS |
                                    (strcmp(flag, "snapshot") ?
                                     CC_STOP_RUNNING : CC_SNAPSHOT_SELF),
                                    64, err);
    double took = now_s() - t0;
    if (!c) {
        printf("error %s\n", err);
    } else {
        cc_write_text(stdout, c);
        printf("took %.3f\n", took);
    }
    cc_capture_free(c);
    cc_symbolizer_free(sym);
    cc_target_free(t);
    sleep_ms(50);
    printf("survived\n");
}

struct main_args { int argc; char **argv; };

static void *driver(void *arg)
{
    struct main_args *m = arg;
    const char *mode = m->argv[1];
    sleep_ms(100);          /* the spinners are running by now */
    if (!strcmp(mode, "profile"))
        run_profile_mode(m->argc, m->argv, 0);
    else if (!strcmp(mode, "nodump"))
        run_profile_mode(m->argc, m->argv, 1);
    else if (!strcmp(mode, "signals"))
        signals_mode(m->argv[2], m->argc > 3 ? m->argv[3] : "handler");
    else if (!strcmp(mode, "busy"))
        busy_mode(m->argv[2]);
    else if (!strcmp(mode, "dump") || !strcmp(mode, "dump-blocked"))
        dump_mode(m->argv[2]);
    else if (!strcmp(mode, "blocker"))
        blocker_mode(m->argv[2]);
    else if (!strcmp(mode, "fork"))
        fork_mode(m->argv[2]);
    else if (!strcmp(mode, "cancel"))
        cancel_mode(m->argv[2]);
    else if (!strcmp(mode, "bench"))
        bench_mode(atof(m->argv[2]), (unsigned)atoi(m->argv[3]));
    fflush(stdout);
    fflush(stderr);
    _exit(0);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: selfprof profile|nodump|signals|busy|cancel"
                "|fork|blocker|dump|dump-blocked|bench ARGS\n");
        return 2;
    }
    int bench = !strcmp(argv[1], "bench");
    block_sigprof = !strcmp(argv[1], "dump-blocked");
    corort_config cfg = {.workers = bench ? 1 : 2};
    corort_init(&cfg);
    if (bench) {
        ping = corort_chan_new(sizeof(int), 0);
        pong = corort_chan_new(sizeof(int), 0);
        corort_spawn("pinger", pinger, NULL);
        corort_spawn("ponger", ponger, NULL);
    } else {
        corort_spawn("spinner-a", spinner, (void *)spin_a);
        corort_spawn("spinner-b", spinner, (void *)spin_b);
    }
    struct main_args m = {argc, argv};
    pthread_t th;
    pthread_create(&th, NULL, driver, &m);
    corort_run();
    pthread_join(th, NULL);
    return 0;
}
