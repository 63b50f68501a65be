/* creds.c - the credential chain as AWS CLI v2 (botocore) resolves it: environment,
 * assume role (source_profile chains with cycle detection, credential_source), web
 * identity, shared credentials file, credential_process, config file, container
 * credentials, EC2 instance metadata (IMDSv2). A thread-safe cache refreshes
 * credentials before they expire. No secret ever reaches an error message or the
 * log. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "aws/aws_int.h"
#include "buildtrail/json.h"
#include "buildtrail/timeutil.h"
#include "util/crypto_dl.h"

extern char **environ;

#define PROCESS_TIMEOUT_MS (5 * 60 * 1000)
#define PROCESS_MAX_OUTPUT ((size_t)1 << 20)
#define CONTAINER_HOST "169.254.170.2"
#define IMDS_DEFAULT "http://169.254.169.254"
#define IMDS_DEFAULT_V6 "http://[fd00:ec2::254]"
#define MAX_CHAIN_DEPTH 16

struct bt_cred_provider {
    pthread_mutex_t mu;
    const bt_aws_settings *set;
    const bt_aws_profiles *prof;
    bt_http *http; /* STS calls (environment proxies apply) */
    bt_http *meta; /* container / IMDS (never through a proxy) */
    bt_aws_creds cached;
    int have;
};

/* State of one resolution: what was tried (for the final message). */
typedef struct chain {
    bt_cred_provider *p;
    bt_buf tried;
} chain;

static void tried(chain *c, const char *what)
{
    if (c->tried.len)
        bt_buf_puts(&c->tried, ", ");
    bt_buf_puts(&c->tried, what);
}

/* ------------------------------------------------------------ documents -- */

int bt_cred_parse_json(const char *text, size_t len, int want_version, const char *source,
                       bt_aws_creds *out, bt_error *err)
{
    bt_arena *a = bt_arena_new(0, (size_t)16 << 20);
    bt_json *root = NULL;
    const char *akid, *secret, *token, *exp, *acct;
    int64_t expiration = 0;
    int rc = 0;
    bt_error perr = BT_ERROR_INIT;

    memset(out, 0, sizeof *out);
    if (!a)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    /* the parser's message quotes no input text, only offsets */
    if (bt_json_parse(a, text, len, NULL, &root, &perr) != 0 || root->type != BT_JSON_OBJECT) {
        rc =
            bt_error_set(err, BT_ECRED, "%s: the credential document is not a JSON object", source);
        goto done;
    }
    if (want_version) {
        bt_json *v = bt_json_get(root, "Version");
        if (!v || v->type != BT_JSON_NUMBER || v->num != 1) {
            rc = bt_error_set(err, BT_ECRED,
                              "%s: unsupported credential document version "
                              "(\"Version\" must be 1)",
                              source);
            goto done;
        }
    }
    akid = bt_json_get_str(root, "AccessKeyId");
    secret = bt_json_get_str(root, "SecretAccessKey");
    token = bt_json_get_str(root, "SessionToken");
    if (!token)
        token = bt_json_get_str(root, "Token");
    exp = bt_json_get_str(root, "Expiration");
    acct = bt_json_get_str(root, "AccountId");
    if (!akid || !*akid || !secret || !*secret) {
        const char *code = bt_json_get_str(root, "Code");
        if (code && bt_json_get_str(root, "Message"))
            rc = bt_error_set(err, BT_ECRED, "%s: the service answered with error '%s'", source,
                              code);
        else
            rc = bt_error_set(err, BT_ECRED, "%s: missing required key '%s'", source,
                              !akid || !*akid ? "AccessKeyId" : "SecretAccessKey");
        goto done;
    }
    if (exp) {
        expiration = bt_aws_parse_iso8601(exp);
        if (expiration < 0) {
            rc = bt_error_set(err, BT_ECRED, "%s: invalid Expiration '%.40s'", source, exp);
            goto done;
        }
    }
    if (bt_aws_creds_set(out, akid, secret, token, expiration, source) != 0) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    if (acct)
        snprintf(out->account_id, sizeof out->account_id, "%s", acct);
done:
    if (a) {
        /* the arena holds copies of the secret */
        bt_arena_reset(a);
        bt_arena_free(a);
    }
    return rc;
}

/* ------------------------------------------------------------- providers -- */

static int from_env(chain *c, bt_aws_creds *out, bt_error *err)
{
    const char *akid = bt_aws_env("AWS_ACCESS_KEY_ID");
    const char *secret = bt_aws_env("AWS_SECRET_ACCESS_KEY");
    const char *token = bt_aws_env("AWS_SESSION_TOKEN");
    const char *exp = bt_aws_env("AWS_CREDENTIAL_EXPIRATION");
    int64_t expiration = 0;

    tried(c, "environment variables");
    if (!token)
        token = bt_aws_env("AWS_SECURITY_TOKEN");
    if (!akid)
        return BT_ENOTFOUND;
    if (!secret)
        return bt_error_set(err, BT_ECRED,
                            "partial credentials found in the environment: "
                            "AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY "
                            "is not");
    if (exp && (expiration = bt_aws_parse_iso8601(exp)) < 0)
        return bt_error_set(err, BT_ECRED, "invalid AWS_CREDENTIAL_EXPIRATION '%.40s'", exp);
    if (bt_aws_creds_set(out, akid, secret, token, expiration, "env"))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    return 0;
}

/* Static keys of one file section (credentials file or config file). */
static int from_section(chain *c, const bt_ini_section *s, const char *what, const char *source,
                        const char *profile, bt_aws_creds *out, bt_error *err)
{
    const char *akid = bt_ini_get(s, "aws_access_key_id");
    const char *secret = bt_ini_get(s, "aws_secret_access_key");
    const char *token = bt_ini_get(s, "aws_session_token");
    if (!token)
        token = bt_ini_get(s, "aws_security_token");
    if (what)
        tried(c, what);
    if (!akid || !*akid) {
        if (secret && *secret)
            return bt_error_set(err, BT_ECRED,
                                "partial credentials in profile '%s': "
                                "aws_access_key_id is missing",
                                profile);
        return BT_ENOTFOUND;
    }
    if (!secret || !*secret)
        return bt_error_set(err, BT_ECRED,
                            "partial credentials in profile '%s': "
                            "aws_secret_access_key is missing",
                            profile);
    if (bt_aws_creds_set(out, akid, secret, token, 0, source))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    return 0;
}

static int from_shared_file(chain *c, const char *profile, bt_aws_creds *out, bt_error *err)
{
    char what[300];
    snprintf(what, sizeof what, "shared credentials file '%s'", c->p->prof->creds_path);
    return from_section(c, bt_aws_profile_creds(c->p->prof, profile), what,
                        "shared-credentials-file", profile, out, err);
}

static int from_config_file(chain *c, const char *profile, bt_aws_creds *out, bt_error *err)
{
    char what[300];
    snprintf(what, sizeof what, "config file '%s'", c->p->prof->config_path);
    return from_section(c, bt_aws_profile_config(c->p->prof, profile), what, "config-file", profile,
                        out, err);
}

/* Runs argv without a shell, capturing stdout (stdin and stderr are inherited). */
static int run_process(char **argv, bt_buf *out, int *status, bt_error *err)
{
    int fds[2] = {-1, -1}, rc = 0;
    posix_spawn_file_actions_t fa;
    pid_t pid = -1;
    double deadline = bt_time_mono_s() + PROCESS_TIMEOUT_MS / 1000.0;
    int fa_init = 0;

    if (pipe2(fds, O_CLOEXEC) != 0)
        return bt_error_set(err, BT_ECRED, "credential_process: pipe: %s", strerror(errno));
    if (posix_spawn_file_actions_init(&fa) != 0) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    fa_init = 1;
    posix_spawn_file_actions_adddup2(&fa, fds[1], STDOUT_FILENO);
    errno = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
    if (errno != 0) {
        rc = bt_error_set(err, BT_ECRED, "credential_process: cannot run '%s': %s", argv[0],
                          strerror(errno));
        pid = -1;
        goto done;
    }
    close(fds[1]);
    fds[1] = -1;
    for (;;) {
        struct pollfd pf = {fds[0], POLLIN, 0};
        double left = deadline - bt_time_mono_s();
        char buf[4096];
        ssize_t n;
        int pr;
        if (left <= 0) {
            kill(pid, SIGKILL);
            rc = bt_error_set(err, BT_ECRED,
                              "credential_process: '%s' did not finish within "
                              "%d s",
                              argv[0], PROCESS_TIMEOUT_MS / 1000);
            goto done;
        }
        pr = poll(&pf, 1, (int)(left * 1000) + 1);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0) {
            rc = bt_error_set(err, BT_ECRED, "credential_process: poll: %s", strerror(errno));
            goto done;
        }
        if (pr == 0)
            continue;
        n = read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (out->len + (size_t)n > PROCESS_MAX_OUTPUT) {
            kill(pid, SIGKILL);
            rc = bt_error_set(err, BT_ECRED, "credential_process: output larger than %zu bytes",
                              PROCESS_MAX_OUTPUT);
            goto done;
        }
        if (bt_buf_append(out, buf, (size_t)n) != 0) {
            rc = bt_error_set(err, BT_ENOMEM, "out of memory");
            goto done;
        }
    }
done:
    if (pid > 0) {
        int st = 0;
        while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
            ;
        *status = st;
    }
    if (fa_init)
        posix_spawn_file_actions_destroy(&fa);
    if (fds[0] >= 0)
        close(fds[0]);
    if (fds[1] >= 0)
        close(fds[1]);
    return rc;
}

static int from_process(chain *c, const char *profile, bt_aws_creds *out, bt_error *err)
{
    const char *cmd = bt_aws_profile_get(c->p->prof, profile, "credential_process");
    char **argv = NULL;
    bt_buf o = BT_BUF_INIT;
    int status = 0, rc;
    char src[300];

    tried(c, "credential_process");
    if (!cmd || !*cmd)
        return BT_ENOTFOUND;
    if (bt_aws_shell_split(cmd, &argv, err) != 0) {
        bt_error_prefix(err, "credential_process of profile '%s'", profile);
        if (err)
            err->code = BT_ECRED;
        return BT_ECRED;
    }
    bt_aws_logf(c->p->set, "credentials: running credential_process '%s' of profile '%s'", argv[0],
                profile);
    rc = run_process(argv, &o, &status, err);
    if (rc)
        goto done;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        if (WIFEXITED(status))
            rc = bt_error_set(err, BT_ECRED,
                              "credential_process '%s' of profile '%s' exited "
                              "with status %d",
                              argv[0], profile, WEXITSTATUS(status));
        else
            rc = bt_error_set(err, BT_ECRED,
                              "credential_process '%s' of profile '%s' was "
                              "killed by signal %d",
                              argv[0], profile, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        goto done;
    }
    snprintf(src, sizeof src, "credential_process of profile '%s'", profile);
    rc = bt_cred_parse_json(o.data ? o.data : "", o.len, 1, src, out, err);
    if (rc == 0)
        snprintf(out->source, sizeof out->source, "credential-process");
done:
    if (o.data)
        OPENSSL_cleanse(o.data, o.alloc);
    bt_buf_dispose(&o);
    bt_aws_argv_free(argv);
    return rc;
}

/* ---- STS (AssumeRole, AssumeRoleWithWebIdentity) ---- */

static int sts_endpoint(chain *c, bt_aws_endpoint *ep, bt_error *err)
{
    const bt_aws_settings *s = c->p->set;
    char buf[512];
    const char *url = bt_aws_configured_endpoint(s, c->p->prof, "sts", buf, sizeof buf);
    const char *region = s->region ? s->region : "aws-global";
    int rc;

    if (url) {
        memset(ep, 0, sizeof *ep);
        snprintf(ep->url, sizeof ep->url, "%s", url);
        snprintf(ep->signing_name, sizeof ep->signing_name, "sts");
        snprintf(ep->signing_region, sizeof ep->signing_region, "%s",
                 s->region ? s->region : "us-east-1");
        return 0;
    }
    rc = bt_aws_endpoint_resolve("sts", region, s->fips, s->dualstack, s->sts_global, ep, err);
    return rc ? BT_ECONFIG : 0;
}

/* Account id from an ARN ("arn:aws:sts::123456789012:assumed-role/..."). */
static void account_from_arn(const char *arn, char *out, size_t cap)
{
    const char *p = arn;
    int i;
    out[0] = '\0';
    if (!arn)
        return;
    for (i = 0; i < 4 && p; i++) {
        p = strchr(p, ':');
        if (p)
            p++;
    }
    if (p) {
        const char *e = strchr(p, ':');
        if (e && (size_t)(e - p) < cap)
            snprintf(out, cap, "%.*s", (int)(e - p), p);
    }
}

/* Runs an STS query call (signed with src, or unsigned when src is NULL) and parses
 * the Credentials of the reply. */
static int sts_credentials(chain *c, const bt_aws_creds *src, const char *action,
                           const bt_buf *form, const char *source, bt_aws_creds *out, bt_error *err)
{
    static const char *const names[] = {"AccessKeyId", "SecretAccessKey", "SessionToken",
                                        "Expiration", "Arn"};
    char *vals[5] = {0};
    bt_aws_endpoint ep;
    bt_aws_req r;
    bt_aws_response resp;
    bt_http_header h[1] = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    int rc, i;

    bt_aws_response_init(&resp);
    rc = sts_endpoint(c, &ep, err);
    if (rc)
        goto done;
    memset(&r, 0, sizeof r);
    r.http = c->p->http;
    r.set = c->p->set;
    r.creds = src;
    r.ep = &ep;
    r.method = "POST";
    r.path = "/";
    r.headers = h;
    r.nheaders = 1;
    r.body = form->data;
    r.body_len = form->len;
    r.protocol = BT_AWS_P_QUERY;
    r.op = action;
    r.sensitive = 1;
    rc = bt_aws_send(&r, &resp, err);
    if (rc) {
        if (err && (rc == BT_EAWS || rc == BT_EHTTP))
            err->code = rc = BT_ECRED;
        goto done;
    }
    rc =
        bt_aws_xml_fields(resp.body.data ? resp.body.data : "", resp.body.len, names, 5, vals, err);
    if (rc) {
        bt_error_prefix(err, "%s reply", action);
        rc = BT_ECRED;
        if (err)
            err->code = rc;
        goto done;
    }
    if (!vals[0] || !vals[1] || !vals[2]) {
        rc = bt_error_set(err, BT_ECRED, "%s reply has no Credentials", action);
        goto done;
    }
    if (bt_aws_creds_set(out, vals[0], vals[1], vals[2],
                         vals[3] ? bt_aws_parse_iso8601(vals[3]) : 0, source)) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    if (out->expiration < 0)
        out->expiration = 0;
    account_from_arn(vals[4], out->account_id, sizeof out->account_id);
done:
    for (i = 0; i < 5; i++) {
        if (vals[i]) {
            OPENSSL_cleanse(vals[i], strlen(vals[i]));
            free(vals[i]);
        }
    }
    if (resp.body.data)
        OPENSSL_cleanse(resp.body.data, resp.body.alloc);
    bt_aws_response_dispose(&resp);
    return rc;
}

static int form_add(bt_buf *f, const char *k, const char *v)
{
    if (!v)
        return 0;
    if (bt_buf_printf(f, "&%s=", k))
        return BT_ENOMEM;
    return bt_aws_form_encode(f, v);
}

static void default_session_name(char *buf, size_t cap)
{
    snprintf(buf, cap, "buildtrail-session-%lld", (long long)time(NULL));
}

static int resolve_from_profile(chain *c, const char *name, const char **visited, int nvisited,
                                bt_aws_creds *out, bt_error *err);
static int from_container(chain *c, bt_aws_creds *out, bt_error *err);
static int from_imds(chain *c, bt_aws_creds *out, bt_error *err);
static int from_sso(chain *c, const char *profile, bt_aws_creds *out, bt_error *err);

static int has_static(const bt_aws_profiles *p, const char *name)
{
    return bt_aws_profile_get(p, name, "aws_access_key_id") != NULL ||
           bt_aws_profile_get(p, name, "aws_secret_access_key") != NULL;
}

/* AssumeRole for profile name (which has role_arn). visited: profiles on the path. */
static int assume_role(chain *c, const char *name, const char **visited, int nvisited,
                       bt_aws_creds *out, bt_error *err)
{
    const bt_aws_profiles *p = c->p->prof;
    const char *role_arn = bt_aws_profile_get(p, name, "role_arn");
    const char *source_profile = bt_aws_profile_get(p, name, "source_profile");
    const char *credential_source = bt_aws_profile_get(p, name, "credential_source");
    const char *session = bt_aws_profile_get(p, name, "role_session_name");
    const char *external_id = bt_aws_profile_get(p, name, "external_id");
    const char *mfa_serial = bt_aws_profile_get(p, name, "mfa_serial");
    const char *duration = bt_aws_profile_get(p, name, "duration_seconds");
    const char *path[MAX_CHAIN_DEPTH + 1];
    bt_aws_creds src;
    bt_buf form = BT_BUF_INIT;
    char sess[64], code[64];
    int rc, i;

    memset(&src, 0, sizeof src);
    if (nvisited >= MAX_CHAIN_DEPTH)
        return bt_error_set(err, BT_ECRED, "profile '%s': source_profile chain deeper than %d",
                            name, MAX_CHAIN_DEPTH);
    for (i = 0; i < nvisited; i++)
        path[i] = visited[i];
    path[nvisited++] = name;

    if (source_profile && credential_source)
        return bt_error_set(err, BT_ECRED,
                            "profile '%s' has both source_profile and "
                            "credential_source; only one is allowed",
                            name);
    if (!source_profile && !credential_source)
        return bt_error_set(err, BT_ECRED,
                            "profile '%s' has role_arn but neither "
                            "source_profile nor credential_source",
                            name);
    if (credential_source) {
        if (strcmp(credential_source, "Environment") == 0)
            rc = from_env(c, &src, err);
        else if (strcmp(credential_source, "Ec2InstanceMetadata") == 0)
            rc = from_imds(c, &src, err);
        else if (strcmp(credential_source, "EcsContainer") == 0)
            rc = from_container(c, &src, err);
        else
            return bt_error_set(err, BT_ECRED,
                                "profile '%s': unsupported credential_source "
                                "'%s' (Environment, Ec2InstanceMetadata or "
                                "EcsContainer)",
                                name, credential_source);
        if (rc == BT_ENOTFOUND)
            rc = bt_error_set(err, BT_ECRED,
                              "profile '%s': credential_source '%s' has no "
                              "credentials",
                              name, credential_source);
        if (rc)
            goto done;
    } else {
        int seen = 0;
        if (!bt_aws_profile_exists(p, source_profile))
            return bt_error_set(err, BT_ECRED,
                                "the source_profile '%s' referenced in profile "
                                "'%s' does not exist",
                                source_profile, name);
        for (i = 0; i < nvisited; i++)
            if (strcmp(path[i], source_profile) == 0)
                seen = 1;
        if (seen && (strcmp(source_profile, name) != 0 || !has_static(p, source_profile)))
            return bt_error_set(err, BT_ECRED,
                                "infinite loop in source_profile chain: profile "
                                "'%s' references '%s'",
                                name, source_profile);
        rc = resolve_from_profile(c, source_profile, path, nvisited, &src, err);
        if (rc)
            goto done;
    }

    if (session)
        snprintf(sess, sizeof sess, "%s", session);
    else
        default_session_name(sess, sizeof sess);
    if (bt_buf_puts(&form, "Action=AssumeRole&Version=2011-06-15") ||
        form_add(&form, "RoleArn", role_arn) || form_add(&form, "RoleSessionName", sess) ||
        form_add(&form, "DurationSeconds", duration) ||
        form_add(&form, "ExternalId", external_id)) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    if (mfa_serial) {
        if (!c->p->set->mfa) {
            rc = bt_error_set(err, BT_ECRED,
                              "profile '%s' needs an MFA code (mfa_serial) and "
                              "no prompt is available",
                              name);
            goto done;
        }
        code[0] = '\0';
        if (c->p->set->mfa(c->p->set->mfa_payload, mfa_serial, code, sizeof code) != 0 ||
            !code[0]) {
            rc = bt_error_set(err, BT_ECRED, "profile '%s': no MFA code given", name);
            goto done;
        }
        if (form_add(&form, "SerialNumber", mfa_serial) || form_add(&form, "TokenCode", code)) {
            rc = bt_error_set(err, BT_ENOMEM, "out of memory");
            goto done;
        }
    }
    bt_aws_logf(c->p->set,
                "credentials: profile '%s': AssumeRole %s (session %s) with "
                "credentials from %s",
                name, role_arn, sess, src.source);
    rc = sts_credentials(c, &src, "AssumeRole", &form, "assume-role", out, err);
    if (rc)
        bt_error_prefix(err, "assume role '%s' for profile '%s'", role_arn, name);
done:
    bt_aws_creds_dispose(&src);
    bt_buf_dispose(&form);
    return rc;
}

static int web_identity(chain *c, const char *profile, int use_env, bt_aws_creds *out,
                        bt_error *err);

/* Source credentials of a source_profile (botocore _resolve_credentials_from_profile):
 * a profile with static keys or without role_arn goes through the per-profile chain
 * (web identity, credentials file, credential_process, config file); otherwise it
 * assumes its own role. */
static int resolve_from_profile(chain *c, const char *name, const char **visited, int nvisited,
                                bt_aws_creds *out, bt_error *err)
{
    const bt_aws_profiles *p = c->p->prof;
    int rc;
    if (has_static(p, name) || !bt_aws_profile_get(p, name, "role_arn")) {
        rc = web_identity(c, name, 0, out, err);
        if (rc == BT_ENOTFOUND)
            rc = from_sso(c, name, out, err);
        if (rc == BT_ENOTFOUND)
            rc = from_shared_file(c, name, out, err);
        if (rc == BT_ENOTFOUND)
            rc = from_process(c, name, out, err);
        if (rc == BT_ENOTFOUND)
            rc = from_config_file(c, name, out, err);
        if (rc == BT_ENOTFOUND)
            rc = bt_error_set(err, BT_ECRED, "source profile '%s' has no credentials", name);
        return rc;
    }
    return assume_role(c, name, visited, nvisited, out, err);
}

static int from_assume_role(chain *c, const char *profile, bt_aws_creds *out, bt_error *err)
{
    const bt_aws_profiles *p = c->p->prof;
    tried(c, "assume role");
    if (!bt_aws_profile_get(p, profile, "role_arn") ||
        bt_aws_profile_get(p, profile, "web_identity_token_file"))
        return BT_ENOTFOUND;
    return assume_role(c, profile, NULL, 0, out, err);
}

static int web_identity(chain *c, const char *profile, int use_env, bt_aws_creds *out,
                        bt_error *err)
{
    const bt_aws_profiles *p = c->p->prof;
    const char *file = use_env ? bt_aws_env("AWS_WEB_IDENTITY_TOKEN_FILE") : NULL;
    const char *role = use_env ? bt_aws_env("AWS_ROLE_ARN") : NULL;
    const char *session = use_env ? bt_aws_env("AWS_ROLE_SESSION_NAME") : NULL;
    bt_buf tok = BT_BUF_INIT, form = BT_BUF_INIT;
    bt_error ferr = BT_ERROR_INIT;
    char sess[64];
    int rc;

    if (!file)
        file = bt_aws_profile_get(p, profile, "web_identity_token_file");
    if (!role)
        role = bt_aws_profile_get(p, profile, "role_arn");
    if (!session)
        session = bt_aws_profile_get(p, profile, "role_session_name");
    if (!file)
        return BT_ENOTFOUND;
    if (!role)
        return bt_error_set(err, BT_ECRED,
                            "web identity is configured (token file '%s') but "
                            "no role ARN is",
                            file);
    if (bt_aws_read_small_file(file, (size_t)1 << 20, &tok, &ferr) != 0) {
        rc = bt_error_set(err, BT_ECRED, "web identity token: %s", ferr.msg);
        goto done;
    }
    while (tok.len && (tok.data[tok.len - 1] == '\n' || tok.data[tok.len - 1] == '\r'))
        tok.data[--tok.len] = '\0';
    if (session)
        snprintf(sess, sizeof sess, "%s", session);
    else
        default_session_name(sess, sizeof sess);
    if (bt_buf_puts(&form, "Action=AssumeRoleWithWebIdentity&Version=2011-06-15") ||
        form_add(&form, "RoleArn", role) || form_add(&form, "RoleSessionName", sess) ||
        form_add(&form, "WebIdentityToken", tok.data ? tok.data : "")) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    bt_aws_logf(c->p->set, "credentials: AssumeRoleWithWebIdentity %s (session %s)", role, sess);
    rc = sts_credentials(c, NULL, "AssumeRoleWithWebIdentity", &form,
                         "assume-role-with-web-identity", out, err);
    if (rc)
        bt_error_prefix(err, "assume role '%s' with web identity", role);
done:
    if (tok.data)
        OPENSSL_cleanse(tok.data, tok.alloc);
    if (form.data)
        OPENSSL_cleanse(form.data, form.alloc);
    bt_buf_dispose(&tok);
    bt_buf_dispose(&form);
    return rc;
}

static int from_web_identity(chain *c, const char *profile, bt_aws_creds *out, bt_error *err)
{
    tried(c, "web identity");
    return web_identity(c, profile, !c->p->set->profile_explicit, out, err);
}

/* IAM Identity Center (SSO): the access token cached by `aws sso login` in
 * ~/.aws/sso/cache/<sha1 of the session name or start URL>.json, exchanged for role
 * credentials with the portal's GetRoleCredentials (unsigned, bearer token). An
 * expired token is not refreshed here: the message says to log in again. */
static const char *sso_value(const bt_aws_profiles *p, const char *profile,
                             const bt_ini_section *session, const char *key)
{
    const char *v = session ? bt_ini_get(session, key) : NULL;
    return v ? v : bt_aws_profile_get(p, profile, key);
}

static int sso_credentials(chain *c, const char *profile, bt_aws_creds *out, bt_error *err)
{
    const bt_aws_profiles *p = c->p->prof;
    const char *role = bt_aws_profile_get(p, profile, "sso_role_name");
    const char *acct = bt_aws_profile_get(p, profile, "sso_account_id");
    const char *sess_name = bt_aws_profile_get(p, profile, "sso_session");
    const bt_ini_section *sess = NULL;
    const char *start_url, *sso_region, *home = getenv("HOME"), *tok, *exp;
    unsigned char md[SHA_DIGEST_LENGTH];
    char key_hex[2 * SHA_DIGEST_LENGTH + 1], cfgbuf[512];
    bt_buf path = BT_BUF_INIT, doc = BT_BUF_INIT, query = BT_BUF_INIT;
    bt_arena *a = NULL;
    bt_json *root = NULL, *rc_obj, *jexp;
    bt_aws_endpoint ep;
    bt_aws_req r;
    bt_aws_response resp;
    bt_http_header h[1];
    bt_error ferr = BT_ERROR_INIT;
    const char *url;
    size_t i;
    int rc = 0;

    bt_aws_response_init(&resp);
    if (sess_name) {
        sess = bt_aws_sso_session(p, sess_name);
        if (!sess)
            return bt_error_set(err, BT_ECRED,
                                "the sso-session '%s' of profile '%s' does not "
                                "exist",
                                sess_name, profile);
    }
    start_url = sso_value(p, profile, sess, "sso_start_url");
    sso_region = sso_value(p, profile, sess, "sso_region");
    if (!role || !acct || !start_url || !sso_region)
        return bt_error_set(err, BT_ECRED,
                            "profile '%s' is configured to use SSO but is missing %s", profile,
                            !role        ? "sso_role_name"
                            : !acct      ? "sso_account_id"
                            : !start_url ? "sso_start_url"
                                         : "sso_region");
    SHA1((const unsigned char *)(sess_name ? sess_name : start_url),
         strlen(sess_name ? sess_name : start_url), md);
    for (i = 0; i < SHA_DIGEST_LENGTH; i++)
        snprintf(key_hex + 2 * i, 3, "%02x", md[i]);
    if (bt_buf_printf(&path, "%s/.aws/sso/cache/%s.json", home ? home : "", key_hex)) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    if (bt_aws_read_small_file(path.data, (size_t)1 << 20, &doc, &ferr) != 0 ||
        !(a = bt_arena_new(0, 0)) ||
        bt_json_parse(a, doc.data ? doc.data : "", doc.len, NULL, &root, NULL) != 0 ||
        root->type != BT_JSON_OBJECT || !(tok = bt_json_get_str(root, "accessToken")) ||
        !(exp = bt_json_get_str(root, "expiresAt"))) {
        rc = bt_error_set(err, BT_ECRED,
                          "no valid SSO token for profile '%s'; run 'aws sso "
                          "login --profile %s'",
                          profile, profile);
        goto done;
    }
    {
        /* "2024-05-01T12:00:00Z", also seen as "...UTC" */
        char e[64];
        size_t n;
        snprintf(e, sizeof e, "%s", exp);
        n = strlen(e);
        if (n > 3 && strcmp(e + n - 3, "UTC") == 0)
            snprintf(e + n - 3, 2, "Z");
        if (bt_aws_parse_iso8601(e) <= (int64_t)time(NULL)) {
            rc = bt_error_set(err, BT_ECRED,
                              "the SSO session of profile '%s' has expired; run "
                              "'aws sso login --profile %s'",
                              profile, profile);
            goto done;
        }
    }
    url = bt_aws_configured_endpoint(c->p->set, p, "sso", cfgbuf, sizeof cfgbuf);
    memset(&ep, 0, sizeof ep);
    if (url) {
        snprintf(ep.url, sizeof ep.url, "%s", url);
    } else if (bt_aws_endpoint_resolve("sso", sso_region, 0, 0, 0, &ep, err) != 0) {
        rc = BT_ECRED;
        goto done;
    } else {
        /* the portal lives at portal.sso.<region>.<dnsSuffix> */
        char host[512];
        snprintf(host, sizeof host, "%s", ep.url + strlen("https://sso."));
        snprintf(ep.url, sizeof ep.url, "https://portal.sso.%s", host);
    }
    if (bt_buf_puts(&query, "account_id=") || bt_aws_form_encode(&query, acct) ||
        bt_buf_puts(&query, "&role_name=") || bt_aws_form_encode(&query, role)) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    h[0].name = "x-amz-sso_bearer_token";
    h[0].value = tok;
    memset(&r, 0, sizeof r);
    r.http = c->p->http;
    r.set = c->p->set;
    r.ep = &ep;
    r.method = "GET";
    r.path = "/federation/credentials";
    r.query = query.data;
    r.headers = h;
    r.nheaders = 1;
    r.protocol = BT_AWS_P_JSON;
    r.op = "GetRoleCredentials";
    r.sensitive = 1;
    bt_aws_logf(c->p->set, "credentials: profile '%s': SSO role %s in account %s", profile, role,
                acct);
    rc = bt_aws_send(&r, &resp, err);
    if (rc) {
        bt_error_prefix(err, "SSO credentials for profile '%s'", profile);
        if (err && (rc == BT_EAWS || rc == BT_EHTTP))
            err->code = rc = BT_ECRED;
        goto done;
    }
    bt_arena_reset(a);
    if (bt_json_parse(a, resp.body.data ? resp.body.data : "", resp.body.len, NULL, &root, NULL) !=
            0 ||
        !(rc_obj = bt_json_get(root, "roleCredentials")) || rc_obj->type != BT_JSON_OBJECT ||
        !bt_json_get_str(rc_obj, "accessKeyId") || !bt_json_get_str(rc_obj, "secretAccessKey")) {
        rc = bt_error_set(err, BT_ECRED, "SSO credentials for profile '%s': unexpected reply",
                          profile);
        goto done;
    }
    jexp = bt_json_get(rc_obj, "expiration");
    if (bt_aws_creds_set(
            out, bt_json_get_str(rc_obj, "accessKeyId"), bt_json_get_str(rc_obj, "secretAccessKey"),
            bt_json_get_str(rc_obj, "sessionToken"),
            jexp && jexp->type == BT_JSON_NUMBER ? (int64_t)(jexp->num / 1000) : 0, "sso")) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    snprintf(out->account_id, sizeof out->account_id, "%s", acct);
done:
    if (doc.data)
        OPENSSL_cleanse(doc.data, doc.alloc);
    if (resp.body.data)
        OPENSSL_cleanse(resp.body.data, resp.body.alloc);
    bt_aws_response_dispose(&resp);
    if (a) {
        bt_arena_reset(a);
        bt_arena_free(a);
    }
    bt_buf_dispose(&doc);
    bt_buf_dispose(&path);
    bt_buf_dispose(&query);
    return rc;
}

static int from_sso(chain *c, const char *profile, bt_aws_creds *out, bt_error *err)
{
    const bt_aws_profiles *p = c->p->prof;
    tried(c, "IAM Identity Center (SSO)");
    /* botocore: the role name or account id marks an SSO profile */
    if (!bt_aws_profile_get(p, profile, "sso_role_name") &&
        !bt_aws_profile_get(p, profile, "sso_account_id"))
        return BT_ENOTFOUND;
    return sso_credentials(c, profile, out, err);
}

/* ---- container and instance metadata ---- */

static int host_allowed(const char *url)
{
    /* http://host[:port]/... with host loopback or one of the container hosts */
    const char *h = strstr(url, "://"), *e;
    char host[256];
    size_t n;
    if (strncasecmp(url, "https://", 8) == 0)
        return 1;
    if (strncasecmp(url, "http://", 7) != 0 || !h)
        return 0;
    h += 3;
    if (*h == '[') {
        e = strchr(h, ']');
        if (!e)
            return 0;
        h++;
    } else {
        e = h + strcspn(h, ":/?#");
    }
    n = (size_t)(e - h);
    if (n == 0 || n >= sizeof host)
        return 0;
    memcpy(host, h, n);
    host[n] = '\0';
    if (strcmp(host, "169.254.170.2") == 0 || strcmp(host, "169.254.170.23") == 0 ||
        strcasecmp(host, "fd00:ec2::23") == 0 || strcasecmp(host, "localhost") == 0 ||
        strcmp(host, "::1") == 0 || strcmp(host, "0:0:0:0:0:0:0:1") == 0)
        return 1;
    /* 127.0.0.0/8 as a dotted quad */
    {
        unsigned a, b, c2, d;
        char tail;
        if (sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c2, &d, &tail) == 4 && a == 127 && b < 256 &&
            c2 < 256 && d < 256)
            return 1;
    }
    return 0;
}

static int meta_get(chain *c, const char *method, const char *url, const bt_http_header *h,
                    size_t nh, long timeout_ms, int sensitive, bt_http_resp *resp, bt_error *err)
{
    bt_http_req r;
    memset(&r, 0, sizeof r);
    r.method = method;
    r.url = url;
    r.headers = h;
    r.nheaders = nh;
    r.connect_timeout_ms = timeout_ms;
    r.read_timeout_ms = timeout_ms;
    r.total_timeout_ms = timeout_ms;
    r.max_body = (size_t)1 << 20;
    r.sensitive = sensitive;
    return bt_http_send(c->p->meta, &r, resp, err);
}

static int from_container(chain *c, bt_aws_creds *out, bt_error *err)
{
    const char *rel = bt_aws_env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = bt_aws_env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *tok_file = bt_aws_env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *tok_env = bt_aws_env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    bt_buf url = BT_BUF_INIT, tok = BT_BUF_INIT;
    bt_http_header h[2];
    size_t nh = 0;
    bt_http_resp resp;
    bt_error herr = BT_ERROR_INIT;
    int rc = 0, attempt;

    tried(c, "container credentials");
    if (!rel && !full)
        return BT_ENOTFOUND;
    bt_http_resp_init(&resp);
    if (rel) {
        rc = bt_buf_printf(&url, "http://%s%s%s", CONTAINER_HOST, rel[0] == '/' ? "" : "/", rel);
    } else {
        if (!host_allowed(full)) {
            rc = bt_error_set(err, BT_ECRED,
                              "AWS_CONTAINER_CREDENTIALS_FULL_URI: unsupported "
                              "host; plain http is allowed only to a loopback "
                              "address, 169.254.170.2, 169.254.170.23, "
                              "fd00:ec2::23 or localhost");
            goto done;
        }
        rc = bt_buf_puts(&url, full);
    }
    if (rc == 0 && tok_file) {
        bt_error ferr = BT_ERROR_INIT;
        if (bt_aws_read_small_file(tok_file, 16384, &tok, &ferr) != 0) {
            rc = bt_error_set(err, BT_ECRED, "container authorization token: %s", ferr.msg);
            goto done;
        }
        while (tok.len && (tok.data[tok.len - 1] == '\n' || tok.data[tok.len - 1] == '\r'))
            tok.data[--tok.len] = '\0';
    } else if (rc == 0 && tok_env) {
        rc = bt_buf_puts(&tok, tok_env);
    }
    if (rc == 0 && tok.len && (strchr(tok.data, '\r') || strchr(tok.data, '\n'))) {
        rc = bt_error_set(err, BT_ECRED, "container authorization token contains a line break");
        goto done;
    }
    if (rc) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    h[nh].name = "Accept";
    h[nh++].value = "application/json";
    if (tok.len) {
        h[nh].name = "Authorization";
        h[nh++].value = tok.data;
    }
    /* botocore: 2 s timeout, 3 attempts, 1 s apart */
    for (attempt = 1; attempt <= 3; attempt++) {
        bt_error_clear(&herr);
        rc = meta_get(c, "GET", url.data, h, nh, 2000, 1, &resp, &herr);
        if (rc == 0 && resp.status == 200) {
            rc = bt_cred_parse_json(resp.body.data ? resp.body.data : "", resp.body.len, 0,
                                    "container credentials", out, err);
            if (rc == 0)
                snprintf(out->source, sizeof out->source, "container-role");
            goto done;
        }
        if (rc == 0)
            bt_error_set(&herr, BT_EHTTP, "HTTP %ld", resp.status);
        bt_aws_logf(c->p->set, "credentials: container endpoint attempt %d: %s", attempt, herr.msg);
        if (attempt < 3)
            bt_aws_sleep(1.0);
    }
    rc = bt_error_set(err, BT_ECRED, "container credentials: %s", herr.msg);
    if (err)
        err->http_status = (int)resp.status;
done:
    if (tok.data)
        OPENSSL_cleanse(tok.data, tok.alloc);
    if (resp.body.data)
        OPENSSL_cleanse(resp.body.data, resp.body.alloc);
    bt_http_resp_dispose(&resp);
    bt_buf_dispose(&tok);
    bt_buf_dispose(&url);
    return rc;
}

static int imds_get(chain *c, const char *base, const char *path, const char *token,
                    long timeout_ms, int attempts, int sensitive, bt_http_resp *resp, bt_error *err)
{
    bt_buf url = BT_BUF_INIT;
    bt_http_header h[1];
    int rc = 0, i;
    if (bt_buf_printf(&url, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", path))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    h[0].name = "x-aws-ec2-metadata-token";
    h[0].value = token;
    for (i = 0; i < attempts; i++) {
        rc = meta_get(c, "GET", url.data, h, token ? 1 : 0, timeout_ms, sensitive, resp, err);
        if (rc == 0 && resp->status == 200 && resp->body.len > 0)
            break;
        if (rc == 0)
            rc = bt_error_set(err, BT_EHTTP, "instance metadata: HTTP %ld for %s", resp->status,
                              path);
    }
    bt_buf_dispose(&url);
    return rc;
}

static int from_imds(chain *c, bt_aws_creds *out, bt_error *err)
{
    const bt_aws_profiles *p = c->p->prof;
    const char *profile = c->p->set->profile;
    const char *base = bt_aws_env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    const char *mode = bt_aws_env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE");
    const char *v1off = bt_aws_env("AWS_EC2_METADATA_V1_DISABLED");
    const char *tmo = bt_aws_env("AWS_METADATA_SERVICE_TIMEOUT");
    const char *natt = bt_aws_env("AWS_METADATA_SERVICE_NUM_ATTEMPTS");
    bt_http_header th[1] = {{"x-aws-ec2-metadata-token-ttl-seconds", "21600"}};
    bt_http_resp resp;
    bt_error herr = BT_ERROR_INIT;
    char *token = NULL, role[256];
    long timeout_ms;
    int attempts, rc = 0;
    bt_buf url = BT_BUF_INIT, path = BT_BUF_INIT;

    tried(c, "EC2 instance metadata");
    if (bt_aws_bool(bt_aws_env("AWS_EC2_METADATA_DISABLED")) == 1)
        return BT_ENOTFOUND;
    if (!base)
        base = bt_aws_profile_get(p, profile, "ec2_metadata_service_endpoint");
    if (!mode)
        mode = bt_aws_profile_get(p, profile, "ec2_metadata_service_endpoint_mode");
    if (!v1off)
        v1off = bt_aws_profile_get(p, profile, "ec2_metadata_v1_disabled");
    if (!tmo)
        tmo = bt_aws_profile_get(p, profile, "metadata_service_timeout");
    if (!natt)
        natt = bt_aws_profile_get(p, profile, "metadata_service_num_attempts");
    if (!base)
        base = mode && strcasecmp(mode, "ipv6") == 0 ? IMDS_DEFAULT_V6 : IMDS_DEFAULT;
    timeout_ms = tmo ? (long)(atof(tmo) * 1000) : 1000;
    if (timeout_ms <= 0)
        timeout_ms = 1000;
    attempts = natt ? atoi(natt) : 1;
    if (attempts < 1)
        attempts = 1;
    bt_http_resp_init(&resp);

    /* (1) token */
    if (bt_buf_printf(&url, "%s%slatest/api/token", base,
                      base[strlen(base) - 1] == '/' ? "" : "/")) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    {
        int i;
        for (i = 0; i < attempts; i++) {
            bt_error_clear(&herr);
            if (meta_get(c, "PUT", url.data, th, 1, timeout_ms, 1, &resp, &herr) == 0) {
                if (resp.status == 200) {
                    token = strndup(resp.body.data ? resp.body.data : "", resp.body.len);
                    if (!token) {
                        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
                        goto done;
                    }
                } else if (resp.status == 400) {
                    bt_aws_logf(c->p->set, "credentials: instance metadata refused the token "
                                           "request (HTTP 400)");
                    rc = BT_ENOTFOUND;
                    goto done;
                }
                break; /* 403/404/405: IMDSv1 fallback */
            }
            if (resp.transport == BT_HTTP_T_TIMEOUT)
                break;
        }
    }
    if (!token && bt_aws_bool(v1off) == 1) {
        bt_aws_logf(c->p->set, "credentials: no IMDSv2 token and IMDSv1 is disabled");
        rc = BT_ENOTFOUND;
        goto done;
    }
    /* (2) role name */
    rc = imds_get(c, base, "latest/meta-data/iam/security-credentials/", token, timeout_ms,
                  attempts, 0, &resp, &herr);
    if (rc) {
        bt_aws_logf(c->p->set, "credentials: instance metadata: %s", herr.msg);
        rc = BT_ENOTFOUND;
        goto done;
    }
    {
        size_t n = strcspn(resp.body.data, "\r\n");
        while (n && (resp.body.data[n - 1] == ' ' || resp.body.data[n - 1] == '\t'))
            n--;
        if (n == 0 || n >= sizeof role || memchr(resp.body.data, '/', n)) {
            bt_aws_logf(c->p->set, "credentials: instance metadata: no usable role name");
            rc = BT_ENOTFOUND;
            goto done;
        }
        memcpy(role, resp.body.data, n);
        role[n] = '\0';
    }
    /* (3) credentials */
    if (bt_buf_printf(&path, "latest/meta-data/iam/security-credentials/%s", role)) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    rc = imds_get(c, base, path.data, token, timeout_ms, attempts, 1, &resp, &herr);
    if (rc) {
        bt_aws_logf(c->p->set, "credentials: instance metadata: %s", herr.msg);
        rc = BT_ENOTFOUND;
        goto done;
    }
    rc = bt_cred_parse_json(resp.body.data, resp.body.len, 0, "instance metadata", out, &herr);
    if (rc) {
        /* botocore treats a bad document as "no credentials" */
        bt_aws_logf(c->p->set, "credentials: %s", herr.msg);
        rc = BT_ENOTFOUND;
        goto done;
    }
    snprintf(out->source, sizeof out->source, "iam-role");
    bt_aws_logf(c->p->set, "credentials: instance metadata role '%s'", role);
done:
    if (token) {
        OPENSSL_cleanse(token, strlen(token));
        free(token);
    }
    if (resp.body.data)
        OPENSSL_cleanse(resp.body.data, resp.body.alloc);
    bt_http_resp_dispose(&resp);
    bt_buf_dispose(&url);
    bt_buf_dispose(&path);
    return rc;
}

/* ------------------------------------------------------------------ chain -- */

static int resolve(bt_cred_provider *p, bt_aws_creds *out, bt_error *err)
{
    chain c;
    const char *profile = p->set->profile;
    int rc = BT_ENOTFOUND;

    c.p = p;
    bt_buf_init(&c.tried, 0);
    if (!p->set->profile_explicit)
        rc = from_env(&c, out, err);
    if (rc == BT_ENOTFOUND)
        rc = from_assume_role(&c, profile, out, err);
    if (rc == BT_ENOTFOUND)
        rc = from_web_identity(&c, profile, out, err);
    if (rc == BT_ENOTFOUND)
        rc = from_sso(&c, profile, out, err);
    if (rc == BT_ENOTFOUND)
        rc = from_shared_file(&c, profile, out, err);
    if (rc == BT_ENOTFOUND)
        rc = from_process(&c, profile, out, err);
    if (rc == BT_ENOTFOUND)
        rc = from_config_file(&c, profile, out, err);
    if (rc == BT_ENOTFOUND)
        rc = from_container(&c, out, err);
    if (rc == BT_ENOTFOUND)
        rc = from_imds(&c, out, err);
    if (rc == BT_ENOTFOUND)
        rc = bt_error_set(err, BT_ECRED,
                          "unable to locate credentials for profile '%s' "
                          "(tried: %s)",
                          profile, c.tried.data ? c.tried.data : "nothing");
    else if (rc == 0)
        bt_aws_logf(p->set, "credentials: found in %s (access key %.4s...)", out->source,
                    out->access_key_id);
    else if (err && err->code != BT_ENOMEM && err->code != BT_ECONFIG)
        err->code = rc = BT_ECRED;
    bt_buf_dispose(&c.tried);
    return rc;
}

int bt_cred_provider_new(bt_cred_provider **out, const bt_cred_init *init, bt_error *err)
{
    bt_cred_provider *p = calloc(1, sizeof *p);
    bt_http_opts ho;
    int rc;

    *out = NULL;
    if (!p)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    pthread_mutex_init(&p->mu, NULL);
    p->set = init->set;
    p->prof = init->prof;
    memset(&ho, 0, sizeof ho);
    ho.ca_bundle = init->set->ca_bundle;
    ho.user_agent = init->set->user_agent;
    ho.log = init->set->log;
    ho.log_payload = init->set->log_payload;
    rc = bt_http_new(&p->http, &ho, err);
    if (rc == 0) {
        ho.no_proxy = 1;
        rc = bt_http_new(&p->meta, &ho, err);
    }
    if (rc) {
        bt_cred_provider_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void bt_cred_provider_free(bt_cred_provider *p)
{
    if (!p)
        return;
    bt_aws_creds_dispose(&p->cached);
    bt_http_free(p->http);
    bt_http_free(p->meta);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int bt_cred_provider_get(bt_cred_provider *p, bt_aws_creds *out, bt_error *err)
{
    int64_t now = (int64_t)time(NULL);
    int rc = 0;

    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&p->mu);
    if (p->have &&
        (p->cached.expiration == 0 || now < p->cached.expiration - BT_CRED_REFRESH_WINDOW)) {
        rc = bt_aws_creds_copy(out, &p->cached) ? bt_error_set(err, BT_ENOMEM, "out of memory") : 0;
        goto done;
    }
    {
        bt_aws_creds fresh;
        bt_error rerr = BT_ERROR_INIT;
        memset(&fresh, 0, sizeof fresh);
        if (p->have)
            bt_aws_logf(p->set, "credentials: refreshing (expire in %lld s)",
                        (long long)(p->cached.expiration - now));
        rc = resolve(p, &fresh, &rerr);
        if (rc == 0) {
            bt_aws_creds_dispose(&p->cached);
            p->cached = fresh;
            p->have = 1;
        } else if (p->have && now < p->cached.expiration) {
            /* advisory refresh failed: the old credentials are still valid */
            bt_aws_logf(p->set, "credentials: refresh failed, keeping the current ones: %s",
                        rerr.msg);
            rc = 0;
        } else {
            if (err)
                *err = rerr;
            goto done;
        }
        rc = bt_aws_creds_copy(out, &p->cached) ? bt_error_set(err, BT_ENOMEM, "out of memory") : 0;
    }
done:
    pthread_mutex_unlock(&p->mu);
    return rc;
}
