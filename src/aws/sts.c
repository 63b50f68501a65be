/* sts.c - STS GetCallerIdentity (query protocol, XML reply). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aws/aws_int.h"

int bt_sts_get_caller_identity(bt_aws_client *c, bt_sts_identity *out, bt_error *err)
{
    static const char *const names[] = {"Account", "Arn", "UserId"};
    char *vals[3] = {NULL, NULL, NULL};
    bt_aws_response resp;
    int rc, i;

    memset(out, 0, sizeof *out);
    bt_aws_response_init(&resp);
    rc = bt_aws_query_call(c, "sts", "GetCallerIdentity", "2011-06-15", NULL, &resp, err);
    if (rc)
        goto done;
    rc =
        bt_aws_xml_fields(resp.body.data ? resp.body.data : "", resp.body.len, names, 3, vals, err);
    if (rc) {
        bt_error_prefix(err, "GetCallerIdentity reply");
        goto done;
    }
    if (!vals[0] || !vals[1]) {
        rc = bt_error_set(err, BT_EPARSE, "GetCallerIdentity reply has no Account/Arn");
        goto done;
    }
    snprintf(out->account, sizeof out->account, "%s", vals[0]);
    snprintf(out->arn, sizeof out->arn, "%s", vals[1]);
    snprintf(out->user_id, sizeof out->user_id, "%s", vals[2] ? vals[2] : "");
done:
    for (i = 0; i < 3; i++)
        free(vals[i]);
    bt_aws_response_dispose(&resp);
    return rc;
}
