/* fuzz_cred_doc.c - libFuzzer target for credential documents (credential_process
 * output, container and IMDS replies) and LookupEvents replies. */
#include <stddef.h>
#include <stdint.h>

#include "aws/aws_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    bt_aws_creds c;
    bt_arena *a;
    bt_ct_lookup_page pg;

    if (bt_cred_parse_json((const char *)data, size, 1, "fuzz", &c, NULL) == 0)
        bt_aws_creds_dispose(&c);
    a = bt_arena_new(0, (size_t)64 << 20);
    if (a) {
        (void)bt_ct_lookup_parse(a, (const char *)data, size, &pg, NULL);
        bt_arena_free(a);
    }
    return 0;
}
