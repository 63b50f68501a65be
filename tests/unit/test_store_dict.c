/* test_store_dict.c - the store's compression dictionaries (sqlite_dict.c, schema 12):
 * trained once the store holds DICT_FIRST_BLOCKS blocks, used by the packers and the
 * writer's own blocks from then on, read back byte-exact (whole blocks, prefixes, the
 * prefilter's threads, a read-only handle), forgotten with a rolled-back transaction,
 * refused for another store's pack, and a missing one reported as damage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "buildtrail/filter.h"
#include "buildtrail/json.h"
#include "buildtrail/store.h"
#include "store/pack.h"
#include "store/sqlite_int.h"
#include "tharness.h"
#include "tstore.h"

enum { N = 6000, PER = 500 };

static char *recs[N];
static bt_event ev[N];
static bt_arena *arena;

/* Record i: about 1 KB, users, sources and agents repeating as CloudTrail's do, and a
 * request parameter of pseudo-random hex that no dictionary predicts. */
static void make_records(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    int i, j;
    bt_error err = BT_ERROR_INIT;
    arena = bt_arena_new(0, 0);
    for (i = 0; i < N; i++) {
        char hex[97];
        for (j = 0; j < 96; j++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            hex[j] = "0123456789abcdef"[x & 15];
        }
        hex[96] = '\0';
        recs[i] = malloc(2048);
        snprintf(
            recs[i], 2048,
            "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\","
            "\"principalId\":\"AIDA%016d\",\"arn\":\"arn:aws:iam::111122223333:user/u%d\","
            "\"accountId\":\"111122223333\",\"userName\":\"u%d\"},\"eventTime\":"
            "\"2026-10-01T%02d:%02d:%02dZ\",\"eventSource\":\"%s.amazonaws.com\","
            "\"eventName\":\"%s\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":"
            "\"10.0.%d.%d\",\"userAgent\":\"aws-cli/2.15.%d Python/3.11.6 Linux/6.1 "
            "exe/x86_64.debian.12 prompt/off command/%s\",\"requestParameters\":"
            "{\"bucketName\":\"bucket-%d\",\"key\":\"logs/2026/10/01/%s.json\"},"
            "\"responseElements\":null,\"requestID\":\"%.32s\",\"eventID\":"
            "\"00000000-0000-4000-8000-%012d\",\"readOnly\":%s,\"eventType\":"
            "\"AwsApiCall\",\"managementEvent\":false,\"recipientAccountId\":"
            "\"111122223333\",\"eventCategory\":\"Data\",\"tlsDetails\":{\"tlsVersion\":"
            "\"TLSv1.3\",\"cipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":"
            "\"bucket-%d.s3.us-east-1.amazonaws.com\"}}",
            i % 13, i % 13, i % 13, (i / 3600) % 24, (i / 60) % 60, i % 60, i % 3 ? "s3" : "kms",
            i % 3 ? (i % 2 ? "GetObject" : "PutObject") : "Decrypt", i % 7, i % 251, i % 5,
            i % 2 ? "s3.cp" : "s3.ls", i % 11, hex, hex + 32, i, i % 2 ? "true" : "false", i % 11);
    }
    for (i = 0; i < N; i++) {
        bt_json *v;
        CHECK_INT(bt_json_parse(arena, recs[i], strlen(recs[i]), NULL, &v, &err), 0);
        CHECK_INT(bt_event_from_record(arena, v, &ev[i], &err), 0);
    }
}

/* Packs ev[i0..i0+n) for s and adds them; the pack's dictionary id. */
static uint32_t add_batch(bt_store *s, int i0, int n)
{
    bt_store_pack *p = NULL;
    bt_error err = BT_ERROR_INIT;
    uint64_t added = 0, dups = 0;
    uint32_t id = 0;
    CHECK_INT(bt_store_pack_new(s, ev + i0, (size_t)n, &p, &err), 0);
    if (!p)
        return 0;
    id = p->dict_id;
    CHECK_INT(bt_store_add_packed(s, ev + i0, (size_t)n, p, &added, &dups, &err), 0);
    CHECK_INT((int)added, n);
    bt_store_pack_free(p);
    return id;
}

typedef struct readback {
    int n, exact;
} readback;

/* Counts the events delivered and those whose record is byte for byte the one made. */
static int on_event(void *ctx, const bt_event *e, const bt_store_pos *pos)
{
    readback *r = ctx;
    const char *id = e->event_id ? strstr(e->event_id, "8000-") : NULL;
    int j;
    (void)pos;
    r->n++;
    if (id && sscanf(id + 5, "%12d", &j) == 1 && j >= 0 && j < N)
        r->exact += strlen(recs[j]) == e->raw_len && memcmp(recs[j], e->raw, e->raw_len) == 0;
    return 0;
}

/* Reads every event of the store at path through a read-only handle (and, with user, the
 * events of that user, through the prefilter's threads); *r the outcome. */
static int read_all(const char *path, const char *user, readback *r, bt_error *err)
{
    bt_store *s = NULL;
    bt_store_query q;
    bt_filter f;
    int rc;
    memset(r, 0, sizeof *r);
    memset(&q, 0, sizeof q);
    bt_filter_init(&f);
    if (user && (rc = bt_filter_add(&f, BT_F_USERNAME, user, err)))
        return rc;
    q.filter = &f;
    q.oldest_first = 1;
    if (!(rc = bt_store_open(path, BT_STORE_READONLY, &s, err)))
        rc = bt_store_search(s, &q, on_event, r, err);
    bt_store_close(s);
    return rc;
}

/* One integer a query through SQLite itself gives. */
static int64_t query_int(const char *path, const char *sql)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int64_t v = -1;
    open_query(path, sql, &db, &st);
    if (st && sqlite3_step(st) == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return v;
}

static void test_dict_train(void)
{
    char path[512];
    bt_error err = BT_ERROR_INIT;
    bt_store *s = fresh_store(path, sizeof path, ".dict");
    readback r;
    int b, before = 0, after = 0, is_new, i;
    double plain, dict;

    if (!s)
        return;
    CHECK(s->cdict == NULL);
    CHECK_INT((int)s->dict_next_blk, DICT_FIRST_BLOCKS);
    /* 8 batches of 500 records (some 490 KB, a block each): the 8th block starts the
     * training, on a thread of its own; the commit waits for it and stores it */
    for (b = 0; b < 8; b++)
        before += add_batch(s, b * PER, PER) == 0;
    CHECK_INT(before, 8);
    CHECK(s->dict_job != NULL || s->dict_tx == BT_CODEC_DICT);
    CHECK_INT(bt_store_commit(s, &err), 0);
    CHECK(s->dict_job == NULL);
    CHECK_INT((int)s->dict_tx, 0);
    CHECK(s->cdict != NULL && dict_id_of(s->cdict) == BT_CODEC_DICT);
    /* the packs made since carry it, and the writer's own blocks (events added one at a
     * time) use it too */
    CHECK_INT(bt_store_begin(s, &err), 0);
    for (b = 8; b < 10; b++)
        after += add_batch(s, b * PER, PER) == BT_CODEC_DICT;
    CHECK_INT(after, 2);
    for (i = 10 * PER; i < 11 * PER; i++)
        CHECK_INT(bt_store_add(s, &ev[i], &is_new, &err), 0);
    CHECK_INT(bt_store_commit(s, &err), 0);
    bt_store_close(s);

    CHECK_INT((int)query_int(path, "SELECT count(*) FROM dicts"), 1);
    CHECK_INT((int)query_int(path, "SELECT id FROM dicts"), BT_CODEC_DICT);
    CHECK_INT((int)query_int(path, "SELECT blk FROM dicts"), DICT_FIRST_BLOCKS);
    CHECK((int)query_int(path, "SELECT length(data) FROM dicts") > 1000);
    /* the blocks before it are plain zstd, the ones after name it, the last one (the
     * writer's) included */
    CHECK_INT((int)query_int(path, "SELECT count(*) FROM blocks WHERE codec = 1"),
              DICT_FIRST_BLOCKS);
    CHECK_INT((int)query_int(path, "SELECT count(*) FROM blocks WHERE codec = 1 AND id >"
                                   " (SELECT blk FROM dicts)"),
              0);
    CHECK_INT((int)query_int(path, "SELECT codec FROM blocks ORDER BY id DESC LIMIT 1"),
              BT_CODEC_DICT);
    /* and the packed ones take fewer bytes per record byte (millionths; the random part of
     * each record is the same either way) */
    plain = (double)query_int(path, "SELECT 1000000 * sum(length(data)) / sum(raw_len)"
                                    " FROM blocks WHERE codec = 1");
    dict = (double)query_int(path,
                             "SELECT 1000000 * sum(length(data)) / sum(raw_len)"
                             " FROM blocks WHERE codec > 1 AND id < (SELECT max(id) FROM blocks)");
    CHECK(dict > 0 && dict < plain);

    /* every record reads back as it was made, through a read-only handle, and the
     * prefilter's threads decompress the blocks of one user's events */
    CHECK_INT(read_all(path, NULL, &r, &err), 0);
    CHECK_INT(r.n, 11 * PER);
    CHECK_INT(r.exact, 11 * PER);
    CHECK_INT(read_all(path, "u3", &r, &err), 0);
    CHECK_INT(r.n, (11 * PER + 12 - 3) / 13);
    CHECK_INT(r.exact, r.n);
}

static void test_dict_rollback(void)
{
    char path[512], other[512];
    bt_error err = BT_ERROR_INIT;
    bt_store *s = NULL, *o = NULL;
    bt_store_pack *p = NULL;
    uint64_t added = 0, dups = 0;
    readback r;

    tmp_store(path, sizeof path);
    strcat(path, ".dict");
    CHECK_INT(bt_store_open(path, 0, &s, &err), 0);
    if (!s)
        return;
    /* the handle takes the store's dictionary */
    CHECK(s->cdict != NULL);
    CHECK_INT((int)dict_id_of(s->cdict), BT_CODEC_DICT);
    CHECK_INT(bt_store_begin(s, &err), 0);
    CHECK_INT((int)add_batch(s, 11 * PER, PER / 2), BT_CODEC_DICT);
    s->dict_next_blk = 0; /* the second, trained now (waited for) */
    CHECK_INT(dict_maybe_train(s, 1, &err), 0);
    CHECK_INT((int)s->dict_tx, BT_CODEC_DICT + 1);
    CHECK_INT(bt_store_pack_new(s, ev + 11 * PER + PER / 2, PER / 2, &p, &err), 0);
    CHECK(p && p->dict_id == BT_CODEC_DICT + 1);
    bt_store_rollback(s);
    /* gone with the transaction: a pack made with it is refused, new ones take the
     * first again */
    CHECK_INT((int)s->dict_tx, 0);
    CHECK_INT((int)dict_id_of(s->cdict), BT_CODEC_DICT);
    CHECK_INT(bt_store_begin(s, &err), 0);
    CHECK_INT(bt_store_add_packed(s, ev + 11 * PER + PER / 2, PER / 2, p, &added, &dups, &err),
              BT_EINVAL);
    CHECK(strstr(err.msg, "dictionary") != NULL);
    bt_error_clear(&err);
    bt_store_pack_free(p);
    p = NULL;
    CHECK_INT((int)add_batch(s, 11 * PER, PER), BT_CODEC_DICT);
    s->dict_next_blk = INT64_MAX;
    CHECK_INT(bt_store_commit(s, &err), 0);

    /* a pack made for this store does not go to another (its dictionary is not there) */
    CHECK_INT(bt_store_pack_new(s, ev, 10, &p, &err), 0);
    o = fresh_store(other, sizeof other, ".dict-other");
    if (o && p) {
        CHECK_INT(bt_store_add_packed(o, ev, 10, p, &added, &dups, &err), BT_EINVAL);
        bt_error_clear(&err);
    }
    bt_store_pack_free(p);
    bt_store_close(o);
    remove_store(other);
    bt_store_close(s);
    CHECK_INT((int)query_int(path, "SELECT count(*) FROM dicts"), 1);
    CHECK_INT(read_all(path, NULL, &r, &err), 0);
    CHECK_INT(r.n, N);
    CHECK_INT(r.exact, N);
}

static void test_dict_missing(void)
{
    char path[512], cmd[700];
    bt_error err = BT_ERROR_INIT;
    readback r;
    tmp_store(path, sizeof path);
    strcat(path, ".dict");
    snprintf(cmd, sizeof cmd, "sqlite3 '%s' 'DELETE FROM dicts'", path);
    CHECK_INT(system(cmd), 0);
    /* the blocks that name it cannot be read: the store is damaged, and says so */
    CHECK_INT(read_all(path, NULL, &r, &err), BT_EDB);
    CHECK(strstr(err.msg, "is corrupt") != NULL && strstr(err.msg, "dictionary") != NULL);
    bt_error_clear(&err);
    remove_store(path);
}

/* The records first, the tests in order (each continues the store the one before left),
 * and the records freed last. */
static void test_records(void)
{
    make_records();
}

static void test_free_records(void)
{
    int i;
    for (i = 0; i < N; i++)
        free(recs[i]);
    bt_arena_free(arena);
}

BT_TEST_MAIN(test_records, test_dict_train, test_dict_rollback, test_dict_missing,
             test_free_records)
