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
#include "buildtrail/source_s3.h"
#include "buildtrail/timeutil.h"
#include "watch_int.h"

#define BATCH 10
#define DEFAULT_VISIBILITY_S 120
#define BATCH_CONNECTIONS 4 /* a batch's objects read at once (2 cores: parsing is the cost) */

enum { M_OK = 0, M_POISON, M_RETRY };

/* An object a notification of the batch names (strings in the poll's arena). */
typedef struct objref {
    size_t msg; /* the message's index in the batch */
    const char *bucket, *key;
    const char *source; /* "s3://bucket/key" */
    int read;           /* reported by the scan (stored or poisoned) */
} objref;

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
    bt_arena *a;      /* the poll's: object names */
    size_t cur;       /* the message being looked at */
    int *status;      /* per message: M_* */
    char (*why)[700]; /* per message: why it is poisoned */
    objref *refs;     /* the objects to read, in message order */
    size_t nrefs, caprefs;
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
    /* sns: targets publish from the delivery thread: a client of its own */
    if (nsns && (rc = bt_aws_client_clone(&w->aws_send, w->aws, err)))
        return rc;
    for (i = 0; i < w->nnt; i++)
        w->nt[i].aws = w->aws_send;
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
    bt_aws_client_free(w->aws_send);
    bt_aws_client_free(w->aws);
    w->aws = w->aws_send = NULL;
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

/* The objects' outcomes fold into their messages': the store failing, then retry, then
 * poison (the first reason kept). */
static void mark(batch *b, size_t m, int st, const char *why)
{
    if (b->status[m] == M_RETRY || st == M_OK)
        return;
    if (st == M_RETRY || b->status[m] != M_POISON)
        snprintf(b->why[m], sizeof b->why[m], "%s", why);
    b->status[m] = st;
}

/* Notes an object of the current message to read with the batch's others. */
static int add_ref(batch *b, const char *bucket, const char *key)
{
    objref *r;
    if (b->nrefs == b->caprefs) {
        size_t cap = b->caprefs ? b->caprefs * 2 : 32;
        objref *n = realloc(b->refs, cap * sizeof *n);
        if (!n)
            return -1;
        b->refs = n;
        b->caprefs = cap;
    }
    r = &b->refs[b->nrefs];
    memset(r, 0, sizeof *r);
    r->msg = b->cur;
    r->bucket = bt_arena_strndup(b->a, bucket, strlen(bucket));
    r->key = bt_arena_strndup(b->a, key, strlen(key));
    r->source = bt_arena_sprintf(b->a, "s3://%s/%s", bucket, key);
    if (!r->bucket || !r->key || !r->source)
        return -1;
    b->nrefs++;
    return 0;
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

/* A trail's digest file (AWSLogs/ACCOUNT/CloudTrail-Digest/...): S3 event notifications on
 * the trail's prefix name them beside the log files. */
static int is_digest(const char *key)
{
    return strstr(key, "/CloudTrail-Digest/") != NULL || strstr(key, "_CloudTrail-Digest_") != NULL;
}

/* The objects a notification names: a trail's {"s3Bucket", "s3ObjectKey": [...]}, or an
 * S3 event notification {"Records": [{"eventSource": "aws:s3", "s3": {...}}]}: noted for
 * read_objects. M_OK, -1 (out of memory), or -2 when root is neither. */
static int fetch_objects(batch *b, bt_arena *a, const bt_json *root)
{
    const char *bucket = bt_json_get_str(root, "s3Bucket"), *key;
    const bt_json *keys = bt_json_get(root, "s3ObjectKey"), *recs = bt_json_get(root, "Records");
    size_t i, n;
    int s3ev = 0;

    if (recs && recs->type == BT_JSON_ARRAY && recs->len && !bucket &&
        bt_json_is_str(bt_json_get(recs->u.items[0], "eventSource"), "aws:s3"))
        s3ev = 1;
    else if (!bucket || !keys || keys->type != BT_JSON_ARRAY)
        return -2;
    n = s3ev ? recs->len : keys->len;
    for (i = 0; i < n; i++) {
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
        if (is_digest(key))
            continue; /* a digest file: hashes of log files, no event to read */
        if (add_ref(b, bucket, key))
            return -1;
    }
    return M_OK;
}

/* One message: M_OK (its objects noted), M_POISON (why set), or -1 when the store failed. */
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
    if (root->type == BT_JSON_OBJECT &&
        bt_json_is_str(bt_json_get(root, "Event"), "s3:TestEvent")) {
        /* S3 sends one when a bucket's notification is configured: nothing to read */
        rc = M_OK;
        goto done;
    }
    rc = root->type == BT_JSON_OBJECT ? fetch_objects(b, a, root) : -2;
    if (rc == -2)
        rc = read_text(b, text, len, "the message", why, cap);
done:
    bt_arena_free(a);
    return rc;
}

/* ---- a batch's objects: read and parsed in parallel by the S3 scan (bt_scan_s3 over
 * their keys), its batches packed in the workers and added in the open transaction ---- */

/* The refs of source not yet reported get st. */
static void ref_result(batch *b, const char *source, int st, const char *why)
{
    size_t i;
    for (i = 0; i < b->nrefs; i++)
        if (!b->refs[i].read && strcmp(b->refs[i].source, source) == 0) {
            b->refs[i].read = 1;
            mark(b, b->refs[i].msg, st, why);
        }
}

/* The scan's prepare, in its workers: the batch packed for the store. */
static int objs_pack(void *ctx, const bt_event *ev, size_t n, void **out)
{
    return bt_store_pack_prepare(((batch *)ctx)->w->store, ev, n, out);
}

static int objs_batch(void *ctx, const bt_batch *bt)
{
    batch *b = ctx;
    uint64_t added = 0, dups = 0;
    size_t k;
    char why[700];
    /* packed in the workers (objs_pack); without a pack, packing ran out of memory */
    if (bt->n && !bt->prepared)
        return BT_ENOMEM;
    if (bt->n &&
        bt_store_add_packed(b->w->store, bt->events, bt->n, bt->prepared, &added, &dups, b->err)) {
        b->store_failed = 1;
        return b->err->code ? b->err->code : BT_EDB;
    }
    b->stored += added;
    for (k = 0; k < bt->n_done; k++) {
        if (bt->done[k].failed)
            continue;
        snprintf(why, sizeof why, "%s: no CloudTrail record, log notification or known event",
                 bt->done[k].path);
        ref_result(b, bt->done[k].path, bt->done[k].records ? M_OK : M_POISON, why);
    }
    return 0;
}

/* An object that does not exist or cannot be read as records: its message is poisoned
 * (err->msg names the object). */
static void objs_error(void *ctx, const char *path, const bt_error *err)
{
    ref_result(ctx, path, M_POISON, err->msg);
}

static void objs_progress(void *ctx, const bt_read_stats *st, uint64_t files, uint64_t bytes)
{
    (void)st;
    (void)files;
    (void)bytes;
    keep_hidden(ctx);
}

/* The objects of bucket (refs from first on) in one scan. Returns -1 when the store
 * failed, else 0 (the outcomes in status). */
static int read_bucket(batch *b, size_t first)
{
    bt_watch *w = b->w;
    const char *bucket = b->refs[first].bucket;
    const char **keys = calloc(b->nrefs - first, sizeof *keys);
    char url[300], why[700];
    bt_s3_scan_spec spec;
    bt_scan_opts so;
    bt_read_stats st;
    bt_error e = BT_ERROR_INIT;
    size_t i, j, n = 0;
    int rc;

    if (!keys)
        return -1;
    for (i = first; i < b->nrefs; i++) {
        if (strcmp(b->refs[i].bucket, bucket) != 0)
            continue;
        for (j = 0; j < n && strcmp(keys[j], b->refs[i].key) != 0; j++)
            ;
        if (j == n)
            keys[n++] = b->refs[i].key;
    }
    snprintf(url, sizeof url, "s3://%.250s", bucket);
    memset(&spec, 0, sizeof spec);
    spec.client = w->aws;
    spec.url = url;
    spec.addressing = w->io.addressing;
    spec.keys = keys;
    spec.nkeys = n;
    spec.connections = n < BATCH_CONNECTIONS ? (int)n : BATCH_CONNECTIONS;
    memset(&so, 0, sizeof so);
    so.prepare = objs_pack;
    so.release = bt_store_pack_release;
    so.on_batch = objs_batch;
    so.on_file_error = objs_error;
    so.on_progress = objs_progress;
    so.ctx = b;
    memset(&st, 0, sizeof st);
    rc = bt_scan_s3(&spec, &so, &st, NULL, &e);
    free(keys);
    if (b->store_failed)
        return -1;
    if (rc == BT_ENOMEM)
        return -1;
    if (rc && !is_gone(&e)) /* may pass: the messages come back */
        bt_watch_source_failed(w, e.msg);
    for (i = first; i < b->nrefs; i++) {
        if (b->refs[i].read || strcmp(b->refs[i].bucket, bucket) != 0)
            continue;
        b->refs[i].read = 1;
        snprintf(why, sizeof why, "%s: %s", b->refs[i].source, e.aws_code[0] ? e.aws_code : e.msg);
        mark(b, b->refs[i].msg, rc && is_gone(&e) ? M_POISON : M_RETRY, why);
    }
    return 0;
}

/* Every object the batch's notifications name, a scan per bucket. -1: the store failed. */
static int read_objects(batch *b)
{
    size_t i;
    if (b->nrefs)
        keep_hidden(b);
    for (i = 0; i < b->nrefs; i++)
        if (!b->refs[i].read && read_bucket(b, i))
            return -1;
    return 0;
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
    b.a = a;
    b.status = status;
    b.why = why;
    if (!(b.scratch = bt_arena_new(0, 0)))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if (bt_sqs_receive(src->q, BATCH, wait_s, b.vis_s, a, &b.m, &b.n, &e)) {
        bt_watch_source_failed(w, e.msg);
        rc = 0;
        goto done;
    }
    b.hidden_until_ms = bt_time_now_ms() + (int64_t)b.vis_s * 1000;
    ws_received(&src->state, b.m, b.n);
    w->st.sqs_messages += b.n;
    if (!b.n || (rc = bt_store_begin(w->store, err)))
        goto done;
    for (i = 0; i < b.n; i++) {
        why[i][0] = 0;
        b.cur = i;
        if ((status[i] = process(&b, &b.m[i], why[i], sizeof why[i])) < 0)
            break;
    }
    if (i < b.n || read_objects(&b)) {
        bt_store_rollback(w->store);
        rc = b.store_failed ? err->code : bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
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
    free(b.refs);
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
        int64_t began = bt_time_now_ms();
        w->failed_now = 0;
        rc = poll_one(w, &w->sqs[i], wait_s, a, stored, err);
        ws_polled(w, &w->sqs[i].state, began);
        bt_arena_reset(a);
    }
    bt_arena_free(a);
    return rc;
}
