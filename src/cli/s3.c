/* s3.c - the CLI side of reading trail archives in S3: the option groups shared by
 * ingest and search --from, the AWS client they configure (profile, endpoint, the
 * redacting debug log) and the walk chosen from the filter's time window, accounts
 * and regions. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/aws.h"
#include "buildtrail/aws_s3.h"
#include "buildtrail/source_s3.h"
#include "cli.h"

static const cli_opt s3_opts[] = {
    {"endpoint-url", 0, OPT_VALUE, "URL", O_ENDPOINT_URL,
     "S3 endpoint for s3:// archives (an S3-compatible store, a VPC endpoint). Default: "
     "AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, the profile's endpoint_url, else "
     "s3.<region>.amazonaws.com."},
    {"profile", 0, OPT_VALUE, "NAME", O_PROFILE,
     "AWS profile for s3:// archives (credentials and settings from ~/.aws/config and "
     "~/.aws/credentials, as the AWS CLI reads them)."},
    {"addressing-style", 0, OPT_VALUE, "STYLE", O_ADDRESSING,
     "auto (default: virtual-hosted on AWS, path-style on a custom endpoint), virtual or "
     "path."},
    {"max-concurrent-requests", 0, OPT_VALUE, "N", O_CONCURRENCY,
     "Parallel S3 requests, each object parsed as it arrives (default 16)."},
};
const cli_group cli_group_s3 = CLI_GROUP("S3 archives (s3://bucket/prefix)", s3_opts);

static const cli_opt s3_select_opts[] = {
    {"start-time", 0, OPT_VALUE, "TIME", O_START,
     "s3://: read the log files delivered from TIME's day on (ISO 8601, epoch seconds, or an "
     "age such as 7d). Without it every day is discovered."},
    {"end-time", 0, OPT_VALUE, "TIME", O_END,
     "s3://: read up to the day after TIME's (delivery lags), default now. Whole files are "
     "stored, so a file may bring records just outside the window."},
    {"account", 0, OPT_VALUE, "ID", O_ACCOUNT,
     "s3://: only this account's logs (repeatable or comma-separated). Default: every "
     "account found, organization trails included."},
    {"region", 0, OPT_VALUE, "REGION", O_REGION,
     "s3://: only this region's logs (repeatable or comma-separated). Default: every region "
     "found."},
};
const cli_group cli_group_s3_select = CLI_GROUP("What to read from s3:// archives", s3_select_opts);

int cli_is_s3_url(const char *arg)
{
    return arg && strncmp(arg, "s3://", 5) == 0;
}

int cli_s3_check_url(const char *url, bt_error *err)
{
    return bt_s3_scan_check_url(url, err);
}

static int add_split(cli_s3 *s3, cli_common *c, const cli_opt *opt, const char *value)
{
    bt_filter_field field = opt->id == O_ACCOUNT ? BT_F_ACCOUNT : BT_F_REGION;
    const char *p = value;
    bt_error err = BT_ERROR_INIT;

    while (*p) {
        size_t n = strcspn(p, ",");
        char *v, **o;
        size_t i;
        if (n == 0) {
            p++;
            continue;
        }
        if (!(v = strndup(p, n)) || !(o = realloc(s3->owned, (s3->nowned + 1) * sizeof *o))) {
            free(v);
            cli_err("out of memory");
            return -1;
        }
        s3->owned = o;
        s3->owned[s3->nowned++] = v;
        if (field == BT_F_ACCOUNT) {
            for (i = 0; v[i] && isdigit((unsigned char)v[i]); i++)
                ;
            if (i != 12 || v[i]) {
                cli_err("--account '%s': expected a 12-digit account id", v);
                return -1;
            }
        }
        if (bt_filter_add(&c->filter, field, v, &err)) {
            cli_err("%s", err.msg);
            return -1;
        }
        p += n;
    }
    return 0;
}

int cli_s3_opt(cli_s3 *s3, cli_common *c, const cli_opt *opt, const char *value)
{
    char *end;
    long n;
    switch (opt->id) {
    case O_ENDPOINT_URL:
        if (strncmp(value, "http://", 7) != 0 && strncmp(value, "https://", 8) != 0) {
            cli_err("--endpoint-url '%s': expected an http:// or https:// URL", value);
            return -1;
        }
        s3->endpoint_url = value;
        return 0;
    case O_PROFILE: s3->profile = value; return 0;
    case O_ADDRESSING:
        if ((s3->addressing = bt_s3_addressing_parse(value)) < 0) {
            cli_err("--addressing-style '%s': expected auto, virtual or path", value);
            return -1;
        }
        return 0;
    case O_CONCURRENCY:
        n = strtol(value, &end, 10);
        if (*end || n < 1 || n > 256) {
            cli_err("--max-concurrent-requests '%s': expected a number from 1 to 256", value);
            return -1;
        }
        s3->concurrency = (int)n;
        return 0;
    case O_ACCOUNT:
    case O_REGION:
        if (strchr(value, ',') || opt->id == O_ACCOUNT)
            return add_split(s3, c, opt, value);
        return 1;
    }
    return 1;
}

void cli_s3_dispose(cli_s3 *s3)
{
    size_t i;
    for (i = 0; i < s3->nowned; i++)
        free(s3->owned[i]);
    free(s3->owned);
    s3->owned = NULL;
    s3->nowned = 0;
}

void cli_s3_aws_config(const cli_s3 *s3, bt_aws_config *cfg)
{
    bt_aws_config init = BT_AWS_CONFIG_INIT;
    *cfg = init;
    cfg->profile = s3->profile;
    cfg->endpoint_url = s3->endpoint_url;
    cfg->user_agent = "buildtrail";
    if (cli_debug) {
        cfg->log = cli_debug_line;
        cfg->log_payload = NULL;
    }
}

void cli_s3_report(const char *url, const bt_s3_scan_info *info, int rc)
{
    if (cli_debug)
        cli_err("debug: %s: bucket region %s, %llu list requests, %llu objects listed "
                "(%llu bytes), %llu get requests, %llu tried again",
                url, info->region[0] ? info->region : "?", (unsigned long long)info->list_requests,
                (unsigned long long)info->listed, (unsigned long long)info->listed_bytes,
                (unsigned long long)info->get_requests, (unsigned long long)info->requeued);
    if (rc == 0 && info->listed == 0)
        cli_warn("%s: no CloudTrail log files found for this selection (the URL names the "
                 "trail's key prefix, the part before AWSLogs/)",
                 url);
}

int cli_s3_scan(const cli_s3 *s3, const char *url, const bt_filter *f, const bt_scan_opts *so,
                int (*skip)(void *ctx, const char *source, uint64_t size, int64_t mtime_ns,
                            const char *etag),
                void *skip_ctx, bt_read_stats *st, bt_error *err)
{
    bt_aws_config cfg;
    bt_aws_client *client = NULL;
    bt_s3_scan_spec spec;
    bt_s3_scan_info info;
    int rc;

    cli_s3_aws_config(s3, &cfg);
    if ((rc = bt_aws_client_new(&client, &cfg, err)))
        return rc;
    memset(&spec, 0, sizeof spec);
    spec.client = client;
    spec.url = url;
    spec.addressing = (bt_s3_addressing)s3->addressing;
    spec.start_ms = f->start_ms;
    spec.end_ms = f->end_ms;
    spec.accounts = f->values[BT_F_ACCOUNT];
    spec.naccounts = f->nvalues[BT_F_ACCOUNT];
    spec.regions = f->values[BT_F_REGION];
    spec.nregions = f->nvalues[BT_F_REGION];
    spec.connections = s3->concurrency;
    spec.skip = skip;
    spec.skip_ctx = skip_ctx;
    rc = bt_scan_s3(&spec, so, st, &info, err);
    cli_s3_report(url, &info, rc);
    bt_aws_client_free(client);
    return rc;
}

int cli_s3_or_common_opt(cli_s3 *s3, cli_common *c, const cli_opt *opt, const char *value)
{
    int rc = opt->id >= O_ENDPOINT_URL ? cli_s3_opt(s3, c, opt, value) : 1;
    return rc <= 0 ? rc : cli_common_opt(c, opt, value);
}
