// A Boost.Coroutine2 generator program, public API only, for the fcontext
// interposer tests (tests/interpose/test_fcontext.py).  Three generators
// are each pulled a few values and left parked inside produce(); the
// program then stops in boost_checkpoint().  Lines marked LINE_* are
// asserted by the tests.
#include <boost/coroutine2/all.hpp>

#include <cstdio>
#include <cstdlib>
#include <vector>

using gen_t = boost::coroutines2::coroutine<long>;

extern "C" __attribute__((noinline)) void boost_checkpoint()
{
    __asm__ __volatile__("" ::: "memory");
}

__attribute__((noinline)) static void produce(gen_t::push_type &sink,
                                              long value)
{
    long squared = value * value;
    sink(squared); // LINE_GEN_YIELD
}

__attribute__((noinline)) static void numbers(gen_t::push_type &sink)
{
    for (long i = 1;; i++)
        produce(sink, i); // LINE_GEN_LOOP
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? std::atoi(argv[1]) : 3;
    std::vector<gen_t::pull_type *> gens;
    long sum = 0;
    for (int k = 0; k < n; k++) {
        gens.push_back(new gen_t::pull_type(numbers)); // LINE_GEN_CREATE
        for (int j = 0; j < k + 1; j++) {
            sum += gens.back()->get();
            (*gens.back())();
        }
    }
    boost_checkpoint();
    std::printf("sum %ld\n", sum);
    for (auto *g : gens)
        delete g; // unwinds the parked generator: its context ends
    boost_checkpoint();
    return 0;
}
