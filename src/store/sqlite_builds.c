/*
 * sqlite_builds.c - the SQLite backend's builds: the lifecycle facts of each build
 * merged into its `builds` row at ingest (policy in core/build_merge.c), each project's
 * service role in `roles`, and the builds listing (bt_store_builds_find) that unites
 * those rows with what each build's role session did. Shares the store's internals
 * through sqlite_int.h.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/codebuild.h"
#include "buildtrail/json.h"
#include "store/sqlite_int.h"

/* ---- builds: lifecycle facts merged per build (policy in core/build_merge.c) -------- */

/* The builds table's columns, in bt_build_row order; account and region are given
 * separately so a listing can fill them from the build's calls. */
#define BCOLS_HEAD "b.uuid, b.build_id, b.project, "
#define BCOLS_TAIL                                                                                 \
    "b.number, b.start_ms, b.trigger_type, b.trigger_principal, b.initiator,"                      \
    " b.source_version, b.overrides, b.retry_of, b.batch_uuid, b.stop_principal, b.stop_ms,"       \
    " b.status, b.status_source, b.status_ms, b.end_ms, b.is_batch"
#define BCOLS_N 21

static const char *acol(bt_arena *a, sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? bt_arena_strdup(a, (const char *)t) : NULL;
}

int64_t icol(sqlite3_stmt *st, int i, int64_t null)
{
    return sqlite3_column_type(st, i) == SQLITE_NULL ? null : sqlite3_column_int64(st, i);
}

/* Reads the BCOLS_N columns of a builds row into r, strings copied into a. */
static void read_row(bt_arena *a, sqlite3_stmt *st, bt_build_row *r)
{
    bt_build_row_init(r);
    r->uuid = acol(a, st, 0);
    r->build_id = acol(a, st, 1);
    r->project = acol(a, st, 2);
    r->account = acol(a, st, 3);
    r->region = acol(a, st, 4);
    r->number = icol(st, 5, -1);
    r->start_ms = icol(st, 6, 0);
    r->trigger = bt_build_trigger_parse((const char *)sqlite3_column_text(st, 7));
    r->trigger_principal = acol(a, st, 8);
    r->initiator = acol(a, st, 9);
    r->source_version = acol(a, st, 10);
    r->overrides = acol(a, st, 11);
    r->retry_of = acol(a, st, 12);
    r->batch_uuid = acol(a, st, 13);
    r->stop_principal = acol(a, st, 14);
    r->stop_ms = icol(st, 15, 0);
    r->status = bt_build_status_parse((const char *)sqlite3_column_text(st, 16));
    r->status_source = bt_build_status_source_parse((const char *)sqlite3_column_text(st, 17));
    r->status_ms = icol(st, 18, 0);
    r->end_ms = icol(st, 19, 0);
    r->is_batch = (int)icol(st, 20, 0);
}

void bind_text(sqlite3_stmt *st, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, i);
}

/* an integer column whose unknown value (none) is stored as NULL */
static void bind_known(sqlite3_stmt *st, int i, int64_t v, int64_t none)
{
    if (v != none)
        sqlite3_bind_int64(st, i, v);
    else
        sqlite3_bind_null(st, i);
}

static void bind_row(sqlite3_stmt *st, const bt_build_row *r)
{
    bind_text(st, 1, r->uuid);
    bind_text(st, 2, r->build_id);
    bind_text(st, 3, r->project);
    bind_text(st, 4, r->account);
    bind_text(st, 5, r->region);
    bind_known(st, 6, r->number, -1);
    bind_known(st, 7, r->start_ms, 0);
    bind_text(st, 8, bt_build_trigger_name(r->trigger));
    bind_text(st, 9, r->trigger_principal);
    bind_text(st, 10, r->initiator);
    bind_text(st, 11, r->source_version);
    bind_text(st, 12, r->overrides);
    bind_text(st, 13, r->retry_of);
    bind_text(st, 14, r->batch_uuid);
    bind_text(st, 15, r->stop_principal);
    bind_known(st, 16, r->stop_ms, 0);
    bind_text(st, 17, bt_build_status_name(r->status));
    bind_text(st, 18, bt_build_status_source_name(r->status_source));
    bind_known(st, 19, r->status_ms, 0);
    bind_known(st, 20, r->end_ms, 0);
    bind_known(st, 21, r->is_batch, 0);
}

/* `roles`: project f->project runs as service role f->role, unless the row holds a
 * later change (of two at the same time, the one stored last). */
static int note_role(bt_store *s, const bt_build_facts *f, bt_error *err)
{
    int rc;
    if ((rc = prep(s, &s->st_ins_role,
                   "INSERT INTO roles(role, project, t) VALUES(?,?,?) ON CONFLICT(role)"
                   " DO UPDATE SET project = excluded.project, t = excluded.t"
                   " WHERE excluded.t >= roles.t",
                   err)))
        return rc;
    sqlite3_bind_text(s->st_ins_role, 1, f->role, -1, SQLITE_STATIC);
    sqlite3_bind_text(s->st_ins_role, 2, f->project, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s->st_ins_role, 3, f->time_ms);
    rc = sqlite3_step(s->st_ins_role) == SQLITE_DONE ? 0 : db_err(s, err, "record role");
    sqlite3_reset(s->st_ins_role);
    return rc;
}

/* Merges the facts of one new event into its build's row, or `roles`. Uses s->arena
 * (the caller resets it). */
int merge_build(bt_store *s, const bt_build_facts *f, bt_error *err)
{
    static const char *sel =
        "SELECT " BCOLS_HEAD "b.account, b.region, " BCOLS_TAIL " FROM builds b WHERE b.uuid=?";
    static const char *ins =
        "INSERT OR REPLACE INTO builds(uuid, build_id, project, account, region, number,"
        " start_ms, trigger_type, trigger_principal, initiator, source_version, overrides,"
        " retry_of, batch_uuid, stop_principal, stop_ms, status, status_source, status_ms,"
        " end_ms, is_batch) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
    bt_build_row r;
    int rc;

    if (f->kind == BT_BF_ROLE && f->role && f->project)
        return note_role(s, f, err);
    if (f->kind == BT_BF_NONE || !f->uuid)
        return 0;
    if ((rc = prep(s, &s->st_sel_build, sel, err)) || (rc = prep(s, &s->st_ins_build, ins, err)))
        return rc;
    bt_build_row_init(&r);
    sqlite3_bind_text(s->st_sel_build, 1, f->uuid, -1, SQLITE_STATIC);
    if (sqlite3_step(s->st_sel_build) == SQLITE_ROW)
        read_row(s->arena, s->st_sel_build, &r);
    sqlite3_reset(s->st_sel_build);
    bt_build_merge(&r, f);
    bind_row(s->st_ins_build, &r);
    rc = sqlite3_step(s->st_ins_build) == SQLITE_DONE ? 0 : db_err(s, err, "record build");
    sqlite3_reset(s->st_ins_build);
    return rc;
}

int roles_fill(bt_store *s, bt_error *err)
{
    /* the rows of successful CreateProject / UpdateProject calls (each names its project:
     * a row of `evrows`, ROW_IN_EVROWS) */
    static const char *sql =
        "SELECT r.t, r.blk, r.off, r.len, p.s FROM evrows r JOIN strs p ON p.id = r.project"
        " WHERE r.kind = 0 AND r.err IS NULL AND r.src = (SELECT id FROM strs WHERE s ="
        " 'codebuild.amazonaws.com') AND r.name IN (SELECT id FROM strs WHERE s IN"
        " ('CreateProject', 'UpdateProject')) ORDER BY r.t, r.id";
    sqlite3_stmt *st = NULL;
    int rc = 0, step = SQLITE_DONE;

    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "upgrade roles");
    while (!rc && (step = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t off = sqlite3_column_int64(st, 2), len = sqlite3_column_int64(st, 3);
        const bt_buf *blk = NULL;
        bt_json *rec = NULL;
        bt_build_facts f;

        if (off < 0 || len < 0 ||
            (rc = load_block(s, sqlite3_column_int64(st, 1), (size_t)(off + len), &blk, err)))
            break;
        if ((size_t)(off + len) > blk->len) {
            rc = corrupt_err(s->path, err, "a row points past its block");
            break;
        }
        bt_arena_reset(s->arena);
        memset(&f, 0, sizeof f);
        f.kind = BT_BF_ROLE;
        f.project = (const char *)sqlite3_column_text(st, 4);
        f.time_ms = sqlite3_column_int64(st, 0);
        if (bt_json_parse(s->arena, blk->data + off, (size_t)len, NULL, &rec, NULL) == 0 &&
            (f.role = bt_codebuild_service_role(rec)) && f.project)
            rc = note_role(s, &f, err);
    }
    if (!rc && step != SQLITE_DONE)
        rc = db_err(s, err, "upgrade roles");
    load_blocks_done(s);
    sqlite3_finalize(st);
    return rc;
}

/* ---- builds query ------------------------------------------------------------------ */

/*
 * A build is listed from its builds row, from the calls its role session made (the
 * `actor` index: a webhook build may have nothing else), or both. One statement
 * unites the two, fills what the row lacks from the calls, and applies the query's
 * conditions and order; the project of a build known only from its calls is guessed
 * from its role (bt_build_project_from_role), so a project condition keeps those rows
 * in SQL and is decided in memory after the guess.
 */

/* columns of the listing: the BCOLS_N row columns, then the session's aggregate */
enum { L_CALLS = BCOLS_N, L_ERRS, L_T0, L_T1, L_AID, L_PRI };

/* A listed build's role session: its actor id (0 when none) and caller ARN (when known). */
typedef struct bsess {
    int64_t aid;
    const char *pri;
    int64_t start;    /* the listing's order: start time (else first call) descending, */
    const char *uuid; /* then uuid */
} bsess;

typedef struct blist {
    bt_build *v;
    bsess *ses; /* per build */
    size_t n, cap;
} blist;

static bt_build *blist_push(blist *l, int64_t aid, const char *pri)
{
    if (l->n == l->cap) {
        size_t n = l->cap ? l->cap * 2 : 256;
        bt_build *v = realloc(l->v, n * sizeof *v);
        bsess *ses = v ? realloc(l->ses, n * sizeof *ses) : NULL;
        if (v)
            l->v = v;
        if (!ses)
            return NULL;
        l->ses = ses;
        l->cap = n;
    }
    memset(&l->v[l->n], 0, sizeof l->v[0]);
    l->ses[l->n].aid = aid;
    l->ses[l->n].pri = pri;
    return &l->v[l->n++];
}

static int cmp_listed(const void *x, const void *y)
{
    const bsess *a = *(const bsess *const *)x, *b = *(const bsess *const *)y;
    if (a->start != b->start)
        return a->start > b->start ? -1 : 1;
    return strcmp(a->uuid, b->uuid);
}

/* Puts l in the listing's order (the SQL's "ORDER BY start DESC, uuid" when it had no
 * LIMIT): newest start first, then by uuid. */
static int blist_sort(blist *l, bt_error *err)
{
    const bsess **order;
    bt_build *v;
    bsess *ses;
    size_t i;

    if (l->n < 2)
        return 0;
    order = malloc(l->n * sizeof *order);
    v = malloc(l->n * sizeof *v);
    ses = malloc(l->n * sizeof *ses);
    if (!order || !v || !ses) {
        free(order);
        free(v);
        free(ses);
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    for (i = 0; i < l->n; i++)
        order[i] = &l->ses[i];
    qsort(order, l->n, sizeof *order, cmp_listed);
    for (i = 0; i < l->n; i++) {
        size_t from = (size_t)(order[i] - l->ses);
        v[i] = l->v[from];
        ses[i] = l->ses[from];
    }
    free(order);
    free(l->v);
    free(l->ses);
    l->v = v;
    l->ses = ses;
    l->cap = l->n;
    return 0;
}

/* " AND (expr IN (?, ...)" (the caller closes the parenthesis) */
static void cond_list(sqlq *q, const char *expr, const char *const *v, size_t n)
{
    size_t i;
    bt_buf_printf(&q->sql, " AND (%s IN (", expr);
    for (i = 0; i < n; i++) {
        bt_buf_puts(&q->sql, i ? ",?" : "?");
        add_bind(q, 1, 0, v[i]);
    }
    bt_buf_puts(&q->sql, ")");
}

static void builds_from(sqlq *q, const char *uuid)
{
    /* what each build's role session did: its sessions row (kept by ingest), joined
     * directly (a CTE used twice would be materialized and indexed on every listing) */
    bt_buf_puts(
        &q->sql,
        "WITH lst AS (SELECT " BCOLS_HEAD
        "coalesce(b.account, (SELECT s FROM strs WHERE id = g.account)) AS account,"
        " coalesce(b.region, (SELECT s FROM strs WHERE id = g.region)) AS region, " BCOLS_TAIL
        ", g.calls, g.errs, g.t0, g.t1, g.actor AS aid, g.principal AS pri"
        " FROM builds b LEFT JOIN strs u ON u.s = b.uuid"
        " LEFT JOIN sessions g ON g.actor = u.id");
    if (uuid) {
        bt_buf_puts(&q->sql, " WHERE b.uuid = ?");
        add_bind(q, 1, 0, uuid);
    }
    bt_buf_puts(
        &q->sql,
        " UNION ALL SELECT u.s, NULL, NULL,"
        " (SELECT s FROM strs WHERE id = g.account), (SELECT s FROM strs WHERE id = g.region),"
        " NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,"
        " NULL, NULL, NULL, g.calls, g.errs, g.t0, g.t1, g.actor, g.principal"
        " FROM sessions g JOIN strs u ON u.id = g.actor WHERE");
    if (uuid) {
        bt_buf_puts(&q->sql, " u.s = ? AND");
        add_bind(q, 1, 0, uuid);
    }
    bt_buf_puts(&q->sql, " NOT EXISTS (SELECT 1 FROM builds WHERE uuid = u.s))"
                         " SELECT * FROM lst l WHERE 1");
}

/* The WHERE conditions of q. *residual = 1 when a condition is left to memory. */
static void builds_where(sqlq *q, const bt_build_query *bq, int *residual)
{
    static const char *start = "coalesce(nullif(l.start_ms, 0), l.t0, 0)";
    size_t i;

    *residual = 0;
    if (bq->n_projects) {
        /* a build known only from its calls: its project is guessed after the query */
        cond_list(q, "l.project", bq->projects, bq->n_projects);
        bt_buf_puts(&q->sql, " OR (l.project IS NULL AND l.aid IS NOT NULL))");
        *residual = 1;
    }
    if (bq->n_accounts) {
        cond_list(q, "l.account", bq->accounts, bq->n_accounts);
        bt_buf_puts(&q->sql, ")");
    }
    if (bq->n_regions) {
        cond_list(q, "l.region", bq->regions, bq->n_regions);
        bt_buf_puts(&q->sql, ")");
    }
    if (bq->n_statuses) {
        cond_list(q, "l.status", bq->statuses, bq->n_statuses);
        for (i = 0; i < bq->n_statuses; i++)
            if (strcmp(bq->statuses[i], "UNKNOWN") == 0) {
                bt_buf_puts(&q->sql, " OR l.status IS NULL");
                break;
            }
        bt_buf_puts(&q->sql, ")");
    }
    if (bq->n_triggers) {
        cond_list(q, "coalesce(l.trigger_type, 'webhook')", bq->triggers, bq->n_triggers);
        bt_buf_puts(&q->sql, ")");
    }
    if (bq->n_initiators) {
        bt_buf_puts(&q->sql, " AND (0");
        for (i = 0; i < bq->n_initiators; i++) {
            bt_buf_puts(&q->sql,
                        " OR instr(l.trigger_principal, ?) > 0 OR instr(l.initiator, ?) > 0");
            add_bind(q, 1, 0, bq->initiators[i]);
            add_bind(q, 1, 0, bq->initiators[i]);
        }
        bt_buf_puts(&q->sql, ")");
    }
    if (bq->start_ms != INT64_MIN) {
        bt_buf_printf(&q->sql, " AND %s >= ?", start);
        add_bind(q, 0, bq->start_ms, NULL);
    }
    if (bq->end_ms != INT64_MAX) {
        bt_buf_printf(&q->sql, " AND %s <= ?", start);
        add_bind(q, 0, bq->end_ms, NULL);
    }
    if (bq->errors_only)
        bt_buf_puts(&q->sql, " AND l.errs > 0");
    /* the whole listing is sorted in memory (blist_sort): SQLite's sorter copied every
     * wide row once more, 16 MB for 12,000 builds */
    if (bq->limit && !*residual) {
        bt_buf_printf(&q->sql, " ORDER BY %s DESC, l.uuid LIMIT ?", start);
        add_bind(q, 0, (int64_t)bq->limit, NULL);
    }
}

/* Runs the listing statement into l (strings in a). */
static int builds_select(bt_store *s, const bt_build_query *bq, bt_arena *a, blist *l,
                         int *residual, bt_error *err)
{
    sqlq q;
    sqlite3_stmt *st = NULL;
    int rc = 0, step;

    memset(&q, 0, sizeof q);
    builds_from(&q, bq->uuid);
    builds_where(&q, bq, residual);
    if (!q.sql.data || q.oom) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = prepare_query(s, &q, &st, err)))
        goto done;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        bt_build_row r;
        bt_build *b = blist_push(l, icol(st, L_AID, 0), acol(a, st, L_PRI));
        if (!b) {
            rc = bt_error_set(err, BT_ENOMEM, "out of memory");
            goto done;
        }
        read_row(a, st, &r);
        l->ses[l->n - 1].start = r.start_ms ? r.start_ms : icol(st, L_T0, 0);
        l->ses[l->n - 1].uuid = r.uuid ? r.uuid : "";
        bt_build_from_row(b, &r);
        b->calls = (uint64_t)icol(st, L_CALLS, 0);
        b->errors = (uint64_t)icol(st, L_ERRS, 0);
        b->first_call_ms = icol(st, L_T0, 0);
        b->last_call_ms = icol(st, L_T1, 0);
    }
    if (step != SQLITE_DONE)
        rc = db_err(s, err, "builds");
    else
        rc = blist_sort(l, err);
done:
    sqlite3_finalize(st);
    bt_buf_dispose(&q.sql);
    free(q.binds);
    return rc;
}

/* The caller ARN of one call made by the session with actor id aid (from its record):
 * the one nearest its block's start, which ingest put in the block's first frame. */
static const char *actor_principal(bt_store *s, bt_arena *a, int64_t aid)
{
    sqlite3_stmt *st = NULL;
    const char *arn = NULL;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT blk, off, len FROM evrows WHERE actor = ? ORDER BY off LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_int64(st, 1, aid);
    if (sqlite3_step(st) == SQLITE_ROW) {
        const bt_buf *blk = NULL;
        int64_t off = sqlite3_column_int64(st, 1), len = sqlite3_column_int64(st, 2);
        bt_json *rec;
        if (off >= 0 && len >= 0 &&
            load_block(s, sqlite3_column_int64(st, 0), (size_t)(off + len), &blk, NULL) == 0 &&
            (size_t)(off + len) <= blk->len &&
            bt_json_parse(a, blk->data + off, (size_t)len, NULL, &rec, NULL) == 0)
            arn = bt_json_get_str(bt_json_get(rec, "userIdentity"), "arn");
    }
    load_blocks_done(s);
    sqlite3_finalize(st);
    return arn;
}

/* Which project uses which service role: `roles` (what the project records said last;
 * kept by ingest, filled from the records by the upgrade to schema 15). */
static int load_roles(bt_store *s, bt_build_roles **out, bt_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = 0, step = SQLITE_DONE;

    if (!(*out = bt_build_roles_new()))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if (sqlite3_prepare_v2(s->db, "SELECT role, project FROM roles", -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "read roles");
    while ((step = sqlite3_step(st)) == SQLITE_ROW && !rc) {
        const char *role = (const char *)sqlite3_column_text(st, 0),
                   *project = (const char *)sqlite3_column_text(st, 1);
        if (role && project && bt_build_roles_put(*out, role, project))
            rc = bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    if (!rc && step != SQLITE_DONE)
        rc = db_err(s, err, "read roles");
    sqlite3_finalize(st);
    return rc;
}

/* A later build that retried b. */
static void find_retry(bt_store *s, bt_build *b)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, "SELECT uuid FROM builds WHERE retry_of = ? LIMIT 1", -1, &st,
                           NULL) == SQLITE_OK) {
        sqlite3_bind_text(st, 1, b->build_id, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
            snprintf(b->retried_as, sizeof b->retried_as, "%s",
                     (const char *)sqlite3_column_text(st, 0));
    }
    sqlite3_finalize(st);
}

/* Completes l[i] (project guess, inferences); *keep = 0 when q rejects it after all. */
static int builds_complete(bt_store *s, const bt_build_query *q, bt_arena *a, blist *l, size_t i,
                           bt_build_roles **roles, int residual, int *keep, bt_error *err)
{
    bt_build *b = &l->v[i];
    int rc;

    if (!b->project && l->ses[i].aid) {
        const char *arn = l->ses[i].pri ? l->ses[i].pri : actor_principal(s, a, l->ses[i].aid);
        if (!*roles && (rc = load_roles(s, roles, err)))
            return rc;
        b->project = bt_build_project_from_role(*roles, a, arn);
    }
    if (bt_build_infer(a, b))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    *keep = !residual || bt_build_query_match(q, b);
    return 0;
}

int bt_store_builds_find(bt_store *s, const bt_build_query *q,
                         int (*fn)(void *ctx, const bt_build *b), void *ctx, bt_error *err)
{
    bt_arena *a = bt_arena_new(1 << 16, 0);
    bt_build_roles *roles = NULL;
    blist l;
    size_t i, n = 0;
    int rc, residual = 0, keep = 0;

    memset(&l, 0, sizeof l);
    if (!a)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if ((rc = builds_select(s, q, a, &l, &residual, err)))
        goto done;
    /* completed in order first: a callback may use the store */
    for (i = 0; i < l.n && (!q->limit || n < q->limit); i++) {
        if ((rc = builds_complete(s, q, a, &l, i, &roles, residual, &keep, err)))
            goto done;
        if (keep)
            l.v[n++] = l.v[i];
    }
    if (q->uuid && n == 1 && l.v[0].build_id)
        find_retry(s, &l.v[0]);
    for (i = 0; i < n; i++)
        if ((rc = fn(ctx, &l.v[i])))
            break;
done:
    free(l.v);
    free(l.ses);
    bt_build_roles_free(roles);
    bt_arena_free(a);
    return rc;
}

int bt_store_builds(bt_store *s, const char *uuid, int (*fn)(void *ctx, const bt_build *b),
                    void *ctx, bt_error *err)
{
    bt_build_query q;
    bt_build_query_init(&q);
    q.uuid = uuid;
    return bt_store_builds_find(s, &q, fn, ctx, err);
}

int bt_store_previous_build(bt_store *s, const char *project, const char *account,
                            int64_t before_ms, char uuid[37], int64_t *start_ms, bt_error *err)
{
    sqlite3_stmt *st = NULL;
    int rc = BT_ENOTFOUND;
    if (sqlite3_prepare_v2(s->db,
                           "SELECT uuid, start_ms FROM builds WHERE project = ?1 AND start_ms < ?2"
                           " AND (?3 IS NULL OR account = ?3) AND coalesce(is_batch, 0) = 0"
                           " ORDER BY start_ms DESC LIMIT 1",
                           -1, &st, NULL) != SQLITE_OK)
        return db_err(s, err, "previous build");
    sqlite3_bind_text(st, 1, project, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, before_ms);
    if (account)
        sqlite3_bind_text(st, 3, account, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, 3);
    if (sqlite3_step(st) == SQLITE_ROW) {
        snprintf(uuid, 37, "%s", (const char *)sqlite3_column_text(st, 0));
        *start_ms = sqlite3_column_int64(st, 1);
        rc = 0;
    }
    sqlite3_finalize(st);
    return rc;
}
