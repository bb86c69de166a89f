// C++ for demangling: namespaces, templates, overloads, a lambda.
#include <vector>
#include <numeric>

namespace corotest {
template <typename T> struct Box {
    T v;
    T __attribute__((noinline)) get() const { return v + 1; }
};

int __attribute__((noinline)) twice(int x) { return 2 * x; }
double __attribute__((noinline)) twice(double x) { return 2.0 * x; }

int run(int n)
{
    std::vector<int> v(n);
    std::iota(v.begin(), v.end(), 1);
    auto f = [n](int a) { return a * n; };
    int s = 0;
    for (int x : v)
        s += f(x) + Box<int>{x}.get();
    return s + twice(n) + (int)twice(1.5);
}
} // namespace corotest

int main(int argc, char **) { return corotest::run(argc) & 1; }
