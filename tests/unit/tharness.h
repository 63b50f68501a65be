/*
 * tharness.h - the minimal unit-test harness: CHECK macros that count and report,
 * and a main() supplied by each test through BT_TESTS(...).
 *
 * Each test file defines static void test_xxx(void) functions and ends with
 *   BT_TEST_MAIN(test_a, test_b, ...)
 * The process prints "N passed, M failed" and exits 1 if anything failed.
 * bt_test_skip("why") exits 77 (ctest SKIP) with the reason.
 */
#ifndef BT_THARNESS_H
#define BT_THARNESS_H

#include <stdio.h>
#include <string.h>

extern int bt_t_pass, bt_t_fail;
extern const char *bt_t_current;

void bt_t_report(int ok, const char *file, int line, const char *expr, const char *detail);
void bt_test_skip(const char *why);
int bt_t_run(const char *names, void (*fns[])(void), int n);
/* Path under $BT_SHARED_DIR (or NULL if unset/missing); static buffer. */
const char *bt_t_shared(const char *rel);
/* Path under $BT_SOURCE_DIR; static buffer. */
const char *bt_t_source(const char *rel);

#define CHECK(e) bt_t_report(!!(e), __FILE__, __LINE__, #e, NULL)
#define CHECK_INT(a, b)                                                                    \
    do {                                                                                   \
        long long _a = (long long)(a), _b = (long long)(b);                                \
        char _d[128];                                                                      \
        snprintf(_d, sizeof _d, "%lld != %lld", _a, _b);                                   \
        bt_t_report(_a == _b, __FILE__, __LINE__, #a " == " #b, _d);                       \
    } while (0)
#define CHECK_STR(a, b)                                                                    \
    do {                                                                                   \
        const char *_a = (a), *_b = (b);                                                   \
        char _d[512];                                                                      \
        snprintf(_d, sizeof _d, "\"%.200s\" != \"%.200s\"", _a ? _a : "(null)",            \
                 _b ? _b : "(null)");                                                      \
        bt_t_report(_a && _b && strcmp(_a, _b) == 0, __FILE__, __LINE__, #a " == " #b, _d); \
    } while (0)

#define BT_TEST_MAIN(...)                                                                  \
    int main(void)                                                                         \
    {                                                                                      \
        void (*fns[])(void) = {__VA_ARGS__};                                               \
        return bt_t_run(#__VA_ARGS__, fns, (int)(sizeof fns / sizeof fns[0]));             \
    }

#endif
