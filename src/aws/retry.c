/* retry.c - the "standard" retry mode of the AWS SDKs (botocore retries/standard.py
 * and quota.py): which failures are retried, the jittered exponential backoff and
 * the shared retry quota. */
#include <string.h>

#include "aws/aws_int.h"

static const char *const throttling_codes[] = {"Throttling",
                                               "ThrottlingException",
                                               "ThrottledException",
                                               "RequestThrottledException",
                                               "TooManyRequestsException",
                                               "ProvisionedThroughputExceededException",
                                               "TransactionInProgressException",
                                               "RequestLimitExceeded",
                                               "BandwidthLimitExceeded",
                                               "LimitExceededException",
                                               "RequestThrottled",
                                               "SlowDown",
                                               "PriorRequestNotComplete",
                                               "EC2ThrottledException",
                                               NULL};

static const char *const transient_codes[] = {"RequestTimeout", "RequestTimeoutException",
                                              "PriorRequestNotComplete", NULL};

static int in(const char *const *list, const char *code)
{
    int i;
    if (!code || !*code)
        return 0;
    for (i = 0; list[i]; i++)
        if (strcmp(list[i], code) == 0)
            return 1;
    return 0;
}

int bt_aws_is_throttling_code(const char *code)
{
    return in(throttling_codes, code);
}

int bt_aws_is_transient_code(const char *code)
{
    return in(transient_codes, code);
}

int bt_aws_is_retryable(long status, const char *code, int transport)
{
    if (transport == BT_HTTP_T_CONNECT || transport == BT_HTTP_T_TIMEOUT ||
        transport == BT_HTTP_T_IO)
        return 1;
    if (transport != BT_HTTP_T_NONE)
        return 0;
    if (status == 500 || status == 502 || status == 503 || status == 504)
        return 1;
    return bt_aws_is_transient_code(code) || bt_aws_is_throttling_code(code);
}

double bt_aws_backoff(int attempt, double r)
{
    double cap = 1.0;
    int i;
    for (i = 1; i < attempt && cap < BT_AWS_MAX_BACKOFF; i++)
        cap *= 2.0;
    if (cap > BT_AWS_MAX_BACKOFF)
        cap = BT_AWS_MAX_BACKOFF;
    return r * cap;
}

void bt_aws_quota_init(bt_aws_quota *q)
{
    pthread_mutex_init(&q->mu, NULL);
    q->available = q->max = BT_AWS_QUOTA_INITIAL;
}

void bt_aws_quota_dispose(bt_aws_quota *q)
{
    pthread_mutex_destroy(&q->mu);
}

int bt_aws_quota_acquire(bt_aws_quota *q, int amount)
{
    int ok;
    pthread_mutex_lock(&q->mu);
    ok = amount <= q->available;
    if (ok)
        q->available -= amount;
    pthread_mutex_unlock(&q->mu);
    return ok;
}

void bt_aws_quota_release(bt_aws_quota *q, int amount)
{
    pthread_mutex_lock(&q->mu);
    q->available += amount;
    if (q->available > q->max)
        q->available = q->max;
    pthread_mutex_unlock(&q->mu);
}
