/* test_scan.c - the scan's fast paths give what the plain paths give: the pre-filter's
 * record boundaries (64 bytes at a time) and literals (searched once per input) skip
 * exactly the records that cannot match; bt_read_opts.record hands the parsed JSON;
 * bt_scan_opts.inspect drops events and carries notes; bt_hunt_inspect + bt_hunt_note
 * give the same alerts as bt_hunt_event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buildtrail/buf.h"
#include "buildtrail/json.h"
#include "buildtrail/rules.h"
#include "buildtrail/source.h"
#include "sources/scan_int.h"
#include "tharness.h"

#define R(id, name, extra)                                                                         \
    "{\"eventVersion\":\"1.08\",\"eventID\":\"" id "\",\"eventTime\":\"2026-01-01T00:00:0"         \
    "0Z\",\"eventName\":\"" name "\",\"eventSource\":\"codebuild.amazonaws.com\"" extra "}"

/* Records whose bytes try the boundary finder: braces and brackets in strings, escaped
 * quotes and backslashes, the literal in another field, records longer than 64 bytes
 * with structure across block edges. */
#define DOC_RECORDS                                                                                \
    R("a1", "StartBuild", ",\"requestParameters\":{\"x\":\"}]{[\"}")                               \
    "," R("a2", "StopBuild", ",\"requestParameters\":{\"note\":\"StartBuild\"}") "," R(            \
        "a3", "StopBuild", ",\"p\":\"a \\\" } b\"") "," R("a4", "StartBuild",                      \
                                                          ",\"p\":\"\\\\\",\"q\":[[{},{\"r\":[]}]" \
                                                          "]") "," R("a5",                         \
                                                                     "BatchGet"                    \
                                                                     "Builds",                     \
                                                                     ",\"p\":"                     \
                                                                     "\"xxxxxx"                    \
                                                                     "xxxxxxxx"                    \
                                                                     "xxxxxxxx"                    \
                                                                     "xxxxxxxx"                    \
                                                                     "xxxxxxxx"                    \
                                                                     "xxxxxxx"                     \
                                                                     "\"") "," R("a6",             \
                                                                                 "StartBuildBatc"  \
                                                                                 "h",              \
                                                                                 "")

typedef struct got {
    char ids[64][8];
    int n;
    int json_ok;
} got;

static const bt_filter *g_match;
static const bt_json **g_rec;

static int on_ev(void *ctx, const bt_event *ev)
{
    got *g = ctx;
    if (g_match && !bt_filter_match(g_match, ev))
        return 0;
    if (g_rec && *g_rec && (*g_rec)->src == ev->raw && (*g_rec)->src_len == ev->raw_len)
        g->json_ok++;
    if (g->n < 64)
        snprintf(g->ids[g->n++], 8, "%s", ev->event_id);
    return 0;
}

/* Reads doc with and without the pre-filter; same events, same record count. */
static void same_with_pre(const char *doc, const bt_filter *f)
{
    bt_arena *a = bt_arena_new(1 << 16, 0);
    bt_read_opts o;
    bt_read_stats s1, s2;
    bt_error e = BT_ERROR_INIT;
    got g1, g2;
    int rc1, rc2, i;
    memset(&g1, 0, sizeof g1);
    memset(&g2, 0, sizeof g2);
    memset(&s1, 0, sizeof s1);
    memset(&s2, 0, sizeof s2);
    memset(&o, 0, sizeof o);
    g_match = f;
    rc1 = bt_read_data_opts(doc, strlen(doc), a, &o, on_ev, &g1, &s1, &e);
    o.pre = f;
    rc2 = bt_read_data_opts(doc, strlen(doc), a, &o, on_ev, &g2, &s2, &e);
    g_match = NULL;
    CHECK_INT(rc1, rc2);
    CHECK_INT(s1.records, s2.records);
    CHECK_INT(g1.n, g2.n);
    for (i = 0; i < g1.n && i < g2.n; i++)
        CHECK_STR(g1.ids[i], g2.ids[i]);
    bt_arena_free(a);
}

static void test_prefilter_skips_only_what_cannot_match(void)
{
    static const char *const names[] = {"StartBuild", "StopBuild", "BatchGetBuilds",
                                        "StartBuildBatch", "Nothing"};
    const char *docs[4];
    char big[8192];
    size_t k, j;
    /* many records: literals found again only past their last occurrence */
    strcpy(big, "{\"Records\":[");
    for (k = 0; k < 12; k++) {
        if (k)
            strcat(big, ",");
        strcat(big, k % 3 ? R("b1", "StopBuild", ",\"z\":1") : R("b2", "StartBuild", ""));
    }
    strcat(big, "]}");
    docs[0] = "{\"Records\":[" DOC_RECORDS "]}";
    docs[1] = "[" DOC_RECORDS "]";
    docs[2] = big;
    docs[3] = "{\"Records\":[" DOC_RECORDS; /* truncated: an error either way */
    for (j = 0; j < sizeof names / sizeof names[0]; j++) {
        bt_filter f;
        bt_filter_init(&f);
        CHECK_INT(bt_filter_add(&f, BT_F_EVENT_NAME, names[j], NULL), 0);
        for (k = 0; k < sizeof docs / sizeof docs[0]; k++)
            same_with_pre(docs[k], &f);
        /* two fields, two values */
        CHECK_INT(bt_filter_add(&f, BT_F_EVENT_NAME, "StopBuild", NULL), 0);
        CHECK_INT(bt_filter_add(&f, BT_F_EVENT_SOURCE, "codebuild.amazonaws.com", NULL), 0);
        for (k = 0; k < sizeof docs / sizeof docs[0]; k++)
            same_with_pre(docs[k], &f);
    }
}

/* bt_read_opts.raw_keep: the records it turns down are counted and not delivered, in
 * Records[] and as NDJSON lines; the rest come as without it (a record whose end the
 * boundary scan leaves to the parser, or one in a bare array, is not offered to it). */
static int raw_rejects;

static bool keep_not_stop(void *ctx, const char *rec, size_t len)
{
    bool keep = memmem(rec, len, "\"StopBuild\"", 11) == NULL;
    (void)ctx;
    raw_rejects += !keep;
    return keep;
}

static void test_raw_keep(void)
{
    bt_arena *a = bt_arena_new(1 << 16, 0);
    const char *docs[3];
    size_t k;
    docs[0] = "{\"Records\":[" DOC_RECORDS "]}";
    docs[1] =
        R("n1", "StopBuild", "") "\n" R("n2", "StartBuild", "") "\n" R("n3", "StopBuild", "") "\n";
    docs[2] = "[" DOC_RECORDS "]";
    for (k = 0; k < 3; k++) {
        bt_read_opts o;
        bt_read_stats s1, s2;
        bt_error e = BT_ERROR_INIT;
        got g1, g2;
        int i, j;
        memset(&g1, 0, sizeof g1);
        memset(&g2, 0, sizeof g2);
        memset(&s1, 0, sizeof s1);
        memset(&s2, 0, sizeof s2);
        memset(&o, 0, sizeof o);
        CHECK_INT(bt_read_data_opts(docs[k], strlen(docs[k]), a, &o, on_ev, &g1, &s1, &e), 0);
        o.raw_keep = keep_not_stop;
        raw_rejects = 0;
        CHECK_INT(bt_read_data_opts(docs[k], strlen(docs[k]), a, &o, on_ev, &g2, &s2, &e), 0);
        CHECK_INT(s1.records, s2.records); /* skipped ones still counted */
        CHECK_INT(g2.n + raw_rejects, g1.n);
        if (k < 2)
            CHECK(raw_rejects >= 1 && g2.n >= 1);
        for (i = 0, j = 0; i < g1.n && j < g2.n; i++) /* the rest in order */
            j += strcmp(g1.ids[i], g2.ids[j]) == 0;
        CHECK_INT(j, g2.n);
    }
    bt_arena_free(a);
}

static void test_record_json(void)
{
    static const char doc[] = "{\"Records\":[" DOC_RECORDS "]}";
    bt_arena *a = bt_arena_new(1 << 16, 0);
    const bt_json *rec = NULL;
    bt_read_opts o;
    bt_read_stats st;
    bt_buf plain = BT_BUF_INIT;
    bt_error e = BT_ERROR_INIT;
    got g;
    memset(&g, 0, sizeof g);
    memset(&st, 0, sizeof st);
    memset(&o, 0, sizeof o);
    o.record = &rec;
    o.plain = &plain;
    g_rec = &rec;
    CHECK_INT(bt_read_data_opts(doc, strlen(doc), a, &o, on_ev, &g, &st, &e), 0);
    g_rec = NULL;
    CHECK_INT(g.n, 6);
    CHECK_INT(g.json_ok, 6);
    CHECK(rec == NULL); /* only while fn runs */
    bt_buf_dispose(&plain);
    bt_arena_free(a);
}

typedef struct inspected {
    int events, notes;
    char seen[64][8];
} inspected;

static int drop_odd(void *ctx, const bt_event *ev, const bt_json *rec, bt_arena *scratch,
                    bt_buf *note)
{
    (void)ctx, (void)scratch;
    if (!rec || rec->src != ev->raw)
        return -1;
    if (bt_buf_append(note, ev->event_id, strlen(ev->event_id) + 1))
        return -1;
    return ev->event_id[1] % 2 ? 1 : 0; /* a1, a3, a5 left out */
}

static int on_batch(void *ctx, const bt_batch *b)
{
    inspected *x = ctx;
    size_t p = 0;
    x->events += (int)b->n;
    while (p < b->note_len && x->notes < 64) {
        snprintf(x->seen[x->notes++], 8, "%s", b->note + p);
        p += strlen(b->note + p) + 1;
    }
    return 0;
}

static void test_inspect_hook(void)
{
    char dir[] = "/tmp/bt-test-scan-XXXXXX", p[128];
    static const char doc[] = "{\"Records\":[" DOC_RECORDS "]}";
    bt_file_list l = {0};
    bt_scan_opts so;
    bt_read_stats st;
    bt_error e = BT_ERROR_INIT;
    inspected x;
    FILE *f;
    int k;
    if (!mkdtemp(dir)) {
        CHECK(0);
        return;
    }
    snprintf(p, sizeof p, "%s/a.json", dir);
    f = fopen(p, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fputs(doc, f);
    fclose(f);
    CHECK_INT(bt_file_list_add(&l, dir, &e), 0);
    for (k = 1; k <= 2; k++) {
        memset(&x, 0, sizeof x);
        memset(&st, 0, sizeof st);
        memset(&so, 0, sizeof so);
        so.threads = k;
        so.inspect = drop_odd;
        so.on_batch = on_batch;
        so.ctx = &x;
        CHECK_INT(bt_scan_files(&l, &so, &st, &e), 0);
        CHECK_INT(x.events, 3);
        CHECK_INT(x.notes, 6);
        CHECK_STR(x.seen[0], "a1");
        CHECK_STR(x.seen[5], "a6");
        CHECK_INT(st.matched, 6);
    }
    bt_file_list_dispose(&l);
    unlink(p);
    rmdir(dir);
}

static const char g_rules[] =
    "title: starts\nid: r-start\nlevel: low\nlogsource: {product: aws, service: cloudtrail}\n"
    "detection:\n  sel:\n    eventName|startswith: StartBuild\n  condition: sel\n"
    "---\n"
    "title: regex\nid: r-re\nlevel: high\nlogsource: {product: aws, service: cloudtrail}\n"
    "detection:\n  sel:\n    eventName|re: '^(Stop|Batch)'\n  condition: sel\n"
    "---\n"
    "title: two\nname: two\nid: r-c\ncorrelation:\n  type: event_count\n  rules: [r-start]\n"
    "  group-by: [eventSource]\n  timespan: 1h\n  condition: {gte: 2}\n"
    "  generate: true\n";

typedef struct evs {
    bt_hunt *h;
    int inspect;
    bt_arena *scratch;
    bt_buf note;
    const bt_json **rec;
} evs;

static int hunt_ev(void *ctx, const bt_event *ev)
{
    evs *x = ctx;
    if (!x->inspect)
        return bt_hunt_event(x->h, ev, NULL);
    return bt_hunt_inspect(x->h, ev, *x->rec, x->scratch, &x->note) == 1 ? 0 : -1;
}

/* The alerts of doc, one alert per line, through either path. */
static void hunt_doc(const bt_ruleset *rs, int inspect, bt_buf *out)
{
    static const char doc[] = "{\"Records\":[" DOC_RECORDS "]}";
    bt_arena *a = bt_arena_new(1 << 16, 0);
    const bt_json *rec = NULL;
    bt_hunt_opts ho;
    bt_read_opts o;
    bt_read_stats st;
    bt_error e = BT_ERROR_INIT;
    bt_buf line = BT_BUF_INIT;
    evs x;
    size_t i;
    memset(&x, 0, sizeof x);
    memset(&ho, 0, sizeof ho);
    memset(&o, 0, sizeof o);
    memset(&st, 0, sizeof st);
    CHECK_INT(bt_hunt_new(rs, &ho, &x.h), 0);
    x.inspect = inspect;
    x.scratch = bt_arena_new(1 << 12, 0);
    x.rec = &rec;
    o.record = &rec;
    CHECK_INT(bt_read_data_opts(doc, strlen(doc), a, &o, hunt_ev, &x, &st, &e), 0);
    if (inspect)
        CHECK_INT(bt_hunt_note(x.h, x.note.data, x.note.len, &e), 0);
    CHECK_INT(bt_hunt_finish(x.h, &e), 0);
    for (i = 0; i < bt_hunt_count(x.h); i++) {
        CHECK_INT(bt_hunt_alert_at(x.h, i, &line), 0);
        bt_buf_append(out, line.data, line.len);
        bt_buf_putc(out, '\n');
    }
    bt_buf_dispose(&line);
    bt_buf_dispose(&x.note);
    bt_arena_free(x.scratch);
    bt_hunt_free(x.h);
    bt_arena_free(a);
}

static void test_hunt_inspect_same_alerts(void)
{
    bt_ruleset *rs = bt_rules_new();
    bt_error e = BT_ERROR_INIT;
    bt_buf a = BT_BUF_INIT, b = BT_BUF_INIT;
    CHECK_INT(bt_rules_add_buffer(rs, "t.yml", g_rules, strlen(g_rules), &e), 0);
    CHECK_INT(bt_rules_compile(rs, &e), 0);
    hunt_doc(rs, 0, &a);
    hunt_doc(rs, 1, &b);
    CHECK(a.len > 0);
    CHECK(strstr(a.data ? a.data : "", "\"rule_id\":\"r-c\"") != NULL);
    CHECK(strstr(a.data ? a.data : "", "\"rule_id\":\"r-re\"") != NULL);
    CHECK_STR(a.data, b.data);
    bt_buf_dispose(&a);
    bt_buf_dispose(&b);
    bt_rules_free(rs);
}

/* Ingest's reading order (scan_list_sort_by_delivery): files without a delivery stamp
 * first, in listing order; then hour by hour of delivery, within an hour account and
 * region together, then by stamp. (The store no longer shows this order: a batch's ids
 * follow its blocks and names, schema 8.) */
static void test_delivery_order(void)
{
    static const char *const listed[] = {
        "a/111_CloudTrail_us-east-1_20261001T0105Z_x.json.gz",
        "a/111_CloudTrail_us-east-1_20261001T0010Z_y.json.gz",
        "a/111_CloudTrail_us-west-2_20261001T0020Z_z.json.gz",
        "b/222_CloudTrail_us-east-1_20261001T0050Z_w.json.gz",
        "b/222_CloudTrail_us-east-1_20261001T0005Z_v.json.gz",
        "eventbridge.json",
        "a/111_CloudTrail_us-east-1_20261001T0040Z_u.json.gz",
    };
    static const char *const want[] = {
        "eventbridge.json",
        "a/111_CloudTrail_us-east-1_20261001T0010Z_y.json.gz",
        "a/111_CloudTrail_us-east-1_20261001T0040Z_u.json.gz",
        "a/111_CloudTrail_us-west-2_20261001T0020Z_z.json.gz",
        "b/222_CloudTrail_us-east-1_20261001T0005Z_v.json.gz",
        "b/222_CloudTrail_us-east-1_20261001T0050Z_w.json.gz",
        "a/111_CloudTrail_us-east-1_20261001T0105Z_x.json.gz",
    };
    enum { N = sizeof listed / sizeof listed[0] };
    bt_file_list l;
    size_t i;
    memset(&l, 0, sizeof l);
    l.v = calloc(N, sizeof *l.v);
    if (!l.v)
        return;
    l.alloc = N;
    for (i = 0; i < N; i++)
        l.v[l.n++].path = strdup(listed[i]);
    CHECK_INT(scan_list_sort_by_delivery(&l), 0);
    for (i = 0; i < N; i++)
        CHECK_STR(l.v[i].path, want[i]);
    bt_file_list_dispose(&l);
}

BT_TEST_MAIN(test_prefilter_skips_only_what_cannot_match, test_raw_keep, test_record_json,
             test_inspect_hook, test_hunt_inspect_same_alerts, test_delivery_order)
