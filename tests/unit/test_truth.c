/* test_truth.c - issue #15 through the public API, each case from records written here:
 * a bad record costs only itself and is reported with its index and reason, one rule
 * for what is a record, nothing recognised is said, --from deduplicates, Logstash
 * @timestamp, assumed-role usernames, builds that end without a final state event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildtrail/buf.h"
#include "buildtrail/codebuild.h"
#include "buildtrail/source.h"
#include "tharness.h"

#define REC(id, t)                                                                         \
    "{\"eventVersion\":\"1.08\",\"eventID\":\"" id "\",\"eventTime\":\"" t                 \
    "\",\"eventName\":\"StartBuild\",\"eventSource\":\"codebuild.amazonaws.com\"}"
#define ID1 "11111111-1111-4111-8111-111111111111"
#define ID2 "22222222-2222-4222-8222-222222222222"
#define ID3 "33333333-3333-4333-8333-333333333333"

typedef struct seen {
    int n, nrej;
    char ids[8][40];
    uint64_t rej_index[8];
    char rej_reason[8][160];
    int rej_json[8];
    bt_buf out;
} seen;

static int on_ev(void *ctx, const bt_event *ev)
{
    seen *s = ctx;
    if (s->n < 8)
        snprintf(s->ids[s->n], sizeof s->ids[0], "%s", ev->event_id);
    s->n++;
    return 0;
}

static void on_rej(void *ctx, const bt_reject *rj)
{
    seen *s = ctx;
    if (s->nrej < 8) {
        s->rej_index[s->nrej] = rj->index;
        snprintf(s->rej_reason[s->nrej], sizeof s->rej_reason[0], "%s", rj->reason);
        s->rej_json[s->nrej] = rj->is_json;
    }
    s->nrej++;
    bt_reject_write(&s->out, "f.json", rj);
}

static int read_str(const char *d, seen *s, bt_read_stats *st, bt_error *e)
{
    bt_arena *a = bt_arena_new(1 << 16, 0);
    bt_read_opts o;
    int rc;
    bt_buf_dispose(&s->out);
    memset(s, 0, sizeof *s);
    memset(st, 0, sizeof *st);
    memset(&o, 0, sizeof o);
    o.on_reject = on_rej;
    o.reject_ctx = s;
    rc = bt_read_data_opts(d, strlen(d), a, &o, on_ev, s, st, e);
    bt_arena_free(a);
    return rc;
}

/* case 1: [valid, bogus eventTime, valid] in every container keeps both valid ones and
 * reports the bad one with its index and reason */
static void test_bad_record_costs_itself(void)
{
    static const char *const docs[] = {
        "{\"Records\":[" REC(ID1, "2026-01-01T00:00:00Z") ",\n" REC(ID2, "bogus") ",\n" REC(
            ID3, "2026-01-01T00:00:02Z") "]}",
        "[" REC(ID1, "2026-01-01T00:00:00Z") "," REC(ID2, "bogus") "," REC(
            ID3, "2026-01-01T00:00:02Z") "]",
        REC(ID1, "2026-01-01T00:00:00Z") "\n" REC(ID2, "bogus") "\n" REC(
            ID3, "2026-01-01T00:00:02Z") "\n",
        /* a nested array (walked as a tree, not streamed) */
        "[[" REC(ID1, "2026-01-01T00:00:00Z") "," REC(ID2, "bogus") "," REC(
            ID3, "2026-01-01T00:00:02Z") "]]",
    };
    size_t k;
    seen s;
    bt_read_stats st;
    bt_error e = BT_ERROR_INIT;
    memset(&s, 0, sizeof s);
    for (k = 0; k < sizeof docs / sizeof docs[0]; k++) {
        CHECK_INT(read_str(docs[k], &s, &st, &e), BT_EPARSE);
        CHECK_INT(s.n, 2);
        CHECK_STR(s.ids[0], ID1);
        CHECK_STR(s.ids[1], ID3);
        CHECK_INT(st.rejected, 1);
        CHECK_INT(s.nrej, 1);
        CHECK_INT(s.rej_index[0], 1);
        CHECK(strstr(s.rej_reason[0], "eventTime") != NULL);
        CHECK_INT(s.rej_json[0], 1);
        CHECK(s.out.data && strstr(s.out.data, "\"index\":1,") != NULL);
        CHECK(s.out.data && strstr(s.out.data, "\"record\":{\"eventVersion\"") != NULL);
        CHECK(s.out.data && strchr(s.out.data, '\n') == s.out.data + s.out.len - 1);
    }
    /* a line that is not JSON is rejected as text */
    CHECK_INT(read_str(REC(ID1, "2026-01-01T00:00:00Z") "\nnot json\n" REC(
                           ID3, "2026-01-01T00:00:02Z") "\n",
                       &s, &st, &e),
              BT_EPARSE);
    CHECK_INT(s.n, 2);
    CHECK_INT(s.nrej, 1);
    CHECK_INT(s.rej_json[0], 0);
    CHECK(s.out.data && strstr(s.out.data, "\"text\":\"not json\"") != NULL);
    bt_buf_dispose(&s.out);
}

/* case 3: records under another key are not silently an empty input; fragments follow
 * one rule whatever keys they carry */
static void test_one_rule(void)
{
    seen s;
    bt_read_stats st;
    bt_error e = BT_ERROR_INIT;
    memset(&s, 0, sizeof s);
    CHECK_INT(read_str("[{\"Name\":\"x\",\"Log\":" REC(ID1, "2026-01-01T00:00:00Z") "}]", &s, &st,
                       &e),
              BT_ENOTFOUND);
    CHECK(strstr(e.msg, "no CloudTrail records recognised") != NULL);
    CHECK_INT(s.n, 0);
    /* the same fragment, with and without eventVersion: both rejected and counted */
    CHECK_INT(read_str("{\"eventName\":\"X\",\"eventSource\":\"s3.amazonaws.com\"}\n", &s, &st, &e),
              BT_EPARSE);
    CHECK_INT(st.rejected, 1);
    CHECK_INT(read_str("{\"eventVersion\":\"1.08\",\"eventName\":\"X\"}\n", &s, &st, &e), BT_EPARSE);
    CHECK_INT(st.rejected, 1);
    /* empty containers and digests are not "nothing recognised" */
    CHECK_INT(read_str("{\"Records\":[]}", &s, &st, &e), 0);
    CHECK_INT(read_str("[]", &s, &st, &e), 0);
    bt_buf_dispose(&s.out);
}

static int count_batch(void *ctx, const bt_batch *b)
{
    size_t i;
    int *n = ctx;
    for (i = 0; i < b->n; i++)
        n[strcmp(b->events[i].event_id, "legacy-1") == 0 ? 1 : 0]++;
    return 0;
}

static void write_file(const char *path, const char *data)
{
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(data, f);
        fclose(f);
    }
}

/* case 4: two files holding the same eventIDs (a UUID and a non-UUID id): each is
 * delivered once with dedup, as the store keeps it once */
static void test_scan_dedup(void)
{
    char dir[64], p[128];
    int n[2], k;
    bt_file_list l = {0};
    bt_scan_opts so;
    bt_read_stats st;
    bt_error e = BT_ERROR_INIT;
    snprintf(dir, sizeof dir, "/tmp/bt-test-truth.XXXXXX");
    if (!mkdtemp(dir))
        bt_test_skip("no temporary directory");
    for (k = 0; k < 2; k++) {
        snprintf(p, sizeof p, "%s/%d.json", dir, k);
        write_file(p, "{\"Records\":[" REC(ID1, "2026-01-01T00:00:00Z") "," REC(
                          "legacy-1", "2026-01-01T00:00:01Z") "]}");
    }
    CHECK_INT(bt_file_list_add(&l, dir, &e), 0);
    for (k = 0; k < 2; k++) {
        memset(&so, 0, sizeof so);
        memset(&st, 0, sizeof st);
        memset(n, 0, sizeof n);
        so.threads = 2;
        so.on_batch = count_batch;
        so.ctx = n;
        so.dedup = k;
        CHECK_INT(bt_scan_files(&l, &so, &st, &e), 0);
        CHECK_INT(n[0], k ? 1 : 2);
        CHECK_INT(n[1], k ? 1 : 2);
        CHECK_INT(st.duplicates, k ? 2 : 0);
    }
    bt_file_list_dispose(&l);
    for (k = 0; k < 2; k++) {
        snprintf(p, sizeof p, "%s/%d.json", dir, k);
        unlink(p);
    }
    rmdir(dir);
}

/* case 8: the phases' outcome merges the same in any order, over a stop and an
 * IN_PROGRESS state, under a final state event */
static void test_phase_outcome(void)
{
    bt_build_facts f[4];
    bt_build_row r;
    bt_build b;
    static const int orders[][4] = {{0, 1, 2, 3}, {3, 2, 1, 0}, {2, 0, 3, 1}};
    size_t k;
    int i;
    memset(f, 0, sizeof f);
    for (i = 0; i < 4; i++) {
        f[i].uuid = "u";
        f[i].number = -1;
    }
    f[0].kind = BT_BF_STATE; /* IN_PROGRESS at 0 */
    f[0].status = BT_STATUS_IN_PROGRESS;
    f[0].time_ms = 0;
    f[1].kind = BT_BF_PHASE; /* BUILD FAILED at 20 */
    f[1].status = BT_STATUS_FAILED;
    f[1].time_ms = 20000;
    f[2].kind = BT_BF_PHASE; /* FINALIZING at 30 */
    f[2].status = BT_STATUS_SUCCEEDED;
    f[2].end_ms = f[2].time_ms = 30000;
    f[3].kind = BT_BF_STOP; /* a stop at 10 */
    f[3].status = BT_STATUS_STOPPED;
    f[3].time_ms = 10000;
    for (k = 0; k < sizeof orders / sizeof orders[0]; k++) {
        bt_build_row_init(&r);
        for (i = 0; i < 4; i++)
            bt_build_merge(&r, &f[orders[k][i]]);
        CHECK_INT(r.status, BT_STATUS_FAILED);
        CHECK_INT(r.status_source, BT_SOURCE_PHASES);
        CHECK_INT(r.end_ms, 30000);
    }
    CHECK_STR(bt_build_status_source_name(BT_SOURCE_PHASES), "phases");
    CHECK_INT(bt_build_status_source_parse("phases"), BT_SOURCE_PHASES);
    /* a final state event wins */
    f[0].status = BT_STATUS_SUCCEEDED;
    f[0].time_ms = 40000;
    bt_build_row_init(&r);
    for (i = 0; i < 4; i++)
        bt_build_merge(&r, &f[i]);
    CHECK_INT(r.status, BT_STATUS_SUCCEEDED);
    CHECK_INT(r.status_source, BT_SOURCE_EVENTBRIDGE);
    CHECK_INT(r.end_ms, 40000);
    /* an initiator that names neither a pipeline nor a webhook: a user */
    memset(&b, 0, sizeof b);
    b.initiator = "alice";
    CHECK_INT(bt_build_infer(NULL, &b), 0);
    CHECK_INT(b.trigger, BT_TRIGGER_USER);
    CHECK_INT(b.trigger_inferred, 1);
    memset(&b, 0, sizeof b);
    CHECK_INT(bt_build_infer(NULL, &b), 0);
    CHECK_INT(b.trigger, BT_TRIGGER_WEBHOOK);
    CHECK_INT(bt_codebuild_phase_order("INSTALL") < bt_codebuild_phase_order("PRE_BUILD"), 1);
}

BT_TEST_MAIN(test_bad_record_costs_itself, test_one_rule, test_scan_dedup, test_phase_outcome)
