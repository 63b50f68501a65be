/* endpoint.c - the endpoint rule sets of cloudtrail, codebuild, sts and s3 over
 * botocore's partitions: region -> partition (exact list, then regex), FIPS and
 * dual-stack variants, the GovCloud exceptions, STS's legacy global endpoint. */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include <pthread.h>

#include "buildtrail/aws.h"
#include "buildtrail/lookup.h"

typedef struct partition {
    const char *id;
    const char *dns_suffix;
    const char *dualstack_suffix;
    const char *const *regions; /* exact names, NULL-terminated */
} partition;

static const char *const aws_regions[] = {
    "af-south-1",     "ap-east-1",      "ap-east-2",      "ap-northeast-1",
    "ap-northeast-2", "ap-northeast-3", "ap-south-1",     "ap-south-2",
    "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
    "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "aws-global",
    "ca-central-1",   "ca-west-1",      "eu-central-1",   "eu-central-2",
    "eu-north-1",     "eu-south-1",     "eu-south-2",     "eu-west-1",
    "eu-west-2",      "eu-west-3",      "il-central-1",   "me-central-1",
    "me-south-1",     "mx-central-1",   "sa-east-1",      "us-east-1",
    "us-east-2",      "us-west-1",      "us-west-2",      NULL};
static const char *const cn_regions[] = {"aws-cn-global", "cn-north-1", "cn-northwest-1", NULL};
static const char *const eusc_regions[] = {"eusc-de-east-1", NULL};
static const char *const iso_regions[] = {"aws-iso-global", "us-iso-east-1", "us-iso-west-1", NULL};
static const char *const isob_regions[] = {"aws-iso-b-global", "us-isob-east-1", "us-isob-west-1",
                                           NULL};
static const char *const isoe_regions[] = {"aws-iso-e-global", "eu-isoe-west-1", NULL};
static const char *const isof_regions[] = {"aws-iso-f-global", "us-isof-east-1", "us-isof-south-1",
                                           NULL};
static const char *const gov_regions[] = {"aws-us-gov-global", "us-gov-east-1", "us-gov-west-1",
                                          NULL};

/* Order as in botocore's partitions.json. */
static const partition partitions[] = {
    {"aws", "amazonaws.com", "api.aws", aws_regions},
    {"aws-cn", "amazonaws.com.cn", "api.amazonwebservices.com.cn", cn_regions},
    {"aws-eusc", "amazonaws.eu", "api.amazonwebservices.eu", eusc_regions},
    {"aws-iso", "c2s.ic.gov", "api.aws.ic.gov", iso_regions},
    {"aws-iso-b", "sc2s.sgov.gov", "api.aws.scloud", isob_regions},
    {"aws-iso-e", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk", isoe_regions},
    {"aws-iso-f", "csp.hci.ic.gov", "api.aws.hci.ic.gov", isof_regions},
    {"aws-us-gov", "amazonaws.com", "api.aws", gov_regions},
};
#define NPART (sizeof partitions / sizeof partitions[0])

/* Matches "<prefix>-\w+-\d+" exactly (the tail of every partition regex). */
static int match_tail(const char *s)
{
    const char *p = s;
    if (!(isalnum((unsigned char)*p) || *p == '_'))
        return 0;
    while (isalnum((unsigned char)*p) || *p == '_')
        p++;
    if (*p != '-')
        return 0;
    p++;
    if (!isdigit((unsigned char)*p))
        return 0;
    while (isdigit((unsigned char)*p))
        p++;
    return *p == '\0';
}

static int regex_match(const char *id, const char *r)
{
    static const char *const aws_prefixes[] = {"us", "eu", "ap", "sa", "ca",
                                               "me", "af", "il", "mx", NULL};
    int i;
    if (strcmp(id, "aws") == 0) {
        for (i = 0; aws_prefixes[i]; i++)
            if (strncmp(r, aws_prefixes[i], 2) == 0 && r[2] == '-' && match_tail(r + 3))
                return 1;
        return 0;
    }
    if (strcmp(id, "aws-cn") == 0)
        return strncmp(r, "cn-", 3) == 0 && match_tail(r + 3);
    if (strcmp(id, "aws-eusc") == 0)
        return strncmp(r, "eusc-de-", 8) == 0 && match_tail(r + 8);
    if (strcmp(id, "aws-iso") == 0)
        return strncmp(r, "us-iso-", 7) == 0 && match_tail(r + 7);
    if (strcmp(id, "aws-iso-b") == 0)
        return strncmp(r, "us-isob-", 8) == 0 && match_tail(r + 8);
    if (strcmp(id, "aws-iso-e") == 0)
        return strncmp(r, "eu-isoe-", 8) == 0 && match_tail(r + 8);
    if (strcmp(id, "aws-iso-f") == 0)
        return strncmp(r, "us-isof-", 8) == 0 && match_tail(r + 8);
    if (strcmp(id, "aws-us-gov") == 0)
        return strncmp(r, "us-gov-", 7) == 0 && match_tail(r + 7);
    return 0;
}

static const partition *find_partition(const char *region)
{
    size_t i;
    int j;
    for (i = 0; i < NPART; i++)
        for (j = 0; partitions[i].regions[j]; j++)
            if (strcmp(partitions[i].regions[j], region) == 0)
                return &partitions[i];
    for (i = 0; i < NPART; i++)
        if (regex_match(partitions[i].id, region))
            return &partitions[i];
    return &partitions[0];
}

const char *bt_aws_partition(const char *region)
{
    return find_partition(region ? region : "")->id;
}

/* A region must be a valid host label (the rule sets' isValidHostLabel). */
static int valid_region(const char *r)
{
    size_t n = strlen(r), i;
    if (n == 0 || n > 63 || r[0] == '-' || r[n - 1] == '-')
        return 0;
    for (i = 0; i < n; i++)
        if (!isalnum((unsigned char)r[i]) && r[i] != '-')
            return 0;
    return 1;
}

static int is_sts_legacy_global(const char *r)
{
    static const char *const g[] = {"ap-northeast-1", "ap-south-1", "ap-southeast-1",
                                    "ap-southeast-2", "aws-global", "ca-central-1",
                                    "eu-central-1",   "eu-north-1", "eu-west-1",
                                    "eu-west-2",      "eu-west-3",  "sa-east-1",
                                    "us-east-1",      "us-east-2",  "us-west-1",
                                    "us-west-2",      NULL};
    int i;
    for (i = 0; g[i]; i++)
        if (strcmp(g[i], r) == 0)
            return 1;
    return 0;
}

int bt_aws_endpoint_resolve(const char *service, const char *region, int fips, int dualstack,
                            int sts_global, bt_aws_endpoint *out, bt_error *err)
{
    const partition *p;
    const char *host_svc = service;
    int is_sts, is_ct, is_s3;

    memset(out, 0, sizeof *out);
    if (!service || !*service)
        return bt_error_set(err, BT_EINVAL, "endpoint: no service");
    if (!region || !*region)
        return bt_error_set(err, BT_ECONFIG, "Invalid Configuration: Missing Region");
    if (!valid_region(region))
        return bt_error_set(err, BT_ECONFIG, "invalid region '%s'", region);
    is_sts = strcmp(service, "sts") == 0;
    is_ct = strcmp(service, "cloudtrail") == 0;
    is_s3 = strcmp(service, "s3") == 0;
    p = find_partition(region);
    snprintf(out->partition, sizeof out->partition, "%s", p->id);
    snprintf(out->signing_name, sizeof out->signing_name, "%s", service);
    snprintf(out->signing_region, sizeof out->signing_region, "%s", region);

    if (is_sts && sts_global && !fips && !dualstack && is_sts_legacy_global(region)) {
        snprintf(out->url, sizeof out->url, "https://sts.amazonaws.com");
        snprintf(out->signing_region, sizeof out->signing_region, "us-east-1");
        return 0;
    }
    if (is_sts && strcmp(region, "aws-global") == 0 && !fips && !dualstack) {
        snprintf(out->url, sizeof out->url, "https://sts.amazonaws.com");
        snprintf(out->signing_region, sizeof out->signing_region, "us-east-1");
        return 0;
    }
    if (is_s3 && fips && strcmp(p->id, "aws-cn") == 0)
        return bt_error_set(err, BT_ECONFIG, "Partition does not support FIPS");
    if (is_s3 && dualstack) {
        /* S3 spells dual-stack as a label: s3[-fips].dualstack.<region>.<dnsSuffix> */
        snprintf(out->url, sizeof out->url, "https://s3%s.dualstack.%s.%s", fips ? "-fips" : "",
                 region, p->dns_suffix);
        return 0;
    }
    if (fips && dualstack) {
        snprintf(out->url, sizeof out->url, "https://%s-fips.%s.%s", host_svc, region,
                 p->dualstack_suffix);
        return 0;
    }
    if (fips) {
        if (is_ct && (strcmp(region, "us-gov-east-1") == 0 || strcmp(region, "us-gov-west-1") == 0))
            snprintf(out->url, sizeof out->url, "https://cloudtrail.%s.amazonaws.com", region);
        else if (is_sts && strcmp(p->id, "aws-us-gov") == 0)
            snprintf(out->url, sizeof out->url, "https://sts.%s.amazonaws.com", region);
        else
            snprintf(out->url, sizeof out->url, "https://%s-fips.%s.%s", host_svc, region,
                     p->dns_suffix);
        return 0;
    }
    if (dualstack) {
        snprintf(out->url, sizeof out->url, "https://%s.%s.%s", host_svc, region,
                 p->dualstack_suffix);
        return 0;
    }
    snprintf(out->url, sizeof out->url, "https://%s.%s.%s", host_svc, region, p->dns_suffix);
    return 0;
}

/* The regions of a partition for "--region all" (lookup.h): the exact list above
 * without the "*-global" pseudo-regions. */
static const char *region_lists[NPART][48];
static pthread_once_t region_lists_once = PTHREAD_ONCE_INIT;

static void fill_region_lists(void)
{
    size_t i, j, n;
    for (i = 0; i < NPART; i++) {
        for (j = n = 0; partitions[i].regions[j] && n + 1 < 48; j++)
            if (!strstr(partitions[i].regions[j], "-global"))
                region_lists[i][n++] = partitions[i].regions[j];
        region_lists[i][n] = NULL;
    }
}

const char *const *bt_aws_partition_regions(const char *part)
{
    size_t i;
    pthread_once(&region_lists_once, fill_region_lists);
    for (i = 0; i < NPART; i++)
        if (strcmp(partitions[i].id, part) == 0)
            return region_lists[i];
    return NULL;
}
