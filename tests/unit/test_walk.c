/* test_walk.c - bt_file_list_add_later: a scan that walks the directories as it reads
 * lists exactly what bt_file_list_add lists (same paths, order, flags, loop warning),
 * reads the same records on one thread and on several, and ends with the walk's error
 * when bt_file_list_add would have returned one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buildtrail/source.h"
#include "tharness.h"

static char root[] = "/tmp/bt-test-walk-XXXXXX";

static void put(const char *rel, const char *id)
{
    char p[512];
    FILE *f;
    snprintf(p, sizeof p, "%s/%s", root, rel);
    if (!(f = fopen(p, "w"))) {
        CHECK(0);
        return;
    }
    fprintf(f,
            "{\"Records\":[{\"eventVersion\":\"1.08\",\"eventID\":\"%s\",\"eventTime\":"
            "\"2026-01-01T00:00:00Z\",\"eventName\":\"StartBuild\",\"eventSource\":"
            "\"codebuild.amazonaws.com\"}]}",
            id);
    fclose(f);
}

static void mk(const char *rel)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    CHECK_INT(mkdir(p, 0755), 0);
}

/* A tree with nesting, many files in one directory, a symlink loop, a hard link, a
 * file that is not JSON and a file named directly as well. */
static void make_tree(void)
{
    char p[512], q[512];
    int i;
    if (!mkdtemp(root)) {
        CHECK(0);
        return;
    }
    mk("a");
    mk("a/b");
    mk("a/b/c");
    mk("z");
    for (i = 0; i < 40; i++) {
        char rel[64], id[16];
        snprintf(rel, sizeof rel, "a/b/f%02d.json", i);
        snprintf(id, sizeof id, "id%02d", i);
        put(rel, id);
    }
    put("a/top.json", "top");
    put("a/b/c/deep.json", "deep");
    put("z/last.json", "last");
    snprintf(p, sizeof p, "%s/z/notes.txt", root);
    CHECK(fopen(p, "w") && 1);
    snprintf(p, sizeof p, "%s/a/b/c/up", root);
    snprintf(q, sizeof q, "%s/a", root);
    CHECK_INT(symlink(q, p), 0);
    snprintf(p, sizeof p, "%s/a/top.json", root);
    snprintf(q, sizeof q, "%s/z/hard.json", root);
    CHECK_INT(link(p, q), 0);
}

static int count_events(void *ctx, const bt_batch *b)
{
    *(size_t *)ctx += b->n;
    return 0;
}

/* The paths given to both lists, in order. */
static size_t paths(char p[4][512])
{
    snprintf(p[0], 512, "%s/z/last.json", root);
    snprintf(p[1], 512, "%s/", root);
    snprintf(p[2], 512, "%s/a/b", root); /* entered already: a loop */
    snprintf(p[3], 512, "%s/z/last.json", root);
    return 4;
}

static void test_same_list(void)
{
    char p[4][512];
    size_t n, i, events;
    int threads;
    make_tree();
    n = paths(p);
    for (threads = 1; threads <= 3; threads++) {
        bt_file_list eager = {0}, later = {0};
        bt_error e = BT_ERROR_INIT;
        bt_read_stats st;
        bt_scan_opts so;
        for (i = 0; i < n; i++) {
            CHECK_INT(bt_file_list_add(&eager, p[i], &e), 0);
            CHECK_INT(bt_file_list_add_later(&later, p[i], &e), 0);
        }
        CHECK(eager.n > 40);
        CHECK_INT(later.n, 0);
        memset(&so, 0, sizeof so);
        memset(&st, 0, sizeof st);
        events = 0;
        so.threads = threads;
        so.on_batch = count_events;
        so.ctx = &events;
        CHECK_INT(bt_scan_files(&later, &so, &st, &e), 0);
        CHECK_INT(later.n, eager.n);
        for (i = 0; i < eager.n && i < later.n; i++) {
            CHECK_STR(later.v[i].path, eager.v[i].path);
            CHECK_INT(later.v[i].walked, eager.v[i].walked);
            CHECK_INT(later.v[i].size, eager.v[i].size);
            CHECK_INT(later.v[i].mtime_ns, eager.v[i].mtime_ns);
        }
        CHECK_INT(later.loops, eager.loops);
        CHECK_INT(later.loops, 2); /* a/b named again, a/b/c/up */
        CHECK_STR(later.warning, eager.warning);
        CHECK_INT(st.files, eager.n);
        CHECK_INT(st.nonjson, 1);
        /* 40 + top + deep + last twice (named twice); hard.json is top.json */
        CHECK_INT(events, 44);
        CHECK_INT(st.records, 44);
        bt_file_list_dispose(&eager);
        bt_file_list_dispose(&later);
    }
}

/* Errors for the path itself come at once; a path failing beside others keeps its
 * turn. */
static void test_errors_and_order(void)
{
    char p[512], missing[512];
    bt_file_list eager = {0}, later = {0};
    bt_error e = BT_ERROR_INIT;
    bt_read_stats st;
    bt_scan_opts so;
    size_t events = 0;
    snprintf(missing, sizeof missing, "%s/nope", root);
    CHECK_INT(bt_file_list_add_later(&later, missing, &e), BT_ENOTFOUND);
    CHECK(strstr(e.msg, "nope") != NULL);
    snprintf(p, sizeof p, "%s/a", root);
    CHECK_INT(bt_file_list_add_later(&later, p, &e), 0);
    CHECK_INT(bt_file_list_add(&eager, p, &e), 0);
    bt_error_set(&e, BT_ENOTFOUND, "'%s': No such file or directory", missing);
    CHECK_INT(bt_file_list_add_failed(&later, missing, &e), 0);
    CHECK_INT(bt_file_list_add_failed(&eager, missing, &e), 0);
    CHECK_INT(later.n, 0);
    memset(&so, 0, sizeof so);
    memset(&st, 0, sizeof st);
    so.threads = 2;
    so.on_batch = count_events;
    so.ctx = &events;
    CHECK_INT(bt_scan_files(&later, &so, &st, &e), 0);
    CHECK_INT(later.n, eager.n);
    CHECK(later.n > 0 && later.v[later.n - 1].error != NULL);
    CHECK_STR(later.v[later.n - 1].path, missing);
    CHECK_INT(st.errors, 1);
    CHECK_INT(events, 42);
    bt_file_list_dispose(&eager);
    bt_file_list_dispose(&later);
}

/* Directories nested deeper than the walk goes: bt_file_list_add's error, from the scan. */
static void test_walk_error(void)
{
    char p[4096];
    bt_file_list eager = {0}, later = {0};
    bt_error e = BT_ERROR_INIT, e2 = BT_ERROR_INIT;
    bt_read_stats st;
    bt_scan_opts so;
    size_t events = 0;
    int i;
    snprintf(p, sizeof p, "%s/deep", root);
    CHECK_INT(mkdir(p, 0755), 0);
    for (i = 0; i < 70; i++) {
        strcat(p, "/d");
        CHECK_INT(mkdir(p, 0755), 0);
    }
    snprintf(p, sizeof p, "%s/deep", root);
    CHECK_INT(bt_file_list_add(&eager, p, &e), BT_ELIMIT);
    CHECK_INT(bt_file_list_add_later(&later, p, &e2), 0);
    memset(&so, 0, sizeof so);
    memset(&st, 0, sizeof st);
    so.threads = 2;
    so.on_batch = count_events;
    so.ctx = &events;
    CHECK_INT(bt_scan_files(&later, &so, &st, &e2), BT_ELIMIT);
    CHECK_STR(e2.msg, e.msg);
    bt_file_list_dispose(&eager);
    bt_file_list_dispose(&later);
}

static void test_cleanup(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK_INT(system(cmd), 0);
}

BT_TEST_MAIN(test_same_list, test_errors_and_order, test_walk_error, test_cleanup)
