/* build_merge.c - the CodeBuild build policy: how the facts of many records merge into
 * one row per build, what is inferred for a build no StartBuild record names (webhook
 * trigger, build id, start), and which project a build's role session belongs to. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/codebuild.h"
#include "buildtrail/error.h"

void bt_build_row_init(bt_build_row *r)
{
    memset(r, 0, sizeof *r);
    r->number = -1;
}

int bt_build_status_rank(bt_build_status status, bt_build_status_source source)
{
    if (status == BT_STATUS_UNKNOWN)
        return 0;
    if (source == BT_SOURCE_EVENTBRIDGE)
        return status == BT_STATUS_IN_PROGRESS ? 1 : 3;
    return 2;
}

/* sets *dst to v when v is known and (overwrite or *dst unknown) */
static void fill(const char **dst, const char *v, int overwrite)
{
    if (v && (overwrite || !*dst))
        *dst = v;
}

/* Phase facts among themselves, in any order: a phase that did not succeed beats
 * SUCCEEDED (the first such phase wins), FINALIZING's completion gives the end. */
static void merge_phases(bt_build_row *r, const bt_build_facts *f)
{
    int failed = f->status != BT_STATUS_SUCCEEDED, was = r->status != BT_STATUS_SUCCEEDED;
    if (failed && (!was || f->time_ms < r->status_ms)) {
        r->status = f->status;
        r->status_ms = f->time_ms;
    }
    if (f->end_ms && f->end_ms > r->end_ms)
        r->end_ms = f->end_ms;
}

static void merge_status(bt_build_row *r, const bt_build_facts *f)
{
    bt_build_status_source src = f->kind == BT_BF_STOP    ? BT_SOURCE_STOPBUILD
                                 : f->kind == BT_BF_PHASE ? BT_SOURCE_PHASES
                                                          : BT_SOURCE_EVENTBRIDGE;
    int nr = bt_build_status_rank(f->status, src);
    int orank = bt_build_status_rank(r->status, r->status_source);

    if (src == BT_SOURCE_PHASES && r->status_source == BT_SOURCE_PHASES) {
        merge_phases(r, f);
        return;
    }
    if (src == BT_SOURCE_PHASES && nr >= orank) {
        /* over a stop (or IN_PROGRESS): the phases know how it ended */
        r->status = f->status;
        r->status_source = src;
        r->status_ms = f->time_ms;
        if (f->end_ms)
            r->end_ms = f->end_ms;
        return;
    }
    if (nr < orank || (nr == orank && f->time_ms < r->status_ms))
        return;
    r->status = f->status;
    r->status_source = src;
    r->status_ms = f->time_ms;
    /* a final EventBridge state ends the build; a stop only when nothing else did */
    if (nr == 3 || (nr == 2 && !r->end_ms))
        r->end_ms = f->time_ms;
}

void bt_build_merge(bt_build_row *r, const bt_build_facts *f)
{
    int start_fact;

    if (f->kind == BT_BF_NONE || !f->uuid)
        return;
    start_fact = f->kind == BT_BF_START || f->kind == BT_BF_RETRY || f->kind == BT_BF_BATCH_START;
    r->uuid = f->uuid;
    fill(&r->build_id, f->build_id, 0);
    fill(&r->project, f->project, 0);
    fill(&r->account, f->account, 0);
    fill(&r->region, f->region, 0);
    if (f->number >= 0)
        r->number = f->number;
    fill(&r->initiator, f->initiator, start_fact);
    fill(&r->source_version, f->source_version, start_fact);
    if (start_fact) {
        /* the API record of the start is authoritative for time and trigger */
        r->start_ms = f->time_ms;
        if (f->trigger != BT_TRIGGER_NONE)
            r->trigger = f->trigger;
        fill(&r->trigger_principal, f->principal_arn, 1);
        fill(&r->overrides, f->overrides, 1);
        fill(&r->retry_of, f->retry_of, 1);
        fill(&r->batch_uuid, f->batch_uuid, 1);
        if (f->kind == BT_BF_BATCH_START)
            r->is_batch = 1;
    } else {
        if (f->start_ms > 0 && !r->start_ms)
            r->start_ms = f->start_ms;
        if (r->trigger == BT_TRIGGER_NONE)
            r->trigger = f->trigger;
    }
    if (f->kind == BT_BF_STOP && (!r->stop_ms || f->time_ms < r->stop_ms)) {
        /* the first stop is the one that stopped it */
        r->stop_ms = f->time_ms;
        fill(&r->stop_principal, f->principal_arn, 1);
    }
    if (f->status != BT_STATUS_UNKNOWN)
        merge_status(r, f);
}

void bt_build_from_row(bt_build *b, const bt_build_row *r)
{
    snprintf(b->uuid, sizeof b->uuid, "%s", r->uuid ? r->uuid : "");
    b->build_id = r->build_id;
    b->project = r->project;
    b->account = r->account;
    b->region = r->region;
    b->number = r->number;
    b->start_ms = r->start_ms;
    b->trigger = r->trigger;
    b->trigger_type = bt_build_trigger_name(r->trigger);
    b->trigger_principal = r->trigger_principal;
    b->initiator = r->initiator;
    b->source_version = r->source_version;
    b->overrides = r->overrides;
    b->retry_of = r->retry_of;
    b->batch_uuid = r->batch_uuid;
    b->stop_principal = r->stop_principal;
    b->stop_ms = r->stop_ms;
    b->outcome = r->status;
    b->status = bt_build_status_name(r->status);
    b->status_source = bt_build_status_source_name(r->status_source);
    b->end_ms = r->end_ms;
    b->is_batch = r->is_batch;
}

int bt_build_infer(bt_arena *a, bt_build *b)
{
    if (b->trigger == BT_TRIGGER_NONE || !b->trigger_principal) {
        /* no StartBuild/RetryBuild record: what started it is inferred (a build no API
         * call started was started by its source's webhook, unless EventBridge names
         * who initiated it: a user, as pipelines and webhooks are recognised) */
        b->trigger_inferred = 1;
        if (b->trigger == BT_TRIGGER_NONE) {
            b->trigger = b->initiator && *b->initiator ? BT_TRIGGER_USER : BT_TRIGGER_WEBHOOK;
            b->trigger_type = bt_build_trigger_name(b->trigger);
        }
    }
    if (!b->build_id && b->project &&
        !(b->build_id = bt_arena_sprintf(a, "%s:%s", b->project, b->uuid)))
        return BT_ENOMEM;
    if (!b->start_ms)
        b->start_ms = b->first_call_ms;
    return 0;
}

/* ---- role -> project ---- */

struct bt_build_roles {
    bt_arena *a;
    const char **role, **project;
    size_t n, cap;
};

bt_build_roles *bt_build_roles_new(void)
{
    bt_build_roles *m = calloc(1, sizeof *m);
    if (m && !(m->a = bt_arena_new(1 << 12, 0))) {
        free(m);
        return NULL;
    }
    return m;
}

void bt_build_roles_free(bt_build_roles *m)
{
    if (!m)
        return;
    bt_arena_free(m->a);
    free(m->role);
    free(m->project);
    free(m);
}

static int roles_grow(bt_build_roles *m)
{
    size_t n = m->cap ? m->cap * 2 : 32;
    const char **r = realloc(m->role, n * sizeof *r), **p;
    if (!r)
        return BT_ENOMEM;
    m->role = r;
    if (!(p = realloc(m->project, n * sizeof *p)))
        return BT_ENOMEM;
    m->project = p;
    m->cap = n;
    return 0;
}

/* index of the role named name[0..n), or m->n */
static size_t roles_find(const bt_build_roles *m, const char *name, size_t n)
{
    size_t i;
    for (i = 0; i < m->n; i++)
        if (strlen(m->role[i]) == n && strncmp(m->role[i], name, n) == 0)
            break;
    return i;
}

int bt_build_roles_put(bt_build_roles *m, const char *role, const char *project)
{
    size_t i = roles_find(m, role, strlen(role));
    if (i == m->n) {
        if (m->n == m->cap && roles_grow(m))
            return BT_ENOMEM;
        if (!(m->role[i] = bt_arena_strdup(m->a, role)))
            return BT_ENOMEM;
        m->n++;
    }
    return (m->project[i] = bt_arena_strdup(m->a, project)) ? 0 : BT_ENOMEM;
}

int bt_build_roles_learn(bt_build_roles *m, const bt_event *ev)
{
    bt_arena *tmp;
    bt_build_facts f;
    int rc;

    if (!bt_build_facts_wanted(ev) || ev->build_uuid)
        return 0;
    if (!(tmp = bt_arena_new(1 << 14, 0)))
        return BT_ENOMEM;
    rc = bt_build_facts_of(tmp, ev, &f);
    if (!rc && f.kind == BT_BF_ROLE)
        rc = bt_build_roles_put(m, f.role, f.project);
    bt_arena_free(tmp);
    return rc;
}

const char *bt_build_project_from_role(const bt_build_roles *m, bt_arena *a, const char *arn)
{
    const char *p = arn ? strstr(arn, ":assumed-role/") : NULL, *e;
    size_t n, i;
    if (!p)
        return NULL;
    p += 14;
    e = strchr(p, '/');
    n = e ? (size_t)(e - p) : strlen(p);
    if (m && (i = roles_find(m, p, n)) < m->n)
        return m->project[i];
    /* "codebuild-web-api-service-role" -> "web-api" (the console's naming of CodeBuild
     * service roles; a guess, used only when no record names the project) */
    if (e && n > 10 + 13 && strncmp(p, "codebuild-", 10) == 0 &&
        strncmp(e - 13, "-service-role", 13) == 0)
        return bt_arena_strndup(a, p + 10, n - 23);
    return NULL;
}
