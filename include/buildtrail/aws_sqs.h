/*
 * buildtrail/aws_sqs.h - Amazon SQS and SNS, as watch needs them: a queue named by its
 * URL or ARN resolved with GetQueueUrl (which also proves that it exists), ReceiveMessage
 * with long polling, DeleteMessageBatch, ChangeMessageVisibility (the SQS JSON protocol,
 * X-Amz-Target AmazonSQS.<Op>, application/x-amz-json-1.0, as current SDKs speak it), and
 * SNS Publish (query protocol) to a topic ARN in the ARN's region.
 *
 * Requests go through a bt_aws_client (credentials, SigV4, the standard retry mode, the
 * redacting debug log). Endpoint: a configured one for "sqs" / "sns" (--endpoint-url,
 * AWS_ENDPOINT_URL_SQS, ...), else the host of a queue URL that is not an AWS one (a
 * local SQS-compatible server), else sqs.<region>.<dnsSuffix>. The region is the one of
 * the queue's ARN or AWS URL, else the client's.
 */
#ifndef BT_AWS_SQS_H
#define BT_AWS_SQS_H

#include <stddef.h>
#include <stdint.h>

#include "buildtrail/arena.h"
#include "buildtrail/aws.h"
#include "buildtrail/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a queue location names, without asking the service. */
typedef struct bt_sqs_ref {
    char url[1024];   /* the queue URL when given ("" for an ARN) */
    char name[128];   /* the queue name */
    char account[16]; /* the owner account when the location names it, else "" */
    char region[64];  /* from the ARN or an AWS URL host, else "" */
} bt_sqs_ref;

/* Parses a queue location: "sqs://https://host/ACCOUNT/NAME" (also http://),
 * "sqs://host/ACCOUNT/NAME" (https), "https://host/ACCOUNT/NAME", or the queue's ARN
 * "arn:PARTITION:sqs:REGION:ACCOUNT:NAME" (bare or after "sqs://"). BT_EINVAL with one
 * line naming what is wrong. */
int bt_sqs_parse(const char *location, bt_sqs_ref *out, bt_error *err);

typedef struct bt_sqs_queue bt_sqs_queue;

/* Resolves location (bt_sqs_parse) with GetQueueUrl. A queue that does not exist is
 * BT_ENOTFOUND ("'LOCATION': the queue does not exist"); other failures as the client
 * returns them (BT_EAWS, BT_EHTTP, BT_ECRED...), named by the location. c is borrowed
 * and must outlive *out (bt_sqs_queue_free). */
int bt_sqs_queue_open(bt_aws_client *c, const char *location, bt_sqs_queue **out, bt_error *err);
void bt_sqs_queue_free(bt_sqs_queue *q); /* accepts NULL */
/* The queue URL the service returned (borrowed). */
const char *bt_sqs_queue_url(const bt_sqs_queue *q);

typedef struct bt_sqs_message {
    const char *id;      /* MessageId */
    const char *receipt; /* ReceiptHandle: what delete and visibility changes take */
    const char *body;    /* Body (NUL-terminated; body_len bytes) */
    size_t body_len;
    int receive_count; /* ApproximateReceiveCount (1 = first delivery), 0 when absent */
    int64_t sent_ms;   /* SentTimestamp (epoch ms: when the queue accepted it), 0 when absent */
} bt_sqs_message;

/* ReceiveMessage (asking for ApproximateReceiveCount and SentTimestamp): up to max (1..10)
 * messages, waiting up to wait_s seconds (0..20: long polling) for the first, hidden from other
 * receivers for visibility_s seconds (0 = the queue's default). *msgs (and their strings) live in
 * arena; *n may be 0. */
int bt_sqs_receive(bt_sqs_queue *q, int max, int wait_s, int visibility_s, bt_arena *arena,
                   bt_sqs_message **msgs, size_t *n, bt_error *err);
/* The ReceiveMessage reply parser bt_sqs_receive uses (exposed for its fuzz target):
 * resp's JSON body -> *msgs in arena, *n counting them (entries without a ReceiptHandle
 * skipped; no "Messages" = none). A body that is not a JSON object is BT_EPARSE with
 * *n untouched. */
int bt_sqs_receive_parse(bt_arena *arena, const bt_aws_response *resp, bt_sqs_message **msgs,
                         size_t *n, bt_error *err);
/* DeleteMessageBatch of receipts[0..n) (n <= 10). *failed (may be NULL) counts the entries
 * the service refused (those come back after their visibility timeout); err then names the
 * first. 0 when the call was answered, else the call's error. */
int bt_sqs_delete(bt_sqs_queue *q, const char *const *receipts, size_t n, size_t *failed,
                  bt_error *err);
/* ChangeMessageVisibility: the message stays hidden for seconds more from now. */
int bt_sqs_change_visibility(bt_sqs_queue *q, const char *receipt, int seconds, bt_error *err);

/* SendMessage of body (tests and tools). */
int bt_sqs_send(bt_sqs_queue *q, const char *body, bt_error *err);

/* ------------------------------------------------------------------- SNS -- */

/* Checks a topic ARN "arn:PARTITION:sns:REGION:ACCOUNT:NAME"; its region copied into
 * region (cap bytes). BT_EINVAL otherwise. */
int bt_sns_parse_arn(const char *arn, char *region, size_t cap, bt_error *err);
/* SNS Publish of message to topic_arn (subject may be NULL), to the ARN's region.
 * message_id (may be NULL, cap bytes) receives the service's MessageId. */
int bt_sns_publish(bt_aws_client *c, const char *topic_arn, const char *subject,
                   const char *message, char *message_id, size_t cap, bt_error *err);

#ifdef __cplusplus
}
#endif
#endif
