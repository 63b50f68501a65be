/* pack.c - where the shipped rule pack (`builtin`) is: $BUILDTRAIL_RULES_DIR, else next
 * to the running binary (<bin>/../share/buildtrail/rules when installed, <build>/../rules
 * in a build tree), else the install path and the source tree compiled in. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buildtrail/rules.h"

#ifndef BT_RULES_DIR
#define BT_RULES_DIR "/usr/local/share/buildtrail/rules"
#endif
#ifndef BT_SOURCE_RULES_DIR
#define BT_SOURCE_RULES_DIR ""
#endif

static int is_dir(const char *p)
{
    struct stat st;
    return *p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int bt_rules_builtin_dir(char *buf, size_t n, bt_error *err)
{
    static const char *const rel[] = {"../share/buildtrail/rules", "../rules"};
    const char *env = getenv("BUILDTRAIL_RULES_DIR");
    char exe[PATH_MAX];
    ssize_t len;
    size_t i;

    if (env && *env) {
        if (!is_dir(env))
            return bt_error_set(err, BT_ENOTFOUND, "'%s' ($BUILDTRAIL_RULES_DIR): not a directory",
                                env);
        snprintf(buf, n, "%s", env);
        return 0;
    }
    len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        char *slash;
        exe[len] = 0;
        if ((slash = strrchr(exe, '/')))
            *slash = 0;
        for (i = 0; i < sizeof rel / sizeof rel[0]; i++) {
            snprintf(buf, n, "%s/%s", exe, rel[i]);
            if (is_dir(buf))
                return 0;
        }
    }
    snprintf(buf, n, "%s", BT_RULES_DIR);
    if (is_dir(buf))
        return 0;
    snprintf(buf, n, "%s", BT_SOURCE_RULES_DIR);
    if (is_dir(buf))
        return 0;
    return bt_error_set(err, BT_ENOTFOUND,
                        "the built-in rule pack is not installed (looked next to the binary "
                        "and in '%s'; set BUILDTRAIL_RULES_DIR)",
                        BT_RULES_DIR);
}

int bt_rules_load_args(const char *const *args, size_t n, bt_ruleset **out, bt_error *err)
{
    const char **paths = calloc(n ? n : 1, sizeof *paths);
    char builtin[PATH_MAX];
    size_t i;
    int rc = 0;

    *out = NULL;
    if (!paths)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    for (i = 0; i < n && !rc; i++) {
        paths[i] = args[i];
        if (strcmp(args[i], "builtin") == 0 && !is_dir("builtin")) {
            if (!(rc = bt_rules_builtin_dir(builtin, sizeof builtin, err)))
                paths[i] = builtin;
        }
    }
    if (!rc)
        rc = bt_rules_load(paths, n, out, err);
    free(paths);
    return rc;
}
