/*
 * sqlite_fn.c - the SQL functions the store registers on open (register_functions): the
 * keys, filters, name sets, span classes and time directories the schema's upgrades
 * build from the rows already stored, as an ingest would have built them (sqlite.c's
 * migrations), and the summaries' test searches use (bt_bloom_match, sqlite_read.c).
 */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/buf.h"
#include "store/bloom.h"
#include "store/sqlite_int.h"

/* SQL bt_rkey(tag, v): the summary key (bloom.h) of resource field tag whose value is v,
 * given as its 31-bit hash (an integer) or as text. */
static void sql_rkey(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    int64_t h;
    (void)argc;
    if (sqlite3_value_type(argv[1]) == SQLITE_INTEGER)
        h = sqlite3_value_int64(argv[1]);
    else if (sqlite3_value_type(argv[1]) == SQLITE_TEXT)
        h = h31((const char *)sqlite3_value_text(argv[1]));
    else {
        sqlite3_result_null(cx);
        return;
    }
    sqlite3_result_int64(cx, (sqlite3_int64)bt_bloom_rkey(sqlite3_value_int(argv[0]), h));
}

/* SQL aggregate bt_bloom_agg(key): the filter (bloom.h) of its group's keys. */
typedef struct {
    uint64_t *keys;
    size_t n, cap;
    int oom;
} bloom_agg;

static void sql_bloom_step(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    bloom_agg *a = sqlite3_aggregate_context(cx, sizeof *a);
    (void)argc;
    if (!a || a->oom || sqlite3_value_type(argv[0]) != SQLITE_INTEGER)
        return;
    a->oom =
        bt_bloom_key_push(&a->keys, &a->n, &a->cap, (uint64_t)sqlite3_value_int64(argv[0])) != 0;
}

static void sql_bloom_final(sqlite3_context *cx)
{
    bloom_agg *a = sqlite3_aggregate_context(cx, 0);
    bt_buf out = BT_BUF_INIT;
    if (a && a->oom)
        sqlite3_result_error_nomem(cx);
    else if (bt_bloom_build(a ? a->keys : NULL, a ? a->n : 0, &out))
        sqlite3_result_error_nomem(cx);
    else
        sqlite3_result_blob(cx, out.data, (int)out.len, SQLITE_TRANSIENT);
    bt_buf_dispose(&out);
    if (a)
        free(a->keys);
}

/* SQL aggregate bt_rmask_agg(key, key): the fingerprint (bloom.h bt_bloom_rmask) of its
 * group's keys; NULL keys add nothing. */
static void sql_rmask_step(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    uint64_t *m = sqlite3_aggregate_context(cx, sizeof *m);
    int i;
    for (i = 0; m && i < argc; i++)
        if (sqlite3_value_type(argv[i]) == SQLITE_INTEGER)
            *m |= bt_bloom_rmask((uint64_t)sqlite3_value_int64(argv[i]));
}

static void sql_rmask_final(sqlite3_context *cx)
{
    uint64_t *m = sqlite3_aggregate_context(cx, 0);
    if (m && *m)
        sqlite3_result_int64(cx, (sqlite3_int64)*m);
    else
        sqlite3_result_null(cx);
}

/* SQL aggregate bt_nset_agg(name): the set of its group's names (bloom.h bt_nset_build);
 * NULL names add nothing. */
typedef struct nset_agg {
    uint32_t *h;
    size_t n, cap;
    int oom;
} nset_agg;

static void sql_nset_step(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    nset_agg *a = sqlite3_aggregate_context(cx, sizeof *a);
    (void)argc;
    if (!a || a->oom || sqlite3_value_type(argv[0]) != SQLITE_TEXT)
        return;
    void *v = a->h;
    if (bt_array_grow(&v, &a->cap, a->n + 1, sizeof *a->h, 64)) {
        a->oom = 1;
        return;
    }
    a->h = v;
    a->h[a->n++] = (uint32_t)h31((const char *)sqlite3_value_text(argv[0]));
}

static void sql_nset_final(sqlite3_context *cx)
{
    nset_agg *a = sqlite3_aggregate_context(cx, 0);
    bt_buf out = BT_BUF_INIT;
    if (a && a->oom)
        sqlite3_result_error_nomem(cx);
    else if (bt_nset_build(a ? a->h : NULL, a ? a->n : 0, &out))
        sqlite3_result_error_nomem(cx);
    else
        sqlite3_result_blob(cx, out.data ? (const void *)out.data : "", (int)out.len,
                            SQLITE_TRANSIENT);
    bt_buf_dispose(&out);
    if (a)
        free(a->h);
}

/* SQL bt_span_class(t0, t1): the block's span class (sqlite_int.h); NULL for NULL. */
static void sql_span_class(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL)
        sqlite3_result_null(cx);
    else
        sqlite3_result_int(
            cx, bt_span_class(sqlite3_value_int64(argv[0]), sqlite3_value_int64(argv[1])));
}

/* SQL aggregate bt_tdir_agg(place, t): the directory of its group's rows in time order
 * (bloom.h bt_tdir_build). */
typedef struct tdir_agg {
    bt_tdir_ent *e;
    size_t n, cap;
    int oom;
} tdir_agg;

static void sql_tdir_step(sqlite3_context *cx, int argc, sqlite3_value **argv)
{
    tdir_agg *a = sqlite3_aggregate_context(cx, sizeof *a);
    void *v;
    (void)argc;
    if (!a || a->oom)
        return;
    v = a->e;
    if (bt_array_grow(&v, &a->cap, a->n + 1, sizeof *a->e, 256)) {
        a->oom = 1;
        return;
    }
    a->e = v;
    a->e[a->n].place = (uint32_t)sqlite3_value_int64(argv[0]);
    a->e[a->n++].t = sqlite3_value_int64(argv[1]);
}

static void sql_tdir_final(sqlite3_context *cx)
{
    tdir_agg *a = sqlite3_aggregate_context(cx, 0);
    bt_buf out = BT_BUF_INIT;
    if ((a && a->oom) || bt_tdir_build(a ? a->e : NULL, a ? a->n : 0, &out))
        sqlite3_result_error_nomem(cx);
    else
        sqlite3_result_blob(cx, out.data, (int)out.len, SQLITE_TRANSIENT);
    bt_buf_dispose(&out);
    if (a)
        free(a->e);
}

/* Registers the SQL functions of the schema's upgrades and of searches. */
int register_functions(bt_store *s, bt_error *err)
{
    const int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    if (sqlite3_create_function_v2(s->db, "bt_bloom_match", 2, flags, NULL, sql_bloom_match, NULL,
                                   NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(s->db, "bt_rkey", 2, flags, NULL, sql_rkey, NULL, NULL, NULL) !=
            SQLITE_OK ||
        sqlite3_create_function_v2(s->db, "bt_eid_key", 2, flags, NULL, sql_eid_key, NULL, NULL,
                                   NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(s->db, "bt_eid_find", 2, flags, NULL, sql_eid_find, NULL, NULL,
                                   NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(s->db, "bt_eid_ev", 2, flags, NULL, sql_eid_ev, NULL, NULL,
                                   NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(s->db, "bt_eid_hash", 2, flags, NULL, sql_eid_hash, NULL, NULL,
                                   NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(s->db, "bt_bloom_agg", 1, flags, NULL, NULL, sql_bloom_step,
                                   sql_bloom_final, NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(s->db, "bt_rmask_agg", 2, flags, NULL, NULL, sql_rmask_step,
                                   sql_rmask_final, NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(s->db, "bt_nset_agg", 1, flags, NULL, NULL, sql_nset_step,
                                   sql_nset_final, NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(s->db, "bt_span_class", 2, flags, NULL, sql_span_class, NULL,
                                   NULL, NULL) != SQLITE_OK ||
        sqlite3_create_function_v2(s->db, "bt_tdir_agg", 2, flags, NULL, NULL, sql_tdir_step,
                                   sql_tdir_final, NULL) != SQLITE_OK ||
        rows_register(s->db, s))
        return db_err(s, err, "open");
    return 0;
}
