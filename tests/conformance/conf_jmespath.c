/*
 * conf_jmespath.c - runs the JMESPath compliance suite (every .json file in
 * <dir>/jmespath, dir = argv[1], the shared conformance directory) against bt_jmespath.
 *
 * Every case of every file: "result" cases must evaluate to an equal value
 * (bt_json_equal), "error" cases must fail, at compile or evaluation time, with the
 * named kind (err.aws_code), "bench" cases (benchmarks.json) must compile and
 * evaluate without error. Prints per-file counts, each failure, and finally
 * "N passed, M failed"; exits 1 on any failure, 77 when the suite is missing.
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "buildtrail/jmespath.h"
#include "buildtrail/json.h"

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void show(const bt_json *v, char *buf, size_t size)
{
    bt_buf b = BT_BUF_INIT;
    bt_json_write_opts o = {0, BT_JSON_W_PYNUM};
    if (!v || bt_json_write(&b, v, &o) != 0)
        snprintf(buf, size, "(unprintable)");
    else
        snprintf(buf, size, "%.200s%s", b.data, b.len > 200 ? "..." : "");
    bt_buf_dispose(&b);
}

/* Runs one case; returns 1 if it passed. */
static int run_case(const char *file, const bt_json *given, const bt_json *cs, bt_arena *scratch)
{
    const char *expr = bt_json_get_str(cs, "expression");
    const bt_json *want = bt_json_get(cs, "result");
    const char *want_err = bt_json_get_str(cs, "error");
    const char *bench = bt_json_get_str(cs, "bench");
    bt_error err = BT_ERROR_INIT;
    bt_jmespath *q = NULL;
    bt_json *got = NULL;
    char a[256], b[256];
    int rc, ok = 0;

    if (!expr) {
        printf("  FAIL %s: case without an expression\n", file);
        return 0;
    }
    rc = bt_jmespath_compile(expr, &q, &err);
    if (rc == 0)
        rc = bt_jmespath_eval(q, scratch, given, &got, &err);

    if (want_err) {
        if (rc == 0) {
            show(got, a, sizeof a);
            printf("  FAIL %s: %s: expected a %s error, got %s\n", file, expr, want_err, a);
        } else if (strcmp(err.aws_code, want_err) != 0) {
            printf("  FAIL %s: %s: expected a %s error, got %s: %s\n", file, expr, want_err,
                   err.aws_code[0] ? err.aws_code : "(no kind)", err.msg);
        } else {
            ok = 1;
        }
    } else if (rc != 0) {
        printf("  FAIL %s: %s: error %s: %s\n", file, expr, err.aws_code, err.msg);
    } else if (bench) {
        ok = 1;
    } else if (!want) {
        printf("  FAIL %s: %s: case has no result, error or bench\n", file, expr);
    } else if (!bt_json_equal(got, want)) {
        show(got, a, sizeof a);
        show(want, b, sizeof b);
        printf("  FAIL %s: %s: got %s, expected %s\n", file, expr, a, b);
    } else {
        ok = 1;
    }
    bt_jmespath_free(q);
    bt_arena_reset(scratch);
    return ok;
}

static int run_file(const char *path, const char *name, int *passed, int *failed)
{
    bt_buf text = BT_BUF_INIT;
    bt_error err = BT_ERROR_INIT;
    bt_arena *doc = bt_arena_new(0, 0), *scratch = bt_arena_new(0, 0);
    bt_json *root;
    size_t i, j;
    int p = 0, f = 0, rc = -1;

    if (!doc || !scratch) {
        printf("%s: out of memory\n", name);
        goto done;
    }
    if (bt_buf_read_file(&text, path, &err) != 0 ||
        bt_json_parse(doc, text.data ? text.data : "", text.len, NULL, &root, &err) != 0) {
        printf("%s: %s\n", name, err.msg);
        goto done;
    }
    if (root->type != BT_JSON_ARRAY) {
        printf("%s: not a list of suites\n", name);
        goto done;
    }
    for (i = 0; i < root->len; i++) {
        const bt_json *suite = root->u.items[i];
        const bt_json *given = bt_json_get(suite, "given");
        const bt_json *cases = bt_json_get(suite, "cases");
        if (!cases || cases->type != BT_JSON_ARRAY) {
            printf("  FAIL %s: suite %zu has no cases\n", name, i);
            f++;
            continue;
        }
        for (j = 0; j < cases->len; j++) {
            if (run_case(name, given, cases->u.items[j], scratch))
                p++;
            else
                f++;
        }
    }
    rc = 0;
done:
    if (rc != 0)
        f++;
    printf("%-20s %4d passed, %d failed\n", name, p, f);
    *passed += p;
    *failed += f;
    bt_buf_dispose(&text);
    bt_arena_free(doc);
    bt_arena_free(scratch);
    return rc;
}

int main(int argc, char **argv)
{
    char dir[4096], path[4200];
    DIR *d;
    struct dirent *e;
    char **names = NULL;
    size_t n = 0, cap = 0, i;
    int passed = 0, failed = 0;

    if (argc < 2) {
        fprintf(stderr, "usage: conf_jmespath <shared conformance dir>\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s/jmespath", argv[1]);
    d = opendir(dir);
    if (!d) {
        printf("skip: JMESPath compliance suite not found at %s\n", dir);
        return 77;
    }
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 32;
            names = realloc(names, cap * sizeof *names);
            if (!names)
                return 2;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n == 0) {
        printf("skip: no .json files in %s\n", dir);
        free(names);
        return 77;
    }
    qsort(names, n, sizeof *names, cmp_names);
    for (i = 0; i < n; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        run_file(path, names[i], &passed, &failed);
        free(names[i]);
    }
    free(names);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
