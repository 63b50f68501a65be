/* test_aws_creds.c - the credential chain's order and settings resolution without a
 * network (environment, files, credential_process), the refresh window, and clones
 * calling concurrently from threads (one resolution, all calls signed). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/sha.h>

#include "buildtrail/aws.h"
#include "buildtrail/lookup.h"
#include "tharness.h"
#include "test_aws_peer.h"

static char dir[64];
static char cfg_path[128], cred_path[128], proc_path[128], count_path[128];

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return;
    fputs(text, f);
    fclose(f);
}

static void clean_env(void)
{
    static const char *const vars[] = {"AWS_ACCESS_KEY_ID",
                                       "AWS_SECRET_ACCESS_KEY",
                                       "AWS_SESSION_TOKEN",
                                       "AWS_SECURITY_TOKEN",
                                       "AWS_CREDENTIAL_EXPIRATION",
                                       "AWS_PROFILE",
                                       "AWS_DEFAULT_PROFILE",
                                       "AWS_REGION",
                                       "AWS_DEFAULT_REGION",
                                       "AWS_WEB_IDENTITY_TOKEN_FILE",
                                       "AWS_ROLE_ARN",
                                       "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                                       "AWS_CONTAINER_CREDENTIALS_FULL_URI",
                                       "AWS_ENDPOINT_URL",
                                       "AWS_ENDPOINT_URL_CLOUDTRAIL",
                                       "AWS_MAX_ATTEMPTS",
                                       "AWS_USE_FIPS_ENDPOINT",
                                       "AWS_USE_DUALSTACK_ENDPOINT",
                                       "AWS_CA_BUNDLE",
                                       "HTTP_PROXY",
                                       "HTTPS_PROXY",
                                       "http_proxy",
                                       "https_proxy",
                                       "ALL_PROXY",
                                       "all_proxy",
                                       NULL};
    int i;
    for (i = 0; vars[i]; i++)
        unsetenv(vars[i]);
    setenv("AWS_CONFIG_FILE", cfg_path, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", cred_path, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
}

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/bt_creds_XXXXXX");
    if (!mkdtemp(dir))
        return;
    snprintf(cfg_path, sizeof cfg_path, "%s/config", dir);
    snprintf(cred_path, sizeof cred_path, "%s/credentials", dir);
    snprintf(proc_path, sizeof proc_path, "%s/proc.sh", dir);
    snprintf(count_path, sizeof count_path, "%s/count", dir);
}

static bt_aws_client *client(const char *profile, const char *region, int want_rc)
{
    bt_aws_config cfg = BT_AWS_CONFIG_INIT;
    bt_aws_client *c = NULL;
    bt_error err = BT_ERROR_INIT;
    int rc;
    cfg.profile = profile;
    cfg.region = region;
    cfg.max_attempts = 1;
    rc = bt_aws_client_new(&c, &cfg, &err);
    if (rc != want_rc)
        fprintf(stderr, "  client(%s): rc %d: %s\n", profile ? profile : "-", rc, err.msg);
    CHECK_INT(rc, want_rc);
    if (rc && !want_rc)
        fprintf(stderr, "  client: %s\n", err.msg);
    return c;
}

static const char *source_of(bt_aws_client *c, char *buf, size_t cap)
{
    bt_aws_creds cr;
    bt_error err = BT_ERROR_INIT;
    if (!c || bt_aws_client_credentials(c, &cr, &err) != 0) {
        snprintf(buf, cap, "error: %s", err.msg);
        return buf;
    }
    snprintf(buf, cap, "%s %s", cr.source, cr.access_key_id);
    bt_aws_creds_dispose(&cr);
    return buf;
}

static void test_order_and_settings(void)
{
    bt_aws_client *c;
    char buf[600];

    clean_env();
    write_file(cfg_path, "[default]\nregion = eu-central-1\naws_access_key_id = CFGDEF\n"
                         "aws_secret_access_key = s\nmax_attempts = 7\n"
                         "[profile p]\nregion = ap-south-1\naws_access_key_id = CFGP\n"
                         "aws_secret_access_key = s\nuse_fips_endpoint = true\n");
    write_file(cred_path, "[default]\naws_access_key_id = CREDDEF\naws_secret_access_key = s\n");

    c = client(NULL, NULL, 0);
    CHECK_STR(source_of(c, buf, sizeof buf), "shared-credentials-file CREDDEF");
    CHECK_STR(bt_aws_client_region(c), "eu-central-1");
    CHECK_STR(bt_aws_client_profile(c), "default");
    bt_aws_client_free(c);

    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "s", 1);
    setenv("AWS_DEFAULT_REGION", "us-west-1", 1);
    c = client(NULL, NULL, 0);
    CHECK_STR(source_of(c, buf, sizeof buf), "env ENVKEY");
    CHECK_STR(bt_aws_client_region(c), "us-west-1");
    bt_aws_client_free(c);

    setenv("AWS_REGION", "us-west-2", 1);
    setenv("AWS_PROFILE", "p", 1);
    c = client(NULL, NULL, 0);
    CHECK_STR(source_of(c, buf, sizeof buf), "env ENVKEY"); /* AWS_PROFILE keeps env keys */
    CHECK_STR(bt_aws_client_region(c), "us-west-2");
    CHECK_STR(bt_aws_client_profile(c), "p");
    bt_aws_client_free(c);

    c = client("p", "sa-east-1", 0); /* --profile skips env keys; --region wins */
    CHECK_STR(source_of(c, buf, sizeof buf), "config-file CFGP");
    CHECK_STR(bt_aws_client_region(c), "sa-east-1");
    {
        bt_aws_endpoint ep;
        bt_error err = BT_ERROR_INIT;
        CHECK_INT(bt_aws_client_endpoint(c, "cloudtrail", &ep, &err), 0);
        CHECK_STR(ep.url, "https://cloudtrail-fips.sa-east-1.amazonaws.com");
        /* FIPS and a custom endpoint do not mix */
        CHECK_INT(bt_aws_client_set_endpoint(c, "cloudtrail", "http://127.0.0.1:1", &err), 0);
        CHECK_INT(bt_aws_client_endpoint(c, "cloudtrail", &ep, &err), BT_ECONFIG);
        CHECK_INT(bt_aws_client_set_endpoint(c, "cloudtrail", "ftp://x", &err), BT_EINVAL);
    }
    bt_aws_client_free(c);
    unsetenv("AWS_PROFILE");
    unsetenv("AWS_REGION");
    unsetenv("AWS_DEFAULT_REGION");

    /* AWS_DEFAULT_PROFILE is the last choice before "default" */
    setenv("AWS_DEFAULT_PROFILE", "p", 1);
    c = client(NULL, NULL, 0);
    CHECK_STR(bt_aws_client_profile(c), "p");
    CHECK_STR(bt_aws_client_region(c), "ap-south-1");
    bt_aws_client_free(c);
    unsetenv("AWS_DEFAULT_PROFILE");

    /* a named profile that does not exist; "default" may be missing */
    c = client("nope", NULL, BT_ECONFIG);
    setenv("AWS_PROFILE", "nope2", 1);
    c = client(NULL, NULL, BT_ECONFIG);
    unsetenv("AWS_PROFILE");
    setenv("AWS_MAX_ATTEMPTS", "0", 1);
    {
        bt_error err = BT_ERROR_INIT;
        CHECK_INT(bt_aws_client_new(&c, NULL, &err), BT_ECONFIG);
        CHECK(strstr(err.msg, "max_attempts") != NULL);
    }
    unsetenv("AWS_MAX_ATTEMPTS");
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");

    /* env: key without secret is an error, not a fall-through */
    setenv("AWS_ACCESS_KEY_ID", "ENVKEY", 1);
    c = client(NULL, NULL, 0);
    CHECK(strstr(source_of(c, buf, sizeof buf), "partial credentials") != NULL);
    bt_aws_client_free(c);
    unsetenv("AWS_ACCESS_KEY_ID");

    /* partial keys in the credentials file */
    write_file(cred_path, "[default]\naws_access_key_id = CREDDEF\n");
    c = client(NULL, NULL, 0);
    CHECK(strstr(source_of(c, buf, sizeof buf), "aws_secret_access_key is missing") != NULL);
    bt_aws_client_free(c);
    unlink(cred_path);
}

/* credential_process that counts its runs and hands out credentials expiring in
 * $1 seconds. */
static void write_counting_process(void)
{
    char text[1024];
    snprintf(text, sizeof text,
             "#!/bin/sh\n"
             "n=$(cat '%s' 2>/dev/null || echo 0); n=$((n+1)); echo $n > '%s'\n"
             "exp=$(date -u -d \"@$(( $(date +%%s) + $1 ))\" +%%Y-%%m-%%dT%%H:%%M:%%SZ)\n"
             "printf '{\"Version\":1,\"AccessKeyId\":\"PROC%%s\",\"SecretAccessKey\":\"s\","
             "\"Expiration\":\"%%s\"}' $n $exp\n",
             count_path, count_path);
    write_file(proc_path, text);
    chmod(proc_path, 0700);
}

static int runs(void)
{
    FILE *f = fopen(count_path, "r");
    int n = 0;
    if (f) {
        if (fscanf(f, "%d", &n) != 1)
            n = 0;
        fclose(f);
    }
    return n;
}

static void test_refresh_window(void)
{
    bt_aws_client *c;
    char buf[600], text[512];
    bt_aws_creds cr;
    bt_error err = BT_ERROR_INIT;

    clean_env();
    write_counting_process();
    unlink(count_path);
    /* expiring in 10 minutes: outside the 5-minute window, cached */
    snprintf(text, sizeof text, "[default]\ncredential_process = %s 600\n", proc_path);
    write_file(cfg_path, text);
    c = client(NULL, "us-east-1", 0);
    CHECK_STR(source_of(c, buf, sizeof buf), "credential-process PROC1");
    CHECK_STR(source_of(c, buf, sizeof buf), "credential-process PROC1");
    CHECK_INT(runs(), 1);
    if (c && bt_aws_client_credentials(c, &cr, &err) == 0) {
        int64_t left = cr.expiration - (int64_t)time(NULL);
        CHECK(left > 500 && left <= 600);
        bt_aws_creds_dispose(&cr);
    }
    bt_aws_client_free(c);

    /* expiring in 2 minutes: inside the window, so every use refreshes */
    unlink(count_path);
    snprintf(text, sizeof text, "[default]\ncredential_process = %s 120\n", proc_path);
    write_file(cfg_path, text);
    c = client(NULL, "us-east-1", 0);
    CHECK_STR(source_of(c, buf, sizeof buf), "credential-process PROC1");
    CHECK_STR(source_of(c, buf, sizeof buf), "credential-process PROC2");
    CHECK_INT(runs(), 2);
    /* a failing refresh keeps credentials that are still valid */
    snprintf(text, sizeof text, "#!/bin/sh\nexit 1\n");
    write_file(proc_path, text);
    CHECK_STR(source_of(c, buf, sizeof buf), "credential-process PROC2");
    bt_aws_client_free(c);

    /* already expired and the refresh fails: an error */
    unlink(count_path);
    write_counting_process();
    snprintf(text, sizeof text, "[default]\ncredential_process = %s -10\n", proc_path);
    write_file(cfg_path, text);
    c = client(NULL, "us-east-1", 0);
    CHECK_STR(source_of(c, buf, sizeof buf), "credential-process PROC1");
    write_file(proc_path, "#!/bin/sh\nexit 1\n");
    CHECK(strstr(source_of(c, buf, sizeof buf), "exited with status 1") != NULL);
    bt_aws_client_free(c);
    unlink(proc_path);
    unlink(count_path);
}

typedef struct worker {
    bt_aws_client *c;
    int ok;
} worker;

static void *work(void *p)
{
    worker *w = p;
    int i;
    for (i = 0; i < 5; i++) {
        bt_aws_response resp;
        bt_error err = BT_ERROR_INIT;
        bt_aws_response_init(&resp);
        if (bt_aws_json_call(w->c, "CodeBuild_20161006", "BatchGetBuilds", "{\"ids\":[\"p:1\"]}",
                             &resp, &err) == 0 &&
            resp.http_status == 200)
            w->ok++;
        bt_aws_response_dispose(&resp);
    }
    return NULL;
}

static void test_clones_in_threads(void)
{
    static const reply replies[] = {{200, "application/x-amz-json-1.1", "{\"builds\":[]}"}};
    peer s;
    bt_aws_client *c, *clones[4] = {0};
    pthread_t th[4];
    worker w[4];
    char url[64], text[512];
    int i, total = 0;

    clean_env();
    write_counting_process();
    unlink(count_path);
    snprintf(text, sizeof text, "[default]\ncredential_process = %s 3600\n", proc_path);
    write_file(cfg_path, text);
    if (peer_start(&s, replies, 1) != 0) {
        CHECK(0);
        return;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s.port);
    setenv("AWS_ENDPOINT_URL_CODEBUILD", url, 1);
    c = client(NULL, "us-east-1", 0);
    for (i = 0; c && i < 4; i++) {
        bt_error err = BT_ERROR_INIT;
        CHECK_INT(bt_aws_client_clone(&clones[i], c, &err), 0);
        w[i].c = clones[i];
        w[i].ok = 0;
    }
    bt_aws_client_free(c); /* clones keep the shared state alive */
    for (i = 0; i < 4; i++)
        if (clones[i])
            pthread_create(&th[i], NULL, work, &w[i]);
    for (i = 0; i < 4; i++)
        if (clones[i]) {
            pthread_join(th[i], NULL);
            total += w[i].ok;
        }
    CHECK_INT(total, 20);
    CHECK_INT(s.served, 20);
    CHECK_INT(runs(), 1); /* one credential resolution shared by all clones */
    CHECK(strstr(s.received.data ? s.received.data : "", "Credential=PROC1/") != NULL);
    for (i = 0; i < 4; i++)
        bt_aws_client_free(clones[i]);
    unsetenv("AWS_ENDPOINT_URL_CODEBUILD");
    peer_stop(&s);
    unlink(proc_path);
    unlink(count_path);
}

/* IAM Identity Center: the cached token is exchanged at the portal (here a loopback
 * peer via AWS_ENDPOINT_URL_SSO); an expired or missing token asks to log in. */
static void test_sso(void)
{
    static const reply replies[] = {
        {200, "application/json",
         "{\"roleCredentials\":{\"accessKeyId\":\"ASIASSO\",\"secretAccessKey\":\"ssosecret\","
         "\"sessionToken\":\"ssotoken\",\"expiration\":4070908800000}}"},
        {401, "application/json",
         "{\"__type\":\"UnauthorizedException\",\"message\":\"Session token not found or "
         "invalid\"}"}};
    peer s;
    bt_aws_client *c;
    bt_aws_creds cr;
    bt_error err = BT_ERROR_INIT;
    char url[64], cache[256], file[400], buf[600];
    unsigned char md[SHA_DIGEST_LENGTH];
    int i;

    clean_env();
    if (peer_start(&s, replies, 2) != 0) {
        CHECK(0);
        return;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s.port);
    setenv("AWS_ENDPOINT_URL_SSO", url, 1);
    setenv("HOME", dir, 1);
    write_file(cfg_path, "[profile dev]\nsso_session = corp\nsso_account_id = 123456789012\n"
                         "sso_role_name = ReadOnly\nregion = us-east-1\n"
                         "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
                         "sso_region = eu-west-1\n"
                         "[profile broken]\nsso_account_id = 1\nsso_session = nowhere\n");
    snprintf(cache, sizeof cache, "%s/.aws", dir);
    mkdir(cache, 0700);
    snprintf(cache, sizeof cache, "%s/.aws/sso", dir);
    mkdir(cache, 0700);
    snprintf(cache, sizeof cache, "%s/.aws/sso/cache", dir);
    mkdir(cache, 0700);
    SHA1((const unsigned char *)"corp", 4, md);
    snprintf(file, sizeof file, "%s/", cache);
    for (i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(file + strlen(file), 3, "%02x", md[i]);
    strcat(file, ".json");

    /* no token cached yet */
    c = client("dev", NULL, 0);
    CHECK(strstr(source_of(c, buf, sizeof buf), "aws sso login --profile dev") != NULL);
    bt_aws_client_free(c);
    /* an expired one */
    write_file(file, "{\"accessToken\":\"bearer-1\",\"expiresAt\":\"2020-01-01T00:00:00Z\"}");
    c = client("dev", NULL, 0);
    CHECK(strstr(source_of(c, buf, sizeof buf), "has expired") != NULL);
    bt_aws_client_free(c);
    /* a valid one */
    write_file(file, "{\"accessToken\":\"bearer-1\",\"expiresAt\":\"2099-01-01T00:00:00UTC\"}");
    c = client("dev", NULL, 0);
    if (c && bt_aws_client_credentials(c, &cr, &err) == 0) {
        CHECK_STR(cr.source, "sso");
        CHECK_STR(cr.access_key_id, "ASIASSO");
        CHECK_STR(cr.session_token, "ssotoken");
        CHECK_INT(cr.expiration, 4070908800LL);
        CHECK_STR(cr.account_id, "123456789012");
        bt_aws_creds_dispose(&cr);
    } else {
        fprintf(stderr, "  sso: %s\n", err.msg);
        CHECK(0);
    }
    bt_aws_client_free(c);
    CHECK(strstr(s.received.data ? s.received.data : "",
                 "GET /federation/credentials?account_id=123456789012&role_name=ReadOnly ") !=
          NULL);
    CHECK(strstr(s.received.data ? s.received.data : "", "x-amz-sso_bearer_token: bearer-1") !=
          NULL);
    /* the portal refuses the token */
    c = client("dev", NULL, 0);
    CHECK(strstr(source_of(c, buf, sizeof buf), "UnauthorizedException") != NULL);
    bt_aws_client_free(c);
    c = client("broken", NULL, 0);
    CHECK(strstr(source_of(c, buf, sizeof buf), "sso-session 'nowhere'") != NULL);
    bt_aws_client_free(c);

    unsetenv("AWS_ENDPOINT_URL_SSO");
    peer_stop(&s);
    unlink(file);
    rmdir(cache);
    snprintf(cache, sizeof cache, "%s/.aws/sso", dir);
    rmdir(cache);
    snprintf(cache, sizeof cache, "%s/.aws", dir);
    rmdir(cache);
}

typedef struct pages_seen {
    int pages, events;
    char first_ids[256];
} pages_seen;

static int on_page(void *payload, const bt_ct_page_view *v)
{
    const bt_ct_lookup_page *pg = v->page;
    pages_seen *ps = payload;
    size_t i;
    ps->pages++;
    ps->events += (int)pg->nevents;
    for (i = 0; i < pg->nevents; i++)
        if (pg->events[i].event_id && strlen(ps->first_ids) + 8 < sizeof ps->first_ids) {
            strcat(ps->first_ids, pg->events[i].event_id);
            strcat(ps->first_ids, " ");
        }
    return ps->pages >= 10; /* stop on the tenth page */
}

/* LookupEvents auto-pagination: tokens are sent back, a repeated token stops with
 * PaginationError, the callback can stop, max_pages limits. */
static void test_lookup_pagination(void)
{
    static const reply replies[] = {
        {200, "application/x-amz-json-1.1",
         "{\"Events\":[{\"EventId\":\"a\"}],\"NextToken\":\"t1\"}"},
        {200, "application/x-amz-json-1.1",
         "{\"Events\":[{\"EventId\":\"b\"},{\"EventId\":\"c\"}],"
         "\"NextToken\":\"t2\"}"},
        {200, "application/x-amz-json-1.1", "{\"Events\":[]}"},
        {200, "application/x-amz-json-1.1", "{\"Events\":[],\"NextToken\":\"same\"}"},
    };
    peer s;
    bt_aws_client *c;
    bt_ct_lookup_request r;
    pages_seen ps;
    bt_error err = BT_ERROR_INIT;
    bt_ct_pages_opts one = {NULL, 1, 0, NULL};
    size_t n = 0;
    char url[64];

    clean_env();
    write_file(cfg_path, "[default]\naws_access_key_id = AKID\naws_secret_access_key = s\n");
    if (peer_start(&s, replies, 4) != 0) {
        CHECK(0);
        return;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%d", s.port);
    setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", url, 1);
    c = client(NULL, "us-east-1", 0);
    if (!c)
        goto done;
    bt_aws_client_set_rate(c, "LookupEvents", -1); /* no pacing in this test */
    memset(&r, 0, sizeof r);
    memset(&ps, 0, sizeof ps);
    r.attr_key = BT_CT_ATTR_EVENT_SOURCE;
    r.attr_value = "codebuild.amazonaws.com";
    CHECK_INT(bt_ct_lookup_pages(c, &r, NULL, on_page, &ps, &n, &err), 0);
    CHECK_INT(n, 3);
    CHECK_INT(ps.pages, 3);
    CHECK_INT(ps.events, 3);
    CHECK_STR(ps.first_ids, "a b c ");
    CHECK(strstr(s.received.data, "\"NextToken\":\"t1\"") != NULL);
    CHECK(strstr(s.received.data, "\"NextToken\":\"t2\"") != NULL);
    /* from here on the peer repeats {"NextToken":"same"} */
    memset(&ps, 0, sizeof ps);
    CHECK_INT(bt_ct_lookup_pages(c, &r, NULL, on_page, &ps, &n, &err), BT_EAWS);
    CHECK_STR(err.aws_code, "PaginationError");
    CHECK_INT(n, 2);
    memset(&ps, 0, sizeof ps);
    CHECK_INT(bt_ct_lookup_pages(c, &r, &one, on_page, &ps, &n, &err), 0);
    CHECK_INT(n, 1);
    /* the callback stops: distinct tokens are needed, so stop at once */
    memset(&ps, 0, sizeof ps);
    ps.pages = 9;
    CHECK_INT(bt_ct_lookup_pages(c, &r, NULL, on_page, &ps, &n, &err), BT_ESTOP);
    CHECK_INT(n, 1);
    /* the default pace: 2 LookupEvents per second per credential and region */
    bt_aws_client_set_rate(c, "LookupEvents", 2.0);
    {
        struct timespec t0, t1;
        double el;
        int i;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        for (i = 0; i < 4; i++)
            CHECK_INT(bt_ct_lookup_pages(c, &r, &one, NULL, NULL, &n, &err), 0);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        el = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        CHECK(el >= 1.45 && el < 4.0);
    }
    bt_aws_client_free(c);
done:
    unsetenv("AWS_ENDPOINT_URL_CLOUDTRAIL");
    peer_stop(&s);
}

static void teardown(void)
{
    unlink(cfg_path);
    unlink(cred_path);
    rmdir(dir);
}

BT_TEST_MAIN(setup, test_order_and_settings, test_refresh_window, test_clones_in_threads, test_sso,
             test_lookup_pagination, teardown)
