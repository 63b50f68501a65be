/* serve_handler.c - bench-serve_handler: the cost of one LookupEvents page without
 * HTTP. Calls bt_serve_handle in one thread for the same request mix as
 * bench/serve_wrk.lua (a random EndTime, then up to FOLLOW NextTokens) and prints
 * pages/s and p50/p99 latency per page, so bench/serve.sh can show how much of a
 * page's time is the handler (store query, record re-extraction, JSON) and how much
 * is HTTP and the load generator.
 *   bench-serve_handler STORE START END SECONDS [FOLLOW] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buildtrail/server.h"
#include "buildtrail/store.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    bt_store *store = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_arena *scratch;
    bt_serve_response resp;
    bt_serve_request req;
    bt_sigv4_header h[1] = {{"X-Amz-Target", BT_SERVE_TARGET_PREFIX "LookupEvents"}};
    long long t0, t1;
    double secs, start, t, *lat = NULL;
    size_t n = 0, cap = 0, bad = 0;
    int follow, followed = 0;
    char body[512], window[128], token[64] = "";
    unsigned seed = 7919;

    if (argc < 5) {
        fprintf(stderr, "usage: bench-serve_handler STORE START END SECONDS [FOLLOW]\n");
        return 2;
    }
    t0 = atoll(argv[2]);
    t1 = atoll(argv[3]);
    secs = atof(argv[4]);
    follow = argc > 5 ? atoi(argv[5]) : 5;
    if (bt_store_open(argv[1], BT_STORE_READONLY, &store, &err)) {
        fprintf(stderr, "bench-serve_handler: %s\n", err.msg);
        return 1;
    }
    scratch = bt_arena_new(0, 0);
    bt_serve_response_init(&resp);
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.path = "/";
    req.headers = h;
    req.nheaders = 1;
    start = now_s();
    while ((t = now_s()) - start < secs) {
        if (!token[0] || followed >= follow) {
            long long end = t0 + 86400 + (long long)(rand_r(&seed) % (unsigned)(t1 - t0 - 86400));
            snprintf(window, sizeof window, "\"StartTime\":%lld,\"EndTime\":%lld,\"MaxResults\":50",
                     t0, end);
            snprintf(body, sizeof body, "{%s}", window);
            followed = 0;
        } else {
            snprintf(body, sizeof body, "{%s,\"NextToken\":\"%s\"}", window, token);
            followed++;
        }
        req.body = body;
        req.body_len = strlen(body);
        bt_serve_handle(NULL, store, scratch, &req, &resp);
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            lat = realloc(lat, cap * sizeof *lat);
            if (!lat)
                return 1;
        }
        lat[n++] = (now_s() - t) * 1e3;
        token[0] = '\0';
        if (resp.status != 200) {
            bad++;
        } else {
            const char *k = strstr(resp.body.data + (resp.body.len > 100 ? resp.body.len - 100 : 0),
                                   "\"NextToken\":\"");
            if (k)
                sscanf(k + 13, "%63[^\"]", token);
        }
    }
    secs = now_s() - start;
    qsort(lat, n, sizeof *lat, cmp_d);
    printf("HANDLER pages=%zu seconds=%.2f pages_per_s=%.0f p50_ms=%.2f p99_ms=%.2f non200=%zu\n", n,
           secs, (double)n / secs, n ? lat[n / 2] : 0.0, n ? lat[(size_t)((double)n * 0.99)] : 0.0,
           bad);
    free(lat);
    bt_serve_response_dispose(&resp);
    bt_arena_free(scratch);
    bt_store_close(store);
    return bad ? 1 : 0;
}
