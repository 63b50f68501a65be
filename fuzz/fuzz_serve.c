/* fuzz_serve.c - libFuzzer target for the `serve` request handler (bt_serve_handle,
 * no sockets) over a small store made at start-up: arbitrary methods, paths, header
 * names and values (X-Amz-Target, X-Amz-Date, Authorization...) and bodies, with
 * and without --auth. Checks that every response is a known status with a JSON body
 * of the right shape: a page of at most 50 events, or an error with a __type.
 *
 * Input: byte 0 = flags (bit 0 auth on, bit 1 GET instead of POST, bit 2 path "/x",
 * bit 3 no default X-Amz-Target, bit 4 tiny body cap), then "Name: value" header
 * lines up to an empty line, then the body. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buildtrail/json.h"
#include "buildtrail/server.h"
#include "buildtrail/store.h"

#define MAX_HDR 32

static char dir[64], path[128];
static bt_store *store;
static bt_arena *scratch, *check;
static bt_serve_auth *auth;

static void cleanup(void)
{
    char p[160];
    bt_store_close(store);
    snprintf(p, sizeof p, "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof p, "%s-shm", path);
    unlink(p);
    unlink(path);
    rmdir(dir);
}

static void add(bt_store *s, bt_arena *a, const char *text)
{
    bt_error err = BT_ERROR_INIT;
    bt_json *v;
    bt_event ev;
    int is_new;
    if (bt_json_parse(a, text, strlen(text), NULL, &v, &err) ||
        bt_event_from_record(a, v, &ev, &err) || bt_store_add(s, &ev, &is_new, &err)) {
        fprintf(stderr, "fuzz_serve: fixture: %s\n", err.msg);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    bt_store *w = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_arena *a = bt_arena_new(0, 0);
    char rec[1024];
    int i;
    (void)argc;
    (void)argv;

    snprintf(dir, sizeof dir, "/tmp/bt-fuzz-serve-XXXXXX");
    if (!mkdtemp(dir))
        abort();
    snprintf(path, sizeof path, "%s/events.db", dir);
    if (bt_store_open(path, 0, &w, &err) || bt_store_begin(w, &err))
        abort();
    for (i = 0; i < 120; i++) {
        snprintf(rec, sizeof rec,
                 "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"userName\":"
                 "\"u%d\",\"accountId\":\"111122223333\",\"accessKeyId\":\"AKIA%d\"},"
                 "\"eventTime\":\"2026-10-01T10:%02d:%02dZ\",\"eventSource\":\"%s\","
                 "\"eventName\":\"%s\",\"awsRegion\":\"us-east-1\",\"requestParameters\":"
                 "{\"projectName\":\"p%d\"},\"resources\":[{\"type\":\"AWS::CodeBuild::Project\","
                 "\"ARN\":\"arn:aws:codebuild:us-east-1:111122223333:project/p%d\"}],"
                 "\"eventID\":\"00000000-0000-4000-8000-%012d\",\"readOnly\":%s,\"eventType\":"
                 "\"%s\"}",
                 i % 3, i % 2, i / 4, (i % 4) * 15,
                 i % 5 ? "codebuild.amazonaws.com" : "s3.amazonaws.com",
                 i % 2 ? "StartBuild" : "ListProjects", i % 4, i % 4, i,
                 i % 2 ? "false" : "true", i % 17 == 0 ? "AwsCloudTrailInsight" : "AwsApiCall");
        add(w, a, rec);
    }
    if (bt_store_commit(w, &err))
        abort();
    bt_store_close(w);
    bt_arena_free(a);
    if (bt_store_open(path, BT_STORE_READONLY, &store, &err))
        abort();
    scratch = bt_arena_new(0, 64u << 20);
    check = bt_arena_new(0, 0);
    auth = bt_serve_auth_new();
    if (!scratch || !check || !auth ||
        bt_serve_auth_add(auth, "AKIDFUZZ", "fuzz/secret+key", &err))
        abort();
    atexit(cleanup);
    return 0;
}

static void verify(const bt_serve_response *r)
{
    bt_error err = BT_ERROR_INIT;
    bt_json *v = NULL, *evs;
    switch (r->status) {
    case 200: case 400: case 403: case 404: case 413: case 500: break;
    default: abort();
    }
    if (r->status == 500) /* the store is fine, so 500 can only be out of memory */
        abort();
    bt_arena_reset(check);
    if (bt_json_parse(check, r->body.data ? r->body.data : "", r->body.len, NULL, &v, &err) ||
        v->type != BT_JSON_OBJECT)
        abort();
    if (strlen(r->request_id) != 36)
        abort();
    if (r->status == 200) {
        evs = bt_json_get(v, "Events");
        if (!evs || evs->type != BT_JSON_ARRAY || evs->len > 50 || evs->len != r->events)
            abort();
    } else if (!bt_json_get_str(v, "__type") || !bt_json_get_str(v, "message") ||
               !r->error_type) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bt_sigv4_header h[MAX_HDR];
    bt_serve_request req;
    bt_serve_response resp;
    bt_serve_config cfg;
    char *copy, *p, *end;
    size_t n = 0;
    unsigned flags;

    if (size < 1)
        return 0;
    flags = data[0];
    copy = malloc(size); /* headers are cut into NUL-terminated strings in place */
    if (!copy)
        return 0;
    memcpy(copy, data + 1, size - 1);
    copy[size - 1] = '\0';
    p = copy;
    end = copy + size - 1;
    h[n].name = "Host";
    h[n++].value = "127.0.0.1:8090";
    if (!(flags & 8)) {
        h[n].name = "X-Amz-Target";
        h[n++].value = BT_SERVE_TARGET_PREFIX "LookupEvents";
    }
    /* header lines until an empty line */
    while (p < end) {
        char *nl = memchr(p, '\n', (size_t)(end - p)), *colon;
        if (!nl)
            break;
        if (nl == p) {
            p++;
            break;
        }
        *nl = '\0';
        colon = strchr(p, ':');
        if (colon && n < MAX_HDR) {
            *colon = '\0';
            h[n].name = p;
            h[n].value = colon + 1 + (colon[1] == ' ');
            n++;
        }
        p = nl + 1;
    }
    memset(&req, 0, sizeof req);
    req.method = flags & 2 ? "GET" : "POST";
    req.path = flags & 4 ? "/x" : "/";
    req.headers = h;
    req.nheaders = n;
    req.body = p;
    req.body_len = (size_t)(end - p);
    memset(&cfg, 0, sizeof cfg);
    cfg.auth = flags & 1 ? auth : NULL;
    cfg.now = 1790850000;
    cfg.max_body = flags & 16 ? 64 : 0;
    bt_serve_response_init(&resp);
    bt_serve_handle(&cfg, store, scratch, &req, &resp);
    verify(&resp);
    bt_serve_response_dispose(&resp);
    free(copy);
    return 0;
}
