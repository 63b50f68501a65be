/* test_aws_endpoints.c - endpoint resolution for cloudtrail, codebuild, sts and s3
 * against a table generated from botocore's own endpoint rule sets and partitions
 * (every partition, FIPS and dual-stack combination), plus partition lookup and the
 * rule sets' errors. */
#include <string.h>

#include "buildtrail/aws.h"
#include "tharness.h"

typedef struct row {
    const char *svc, *region;
    int fips, dualstack;
    const char *url; /* "" = the rule set answers an error */
} row;

/* Generated with botocore's EndpointProvider (UseGlobalEndpoint false, the AWS CLI v2
 * default). */
static const row rows[] = {
    {"cloudtrail", "us-east-1", 0, 0, "https://cloudtrail.us-east-1.amazonaws.com"},
    {"cloudtrail", "us-east-1", 0, 1, "https://cloudtrail.us-east-1.api.aws"},
    {"cloudtrail", "us-east-1", 1, 0, "https://cloudtrail-fips.us-east-1.amazonaws.com"},
    {"cloudtrail", "us-east-1", 1, 1, "https://cloudtrail-fips.us-east-1.api.aws"},
    {"cloudtrail", "eu-west-3", 0, 0, "https://cloudtrail.eu-west-3.amazonaws.com"},
    {"cloudtrail", "eu-west-3", 0, 1, "https://cloudtrail.eu-west-3.api.aws"},
    {"cloudtrail", "eu-west-3", 1, 0, "https://cloudtrail-fips.eu-west-3.amazonaws.com"},
    {"cloudtrail", "eu-west-3", 1, 1, "https://cloudtrail-fips.eu-west-3.api.aws"},
    {"cloudtrail", "cn-north-1", 0, 0, "https://cloudtrail.cn-north-1.amazonaws.com.cn"},
    {"cloudtrail", "cn-north-1", 0, 1,
     "https://cloudtrail.cn-north-1.api.amazonwebservices.com.cn"},
    {"cloudtrail", "cn-north-1", 1, 0, "https://cloudtrail-fips.cn-north-1.amazonaws.com.cn"},
    {"cloudtrail", "cn-north-1", 1, 1,
     "https://cloudtrail-fips.cn-north-1.api.amazonwebservices.com.cn"},
    {"cloudtrail", "us-gov-west-1", 0, 0, "https://cloudtrail.us-gov-west-1.amazonaws.com"},
    {"cloudtrail", "us-gov-west-1", 0, 1, "https://cloudtrail.us-gov-west-1.api.aws"},
    {"cloudtrail", "us-gov-west-1", 1, 0, "https://cloudtrail.us-gov-west-1.amazonaws.com"},
    {"cloudtrail", "us-gov-west-1", 1, 1, "https://cloudtrail-fips.us-gov-west-1.api.aws"},
    {"cloudtrail", "us-gov-east-1", 0, 0, "https://cloudtrail.us-gov-east-1.amazonaws.com"},
    {"cloudtrail", "us-gov-east-1", 0, 1, "https://cloudtrail.us-gov-east-1.api.aws"},
    {"cloudtrail", "us-gov-east-1", 1, 0, "https://cloudtrail.us-gov-east-1.amazonaws.com"},
    {"cloudtrail", "us-gov-east-1", 1, 1, "https://cloudtrail-fips.us-gov-east-1.api.aws"},
    {"cloudtrail", "us-iso-east-1", 0, 0, "https://cloudtrail.us-iso-east-1.c2s.ic.gov"},
    {"cloudtrail", "us-iso-east-1", 0, 1, "https://cloudtrail.us-iso-east-1.api.aws.ic.gov"},
    {"cloudtrail", "us-iso-east-1", 1, 0, "https://cloudtrail-fips.us-iso-east-1.c2s.ic.gov"},
    {"cloudtrail", "us-iso-east-1", 1, 1, "https://cloudtrail-fips.us-iso-east-1.api.aws.ic.gov"},
    {"cloudtrail", "us-isob-east-1", 0, 0, "https://cloudtrail.us-isob-east-1.sc2s.sgov.gov"},
    {"cloudtrail", "us-isob-east-1", 0, 1, "https://cloudtrail.us-isob-east-1.api.aws.scloud"},
    {"cloudtrail", "us-isob-east-1", 1, 0, "https://cloudtrail-fips.us-isob-east-1.sc2s.sgov.gov"},
    {"cloudtrail", "us-isob-east-1", 1, 1, "https://cloudtrail-fips.us-isob-east-1.api.aws.scloud"},
    {"cloudtrail", "eu-isoe-west-1", 0, 0, "https://cloudtrail.eu-isoe-west-1.cloud.adc-e.uk"},
    {"cloudtrail", "eu-isoe-west-1", 0, 1,
     "https://cloudtrail.eu-isoe-west-1.api.cloud-aws.adc-e.uk"},
    {"cloudtrail", "eu-isoe-west-1", 1, 0, "https://cloudtrail-fips.eu-isoe-west-1.cloud.adc-e.uk"},
    {"cloudtrail", "eu-isoe-west-1", 1, 1,
     "https://cloudtrail-fips.eu-isoe-west-1.api.cloud-aws.adc-e.uk"},
    {"cloudtrail", "us-isof-south-1", 0, 0, "https://cloudtrail.us-isof-south-1.csp.hci.ic.gov"},
    {"cloudtrail", "us-isof-south-1", 0, 1,
     "https://cloudtrail.us-isof-south-1.api.aws.hci.ic.gov"},
    {"cloudtrail", "us-isof-south-1", 1, 0,
     "https://cloudtrail-fips.us-isof-south-1.csp.hci.ic.gov"},
    {"cloudtrail", "us-isof-south-1", 1, 1,
     "https://cloudtrail-fips.us-isof-south-1.api.aws.hci.ic.gov"},
    {"cloudtrail", "eusc-de-east-1", 0, 0, "https://cloudtrail.eusc-de-east-1.amazonaws.eu"},
    {"cloudtrail", "eusc-de-east-1", 0, 1,
     "https://cloudtrail.eusc-de-east-1.api.amazonwebservices.eu"},
    {"cloudtrail", "eusc-de-east-1", 1, 0, "https://cloudtrail-fips.eusc-de-east-1.amazonaws.eu"},
    {"cloudtrail", "eusc-de-east-1", 1, 1,
     "https://cloudtrail-fips.eusc-de-east-1.api.amazonwebservices.eu"},
    {"cloudtrail", "xx-foo-1", 0, 0, "https://cloudtrail.xx-foo-1.amazonaws.com"},
    {"cloudtrail", "xx-foo-1", 0, 1, "https://cloudtrail.xx-foo-1.api.aws"},
    {"cloudtrail", "xx-foo-1", 1, 0, "https://cloudtrail-fips.xx-foo-1.amazonaws.com"},
    {"cloudtrail", "xx-foo-1", 1, 1, "https://cloudtrail-fips.xx-foo-1.api.aws"},
    {"cloudtrail", "ap-southeast-7", 0, 0, "https://cloudtrail.ap-southeast-7.amazonaws.com"},
    {"cloudtrail", "ap-southeast-7", 0, 1, "https://cloudtrail.ap-southeast-7.api.aws"},
    {"cloudtrail", "ap-southeast-7", 1, 0, "https://cloudtrail-fips.ap-southeast-7.amazonaws.com"},
    {"cloudtrail", "ap-southeast-7", 1, 1, "https://cloudtrail-fips.ap-southeast-7.api.aws"},
    {"cloudtrail", "mx-central-1", 0, 0, "https://cloudtrail.mx-central-1.amazonaws.com"},
    {"cloudtrail", "mx-central-1", 0, 1, "https://cloudtrail.mx-central-1.api.aws"},
    {"cloudtrail", "mx-central-1", 1, 0, "https://cloudtrail-fips.mx-central-1.amazonaws.com"},
    {"cloudtrail", "mx-central-1", 1, 1, "https://cloudtrail-fips.mx-central-1.api.aws"},
    {"codebuild", "us-east-1", 0, 0, "https://codebuild.us-east-1.amazonaws.com"},
    {"codebuild", "us-east-1", 0, 1, "https://codebuild.us-east-1.api.aws"},
    {"codebuild", "us-east-1", 1, 0, "https://codebuild-fips.us-east-1.amazonaws.com"},
    {"codebuild", "us-east-1", 1, 1, "https://codebuild-fips.us-east-1.api.aws"},
    {"codebuild", "eu-west-3", 0, 0, "https://codebuild.eu-west-3.amazonaws.com"},
    {"codebuild", "eu-west-3", 0, 1, "https://codebuild.eu-west-3.api.aws"},
    {"codebuild", "eu-west-3", 1, 0, "https://codebuild-fips.eu-west-3.amazonaws.com"},
    {"codebuild", "eu-west-3", 1, 1, "https://codebuild-fips.eu-west-3.api.aws"},
    {"codebuild", "cn-north-1", 0, 0, "https://codebuild.cn-north-1.amazonaws.com.cn"},
    {"codebuild", "cn-north-1", 0, 1, "https://codebuild.cn-north-1.api.amazonwebservices.com.cn"},
    {"codebuild", "cn-north-1", 1, 0, "https://codebuild-fips.cn-north-1.amazonaws.com.cn"},
    {"codebuild", "cn-north-1", 1, 1,
     "https://codebuild-fips.cn-north-1.api.amazonwebservices.com.cn"},
    {"codebuild", "us-gov-west-1", 0, 0, "https://codebuild.us-gov-west-1.amazonaws.com"},
    {"codebuild", "us-gov-west-1", 0, 1, "https://codebuild.us-gov-west-1.api.aws"},
    {"codebuild", "us-gov-west-1", 1, 0, "https://codebuild-fips.us-gov-west-1.amazonaws.com"},
    {"codebuild", "us-gov-west-1", 1, 1, "https://codebuild-fips.us-gov-west-1.api.aws"},
    {"codebuild", "us-gov-east-1", 0, 0, "https://codebuild.us-gov-east-1.amazonaws.com"},
    {"codebuild", "us-gov-east-1", 0, 1, "https://codebuild.us-gov-east-1.api.aws"},
    {"codebuild", "us-gov-east-1", 1, 0, "https://codebuild-fips.us-gov-east-1.amazonaws.com"},
    {"codebuild", "us-gov-east-1", 1, 1, "https://codebuild-fips.us-gov-east-1.api.aws"},
    {"codebuild", "us-iso-east-1", 0, 0, "https://codebuild.us-iso-east-1.c2s.ic.gov"},
    {"codebuild", "us-iso-east-1", 0, 1, "https://codebuild.us-iso-east-1.api.aws.ic.gov"},
    {"codebuild", "us-iso-east-1", 1, 0, "https://codebuild-fips.us-iso-east-1.c2s.ic.gov"},
    {"codebuild", "us-iso-east-1", 1, 1, "https://codebuild-fips.us-iso-east-1.api.aws.ic.gov"},
    {"codebuild", "us-isob-east-1", 0, 0, "https://codebuild.us-isob-east-1.sc2s.sgov.gov"},
    {"codebuild", "us-isob-east-1", 0, 1, "https://codebuild.us-isob-east-1.api.aws.scloud"},
    {"codebuild", "us-isob-east-1", 1, 0, "https://codebuild-fips.us-isob-east-1.sc2s.sgov.gov"},
    {"codebuild", "us-isob-east-1", 1, 1, "https://codebuild-fips.us-isob-east-1.api.aws.scloud"},
    {"codebuild", "eu-isoe-west-1", 0, 0, "https://codebuild.eu-isoe-west-1.cloud.adc-e.uk"},
    {"codebuild", "eu-isoe-west-1", 0, 1,
     "https://codebuild.eu-isoe-west-1.api.cloud-aws.adc-e.uk"},
    {"codebuild", "eu-isoe-west-1", 1, 0, "https://codebuild-fips.eu-isoe-west-1.cloud.adc-e.uk"},
    {"codebuild", "eu-isoe-west-1", 1, 1,
     "https://codebuild-fips.eu-isoe-west-1.api.cloud-aws.adc-e.uk"},
    {"codebuild", "us-isof-south-1", 0, 0, "https://codebuild.us-isof-south-1.csp.hci.ic.gov"},
    {"codebuild", "us-isof-south-1", 0, 1, "https://codebuild.us-isof-south-1.api.aws.hci.ic.gov"},
    {"codebuild", "us-isof-south-1", 1, 0, "https://codebuild-fips.us-isof-south-1.csp.hci.ic.gov"},
    {"codebuild", "us-isof-south-1", 1, 1,
     "https://codebuild-fips.us-isof-south-1.api.aws.hci.ic.gov"},
    {"codebuild", "eusc-de-east-1", 0, 0, "https://codebuild.eusc-de-east-1.amazonaws.eu"},
    {"codebuild", "eusc-de-east-1", 0, 1,
     "https://codebuild.eusc-de-east-1.api.amazonwebservices.eu"},
    {"codebuild", "eusc-de-east-1", 1, 0, "https://codebuild-fips.eusc-de-east-1.amazonaws.eu"},
    {"codebuild", "eusc-de-east-1", 1, 1,
     "https://codebuild-fips.eusc-de-east-1.api.amazonwebservices.eu"},
    {"codebuild", "xx-foo-1", 0, 0, "https://codebuild.xx-foo-1.amazonaws.com"},
    {"codebuild", "xx-foo-1", 0, 1, "https://codebuild.xx-foo-1.api.aws"},
    {"codebuild", "xx-foo-1", 1, 0, "https://codebuild-fips.xx-foo-1.amazonaws.com"},
    {"codebuild", "xx-foo-1", 1, 1, "https://codebuild-fips.xx-foo-1.api.aws"},
    {"codebuild", "ap-southeast-7", 0, 0, "https://codebuild.ap-southeast-7.amazonaws.com"},
    {"codebuild", "ap-southeast-7", 0, 1, "https://codebuild.ap-southeast-7.api.aws"},
    {"codebuild", "ap-southeast-7", 1, 0, "https://codebuild-fips.ap-southeast-7.amazonaws.com"},
    {"codebuild", "ap-southeast-7", 1, 1, "https://codebuild-fips.ap-southeast-7.api.aws"},
    {"codebuild", "mx-central-1", 0, 0, "https://codebuild.mx-central-1.amazonaws.com"},
    {"codebuild", "mx-central-1", 0, 1, "https://codebuild.mx-central-1.api.aws"},
    {"codebuild", "mx-central-1", 1, 0, "https://codebuild-fips.mx-central-1.amazonaws.com"},
    {"codebuild", "mx-central-1", 1, 1, "https://codebuild-fips.mx-central-1.api.aws"},
    {"sts", "us-east-1", 0, 0, "https://sts.us-east-1.amazonaws.com"},
    {"sts", "us-east-1", 0, 1, "https://sts.us-east-1.api.aws"},
    {"sts", "us-east-1", 1, 0, "https://sts-fips.us-east-1.amazonaws.com"},
    {"sts", "us-east-1", 1, 1, "https://sts-fips.us-east-1.api.aws"},
    {"sts", "eu-west-3", 0, 0, "https://sts.eu-west-3.amazonaws.com"},
    {"sts", "eu-west-3", 0, 1, "https://sts.eu-west-3.api.aws"},
    {"sts", "eu-west-3", 1, 0, "https://sts-fips.eu-west-3.amazonaws.com"},
    {"sts", "eu-west-3", 1, 1, "https://sts-fips.eu-west-3.api.aws"},
    {"sts", "cn-north-1", 0, 0, "https://sts.cn-north-1.amazonaws.com.cn"},
    {"sts", "cn-north-1", 0, 1, "https://sts.cn-north-1.api.amazonwebservices.com.cn"},
    {"sts", "cn-north-1", 1, 0, "https://sts-fips.cn-north-1.amazonaws.com.cn"},
    {"sts", "cn-north-1", 1, 1, "https://sts-fips.cn-north-1.api.amazonwebservices.com.cn"},
    {"sts", "us-gov-west-1", 0, 0, "https://sts.us-gov-west-1.amazonaws.com"},
    {"sts", "us-gov-west-1", 0, 1, "https://sts.us-gov-west-1.api.aws"},
    {"sts", "us-gov-west-1", 1, 0, "https://sts.us-gov-west-1.amazonaws.com"},
    {"sts", "us-gov-west-1", 1, 1, "https://sts-fips.us-gov-west-1.api.aws"},
    {"sts", "us-gov-east-1", 0, 0, "https://sts.us-gov-east-1.amazonaws.com"},
    {"sts", "us-gov-east-1", 0, 1, "https://sts.us-gov-east-1.api.aws"},
    {"sts", "us-gov-east-1", 1, 0, "https://sts.us-gov-east-1.amazonaws.com"},
    {"sts", "us-gov-east-1", 1, 1, "https://sts-fips.us-gov-east-1.api.aws"},
    {"sts", "us-iso-east-1", 0, 0, "https://sts.us-iso-east-1.c2s.ic.gov"},
    {"sts", "us-iso-east-1", 0, 1, "https://sts.us-iso-east-1.api.aws.ic.gov"},
    {"sts", "us-iso-east-1", 1, 0, "https://sts-fips.us-iso-east-1.c2s.ic.gov"},
    {"sts", "us-iso-east-1", 1, 1, "https://sts-fips.us-iso-east-1.api.aws.ic.gov"},
    {"sts", "us-isob-east-1", 0, 0, "https://sts.us-isob-east-1.sc2s.sgov.gov"},
    {"sts", "us-isob-east-1", 0, 1, "https://sts.us-isob-east-1.api.aws.scloud"},
    {"sts", "us-isob-east-1", 1, 0, "https://sts-fips.us-isob-east-1.sc2s.sgov.gov"},
    {"sts", "us-isob-east-1", 1, 1, "https://sts-fips.us-isob-east-1.api.aws.scloud"},
    {"sts", "eu-isoe-west-1", 0, 0, "https://sts.eu-isoe-west-1.cloud.adc-e.uk"},
    {"sts", "eu-isoe-west-1", 0, 1, "https://sts.eu-isoe-west-1.api.cloud-aws.adc-e.uk"},
    {"sts", "eu-isoe-west-1", 1, 0, "https://sts-fips.eu-isoe-west-1.cloud.adc-e.uk"},
    {"sts", "eu-isoe-west-1", 1, 1, "https://sts-fips.eu-isoe-west-1.api.cloud-aws.adc-e.uk"},
    {"sts", "us-isof-south-1", 0, 0, "https://sts.us-isof-south-1.csp.hci.ic.gov"},
    {"sts", "us-isof-south-1", 0, 1, "https://sts.us-isof-south-1.api.aws.hci.ic.gov"},
    {"sts", "us-isof-south-1", 1, 0, "https://sts-fips.us-isof-south-1.csp.hci.ic.gov"},
    {"sts", "us-isof-south-1", 1, 1, "https://sts-fips.us-isof-south-1.api.aws.hci.ic.gov"},
    {"sts", "eusc-de-east-1", 0, 0, "https://sts.eusc-de-east-1.amazonaws.eu"},
    {"sts", "eusc-de-east-1", 0, 1, "https://sts.eusc-de-east-1.api.amazonwebservices.eu"},
    {"sts", "eusc-de-east-1", 1, 0, "https://sts-fips.eusc-de-east-1.amazonaws.eu"},
    {"sts", "eusc-de-east-1", 1, 1, "https://sts-fips.eusc-de-east-1.api.amazonwebservices.eu"},
    {"sts", "xx-foo-1", 0, 0, "https://sts.xx-foo-1.amazonaws.com"},
    {"sts", "xx-foo-1", 0, 1, "https://sts.xx-foo-1.api.aws"},
    {"sts", "xx-foo-1", 1, 0, "https://sts-fips.xx-foo-1.amazonaws.com"},
    {"sts", "xx-foo-1", 1, 1, "https://sts-fips.xx-foo-1.api.aws"},
    {"sts", "ap-southeast-7", 0, 0, "https://sts.ap-southeast-7.amazonaws.com"},
    {"sts", "ap-southeast-7", 0, 1, "https://sts.ap-southeast-7.api.aws"},
    {"sts", "ap-southeast-7", 1, 0, "https://sts-fips.ap-southeast-7.amazonaws.com"},
    {"sts", "ap-southeast-7", 1, 1, "https://sts-fips.ap-southeast-7.api.aws"},
    {"sts", "mx-central-1", 0, 0, "https://sts.mx-central-1.amazonaws.com"},
    {"sts", "mx-central-1", 0, 1, "https://sts.mx-central-1.api.aws"},
    {"sts", "mx-central-1", 1, 0, "https://sts-fips.mx-central-1.amazonaws.com"},
    {"sts", "mx-central-1", 1, 1, "https://sts-fips.mx-central-1.api.aws"},
    {"s3", "us-east-1", 0, 0, "https://s3.us-east-1.amazonaws.com"},
    {"s3", "us-east-1", 0, 1, "https://s3.dualstack.us-east-1.amazonaws.com"},
    {"s3", "us-east-1", 1, 0, "https://s3-fips.us-east-1.amazonaws.com"},
    {"s3", "us-east-1", 1, 1, "https://s3-fips.dualstack.us-east-1.amazonaws.com"},
    {"s3", "eu-west-3", 0, 0, "https://s3.eu-west-3.amazonaws.com"},
    {"s3", "eu-west-3", 0, 1, "https://s3.dualstack.eu-west-3.amazonaws.com"},
    {"s3", "eu-west-3", 1, 0, "https://s3-fips.eu-west-3.amazonaws.com"},
    {"s3", "eu-west-3", 1, 1, "https://s3-fips.dualstack.eu-west-3.amazonaws.com"},
    {"s3", "cn-north-1", 0, 0, "https://s3.cn-north-1.amazonaws.com.cn"},
    {"s3", "cn-north-1", 0, 1, "https://s3.dualstack.cn-north-1.amazonaws.com.cn"},
    {"s3", "cn-north-1", 1, 0, ""},
    {"s3", "cn-north-1", 1, 1, ""},
    {"s3", "us-gov-west-1", 0, 0, "https://s3.us-gov-west-1.amazonaws.com"},
    {"s3", "us-gov-west-1", 0, 1, "https://s3.dualstack.us-gov-west-1.amazonaws.com"},
    {"s3", "us-gov-west-1", 1, 0, "https://s3-fips.us-gov-west-1.amazonaws.com"},
    {"s3", "us-gov-west-1", 1, 1, "https://s3-fips.dualstack.us-gov-west-1.amazonaws.com"},
    {"s3", "us-gov-east-1", 0, 0, "https://s3.us-gov-east-1.amazonaws.com"},
    {"s3", "us-gov-east-1", 0, 1, "https://s3.dualstack.us-gov-east-1.amazonaws.com"},
    {"s3", "us-gov-east-1", 1, 0, "https://s3-fips.us-gov-east-1.amazonaws.com"},
    {"s3", "us-gov-east-1", 1, 1, "https://s3-fips.dualstack.us-gov-east-1.amazonaws.com"},
    {"s3", "us-iso-east-1", 0, 0, "https://s3.us-iso-east-1.c2s.ic.gov"},
    {"s3", "us-iso-east-1", 0, 1, "https://s3.dualstack.us-iso-east-1.c2s.ic.gov"},
    {"s3", "us-iso-east-1", 1, 0, "https://s3-fips.us-iso-east-1.c2s.ic.gov"},
    {"s3", "us-iso-east-1", 1, 1, "https://s3-fips.dualstack.us-iso-east-1.c2s.ic.gov"},
    {"s3", "us-isob-east-1", 0, 0, "https://s3.us-isob-east-1.sc2s.sgov.gov"},
    {"s3", "us-isob-east-1", 0, 1, "https://s3.dualstack.us-isob-east-1.sc2s.sgov.gov"},
    {"s3", "us-isob-east-1", 1, 0, "https://s3-fips.us-isob-east-1.sc2s.sgov.gov"},
    {"s3", "us-isob-east-1", 1, 1, "https://s3-fips.dualstack.us-isob-east-1.sc2s.sgov.gov"},
    {"s3", "eu-isoe-west-1", 0, 0, "https://s3.eu-isoe-west-1.cloud.adc-e.uk"},
    {"s3", "eu-isoe-west-1", 0, 1, "https://s3.dualstack.eu-isoe-west-1.cloud.adc-e.uk"},
    {"s3", "eu-isoe-west-1", 1, 0, "https://s3-fips.eu-isoe-west-1.cloud.adc-e.uk"},
    {"s3", "eu-isoe-west-1", 1, 1, "https://s3-fips.dualstack.eu-isoe-west-1.cloud.adc-e.uk"},
    {"s3", "us-isof-south-1", 0, 0, "https://s3.us-isof-south-1.csp.hci.ic.gov"},
    {"s3", "us-isof-south-1", 0, 1, "https://s3.dualstack.us-isof-south-1.csp.hci.ic.gov"},
    {"s3", "us-isof-south-1", 1, 0, "https://s3-fips.us-isof-south-1.csp.hci.ic.gov"},
    {"s3", "us-isof-south-1", 1, 1, "https://s3-fips.dualstack.us-isof-south-1.csp.hci.ic.gov"},
    {"s3", "eusc-de-east-1", 0, 0, "https://s3.eusc-de-east-1.amazonaws.eu"},
    {"s3", "eusc-de-east-1", 0, 1, "https://s3.dualstack.eusc-de-east-1.amazonaws.eu"},
    {"s3", "eusc-de-east-1", 1, 0, "https://s3-fips.eusc-de-east-1.amazonaws.eu"},
    {"s3", "eusc-de-east-1", 1, 1, "https://s3-fips.dualstack.eusc-de-east-1.amazonaws.eu"},
    {"s3", "xx-foo-1", 0, 0, "https://s3.xx-foo-1.amazonaws.com"},
    {"s3", "xx-foo-1", 0, 1, "https://s3.dualstack.xx-foo-1.amazonaws.com"},
    {"s3", "xx-foo-1", 1, 0, "https://s3-fips.xx-foo-1.amazonaws.com"},
    {"s3", "xx-foo-1", 1, 1, "https://s3-fips.dualstack.xx-foo-1.amazonaws.com"},
    {"s3", "ap-southeast-7", 0, 0, "https://s3.ap-southeast-7.amazonaws.com"},
    {"s3", "ap-southeast-7", 0, 1, "https://s3.dualstack.ap-southeast-7.amazonaws.com"},
    {"s3", "ap-southeast-7", 1, 0, "https://s3-fips.ap-southeast-7.amazonaws.com"},
    {"s3", "ap-southeast-7", 1, 1, "https://s3-fips.dualstack.ap-southeast-7.amazonaws.com"},
    {"s3", "mx-central-1", 0, 0, "https://s3.mx-central-1.amazonaws.com"},
    {"s3", "mx-central-1", 0, 1, "https://s3.dualstack.mx-central-1.amazonaws.com"},
    {"s3", "mx-central-1", 1, 0, "https://s3-fips.mx-central-1.amazonaws.com"},
    {"s3", "mx-central-1", 1, 1, "https://s3-fips.dualstack.mx-central-1.amazonaws.com"},
};

static void test_botocore_table(void)
{
    size_t i;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        bt_aws_endpoint ep;
        bt_error err = BT_ERROR_INIT;
        int rc = bt_aws_endpoint_resolve(rows[i].svc, rows[i].region, rows[i].fips,
                                         rows[i].dualstack, 0, &ep, &err);
        if (rows[i].url[0]) {
            CHECK_INT(rc, 0);
            CHECK_STR(ep.url, rows[i].url);
            CHECK_STR(ep.signing_name, rows[i].svc);
        } else {
            CHECK_INT(rc, BT_ECONFIG);
        }
    }
}

static void test_partitions(void)
{
    CHECK_STR(bt_aws_partition("us-east-1"), "aws");
    CHECK_STR(bt_aws_partition("ap-southeast-7"), "aws");
    CHECK_STR(bt_aws_partition("il-central-9"), "aws");
    CHECK_STR(bt_aws_partition("cn-northwest-1"), "aws-cn");
    CHECK_STR(bt_aws_partition("us-gov-west-1"), "aws-us-gov");
    CHECK_STR(bt_aws_partition("us-gov-central-7"), "aws-us-gov");
    CHECK_STR(bt_aws_partition("us-iso-east-1"), "aws-iso");
    CHECK_STR(bt_aws_partition("us-isob-east-1"), "aws-iso-b");
    CHECK_STR(bt_aws_partition("eu-isoe-west-1"), "aws-iso-e");
    CHECK_STR(bt_aws_partition("us-isof-south-1"), "aws-iso-f");
    CHECK_STR(bt_aws_partition("eusc-de-east-1"), "aws-eusc");
    CHECK_STR(bt_aws_partition("mars-1"), "aws");
    CHECK_STR(bt_aws_partition(NULL), "aws");
}

static void test_sts_global_and_errors(void)
{
    bt_aws_endpoint ep;
    bt_error err = BT_ERROR_INIT;
    CHECK_INT(bt_aws_endpoint_resolve("sts", "eu-west-1", 0, 0, 1, &ep, &err), 0);
    CHECK_STR(ep.url, "https://sts.amazonaws.com");
    CHECK_STR(ep.signing_region, "us-east-1");
    CHECK_INT(bt_aws_endpoint_resolve("sts", "ap-east-1", 0, 0, 1, &ep, &err), 0);
    CHECK_STR(ep.url, "https://sts.ap-east-1.amazonaws.com");
    CHECK_INT(bt_aws_endpoint_resolve("sts", "aws-global", 0, 0, 0, &ep, &err), 0);
    CHECK_STR(ep.url, "https://sts.amazonaws.com");
    CHECK_INT(bt_aws_endpoint_resolve("cloudtrail", NULL, 0, 0, 0, &ep, &err), BT_ECONFIG);
    CHECK_STR(err.msg, "Invalid Configuration: Missing Region");
    CHECK_INT(bt_aws_endpoint_resolve("cloudtrail", "us east 1", 0, 0, 0, &ep, &err), BT_ECONFIG);
    CHECK_INT(bt_aws_endpoint_resolve("cloudtrail", "a.b", 0, 0, 0, &ep, &err), BT_ECONFIG);
    CHECK_INT(bt_aws_endpoint_resolve(NULL, "us-east-1", 0, 0, 0, &ep, &err), BT_EINVAL);
}

BT_TEST_MAIN(test_botocore_table, test_partitions, test_sts_global_and_errors)
