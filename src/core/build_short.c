/* build_short.c - short build ids, as git's short hashes: `288088e1` or
 * `project:288088e1` names the one build of the store whose uuid starts so
 * (include/buildtrail/builds.h). Used by `build <short id>` and serve's /builds/<id>. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "buildtrail/builds.h"
#include "buildtrail/store.h"

const char *bt_build_short_prefix(const char *arg)
{
    const char *colon = arg ? strrchr(arg, ':') : NULL;
    const char *p = colon ? colon + 1 : arg;
    size_t n;

    if (!arg || strncmp(arg, "arn:", 4) == 0)
        return NULL;
    n = strspn(p, "0123456789abcdefABCDEF-");
    return n >= 4 && n < 36 && !p[n] ? p : NULL;
}

typedef struct resolve {
    const char *prefix;
    size_t len;
    bt_arena *a;
    bt_build_match *out;
    size_t max, n;
    int rc;
} resolve;

static const char *copy(resolve *r, const char *s)
{
    char *c;
    if (!s)
        return NULL;
    if (!(c = bt_arena_strdup(r->a, s)))
        r->rc = BT_ENOMEM;
    return c;
}

static int on_build(void *ctx, const bt_build *b)
{
    resolve *r = ctx;
    bt_build_match *m;
    size_t k;

    for (k = 0; k < r->len && tolower((unsigned char)r->prefix[k]) == b->uuid[k]; k++)
        ;
    if (k < r->len)
        return 0;
    if (r->n < r->max) {
        m = &r->out[r->n];
        memcpy(m->uuid, b->uuid, sizeof m->uuid);
        m->build_id = copy(r, b->build_id ? b->build_id : b->uuid);
        m->project = copy(r, b->project);
        m->status = copy(r, b->status);
        m->start_ms = b->start_ms;
    }
    r->n++;
    return r->rc;
}

int bt_build_resolve_short(bt_store *s, const char *arg, bt_arena *a, bt_build_match *out,
                           size_t max, size_t *n, bt_error *err)
{
    const char *prefix = bt_build_short_prefix(arg);
    bt_build_query q;
    resolve r;
    char project[256];
    int rc;

    *n = 0;
    if (!prefix)
        return bt_error_set(err, BT_EINVAL,
                            "'%s' is not a short build id (the start of a uuid, at least 4 "
                            "characters, alone or after project:)",
                            arg ? arg : "");
    memset(&r, 0, sizeof r);
    r.prefix = prefix;
    r.len = strlen(prefix);
    r.a = a;
    r.out = out;
    r.max = max;
    bt_build_query_init(&q);
    if (prefix != arg) {
        snprintf(project, sizeof project, "%.*s", (int)(prefix - 1 - arg), arg);
        q.projects[q.n_projects++] = project;
    }
    rc = bt_store_builds_find(s, &q, on_build, &r, err);
    if (rc == BT_ENOMEM || r.rc)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if (rc < 0)
        return rc;
    *n = r.n;
    return 0;
}
