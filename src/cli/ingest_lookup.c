/* ingest_lookup.c - `buildtrail ingest lookup:REGION`: the options of the event-history
 * backfill (the library's bt_ingest runs it: src/sources/ingest_lookup.c), its client
 * settings, and the line printed per region. */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/aws.h"
#include "cli.h"
#include "ingest_lookup.h"

static const cli_opt ingest_lookup_opts[] = {
    {"start-time", 0, OPT_VALUE, "TIME", O_START,
     "lookup: sources: the oldest events to fetch (ISO 8601, epoch seconds or an age such as "
     "30d; default 90d, the whole event history)."},
    {"end-time", 0, OPT_VALUE, "TIME", O_END,
     "lookup: sources: the newest events to fetch (default: now; a later run then fetches "
     "only what is new)."},
    {"profile", 0, OPT_VALUE, "NAME", IL_PROFILE, "lookup: sources: the AWS profile."},
    {"endpoint-url", 0, OPT_VALUE, "URL", IL_ENDPOINT,
     "lookup: sources: call URL instead of the region's CloudTrail endpoint."},
    {"rate", 0, OPT_VALUE, "N", IL_RATE,
     "lookup: sources: LookupEvents calls per second per account and region (default 2, the "
     "service's limit; 0 = no limit)."},
};
const cli_group cli_group_ingest_lookup =
    CLI_GROUP("Event history (lookup:REGION sources)", ingest_lookup_opts);

int ingest_lookup_opt(ingest_lookup_opts_t *o, const cli_opt *opt, const char *value)
{
    switch (opt->id) {
    case IL_PROFILE: o->profile = value; return 0;
    case IL_ENDPOINT: o->endpoint = value; return 0;
    case IL_RATE: {
        char *end;
        double d = strtod(value, &end);
        if (!*value || *end || d < 0) {
            cli_err("--rate '%s': expected calls per second (0 = no limit)", value);
            return -1;
        }
        o->rate = d == 0 ? -1 : d;
        return 0;
    }
    }
    return 1;
}

void ingest_lookup_config(const ingest_lookup_opts_t *o, bt_aws_config *cfg)
{
    bt_aws_config init = BT_AWS_CONFIG_INIT;
    *cfg = init;
    cfg->profile = o->profile;
    cfg->endpoint_url = o->endpoint;
    cfg->lookup_events_rate = o->rate;
    cfg->user_agent = "buildtrail ingest";
}

int ingest_lookup_report(const bt_ingest_lookup_region *r, int json_summary)
{
    const char *rg = r->region ? r->region : "(configured region)";
    int code = r->rc == 0 || r->skipped                   ? EXIT_OK
               : r->rc == BT_EAWS                         ? EXIT_AWS_SERVICE
               : r->rc == BT_ECRED || r->rc == BT_ECONFIG ? EXIT_AWS_CONFIG
                                                          : EXIT_ERROR;
    double eps = r->seconds > 0 ? (double)r->events / r->seconds : 0.0;
    if (code)
        cli_err("ingest %s (%s): %s", r->source, rg, r->err->msg);
    if (json_summary)
        printf("{\"source\": \"lookup:%s\", \"pages\": %llu, \"events\": %llu, \"new\": %llu, "
               "\"duplicate\": %llu, \"resumed\": %s, \"incremental\": %s, \"complete\": %s, "
               "\"seconds\": %.3f, \"events_per_second\": %.1f}\n",
               r->region ? r->region : "", (unsigned long long)r->pages,
               (unsigned long long)r->events, (unsigned long long)r->new_events,
               (unsigned long long)r->duplicates, r->resumed ? "true" : "false",
               r->incremental ? "true" : "false", !r->rc && !r->cancelled ? "true" : "false",
               r->seconds, eps);
    else if (!r->skipped)
        printf("lookup:%s pages %llu, events %llu, new %llu, duplicate %llu%s%s; %.2f s, %.1f "
               "events/s\n",
               r->region ? r->region : "", (unsigned long long)r->pages,
               (unsigned long long)r->events, (unsigned long long)r->new_events,
               (unsigned long long)r->duplicates,
               r->resumed ? " (resumed from the saved cursor)" : "",
               r->already       ? " (window already complete)"
               : r->incremental ? " (new events since the last run)"
                                : "",
               r->seconds, eps);
    return code;
}
