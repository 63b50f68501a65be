/* ratelimit.c - token buckets (capacity 1, no bursts) per (credential-or-account +
 * region, operation), shared by every client clone; callers reserve a slot under the
 * lock and sleep outside it, so concurrent threads are spaced evenly. */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/timeutil.h"
#include "aws/aws_int.h"

typedef struct rate {
    char *op;
    double per_second;
    struct rate *next;
} rate;

typedef struct bucket {
    char *key; /* "<key>|<op>" */
    double tokens;
    double last;
    struct bucket *next;
} bucket;

struct bt_ratelimit {
    pthread_mutex_t mu;
    rate *rates;
    bucket *buckets;
};

bt_ratelimit *bt_ratelimit_new(void)
{
    bt_ratelimit *rl = calloc(1, sizeof *rl);
    if (rl)
        pthread_mutex_init(&rl->mu, NULL);
    return rl;
}

void bt_ratelimit_free(bt_ratelimit *rl)
{
    rate *r, *rn;
    bucket *b, *bn;
    if (!rl)
        return;
    for (r = rl->rates; r; r = rn) {
        rn = r->next;
        free(r->op);
        free(r);
    }
    for (b = rl->buckets; b; b = bn) {
        bn = b->next;
        free(b->key);
        free(b);
    }
    pthread_mutex_destroy(&rl->mu);
    free(rl);
}

static rate *find_rate(bt_ratelimit *rl, const char *op)
{
    rate *r;
    for (r = rl->rates; r; r = r->next)
        if (strcmp(r->op, op) == 0)
            return r;
    return NULL;
}

int bt_ratelimit_set_rate(bt_ratelimit *rl, const char *op, double per_second)
{
    rate *r;
    int rc = 0;
    pthread_mutex_lock(&rl->mu);
    r = find_rate(rl, op);
    if (!r) {
        r = calloc(1, sizeof *r);
        if (!r || !(r->op = strdup(op))) {
            free(r);
            rc = BT_ENOMEM;
            goto done;
        }
        r->next = rl->rates;
        rl->rates = r;
    }
    r->per_second = per_second;
done:
    pthread_mutex_unlock(&rl->mu);
    return rc;
}

double bt_ratelimit_get_rate(bt_ratelimit *rl, const char *op)
{
    rate *r;
    double v;
    pthread_mutex_lock(&rl->mu);
    r = find_rate(rl, op);
    v = r ? r->per_second : 0;
    pthread_mutex_unlock(&rl->mu);
    return v;
}

double bt_ratelimit_acquire(bt_ratelimit *rl, const char *key, const char *op)
{
    rate *r;
    bucket *b;
    double now, wait = 0, capacity;
    size_t kl = strlen(key), ol = strlen(op);

    if (!rl)
        return 0;
    pthread_mutex_lock(&rl->mu);
    r = find_rate(rl, op);
    if (!r || r->per_second <= 0) {
        pthread_mutex_unlock(&rl->mu);
        return 0;
    }
    capacity = 1.0; /* no bursts: requests are spaced 1/rate apart */
    now = bt_time_mono_s();
    for (b = rl->buckets; b; b = b->next)
        if (strlen(b->key) == kl + 1 + ol && memcmp(b->key, key, kl) == 0 && b->key[kl] == '|' &&
            strcmp(b->key + kl + 1, op) == 0)
            break;
    if (!b) {
        b = calloc(1, sizeof *b);
        if (b)
            b->key = malloc(kl + ol + 2);
        if (!b || !b->key) {
            /* cannot track: fall back to a plain 1/rate pause */
            if (b)
                free(b);
            pthread_mutex_unlock(&rl->mu);
            wait = 1.0 / r->per_second;
            bt_aws_sleep(wait);
            return wait;
        }
        memcpy(b->key, key, kl);
        b->key[kl] = '|';
        memcpy(b->key + kl + 1, op, ol + 1);
        b->tokens = capacity;
        b->last = now;
        b->next = rl->buckets;
        rl->buckets = b;
    }
    b->tokens += (now - b->last) * r->per_second;
    if (b->tokens > capacity)
        b->tokens = capacity;
    b->last = now;
    b->tokens -= 1.0;
    if (b->tokens < 0)
        wait = -b->tokens / r->per_second;
    pthread_mutex_unlock(&rl->mu);
    bt_aws_sleep(wait);
    return wait;
}
