/* A minimal assertion harness for the C unit tests: every CHECK counts,
 * failures print file:line and the expression, and main() ends with the
 * plain "N passed, N failed" line that pytest and CI both read. */
#ifndef CORODBG_CHECK_H
#define CORODBG_CHECK_H

#include <stdio.h>

static int check_passed, check_failed;

#define CHECK(expr)                                                        \
    do {                                                                   \
        if (expr) {                                                        \
            check_passed++;                                                \
        } else {                                                           \
            check_failed++;                                                \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,         \
                    __LINE__, #expr);                                      \
        }                                                                  \
    } while (0)

#define CHECK_EQ(a, b)                                                     \
    do {                                                                   \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);    \
        if (check_a_ == check_b_) {                                        \
            check_passed++;                                                \
        } else {                                                           \
            check_failed++;                                                \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld vs %lld)\n", \
                    __FILE__, __LINE__, #a, #b, check_a_, check_b_);       \
        }                                                                  \
    } while (0)

#define RUN(test)                                                          \
    do {                                                                   \
        int check_before_ = check_failed;                                  \
        test();                                                            \
        fprintf(stderr, "%s %s\n", check_failed == check_before_ ? "ok  " \
                                                              : "FAIL",   \
                #test);                                                    \
    } while (0)

static int check_summary(void)
{
    printf("%d passed, %d failed\n", check_passed, check_failed);
    return check_failed != 0;
}

#endif
