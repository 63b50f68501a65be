/* client.c - bt_aws_client: settings resolved like AWS CLI v2 (profile, region,
 * FIPS/dual-stack, retries, timeouts, CA bundle, endpoints), the state shared by
 * clones (credential cache, retry quota, rate limiters, endpoint overrides), and the
 * JSON 1.1, query and REST calls built on the request engine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/aws_int.h"

typedef struct override {
    char *service;
    char *url;
} override;

typedef struct shared {
    pthread_mutex_t mu;
    int refs;
    bt_aws_settings set;
    bt_aws_profiles *prof;
    bt_cred_provider *cred;
    bt_aws_quota quota;
    bt_ratelimit *rl;
    override *ov;
    size_t nov;
} shared;

struct bt_aws_client {
    shared *sh;
    bt_http *http;
};

/* ------------------------------------------------------------- settings -- */

static int dupstr(char **dst, const char *src)
{
    *dst = NULL;
    if (!src)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : BT_ENOMEM;
}

static int flag_setting(int cfg, const char *env, const bt_aws_profiles *p, const char *profile,
                        const char *key)
{
    int v;
    if (cfg >= 0)
        return cfg ? 1 : 0;
    v = bt_aws_bool(bt_aws_env(env));
    if (v >= 0)
        return v;
    v = bt_aws_bool(bt_aws_profile_get(p, profile, key));
    return v > 0;
}

static int resolve_settings(shared *sh, const bt_aws_config *cfg, bt_error *err)
{
    bt_aws_settings *s = &sh->set;
    const bt_aws_profiles *p = sh->prof;
    const char *profile, *region, *v;
    int rc = 0;

    profile = cfg->profile;
    s->profile_explicit = profile != NULL;
    if (!profile)
        profile = bt_aws_env("AWS_PROFILE");
    if (!profile)
        profile = bt_aws_env("AWS_DEFAULT_PROFILE");
    if (!profile)
        profile = "default";
    if (strcmp(profile, "default") != 0 && !bt_aws_profile_exists(p, profile))
        return bt_error_set(err, BT_ECONFIG, "the config profile '%s' could not be found", profile);
    rc |= dupstr(&s->profile, profile);

    region = cfg->region;
    if (!region)
        region = bt_aws_env("AWS_REGION");
    if (!region)
        region = bt_aws_env("AWS_DEFAULT_REGION");
    if (!region)
        region = bt_aws_profile_get(p, profile, "region");
    if (region && !*region)
        region = NULL;
    rc |= dupstr(&s->region, region);

    s->fips = flag_setting(cfg->use_fips, "AWS_USE_FIPS_ENDPOINT", p, profile, "use_fips_endpoint");
    s->dualstack = flag_setting(cfg->use_dualstack, "AWS_USE_DUALSTACK_ENDPOINT", p, profile,
                                "use_dualstack_endpoint");
    v = bt_aws_env("AWS_STS_REGIONAL_ENDPOINTS");
    if (!v)
        v = bt_aws_profile_get(p, profile, "sts_regional_endpoints");
    s->sts_global = v && strcasecmp(v, "legacy") == 0;
    s->ignore_configured_endpoints = flag_setting(-1, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", p,
                                                  profile, "ignore_configured_endpoint_urls");

    s->max_attempts = cfg->max_attempts;
    if (s->max_attempts <= 0) {
        v = bt_aws_env("AWS_MAX_ATTEMPTS");
        if (!v)
            v = bt_aws_profile_get(p, profile, "max_attempts");
        if (v) {
            char *end;
            long n = strtol(v, &end, 10);
            if (*end || n < 1 || n > 100)
                return bt_error_set(err, BT_ECONFIG, "invalid max_attempts '%s'", v);
            s->max_attempts = (int)n;
        } else {
            s->max_attempts = 3;
        }
    }
    s->connect_timeout_ms = cfg->connect_timeout_ms > 0 ? cfg->connect_timeout_ms : 60000;
    s->read_timeout_ms = cfg->read_timeout_ms > 0 ? cfg->read_timeout_ms : 60000;
    s->max_body = cfg->max_body ? cfg->max_body : (size_t)256 << 20;
    v = cfg->ca_bundle;
    if (!v)
        v = bt_aws_env("AWS_CA_BUNDLE");
    if (!v)
        v = bt_aws_profile_get(p, profile, "ca_bundle");
    rc |= dupstr(&s->ca_bundle, v);
    rc |= dupstr(&s->user_agent, cfg->user_agent ? cfg->user_agent : "buildtrail");
    rc |= dupstr(&s->endpoint_url, cfg->endpoint_url);
    s->lookup_events_rate = cfg->lookup_events_rate == 0 ? 2.0 : cfg->lookup_events_rate;
    s->log = cfg->log;
    s->log_payload = cfg->log_payload;
    s->mfa = cfg->mfa;
    s->mfa_payload = cfg->mfa_payload;
    if (rc)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    v = bt_aws_env("AWS_RETRY_MODE");
    if (!v)
        v = bt_aws_profile_get(p, profile, "retry_mode");
    bt_aws_logf(s, "aws: profile '%s'%s, region %s, max attempts %d%s%s%s", s->profile,
                s->profile_explicit ? " (explicit)" : "", s->region ? s->region : "(none)",
                s->max_attempts, s->fips ? ", fips" : "", s->dualstack ? ", dual-stack" : "",
                v && strcasecmp(v, "standard") != 0 ? " (retry_mode treated as standard)" : "");
    return 0;
}

static void settings_dispose(bt_aws_settings *s)
{
    free(s->profile);
    free(s->region);
    free(s->ca_bundle);
    free(s->user_agent);
    free(s->endpoint_url);
}

/* --------------------------------------------------------------- client -- */

static void shared_unref(shared *sh)
{
    size_t i;
    int last;
    if (!sh)
        return;
    pthread_mutex_lock(&sh->mu);
    last = --sh->refs == 0;
    pthread_mutex_unlock(&sh->mu);
    if (!last)
        return;
    bt_cred_provider_free(sh->cred);
    bt_ratelimit_free(sh->rl);
    bt_aws_profiles_free(sh->prof);
    bt_aws_quota_dispose(&sh->quota);
    for (i = 0; i < sh->nov; i++) {
        free(sh->ov[i].service);
        free(sh->ov[i].url);
    }
    free(sh->ov);
    settings_dispose(&sh->set);
    pthread_mutex_destroy(&sh->mu);
    free(sh);
}

static int new_http(shared *sh, bt_http **out, bt_error *err)
{
    bt_http_opts ho;
    memset(&ho, 0, sizeof ho);
    ho.ca_bundle = sh->set.ca_bundle;
    ho.user_agent = sh->set.user_agent;
    ho.log = sh->set.log;
    ho.log_payload = sh->set.log_payload;
    return bt_http_new(out, &ho, err);
}

int bt_aws_client_new(bt_aws_client **out, const bt_aws_config *cfg, bt_error *err)
{
    bt_aws_config defaults = BT_AWS_CONFIG_INIT;
    bt_aws_client *c = NULL;
    shared *sh = NULL;
    bt_cred_init ci;
    int rc;

    *out = NULL;
    if (!cfg)
        cfg = &defaults;
    sh = calloc(1, sizeof *sh);
    if (!sh)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    pthread_mutex_init(&sh->mu, NULL);
    sh->refs = 1;
    bt_aws_quota_init(&sh->quota);
    rc = bt_aws_profiles_load(&sh->prof, err);
    if (rc)
        goto fail;
    rc = resolve_settings(sh, cfg, err);
    if (rc)
        goto fail;
    sh->rl = bt_ratelimit_new();
    if (!sh->rl) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto fail;
    }
    if (sh->set.lookup_events_rate > 0 &&
        bt_ratelimit_set_rate(sh->rl, "LookupEvents", sh->set.lookup_events_rate) != 0) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto fail;
    }
    ci.set = &sh->set;
    ci.prof = sh->prof;
    rc = bt_cred_provider_new(&sh->cred, &ci, err);
    if (rc)
        goto fail;
    c = calloc(1, sizeof *c);
    if (!c) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto fail;
    }
    rc = new_http(sh, &c->http, err);
    if (rc)
        goto fail;
    c->sh = sh;
    *out = c;
    return 0;
fail:
    if (c) {
        bt_http_free(c->http);
        free(c);
    }
    shared_unref(sh);
    return rc;
}

int bt_aws_client_clone(bt_aws_client **out, bt_aws_client *parent, bt_error *err)
{
    bt_aws_client *c = calloc(1, sizeof *c);
    int rc;
    *out = NULL;
    if (!c)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    rc = new_http(parent->sh, &c->http, err);
    if (rc) {
        free(c);
        return rc;
    }
    pthread_mutex_lock(&parent->sh->mu);
    parent->sh->refs++;
    pthread_mutex_unlock(&parent->sh->mu);
    c->sh = parent->sh;
    *out = c;
    return 0;
}

void bt_aws_client_free(bt_aws_client *c)
{
    if (!c)
        return;
    bt_http_free(c->http);
    shared_unref(c->sh);
    free(c);
}

const char *bt_aws_client_region(const bt_aws_client *c)
{
    return c->sh->set.region;
}

const char *bt_aws_client_profile(const bt_aws_client *c)
{
    return c->sh->set.profile;
}

int bt_aws_client_set_endpoint(bt_aws_client *c, const char *service, const char *url,
                               bt_error *err)
{
    shared *sh = c->sh;
    size_t i;
    int rc = 0;
    if (url && strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return bt_error_set(err, BT_EINVAL,
                            "endpoint url '%s' must start with http:// or "
                            "https://",
                            url);
    pthread_mutex_lock(&sh->mu);
    for (i = 0; i < sh->nov; i++)
        if (strcmp(sh->ov[i].service, service) == 0)
            break;
    if (i < sh->nov) {
        free(sh->ov[i].url);
        sh->ov[i].url = NULL;
        if (url && !(sh->ov[i].url = strdup(url)))
            rc = BT_ENOMEM;
    } else if (url) {
        override *n = realloc(sh->ov, (sh->nov + 1) * sizeof *n);
        if (!n) {
            rc = BT_ENOMEM;
        } else {
            sh->ov = n;
            n[sh->nov].service = strdup(service);
            n[sh->nov].url = strdup(url);
            if (!n[sh->nov].service || !n[sh->nov].url) {
                free(n[sh->nov].service);
                free(n[sh->nov].url);
                rc = BT_ENOMEM;
            } else {
                sh->nov++;
            }
        }
    }
    pthread_mutex_unlock(&sh->mu);
    return rc ? bt_error_set(err, rc, "out of memory") : 0;
}

int bt_aws_client_set_rate(bt_aws_client *c, const char *operation, double per_second)
{
    return bt_ratelimit_set_rate(c->sh->rl, operation, per_second);
}

int bt_aws_client_credentials(bt_aws_client *c, bt_aws_creds *out, bt_error *err)
{
    return bt_cred_provider_get(c->sh->cred, out, err);
}

int bt_aws_client_endpoint(bt_aws_client *c, const char *service, bt_aws_endpoint *out,
                           bt_error *err)
{
    shared *sh = c->sh;
    const bt_aws_settings *s = &sh->set;
    char buf[512], ov[512];
    const char *url = NULL;
    size_t i;

    ov[0] = '\0';
    pthread_mutex_lock(&sh->mu);
    for (i = 0; i < sh->nov; i++)
        if (strcmp(sh->ov[i].service, service) == 0 && sh->ov[i].url)
            snprintf(ov, sizeof ov, "%s", sh->ov[i].url);
    pthread_mutex_unlock(&sh->mu);
    if (ov[0])
        url = ov;
    if (!url)
        url = s->endpoint_url;
    if (!url)
        url = bt_aws_configured_endpoint(s, sh->prof, service, buf, sizeof buf);
    if (url) {
        size_t n;
        if (s->fips)
            return bt_error_set(err, BT_ECONFIG,
                                "Invalid Configuration: FIPS and custom endpoint are not "
                                "supported");
        if (s->dualstack)
            return bt_error_set(err, BT_ECONFIG,
                                "Invalid Configuration: Dualstack and custom endpoint are not "
                                "supported");
        if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
            return bt_error_set(err, BT_ECONFIG,
                                "endpoint url '%s' must start with http:// "
                                "or https://",
                                url);
        memset(out, 0, sizeof *out);
        snprintf(out->url, sizeof out->url, "%s", url);
        n = strlen(out->url);
        while (n > 8 && out->url[n - 1] == '/')
            out->url[--n] = '\0';
        snprintf(out->signing_name, sizeof out->signing_name, "%s", service);
        snprintf(out->signing_region, sizeof out->signing_region, "%s",
                 s->region ? s->region : "us-east-1");
        return 0;
    }
    return bt_aws_endpoint_resolve(service, s->region, s->fips, s->dualstack, s->sts_global, out,
                                   err);
}

/* ---------------------------------------------------------------- calls -- */

static int send_ep(bt_aws_client *c, const bt_aws_endpoint *ep, const char *op,
                   const char *method, const char *path, const char *query,
                   const bt_http_header *h, size_t nh, const void *body, size_t body_len,
                   int protocol, unsigned sigv4_flags, bt_aws_accept_fn accept,
                   void *accept_payload, bt_aws_response *resp, bt_error *err);

static int call(bt_aws_client *c, const char *service, const char *op, const char *method,
                const char *path, const char *query, const bt_http_header *h, size_t nh,
                const void *body, size_t body_len, int protocol, unsigned sigv4_flags,
                bt_aws_accept_fn accept, void *accept_payload, bt_aws_response *resp,
                bt_error *err)
{
    bt_aws_endpoint ep;
    int rc = bt_aws_client_endpoint(c, service, &ep, err);
    if (rc) {
        bt_error_prefix(err, "%s", op);
        return rc;
    }
    return send_ep(c, &ep, op, method, path, query, h, nh, body, body_len, protocol, sigv4_flags,
                   accept, accept_payload, resp, err);
}

static const char *service_for_target(const char *prefix)
{
    if (strcmp(prefix, "CloudTrail_20131101") == 0 ||
        strcmp(prefix, "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101") == 0)
        return "cloudtrail";
    if (strcmp(prefix, "CodeBuild_20161006") == 0)
        return "codebuild";
    return NULL;
}

int bt_aws_json_call_accept(bt_aws_client *c, const char *service, const char *target_prefix,
                            const char *op, const char *body, size_t body_len,
                            bt_aws_accept_fn accept, void *accept_payload, bt_aws_response *resp,
                            bt_error *err)
{
    char target[256];
    bt_http_header h[2];
    if (!body) {
        body = "{}";
        body_len = 2;
    }
    snprintf(target, sizeof target, "%s.%s", target_prefix, op);
    h[0].name = "Content-Type";
    h[0].value = "application/x-amz-json-1.1";
    h[1].name = "X-Amz-Target";
    h[1].value = target;
    return call(c, service, op, "POST", "/", NULL, h, 2, body, body_len, BT_AWS_P_JSON, 0, accept,
                accept_payload, resp, err);
}

int bt_aws_json_call_service(bt_aws_client *c, const char *service, const char *target_prefix,
                             const char *op, const char *body, size_t body_len,
                             bt_aws_response *resp, bt_error *err)
{
    return bt_aws_json_call_accept(c, service, target_prefix, op, body, body_len, NULL, NULL, resp,
                                   err);
}

int bt_aws_json_call(bt_aws_client *c, const char *target_prefix, const char *op, const char *body,
                     bt_aws_response *resp, bt_error *err)
{
    const char *service = service_for_target(target_prefix);
    if (!service)
        return bt_error_set(err, BT_EINVAL, "unknown JSON target prefix '%s'", target_prefix);
    return bt_aws_json_call_service(c, service, target_prefix, op, body, body ? strlen(body) : 0,
                                    resp, err);
}

int bt_aws_query_call(bt_aws_client *c, const char *service, const char *action,
                      const char *version, const char *params, bt_aws_response *resp, bt_error *err)
{
    bt_buf form = BT_BUF_INIT;
    bt_http_header h[1] = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    int rc;
    if (bt_buf_puts(&form, "Action=") || bt_aws_form_encode(&form, action) ||
        bt_buf_puts(&form, "&Version=") || bt_aws_form_encode(&form, version) ||
        (params && *params && bt_buf_printf(&form, "&%s", params))) {
        bt_buf_dispose(&form);
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    rc = call(c, service, action, "POST", "/", NULL, h, 1, form.data, form.len, BT_AWS_P_QUERY, 0,
              NULL, NULL, resp, err);
    bt_buf_dispose(&form);
    return rc;
}

int bt_aws_rest_call(bt_aws_client *c, const char *service, const char *method, const char *path,
                     const char *query, const bt_aws_header *headers, size_t nheaders,
                     const void *body, size_t body_len, unsigned flags, bt_aws_response *resp,
                     bt_error *err)
{
    char op[64];
    snprintf(op, sizeof op, "%s %s", method, service);
    return call(c, service, op, method, path, query, headers, nheaders, body, body_len,
                BT_AWS_P_REST_XML, (flags & BT_AWS_REST_S3) ? BT_SIGV4_S3 : 0, NULL, NULL, resp,
                err);
}

/* ------------------------------------------ clients with their own endpoint -- */

/* Is an endpoint URL configured for service (same precedence as
 * bt_aws_client_endpoint)? */
static int has_configured_url(bt_aws_client *c, const char *service)
{
    shared *sh = c->sh;
    char buf[512];
    size_t i;
    int found = 0;
    pthread_mutex_lock(&sh->mu);
    for (i = 0; i < sh->nov; i++)
        if (strcmp(sh->ov[i].service, service) == 0 && sh->ov[i].url)
            found = 1;
    pthread_mutex_unlock(&sh->mu);
    return found || sh->set.endpoint_url ||
           bt_aws_configured_endpoint(&sh->set, sh->prof, service, buf, sizeof buf) != NULL;
}

int bt_aws_client_endpoint_in(bt_aws_client *c, const char *service, const char *region,
                              bt_aws_endpoint *out, int *custom, bt_error *err)
{
    const bt_aws_settings *s = &c->sh->set;
    int rc, is_custom = has_configured_url(c, service);

    if (custom)
        *custom = is_custom;
    if (!region)
        region = s->region;
    if (is_custom) {
        rc = bt_aws_client_endpoint(c, service, out, err);
        if (rc == 0 && region)
            snprintf(out->signing_region, sizeof out->signing_region, "%s", region);
        return rc;
    }
    return bt_aws_endpoint_resolve(service, region, s->fips, s->dualstack, s->sts_global, out,
                                   err);
}

int bt_aws_client_send(bt_aws_client *c, const bt_aws_endpoint *ep, const char *op,
                       const char *method, const char *path, const char *query,
                       const bt_http_header *h, size_t nh, const void *body, size_t body_len,
                       int protocol, unsigned sigv4_flags, bt_aws_response *resp, bt_error *err)
{
    return send_ep(c, ep, op, method, path, query, h, nh, body, body_len, protocol, sigv4_flags,
                   NULL, NULL, resp, err);
}

static int send_ep(bt_aws_client *c, const bt_aws_endpoint *ep, const char *op,
                   const char *method, const char *path, const char *query,
                   const bt_http_header *h, size_t nh, const void *body, size_t body_len,
                   int protocol, unsigned sigv4_flags, bt_aws_accept_fn accept,
                   void *accept_payload, bt_aws_response *resp, bt_error *err)
{
    shared *sh = c->sh;
    bt_aws_creds creds;
    bt_aws_req r;
    char key[256];
    int rc;

    memset(&creds, 0, sizeof creds);
    rc = bt_cred_provider_get(sh->cred, &creds, err);
    if (rc)
        return rc;
    snprintf(key, sizeof key, "%s|%s", creds.account_id[0] ? creds.account_id : creds.access_key_id,
             ep->signing_region);
    memset(&r, 0, sizeof r);
    r.http = c->http;
    r.set = &sh->set;
    r.quota = &sh->quota;
    r.rl = sh->rl;
    r.rl_key = key;
    r.creds = &creds;
    r.ep = ep;
    r.method = method;
    r.path = path;
    r.query = query;
    r.headers = h;
    r.nheaders = nh;
    r.body = body;
    r.body_len = body_len;
    r.protocol = protocol;
    r.sigv4_flags = sigv4_flags;
    r.op = op;
    r.accept = accept;
    r.accept_payload = accept_payload;
    rc = bt_aws_send(&r, resp, err);
    bt_aws_creds_dispose(&creds);
    return rc;
}

const bt_aws_settings *bt_aws_client_settings(const bt_aws_client *c)
{
    return &c->sh->set;
}
