/* sqs.c - Amazon SQS (JSON protocol: X-Amz-Target AmazonSQS.<Op>, x-amz-json-1.0) and SNS
 * Publish (query protocol) over the request engine: queue locations (URL or ARN),
 * GetQueueUrl, ReceiveMessage, DeleteMessageBatch, ChangeMessageVisibility, SendMessage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/aws_int.h"
#include "buildtrail/aws_sqs.h"
#include "buildtrail/json.h"

struct bt_sqs_queue {
    bt_aws_client *c; /* borrowed */
    bt_aws_endpoint ep;
    char url[1024];
    char location[256];
};

/* ---------------------------------------------------------------- names -- */

/* Splits "arn:PART:SVC:REGION:ACCOUNT:NAME": 0, or -1 when it is not one of svc. */
static int split_arn(const char *arn, const char *svc, char *region, size_t rcap, char *account,
                     size_t acap, char *name, size_t ncap)
{
    const char *f[6];
    const char *p = arn;
    size_t i, sl = strlen(svc);
    if (strncmp(arn, "arn:", 4) != 0)
        return -1;
    for (i = 0; i < 6; i++) {
        f[i] = p;
        if (i < 5 && !(p = strchr(p, ':')))
            return -1;
        if (i < 5)
            p++;
    }
    if (strncmp(f[2], svc, sl) != 0 || f[2][sl] != ':' || f[3] == f[4] - 1 || f[4] + 13 != f[5] ||
        !*f[5] || strchr(f[5], ':') || strchr(f[5], '/'))
        return -1;
    for (i = 0; i < 12; i++)
        if (f[4][i] < '0' || f[4][i] > '9')
            return -1;
    snprintf(region, rcap, "%.*s", (int)(f[4] - 1 - f[3]), f[3]);
    if (account)
        snprintf(account, acap, "%.12s", f[4]);
    if (name)
        snprintf(name, ncap, "%s", f[5]);
    return 0;
}

/* The region of an AWS queue host: sqs.REGION.amazonaws.com[.cn], REGION.queue.amazonaws.com */
static void region_of_host(const char *host, size_t hl, char *region, size_t cap)
{
    const char *dot;
    region[0] = 0;
    if (hl > 4 && strncmp(host, "sqs.", 4) == 0 && (dot = memchr(host + 4, '.', hl - 4)) &&
        strncmp(dot, ".amazonaws.com", 14) == 0)
        snprintf(region, cap, "%.*s", (int)(dot - host - 4), host + 4);
    else if ((dot = memchr(host, '.', hl)) && strncmp(dot, ".queue.amazonaws.com", 20) == 0)
        snprintf(region, cap, "%.*s", (int)(dot - host), host);
}

int bt_sqs_parse(const char *location, bt_sqs_ref *out, bt_error *err)
{
    const char *s = location, *host, *path, *acct, *name;
    size_t hl;
    memset(out, 0, sizeof *out);
    if (strncmp(s, "sqs://", 6) == 0)
        s += 6;
    if (strncmp(s, "arn:", 4) == 0) {
        if (split_arn(s, "sqs", out->region, sizeof out->region, out->account, sizeof out->account,
                      out->name, sizeof out->name))
            return bt_error_set(err, BT_EINVAL,
                                "'%.200s': not a queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)",
                                location);
        return 0;
    }
    if (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0)
        snprintf(out->url, sizeof out->url, "%s", s);
    else
        snprintf(out->url, sizeof out->url, "https://%s", s);
    host = strstr(out->url, "://") + 3;
    hl = strcspn(host, "/?#");
    path = host + hl;
    if (!hl || *path != '/')
        return bt_error_set(err, BT_EINVAL,
                            "'%.200s': not a queue URL (sqs://https://HOST/ACCOUNT/NAME or the "
                            "queue's ARN)",
                            location);
    acct = path + 1;
    name = strchr(acct, '/');
    if (!name || !name[1] || strchr(name + 1, '/') || strpbrk(acct, "?#"))
        return bt_error_set(err, BT_EINVAL,
                            "'%.200s': not a queue URL (sqs://https://HOST/ACCOUNT/NAME or the "
                            "queue's ARN)",
                            location);
    snprintf(out->account, sizeof out->account, "%.*s",
             (int)((size_t)(name - acct) < sizeof out->account ? name - acct : 0), acct);
    snprintf(out->name, sizeof out->name, "%s", name + 1);
    region_of_host(host, hl, out->region, sizeof out->region);
    return 0;
}

/* ---------------------------------------------------------------- calls -- */

/* One SQS JSON call; on success resp holds the reply. */
static int sqs_call(bt_sqs_queue *q, const char *op, const bt_buf *body, bt_aws_response *resp,
                    bt_error *err)
{
    char target[64];
    bt_http_header h[2];
    int rc;
    snprintf(target, sizeof target, "AmazonSQS.%s", op);
    h[0].name = "Content-Type";
    h[0].value = "application/x-amz-json-1.0";
    h[1].name = "X-Amz-Target";
    h[1].value = target;
    rc = bt_aws_client_send(q->c, &q->ep, op, "POST", "/", NULL, h, 2, body->data, body->len,
                            BT_AWS_P_JSON, 0, resp, err);
    if (rc)
        bt_error_prefix(err, "%s", q->location);
    return rc;
}

static int not_found(const bt_error *e)
{
    return e->code == BT_EAWS &&
           (strcmp(e->aws_code, "QueueDoesNotExist") == 0 ||
            strcmp(e->aws_code, "AWS.SimpleQueueService.NonExistentQueue") == 0 ||
            strcmp(e->aws_code, "NonExistentQueue") == 0);
}

/* Parses resp's body into *root (an object) in arena. */
static int reply(bt_arena *a, const bt_aws_response *resp, const char *op, bt_json **root,
                 bt_error *err)
{
    char *text = bt_arena_strndup(a, resp->body.data ? resp->body.data : "", resp->body.len);
    if (!text)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if (bt_json_parse(a, text, resp->body.len, NULL, root, err) || (*root)->type != BT_JSON_OBJECT)
        return bt_error_set(err, BT_EPARSE, "%s reply is not a JSON object", op);
    return 0;
}

/* The endpoint: configured, else a non-AWS queue URL's origin, else the region's. */
static int queue_endpoint(bt_sqs_queue *q, const bt_sqs_ref *r, bt_error *err)
{
    int custom = 0, rc;
    const char *host;
    size_t hl;
    rc = bt_aws_client_endpoint_in(q->c, "sqs", r->region[0] ? r->region : NULL, &q->ep, &custom,
                                   err);
    if (custom || !r->url[0])
        return rc;
    host = strstr(r->url, "://") + 3;
    hl = strcspn(host, "/?#");
    if ((hl > 14 && strncasecmp(host + hl - 14, ".amazonaws.com", 14) == 0) ||
        (hl > 17 && strncasecmp(host + hl - 17, ".amazonaws.com.cn", 17) == 0))
        return rc;
    /* a local SQS-compatible server named by its URL */
    memset(&q->ep, 0, sizeof q->ep);
    snprintf(q->ep.url, sizeof q->ep.url, "%.*s", (int)(host + hl - r->url), r->url);
    snprintf(q->ep.signing_name, sizeof q->ep.signing_name, "sqs");
    snprintf(q->ep.signing_region, sizeof q->ep.signing_region, "%s",
             bt_aws_client_region(q->c) ? bt_aws_client_region(q->c) : "us-east-1");
    return 0;
}

int bt_sqs_queue_open(bt_aws_client *c, const char *location, bt_sqs_queue **out, bt_error *err)
{
    bt_sqs_ref r;
    bt_sqs_queue *q;
    bt_buf body = BT_BUF_INIT;
    bt_aws_response resp;
    bt_arena *a = NULL;
    bt_json *root;
    const char *url;
    int rc;

    *out = NULL;
    bt_aws_response_init(&resp);
    if ((rc = bt_sqs_parse(location, &r, err)))
        return rc;
    if (!(q = calloc(1, sizeof *q)) || !(a = bt_arena_new(0, 0))) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    q->c = c;
    snprintf(q->location, sizeof q->location, "%s", location);
    if ((rc = queue_endpoint(q, &r, err)))
        goto done;
    rc = bt_buf_puts(&body, "{\"QueueName\":");
    if (!rc)
        rc = bt_json_write_string(&body, r.name, strlen(r.name), 0);
    if (!rc && r.account[0])
        rc = bt_buf_printf(&body, ",\"QueueOwnerAWSAccountId\":\"%s\"", r.account);
    if (!rc)
        rc = bt_buf_putc(&body, '}');
    if (rc) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = sqs_call(q, "GetQueueUrl", &body, &resp, err))) {
        if (not_found(err))
            rc = bt_error_set(err, BT_ENOTFOUND, "'%.200s': the queue does not exist", location);
        goto done;
    }
    if ((rc = reply(a, &resp, "GetQueueUrl", &root, err)))
        goto done;
    url = bt_json_get_str(root, "QueueUrl");
    if (!url || !*url) {
        rc = bt_error_set(err, BT_EPARSE, "GetQueueUrl reply without QueueUrl");
        goto done;
    }
    snprintf(q->url, sizeof q->url, "%s", url);
    *out = q;
    q = NULL;
done:
    bt_buf_dispose(&body);
    bt_aws_response_dispose(&resp);
    bt_arena_free(a);
    free(q);
    return rc;
}

void bt_sqs_queue_free(bt_sqs_queue *q)
{
    free(q);
}

const char *bt_sqs_queue_url(const bt_sqs_queue *q)
{
    return q->url;
}

/* {"QueueUrl":"..." (the rest appended by the caller) */
static int body_start(const bt_sqs_queue *q, bt_buf *b)
{
    return bt_buf_puts(b, "{\"QueueUrl\":") || bt_json_write_string(b, q->url, strlen(q->url), 0)
               ? BT_ENOMEM
               : 0;
}

int bt_sqs_receive_parse(bt_arena *arena, const bt_aws_response *resp, bt_sqs_message **msgs,
                         size_t *n, bt_error *err)
{
    bt_json *root, *list;
    size_t i;
    int rc;
    if ((rc = reply(arena, resp, "ReceiveMessage", &root, err)))
        return rc;
    list = bt_json_get(root, "Messages");
    if (!list || list->type != BT_JSON_ARRAY || !list->len)
        return 0;
    if (!(*msgs = bt_arena_calloc(arena, list->len * sizeof **msgs)))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    for (i = 0; i < list->len; i++) {
        const bt_json *m = list->u.items[i], *b, *attrs;
        bt_sqs_message *o = &(*msgs)[*n];
        const char *cnt, *sent;
        if (m->type != BT_JSON_OBJECT || !(o->receipt = bt_json_get_str(m, "ReceiptHandle")))
            continue;
        o->id = bt_json_get_str(m, "MessageId");
        if (!o->id)
            o->id = "";
        b = bt_json_get(m, "Body");
        o->body = b && b->type == BT_JSON_STRING ? b->u.str : "";
        o->body_len = b && b->type == BT_JSON_STRING ? b->len : 0;
        attrs = bt_json_get(m, "Attributes");
        cnt = attrs ? bt_json_get_str(attrs, "ApproximateReceiveCount") : NULL;
        o->receive_count = cnt ? atoi(cnt) : 0;
        sent = attrs ? bt_json_get_str(attrs, "SentTimestamp") : NULL;
        o->sent_ms = sent ? strtoll(sent, NULL, 10) : 0;
        if (o->sent_ms < 0)
            o->sent_ms = 0;
        (*n)++;
    }
    return 0;
}

int bt_sqs_receive(bt_sqs_queue *q, int max, int wait_s, int visibility_s, bt_arena *arena,
                   bt_sqs_message **msgs, size_t *n, bt_error *err)
{
    bt_buf body = BT_BUF_INIT;
    bt_aws_response resp;
    int rc;
    *msgs = NULL;
    *n = 0;
    if (max < 1 || max > 10 || wait_s < 0 || wait_s > 20 || visibility_s < 0)
        return bt_error_set(err, BT_EINVAL, "ReceiveMessage: bad arguments");
    bt_aws_response_init(&resp);
    if (body_start(q, &body) ||
        bt_buf_printf(&body,
                      ",\"MaxNumberOfMessages\":%d,\"WaitTimeSeconds\":%d,"
                      "\"MessageSystemAttributeNames\":[\"ApproximateReceiveCount\","
                      "\"SentTimestamp\"]",
                      max, wait_s) ||
        (visibility_s && bt_buf_printf(&body, ",\"VisibilityTimeout\":%d", visibility_s)) ||
        bt_buf_putc(&body, '}')) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = sqs_call(q, "ReceiveMessage", &body, &resp, err)) == 0)
        rc = bt_sqs_receive_parse(arena, &resp, msgs, n, err);
done:
    bt_buf_dispose(&body);
    bt_aws_response_dispose(&resp);
    return rc;
}

/* The entries of a DeleteMessageBatch reply's Failed list. */
static int delete_failed(const bt_aws_response *resp, size_t *failed, bt_error *err)
{
    bt_arena *a = bt_arena_new(0, 0);
    bt_json *root, *f;
    int rc;
    if (!a)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if ((rc = reply(a, resp, "DeleteMessageBatch", &root, err)) == 0 &&
        (f = bt_json_get(root, "Failed")) && f->type == BT_JSON_ARRAY && f->len) {
        const bt_json *e = f->u.items[0];
        const char *code = e->type == BT_JSON_OBJECT ? bt_json_get_str(e, "Code") : NULL;
        if (failed)
            *failed = f->len;
        bt_error_set(err, BT_EAWS, "DeleteMessageBatch: %zu not deleted (%s)", f->len,
                     code ? code : "no code");
    }
    bt_arena_free(a);
    return rc;
}

int bt_sqs_delete(bt_sqs_queue *q, const char *const *receipts, size_t n, size_t *failed,
                  bt_error *err)
{
    bt_buf body = BT_BUF_INIT;
    bt_aws_response resp;
    size_t i;
    int rc = 0;
    if (failed)
        *failed = 0;
    if (!n)
        return 0;
    if (n > 10)
        return bt_error_set(err, BT_EINVAL, "DeleteMessageBatch takes at most 10 entries");
    bt_aws_response_init(&resp);
    rc = body_start(q, &body) || bt_buf_puts(&body, ",\"Entries\":[");
    for (i = 0; i < n && !rc; i++)
        rc = bt_buf_printf(&body, "%s{\"Id\":\"m%zu\",\"ReceiptHandle\":", i ? "," : "", i) ||
             bt_json_write_string(&body, receipts[i], strlen(receipts[i]), 0) ||
             bt_buf_putc(&body, '}');
    if (rc || bt_buf_puts(&body, "]}")) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = sqs_call(q, "DeleteMessageBatch", &body, &resp, err)) == 0)
        rc = delete_failed(&resp, failed, err);
done:
    bt_buf_dispose(&body);
    bt_aws_response_dispose(&resp);
    return rc;
}

/* A call whose body is the queue URL plus one string member and an optional number. */
static int simple_call(bt_sqs_queue *q, const char *op, const char *key, const char *val,
                       const char *nkey, int num, bt_error *err)
{
    bt_buf body = BT_BUF_INIT;
    bt_aws_response resp;
    int rc;
    bt_aws_response_init(&resp);
    if (body_start(q, &body) || bt_buf_printf(&body, ",\"%s\":", key) ||
        bt_json_write_string(&body, val, strlen(val), 0) ||
        (nkey && bt_buf_printf(&body, ",\"%s\":%d", nkey, num)) || bt_buf_putc(&body, '}'))
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
    else
        rc = sqs_call(q, op, &body, &resp, err);
    bt_buf_dispose(&body);
    bt_aws_response_dispose(&resp);
    return rc;
}

int bt_sqs_change_visibility(bt_sqs_queue *q, const char *receipt, int seconds, bt_error *err)
{
    return simple_call(q, "ChangeMessageVisibility", "ReceiptHandle", receipt, "VisibilityTimeout",
                       seconds, err);
}

int bt_sqs_send(bt_sqs_queue *q, const char *body, bt_error *err)
{
    return simple_call(q, "SendMessage", "MessageBody", body, NULL, 0, err);
}

/* ------------------------------------------------------------------ SNS -- */

int bt_sns_parse_arn(const char *arn, char *region, size_t cap, bt_error *err)
{
    char acct[16], name[256];
    if (split_arn(arn, "sns", region, cap, acct, sizeof acct, name, sizeof name))
        return bt_error_set(err, BT_EINVAL,
                            "'%.200s': not a topic ARN (arn:aws:sns:REGION:ACCOUNT:NAME)", arn);
    return 0;
}

/* Form-encodes s as botocore does (urlencode: a space is '+'), so that a checker that
 * encodes the parsed form again (moto) computes the same signature. "%20" in the encoding
 * can only come from a space ('%' itself is "%25"). */
static int form_plus(bt_buf *out, const char *s)
{
    bt_buf t = BT_BUF_INIT;
    size_t i;
    int rc = bt_aws_form_encode(&t, s);
    for (i = 0; rc == 0 && i < t.len; i++) {
        if (i + 2 < t.len && t.data[i] == '%' && t.data[i + 1] == '2' && t.data[i + 2] == '0') {
            rc = bt_buf_putc(out, '+');
            i += 2;
        } else {
            rc = bt_buf_putc(out, t.data[i]);
        }
    }
    bt_buf_dispose(&t);
    return rc;
}

int bt_sns_publish(bt_aws_client *c, const char *topic_arn, const char *subject,
                   const char *message, char *message_id, size_t cap, bt_error *err)
{
    static const char *const names[] = {"MessageId"};
    char region[64], *vals[1] = {NULL};
    bt_http_header h[1] = {{"Content-Type", "application/x-www-form-urlencoded; charset=utf-8"}};
    bt_aws_endpoint ep;
    bt_aws_response resp;
    bt_buf form = BT_BUF_INIT;
    int rc;

    if (message_id && cap)
        message_id[0] = 0;
    if ((rc = bt_sns_parse_arn(topic_arn, region, sizeof region, err)))
        return rc;
    bt_aws_response_init(&resp);
    if ((rc = bt_aws_client_endpoint_in(c, "sns", region, &ep, NULL, err)))
        goto done;
    if (bt_buf_puts(&form, "Action=Publish&Version=2010-03-31&TopicArn=") ||
        form_plus(&form, topic_arn) || bt_buf_puts(&form, "&Message=") ||
        form_plus(&form, message) ||
        (subject && (bt_buf_puts(&form, "&Subject=") || form_plus(&form, subject)))) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = bt_aws_client_send(c, &ep, "Publish", "POST", "/", NULL, h, 1, form.data, form.len,
                                 BT_AWS_P_QUERY, 0, &resp, err)))
        goto done;
    if (message_id && cap &&
        bt_aws_xml_fields(resp.body.data ? resp.body.data : "", resp.body.len, names, 1, vals,
                          NULL) == 0 &&
        vals[0])
        snprintf(message_id, cap, "%s", vals[0]);
done:
    free(vals[0]);
    bt_buf_dispose(&form);
    bt_aws_response_dispose(&resp);
    return rc;
}
