/* test_timeline.c - the build timeline (bt_build_timeline, bt_timeline_to_json) through
 * the public headers, on an archive made by the generator (tools/gen.c, bt-gen): every
 * build's calls, failures, trigger and project changes agree with the ground truth. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildtrail/builds.h"
#include "buildtrail/json.h"
#include "buildtrail/source.h"
#include "buildtrail/store.h"
#include "tharness.h"

static char dir[PATH_MAX];
static bt_store *store;
static bt_arena *arena;
static const bt_json *truth; /* ground-truth.json */

/* bt-gen: $BT_BIN_DIR, else next to the build directory this test runs from */
static int find_gen(char *out, size_t cap)
{
    char self[PATH_MAX];
    ssize_t n;
    if (getenv("BT_BIN_DIR")) {
        snprintf(out, cap, "%s/bt-gen", getenv("BT_BIN_DIR"));
        return access(out, X_OK);
    }
    if ((n = readlink("/proc/self/exe", self, sizeof self - 1)) <= 0)
        return -1;
    self[n] = '\0';
    *strrchr(self, '/') = '\0';
    snprintf(out, cap, "%s/../bt-gen", self);
    return access(out, X_OK);
}

static int on_batch(void *ctx, const bt_batch *b)
{
    bt_error err = BT_ERROR_INIT;
    size_t i;
    int is_new, rc;
    (void)ctx;
    for (i = 0; i < b->n; i++)
        if ((rc = bt_store_add(store, &b->events[i], &is_new, &err)))
            return rc;
    return 0;
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *data = NULL;
    long n;
    if (f && fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)n)) && fread(data, 1, (size_t)n, f) != (size_t)n) {
        free(data);
        data = NULL;
    }
    if (data)
        *len = (size_t)n;
    if (f)
        fclose(f);
    return data;
}

/* generates an archive, ingests it into a new store and reads the ground truth */
static void setup(void)
{
    char gen[PATH_MAX], cmd[3 * PATH_MAX], path[PATH_MAX + 32];
    bt_error err = BT_ERROR_INIT;
    bt_file_list files = {0};
    bt_scan_opts so;
    bt_read_stats st;
    bt_json *root = NULL;
    size_t len = 0;
    char *data;

    if (find_gen(gen, sizeof gen))
        bt_test_skip("bt-gen not built");
    snprintf(dir, sizeof dir, "/tmp/bt-test-timeline.XXXXXX");
    if (!mkdtemp(dir))
        bt_test_skip("no temporary directory");
    snprintf(cmd, sizeof cmd,
             "'%s' --out '%s/a' --truth '%s/truth.json' --seed 9 --events 12000 --eventbridge "
             "--accounts 1 --days 2 >/dev/null 2>&1",
             gen, dir, dir);
    CHECK_INT(system(cmd), 0);
    snprintf(path, sizeof path, "%s/s.db", dir);
    CHECK_INT(bt_store_open(path, 0, &store, &err), 0);
    snprintf(path, sizeof path, "%s/a", dir);
    CHECK_INT(bt_file_list_add(&files, path, &err), 0);
    memset(&so, 0, sizeof so);
    memset(&st, 0, sizeof st);
    so.threads = 2;
    so.on_batch = on_batch;
    CHECK_INT(bt_store_begin(store, &err), 0);
    CHECK_INT(bt_scan_files(&files, &so, &st, &err), 0);
    CHECK_INT(bt_store_commit(store, &err), 0);
    bt_file_list_dispose(&files);
    snprintf(path, sizeof path, "%s/truth.json", dir);
    arena = bt_arena_new(0, 0);
    data = slurp(path, &len);
    CHECK(data != NULL);
    if (data && bt_json_parse(arena, data, len, NULL, &root, &err) == 0)
        truth = root;
    free(data);
    CHECK(truth != NULL);
    if (!truth)
        bt_test_skip("no ground truth");
}

static void teardown(void)
{
    char cmd[PATH_MAX + 16];
    bt_store_close(store);
    bt_arena_free(arena);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (dir[0] && system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

static const char *str(const bt_json *o, const char *k)
{
    return bt_json_get_str(o, k);
}

static double num(const bt_json *o, const char *k)
{
    const bt_json *v = bt_json_get(o, k);
    return v && v->type == BT_JSON_NUMBER ? v->num : -1;
}

/* failed calls per error code, over the services and over the failed entries */
static void check_errors(const bt_timeline *t, const bt_json *codes)
{
    size_t i, j, k;
    uint64_t by_service = 0;
    for (i = 0; codes && i < codes->len; i++) {
        const char *code = codes->u.members[i].key;
        uint64_t n = 0, listed = 0;
        for (j = 0; j < t->n_services; j++)
            for (k = 0; k < t->services[j].n_codes; k++)
                if (strcmp(t->services[j].codes[k].code, code) == 0)
                    n += t->services[j].codes[k].count;
        for (j = 0; j < t->n_errors; j++)
            listed += strcmp(t->errors[j]->error_code, code) == 0;
        CHECK_INT(n, codes->u.members[i].value->num);
        CHECK_INT(listed, codes->u.members[i].value->num);
    }
    for (j = 0; j < t->n_services; j++)
        by_service += t->services[j].errors;
    CHECK_INT(by_service, t->n_errors);
}

/* every change the generator made is in the timeline, with its author */
static void check_changes(const bt_timeline *t, const bt_json *changes)
{
    size_t i, j;
    for (i = 0; changes && i < changes->len; i++) {
        const char *name = str(changes->u.items[i], "event_name"),
                   *by = str(changes->u.items[i], "by");
        int found = 0;
        for (j = 0; j < t->n_changes; j++)
            found |= name && by && strcmp(t->changes[j].event_name, name) == 0 &&
                     t->changes[j].by && strcmp(t->changes[j].by, by) == 0;
        CHECK(found);
    }
    for (j = 1; j < t->n_changes; j++)
        CHECK(t->changes[j - 1].time_ms / 1000 <= t->changes[j].time_ms / 1000);
}

static void check_build(const bt_json *tb)
{
    bt_error err = BT_ERROR_INIT;
    bt_timeline *t = NULL;
    const char *uuid = str(tb, "uuid"), *start = str(tb, "start_record");
    const bt_json *tr = bt_json_get(tb, "trigger");
    bt_arena *a;
    bt_json *doc;
    uint64_t calls = 0, kinds = 0;
    size_t i;

    CHECK_INT(bt_build_timeline(store, uuid, NULL, &t, &err), 0);
    if (!t)
        return;
    CHECK_STR(t->build.uuid, uuid);
    CHECK_STR(t->build.project, str(tb, "project"));
    CHECK_INT(t->build.calls, num(tb, "calls"));
    CHECK_INT(t->build.errors, num(tb, "errors"));
    for (i = 0; i < t->n_services; i++)
        calls += t->services[i].calls;
    for (i = 0; i < t->n_events; i++)
        kinds += t->events[i].kind == BT_TL_CALL;
    CHECK_INT(calls, num(tb, "calls"));
    CHECK_INT(kinds, num(tb, "calls"));
    CHECK_INT(t->n_errors, num(tb, "errors"));
    check_errors(t, bt_json_get(tb, "error_codes"));
    check_changes(t, bt_json_get(tb, "project_changes"));
    if (start) {
        CHECK(t->trigger.found);
        CHECK_STR(t->trigger.event_name, start);
        CHECK_STR(t->trigger.by, str(tr, "principal_arn"));
    }
    if (str(tb, "stopped_by")) {
        CHECK(t->n_stops > 0);
        CHECK_STR(t->n_stops ? t->stops[0]->by : NULL, str(tb, "stopped_by"));
    }
    /* the JSON document says the same */
    a = bt_arena_new(0, 0);
    doc = bt_timeline_to_json(a, t);
    CHECK(doc != NULL);
    CHECK_INT(num(bt_json_get(doc, "Build"), "Calls"), num(tb, "calls"));
    CHECK_INT(bt_json_get(doc, "Errors") ? bt_json_get(doc, "Errors")->len : 99, t->n_errors);
    CHECK_INT(bt_json_get(doc, "Events") ? bt_json_get(doc, "Events")->len : 0, t->n_events);
    CHECK_STR(str(doc, "Window"), t->window_text);
    bt_arena_free(a);
    bt_timeline_free(t);
}

static void test_builds_agree_with_ground_truth(void)
{
    const bt_json *builds = bt_json_get(truth, "builds");
    size_t i, changes = 0, failing = 0;
    CHECK(builds && builds->len > 20);
    for (i = 0; builds && i < builds->len; i++) {
        const bt_json *tb = builds->u.items[i], *pc = bt_json_get(tb, "project_changes");
        changes += pc && pc->len;
        failing += num(tb, "errors") > 0;
        check_build(tb);
    }
    CHECK(changes > 0);
    CHECK(failing > 0);
}

static void test_window_and_unknown_build(void)
{
    const bt_json *b0 = bt_json_get(truth, "builds")->u.items[0];
    bt_timeline_opts o = {3600000, "1h"};
    bt_error err = BT_ERROR_INIT;
    bt_timeline *t = NULL;
    size_t i;

    CHECK_INT(bt_build_timeline(store, str(b0, "uuid"), &o, &t, &err), 0);
    if (t) {
        CHECK_STR(t->window_text, "1h");
        CHECK_INT(t->window_ms, 3600000);
        for (i = 0; i < t->n_changes; i++)
            CHECK(t->changes[i].time_ms >= t->build.start_ms - 3600000);
    }
    bt_timeline_free(t);
    t = NULL;
    CHECK_INT(bt_build_timeline(store, "00000000-0000-4000-8000-00000000dead", NULL, &t, &err),
              BT_ENOTFOUND);
    CHECK(t == NULL);
    bt_timeline_free(NULL);
}

static void test_change_names(void)
{
    size_t n = 0, total, i, j;
    const char *want[] = {"DeleteProject", "InvalidateProjectCache", "DeleteResourcePolicy"};
    const bt_codebuild_event *ev = bt_codebuild_events(&total);
    for (i = 0; i < total; i++)
        n += (ev[i].flags & BT_CB_PROJECT_CHANGE) != 0;
    CHECK_INT(n, 12);
    /* the live timeline reads the definitions over the whole history */
    CHECK(bt_codebuild_event_is("CreateProject", BT_CB_PROJECT_DEFINITION));
    CHECK(bt_codebuild_event_is("UpdateProject", BT_CB_PROJECT_DEFINITION));
    for (i = 0; i < 3; i++) {
        int found = 0;
        for (j = 0; j < total; j++)
            found |= strcmp(ev[j].name, want[i]) == 0 && (ev[j].flags & BT_CB_PROJECT_CHANGE);
        CHECK(found);
    }
    CHECK_STR(bt_timeline_kind_name(BT_TL_CALL), "call");
    CHECK_STR(bt_timeline_kind_name(BT_TL_PHASE), "phase");
}

static void test_all(void)
{
    setup();
    test_builds_agree_with_ground_truth();
    test_window_and_unknown_build();
    teardown();
}

BT_TEST_MAIN(test_change_names, test_all)
