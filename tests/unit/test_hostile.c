/* test_hostile.c - issue #17 through the library's public API: the walker's loop and
 * failure handling, the record size cap, one bad part costing only itself (NDJSON,
 * damaged gzip), empty eventIDs, the store's token secret and read-only open. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buildtrail/source.h"
#include "buildtrail/store.h"
#include "tharness.h"
#include "util/gzip.h"

static char g_dir[64];

static void put(const char *rel, const char *data, size_t len)
{
    char p[256];
    FILE *f;
    snprintf(p, sizeof p, "%s/%s", g_dir, rel);
    f = fopen(p, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    fwrite(data, 1, len, f);
    fclose(f);
}

static char *rec(int i, const char *id)
{
    static char b[512];
    snprintf(b, sizeof b,
             "{\"eventVersion\":\"1.08\",\"eventID\":\"%s\",\"eventTime\":\"2026-01-01T00:00:%02dZ\","
             "\"eventName\":\"StartBuild\",\"eventSource\":\"codebuild.amazonaws.com\"}",
             id, i % 60);
    return b;
}

typedef struct seen {
    int n;
    char ids[64][16];
} seen;

static int on_ev(void *ctx, const bt_event *ev)
{
    seen *s = ctx;
    if (s->n < 64)
        snprintf(s->ids[s->n], sizeof s->ids[0], "%s", ev->event_id);
    s->n++;
    return 0;
}

static int read_buf(const char *d, size_t n, size_t max, seen *s, bt_read_stats *st, bt_error *e)
{
    bt_arena *a = bt_arena_new(1 << 16, 0);
    int rc;
    memset(s, 0, sizeof *s);
    memset(st, 0, sizeof *st);
    rc = bt_read_data_ex(d, n, a, NULL, max, on_ev, s, st, e);
    bt_arena_free(a);
    return rc;
}

static void test_walk_loops_and_failures(void)
{
    bt_file_list l = {0};
    bt_error err = BT_ERROR_INIT;
    char p[256], q[256];
    size_t i, good = 0, failed = 0;

    snprintf(p, sizeof p, "%s/w/sub", g_dir);
    CHECK_INT(mkdir(p, 0755) == 0 || 1, 1);
    put("w/a.json", rec(1, "a"), strlen(rec(1, "a")));
    snprintf(p, sizeof p, "%s/w/self", g_dir);
    CHECK_INT(symlink(".", p), 0);
    snprintf(p, sizeof p, "%s/w/sub/up", g_dir);
    CHECK_INT(symlink("..", p), 0);
    snprintf(p, sizeof p, "%s/w/sub/alias.json", g_dir);
    CHECK_INT(symlink("../a.json", p), 0);
    snprintf(p, sizeof p, "%s/w", g_dir);
    CHECK_INT(bt_file_list_add(&l, p, &err), 0);
    CHECK_INT(l.n, 1); /* a.json once: not via self/, sub/up/ or the alias */
    CHECK(l.loops >= 2);
    CHECK(l.warning && strstr(l.warning, "directory already read"));
    /* a missing path and a FIFO: errors for the caller, recorded as failed entries */
    snprintf(q, sizeof q, "%s/nope", g_dir);
    CHECK_INT(bt_file_list_add(&l, q, &err), BT_ENOTFOUND);
    CHECK_INT(bt_file_list_add_failed(&l, q, &err), 0);
    snprintf(q, sizeof q, "%s/fifo", g_dir);
    CHECK_INT(mkfifo(q, 0600), 0);
    CHECK_INT(bt_file_list_add(&l, q, &err), BT_EINVAL);
    for (i = 0; i < l.n; i++)
        l.v[i].error ? failed++ : good++;
    CHECK_INT(good, 1);
    CHECK_INT(failed, 1);
    bt_file_list_dispose(&l);
}

static void test_record_cap(void)
{
    bt_buf b = BT_BUF_INIT;
    bt_error err = BT_ERROR_INIT;
    bt_read_stats st;
    seen s;
    size_t k;
    bt_buf_puts(&b, "{\"Records\":[");
    bt_buf_puts(&b, rec(1, "r1"));
    bt_buf_puts(&b, ",{\"eventID\":\"big\",\"eventTime\":\"2026-01-01T00:00:00Z\",\"x\":\"");
    for (k = 0; k < 5000; k++)
        bt_buf_puts(&b, "0123456789");
    bt_buf_puts(&b, "\"},");
    bt_buf_puts(&b, rec(3, "r3"));
    bt_buf_puts(&b, "]}");
    CHECK_INT(read_buf(b.data, b.len, 4096, &s, &st, &err), 0);
    CHECK_INT(s.n, 2);
    CHECK_INT(st.oversized, 1);
    CHECK_STR(s.ids[1], "r3");
    CHECK_INT(read_buf(b.data, b.len, 0, &s, &st, &err), 0); /* default 1 MiB: fits */
    CHECK_INT(s.n, 3);
    bt_buf_dispose(&b);
}

static void test_bad_parts(void)
{
    bt_buf b = BT_BUF_INIT, gz = BT_BUF_INIT;
    bt_error err = BT_ERROR_INIT;
    bt_read_stats st;
    seen s;
    char id[16];
    int i;
    for (i = 0; i < 6; i++) {
        snprintf(id, sizeof id, "n%d", i);
        bt_buf_puts(&b, i == 2 ? "not json at all" : i == 4 ? "{\"eventID\":\"x\xff\"}" : rec(i, id));
        bt_buf_putc(&b, '\n');
    }
    CHECK_INT(read_buf(b.data, b.len, 0, &s, &st, &err), BT_EPARSE);
    CHECK_INT(s.n, 4); /* lines 0 1 3 5 */
    CHECK_STR(s.ids[3], "n5");
    CHECK_INT(st.bad_parts, 2);
    CHECK(strstr(err.msg, "the rest read") != NULL);
    /* gzip: garbage after a complete member, then a cut */
    bt_buf_clear(&b);
    bt_buf_puts(&b, "{\"Records\":[");
    for (i = 0; i < 40; i++) {
        snprintf(id, sizeof id, "g%d", i);
        bt_buf_puts(&b, i ? "," : "");
        bt_buf_puts(&b, rec(i, id));
    }
    bt_buf_puts(&b, "]}");
    CHECK_INT(bt_gzip_compress(b.data, b.len, 6, &gz, &err), 0);
    bt_buf_append(&gz, "GARBAGEGARBAGE", 14);
    CHECK_INT(read_buf(gz.data, gz.len, 0, &s, &st, &err), BT_EPARSE);
    CHECK_INT(s.n, 40);
    CHECK(strstr(err.msg, "trailing garbage") != NULL);
    CHECK_INT(read_buf(gz.data, (gz.len - 14) * 2 / 3, 0, &s, &st, &err), BT_EPARSE);
    CHECK(s.n > 0 && s.n < 40);
    bt_buf_dispose(&gz);
    bt_buf_dispose(&b);
}

static void test_empty_event_id(void)
{
    const char *d = "{\"eventID\":\"\",\"eventTime\":\"2026-01-01T00:00:01Z\",\"eventName\":\"A\"}\n"
                    "{\"eventID\":\"\",\"eventTime\":\"2026-01-01T00:00:02Z\",\"eventName\":\"B\"}\n";
    bt_error err = BT_ERROR_INIT;
    bt_read_stats st;
    seen s;
    CHECK_INT(read_buf(d, strlen(d), 0, &s, &st, &err), 0);
    CHECK_INT(s.n, 2);
    CHECK(s.ids[0][0] != '\0' && strcmp(s.ids[0], s.ids[1]) != 0);
}

static void test_store_secret_and_readonly(void)
{
    bt_store *s = NULL;
    bt_error err = BT_ERROR_INIT;
    unsigned char k1[32], k2[32];
    char p[256];
    snprintf(p, sizeof p, "%s/s.db", g_dir);
    CHECK_INT(bt_store_open(p, 0, &s, &err), 0);
    CHECK_INT(bt_store_token_secret(s, k1), 1);
    bt_store_close(s);
    CHECK_INT(bt_store_open(p, BT_STORE_READONLY, &s, &err), 0);
    CHECK_INT(bt_store_token_secret(s, k2), 1);
    CHECK(memcmp(k1, k2, 32) == 0);
    bt_store_close(s);
    /* an empty file: says empty, not "schema upgrade" */
    put("empty.db", "", 0);
    snprintf(p, sizeof p, "%s/empty.db", g_dir);
    CHECK(bt_store_open(p, BT_STORE_READONLY, &s, &err) != 0);
    CHECK(strstr(err.msg, "empty") != NULL);
}

static void test_setup(void)
{
    char p[256];
    snprintf(g_dir, sizeof g_dir, "/tmp/bt-hostile.XXXXXX");
    CHECK(mkdtemp(g_dir) != NULL);
    snprintf(p, sizeof p, "%s/w", g_dir);
    CHECK_INT(mkdir(p, 0755), 0);
}

static void test_cleanup(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    CHECK_INT(system(cmd), 0);
}

BT_TEST_MAIN(test_setup, test_walk_loops_and_failures, test_record_cap, test_bad_parts,
             test_empty_event_id, test_store_secret_and_readonly, test_cleanup)
