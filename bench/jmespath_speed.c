/*
 * jmespath_speed.c - JMESPath throughput: compiles and evaluates every case of the
 * compliance suite's benchmarks.json many times and prints ops/s for parsing
 * (bt_jmespath_compile + free) and evaluation (bt_jmespath_eval, arena reset per op),
 * then a CloudTrail-sized case (filter + multiselect over 10,000 events).
 *
 * usage: bench-jmespath_speed [shared-conformance-dir] [seconds-per-case]
 * The directory defaults to $BT_SHARED_DIR/conformance, else ../shared/conformance.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/jmespath.h"
#include "buildtrail/json.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* compile+free ops/s over about `secs` seconds; -1 if the expression fails */
static double bench_parse(const char *expr, double secs)
{
    double t0 = now(), t;
    long n = 0, batch = 64, i;
    do {
        for (i = 0; i < batch; i++) {
            bt_jmespath *q = NULL;
            bt_error err = BT_ERROR_INIT;
            if (bt_jmespath_compile(expr, &q, &err) != 0) {
                fprintf(stderr, "compile %s: %s\n", expr, err.msg);
                return -1;
            }
            bt_jmespath_free(q);
        }
        n += batch;
        t = now() - t0;
    } while (t < secs);
    return (double)n / t;
}

/* eval ops/s (arena reset after each) */
static double bench_eval(const char *expr, const bt_json *input, double secs)
{
    bt_jmespath *q = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_arena *a = bt_arena_new(0, 0);
    double t0, t, rate = -1;
    long n = 0, batch = 16, i;
    if (!a || bt_jmespath_compile(expr, &q, &err) != 0) {
        fprintf(stderr, "compile %s: %s\n", expr, err.msg);
        goto done;
    }
    t0 = now();
    do {
        for (i = 0; i < batch; i++) {
            bt_json *res;
            if (bt_jmespath_eval(q, a, input, &res, &err) != 0) {
                fprintf(stderr, "eval %s: %s\n", expr, err.msg);
                goto done;
            }
            bt_arena_reset(a);
        }
        n += batch;
        t = now() - t0;
    } while (t < secs);
    rate = (double)n / t;
done:
    bt_jmespath_free(q);
    bt_arena_free(a);
    return rate;
}

static void fmt_rate(double r, char *buf, size_t size)
{
    if (r < 0)
        snprintf(buf, size, "%s", "error");
    else if (r >= 1e6)
        snprintf(buf, size, "%.2fM", r / 1e6);
    else if (r >= 1e3)
        snprintf(buf, size, "%.1fk", r / 1e3);
    else
        snprintf(buf, size, "%.0f", r);
}

/* n synthetic LookupEvents records */
static bt_json *make_events(bt_arena *a, int n)
{
    bt_buf b = BT_BUF_INIT;
    bt_json *doc = NULL;
    bt_error err = BT_ERROR_INIT;
    static const char *names[] = {"StartBuild", "BatchGetBuilds", "StopBuild", "AssumeRole"};
    int i;
    bt_buf_puts(&b, "{\"Events\": [");
    for (i = 0; i < n; i++)
        bt_buf_printf(&b,
                      "%s{\"EventId\": \"%08x-0000-4000-8000-%012d\", \"EventName\": \"%s\","
                      " \"ReadOnly\": \"%s\", \"EventTime\": %d.0, \"EventSource\":"
                      " \"codebuild.amazonaws.com\", \"Username\": \"user%d\", \"Resources\":"
                      " [{\"ResourceType\": \"AWS::CodeBuild::Project\", \"ResourceName\":"
                      " \"project-%d\"}]}",
                      i ? ", " : "", (unsigned)i * 2654435761u, i, names[i % 4],
                      i % 4 == 1 ? "true" : "false", 1700000000 + (i * 7919) % 100000, i % 37,
                      i % 11);
    bt_buf_puts(&b, "]}");
    if (bt_json_parse(a, b.data, b.len, NULL, &doc, &err) != 0)
        fprintf(stderr, "events: %s\n", err.msg);
    bt_buf_dispose(&b);
    return doc;
}

int main(int argc, char **argv)
{
    char path[4200], p1[32], p2[32];
    const char *dir = argc > 1 ? argv[1] : NULL;
    double secs = argc > 2 ? atof(argv[2]) : 0.3;
    bt_buf text = BT_BUF_INIT;
    bt_error err = BT_ERROR_INIT;
    bt_arena *doc_arena = bt_arena_new(0, 0);
    bt_json *root = NULL, *events;
    size_t i, j;
    static const char *ct_queries[] = {
        "Events[?EventName=='StartBuild'].{Id:EventId,User:Username}",
        "Events[].Resources[].ResourceName",
        "sort_by(Events,&EventTime)[-1].EventId",
        "length(Events[?ReadOnly=='false'])",
        "max_by(Events, &EventTime).EventId",
    };

    if (!dir) {
        const char *env = getenv("BT_SHARED_DIR");
        static char def[4096];
        snprintf(def, sizeof def, "%s/conformance", env ? env : "../shared");
        dir = def;
    }
    snprintf(path, sizeof path, "%s/jmespath/benchmarks.json", dir);
    if (bt_buf_read_file(&text, path, &err) != 0 ||
        bt_json_parse(doc_arena, text.data, text.len, NULL, &root, &err) != 0) {
        fprintf(stderr, "jmespath_speed: %s\n", err.msg);
        return 1;
    }
    printf("%-32s %12s %12s\n", "benchmarks.json case", "parse ops/s", "eval ops/s");
    for (i = 0; i < root->len; i++) {
        const bt_json *suite = root->u.items[i];
        const bt_json *given = bt_json_get(suite, "given");
        const bt_json *cases = bt_json_get(suite, "cases");
        for (j = 0; cases && j < cases->len; j++) {
            const char *expr = bt_json_get_str(cases->u.items[j], "expression");
            const char *comment = bt_json_get_str(cases->u.items[j], "comment");
            const char *kind = bt_json_get_str(cases->u.items[j], "bench");
            double pr, er = -2;
            pr = bench_parse(expr, secs);
            if (!kind || strcmp(kind, "parse") != 0)
                er = bench_eval(expr, given, secs);
            fmt_rate(pr, p1, sizeof p1);
            if (er == -2)
                snprintf(p2, sizeof p2, "-");
            else
                fmt_rate(er, p2, sizeof p2);
            printf("%-32.32s %12s %12s\n", comment ? comment : expr, p1, p2);
        }
    }

    events = make_events(doc_arena, 10000);
    if (events) {
        printf("\n%-62s %10s %12s\n", "10,000 LookupEvents records", "evals/s", "events/s");
        for (i = 0; i < sizeof ct_queries / sizeof ct_queries[0]; i++) {
            double er = bench_eval(ct_queries[i], events, secs);
            fmt_rate(er, p1, sizeof p1);
            fmt_rate(er * 10000, p2, sizeof p2);
            printf("%-62s %10s %12s\n", ct_queries[i], p1, p2);
        }
    }
    bt_buf_dispose(&text);
    bt_arena_free(doc_arena);
    return 0;
}
