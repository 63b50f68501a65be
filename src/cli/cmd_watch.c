/* cmd_watch.c - `buildtrail watch`: argument handling and presentation of continuous
 * monitoring; the work (ingest, rules, alerts, outbox, delivery) is the library's
 * bt_watch (watch.h). Prints the stdout notifier's alerts and watch's messages. */
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/aws.h"
#include "buildtrail/store.h"
#include "buildtrail/watch.h"
#include "cli.h"
#include "ingest_lookup.h"

enum {
    O_RULES = 1,
    O_NOTIFY,
    O_INTERVAL,
    O_SUPPRESS,
    O_RETRY_MAX,
    O_WOUTPUT,
    O_CYCLES,
    O_DEAD_LETTER,
    O_VISIBILITY
};

static const cli_opt watch_opts[] = {
    {"rules", 0, OPT_VALUE, "PATH", O_RULES,
     "Sigma rules to evaluate on every new event: a rule file, a directory of them, or "
     "'builtin' (repeatable; required). SIGHUP reloads them; a set that does not load keeps "
     "the previous one."},
    {"notify", 0, OPT_VALUE, "TARGET", O_NOTIFY,
     "Where alerts go (repeatable; default stdout): stdout, webhook:URL (JSON POST of the "
     "alert document with an Idempotency-Key header), slack:URL (a Slack incoming webhook: "
     "one line with the rule, build, principal and what happened), sns:TOPIC_ARN (SNS "
     "Publish of the alert document, in the ARN's region), exec:CMD (the alert on the "
     "command's stdin, $BUILDTRAIL_ALERT_KEY set; a non-zero exit is retried)."},
    {"interval", 0, OPT_VALUE, "SECONDS", O_INTERVAL,
     "Seconds between cycles (reading the sources; default 60)."},
    {"suppress", 0, OPT_VALUE, "SECONDS", O_SUPPRESS,
     "Fold an alert into the previous one of the same rule and build seen within SECONDS "
     "(no new notification; default 0: every alert notifies)."},
    {"retry-max", 0, OPT_VALUE, "SECONDS", O_RETRY_MAX,
     "Longest wait between delivery attempts (backoff from 1 s doubling; default 300)."},
    {"output", 'o', OPT_VALUE, "FORMAT", O_WOUTPUT,
     "The stdout notifier's format: ndjson (the alert documents, default) or text."},
    {"cycles", 0, OPT_VALUE, "N", O_CYCLES, "Stop after N cycles (scripts and tests)."},
    {"dead-letter", 0, OPT_VALUE, "FILE", O_DEAD_LETTER,
     "sqs:// sources: where a poisoned message (not JSON, an unknown shape, an object that does "
     "not exist) is appended as a line of JSON before it is deleted (default: the store's path "
     "+ .dead-letters.ndjson)."},
    {"visibility-timeout", 0, OPT_VALUE, "SECONDS", O_VISIBILITY,
     "sqs:// sources: how long a received message stays hidden from other receivers, extended "
     "while its work goes on (default 120)."},
};
static const cli_group watch_group = CLI_GROUP("Watch options", watch_opts);
static const cli_group *const watch_groups[] = {
    &watch_group,     &cli_group_s3,      &cli_group_ingest_lookup,
    &cli_group_store, &cli_group_general, NULL};

static int cmd_watch(int argc, char **argv);

const cli_cmd cmd_watch_def = {
    "watch",
    cmd_watch,
    "keep the store current and alert on new events (continuous)",
    "watch [SOURCE...] --rules PATH... [--notify TARGET]... [--interval SECONDS]",
    "Runs until SIGTERM or SIGINT (then finishes the cycle in progress, tries what is due "
    "once more and exits 0). Every --interval it reads the sources into the store - "
    "directories and files (new or grown files; unchanged ones are skipped), lookup:REGIONS "
    "(the event history from --start-time, default one hour before the first run against "
    "the store, kept for later runs; fetching only what is new with 15 minutes of overlap), "
    "s3://bucket/prefix (from the newest key read, kept in the store, less 15 minutes; the "
    "first run from 24 hours back) - and evaluates the rules on "
    "exactly the events that cycle added. sqs://QUEUE_URL (or the queue's ARN) sources are "
    "long-polled between cycles: a trail's log-delivery notifications (raw or in an SNS "
    "envelope; their S3 objects are read) and EventBridge events are stored, evaluated and "
    "delivered at once, and a message is deleted only after what it brought is committed. "
    "Alerts are stored (buildtrail alerts lists them) "
    "with an outbox row per notify target in one transaction, then delivered at least once: "
    "failed deliveries are retried with exponential backoff, across restarts. The same "
    "alert always carries the same key (webhook Idempotency-Key). A source failing is "
    "reported once per change, never stops the others. Bad input (an unknown source scheme, a "
    "queue that does not exist, "
    "a notify target that cannot be parsed, rules that do not load) is one line and exit 2 "
    "before anything starts. A status line goes to stderr every minute (events/s, new alerts, "
    "deliveries pending, and per source its state, ok or failing, and lag: sqs:// the oldest "
    "message's wait in the queue, the others the time since their last clean read; not "
    "with --quiet). docs/watch.md says what is not done yet.",
    watch_groups,
    "  buildtrail watch ./AWSLogs --rules builtin\n"
    "  buildtrail watch ./incoming --rules builtin --notify webhook:https://alerts.example/in\n"
    "  buildtrail watch ./incoming --rules builtin --notify sns:arn:aws:sns:us-east-1:"
    "123456789012:alerts\n"
    "  buildtrail watch lookup:us-east-1,eu-west-1 --rules builtin --interval 60 -o text\n"
    "  buildtrail watch sqs://https://sqs.us-east-1.amazonaws.com/123456789012/trail --rules "
    "builtin\n"};

typedef struct watch_cli {
    cli_common c;
    cli_s3 s3;
    ingest_lookup_opts_t lk;
    const char **rules, **notify;
    size_t nrules, nnotify;
    double interval, suppress, retry_max, visibility;
    const char *dead_letter;
    int text;
    int cycles;
    bt_error err;
} watch_cli;

static volatile sig_atomic_t g_stop, g_reload;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        g_reload++;
    else
        g_stop = 1;
}

static int seconds(const char *opt, const char *v, double lo, double *out)
{
    char *end = NULL;
    double d = strtod(v, &end);
    if (!*v || *end || !(d >= lo) || d > 86400.0 * 365) {
        cli_err("--%s: '%s' is not a number of seconds (at least %g)", opt, v, lo);
        return -1;
    }
    *out = d;
    return 0;
}

static int on_opt(void *ctx, const cli_opt *o, const char *v)
{
    watch_cli *s = ctx;
    int rc = o->id >= O_ENDPOINT_URL ? cli_s3_opt(&s->s3, &s->c, o, v) : 1;
    if (rc <= 0) {
        /* --endpoint-url and --profile are shared with the lookup: sources (as ingest) */
        if (rc == 0 && o->id == O_ENDPOINT_URL)
            s->lk.endpoint = v;
        else if (rc == 0 && o->id == O_PROFILE)
            s->lk.profile = v;
        return rc;
    }
    if ((rc = ingest_lookup_opt(&s->lk, o, v)) <= 0)
        return rc;
    if ((rc = cli_common_opt(&s->c, o, v)) <= 0)
        return rc;
    switch (o->id) {
    case O_RULES: s->rules[s->nrules++] = v; return 0;
    case O_NOTIFY: s->notify[s->nnotify++] = v; return 0;
    case O_INTERVAL: return seconds("interval", v, 0.05, &s->interval);
    case O_SUPPRESS: return seconds("suppress", v, 0, &s->suppress);
    case O_RETRY_MAX: return seconds("retry-max", v, 0.01, &s->retry_max);
    case O_VISIBILITY: return seconds("visibility-timeout", v, 1, &s->visibility);
    case O_DEAD_LETTER: s->dead_letter = v; return 0;
    case O_CYCLES:
        s->cycles = atoi(v);
        if (s->cycles < 1) {
            cli_err("--cycles: '%s' is not a positive number", v);
            return -1;
        }
        return 0;
    case O_WOUTPUT:
        if (strcmp(v, "ndjson") != 0 && strcmp(v, "text") != 0) {
            cli_err("--output: '%s' is not ndjson or text", v);
            return -1;
        }
        s->text = strcmp(v, "text") == 0;
        return 0;
    }
    return -1;
}

static const char *str_or(const bt_json *o, const char *key, const char *dflt)
{
    const char *v = bt_json_get_str(o, key);
    return v ? v : dflt;
}

/* The stdout notifier: the document as is (ndjson), or one line (text). */
static int emit(void *payload, const char *doc, const char *key)
{
    watch_cli *s = payload;
    (void)key;
    if (!s->text) {
        fputs(doc, stdout);
        fputc('\n', stdout);
    } else {
        bt_arena *a = bt_arena_new(0, 0);
        bt_json *d = NULL;
        if (!a || bt_json_parse(a, doc, strlen(doc), NULL, &d, NULL)) {
            bt_arena_free(a);
            return -1;
        }
        printf("%s  %-8s %s (%s)  build %s  event %s\n", str_or(d, "event_time", "-"),
               str_or(d, "level", "-"), str_or(d, "rule_title", "-"), str_or(d, "rule_id", "-"),
               str_or(d, "build_id", "-"), str_or(d, "event_id", "(correlation)"));
        bt_arena_free(a);
    }
    return fflush(stdout) == 0 ? 0 : -1;
}

static void log_line(void *payload, const char *msg)
{
    (void)payload;
    if (!cli_quiet)
        cli_warn("watch: %s", msg);
}

static void catch_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static int run(watch_cli *s, char **pos, int npos)
{
    static const char *const dflt[] = {"stdout"};
    bt_watch_opts o;
    bt_ingest_opts io;
    bt_aws_config aws, lookup_aws;
    bt_store *store = NULL;
    bt_watch *w = NULL;
    char *path = NULL;
    int code = EXIT_OK;

    /* first: a SIGTERM while the store opens (an upgrade) or the rules compile stops
     * the watch before its first cycle, with exit 0, as one later does */
    catch_signals();
    memset(&o, 0, sizeof o);
    o.sources = (const char *const *)pos;
    o.nsources = (size_t)npos;
    o.rules = s->rules;
    o.nrules = s->nrules;
    o.notify = s->nnotify ? s->notify : dflt;
    o.nnotify = s->nnotify ? s->nnotify : 1;
    o.interval_ms = (int64_t)(s->interval * 1000);
    o.suppress_ms = (int64_t)(s->suppress * 1000);
    o.retry_max_ms = (int64_t)(s->retry_max * 1000);
    o.max_cycles = s->cycles;
    o.dead_letter = s->dead_letter;
    o.sqs_visibility_s = (int)s->visibility;
    if (getenv("BUILDTRAIL_WATCH_SQS_HOLD_MS")) /* tests: a kill between commit and delete */
        o.sqs_hold_ms = atoll(getenv("BUILDTRAIL_WATCH_SQS_HOLD_MS"));
    if (getenv("BUILDTRAIL_WATCH_STATUS_MS")) /* tests: a shorter status period */
        o.status_ms = atoll(getenv("BUILDTRAIL_WATCH_STATUS_MS"));
    if (s->c.filter.start_ms != INT64_MIN)
        o.lookup_start_ms = s->c.filter.start_ms;
    bt_ingest_opts_init(&io);
    cli_s3_aws_config(&s->s3, &aws);
    ingest_lookup_config(&s->lk, &lookup_aws);
    io.threads = s->c.threads;
    io.aws = &aws;
    io.addressing = (bt_s3_addressing)s->s3.addressing;
    io.lookup_aws = &lookup_aws;
    o.ingest = &io;
    o.emit = emit;
    o.log = log_line;
    o.stop = &g_stop;
    o.reload = &g_reload;
    o.payload = s;
    if (!(path = cli_store_path(&s->c)))
        return EXIT_ERROR;
    /* bad input first: nothing is touched before it is all checked */
    if (bt_watch_new(&o, &w, &s->err)) {
        int e = s->err.code; /* bad input is a usage error; the network or AWS failing is not */
        code = cli_fail(&s->err, e == BT_ENOMEM || e == BT_EIO || e == BT_EHTTP || e == BT_EAWS ||
                                         e == BT_ECRED || e == BT_ECONFIG
                                     ? EXIT_ERROR
                                     : EXIT_USAGE);
        goto done;
    }
    if (cli_store_open(path, 0, &store, &s->err)) {
        code = cli_fail(&s->err, EXIT_NOSTORE);
        goto done;
    }
    if (bt_watch_attach(w, store, &s->err)) {
        code = cli_fail(&s->err, EXIT_ERROR);
        goto done;
    }
    if (bt_watch_run(w, &s->err))
        code = cli_fail(&s->err, EXIT_ERROR);
done:
    bt_watch_free(w);
    bt_store_close(store);
    free(path);
    return code;
}

static int cmd_watch(int argc, char **argv)
{
    watch_cli s;
    char **pos = NULL;
    int npos = 0, rc, code;

    memset(&s, 0, sizeof s);
    cli_common_init(&s.c);
    s.rules = calloc((size_t)argc + 1, sizeof *s.rules);
    s.notify = calloc((size_t)argc + 1, sizeof *s.notify);
    if (!s.rules || !s.notify) {
        code = EXIT_ERROR;
        goto done;
    }
    if ((rc = cli_parse(&cmd_watch_def, argc, argv, on_opt, &s, &pos, &npos))) {
        code = rc > 0 ? EXIT_OK : EXIT_USAGE;
        goto done;
    }
    if (s.c.filter.end_ms != INT64_MAX) {
        cli_err("watch: --end-time does not apply (watch reads up to now)");
        code = EXIT_USAGE;
        goto done;
    }
    if (!s.nrules) {
        cli_err("watch: no rules (--rules PATH, or --rules builtin)");
        code = EXIT_USAGE;
        goto done;
    }
    code = run(&s, pos, npos);
done:
    free(s.rules);
    free(s.notify);
    free(pos);
    cli_s3_dispose(&s.s3);
    return code;
}
