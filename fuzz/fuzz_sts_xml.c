/* fuzz_sts_xml.c - libFuzzer target for the AWS XML reply readers: field extraction
 * (STS credentials, GetCallerIdentity) and error-reply parsing for every protocol. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "aws/aws_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[] = {
        "AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration",
        "Arn",         "Account",         "Code",         "Message"};
    char *vals[8];
    char code[128], msg[400];
    size_t i;

    if (bt_aws_xml_fields((const char *)data, size, names, 8, vals, NULL) == 0) {
        for (i = 0; i < 8; i++) {
            if (vals[i] && names[i][0] == 'E')
                (void)bt_aws_parse_iso8601(vals[i]);
            free(vals[i]);
        }
    }
    bt_aws_parse_error(BT_AWS_P_QUERY, 400, (const char *)data, size, NULL, code, sizeof code, msg,
                       sizeof msg);
    bt_aws_parse_error(BT_AWS_P_JSON, 400, (const char *)data, size, "X:y", code, sizeof code, msg,
                       sizeof msg);
    return 0;
}
