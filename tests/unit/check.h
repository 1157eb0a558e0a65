/* The checks of the unit tests: each counts a pass or prints the failed condition (CHECK_EQ
 * with both values), and check_report() prints "N passed, M failed" and gives the exit code. */
#ifndef OPENWHP_TESTS_UNIT_CHECK_H
#define OPENWHP_TESTS_UNIT_CHECK_H

#include <stdio.h>

static int passed, failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond)                                                                                  \
            passed++;                                                                              \
        else {                                                                                     \
            failed++;                                                                              \
            printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond);                                 \
        }                                                                                          \
    } while (0)

#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b);             \
        if (a_ == b_)                                                                              \
            passed++;                                                                              \
        else {                                                                                     \
            failed++;                                                                              \
            printf("FAIL %s:%d: %s == %s: 0x%llx != 0x%llx (%lld != %lld)\n", __FILE__, __LINE__, \
                   #a, #b, a_, b_, (long long)a_, (long long)b_);                                  \
        }                                                                                          \
    } while (0)

static inline int check_report(void)
{
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}

#endif
