/* check: the tiny unit-test harness; every case prints "PASS: name" or "FAIL: name: why". */
#ifndef BFS_TESTS_CHECK_H
#define BFS_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed_ = 0;
static int check_passed_ = 0;

/* One test case: CHECK(cond, "name", "why %s", ...) — the name must be unique in the binary. */
#define CHECK(cond, name, ...)                                                   \
    do {                                                                         \
        if (cond) {                                                              \
            printf("PASS: %s\n", (name));                                        \
            check_passed_++;                                                     \
        } else {                                                                 \
            printf("FAIL: %s: ", (name));                                        \
            printf(__VA_ARGS__);                                                 \
            printf(" (%s:%d)\n", __FILE__, __LINE__);                            \
            check_failed_++;                                                     \
        }                                                                        \
        fflush(stdout);                                                          \
    } while (0)

#define CHECK_STREQ(a, b, name)                                                  \
    do {                                                                         \
        const char *ca_ = (a), *cb_ = (b);                                       \
        CHECK(ca_ && cb_ && strcmp(ca_, cb_) == 0, name, "got \"%s\", want \"%s\"", \
              ca_ ? ca_ : "(null)", cb_ ? cb_ : "(null)");                       \
    } while (0)

/* main() ends with: return CHECK_DONE(); */
#define CHECK_DONE() (check_failed_ ? 1 : 0)

#endif
