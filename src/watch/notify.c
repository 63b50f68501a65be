/* notify.c - watch's notifiers: parsing the --notify targets, the names their outbox
 * rows carry (no secrets), and one delivery attempt to a webhook (JSON POST with an
 * Idempotency-Key header, libcurl) or a command (the alert on its stdin; exit 0 =
 * delivered). The stdout notifier is the caller's emit callback (watch.c). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buildtrail/timeutil.h"
#include "util/crypto_dl.h"
#include "util/curl_dl.h"
#include "watch_int.h"

void wn_hash_hex(const void *data, size_t len, size_t nbytes, char *out)
{
    unsigned char md[32];
    unsigned int mdlen = 0;
    size_t i;
    if (nbytes > 32)
        nbytes = 32;
    EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
    for (i = 0; i < nbytes; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
    out[2 * nbytes] = 0;
}

void bt_watch_notify_name(const char *target, char *buf, size_t n)
{
    char h[17];
    const char *p, *end;
    wn_hash_hex(target, strlen(target), 8, h);
    if (strcmp(target, "stdout") == 0) {
        snprintf(buf, n, "stdout");
    } else if ((strncmp(target, "webhook:", 8) == 0 || strncmp(target, "slack:", 6) == 0) &&
               (p = strstr(target, "://"))) {
        /* scheme://host[:port] only: paths, queries and user info often carry tokens (a
         * Slack incoming webhook's path is its secret) */
        const char *u = strchr(target, ':') + 1, *host = p + 3, *at;
        end = host + strcspn(host, "/?#");
        if ((at = memchr(host, '@', (size_t)(end - host))))
            host = at + 1;
        snprintf(buf, n, "%.*s:%.*s://%.*s#%s", (int)(u - 1 - target), target, (int)(p - u), u,
                 (int)(end - host), host, h);
    } else if (strncmp(target, "sns:", 4) == 0) {
        snprintf(buf, n, "%s", target); /* a topic ARN is no secret */
    } else if (strncmp(target, "exec:", 5) == 0) {
        p = target + 5;
        p += strspn(p, " \t");
        snprintf(buf, n, "exec:%.*s#%s", (int)strcspn(p, " \t"), p, h);
    } else {
        snprintf(buf, n, "%.*s#%s", (int)strcspn(target, ":"), target, h);
    }
}

int wn_parse(const char *target, wn_notifier *n, bt_error *err)
{
    memset(n, 0, sizeof *n);
    n->target = target;
    if (strcmp(target, "stdout") == 0) {
        n->kind = WN_STDOUT;
    } else if (strncmp(target, "webhook:", 8) == 0 || strncmp(target, "slack:", 6) == 0) {
        int slack = target[0] == 's';
        const char *u = target + (slack ? 6 : 8), *what = slack ? "slack" : "webhook";
        size_t hl;
        if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
            return bt_error_set(err, BT_EINVAL,
                                "notify target '%s:...': the URL must start with http:// "
                                "or https://",
                                what);
        hl = strcspn(u + (u[4] == 's' ? 8 : 7), "/?#");
        if (hl == 0)
            return bt_error_set(err, BT_EINVAL, "notify target '%s:...': no host in the URL",
                                what);
        n->kind = slack ? WN_SLACK : WN_WEBHOOK;
        n->arg = u;
    } else if (strncmp(target, "sns:", 4) == 0) {
        char region[64];
        if (bt_sns_parse_arn(target + 4, region, sizeof region, err))
            return bt_error_set(err, BT_EINVAL,
                                "notify target 'sns:...': not a topic ARN "
                                "(sns:arn:aws:sns:REGION:ACCOUNT:NAME)");
        n->kind = WN_SNS;
        n->arg = target + 4;
    } else if (strncmp(target, "exec:", 5) == 0) {
        if (!target[5 + strspn(target + 5, " \t")])
            return bt_error_set(err, BT_EINVAL, "notify target 'exec:': no command");
        n->kind = WN_EXEC;
        n->arg = target + 5;
    } else {
        size_t sl = strcspn(target, ":");
        return bt_error_set(err, BT_EINVAL,
                            "'%.40s': not a notify target (stdout, webhook:URL, slack:URL, "
                            "sns:TOPIC_ARN, exec:CMD)",
                            target[sl] == ':' ? "..." : target);
    }
    bt_watch_notify_name(target, n->name, sizeof n->name);
    return 0;
}

int bt_watch_check_notify(const char *target, bt_error *err)
{
    wn_notifier n;
    return wn_parse(target, &n, err);
}

static size_t discard(char *p, size_t size, size_t nmemb, void *ud)
{
    (void)p;
    (void)ud;
    return size * nmemb;
}

/* The request of one POST of doc to n's URL on c (headers: *h, freed by the caller). */
static int post_setup(CURL *c, const wn_notifier *n, const char *doc, const char *key,
                      int64_t timeout_ms, struct curl_slist **h)
{
    struct curl_slist *h2;
    char hk[160];
    *h = NULL;
    snprintf(hk, sizeof hk, "Idempotency-Key: %s", key);
    if (!(h2 = curl_slist_append(NULL, "Content-Type: application/json")))
        return BT_ENOMEM;
    *h = h2;
    if (!(h2 = curl_slist_append(*h, hk)))
        return BT_ENOMEM;
    *h = h2;
    curl_easy_setopt(c, CURLOPT_URL, n->arg);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, *h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, doc);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(doc));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)(timeout_ms < 5000 ? timeout_ms : 5000));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "buildtrail-watch");
    return 0;
}

/* The outcome of a finished POST on c: 0 for a 2xx answer, else BT_EHTTP with why set. */
static int post_result(CURL *c, CURLcode cc, const wn_notifier *n, bt_error *why)
{
    long status = 0;
    if (cc != CURLE_OK)
        return bt_error_set(why, BT_EHTTP, "%s: %s", n->name, curl_easy_strerror(cc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status >= 200 && status <= 299)
        return 0;
    bt_error_set(why, BT_EHTTP, "%s: HTTP %ld", n->name, status);
    why->http_status = (int)status;
    return BT_EHTTP;
}

static int send_webhook(const wn_notifier *n, const char *doc, const char *key, int64_t timeout_ms,
                        bt_error *why)
{
    CURL *c;
    struct curl_slist *h = NULL;
    int rc;

    if ((rc = bt_curl_load(why)))
        return rc;
    if (!(c = curl_easy_init()))
        return bt_error_set(why, BT_ENOMEM, "out of memory");
    if (post_setup(c, n, doc, key, timeout_ms, &h))
        rc = bt_error_set(why, BT_ENOMEM, "out of memory");
    else
        rc = post_result(c, curl_easy_perform(c), n, why);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return rc;
}

/* ---- a webhook's due alerts, WN_PARALLEL POSTs at once over kept connections ---- */

typedef struct post_slot {
    CURL *c;
    struct curl_slist *h;
    wn_item *it;
} post_slot;

static int post_start(CURLM *m, post_slot *s, const wn_notifier *n, wn_item *it,
                      int64_t timeout_ms)
{
    bt_error why = BT_ERROR_INIT;
    s->it = it;
    if (!(s->c = curl_easy_init()) || post_setup(s->c, n, it->doc, it->key, timeout_ms, &s->h) ||
        curl_multi_add_handle(m, s->c) != CURLM_OK) {
        it->rc = bt_error_set(&why, BT_ENOMEM, "%s: out of memory", n->name);
        snprintf(it->why, sizeof it->why, "%s", why.msg);
        curl_slist_free_all(s->h);
        curl_easy_cleanup(s->c);
        memset(s, 0, sizeof *s);
        return -1;
    }
    return 0;
}

/* The finished POSTs of m: their items get their outcomes, their slots are freed.
 * Returns how many failed. */
static int post_reap(CURLM *m, post_slot *slots, const wn_notifier *n, size_t *inflight)
{
    CURLMsg *msg;
    int left, failed = 0;
    size_t i;
    while ((msg = curl_multi_info_read(m, &left))) {
        bt_error why = BT_ERROR_INIT;
        if (msg->msg != CURLMSG_DONE)
            continue;
        for (i = 0; i < WN_PARALLEL && slots[i].c != msg->easy_handle; i++)
            ;
        if (i == WN_PARALLEL)
            continue;
        slots[i].it->rc = post_result(slots[i].c, msg->data.result, n, &why);
        snprintf(slots[i].it->why, sizeof slots[i].it->why, "%s", why.msg);
        failed += slots[i].it->rc != 0;
        curl_multi_remove_handle(m, slots[i].c);
        curl_slist_free_all(slots[i].h);
        curl_easy_cleanup(slots[i].c);
        memset(&slots[i], 0, sizeof slots[i]);
        (*inflight)--;
    }
    return failed;
}

void wn_send_webhooks(wn_notifier *n, wn_item **items, size_t count, int64_t timeout_ms)
{
    post_slot slots[WN_PARALLEL];
    size_t next = 0, inflight = 0, i;
    int failed = 0, running;

    memset(slots, 0, sizeof slots);
    for (i = 0; i < count; i++)
        items[i]->rc = -1; /* not attempted, unless started below */
    if (!n->multi) {
        if (!(n->multi = curl_multi_init()))
            return;
        curl_multi_setopt(n->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)WN_PARALLEL);
    }
    while ((next < count && !failed) || inflight) {
        /* after a failure nothing new is started: the receiver is down or refusing */
        for (i = 0; i < WN_PARALLEL && next < count && !failed; i++) {
            if (slots[i].c)
                continue;
            if (post_start(n->multi, &slots[i], n, items[next++], timeout_ms))
                failed = 1;
            else
                inflight++;
        }
        curl_multi_perform(n->multi, &running);
        failed |= post_reap(n->multi, slots, n, &inflight) > 0;
        if (inflight)
            curl_multi_poll(n->multi, NULL, 0, 100, NULL);
    }
}

void wn_close(wn_notifier *n)
{
    if (n->multi)
        curl_multi_cleanup(n->multi);
    n->multi = NULL;
}

/* Waits for pid at most timeout_ms (then kills it): its wait status, or -1. */
static int wait_bounded(pid_t pid, int64_t timeout_ms)
{
    int64_t end = bt_time_now_ms() + timeout_ms;
    int status = 0;
    struct timespec ts = {0, 10 * 1000 * 1000};
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return status;
        if (r < 0 && errno != EINTR)
            return -1;
        if (bt_time_now_ms() >= end) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        nanosleep(&ts, NULL);
    }
}

/* Writes doc and a newline to fd (a command's stdin), SIGPIPE blocked on this thread
 * while it does: a command that exits without reading is its exit status's business, and
 * the process's signal handling is not the library's to change. */
static void write_doc(int fd, const char *doc, size_t len)
{
    sigset_t pipe_set, old;
    struct timespec zero = {0, 0};
    size_t off = 0;
    int broken = 0;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
    while (off < len) {
        ssize_t k = write(fd, doc + off, len - off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            broken = k < 0 && errno == EPIPE;
            break;
        }
        off += (size_t)k;
    }
    if (off == len && write(fd, "\n", 1) < 0 && errno == EPIPE)
        broken = 1;
    if (broken && !sigismember(&old, SIGPIPE)) /* the SIGPIPE this thread raised */
        sigtimedwait(&pipe_set, NULL, &zero);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

/* The environment of an exec target's command: ours, with BUILDTRAIL_ALERT_KEY=key in
 * place of any inherited one. Made before fork: the child of a threaded process may only
 * call async-signal-safe functions (no malloc, no setenv). NULL when out of memory. */
static char **exec_env(const char *key)
{
    extern char **environ;
    static const char name[] = "BUILDTRAIL_ALERT_KEY=";
    size_t n = 0, k = 0, i;
    char **env;
    while (environ && environ[n])
        n++;
    if (!(env = calloc(n + 2, sizeof *env)))
        return NULL;
    for (i = 0; i < n; i++)
        if (strncmp(environ[i], name, sizeof name - 1) != 0)
            env[k++] = environ[i];
    if (!(env[k] = malloc(sizeof name + strlen(key)))) {
        free(env);
        return NULL;
    }
    sprintf(env[k], "%s%s", name, key);
    return env;
}

static int send_exec(const wn_notifier *n, const char *doc, const char *key, int64_t timeout_ms,
                     bt_error *why)
{
    int fd[2], status;
    size_t len = strlen(doc), k;
    char *argv[] = {"sh", "-c", (char *)n->arg, NULL};
    char **env = exec_env(key);
    pid_t pid;

    if (!env)
        return bt_error_set(why, BT_ENOMEM, "%s: out of memory", n->name);
    for (k = 0; env[k] && strncmp(env[k], "BUILDTRAIL_ALERT_KEY=", 21) != 0; k++)
        ;
    if (pipe(fd) != 0) {
        free(env[k]);
        free(env);
        return bt_error_set(why, BT_EIO, "%s: pipe: %s", n->name, strerror(errno));
    }
    pid = fork();
    if (pid == 0) {
        dup2(fd[0], 0);
        close(fd[0]);
        close(fd[1]);
        execve("/bin/sh", argv, env);
        _exit(127);
    }
    free(env[k]);
    free(env);
    close(fd[0]);
    if (pid < 0) {
        close(fd[1]);
        return bt_error_set(why, BT_EIO, "%s: fork: %s", n->name, strerror(errno));
    }
    write_doc(fd[1], doc, len);
    close(fd[1]);
    status = wait_bounded(pid, timeout_ms);
    if (status < 0)
        return bt_error_set(why, BT_EIO, "%s: no exit within %lld ms", n->name,
                            (long long)timeout_ms);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return bt_error_set(why, BT_EIO, "%s: exit status %d", n->name,
                            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}

int wn_send(const wn_notifier *n, const char *doc, const char *key, int64_t timeout_ms,
            bt_error *why)
{
    if (n->kind == WN_WEBHOOK)
        return send_webhook(n, doc, key, timeout_ms, why);
    if (n->kind == WN_SLACK) { /* the message made from the document, POSTed the same way */
        bt_buf b = BT_BUF_INIT;
        int rc = wn_slack_body(doc, &b) ? bt_error_set(why, BT_ENOMEM, "%s: out of memory", n->name)
                                        : send_webhook(n, b.data, key, timeout_ms, why);
        bt_buf_dispose(&b);
        return rc;
    }
    if (n->kind == WN_SNS) {
        bt_error e = BT_ERROR_INIT;
        if (!n->aws)
            return bt_error_set(why, BT_EINVAL, "%s: no AWS client", n->name);
        if (bt_sns_publish(n->aws, n->arg, NULL, doc, NULL, 0, &e))
            return bt_error_set(why, e.code, "%s: %s", n->name, e.msg);
        return 0;
    }
    if (n->kind == WN_EXEC)
        return send_exec(n, doc, key, timeout_ms, why);
    return bt_error_set(why, BT_EINVAL, "%s: not sent here", n->name);
}
