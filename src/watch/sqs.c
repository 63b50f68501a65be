/* sqs.c - watch's sqs:// sources: long-polled batches of messages, each one a trail's
 * log-delivery notification (raw or in an SNS envelope: its S3 objects are read and
 * stored) or an EventBridge event (stored as it is, by the readers of source.h); what a
 * batch brought committed in one transaction, then its messages deleted. Poisoned
 * messages are appended to the dead-letter file (one message through log) and deleted;
 * messages whose work failed for a reason that may pass (S3 unreachable, access
 * denied) are left to come back after their visibility timeout. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buildtrail/aws_s3.h"
#include "buildtrail/json.h"
#include "buildtrail/source.h"
#include "buildtrail/timeutil.h"
#include "watch_int.h"

#define BATCH 10
#define DEFAULT_VISIBILITY_S 120

enum { M_OK = 0, M_POISON, M_RETRY };

typedef struct batch {
    bt_watch *w;
    wq_source *src;
    bt_sqs_message *m;
    size_t n;
    int vis_s;
    int64_t hidden_until_ms; /* the messages' visibility as last set */
    uint64_t stored;
    int store_failed;
    bt_error *err; /* the store's failure */
    bt_arena *scratch;
} batch;

int wq_is_sqs(const char *loc)
{
    return strncmp(loc, "sqs://", 6) == 0 ||
           (strncmp(loc, "arn:", 4) == 0 && strstr(loc, ":sqs:") != NULL);
}

static int visibility(const bt_watch *w)
{
    return w->o.sqs_visibility_s > 0 ? w->o.sqs_visibility_s : DEFAULT_VISIBILITY_S;
}

int wq_open(bt_watch *w, bt_error *err)
{
    bt_aws_config dflt = BT_AWS_CONFIG_INIT;
    size_t i, nsns = 0;
    int rc;
    for (i = 0; i < w->nnt; i++)
        nsns += w->nt[i].kind == WN_SNS;
    if (!w->nsqs && !nsns)
        return 0;
    if ((rc = bt_aws_client_new(&w->aws, w->io.aws ? w->io.aws : &dflt, err)))
        return rc;
    for (i = 0; i < w->nnt; i++)
        w->nt[i].aws = w->aws;
    for (i = 0; i < w->nsqs; i++) {
        rc = bt_sqs_queue_open(w->aws, w->sqs[i].location, &w->sqs[i].q, err);
        if (rc == BT_ENOTFOUND)
            rc = err->code = BT_EINVAL; /* bad input: one line, exit 2 */
        if (rc)
            return rc;
    }
    return 0;
}

void wq_close(bt_watch *w)
{
    size_t i;
    for (i = 0; i < w->nsqs; i++)
        bt_sqs_queue_free(w->sqs[i].q);
    bt_s3_bucket_free(w->bucket);
    bt_aws_client_free(w->aws);
    w->bucket = NULL;
    w->aws = NULL;
}

/* Keeps the batch hidden while its work goes on: past half of the timeout, it is set to
 * the full timeout again from now. */
static void keep_hidden(batch *b)
{
    int64_t now = bt_time_now_ms();
    bt_error e = BT_ERROR_INIT;
    size_t i;
    if (now < b->hidden_until_ms - (int64_t)b->vis_s * 500)
        return;
    for (i = 0; i < b->n; i++)
        if (bt_sqs_change_visibility(b->src->q, b->m[i].receipt, b->vis_s, &e))
            bt_watch_source_failed(b->w, e.msg);
    b->hidden_until_ms = now + (int64_t)b->vis_s * 1000;
}

static int on_event(void *ctx, const bt_event *ev)
{
    batch *b = ctx;
    int is_new = 0;
    if (bt_store_add(b->w->store, ev, &is_new, b->err)) {
        b->store_failed = 1;
        return BT_EDB;
    }
    b->stored += is_new ? 1 : 0;
    return 0;
}

/* The records or events of text into the store: M_OK, M_POISON (why set), or -1 when
 * the store failed. */
static int read_text(batch *b, const char *text, size_t len, const char *what, char *why,
                     size_t cap)
{
    bt_read_opts ro;
    bt_read_stats st;
    bt_error e = BT_ERROR_INIT;
    int rc;
    memset(&ro, 0, sizeof ro);
    memset(&st, 0, sizeof st);
    rc = bt_read_data_opts(text, len, b->scratch, &ro, on_event, b, &st, &e);
    bt_arena_reset(b->scratch);
    if (b->store_failed)
        return -1;
    if (rc == BT_ENOTFOUND || (rc == 0 && !st.records && !st.digests)) {
        snprintf(why, cap, "%s: no CloudTrail record, log notification or known event", what);
        return M_POISON;
    }
    if (rc) {
        snprintf(why, cap, "%s: %s", what, e.msg);
        return M_POISON;
    }
    return M_OK;
}

static int is_gone(const bt_error *e)
{
    return e->code == BT_EAWS &&
           (strcmp(e->aws_code, "NoSuchKey") == 0 || strcmp(e->aws_code, "NoSuchBucket") == 0 ||
            e->http_status == 404);
}

/* One object read and stored: M_OK, M_POISON (why set), M_RETRY, or -1 (the store). */
static int fetch_one(batch *b, const char *bucket, const char *key, bt_buf *body, char *why,
                     size_t cap)
{
    bt_watch *w = b->w;
    bt_error e = BT_ERROR_INIT;
    char what[600];

    if (!w->bucket || strcmp(bt_s3_bucket_name(w->bucket), bucket) != 0) {
        bt_s3_bucket_free(w->bucket);
        w->bucket = NULL;
        if (bt_s3_bucket_new(&w->bucket, w->aws, bucket, w->io.addressing, &e)) {
            snprintf(why, cap, "s3://%.200s: %s", bucket, e.msg);
            return M_POISON;
        }
    }
    keep_hidden(b);
    snprintf(what, sizeof what, "s3://%.200s/%.380s", bucket, key);
    if (bt_s3_get_object(w->aws, w->bucket, key, NULL, body, &e)) {
        if (!is_gone(&e)) { /* may pass: the message comes back */
            bt_watch_source_failed(w, e.msg);
            return M_RETRY;
        }
        snprintf(why, cap, "%s: %s", what, e.aws_code[0] ? e.aws_code : e.msg);
        return M_POISON;
    }
    return read_text(b, body->data ? body->data : "", body->len, what, why, cap);
}

/* S3 event notification keys are form-encoded ('+' is a space). */
static char *key_decode(bt_arena *a, const char *s)
{
    char *out = bt_arena_strndup(a, s, strlen(s)), *o = out;
    for (; out && *s; s++) {
        int h, l;
        if (*s == '+')
            *o++ = ' ';
        else if (*s == '%' && (h = bt_hex_value(s[1])) >= 0 && (l = bt_hex_value(s[2])) >= 0) {
            *o++ = (char)(h * 16 + l);
            s += 2;
        } else
            *o++ = *s;
    }
    if (out)
        *o = 0;
    return out;
}

/* The objects a notification names: a trail's {"s3Bucket", "s3ObjectKey": [...]}, or an
 * S3 event notification {"Records": [{"eventSource": "aws:s3", "s3": {...}}]}. Each is
 * read and stored: the worst outcome wins (the store failing, retry, poison). -2 when
 * root is neither. */
static int fetch_objects(batch *b, bt_arena *a, const bt_json *root, char *why, size_t cap)
{
    const char *bucket = bt_json_get_str(root, "s3Bucket"), *key;
    const bt_json *keys = bt_json_get(root, "s3ObjectKey"), *recs = bt_json_get(root, "Records");
    bt_buf body = BT_BUF_INIT;
    size_t i, n;
    int rc = M_OK, r, s3ev = 0;

    if (recs && recs->type == BT_JSON_ARRAY && recs->len && !bucket &&
        bt_json_is_str(bt_json_get(recs->u.items[0], "eventSource"), "aws:s3"))
        s3ev = 1;
    else if (!bucket || !keys || keys->type != BT_JSON_ARRAY)
        return -2;
    n = s3ev ? recs->len : keys->len;
    for (i = 0; i < n && rc != M_RETRY; i++) {
        if (s3ev) {
            const bt_json *s3 = bt_json_get(recs->u.items[i], "s3");
            const bt_json *bk = s3 ? bt_json_get(s3, "bucket") : NULL;
            const bt_json *ob = s3 ? bt_json_get(s3, "object") : NULL;
            bucket = bk ? bt_json_get_str(bk, "name") : NULL;
            key = ob ? bt_json_get_str(ob, "key") : NULL;
            if (!bucket || !key || !(key = key_decode(a, key)))
                continue;
        } else if (keys->u.items[i]->type == BT_JSON_STRING) {
            key = keys->u.items[i]->u.str;
        } else {
            continue;
        }
        if ((r = fetch_one(b, bucket, key, &body, why, cap)) < 0) {
            rc = -1;
            break;
        }
        if (r != M_OK && rc != M_RETRY)
            rc = r;
    }
    bt_buf_dispose(&body);
    return rc;
}

/* One message: M_OK, M_POISON (why set), M_RETRY, or -1 when the store failed. */
static int process(batch *b, const bt_sqs_message *m, char *why, size_t cap)
{
    bt_arena *a = bt_arena_new(0, 0);
    bt_json *root = NULL;
    const char *text = m->body;
    size_t len = m->body_len;
    int rc;

    if (!a)
        return -1;
    if (bt_json_parse(a, text, len, NULL, &root, NULL)) {
        snprintf(why, cap, "not JSON");
        rc = M_POISON;
        goto done;
    }
    if (root->type == BT_JSON_OBJECT && bt_json_is_str(bt_json_get(root, "Type"), "Notification") &&
        (text = bt_json_get_str(root, "Message"))) {
        /* the SNS envelope: the notification is its Message */
        len = bt_json_get(root, "Message")->len;
        if (bt_json_parse(a, text, len, NULL, &root, NULL)) {
            snprintf(why, cap, "the SNS envelope's Message is not JSON");
            rc = M_POISON;
            goto done;
        }
    }
    if (root->type == BT_JSON_OBJECT && bt_json_is_str(bt_json_get(root, "Event"), "s3:TestEvent")) {
        /* S3 sends one when a bucket's notification is configured: nothing to read */
        rc = M_OK;
        goto done;
    }
    rc = root->type == BT_JSON_OBJECT ? fetch_objects(b, a, root, why, cap) : -2;
    if (rc == -2)
        rc = read_text(b, text, len, "the message", why, cap);
done:
    bt_arena_free(a);
    return rc;
}

/* Appends the poisoned message to the dead-letter file (flushed to disk). */
static int dead_letter(batch *b, const bt_sqs_message *m, const char *why, bt_error *err)
{
    bt_buf line = BT_BUF_INIT;
    int fd = -1, rc = 0;
    if (bt_buf_puts(&line, "{\"time\":\"") || bt_time_format_utc(&line, bt_time_now_ms()) ||
        bt_buf_puts(&line, "\",\"source\":") ||
        bt_json_write_string(&line, b->src->location, strlen(b->src->location), 0) ||
        bt_buf_puts(&line, ",\"message_id\":") ||
        bt_json_write_string(&line, m->id, strlen(m->id), 0) ||
        bt_buf_printf(&line, ",\"receive_count\":%d,\"reason\":", m->receive_count) ||
        bt_json_write_string(&line, why, strlen(why), 0) || bt_buf_puts(&line, ",\"body\":") ||
        bt_json_write_string(&line, m->body, m->body_len, 0) || bt_buf_puts(&line, "}\n")) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    fd = open(b->w->dead_letter, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || write(fd, line.data, line.len) != (ssize_t)line.len || fsync(fd) != 0)
        rc = bt_error_set(err, BT_EIO, "'%s': %s", b->w->dead_letter, strerror(errno));
done:
    if (fd >= 0)
        close(fd);
    bt_buf_dispose(&line);
    return rc;
}

/* Waits ms (tests), or less when asked to stop. */
static void hold(const bt_watch *w, int64_t ms)
{
    int64_t end = bt_time_now_ms() + ms;
    struct timespec ts = {0, 20 * 1000000L};
    while (bt_time_now_ms() < end && !(w->o.stop && *w->o.stop))
        nanosleep(&ts, NULL);
}

/* After the commit: poisoned messages aside, then what is done deleted. */
static void finish(batch *b, const int *status, char (*why)[700])
{
    bt_watch *w = b->w;
    const char *del[BATCH];
    bt_error e = BT_ERROR_INIT;
    size_t i, nd = 0, failed = 0;
    for (i = 0; i < b->n; i++) {
        if (status[i] == M_POISON) {
            if (dead_letter(b, &b->m[i], why[i], &e)) {
                bt_watch_source_failed(w, e.msg); /* kept in the queue: it comes back */
                continue;
            }
            w->st.sqs_dead_letters++;
            bt_watch_logf(w, "%s: message %s moved aside to %s: %s", b->src->location, b->m[i].id,
                          w->dead_letter, why[i]);
        } else if (status[i] != M_OK) {
            continue;
        }
        del[nd++] = b->m[i].receipt;
    }
    if (bt_sqs_delete(b->src->q, del, nd, &failed, &e))
        bt_watch_source_failed(w, e.msg); /* they come back; their events are held */
    w->st.sqs_deleted += nd - (failed < nd ? failed : nd);
}

static int poll_one(bt_watch *w, wq_source *src, int wait_s, bt_arena *a, uint64_t *stored,
                    bt_error *err)
{
    batch b;
    int status[BATCH];
    char why[BATCH][700];
    bt_error e = BT_ERROR_INIT;
    size_t i;
    int rc = 0;

    memset(&b, 0, sizeof b);
    b.w = w;
    b.src = src;
    b.err = err;
    b.vis_s = visibility(w);
    if (!(b.scratch = bt_arena_new(0, 0)))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if (bt_sqs_receive(src->q, BATCH, wait_s, b.vis_s, a, &b.m, &b.n, &e)) {
        bt_watch_source_failed(w, e.msg);
        rc = 0;
        goto done;
    }
    b.hidden_until_ms = bt_time_now_ms() + (int64_t)b.vis_s * 1000;
    w->st.sqs_messages += b.n;
    if (!b.n || (rc = bt_store_begin(w->store, err)))
        goto done;
    for (i = 0; i < b.n; i++) {
        why[i][0] = 0;
        if ((status[i] = process(&b, &b.m[i], why[i], sizeof why[i])) < 0) {
            bt_store_rollback(w->store);
            rc = b.store_failed ? err->code : bt_error_set(err, BT_ENOMEM, "out of memory");
            goto done;
        }
    }
    if ((rc = bt_store_commit(w->store, err)))
        goto done;
    *stored += b.stored;
    w->st.events_new += b.stored;
    if (w->o.sqs_hold_ms > 0)
        hold(w, w->o.sqs_hold_ms);
    finish(&b, status, why);
done:
    bt_arena_free(b.scratch);
    return rc;
}

int wq_poll(bt_watch *w, int wait_s, uint64_t *stored, bt_error *err)
{
    bt_arena *a;
    size_t i;
    int rc = 0;
    *stored = 0;
    if (!w->nsqs)
        return 0;
    if (!(a = bt_arena_new(0, 0)))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    for (i = 0; i < w->nsqs && rc == 0 && !(w->o.stop && *w->o.stop); i++) {
        rc = poll_one(w, &w->sqs[i], wait_s, a, stored, err);
        bt_arena_reset(a);
    }
    bt_arena_free(a);
    return rc;
}
