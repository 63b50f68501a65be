/* codebuild.c - CodeBuild BatchGetBuilds (JSON 1.1, target CodeBuild_20161006). */
#include <stdio.h>
#include <string.h>

#include "aws/aws_int.h"
#include "buildtrail/json.h"

int bt_cb_batch_get_builds(bt_aws_client *c, const char *const *ids, size_t nids, bt_arena *arena,
                           bt_cb_builds *out, bt_error *err)
{
    bt_buf body = BT_BUF_INIT;
    bt_aws_response resp;
    bt_json *root = NULL;
    char *text;
    size_t i;
    int rc = 0;

    memset(out, 0, sizeof *out);
    bt_aws_response_init(&resp);
    if (nids < 1 || nids > 100)
        return bt_error_set(err, BT_EINVAL, "BatchGetBuilds takes 1 to 100 build ids, not %zu",
                            nids);
    rc = bt_buf_puts(&body, "{\"ids\":[");
    for (i = 0; i < nids && rc == 0; i++) {
        if (i)
            rc = bt_buf_putc(&body, ',');
        if (rc == 0)
            rc = bt_json_write_string(&body, ids[i], strlen(ids[i]), 0);
    }
    if (rc == 0)
        rc = bt_buf_puts(&body, "]}");
    if (rc) {
        rc = bt_error_set(err, rc, "BatchGetBuilds request: %s", bt_strerror(rc));
        goto done;
    }
    rc = bt_aws_json_call_service(c, "codebuild", "CodeBuild_20161006", "BatchGetBuilds", body.data,
                                  body.len, &resp, err);
    if (rc)
        goto done;
    text = bt_arena_strndup(arena, resp.body.data ? resp.body.data : "", resp.body.len);
    if (!text) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    rc = bt_json_parse(arena, text, resp.body.len, NULL, &root, err);
    if (rc) {
        bt_error_prefix(err, "BatchGetBuilds reply");
        goto done;
    }
    if (root->type != BT_JSON_OBJECT) {
        rc = bt_error_set(err, BT_EPARSE, "BatchGetBuilds reply is not a JSON object");
        goto done;
    }
    out->raw = root;
    out->builds = bt_json_get(root, "builds");
    if (out->builds && out->builds->type != BT_JSON_ARRAY)
        out->builds = NULL;
    out->not_found = bt_json_get(root, "buildsNotFound");
    if (out->not_found && out->not_found->type != BT_JSON_ARRAY)
        out->not_found = NULL;
    snprintf(out->request_id, sizeof out->request_id, "%s", resp.request_id);
done:
    bt_buf_dispose(&body);
    bt_aws_response_dispose(&resp);
    return rc;
}
