/* profile.c - the shared config and credentials files: locating and loading them,
 * mapping profile names to sections ([profile x] / [default] in config, [x] in
 * credentials), merged lookups, [services x] sections and configured endpoints. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_int.h"

static char *expand_home(const char *path)
{
    const char *home;
    bt_buf b = BT_BUF_INIT;
    if (path[0] == '~' && (path[1] == '/' || path[1] == '\0')) {
        home = getenv("HOME");
        if (!home)
            home = "";
        if (bt_buf_printf(&b, "%s%s", home, path + 1) != 0)
            return NULL;
        return bt_buf_detach(&b);
    }
    return strdup(path);
}

static int load_one(const char *path, bt_ini **out, bt_error *err)
{
    bt_buf b = BT_BUF_INIT;
    bt_error e2 = BT_ERROR_INIT;
    int rc;

    *out = NULL;
    b.cap = BT_INI_MAX_SIZE;
    rc = bt_buf_read_file(&b, path, &e2);
    if (rc == BT_ENOTFOUND) {
        rc = 0; /* a missing file is an empty file */
        goto done;
    }
    if (rc) {
        rc = bt_error_set(err, BT_ECONFIG, "config: %s", e2.msg);
        goto done;
    }
    rc = bt_ini_parse(b.data ? b.data : "", b.len, out, &e2);
    if (rc) {
        rc = bt_error_set(err, rc == BT_ENOMEM ? BT_ENOMEM : BT_ECONFIG,
                          "unable to parse config file '%s': %s", path, e2.msg);
        goto done;
    }
done:
    bt_buf_dispose(&b);
    return rc;
}

int bt_aws_profiles_load(bt_aws_profiles **out, bt_error *err)
{
    bt_aws_profiles *p = calloc(1, sizeof *p);
    const char *cfg = bt_aws_env("AWS_CONFIG_FILE");
    const char *cred = bt_aws_env("AWS_SHARED_CREDENTIALS_FILE");
    int rc;

    *out = NULL;
    if (!p)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    p->config_path = expand_home(cfg ? cfg : "~/.aws/config");
    p->creds_path = expand_home(cred ? cred : "~/.aws/credentials");
    if (!p->config_path || !p->creds_path) {
        bt_aws_profiles_free(p);
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    rc = load_one(p->config_path, &p->config, err);
    if (rc == 0)
        rc = load_one(p->creds_path, &p->creds, err);
    if (rc) {
        bt_aws_profiles_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

void bt_aws_profiles_free(bt_aws_profiles *p)
{
    if (!p)
        return;
    bt_ini_free(p->config);
    bt_ini_free(p->creds);
    free(p->config_path);
    free(p->creds_path);
    free(p);
}

/* Splits a section name like shlex: "profile  x" / profile "my x" -> prefix, rest.
 * Returns 1 when the name is exactly two words, the first equal to prefix. */
static int two_words(const char *section, const char *prefix, char *rest, size_t cap)
{
    size_t pl = strlen(prefix), n = 0;
    const char *p = section;
    if (strncmp(p, prefix, pl) != 0 || !isspace((unsigned char)p[pl]))
        return 0;
    p += pl;
    while (isspace((unsigned char)*p))
        p++;
    if (!*p)
        return 0;
    while (*p && !isspace((unsigned char)*p)) {
        if (*p == '"' || *p == '\'') {
            char q = *p++;
            while (*p && *p != q) {
                if (n + 1 < cap)
                    rest[n++] = *p;
                p++;
            }
            if (*p != q)
                return 0;
            p++;
        } else {
            if (n + 1 < cap)
                rest[n++] = *p;
            p++;
        }
    }
    rest[n] = '\0';
    while (isspace((unsigned char)*p))
        p++;
    return *p == '\0';
}

const bt_ini_section *bt_aws_profile_config(const bt_aws_profiles *p, const char *name)
{
    const bt_ini_section *found = NULL;
    char rest[256];
    size_t i;
    if (!p || !p->config || !name)
        return NULL;
    /* later sections win, as botocore's dict assignment does */
    for (i = 0; i < p->config->n; i++) {
        const bt_ini_section *s = &p->config->sections[i];
        if (strcmp(name, "default") == 0 && strcmp(s->name, "default") == 0)
            found = s;
        else if (two_words(s->name, "profile", rest, sizeof rest) && strcmp(rest, name) == 0)
            found = s;
    }
    return found;
}

const bt_ini_section *bt_aws_profile_creds(const bt_aws_profiles *p, const char *name)
{
    if (!p || !p->creds || !name)
        return NULL;
    return bt_ini_section_get(p->creds, name);
}

int bt_aws_profile_exists(const bt_aws_profiles *p, const char *name)
{
    return bt_aws_profile_config(p, name) != NULL || bt_aws_profile_creds(p, name) != NULL;
}

const char *bt_aws_profile_get(const bt_aws_profiles *p, const char *name, const char *key)
{
    const char *v = bt_ini_get(bt_aws_profile_creds(p, name), key);
    return v ? v : bt_ini_get(bt_aws_profile_config(p, name), key);
}

const char *bt_aws_services_get(const bt_aws_profiles *p, const char *section, const char *service,
                                const char *key)
{
    char rest[256];
    size_t i;
    const bt_ini_section *found = NULL;
    if (!p || !p->config || !section)
        return NULL;
    for (i = 0; i < p->config->n; i++) {
        const bt_ini_section *s = &p->config->sections[i];
        if (two_words(s->name, "services", rest, sizeof rest) && strcmp(rest, section) == 0)
            found = s;
    }
    return found ? bt_ini_get_sub(found, service, key) : NULL;
}

const bt_ini_section *bt_aws_sso_session(const bt_aws_profiles *p, const char *name)
{
    char rest[256];
    size_t i;
    const bt_ini_section *found = NULL;
    if (!p || !p->config || !name)
        return NULL;
    for (i = 0; i < p->config->n; i++) {
        const bt_ini_section *s = &p->config->sections[i];
        if (two_words(s->name, "sso-session", rest, sizeof rest) && strcmp(rest, name) == 0)
            found = s;
    }
    return found;
}

/* The service id as the SDKs spell it in env var and config keys. */
static const char *service_env_id(const char *service)
{
    if (strcmp(service, "cloudtrail") == 0)
        return "CLOUDTRAIL";
    if (strcmp(service, "codebuild") == 0)
        return "CODEBUILD";
    if (strcmp(service, "sts") == 0)
        return "STS";
    if (strcmp(service, "s3") == 0)
        return "S3";
    if (strcmp(service, "sso") == 0)
        return "SSO";
    return NULL;
}

const char *bt_aws_configured_endpoint(const bt_aws_settings *s, const bt_aws_profiles *p,
                                       const char *service, char *buf, size_t cap)
{
    const char *id = service_env_id(service), *v, *svc_section;
    char name[128], lower[64];
    size_t i;

    if (s->ignore_configured_endpoints)
        return NULL;
    if (id) {
        snprintf(name, sizeof name, "AWS_ENDPOINT_URL_%s", id);
        if ((v = bt_aws_env(name)) != NULL)
            goto found;
    }
    if ((v = bt_aws_env("AWS_ENDPOINT_URL")) != NULL)
        goto found;
    /* config: [services X] referenced by the profile's "services" key, with the
     * service id in snake case (lowercase here) */
    svc_section = bt_aws_profile_get(p, s->profile, "services");
    if (svc_section && id) {
        for (i = 0; id[i] && i + 1 < sizeof lower; i++)
            lower[i] = (char)tolower((unsigned char)id[i]);
        lower[i] = '\0';
        if ((v = bt_aws_services_get(p, svc_section, lower, "endpoint_url")) != NULL)
            goto found;
    }
    if ((v = bt_aws_profile_get(p, s->profile, "endpoint_url")) != NULL)
        goto found;
    return NULL;
found:
    snprintf(buf, cap, "%s", v);
    return buf;
}
