// Concurrent jumps through the fcontext interposer: Boost.Fiber's
// work-stealing scheduler on THREADS OS threads runs waves of fibers
// that yield ITERS times each, so fibers migrate between threads and
// jump_fcontext runs on every thread at once; each wave ends its fibers
// (Boost's fiber_exit) and the next reuses their stacks.  Run it with
// LD_PRELOAD=libcorodbg-fcontext.so (tests/interpose/test_fcontext.py).
//
// What must hold, checked in the process itself:
//   - in a fiber, corodbg_current() is that fiber's entry, every time:
//     the same id as at its start, RUNNING on this OS thread, its stack
//     bounds around a local variable (a wrong saved-sp lookup switches
//     the wrong entry in);
//   - a reader thread scanning the table meanwhile never sees a parked
//     entry whose published saved sp lies outside its own stack (a saved
//     sp filed under the wrong coroutine).
// Prints "stress ok fibers=N checks=N migrations=N scans=N" or the first
// failure (exit 1).  The header is used for the table's layout only.
#include <corodbg.h>

#include <boost/fiber/algo/work_stealing.hpp>
#include <boost/fiber/all.hpp>

#include <atomic>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <dlfcn.h>
#include <mutex>
#include <sys/syscall.h>
#include <thread>
#include <unistd.h>
#include <vector>

static corodbg_co *(*current)(void);
static corodbg_descriptor *table;
static std::atomic<int> failed{0};
static std::atomic<long> checks{0}, migrations{0}, scans{0};

static void fail(const char *what, unsigned long a, unsigned long b)
{
    if (!failed.exchange(1))
        std::printf("stress FAILED: %s (%#lx, %#lx)\n", what, a, b);
}

static unsigned tid() { return (unsigned)syscall(SYS_gettid); }

// The running fiber's entry, checked against what the fiber knows.
static void check(uint64_t want_id)
{
    int local;
    uint64_t here = (uint64_t)(uintptr_t)&local;
    corodbg_co *co = current();
    if (!co)
        return fail("no current coroutine in a fiber", want_id, 0);
    if (co->id != want_id)
        return fail("current entry is another coroutine", co->id, want_id);
    if (co->state != CORODBG_RUNNING || co->tid != tid())
        return fail("current entry not running here", co->state, co->tid);
    if (here < co->stack_lo || here >= co->stack_hi)
        return fail("current entry's stack is not this one", here,
                    co->stack_lo);
    checks++;
}

// Parked entries (FRAME mode) publish a saved sp inside their own stack,
// or 0.  The entry's seq and id are read again after the sp: a changed
// one means the entry moved on meanwhile, and the sample is dropped.
static void scan_once()
{
    uint64_t *dir = (uint64_t *)(uintptr_t)table->chunk_dir;
    uint32_t n = __atomic_load_n(&table->nchunks, __ATOMIC_ACQUIRE);
    for (uint32_t c = 0; c < n; c++) {
        corodbg_co *e = (corodbg_co *)(uintptr_t)dir[c];
        for (uint32_t i = 0; i < table->chunk_entries; i++, e++) {
            uint64_t id = __atomic_load_n(&e->id, __ATOMIC_ACQUIRE);
            uint32_t seq = __atomic_load_n(&e->seq, __ATOMIC_ACQUIRE);
            if (!id || (seq & 1) || e->regs_mode != CORODBG_REGS_FRAME)
                continue;
            uint64_t lo = e->stack_lo, hi = e->stack_hi;
            const uint64_t *word = (const uint64_t *)(uintptr_t)e->regs_addr;
            uint64_t sp = word ? __atomic_load_n(word, __ATOMIC_ACQUIRE) : 0;
            if (__atomic_load_n(&e->seq, __ATOMIC_ACQUIRE) != seq ||
                __atomic_load_n(&e->id, __ATOMIC_ACQUIRE) != id)
                continue;
            if (sp && (sp < lo || sp >= hi))
                fail("a parked entry's saved sp is outside its stack", sp,
                     id);
        }
    }
    scans++;
}

static std::mutex mtx;
static boost::fibers::condition_variable_any wave_cv;
static int live_fibers;
static bool done;

static void fiber_body(long iters)
{
    corodbg_co *co = current();
    if (!co)
        return fail("no current coroutine at a fiber's start", 0, 0);
    uint64_t id = co->id;
    unsigned last = tid();
    for (long i = 0; i < iters && !failed; i++) {
        check(id);
        unsigned now = tid();
        migrations += now != last;
        last = now;
        boost::this_fiber::yield();
    }
    std::lock_guard<std::mutex> lk(mtx);
    if (--live_fibers == 0)
        wave_cv.notify_all();
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? std::atoi(argv[1]) : 4;
    int fibers = argc > 2 ? std::atoi(argv[2]) : 64;
    int waves = argc > 3 ? std::atoi(argv[3]) : 4;
    long iters = argc > 4 ? std::atol(argv[4]) : 300;
    *(void **)&current = dlsym(RTLD_DEFAULT, "corodbg_current");
    table = (corodbg_descriptor *)dlsym(RTLD_DEFAULT, "corodbg_table");
    if (!current || !table) {
        std::printf("stress: no corodbg table (preload the interposer)\n");
        return 2;
    }
    std::atomic<bool> stop{false};
    std::thread scanner([&] {
        while (!stop)
            scan_once();
    });
    // work_stealing's constructor waits until all THREADS schedulers
    // exist: the workers first, then this thread's.
    std::vector<std::thread> workers;
    for (int t = 1; t < threads; t++)
        workers.emplace_back([&] {
            boost::fibers::use_scheduling_algorithm<
                boost::fibers::algo::work_stealing>(threads);
            std::unique_lock<std::mutex> lk(mtx);
            wave_cv.wait(lk, [] { return done; }); // runs stolen fibers
        });
    boost::fibers::use_scheduling_algorithm<
        boost::fibers::algo::work_stealing>(threads);
    for (int w = 0; w < waves && !failed; w++) {
        {
            std::lock_guard<std::mutex> lk(mtx);
            live_fibers = fibers;
        }
        for (int i = 0; i < fibers; i++)
            boost::fibers::fiber(fiber_body, iters).detach();
        std::unique_lock<std::mutex> lk(mtx);
        wave_cv.wait(lk, [] { return live_fibers == 0; });
    }
    {
        std::lock_guard<std::mutex> lk(mtx);
        done = true;
    }
    wave_cv.notify_all();
    for (auto &t : workers)
        t.join();
    if (current())
        fail("a coroutine is current on the main thread's own stack",
             current()->id, 0);
    stop = true;
    scanner.join();
    if (failed)
        return 1;
    std::printf("stress ok fibers=%d checks=%ld migrations=%ld scans=%ld\n",
                fibers * waves, checks.load(), migrations.load(),
                scans.load());
    return 0;
}
