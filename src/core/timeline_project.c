/* timeline_project.c - the project's side of a build's timeline: its definition as it
 * stood before the build (CreateProject / UpdateProject merged in order), each change in
 * the window with its differences, and the start request's overrides compared with the
 * project's own settings. */
#include <stdio.h>
#include <string.h>

#include "timeline_int.h"

const char *tl_compact(bt_arena *a, const bt_json *v, int *oom)
{
    bt_buf b = BT_BUF_INIT;
    bt_json_write_opts wo = {0, 0};
    char *r;
    if (!v)
        return NULL;
    if (v->type == BT_JSON_STRING)
        r = bt_arena_strndup(a, v->u.str, v->len);
    else {
        bt_json_write(&b, v, &wo);
        r = bt_arena_strndup(a, b.data ? b.data : "", b.len);
        bt_buf_dispose(&b);
    }
    if (!r)
        *oom = 1;
    return r;
}

static int add_change(bt_arena *a, tl_vec *diffs, const char *field, const bt_json *old,
                      const bt_json *new)
{
    bt_timeline_diff *d = tl_vec_push(a, diffs, sizeof *d);
    int oom = 0;
    if (!d || !(d->field = bt_arena_strdup(a, field)))
        return BT_ENOMEM;
    d->old_value = tl_compact(a, old, &oom);
    d->new_value = tl_compact(a, new, &oom);
    return oom ? BT_ENOMEM : 0;
}

static const bt_json *env_named(const bt_json *list, const char *n)
{
    const bt_json *found = NULL;
    size_t j;
    for (j = 0; n && list && list->type == BT_JSON_ARRAY && j < list->len; j++)
        if (bt_json_is_str(bt_json_get(list->u.items[j], "name"), n))
            found = list->u.items[j];
    return found;
}

/* environmentVariables: list of {name, value, type} -> per-name differences */
static int diff_env(bt_arena *a, tl_vec *diffs, const bt_json *old, const bt_json *new)
{
    char field[256];
    size_t i;
    int rc;
    if (new &&new->type == BT_JSON_ARRAY)
        for (i = 0; i < new->len; i++) {
            const bt_json *nv = new->u.items[i], *ov;
            const char *n = bt_json_get_str(nv, "name");
            if (!n)
                continue;
            ov = env_named(old, n);
            if (ov && bt_json_equal(bt_json_get(ov, "value"), bt_json_get(nv, "value")) &&
                bt_json_equal(bt_json_get(ov, "type"), bt_json_get(nv, "type")))
                continue;
            snprintf(field, sizeof field, "environment variable %s", n);
            if ((rc = add_change(a, diffs, field, ov ? bt_json_get(ov, "value") : NULL,
                                 bt_json_get(nv, "value"))))
                return rc;
        }
    if (old && old->type == BT_JSON_ARRAY && new)
        for (i = 0; i < old->len; i++) {
            const char *n = bt_json_get_str(old->u.items[i], "name");
            if (!n || (new->type == BT_JSON_ARRAY &&env_named(new, n)))
                continue;
            snprintf(field, sizeof field, "environment variable %s", n);
            if ((rc = add_change(a, diffs, field, bt_json_get(old->u.items[i], "value"), NULL)))
                return rc;
        }
    return 0;
}

/* The settings a CreateProject is summarised by (an update lists every change). */
static int key_setting(const char *field)
{
    static const char *const keys[] = {
        "source.type",       "source.location",         "source.buildspec",
        "environment.image", "environment.computeType", "environment.privilegedMode",
        "serviceRole",       "projectVisibility",       "sourceVersion"};
    size_t i;
    if (strncmp(field, "environment variable", 20) == 0)
        return 1;
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (strcmp(field, keys[i]) == 0)
            return 1;
    return 0;
}

/* Drops the non-key entries of a CreateProject's list of settings. */
static void keep_key_settings(tl_vec *diffs)
{
    bt_timeline_diff *d = diffs->v;
    size_t i, n = 0;
    for (i = 0; i < diffs->n; i++)
        if (key_setting(d[i].field))
            d[n++] = d[i];
    diffs->n = n;
}

/* Merges a nested section (environment, source) member by member. */
static int merge_section(bt_arena *a, bt_json *state, const bt_json_member *m, tl_vec *diffs)
{
    bt_json *old = bt_json_getn(state, m->key, m->key_len);
    bt_json *sub = old && old->type == BT_JSON_OBJECT ? old : NULL;
    size_t k;
    int rc;
    if (!sub) {
        sub = bt_json_new_object(a, 8);
        if (!sub || bt_json_object_put(a, state, m->key, m->key_len, sub))
            return BT_ENOMEM;
    }
    for (k = 0; k < m->value->len; k++) {
        const bt_json_member *n = &m->value->u.members[k];
        bt_json *o2 = bt_json_getn(sub, n->key, n->key_len);
        char field[128];
        if (diffs && !bt_json_equal(o2, n->value)) {
            if (strcmp(n->key, "environmentVariables") == 0)
                rc = diff_env(a, diffs, o2, n->value);
            else {
                snprintf(field, sizeof field, "%s.%s", m->key, n->key);
                rc = add_change(a, diffs, field, o2, n->value);
            }
            if (rc)
                return rc;
        }
        if (o2)
            *o2 = *n->value;
        else if (bt_json_object_put(a, sub, n->key, n->key_len, n->value))
            return BT_ENOMEM;
    }
    return 0;
}

/* Merges a project definition (request or response "project") into state, recording
 * differences; nested environment/source objects are compared member by member. */
static int merge_project(bt_arena *a, bt_json *state, const bt_json *def, tl_vec *diffs)
{
    size_t i;
    int rc;
    for (i = 0; def && def->type == BT_JSON_OBJECT && i < def->len; i++) {
        const bt_json_member *m = &def->u.members[i];
        bt_json *old = bt_json_getn(state, m->key, m->key_len);
        if (strcmp(m->key, "name") == 0 || strcmp(m->key, "arn") == 0 ||
            strcmp(m->key, "created") == 0 || strcmp(m->key, "lastModified") == 0 ||
            strcmp(m->key, "awsActId") == 0)
            continue;
        if ((strcmp(m->key, "environment") == 0 || strcmp(m->key, "source") == 0) &&
            m->value->type == BT_JSON_OBJECT) {
            if ((rc = merge_section(a, state, m, diffs)))
                return rc;
            continue;
        }
        if (diffs && !bt_json_equal(old, m->value) &&
            (rc = add_change(a, diffs, m->key, old, m->value)))
            return rc;
        if (old)
            *old = *m->value;
        else if (bt_json_object_put(a, state, m->key, m->key_len, m->value))
            return BT_ENOMEM;
    }
    return 0;
}

static int is(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

/* the differences a change record makes (definitions merged into the project's state);
 * diffs NULL: merged only (a definition before the window) */
static int change_diffs(tl_ctx *c, const char *name, const bt_json *rec, tl_vec *diffs)
{
    const bt_json *req = bt_json_get(rec, "requestParameters");
    const bt_json *resp = bt_json_get(bt_json_get(rec, "responseElements"), "project");
    size_t i;
    int rc;
    if (is(name, "CreateProject") || is(name, "UpdateProject")) {
        /* the response holds the whole project when logged; the request what changed */
        if ((rc = merge_project(c->a, c->project_state, resp ? resp : req, diffs)))
            return rc;
        if (resp && req && (rc = merge_project(c->a, c->project_state, req, NULL)))
            return rc;
        if (diffs && is(name, "CreateProject"))
            keep_key_settings(diffs);
        return 0;
    }
    for (i = 0; req && req->type == BT_JSON_OBJECT && i < req->len; i++) {
        const bt_json_member *m = &req->u.members[i];
        if (is(m->key, "token") || is(m->key, "projectName") || is(m->key, "projectArn"))
            continue; /* a source credential's token is never shown */
        if ((rc = add_change(c->a, diffs, m->key, NULL, m->value)))
            return rc;
    }
    return 0;
}

static const char *copy(bt_arena *a, const char *s, int *oom)
{
    char *r = s ? bt_arena_strdup(a, s) : NULL;
    if (s && !r)
        *oom = 1;
    return r;
}

int tl_on_project_event(void *ctx, const bt_event *ev, const bt_store_pos *pos)
{
    tl_ctx *c = ctx;
    const bt_build *b = &c->t->build;
    bt_timeline_change *ch;
    tl_vec diffs;
    bt_json *rec;
    int rc, oom = 0;

    (void)pos;
    if (ev->error_code)
        return 0; /* a failed change changed nothing */
    /* project changes are searched by name and project (or none named); source
     * credentials, searched by name only, belong to no project */
    if (ev->project && b->project && strcmp(ev->project, b->project) != 0)
        return 0;
    if (bt_json_parse(c->a, ev->raw, ev->raw_len, NULL, &rec, NULL))
        return 0;
    memset(&diffs, 0, sizeof diffs);
    if ((rc = change_diffs(c, ev->event_name, rec, &diffs)))
        return rc;
    if (!(ch = tl_vec_push(c->a, &c->changes, sizeof *ch)))
        return BT_ENOMEM;
    ch->time_ms = ev->time_ms;
    ch->event_name = copy(c->a, ev->event_name, &oom);
    ch->by = copy(c->a, ev->principal_arn, &oom);
    ch->event_id = copy(c->a, ev->event_id, &oom);
    ch->diffs = diffs.v;
    ch->n_diffs = diffs.n;
    return oom ? BT_ENOMEM : 0;
}

/* One definition read newest first, before the window. */
typedef struct tl_def {
    const char *name; /* "CreateProject" or "UpdateProject" (static) */
    const bt_json *rec;
} tl_def;

int tl_on_project_base(void *ctx, const bt_event *ev, const bt_store_pos *pos)
{
    tl_ctx *c = ctx;
    const bt_build *b = &c->t->build;
    tl_def *d;
    bt_json *rec;
    int created;

    c->defs_pos = *pos;
    c->defs_read++;
    if (ev->error_code || (ev->project && b->project && strcmp(ev->project, b->project) != 0))
        return 0;
    if (bt_json_parse(c->a, ev->raw, ev->raw_len, NULL, &rec, NULL))
        return 0;
    if (!(d = tl_vec_push(c->a, &c->defs, sizeof *d)))
        return BT_ENOMEM;
    created = is(ev->event_name, "CreateProject");
    d->name = created ? "CreateProject" : "UpdateProject";
    d->rec = rec;
    /* a created project, or a response holding the whole project: nothing older counts */
    return created || bt_json_get(bt_json_get(rec, "responseElements"), "project")
               ? TL_BASE_FOUND
               : 0;
}

int tl_project_base_apply(tl_ctx *c)
{
    const tl_def *v = c->defs.v;
    size_t i;
    int rc;
    for (i = c->defs.n; i-- > 0;) /* before the window: merged, no differences shown */
        if ((rc = change_diffs(c, v[i].name, v[i].rec, NULL)))
            return rc;
    return 0;
}

/* one override, compared with the project's value proj (NULL when not set) */
static int add_override(tl_ctx *c, const char *name, const bt_json *value, const bt_json *proj)
{
    bt_timeline_override *o = tl_vec_push(c->a, &c->overrides, sizeof *o);
    int oom = 0;
    if (!o || !(o->name = bt_arena_strdup(c->a, name)))
        return BT_ENOMEM;
    o->value = tl_compact(c->a, value, &oom);
    o->project_value = tl_compact(c->a, proj, &oom);
    o->changes_project = !proj || !bt_json_equal(proj, value);
    return oom ? BT_ENOMEM : 0;
}

static int env_overrides(tl_ctx *c, const bt_json *list)
{
    const bt_json *pv =
        bt_json_get(bt_json_get(c->project_state, "environment"), "environmentVariables");
    size_t k;
    int rc;
    for (k = 0; k < list->len; k++) {
        const bt_json *v = list->u.items[k], *old;
        const char *n = bt_json_get_str(v, "name");
        char name[256];
        old = n ? env_named(pv, n) : NULL;
        snprintf(name, sizeof name, "environment variable %s", n ? n : "?");
        if ((rc = add_override(c, name, bt_json_get(v, "value"),
                               old ? bt_json_get(old, "value") : NULL)))
            return rc;
    }
    return 0;
}

int tl_overrides(tl_ctx *c)
{
    static const struct {
        const char *override, *section, *field;
    } map[] = {
        {"buildspecOverride", "source", "buildspec"},
        {"imageOverride", "environment", "image"},
        {"computeTypeOverride", "environment", "computeType"},
        {"environmentTypeOverride", "environment", "type"},
        {"privilegedModeOverride", "environment", "privilegedMode"},
        {"serviceRoleOverride", NULL, "serviceRole"},
        {"sourceLocationOverride", "source", "location"},
        {"sourceTypeOverride", "source", "type"},
        {"timeoutInMinutesOverride", NULL, "timeoutInMinutes"},
        {"sourceVersion", NULL, "sourceVersion"},
    };
    const bt_json *req = c->trigger_request;
    size_t i, k;
    int rc;

    for (i = 0; req && req->type == BT_JSON_OBJECT && i < req->len; i++) {
        const bt_json_member *m = &req->u.members[i];
        const bt_json *proj = NULL;
        int known = 0;
        if (is(m->key, "environmentVariablesOverride") && m->value->type == BT_JSON_ARRAY) {
            if ((rc = env_overrides(c, m->value)))
                return rc;
            continue;
        }
        for (k = 0; k < sizeof map / sizeof map[0]; k++)
            if (is(m->key, map[k].override)) {
                const bt_json *sec = map[k].section ? bt_json_get(c->project_state, map[k].section)
                                                    : c->project_state;
                proj = bt_json_get(sec, map[k].field);
                known = 1;
            }
        if (!known && (m->key_len < 8 || strcmp(m->key + m->key_len - 8, "Override") != 0))
            continue;
        if ((rc = add_override(c, m->key, m->value, proj)))
            return rc;
    }
    return 0;
}
