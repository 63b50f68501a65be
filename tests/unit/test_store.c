/* test_store.c - unit tests for the readers (every container) and the SQLite store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>
#include <zstd.h>

#include "buildtrail/source.h"
#include "buildtrail/store.h"
#include "buildtrail/timeutil.h"
#include "tharness.h"
#include "tstore.h"
#include "store/sqlite_int.h"
#include "util/gzip.h"

#define REC(id, t, name, user)                                                                     \
    "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"userName\":\"" user       \
    "\",\"accountId\":\"111122223333\"},\"eventTime\":\"" t "\",\"eventSource\":"                  \
    "\"codebuild.amazonaws.com\",\"eventName\":\"" name "\",\"awsRegion\":\"us-east-1\","          \
    "\"requestParameters\":{\"projectName\":\"p1\"},\"eventID\":\"" id "\",\"readOnly\":false}"

#define R1                                                                                         \
    REC("00000000-0000-4000-8000-000000000001", "2026-10-01T10:00:00Z", "StartBuild", "alice")
#define R2 REC("00000000-0000-4000-8000-000000000002", "2026-10-01T11:00:00Z", "StopBuild", "bob")
#define R3 REC("legacy-id-3", "2026-10-01T12:00:00Z", "ListProjects", "alice")

typedef struct seen {
    int n;
    char ids[16][64];
    size_t raw_len[16];
} seen;

static int collect(void *ctx, const bt_event *ev)
{
    seen *s = ctx;
    if (s->n < 16) {
        snprintf(s->ids[s->n], sizeof s->ids[0], "%s", ev->event_id);
        s->raw_len[s->n] = ev->raw_len;
    }
    s->n++;
    return 0;
}

static int read_str(const char *data, size_t len, seen *s, bt_read_stats *st, bt_error *err)
{
    bt_arena *a = bt_arena_new(0, 0);
    int rc;
    memset(s, 0, sizeof *s);
    memset(st, 0, sizeof *st);
    rc = bt_read_data(data, len, a, collect, s, st, err);
    bt_arena_free(a);
    return rc;
}

static void test_containers(void)
{
    static const char records[] = "{\"Records\":[" R1 "," R2 "]}";
    static const char array[] = "[" R1 ",\n" R2 "]";
    static const char ndjson[] = R1 "\n" R2 "\n" R3 "\n";
    static const char digest[] =
        "{\"digestStartTime\":\"x\",\"digestS3Object\":\"y\",\"logFiles\":[]}";
    static const char eb[] = "{\"version\":\"0\",\"id\":\"e1\",\"detail-type\":\"AWS API Call via "
                             "CloudTrail\",\"source\":\"aws.codebuild\",\"detail\":" R1 "}\n"
                             "{\"id\":\"e2\",\"detail-type\":\"CodePipeline Stage Execution State "
                             "Change\",\"detail\":{}}\n";
    seen s;
    bt_read_stats st;
    bt_error err = BT_ERROR_INIT;
    bt_buf gz = BT_BUF_INIT, lookup = BT_BUF_INIT;

    CHECK_INT(read_str(records, strlen(records), &s, &st, &err), 0);
    CHECK_INT(s.n, 2);
    CHECK_STR(s.ids[1], "00000000-0000-4000-8000-000000000002");
    CHECK_INT(s.raw_len[0], strlen(R1));
    CHECK_INT(read_str(array, strlen(array), &s, &st, &err), 0);
    CHECK_INT(s.n, 2);
    CHECK_INT(read_str(ndjson, strlen(ndjson), &s, &st, &err), 0);
    CHECK_INT(s.n, 3);
    CHECK_STR(s.ids[2], "legacy-id-3");
    CHECK_INT(read_str(digest, strlen(digest), &s, &st, &err), 0);
    CHECK_INT(s.n, 0);
    CHECK_INT(st.digests, 1);
    CHECK_INT(read_str(eb, strlen(eb), &s, &st, &err), 0);
    CHECK_INT(s.n, 1);
    CHECK_INT(st.ignored, 1);
    /* gzip of a Records file */
    CHECK_INT(bt_gzip_compress(records, strlen(records), 6, &gz, &err), 0);
    CHECK_INT(read_str(gz.data, gz.len, &s, &st, &err), 0);
    CHECK_INT(s.n, 2);
    CHECK_INT(st.bytes_json, strlen(records));
    /* truncated gzip: an error that says so */
    CHECK_INT(read_str(gz.data, gz.len - 9, &s, &st, &err), BT_EPARSE);
    CHECK(strstr(err.msg, "gzip") != NULL);
    /* lookup-events output: CloudTrailEvent strings */
    {
        bt_arena *a = bt_arena_new(0, 0);
        bt_buf_puts(&lookup,
                    "{\n    \"Events\": [\n        {\"EventId\": \"x\", \"CloudTrailEvent\": ");
        bt_json_write_string(&lookup, R2, strlen(R2), 0);
        bt_buf_puts(&lookup, "}\n    ],\n    \"NextToken\": \"abc\"\n}\n");
        CHECK_INT(read_str(lookup.data, lookup.len, &s, &st, &err), 0);
        CHECK_INT(s.n, 1);
        CHECK_STR(s.ids[0], "00000000-0000-4000-8000-000000000002");
        CHECK_INT(s.raw_len[0], strlen(R2));
        bt_arena_free(a);
    }
    /* truncated JSON: records before the cut are delivered, then an error */
    {
        char cut[sizeof records];
        size_t n = strlen("{\"Records\":[" R1 ",") + 20;
        memcpy(cut, records, n);
        CHECK_INT(read_str(cut, n, &s, &st, &err), BT_EPARSE);
        CHECK_INT(s.n, 1);
    }
    CHECK_INT(read_str("not json at all", 15, &s, &st, &err), BT_EPARSE);
    bt_buf_dispose(&gz);
    bt_buf_dispose(&lookup);
}

typedef struct hits {
    int n;
    char first[64];
    int64_t t[8];
} hits;

static int on_hit(void *ctx, const bt_event *ev, const bt_store_pos *pos)
{
    hits *h = ctx;
    if (h->n == 0)
        snprintf(h->first, sizeof h->first, "%s", ev->event_id);
    if (h->n < 8)
        h->t[h->n] = pos->time_ms;
    h->n++;
    return 0;
}

static int store_events(bt_store *s, const char *text, int *news, bt_error *err)
{
    bt_arena *a = bt_arena_new(0, 0);
    bt_json *v;
    size_t i;
    int rc = bt_json_parse(a, text, strlen(text), NULL, &v, err);
    *news = 0;
    for (i = 0; !rc && i < v->len; i++) {
        bt_event ev;
        int is_new;
        rc = bt_event_from_record(a, v->u.items[i], &ev, err);
        if (!rc)
            rc = bt_store_add(s, &ev, &is_new, err);
        *news += is_new;
    }
    bt_arena_free(a);
    return rc;
}

static void test_store(void)
{
    char path[256], dir[256];
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    struct stat sb;
    bt_filter f;
    bt_store_query q;
    hits h;
    int news = 0, unchanged = 0;
    bt_store_info info;
    char *cur = NULL;

    tmp_store(path, sizeof path);
    CHECK_INT(bt_store_open(path, 0, &s, &err), 0);
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK_INT(bt_store_schema_version(s), 16);
    CHECK_INT(bt_store_begin(s, &err), 0);
    CHECK_INT(store_events(s, "[" R1 "," R2 "]", &news, &err), 0);
    CHECK_INT(news, 2);
    CHECK_INT(bt_store_source_done(s, "/x/a.json.gz", 10, 20, NULL, 2, &err), 0);
    CHECK_INT(bt_store_commit(s, &err), 0);
    /* duplicates are dropped, new ones kept */
    CHECK_INT(bt_store_begin(s, &err), 0);
    CHECK_INT(store_events(s, "[" R2 "," R3 "," R1 "]", &news, &err), 0);
    CHECK_INT(news, 1);
    CHECK_INT(bt_store_commit(s, &err), 0);
    CHECK_INT(bt_store_source_unchanged(s, "/x/a.json.gz", 10, 20, NULL, &unchanged, &err), 0);
    CHECK_INT(unchanged, 1);
    CHECK_INT(bt_store_source_unchanged(s, "/x/a.json.gz", 11, 20, NULL, &unchanged, &err), 0);
    CHECK_INT(unchanged, 0);
    /* a rolled-back transaction leaves nothing behind */
    CHECK_INT(bt_store_begin(s, &err), 0);
    CHECK_INT(store_events(s,
                           "[" REC("00000000-0000-4000-8000-000000000009", "2026-10-02T00:00:00Z",
                                   "StartBuild", "carol") "]",
                           &news, &err),
              0);
    bt_store_rollback(s);
    CHECK_INT(bt_store_get_info(s, &info, &err), 0);
    CHECK_INT(info.events, 3);
    CHECK_INT(info.sources, 1);
    CHECK_INT(info.min_time_ms, 1790848800000LL);
    /* search: newest first, filters */
    memset(&q, 0, sizeof q);
    memset(&h, 0, sizeof h);
    CHECK_INT(bt_store_search(s, &q, on_hit, &h, &err), 0);
    CHECK_INT(h.n, 3);
    CHECK_STR(h.first, "legacy-id-3");
    CHECK(h.t[0] > h.t[1] && h.t[1] > h.t[2]);
    bt_filter_init(&f);
    bt_filter_add(&f, BT_F_USERNAME, "alice", &err);
    q.filter = &f;
    memset(&h, 0, sizeof h);
    CHECK_INT(bt_store_search(s, &q, on_hit, &h, &err), 0);
    CHECK_INT(h.n, 2);
    bt_filter_add(&f, BT_F_EVENT_NAME, "StartBuild", &err);
    memset(&h, 0, sizeof h);
    CHECK_INT(bt_store_search(s, &q, on_hit, &h, &err), 0);
    CHECK_INT(h.n, 1);
    CHECK_STR(h.first, "00000000-0000-4000-8000-000000000001");
    bt_filter_init(&f);
    bt_filter_add(&f, BT_F_EVENT_ID, "legacy-id-3", &err);
    bt_filter_add(&f, BT_F_EVENT_ID, "00000000-0000-4000-8000-000000000002", &err);
    memset(&h, 0, sizeof h);
    CHECK_INT(bt_store_search(s, &q, on_hit, &h, &err), 0);
    CHECK_INT(h.n, 2);
    bt_filter_init(&f);
    bt_filter_add(&f, BT_F_USERNAME, "nobody-at-all", &err);
    memset(&h, 0, sizeof h);
    CHECK_INT(bt_store_search(s, &q, on_hit, &h, &err), 0);
    CHECK_INT(h.n, 0);
    bt_filter_init(&f);
    bt_filter_add(&f, BT_F_RESOURCE_NAME, "arn:aws:codebuild:us-east-1:111122223333:project/p1",
                  &err);
    memset(&h, 0, sizeof h);
    CHECK_INT(bt_store_search(s, &q, on_hit, &h, &err), 0);
    CHECK_INT(h.n, 3);
    /* keyset pagination continues after a position */
    {
        bt_store_pos after = {1790856000000LL, 1 << 30, 0};
        bt_filter_init(&f);
        q.filter = NULL;
        q.after = &after;
        after.time_ms = 1790852400000LL; /* R2's time: only R1 is older */
        memset(&h, 0, sizeof h);
        CHECK_INT(bt_store_search(s, &q, on_hit, &h, &err), 0);
        CHECK_INT(h.n, 2); /* seq 1<<30 is after R2's row, so R2 is included, then R1 */
        q.after = NULL;
    }
    CHECK_INT(bt_store_cursor_set(s, "lookup:us-east-1", "tok", &err), 0);
    CHECK_INT(bt_store_cursor_get(s, "lookup:us-east-1", &cur, &err), 0);
    CHECK_STR(cur, "tok");
    free(cur);
    bt_store_close(s);

    /* reopen read-only: same data */
    CHECK_INT(bt_store_open(path, BT_STORE_READONLY, &s, &err), 0);
    CHECK_INT(bt_store_get_info(s, &info, &err), 0);
    CHECK_INT(info.events, 3);
    bt_store_close(s);

    /* a file that is not a store is refused and left untouched */
    {
        char other[300];
        FILE *fp;
        snprintf(other, sizeof other, "%s.notadb", path);
        fp = fopen(other, "w");
        fputs("{\"Records\":[]}\n", fp);
        fclose(fp);
        CHECK(bt_store_open(other, 0, &s, &err) != 0);
        CHECK(strstr(err.msg, "not a buildtrail store") != NULL);
        CHECK(stat(other, &sb) == 0 && sb.st_size == 15);
        unlink(other);
    }
    CHECK(bt_store_open("/tmp/bt-no-such-dir-xyz/none.db", BT_STORE_READONLY, &s, &err) != 0);
    snprintf(dir, sizeof dir, "rm -rf /tmp/bt-test-store-%d", (int)getpid());
    CHECK(system(dir) == 0);
}

/* ---- packed batches: rare records first, in a frame of their own ---------------- */

typedef struct rawhits {
    int n, bad;
    char **want; /* per event index: its record text, to compare byte for byte */
    int nwant;
} rawhits;

static int on_raw(void *ctx, const bt_event *ev, const bt_store_pos *pos)
{
    rawhits *h = ctx;
    int i;
    (void)pos;
    h->n++;
    if (sscanf(ev->event_id, "00000000-0000-4000-8000-%12d", &i) != 1 || i < 0 || i >= h->nwant ||
        strlen(h->want[i]) != ev->raw_len || memcmp(h->want[i], ev->raw, ev->raw_len) != 0)
        h->bad++;
    return 0;
}

/* raw_only deliveries: the record found by the id in its bytes, byte-exact, its time
 * the row's; parsed counts those that came parsed (event_id set) */
typedef struct rawonly {
    int n, bad, parsed;
    char **want;
    int nwant;
    int64_t last;  /* the time of the last delivery */
    int unordered; /* deliveries newer than the one before (the order is newest first) */
} rawonly;

static int on_raw_only(void *ctx, const bt_event *ev, const bt_store_pos *pos)
{
    rawonly *h = ctx;
    const char *p = memmem(ev->raw, ev->raw_len, "\"eventID\":\"", 11);
    int i;
    h->n++;
    h->unordered += h->n > 1 && pos->time_ms > h->last;
    h->last = pos->time_ms;
    h->parsed += ev->event_id != NULL;
    if (!p || sscanf(p + 11, "00000000-0000-4000-8000-%12d", &i) != 1 || i < 0 || i >= h->nwant ||
        strlen(h->want[i]) != ev->raw_len || memcmp(h->want[i], ev->raw, ev->raw_len) != 0 ||
        ev->time_ms != pos->time_ms || ev->time_ms <= 0)
        h->bad++;
    return 0;
}

/* n records; every 97th an AccessDenied, every 211th a StartBuild; each about 1 KB, so
 * a batch spans several blocks */
static char **make_records(int n)
{
    char **v = calloc((size_t)n, sizeof *v);
    char pad[900];
    int i;
    memset(pad, 'x', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    for (i = 0; i < n; i++) {
        int err = i % 97 == 0, start = i % 211 == 0;
        v[i] = malloc(2048);
        snprintf(v[i], 2048,
                 "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\","
                 "\"userName\":\"u%d\",\"accountId\":\"111122223333\"},\"eventTime\":"
                 "\"2026-10-01T10:%02d:%02dZ\",\"eventSource\":\"%s\",\"eventName\":\"%s\","
                 "\"awsRegion\":\"us-east-1\",%s\"requestParameters\":{%s\"pad\":\"%s\"},"
                 "\"eventID\":\"00000000-0000-4000-8000-%012d\",\"readOnly\":false}",
                 i % 7, (i / 60) % 60, i % 60,
                 start ? "codebuild.amazonaws.com" : "s3.amazonaws.com",
                 start ? "StartBuild" : "GetObject", err ? "\"errorCode\":\"AccessDenied\"," : "",
                 start ? "\"projectName\":\"p1\"," : "", pad, i);
    }
    return v;
}

/* Parses recs[0..n) into ev (strings in a) and stores them as one packed batch in a new
 * store at path, closed after. */
static void store_packed(const char *path, char **recs, int n, bt_arena *a, bt_event *ev)
{
    bt_store *s = NULL;
    bt_store_pack *p = NULL;
    bt_error err = BT_ERROR_INIT;
    uint64_t added = 0, dups = 0;
    int i;
    for (i = 0; i < n; i++) {
        bt_json *v;
        CHECK_INT(bt_json_parse(a, recs[i], strlen(recs[i]), NULL, &v, &err), 0);
        CHECK_INT(bt_event_from_record(a, v, &ev[i], &err), 0);
    }
    CHECK_INT(bt_store_open(path, 0, &s, &err), 0);
    if (!s)
        return;
    CHECK_INT(bt_store_begin(s, &err), 0);
    CHECK_INT(bt_store_pack_new(NULL, ev, (size_t)n, &p, &err), 0);
    CHECK_INT(bt_store_add_packed(s, ev, (size_t)n, p, &added, &dups, &err), 0);
    CHECK_INT((int)added, n);
    CHECK_INT(bt_store_commit(s, &err), 0);
    bt_store_pack_free(p);
    bt_store_close(s);
}

static void test_packed_prefix(void)
{
    enum { N = 3000 };
    char path[256], cmd[300];
    char **recs = make_records(N);
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_arena *a = bt_arena_new(0, 0);
    bt_event *ev = calloc(N, sizeof *ev);
    bt_store_query q;
    bt_filter f;
    rawhits h;
    int i, errs = 0, starts = 0;
    unsigned long long rare_bytes = 0;

    tmp_store(path, sizeof path);
    strcat(path, ".packed");
    for (i = 0; i < N; i++) {
        errs += i % 97 == 0;
        starts += i % 211 == 0;
        if (i % 97 == 0 || i % 211 == 0)
            rare_bytes += strlen(recs[i]);
    }
    store_packed(path, recs, N, a, ev);

    /* the batch's first block starts with the directory of its rows (a skippable
     * frame, sqlite_rows.c), then its rare records as a frame of their own */
    {
        sqlite3 *db = NULL;
        sqlite3_stmt *st = NULL;
        open_query(path, "SELECT data FROM blocks ORDER BY id LIMIT 1", &db, &st);
        CHECK_INT(sqlite3_step(st), SQLITE_ROW);
        {
            const unsigned char *d = sqlite3_column_blob(st, 0);
            size_t total = (size_t)sqlite3_column_bytes(st, 0), dlen = 0;
            size_t dir = ZSTD_findFrameCompressedSize(d, total), first;
            unsigned long long raw;
            CHECK(total > DIR_HEAD && dir_frame_len(d, &dlen) == 0);
            CHECK(!ZSTD_isError(dir) && dir == DIR_HEAD + dlen && dir < total);
            if (ZSTD_isError(dir) || dir >= total)
                dir = 0;
            first = ZSTD_findFrameCompressedSize(d + dir, total - dir);
            raw = ZSTD_getFrameContentSize(d + dir, total - dir);
            CHECK(!ZSTD_isError(first) && dir + first < total);
            CHECK(raw == rare_bytes);
        }
        sqlite3_finalize(st);
        sqlite3_close(db);
    }
    /* a fresh open (nothing cached): the errors come from the blocks' first frames,
     * then everything, each record byte-exact */
    memset(&h, 0, sizeof h);
    h.want = recs;
    h.nwant = N;
    memset(&q, 0, sizeof q);
    bt_filter_init(&f);
    f.errors_only = true;
    q.filter = &f;
    CHECK_INT(bt_store_open(path, BT_STORE_READONLY, &s, &err), 0);
    CHECK_INT(bt_store_search(s, &q, on_raw, &h, &err), 0);
    CHECK_INT(h.n, errs);
    bt_filter_init(&f);
    bt_filter_add(&f, BT_F_EVENT_NAME, "StartBuild", &err);
    CHECK_INT(bt_store_search(s, &q, on_raw, &h, &err), 0);
    CHECK_INT(h.n, errs + starts);
    /* a project, and the records that name none (missing_ok) */
    bt_filter_init(&f);
    bt_filter_add(&f, BT_F_PROJECT, "p2", &err);
    h.n = 0;
    CHECK_INT(bt_store_search(s, &q, on_raw, &h, &err), 0);
    CHECK_INT(h.n, 0);
    f.missing_ok = 1u << BT_F_PROJECT;
    CHECK_INT(bt_store_search(s, &q, on_raw, &h, &err), 0);
    CHECK_INT(h.n, N - starts);
    bt_filter_init(&f);
    bt_filter_add(&f, BT_F_PROJECT, "p1", &err);
    f.missing_ok = 1u << BT_F_PROJECT;
    h.n = 0;
    CHECK_INT(bt_store_search(s, &q, on_raw, &h, &err), 0);
    CHECK_INT(h.n, N);
    h.n = errs + starts;
    q.filter = NULL;
    CHECK_INT(bt_store_search(s, &q, on_raw, &h, &err), 0);
    CHECK_INT(h.n, errs + starts + N);
    CHECK_INT(h.bad, 0);
    /* raw_only: an exact filter (errors) comes unparsed, byte-exact; a hashed one (user)
     * is still checked on the parsed record */
    {
        rawonly r;
        int users = 0;
        memset(&r, 0, sizeof r);
        r.want = recs;
        r.nwant = N;
        bt_filter_init(&f);
        f.errors_only = true;
        q.filter = &f;
        q.raw_only = 1;
        CHECK_INT(bt_store_search(s, &q, on_raw_only, &r, &err), 0);
        CHECK_INT(r.n, errs);
        CHECK_INT(r.parsed, 0);
        CHECK_INT(r.bad, 0);
        for (i = 0; i < N; i++)
            users += i % 7 == 3;
        bt_filter_init(&f);
        bt_filter_add(&f, BT_F_USERNAME, "u3", &err);
        memset(&r, 0, sizeof r);
        r.want = recs;
        r.nwant = N;
        CHECK_INT(bt_store_search(s, &q, on_raw_only, &r, &err), 0);
        CHECK_INT(r.n, users);
        CHECK_INT(r.parsed, users);
        CHECK_INT(r.bad, 0);
        q.raw_only = 0;
        q.filter = NULL;
    }
    bt_store_close(s);

    /* a block cut short: the records past the cut are an error naming the store */
    snprintf(cmd, sizeof cmd,
             "sqlite3 '%s' \"UPDATE blocks SET data = substr(data, 1, length(data) / 2)"
             " WHERE id = 2\"",
             path);
    CHECK(system(cmd) == 0);
    CHECK_INT(bt_store_open(path, BT_STORE_READONLY, &s, &err), 0);
    memset(&h, 0, sizeof h);
    h.want = recs;
    h.nwant = N;
    CHECK(bt_store_search(s, &q, on_raw, &h, &err) != 0);
    CHECK(strstr(err.msg, "corrupt") != NULL && strstr(err.msg, path) != NULL);
    CHECK_INT(h.bad, 0);
    bt_store_close(s);

    for (i = 0; i < N; i++)
        free(recs[i]);
    free(recs);
    free(ev);
    bt_arena_free(a);
    remove_store(path);
}

/* The byte order within a packed block (pack_layout): records of one source, name, caller
 * and user agent side by side, one run each, in time within it, whatever their time
 * order in the batch; every row still points at its own record, byte-exact. 900 records
 * of about 1 KB (two blocks), their kind and time drawn from i. */
static void test_block_layout(void)
{
    enum { N = 900 };
    static const char *const names[][2] = {{"s3.amazonaws.com", "GetObject"},
                                           {"s3.amazonaws.com", "PutObject"},
                                           {"kms.amazonaws.com", "Decrypt"}};
    char path[256], pad[800], **recs = calloc(N, sizeof *recs);
    int key[N][4]; /* per record: name, role, agent, time (s) */
    bt_arena *a = bt_arena_new(0, 0);
    bt_event *ev = calloc(N, sizeof *ev);
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int i, rows = 0, ordered = 0, exact = 0, blocks = 0;

    memset(pad, 'y', sizeof pad - 1);
    pad[sizeof pad - 1] = '\0';
    for (i = 0; i < N; i++) {
        key[i][0] = (i * 7) % 3;
        key[i][1] = (i * 5) % 4;
        key[i][2] = (i / 3) % 2;
        key[i][3] = (i * 37) % 3600; /* not in i's order */
        recs[i] = malloc(2048);
        snprintf(recs[i], 2048,
                 "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"AssumedRole\","
                 "\"arn\":\"arn:aws:sts::111122223333:assumed-role/r%d/s\",\"accountId\":"
                 "\"111122223333\"},\"eventTime\":\"2026-10-01T11:%02d:%02dZ\",\"eventSource\":"
                 "\"%s\",\"eventName\":\"%s\",\"awsRegion\":\"us-east-1\",\"userAgent\":\"ua%d\","
                 "\"requestParameters\":{\"pad\":\"%s\"},\"eventID\":"
                 "\"00000000-0000-4000-8000-%012d\",\"readOnly\":true}",
                 key[i][1], key[i][3] / 60, key[i][3] % 60, names[key[i][0]][0],
                 names[key[i][0]][1], key[i][2], pad, i);
    }
    tmp_store(path, sizeof path);
    strcat(path, ".layout");
    store_packed(path, recs, N, a, ev);

    open_query(path,
               "SELECT b.id, b.raw_len, b.data, e.off, e.len FROM events e"
               " JOIN blocks b ON b.id = e.blk ORDER BY e.blk, e.off",
               &db, &st);
    {
        char *raw = NULL;
        int64_t cur = -1;
        int prev = -1, g, gprev = -1;
        char kseen[3 * 4 * 2];
        while (sqlite3_step(st) == SQLITE_ROW) {
            int64_t blk = sqlite3_column_int64(st, 0);
            size_t off = (size_t)sqlite3_column_int64(st, 3),
                   len = (size_t)sqlite3_column_int64(st, 4);
            const char *id;
            char next;
            int j;
            if (blk != cur) { /* a new block: decompress it whole */
                size_t rl = (size_t)sqlite3_column_int64(st, 1);
                free(raw);
                raw = malloc(rl + 1);
                CHECK(ZSTD_decompress(raw, rl, sqlite3_column_blob(st, 2),
                                      (size_t)sqlite3_column_bytes(st, 2)) == rl);
                cur = blk;
                prev = -1;
                memset(kseen, 0, sizeof kseen);
                blocks++;
            }
            rows++;
            next = raw[off + len];
            raw[off + len] = '\0';
            id = strstr(raw + off, "8000-");
            raw[off + len] = next;
            if (!id || sscanf(id + 5, "%12d", &j) != 1 || j < 0 || j >= N)
                continue;
            exact += strlen(recs[j]) == len && memcmp(recs[j], raw + off, len) == 0;
            /* each kind of record (source and name, caller, agent) is one run of the
             * block, in time order: a record continues the run before it, or starts
             * a kind the block has not shown yet */
            g = (key[j][0] * 4 + key[j][1]) * 2 + key[j][2];
            if (prev >= 0 && g == gprev)
                ordered += key[prev][3] <= key[j][3];
            else
                ordered += !kseen[g];
            kseen[g] = 1;
            gprev = g;
            prev = j;
        }
        free(raw);
    }
    sqlite3_finalize(st);
    sqlite3_close(db);
    CHECK(blocks >= 2);
    CHECK_INT(rows, N);
    CHECK_INT(exact, N);
    CHECK_INT(ordered, N);
    /* the table `events` by id (its plans, sqlite_rows.c): bounds of every kind give the
     * rows a plain count of the ids gives (the ids are 1..N, all stored) */
    {
        static const struct {
            const char *where;
            int want;
        } cases[] = {
            {"id < 5.5", 5},
            {"id <= 5", 5},
            {"id < 5", 4},
            {"id > 895.5", 5},
            {"id >= 896", 5},
            {"id > 896", 4},
            {"id BETWEEN 10 AND 19", 10},
            {"id > -1e300", N},
            {"id < 1e300", N},
            {"id = 7", 1},
            {"id = 7.5", 0},
            {"id IN (3, 450, 899, 9999)", 3},
            {"id > 9223372036854775807", 0},
            {"id >= NULL", 0},
            {"1", N},
        };
        size_t c;
        for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            char q[200];
            snprintf(q, sizeof q, "SELECT count(*), count(DISTINCT id) FROM events WHERE %s",
                     cases[c].where);
            open_query(path, q, &db, &st);
            if (st && sqlite3_step(st) == SQLITE_ROW) {
                CHECK_INT(sqlite3_column_int(st, 0), cases[c].want);
                CHECK_INT(sqlite3_column_int(st, 1), cases[c].want);
            } else {
                CHECK(!"a count by id");
            }
            sqlite3_finalize(st);
            sqlite3_close(db);
        }
    }

    for (i = 0; i < N; i++)
        free(recs[i]);
    free(recs);
    free(ev);
    bt_arena_free(a);
    remove_store(path);
}

/* Two event ids of one hour whose keys in `eids` are the same (eid_key; found by a
 * birthday search over ids of this form, 1.5M of them): both events are kept, each
 * found by its id, and a second copy of either is a duplicate, whether the first copy
 * is in the same packed batch, an earlier one, or the pending block of events added
 * one by one. */
#define COLL_A "00000000-0000-4000-8000-000000135309"
#define COLL_B "00000000-0000-4000-8000-00000016db39"

static char *coll_record(const char *id, int minute, const char *name)
{
    char *r = malloc(512);
    snprintf(r, 512,
             "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\","
             "\"userName\":\"u\",\"accountId\":\"111122223333\"},\"eventTime\":"
             "\"2026-10-01T10:%02d:00Z\",\"eventSource\":\"s3.amazonaws.com\",\"eventName\":"
             "\"%s\",\"awsRegion\":\"us-east-1\",\"eventID\":\"%s\",\"readOnly\":true}",
             minute, name, id);
    return r;
}

static int count_id(bt_store *s, const char *id, const char *id2)
{
    bt_filter f;
    bt_store_query q;
    bt_error err = BT_ERROR_INIT;
    hits h;
    memset(&h, 0, sizeof h);
    memset(&q, 0, sizeof q);
    bt_filter_init(&f);
    bt_filter_add(&f, BT_F_EVENT_ID, id, &err);
    if (id2)
        bt_filter_add(&f, BT_F_EVENT_ID, id2, &err);
    q.filter = &f;
    if (bt_store_search(s, &q, on_hit, &h, &err) != 0)
        return -1;
    return h.n;
}

/* Stores ev[0..n) as one packed batch in its own transaction; *added, *dups as
 * bt_store_add_packed counts them (from 0). */
static void add_batch(bt_store *s, const bt_event *ev, size_t n, uint64_t *added, uint64_t *dups)
{
    bt_store_pack *p = NULL;
    bt_error err = BT_ERROR_INIT;
    *added = *dups = 0;
    CHECK_INT(bt_store_begin(s, &err), 0);
    CHECK_INT(bt_store_pack_new(NULL, ev, n, &p, &err), 0);
    CHECK_INT(bt_store_add_packed(s, ev, n, p, added, dups, &err), 0);
    bt_store_pack_free(p);
    CHECK_INT(bt_store_commit(s, &err), 0);
}

static void test_eid_collisions(void)
{
    char path[256];
    unsigned char pa[16], pb[16];
    char *recs[4];
    bt_arena *a = bt_arena_new(0, 0);
    bt_event ev[4];
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    uint64_t added = 0, dups = 0;
    int64_t n = -1;
    int i, is_new;

    CHECK(bt_event_uuid_pack(COLL_A, pa) && bt_event_uuid_pack(COLL_B, pb));
    CHECK(bt_sq_eid_key(493000, pa, 16, 0) == bt_sq_eid_key(493000, pb, 16, 0));
    CHECK(bt_sq_eid_key(493000, pa, 16, 0) != bt_sq_eid_key(493001, pa, 16, 0));
    CHECK(bt_sq_eid_key(493000, pa, 16, 0) != bt_sq_eid_key(493000, pa, 16, 1));

    /* one packed batch: A, B, a copy of B, and another id */
    recs[0] = coll_record(COLL_A, 1, "GetObject");
    recs[1] = coll_record(COLL_B, 2, "PutObject");
    recs[2] = coll_record(COLL_B, 2, "PutObject");
    recs[3] = coll_record("00000000-0000-4000-8000-000000000007", 3, "GetObject");
    tmp_store(path, sizeof path);
    strcat(path, ".coll");
    for (i = 0; i < 4; i++) {
        bt_json *v;
        CHECK_INT(bt_json_parse(a, recs[i], strlen(recs[i]), NULL, &v, &err), 0);
        CHECK_INT(bt_event_from_record(a, v, &ev[i], &err), 0);
    }
    CHECK_INT(bt_store_open(path, 0, &s, &err), 0);
    add_batch(s, ev, 4, &added, &dups);
    CHECK_INT((int)added, 3);
    CHECK_INT((int)dups, 1);
    CHECK_INT(get_int(s, "SELECT count(*) FROM eidx", &n, &err), 0);
    CHECK_INT((int)n, 1);
    /* a second batch: copies of A and B, and id 7 again (an earlier batch's rows) */
    add_batch(s, ev, 4, &added, &dups);
    CHECK_INT((int)added, 0);
    CHECK_INT((int)dups, 4);
    CHECK_INT(count_id(s, COLL_A, NULL), 1);
    CHECK_INT(count_id(s, COLL_B, NULL), 1);
    CHECK_INT(count_id(s, COLL_A, COLL_B), 2);
    bt_store_close(s);
    s = NULL;
    remove_store(path);

    /* one by one: B finds A in the pending block (not yet compressed), then after it
     * is written */
    CHECK_INT(bt_store_open(path, 0, &s, &err), 0);
    CHECK_INT(bt_store_begin(s, &err), 0);
    for (i = 0; i < 4; i++) {
        CHECK_INT(bt_store_add(s, &ev[i], &is_new, &err), 0);
        CHECK_INT(is_new, i != 2);
    }
    CHECK_INT(bt_store_commit(s, &err), 0);
    CHECK_INT(bt_store_begin(s, &err), 0);
    for (i = 0; i < 4; i++) {
        CHECK_INT(bt_store_add(s, &ev[i], &is_new, &err), 0);
        CHECK_INT(is_new, 0);
    }
    CHECK_INT(bt_store_commit(s, &err), 0);
    CHECK_INT(count_id(s, COLL_B, NULL), 1);
    CHECK_INT(count_id(s, COLL_A, "00000000-0000-4000-8000-000000000007"), 2);
    bt_store_close(s);
    remove_store(path);
    for (i = 0; i < 4; i++)
        free(recs[i]);
    bt_arena_free(a);
}

/* The chunks of `eids` (schema 14): 1,000 ids of one hour added one by one grow the
 * hour's chunk past EID_CHUNK_MAX and split it; a packed batch of the same ids is all
 * duplicates; a batch of 1,000 new ids, each twice, keeps the first copies; every id is
 * found, and every chunk holds at most EID_CHUNK_MAX keys, sorted, of its own hour. */
static void test_eid_chunks(void)
{
    enum { N = 1000 };
    char path[256], id[40];
    bt_arena *a = bt_arena_new(0, 0);
    bt_event *ev = calloc(2 * N, sizeof *ev);
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    uint64_t added = 0, dups = 0;
    int64_t n = -1;
    int i, is_new;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;

    CHECK(a && ev);
    for (i = 0; i < 2 * N; i++) {
        char *rec, *text;
        bt_json *v;
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", i < N ? i : i / 2 * 7919);
        rec = coll_record(id, i % 60, i % 3 ? "GetObject" : "PutObject");
        text = bt_arena_strdup(a, rec); /* the event's raw bytes borrow it */
        free(rec);
        CHECK(text != NULL);
        CHECK_INT(bt_json_parse(a, text, strlen(text), NULL, &v, &err), 0);
        CHECK_INT(bt_event_from_record(a, v, &ev[i], &err), 0);
    }
    s = fresh_store(path, sizeof path, ".chunks");
    CHECK_INT(bt_store_begin(s, &err), 0);
    for (i = 0; i < N; i++) {
        CHECK_INT(bt_store_add(s, &ev[i], &is_new, &err), 0);
        CHECK_INT(is_new, 1);
    }
    CHECK_INT(bt_store_commit(s, &err), 0);
    CHECK_INT(get_int(s, "SELECT sum(length(e)) / 11 FROM eids", &n, &err), 0);
    CHECK_INT((int)n, N);
    CHECK_INT(get_int(s, "SELECT count(*) FROM eids", &n, &err), 0);
    CHECK((int)n >= N / EID_CHUNK_MAX);
    CHECK_INT(get_int(s, "SELECT max(length(e)) / 11 FROM eids", &n, &err), 0);
    CHECK((int)n <= EID_CHUNK_MAX);
    add_batch(s, ev, N, &added, &dups);
    CHECK_INT((int)added, 0);
    CHECK_INT((int)dups, N);
    /* ev[N..2N): 500 new ids, each twice (7919 j for 500 <= j < 1000), so the copies
     * meet in the batch */
    add_batch(s, ev + N, N, &added, &dups);
    CHECK_INT((int)added, N / 2);
    CHECK_INT((int)dups, N / 2);
    /* (the hour had keys: the 500 new ones are its second run, in `eidr`) */
    CHECK_INT(get_int(s,
                      "SELECT (SELECT sum(length(e)) FROM eids) * 1000 + (SELECT sum(length(e))"
                      " FROM eidr) / 11",
                      &n, &err),
              0);
    CHECK_INT((int)n, N * 11 * 1000 + N / 2);
    CHECK_INT(get_int(s,
                      "SELECT max(length(e)) / 11 FROM (SELECT e FROM eids UNION ALL"
                      " SELECT e FROM eidr)",
                      &n, &err),
              0);
    CHECK((int)n <= EID_CHUNK_MAX);
    for (i = 0; i < 2 * N; i += 37)
        CHECK_INT(count_id(s, ev[i].event_id, NULL), 1);
    bt_store_close(s);
    /* each chunk: its keys sorted, above its own key, below the next chunk's, and in its
     * hour; the hour's first chunk at its hour */
    CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK);
    CHECK(sqlite3_prepare_v2(db, "SELECT k, e, lead(k) OVER (ORDER BY k) FROM eids", -1, &st,
                             NULL) == SQLITE_OK);
    i = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t k = sqlite3_column_int64(st, 0), next = sqlite3_column_int64(st, 2);
        const unsigned char *e = sqlite3_column_blob(st, 1);
        int m = sqlite3_column_bytes(st, 1) / 11, j;
        uint64_t prev = 0;
        if (i++ == 0)
            CHECK((k & ((INT64_C(1) << 40) - 1)) == 0);
        for (j = 0; j < m; j++) {
            uint64_t h = 0;
            int b;
            for (b = 0; b < 5; b++)
                h = h << 8 | e[j * 11 + b];
            CHECK(j == 0 || h > prev);
            CHECK(((uint64_t)k >> 40 << 40 | h) >= (uint64_t)k);
            CHECK(sqlite3_column_type(st, 2) == SQLITE_NULL ||
                  ((uint64_t)k >> 40 << 40 | h) < (uint64_t)next);
            prev = h;
        }
    }
    CHECK(i >= 2);
    sqlite3_finalize(st);
    sqlite3_close(db);
    remove_store(path);
    free(ev);
    bt_arena_free(a);
}

/* An hour's event ids in runs (schema 16): rounds of 40 new ids of one hour, each in its
 * own transaction with copies of the round before's, write run 0 in `eids`, then runs 1
 * to EID_RUNS - 1 in `eidr`; the next round merges them all into run 0, and the one
 * after starts run 1 again. Fewer than EID_RUN_MIN new ids merge into run 0 and open
 * no run: in one transaction, a few new ids, then two batches of many, make one run.
 * Every copy is a duplicate, whichever run holds the first, and every id is found by
 * a search. */
static int64_t eid_runs(bt_store *s)
{
    int64_t n = -1;
    bt_error err = BT_ERROR_INIT;
    CHECK_INT(get_int(s, "SELECT count(DISTINCT k >> 40) FROM eidr", &n, &err), 0);
    return n;
}

static int64_t eid_keys(bt_store *s, const char *table)
{
    char sql[96];
    int64_t n = -1;
    bt_error err = BT_ERROR_INIT;
    snprintf(sql, sizeof sql, "SELECT coalesce(sum(length(e)), 0) / 11 FROM %s", table);
    CHECK_INT(get_int(s, sql, &n, &err), 0);
    return n;
}

static void test_eid_runs(void)
{
    enum { M = 40, R = EID_RUNS + 2, SMALL = 10, N = R * M + 2 * SMALL + 2 * M };
    char path[256], id[40];
    bt_arena *a = bt_arena_new(0, 0);
    bt_event *ev = calloc(N + 8, sizeof *ev), *batch = calloc(M + 8, sizeof *batch);
    bt_store *s = NULL;
    bt_store_pack *p = NULL;
    bt_error err = BT_ERROR_INIT;
    uint64_t added = 0, dups = 0, add2 = 0, dup2 = 0;
    int i, r;

    CHECK(a && ev && batch);
    for (i = 0; i < N; i++) {
        char *rec, *text;
        bt_json *v;
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", 500000 + i);
        rec = coll_record(id, i % 60, i % 2 ? "GetObject" : "PutObject");
        text = bt_arena_strdup(a, rec);
        free(rec);
        CHECK(text != NULL);
        CHECK_INT(bt_json_parse(a, text, strlen(text), NULL, &v, &err), 0);
        CHECK_INT(bt_event_from_record(a, v, &ev[i], &err), 0);
    }
    s = fresh_store(path, sizeof path, ".runs");
    for (r = 0; r < R; r++) {
        size_t n = M;
        memcpy(batch, ev + r * M, M * sizeof *batch);
        if (r) { /* copies of 5 ids of the round before */
            memcpy(batch + M, ev + (r - 1) * M, 5 * sizeof *batch);
            n += 5;
        }
        add_batch(s, batch, n, &added, &dups);
        CHECK_INT((int)added, M);
        CHECK_INT((int)dups, r ? 5 : 0);
        /* run r; round EID_RUNS merges them all; the next starts run 1 again */
        CHECK_INT((int)eid_runs(s), r < EID_RUNS ? r : r - EID_RUNS);
        CHECK_INT((int)eid_keys(s, "eids"), r < EID_RUNS ? M : r < R - 1 ? (r + 1) * M : R * M - M);
    }
    CHECK_INT((int)eid_keys(s, "eidr"), M);
    /* fewer than EID_RUN_MIN new ids: into run 0 */
    add_batch(s, ev + R * M, SMALL, &added, &dups);
    CHECK_INT((int)added, SMALL);
    CHECK_INT((int)eid_runs(s), 1);
    CHECK_INT((int)eid_keys(s, "eids"), R * M - M + SMALL);
    /* one transaction: a few new ids (into run 0), then two batches of many: one run */
    CHECK_INT(bt_store_begin(s, &err), 0);
    for (r = 0; r < 3; r++) {
        const bt_event *b = ev + R * M + SMALL + (r ? SMALL + (r - 1) * M : 0);
        size_t n = r ? M : SMALL;
        add2 = dup2 = 0;
        CHECK_INT(bt_store_pack_new(NULL, b, n, &p, &err), 0);
        CHECK_INT(bt_store_add_packed(s, b, n, p, &add2, &dup2, &err), 0);
        CHECK_INT((int)add2, (int)n);
        bt_store_pack_free(p);
        p = NULL;
    }
    CHECK_INT(bt_store_commit(s, &err), 0);
    CHECK_INT((int)eid_runs(s), 2);
    CHECK_INT((int)eid_keys(s, "eidr"), 3 * M);
    CHECK_INT((int)eid_keys(s, "eids"), R * M - M + 2 * SMALL);
    /* every id once: all duplicates; each found */
    add2 = dup2 = 0;
    CHECK_INT(bt_store_begin(s, &err), 0);
    CHECK_INT(bt_store_pack_new(NULL, ev, N, &p, &err), 0);
    CHECK_INT(bt_store_add_packed(s, ev, N, p, &add2, &dup2, &err), 0);
    bt_store_pack_free(p);
    CHECK_INT(bt_store_commit(s, &err), 0);
    CHECK_INT((int)add2, 0);
    CHECK_INT((int)dup2, N);
    CHECK_INT((int)(eid_keys(s, "eids") + eid_keys(s, "eidr")), N);
    for (i = 0; i < N; i += 7)
        CHECK_INT(count_id(s, ev[i].event_id, NULL), 1);
    CHECK_INT(count_id(s, ev[1].event_id, ev[N - 1].event_id), 2);
    bt_store_close(s);
    remove_store(path);
    free(batch);
    free(ev);
    bt_arena_free(a);
}

/* Runs at random (schema 16): 120 rounds of 1 to 150 ids of three hours, new ones and
 * copies of stored ones, in transactions of one or two batches, some rolled back, from
 * a fixed seed: each batch adds exactly the ids a set of the committed ones says are
 * new, no hour has more than EID_RUNS - 1 runs in `eidr`, and at the end the keys number
 * the stored ids, each found once, and the ids rolled back and never stored again none. */
static uint64_t xs_next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

static void test_eid_runs_random(void)
{
    enum { P = 2400, ROUNDS = 120, MAXB = 150 };
    char path[256];
    bt_arena *a = bt_arena_new(0, 0);
    bt_event *ev = calloc(P, sizeof *ev), *batch = calloc(2 * MAXB, sizeof *batch);
    unsigned char *stored = calloc(P, 1), *inb = calloc(P, 1);
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    int i, r, next = 0, nstored = 0;
    int64_t n = -1;

    CHECK(a && ev && batch && stored && inb);
    for (i = 0; i < P; i++) {
        char rec[512], id[40], *text;
        bt_json *v;
        snprintf(id, sizeof id, "00000000-0000-4000-8000-%012d", 700000 + i);
        snprintf(rec, sizeof rec,
                 "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\","
                 "\"userName\":\"u\",\"accountId\":\"111122223333\"},\"eventTime\":"
                 "\"2026-10-01T%02d:%02d:00Z\",\"eventSource\":\"s3.amazonaws.com\","
                 "\"eventName\":\"GetObject\",\"awsRegion\":\"us-east-1\",\"eventID\":"
                 "\"%s\",\"readOnly\":true}",
                 10 + (int)(xs_next(&x) % 3), i % 60, id);
        text = bt_arena_strdup(a, rec);
        CHECK(text != NULL);
        CHECK_INT(bt_json_parse(a, text, strlen(text), NULL, &v, &err), 0);
        CHECK_INT(bt_event_from_record(a, v, &ev[i], &err), 0);
    }
    s = fresh_store(path, sizeof path, ".runsrnd");
    for (r = 0; r < ROUNDS; r++) {
        int batches = 1 + (int)(xs_next(&x) % 2), rollback = xs_next(&x) % 8 == 0, b0;
        int ids[2 * MAXB], nids = 0;
        CHECK_INT(bt_store_begin(s, &err), 0);
        for (b0 = 0; b0 < batches; b0++) {
            int k = 1 + (int)(xs_next(&x) % MAXB), want = 0, j;
            uint64_t added = 0, dups = 0;
            bt_store_pack *p = NULL;
            for (j = 0; j < k; j++) {
                int id, pick = (int)(xs_next(&x) % 10);
                if (pick < 6 && next < P)
                    id = next++; /* a new id */
                else if (pick < 9 || !nids)
                    id = (int)(xs_next(&x) % (uint64_t)(next ? next : 1)); /* any seen */
                else
                    id = ids[xs_next(&x) % (uint64_t)nids]; /* a copy in this transaction */
                batch[j] = ev[id];
                if (!stored[id] && !inb[id]) {
                    inb[id] = 1;
                    want++;
                    ids[nids++] = id;
                }
            }
            CHECK_INT(bt_store_pack_new(NULL, batch, (size_t)k, &p, &err), 0);
            CHECK_INT(bt_store_add_packed(s, batch, (size_t)k, p, &added, &dups, &err), 0);
            bt_store_pack_free(p);
            CHECK_INT((int)added, want);
            CHECK_INT((int)(added + dups), k);
        }
        if (rollback) {
            bt_store_rollback(s);
        } else {
            CHECK_INT(bt_store_commit(s, &err), 0);
            for (i = 0; i < nids; i++) {
                stored[ids[i]] = 1;
                nstored++;
            }
        }
        for (i = 0; i < nids; i++)
            inb[ids[i]] = 0;
        CHECK_INT(get_int(s,
                          "SELECT coalesce(max(c), 0) FROM (SELECT count(DISTINCT k >> 40) AS c"
                          " FROM eidr GROUP BY k >> 43)",
                          &n, &err),
                  0);
        CHECK((int)n <= EID_RUNS - 1);
    }
    CHECK_INT(get_int(s,
                      "SELECT (SELECT coalesce(sum(length(e)), 0) / 11 FROM eids) + (SELECT"
                      " coalesce(sum(length(e)), 0) / 11 FROM eidr) + (SELECT count(*) FROM eidx)",
                      &n, &err),
              0);
    CHECK_INT((int)n, nstored);
    CHECK(nstored > P / 4);
    CHECK_INT(get_int(s, "SELECT count(*) FROM eidr", &n, &err), 0);
    CHECK(n > 0);
    for (i = 0; i < next; i += 11)
        CHECK_INT(count_id(s, ev[i].event_id, NULL), stored[i] ? 1 : 0);
    bt_store_close(s);
    remove_store(path);
    free(inb);
    free(stored);
    free(batch);
    free(ev);
    bt_arena_free(a);
}

/* Resource names and types found through the blocks' summaries (bsum.rbloom): 40
 * batches, one block each; batch b's events name project pb, batch 7's also a bucket.
 * A value one block in 40 holds is read through the summaries; one every block holds
 * through the walk; both give exactly the events that name it. */
static void test_resource_summaries(void)
{
    enum { B = 40, PER = 30 };
    char path[256], **recs = calloc(B * PER, sizeof *recs);
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_arena *a = bt_arena_new(0, 0);
    bt_event *ev = calloc(PER, sizeof *ev);
    bt_store_query q;
    bt_filter f;
    rawonly r;
    int b, i;

    s = fresh_store(path, sizeof path, ".res");
    for (b = 0; b < B; b++) {
        bt_store_pack *p = NULL;
        uint64_t added = 0, dups = 0;
        for (i = 0; i < PER; i++) {
            int k = b * PER + i;
            bt_json *v;
            recs[k] = malloc(1024);
            snprintf(
                recs[k], 1024,
                "{\"eventVersion\":\"1.08\",\"eventTime\":\"2026-10-01T%02d:%02d:00Z\","
                "\"eventSource\":\"codebuild.amazonaws.com\",\"eventName\":\"UpdateProject\","
                "\"awsRegion\":\"us-east-1\",\"resources\":[{\"ARN\":\"arn:aws:codebuild:"
                "us-east-1:111122223333:project/p%d\",\"type\":\"AWS::CodeBuild::Project\"}%s],"
                "\"eventID\":\"00000000-0000-4000-8000-%012d\",\"readOnly\":false}",
                b / 2, i, b,
                b == 7 ? ",{\"ARN\":\"arn:aws:s3:::bkt\",\"type\":\"AWS::S3::Bucket\"}" : "", k);
            CHECK_INT(bt_json_parse(a, recs[k], strlen(recs[k]), NULL, &v, &err), 0);
            CHECK_INT(bt_event_from_record(a, v, &ev[i], &err), 0);
        }
        CHECK_INT(bt_store_pack_new(NULL, ev, PER, &p, &err), 0);
        CHECK_INT(bt_store_add_packed(s, ev, PER, p, &added, &dups, &err), 0);
        CHECK_INT((int)added, PER);
        bt_store_pack_free(p);
    }
    CHECK_INT(bt_store_commit(s, &err), 0);
    {
        static const struct {
            bt_filter_field field[2];
            const char *v[2];
            int want;
        } cases[] = {
            {{BT_F_RESOURCE_NAME}, {"arn:aws:codebuild:us-east-1:111122223333:project/p13"}, PER},
            {{BT_F_RESOURCE_NAME}, {"arn:aws:codebuild:us-east-1:111122223333:project/p1"}, PER},
            {{BT_F_RESOURCE_NAME}, {"arn:aws:codebuild:us-east-1:111122223333:project/p99"}, 0},
            {{BT_F_RESOURCE_NAME}, {"arn:aws:s3:::bkt"}, PER},
            {{BT_F_RESOURCE_TYPE}, {"AWS::S3::Bucket"}, PER},
            {{BT_F_RESOURCE_TYPE}, {"AWS::CodeBuild::Project"}, B * PER},
            {{BT_F_RESOURCE_TYPE}, {"AWS::IAM::Role"}, 0},
            /* a name and a type: each named by some resource of the event (as the files'
             * search decides), here the bucket and the project beside it */
            {{BT_F_RESOURCE_NAME, BT_F_RESOURCE_TYPE},
             {"arn:aws:s3:::bkt", "AWS::CodeBuild::Project"},
             PER},
            {{BT_F_RESOURCE_NAME, BT_F_RESOURCE_TYPE}, {"arn:aws:s3:::bkt", "AWS::IAM::Role"}, 0},
            /* with a user's summary in the same query: both filters of a block must agree */
            {{BT_F_RESOURCE_NAME, BT_F_USERNAME}, {"arn:aws:s3:::bkt", "nobody"}, 0},
        };
        size_t c, k;
        for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            bt_filter_init(&f);
            for (k = 0; k < 2 && cases[c].v[k]; k++)
                bt_filter_add(&f, cases[c].field[k], cases[c].v[k], &err);
            memset(&q, 0, sizeof q);
            q.filter = &f;
            q.raw_only = 1; /* a resource filter is never exact: every delivery is parsed */
            memset(&r, 0, sizeof r);
            r.want = recs;
            r.nwant = B * PER;
            CHECK_INT(bt_store_search(s, &q, on_raw_only, &r, &err), 0);
            CHECK_INT(r.n, cases[c].want);
            CHECK_INT(r.parsed, cases[c].want);
            CHECK_INT(r.bad, 0);
            CHECK_INT(r.unordered, 0);
        }
    }
    bt_store_close(s);
    for (i = 0; i < B * PER; i++)
        free(recs[i]);
    free(recs);
    free(ev);
    bt_arena_free(a);
    remove_store(path);
}

/* A search by event source goes through the names the source was seen with
 * (`srcnames`): one name, several (merged), none stored, a name filter beside it, and a
 * pair first written in a transaction that rolled back, then stored for real. */
#define SREC(id, t, src, name)                                                                     \
    "{\"eventVersion\":\"1.08\",\"eventTime\":\"" t "\",\"eventSource\":\"" src "\","              \
    "\"eventName\":\"" name "\",\"awsRegion\":\"us-east-1\",\"eventID\":\"" id "\"}"

static void test_source_names(void)
{
    char path[256];
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_filter f;
    bt_store_query q;
    hits h;
    int news = 0;
    static const struct {
        const char *src, *name;
        int want;
    } cases[] = {
        {"codebuild.amazonaws.com", NULL, 3},
        {"sts.amazonaws.com", NULL, 1},
        {"s3.amazonaws.com", NULL, 2},
        {"codebuild.amazonaws.com", "StopBuild", 1},
        {"codebuild.amazonaws.com", "AssumeRole", 0},
        {"ec2.amazonaws.com", NULL, 0},
    };
    size_t c;

    s = fresh_store(path, sizeof path, ".src");
    CHECK_INT(
        store_events(
            s,
            "[" SREC(
                "00000000-0000-4000-8000-000000000001", "2026-10-01T10:00:00Z",
                "codebuild.amazonaws.com",
                "StartBuild") "," SREC("00000000-0000-4000-8000-000000000002",
                                       "2026-10-01T10:01:00Z", "codebuild.amazonaws.com",
                                       "StopBuild") "," SREC("00000000-0000-4000-8000-000000000003",
                                                             "2026-10-01T10:02:00Z",
                                                             "codebuild.amazonaws.com",
                                                             "BatchGetBuilds") "," SREC("00000000-"
                                                                                        "0000-4000-"
                                                                                        "8000-"
                                                                                        "0000000000"
                                                                                        "04",
                                                                                        "2026-10-"
                                                                                        "01T10:03:"
                                                                                        "00Z",
                                                                                        "sts."
                                                                                        "amazonaws."
                                                                                        "com",
                                                                                        "AssumeRol"
                                                                                        "e") "]",
            &news, &err),
        0);
    CHECK_INT(bt_store_commit(s, &err), 0);
    /* s3's pair is written, then rolled back with its event */
    CHECK_INT(bt_store_begin(s, &err), 0);
    CHECK_INT(store_events(s,
                           "[" SREC("00000000-0000-4000-8000-000000000005", "2026-10-01T10:04:00Z",
                                    "s3.amazonaws.com", "GetObject") "]",
                           &news, &err),
              0);
    bt_store_rollback(s);
    CHECK_INT(bt_store_begin(s, &err), 0);
    CHECK_INT(store_events(s,
                           "[" SREC("00000000-0000-4000-8000-000000000005", "2026-10-01T10:04:00Z",
                                    "s3.amazonaws.com",
                                    "GetObject") "," SREC("00000000-0000-4000-8000-000000000006",
                                                          "2026-10-01T10:05:00Z",
                                                          "s3.amazonaws.com", "GetObject") "]",
                           &news, &err),
              0);
    CHECK_INT(bt_store_commit(s, &err), 0);
    memset(&q, 0, sizeof q);
    q.filter = &f;
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        bt_filter_init(&f);
        bt_filter_add(&f, BT_F_EVENT_SOURCE, cases[c].src, &err);
        if (cases[c].name)
            bt_filter_add(&f, BT_F_EVENT_NAME, cases[c].name, &err);
        memset(&h, 0, sizeof h);
        CHECK_INT(bt_store_search(s, &q, on_hit, &h, &err), 0);
        CHECK_INT(h.n, cases[c].want);
    }
    /* two sources at once, newest first; a page of one */
    bt_filter_init(&f);
    bt_filter_add(&f, BT_F_EVENT_SOURCE, "sts.amazonaws.com", &err);
    bt_filter_add(&f, BT_F_EVENT_SOURCE, "codebuild.amazonaws.com", &err);
    memset(&h, 0, sizeof h);
    CHECK_INT(bt_store_search(s, &q, on_hit, &h, &err), 0);
    CHECK_INT(h.n, 4);
    CHECK_STR(h.first, "00000000-0000-4000-8000-000000000004");
    CHECK(h.t[0] > h.t[1] && h.t[1] > h.t[2] && h.t[2] > h.t[3]);
    q.limit = 1;
    memset(&h, 0, sizeof h);
    CHECK_INT(bt_store_search(s, &q, on_hit, &h, &err), 0);
    CHECK_INT(h.n, 1);
    bt_store_close(s);
    remove_store(path);
}

/* ---- the block walk (schema 8): time order across blocks whose times overlap ---- */

typedef struct walked {
    int n;
    int64_t seq[800], t[800];
} walked;

static int64_t iso_ms(const char *v)
{
    int64_t ms = 0;
    CHECK_INT(bt_time_parse_iso(v, strlen(v), &ms), 0);
    return ms;
}

static int on_walk(void *ctx, const bt_event *ev, const bt_store_pos *pos)
{
    walked *w = ctx;
    (void)ev;
    if (w->n < 800) {
        w->seq[w->n] = pos->seq;
        w->t[w->n] = pos->time_ms;
    }
    w->n++;
    return 0;
}

typedef struct wexp {
    int64_t t, seq;
    int rare, put;
} wexp;

static int cmp_wexp_desc(const void *x, const void *y)
{
    const wexp *a = x, *b = y;
    if (a->t != b->t)
        return a->t > b->t ? -1 : 1;
    return a->seq > b->seq ? -1 : a->seq < b->seq;
}

/* The expected order of e[0..n) (newest first, or reversed) with the filter keep (0 all,
 * 1 PutObject, 2 the rare name), checked against what the search delivered. */
static void check_walk(const wexp *e, int n, int oldest, int keep, const walked *w)
{
    int i, k = 0, want = 0;
    for (i = 0; i < n; i++)
        want += keep == 0 || (keep == 1 && e[i].put) || (keep == 2 && e[i].rare);
    CHECK_INT(w->n, want);
    for (i = 0; i < n && k < w->n && k < 800; i++) {
        const wexp *x = &e[oldest ? n - 1 - i : i];
        if (keep == 1 && !x->put)
            continue;
        if (keep == 2 && !x->rare)
            continue;
        if (w->seq[k] != x->seq || w->t[k] != x->t) {
            CHECK_INT(w->seq[k], x->seq);
            return;
        }
        k++;
    }
}

/* Damages the store at path: the event whose id the query which gives loses its row
 * from its block's directory (at the head of the block's data, sqlite_rows.c), as a
 * lost row would. */
static void drop_row(const char *path, const char *which)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    drow *rows = NULL;
    size_t cap = 0, n = 0, dlen = 0;
    bt_buf scratch = BT_BUF_INIT, out = BT_BUF_INIT, tmp = BT_BUF_INIT;
    ZSTD_DCtx *zd = ZSTD_createDCtx();
    ZSTD_CCtx *zc = ZSTD_createCCtx();
    int64_t id = 0, lo = 0, blk = 0;
    char sql[400];

    CHECK_INT(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
    CHECK_INT(rows_register(db, NULL), 0);
    CHECK_INT(sqlite3_prepare_v2(db, which, -1, &st, NULL), SQLITE_OK);
    if (st && sqlite3_step(st) == SQLITE_ROW)
        id = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    CHECK(id > 0);
    snprintf(sql, sizeof sql,
             "SELECT b.lo, b.blk, k.data FROM bdir b JOIN blocks k ON k.id = b.blk"
             " WHERE b.lo <= %lld ORDER BY b.lo DESC LIMIT 1",
             (long long)id);
    CHECK_INT(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        const unsigned char *d = sqlite3_column_blob(st, 2);
        size_t len = (size_t)sqlite3_column_bytes(st, 2);
        lo = sqlite3_column_int64(st, 0);
        blk = sqlite3_column_int64(st, 1);
        CHECK(len > DIR_HEAD && dir_frame_len(d, &dlen) == 0 && dlen <= len - DIR_HEAD);
        if (len > DIR_HEAD && dlen <= len - DIR_HEAD) {
            CHECK_INT(dir_decode(d + DIR_HEAD, dlen, zd, &scratch, &rows, &cap, &n), 0);
            bt_buf_append(&tmp, d + DIR_HEAD + dlen, len - DIR_HEAD - dlen); /* the records */
        }
    }
    sqlite3_finalize(st);
    CHECK(id - lo < (int64_t)n && rows[id - lo].present);
    if (id - lo < (int64_t)n) {
        bt_buf recs = tmp;
        unsigned char head[DIR_HEAD];
        tmp = (bt_buf)BT_BUF_INIT;
        rows[id - lo].present = 0;
        CHECK_INT(dir_encode(rows, n, zc, &out, &tmp), 0);
        dir_frame_head(head, out.len);
        bt_buf_clear(&tmp);
        bt_buf_append(&tmp, head, sizeof head);
        bt_buf_append(&tmp, out.data, out.len);
        bt_buf_append(&tmp, recs.data, recs.len);
        bt_buf_dispose(&recs);
        CHECK_INT(sqlite3_prepare_v2(db, "UPDATE blocks SET data = ? WHERE id = ?", -1, &st, NULL),
                  SQLITE_OK);
        sqlite3_bind_blob(st, 1, tmp.data, (int)tmp.len, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, blk);
        CHECK_INT(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    free(rows);
    bt_buf_dispose(&scratch);
    bt_buf_dispose(&out);
    bt_buf_dispose(&tmp);
    ZSTD_freeDCtx(zd);
    ZSTD_freeCCtx(zc);
}

/* A packed batch's blocks order their rows by name (bsum.ndir): a search by name reads
 * only its runs, in time order; a run short of a row is reported corrupt. */
static void test_block_dirs(void)
{
    enum { N = 1500 };
    char path[256];
    char **recs = make_records(N);
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_arena *a = bt_arena_new(0, 0);
    bt_event *ev = calloc(N, sizeof *ev);
    bt_store_query q;
    bt_filter f;
    walked w;
    int i, starts = 0, k;
    static const char *const names[] = {"StartBuild", "GetObject"};

    for (i = 0; i < N; i++)
        starts += i % 211 == 0;
    tmp_store(path, sizeof path);
    strcat(path, ".dirs");
    store_packed(path, recs, N, a, ev);
    CHECK_INT(bt_store_open(path, BT_STORE_READONLY, &s, &err), 0);
    if (!s)
        return;
    memset(&q, 0, sizeof q);
    q.filter = &f;
    for (k = 0; k < 2; k++) {
        bt_filter_init(&f);
        bt_filter_add(&f, BT_F_EVENT_NAME, names[k], &err);
        memset(&w, 0, sizeof w);
        CHECK_INT(bt_store_search(s, &q, on_walk, &w, &err), 0);
        CHECK_INT(w.n, k ? N - starts : starts);
        for (i = 1; i < w.n && i < 800; i++)
            CHECK(w.t[i - 1] > w.t[i] || (w.t[i - 1] == w.t[i] && w.seq[i - 1] > w.seq[i]));
    }
    bt_store_close(s);
    /* one GetObject row gone: its run holds fewer rows than the directory counts. A
     * search by StartBuild reads only StartBuild's runs (it does not see the damage),
     * one by GetObject reads the damaged run and says so */
    drop_row(path, "SELECT min(id) FROM events WHERE name = (SELECT id FROM strs WHERE"
                   " s = 'GetObject')");
    CHECK_INT(bt_store_open(path, BT_STORE_READONLY, &s, &err), 0);
    for (k = 0; k < 2; k++) {
        bt_filter_init(&f);
        bt_filter_add(&f, BT_F_EVENT_NAME, names[k], &err);
        memset(&w, 0, sizeof w);
        bt_error_clear(&err);
        if (k == 0) {
            CHECK_INT(bt_store_search(s, &q, on_walk, &w, &err), 0);
            CHECK_INT(w.n, starts);
            continue;
        }
        CHECK(bt_store_search(s, &q, on_walk, &w, &err) != 0);
        CHECK(strstr(err.msg, "corrupt") != NULL && strstr(err.msg, "summary counts") != NULL);
    }
    bt_store_close(s);
    for (i = 0; i < N; i++)
        free(recs[i]);
    free(recs);
    free(ev);
    bt_arena_free(a);
    remove_store(path);
}

static void test_block_walk(void)
{
    enum { TX = 16, PER = 30 };
    char path[256], rec[512];
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_filter f;
    bt_store_query q;
    bt_store_pos at;
    wexp e[TX * PER + 10];
    walked w, page;
    int n = 0, tx, j, news, oldest, keep, total;

    s = fresh_store(path, sizeof path, ".walk");
    /* first two blocks of other span classes (bt_span_class; the walk reads each class's
     * blocks apart and merges them): one over four days, whose times lie before and
     * after all the others', and one of nine seconds */
    for (tx = 0; tx < 2 && s; tx++) {
        static const char *const times[2][3] = {
            {"2026-09-29T10:00:00Z", "2026-10-01T10:45:00Z", "2026-10-03T10:00:00Z"},
            {"2026-10-01T10:20:00Z", "2026-10-01T10:20:05Z", "2026-10-01T10:20:09Z"}};
        for (j = 0; j < 3; j++) {
            snprintf(rec, sizeof rec,
                     "[{\"eventVersion\":\"1.08\",\"eventTime\":\"%s\",\"eventSource\":"
                     "\"s3.amazonaws.com\",\"eventName\":\"GetObject\",\"awsRegion\":"
                     "\"us-east-1\",\"eventID\":\"00000000-0000-4000-8000-%012d\"}]",
                     times[tx][j], n);
            CHECK_INT(store_events(s, rec, &news, &err), 0);
            e[n].t = iso_ms(times[tx][j]);
            e[n].seq = n + 1;
            e[n].rare = e[n].put = 0;
            n++;
        }
        CHECK_INT(bt_store_commit(s, &err), 0);
        CHECK_INT(bt_store_begin(s, &err), 0);
    }
    /* then each transaction's events a block (commit flushes it), spread over two hours
     * that overlap the other blocks' hours; equal times across blocks */
    for (tx = 0; tx < TX && s; tx++) {
        if (tx)
            CHECK_INT(bt_store_begin(s, &err), 0);
        for (j = 0; j < PER; j++) {
            int m = (tx * 7 + j * 13) % 120, sec = j % 3 == 0 ? 0 : j;
            int rare = tx == 5 && j == 3, put = !rare && (tx + j) % 4 == 0;
            snprintf(rec, sizeof rec,
                     "[{\"eventVersion\":\"1.08\",\"eventTime\":\"2026-10-01T%02d:%02d:%02dZ\","
                     "\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"%s\","
                     "\"awsRegion\":\"us-east-1\",\"eventID\":\"00000000-0000-4000-8000-%012d\"}]",
                     10 + m / 60, m % 60, sec,
                     rare  ? "RareName"
                     : put ? "PutObject"
                           : "GetObject",
                     n);
            CHECK_INT(store_events(s, rec, &news, &err), 0);
            CHECK_INT(news, 1);
            e[n].t = (int64_t)1790848800000 + ((int64_t)m * 60 + sec) * 1000;
            e[n].seq = n + 1;
            e[n].rare = rare;
            e[n].put = put;
            n++;
        }
        if (tx < TX - 1)
            CHECK_INT(bt_store_commit(s, &err), 0);
    }
    if (!s)
        return;
    CHECK_INT(e[6].t, iso_ms("2026-10-01T10:00:00Z"));
    qsort(e, (size_t)n, sizeof *e, cmp_wexp_desc);
    memset(&q, 0, sizeof q);
    q.filter = &f;
    /* the last block is still pending in its transaction, then committed */
    for (tx = 0; tx < 2; tx++) {
        if (tx)
            CHECK_INT(bt_store_commit(s, &err), 0);
        for (oldest = 0; oldest < 2; oldest++)
            for (keep = 0; keep < 3; keep++) {
                bt_filter_init(&f);
                if (keep)
                    bt_filter_add(&f, BT_F_EVENT_NAME, keep == 1 ? "PutObject" : "RareName", &err);
                q.oldest_first = oldest;
                q.limit = 0;
                q.after = NULL;
                memset(&w, 0, sizeof w);
                CHECK_INT(bt_store_search(s, &q, on_walk, &w, &err), 0);
                check_walk(e, n, oldest, keep, &w);
                /* pages of 7 from each page's last position: the same rows */
                q.limit = 7;
                memset(&page, 0, sizeof page);
                for (total = 0;;) {
                    walked one;
                    memset(&one, 0, sizeof one);
                    CHECK_INT(bt_store_search(s, &q, on_walk, &one, &err), 0);
                    for (j = 0; j < one.n && page.n < 800; j++, page.n++) {
                        page.seq[page.n] = one.seq[j];
                        page.t[page.n] = one.t[j];
                    }
                    total += one.n;
                    if (one.n < 7 || total > 1000)
                        break;
                    at.time_ms = one.t[one.n - 1];
                    at.seq = one.seq[one.n - 1];
                    at.unparsed = 0;
                    q.after = &at;
                }
                check_walk(e, n, oldest, keep, &page);
            }
    }
    /* a time range: the events of 10:30-10:59 inclusive */
    bt_filter_init(&f);
    f.start_ms = iso_ms("2026-10-01T10:30:00Z");
    f.end_ms = iso_ms("2026-10-01T10:59:59Z");
    q.oldest_first = 0;
    q.limit = 0;
    q.after = NULL;
    memset(&w, 0, sizeof w);
    CHECK_INT(bt_store_search(s, &q, on_walk, &w, &err), 0);
    for (j = 0, keep = 0; j < n; j++)
        keep += e[j].t >= f.start_ms && e[j].t <= f.end_ms;
    CHECK(keep > 0 && keep < n);
    CHECK_INT(w.n, keep);
    for (j = 1; j < w.n && j < 800; j++)
        CHECK(w.t[j - 1] > w.t[j] || (w.t[j - 1] == w.t[j] && w.seq[j - 1] > w.seq[j]));
    bt_store_close(s);
    /* a damaged time directory: a page that opens its block says so */
    {
        char cmd[600];
        snprintf(cmd, sizeof cmd,
                 "sqlite3 '%s' \"UPDATE btime SET tdir = x'0102ff' WHERE blk = (SELECT blk FROM"
                 " bsum ORDER BY t1 DESC LIMIT 1)\"",
                 path);
        CHECK(system(cmd) == 0);
        CHECK_INT(bt_store_open(path, BT_STORE_READONLY, &s, &err), 0);
        if (s) {
            bt_filter_init(&f);
            q.limit = 7;
            memset(&w, 0, sizeof w);
            bt_error_clear(&err);
            CHECK(bt_store_search(s, &q, on_walk, &w, &err) != 0);
            CHECK(strstr(err.msg, "corrupt") != NULL && strstr(err.msg, "time directory") != NULL);
            bt_store_close(s);
        }
    }
    remove_store(path);
    test_block_dirs();
}

/* A search that parses records to decide (user name, principal, resource name) first
 * looks for the values' bytes in them (rawcheck): a value behind an escape, a project
 * ARN derived from a project name, one from a build id, and root's user name are still
 * found, for all results and for a page; records without the bytes are not delivered. */
static void test_rawcheck(void)
{
    char path[256];
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_filter f;
    bt_store_query q;
    hits h;
    int news = 0;
    size_t c;
    static const struct {
        bt_filter_field field;
        const char *v;
        int want;
        const char *first;
    } cases[] = {
        {BT_F_PRINCIPAL, "arn:aws:sts::111122223333:assumed-role/R/s", 1,
         "00000000-0000-4000-8000-000000000001"},
        {BT_F_PRINCIPAL, "arn:aws:iam::111122223333:user/alice", 1,
         "00000000-0000-4000-8000-000000000002"},
        {BT_F_RESOURCE_NAME, "arn:aws:codebuild:us-east-1:111122223333:project/p7", 1,
         "00000000-0000-4000-8000-000000000003"},
        {BT_F_RESOURCE_NAME, "arn:aws:codebuild:us-east-1:111122223333:project/p8", 1,
         "00000000-0000-4000-8000-000000000004"},
        {BT_F_RESOURCE_NAME, "arn:aws:codebuild:us-east-1:111122223333:project/p9", 0, NULL},
        {BT_F_PRINCIPAL, "arn:aws:iam::111122223333:user/bob", 0, NULL},
        /* user names, which the rows do not hold (schema 9): root's is derived from the
         * identity's type, which holds it only ASCII case-insensitively; an assumed
         * role's is its session, behind an escape here */
        {BT_F_USERNAME, "root", 1, "00000000-0000-4000-8000-000000000005"},
        {BT_F_USERNAME, "s", 1, "00000000-0000-4000-8000-000000000001"},
        {BT_F_USERNAME, "bob", 0, NULL},
    };

    s = fresh_store(path, sizeof path, ".raw");
    CHECK_INT(store_events(
                  s,
                  "[{\"eventVersion\":\"1.08\",\"eventTime\":\"2026-10-01T10:00:00Z\","
                  "\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\","
                  "\"awsRegion\":\"us-east-1\",\"userIdentity\":{\"type\":\"AssumedRole\","
                  "\"arn\":\"arn:aws:sts::111122223333:assumed-role\\/R\\/s\"},"
                  "\"eventID\":\"00000000-0000-4000-8000-000000000001\"},"
                  "{\"eventVersion\":\"1.08\",\"eventTime\":\"2026-10-01T10:01:00Z\","
                  "\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\","
                  "\"awsRegion\":\"us-east-1\",\"userIdentity\":{\"type\":\"IAMUser\","
                  "\"arn\":\"arn:aws:iam::111122223333:user/\\u0061lice\"},"
                  "\"eventID\":\"00000000-0000-4000-8000-000000000002\"},"
                  "{\"eventVersion\":\"1.08\",\"eventTime\":\"2026-10-01T10:02:00Z\","
                  "\"eventSource\":\"codebuild.amazonaws.com\",\"eventName\":\"BatchGetProjects\","
                  "\"awsRegion\":\"us-east-1\",\"recipientAccountId\":\"111122223333\","
                  "\"requestParameters\":{\"projectName\":\"p7\"},"
                  "\"eventID\":\"00000000-0000-4000-8000-000000000003\"},"
                  "{\"eventVersion\":\"1.08\",\"eventTime\":\"2026-10-01T10:03:00Z\","
                  "\"eventSource\":\"codebuild.amazonaws.com\",\"eventName\":\"StopBuild\","
                  "\"awsRegion\":\"us-east-1\",\"recipientAccountId\":\"111122223333\","
                  "\"requestParameters\":{\"id\":\"p8:0f7c6a52-7c1b-4f3e-9d7e-1a2b3c4d5e6f\"},"
                  "\"eventID\":\"00000000-0000-4000-8000-000000000004\"},"
                  "{\"eventVersion\":\"1.08\",\"eventTime\":\"2026-10-01T10:04:00Z\","
                  "\"eventSource\":\"iam.amazonaws.com\",\"eventName\":\"ListUsers\","
                  "\"awsRegion\":\"us-east-1\",\"userIdentity\":{\"type\":\"Root\","
                  "\"principalId\":\"111122223333\",\"accountId\":\"111122223333\"},"
                  "\"eventID\":\"00000000-0000-4000-8000-000000000005\"}]",
                  &news, &err),
              0);
    CHECK_INT(news, 5);
    CHECK_INT(bt_store_commit(s, &err), 0);
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int raw;
        /* all results (for user names and principals: prefilter), then a page */
        for (raw = 0; raw < 4; raw++) {
            bt_filter_init(&f);
            bt_filter_add(&f, cases[c].field, cases[c].v, &err);
            memset(&q, 0, sizeof q);
            q.filter = &f;
            q.raw_only = raw & 1;
            q.limit = raw < 2 ? 0 : 50;
            memset(&h, 0, sizeof h);
            CHECK_INT(bt_store_search(s, &q, on_hit, &h, &err), 0);
            CHECK_INT(h.n, cases[c].want);
            if (cases[c].first)
                CHECK_STR(h.first, cases[c].first);
        }
    }
    bt_store_close(s);
    remove_store(path);
}

/* bt_store_breakdown's pairs, as it reports them */
typedef struct brk_seen {
    int n;
    char acct[80][16], region[80][16];
    uint64_t count[80];
    int64_t lo[80], hi[80];
} brk_seen;

static int on_brk(void *ctx, const char *account, const char *region, uint64_t n, int64_t lo,
                  int64_t hi)
{
    brk_seen *b = ctx;
    if (b->n == 80)
        return 1;
    snprintf(b->acct[b->n], 16, "%s", account ? account : "-");
    snprintf(b->region[b->n], 16, "%s", region ? region : "-");
    b->count[b->n] = n;
    b->lo[b->n] = lo;
    b->hi[b->n] = hi;
    b->n++;
    return 0;
}

/* 3 accounts x 25 regions (more pairs than the table's first size) and records without
 * a region: counts, first and last times per pair, ordered by account then region with
 * the missing first */
static void test_breakdown(void)
{
    char path[256], *text;
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    brk_seen b;
    int i, news = 0, k;
    size_t len = 0;

    tmp_store(path, sizeof path);
    remove_store(path);
    text = malloc(2000 * 320);
    text[len++] = '[';
    for (i = 0; i < 1600; i++) { /* pair p = i % 80: account p / 25, region p % 25; p >= 75:
                                  * account p % 3, no region */
        int p = i % 80, ac = p >= 75 ? p % 3 : p / 25, rg = p % 25;
        char region[40];
        if (p >= 75)
            snprintf(region, sizeof region, "%s", "");
        else
            snprintf(region, sizeof region, "\"awsRegion\":\"r-%02d\",", rg);
        len += (size_t)sprintf(text + len,
                               "%s{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":"
                               "\"IAMUser\",\"userName\":\"u\",\"accountId\":\"%012d\"},"
                               "\"eventTime\":\"2026-10-%02dT10:00:%02dZ\",\"eventSource\":"
                               "\"s3.amazonaws.com\",\"eventName\":\"GetObject\",%s"
                               "\"eventID\":\"00000000-0000-4000-8000-%012d\"}",
                               i ? "," : "", ac + 1, 1 + i / 80, i % 60, region, i);
    }
    text[len++] = ']';
    text[len] = '\0';
    CHECK_INT(bt_store_open(path, 0, &s, &err), 0);
    CHECK_INT(bt_store_begin(s, &err), 0);
    CHECK_INT(store_events(s, text, &news, &err), 0);
    CHECK_INT(news, 1600);
    CHECK_INT(bt_store_commit(s, &err), 0);
    memset(&b, 0, sizeof b);
    CHECK_INT(bt_store_breakdown(s, on_brk, &b, &err), 0);
    /* 75 pairs with a region; the 5 region-less ones fold to one per account (3) */
    CHECK_INT(b.n, 78);
    for (k = 0; k < b.n; k++) {
        int ac = atoi(b.acct[k]) - 1, want;
        int rg = b.region[k][0] == '-' ? -1 : atoi(b.region[k] + 2);
        int64_t lo = INT64_MAX, hi = INT64_MIN;
        want = 0;
        for (i = 0; i < 1600; i++) {
            int p = i % 80, pac = p >= 75 ? p % 3 : p / 25, prg = p >= 75 ? -1 : p % 25;
            if (pac == ac && prg == rg) {
                int64_t t = 1790848800000LL + (int64_t)(i / 80) * 86400000 + (i % 60) * 1000;
                want++;
                lo = t < lo ? t : lo;
                hi = t > hi ? t : hi;
            }
        }
        CHECK_INT(b.count[k], want);
        CHECK(b.lo[k] == lo && b.hi[k] == hi);
        if (k) /* account then region; no region first */
            CHECK(strcmp(b.acct[k - 1], b.acct[k]) < 0 ||
                  (strcmp(b.acct[k - 1], b.acct[k]) == 0 &&
                   (b.region[k - 1][0] == '-' || strcmp(b.region[k - 1], b.region[k]) < 0)));
    }
    bt_store_close(s);
    free(text);
    remove_store(path);
}

/* ---- prefilter (schema 9): the fields the rows do not hold, over many blocks ---- */

/* An all-results search by user, principal, access key or source IP reads the blocks
 * the summaries choose, 64 at a time, on every core, and keeps the matching records'
 * copies up to a budget (then reads their blocks again): over 150 blocks whose times
 * overlap, every budget delivers exactly each user's events, in time order. */
static void test_prefilter(void)
{
    enum { TX = 150, PER = 12, U = 4 };
    static const char *const users[U] = {"alice", "bob", "carol", "dave"};
    static const size_t budgets[] = {PF_KEEP_MAX, 3000, 0};
    char path[256], rec[1024], akid[32], ip[32], arn[96];
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_filter f;
    bt_store_query q;
    wexp *e = calloc(TX * PER, sizeof *e), *want = calloc(TX * PER, sizeof *want);
    walked *w = calloc(1, sizeof *w);
    int n = 0, tx, j, news, u, k, oldest, nw;
    size_t bi;

    s = fresh_store(path, sizeof path, ".pre");
    for (tx = 0; tx < TX && s && e; tx++) {
        if (tx)
            CHECK_INT(bt_store_begin(s, &err), 0);
        for (j = 0; j < PER; j++) {
            int m = (tx * 7 + j * 13) % 600, who = (tx * 5 + j) % U;
            snprintf(rec, sizeof rec,
                     "[{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\","
                     "\"principalId\":\"AIDA%d\",\"arn\":\"arn:aws:iam::111122223333:user/%s\","
                     "\"accountId\":\"111122223333\",\"accessKeyId\":\"AKIAPRE%d\","
                     "\"userName\":\"%s\"},\"eventTime\":\"2026-10-01T%02d:%02d:%02dZ\","
                     "\"eventSource\":\"s3.amazonaws.com\",\"eventName\":\"GetObject\","
                     "\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"10.0.0.%d\","
                     "\"eventID\":\"00000000-0000-4000-8000-%012d\"}]",
                     who, users[who], who, users[who], 10 + m / 60, m % 60, j % 2 ? 0 : j, who, n);
            CHECK_INT(store_events(s, rec, &news, &err), 0);
            CHECK_INT(news, 1);
            e[n].t = iso_ms("2026-10-01T10:00:00Z") + ((int64_t)m * 60 + (j % 2 ? 0 : j)) * 1000;
            e[n].seq = n + 1;
            e[n].put = who;
            n++;
        }
        CHECK_INT(bt_store_commit(s, &err), 0);
    }
    if (!s || !e || !want || !w)
        goto out;
    qsort(e, (size_t)n, sizeof *e, cmp_wexp_desc);
    for (bi = 0; bi < sizeof budgets / sizeof budgets[0]; bi++) {
        s->pf_keep_max = budgets[bi];
        for (u = 0; u < U; u++)
            for (k = 0; k < 5; k++)
                for (oldest = 0; oldest < 2; oldest++) {
                    int i, two = k == 4; /* alice or this user, by name */
                    bt_filter_init(&f);
                    snprintf(akid, sizeof akid, "AKIAPRE%d", u);
                    snprintf(ip, sizeof ip, "10.0.0.%d", u);
                    snprintf(arn, sizeof arn, "arn:aws:iam::111122223333:user/%s", users[u]);
                    bt_filter_add(&f,
                                  k == 0   ? BT_F_USERNAME
                                  : k == 1 ? BT_F_PRINCIPAL
                                  : k == 2 ? BT_F_ACCESS_KEY_ID
                                  : k == 3 ? BT_F_SOURCE_IP
                                           : BT_F_USERNAME,
                                  k == 0 || k == 4 ? users[u]
                                  : k == 1         ? arn
                                  : k == 2         ? akid
                                                   : ip,
                                  &err);
                    if (two)
                        bt_filter_add(&f, BT_F_USERNAME, "alice", &err);
                    for (i = nw = 0; i < n; i++)
                        if (e[i].put == u || (two && e[i].put == 0))
                            want[nw++] = e[i];
                    if (oldest)
                        for (i = 0; i < nw / 2; i++) {
                            wexp t = want[i];
                            want[i] = want[nw - 1 - i];
                            want[nw - 1 - i] = t;
                        }
                    memset(&q, 0, sizeof q);
                    q.filter = &f;
                    q.oldest_first = oldest;
                    memset(w, 0, sizeof *w);
                    CHECK_INT(bt_store_search(s, &q, on_walk, w, &err), 0);
                    CHECK_INT(w->n, nw);
                    CHECK(nw > TX * PER / U / 2);
                    for (i = 0; i < w->n && i < nw && i < 800; i++)
                        if (w->seq[i] != want[i].seq || w->t[i] != want[i].t) {
                            CHECK_INT(w->seq[i], want[i].seq);
                            break;
                        }
                }
    }
out:
    bt_store_close(s);
    remove_store(path);
    free(e);
    free(want);
    free(w);
}

/* The checkpointer (sqlite_ckpt.c): commits that leave the write-ahead log long are
 * copied into the file by its thread while the handle stays open; a log past the
 * length set is copied whole before the next transaction, which then writes it from its
 * start again; closing leaves no log and every row. */
static void test_checkpointer(void)
{
    char path[512], wal[600], cwd[512], *slash;
    bt_error err = BT_ERROR_INIT;
    bt_store *s = fresh_store(path, sizeof path, ".ckpt");
    struct stat st;
    sqlite3 *db = NULL;
    sqlite3_stmt *q = NULL;
    int64_t ps = 0, blob;
    int round, i;
    if (!s)
        return;
    /* opened by a relative name, and the program's directory changed after: the
     * thread opens the store's file, not another one of that name */
    bt_store_close(s);
    s = NULL;
    slash = strrchr(path, '/');
    CHECK(getcwd(cwd, sizeof cwd) != NULL && slash != NULL);
    *slash = '\0';
    CHECK_INT(chdir(path), 0);
    *slash = '/';
    CHECK_INT(bt_store_open(slash + 1, 0, &s, &err), 0);
    CHECK_INT(chdir("/"), 0);
    if (!s || bt_store_begin(s, &err) != 0) {
        CHECK(0);
        bt_store_close(s);
        CHECK_INT(chdir(cwd), 0);
        return;
    }
    CHECK(s->ckpt != NULL);
    CHECK_INT((int)ckpt_runs(s), 0);
    CHECK_INT(get_int(s, "PRAGMA page_size", &ps, &err), 0);
    CHECK_INT((int)ps, 8192); /* a new store's */
    blob = 1500 * ps;
    ckpt_set_sync_pages(s, 2500);
    for (round = 0; round < 4; round++) {
        char sql[200];
        if (round)
            CHECK_INT(bt_store_begin(s, &err), 0);
        /* bytes that do not compress: some 1,500 pages of log a commit */
        snprintf(sql, sizeof sql,
                 "INSERT OR REPLACE INTO cursors(name, value, updated_ms)"
                 " VALUES('ckpt-%d', randomblob(%lld), %d)",
                 round, (long long)blob, round);
        CHECK_INT(sqlite3_exec(s->db, sql, NULL, NULL, NULL), SQLITE_OK);
        CHECK_INT(bt_store_commit(s, &err), 0);
        if (round == 0) {
            /* the handle checkpoints nothing itself below the bound: the thread wrote
             * the file */
            for (i = 0; i < 3000 && ckpt_runs(s) == 0; i++)
                usleep(10000);
            CHECK(ckpt_runs(s) >= 1);
            CHECK_INT(stat(path, &st), 0);
            CHECK(st.st_size > blob);
        }
    }
    /* the second commit left 3,000 pages and more: the third wrote the log from its
     * start, and the fourth after it (without the restart: 6,000 pages and more) */
    snprintf(wal, sizeof wal, "%s-wal", path);
    CHECK_INT(stat(wal, &st), 0);
    CHECK(st.st_size > blob && st.st_size < 4000 * ps);
    bt_store_close(s);
    CHECK_INT(chdir(cwd), 0);
    CHECK(stat(wal, &st) != 0 || st.st_size == 0);
    open_query(path, "SELECT count(*), sum(length(value)) FROM cursors WHERE name LIKE 'ckpt-%'",
               &db, &q);
    CHECK_INT(sqlite3_step(q), SQLITE_ROW);
    CHECK_INT(sqlite3_column_int(q, 0), 4);
    CHECK(sqlite3_column_int64(q, 1) == 4 * blob);
    sqlite3_finalize(q);
    sqlite3_close(db);
    remove_store(path);
}

BT_TEST_MAIN(test_containers, test_store, test_packed_prefix, test_block_layout,
             test_eid_collisions, test_eid_chunks, test_eid_runs, test_eid_runs_random,
             test_resource_summaries, test_source_names, test_block_walk, test_rawcheck,
             test_breakdown, test_prefilter, test_checkpointer)
