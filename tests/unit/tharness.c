/* tharness.c - implementation of the unit-test harness (see tharness.h). */
#include <stdlib.h>
#include <unistd.h>

#include "tharness.h"

int bt_t_pass, bt_t_fail;
const char *bt_t_current = "";

void bt_t_report(int ok, const char *file, int line, const char *expr, const char *detail)
{
    if (ok) {
        bt_t_pass++;
        return;
    }
    bt_t_fail++;
    fprintf(stderr, "FAIL %s: %s:%d: %s%s%s\n", bt_t_current, file, line, expr,
            detail ? "  -- " : "", detail ? detail : "");
}

void bt_test_skip(const char *why)
{
    printf("SKIP: %s\n", why);
    exit(77);
}

int bt_t_run(const char *names, void (*fns[])(void), int n)
{
    char buf[4096], *save = NULL, *tok;
    int i = 0;

    snprintf(buf, sizeof buf, "%s", names);
    for (tok = strtok_r(buf, ", ", &save); tok && i < n; tok = strtok_r(NULL, ", ", &save), i++) {
        bt_t_current = tok;
        fns[i]();
    }
    printf("%d passed, %d failed\n", bt_t_pass, bt_t_fail);
    return bt_t_fail ? 1 : 0;
}

static const char *join(const char *env, const char *rel)
{
    static char path[4096];
    const char *base = getenv(env);
    if (!base)
        return NULL;
    snprintf(path, sizeof path, "%s/%s", base, rel);
    return path;
}

const char *bt_t_shared(const char *rel)
{
    const char *p = join("BT_SHARED_DIR", rel);
    return p && access(p, R_OK) == 0 ? p : NULL;
}

const char *bt_t_source(const char *rel)
{
    return join("BT_SOURCE_DIR", rel);
}
