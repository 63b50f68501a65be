/* filter.c - in-memory evaluation of bt_filter and hints for mistaken event names. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/filter.h"

void bt_filter_init(bt_filter *f)
{
    memset(f, 0, sizeof *f);
    f->start_ms = INT64_MIN;
    f->end_ms = INT64_MAX;
    f->read_only = -1;
}

static const struct {
    const char *option;
    const char *attribute;
} field_names[BT_F__COUNT] = {
    [BT_F_EVENT_NAME] = {"event-name", "EventName"},
    [BT_F_EVENT_SOURCE] = {"event-source", "EventSource"},
    [BT_F_USERNAME] = {"username", "Username"},
    [BT_F_RESOURCE_NAME] = {"resource-name", "ResourceName"},
    [BT_F_RESOURCE_TYPE] = {"resource-type", "ResourceType"},
    [BT_F_ACCESS_KEY_ID] = {"access-key-id", "AccessKeyId"},
    [BT_F_EVENT_ID] = {"event-id", "EventId"},
    [BT_F_ERROR_CODE] = {"error-code", NULL},
    [BT_F_SOURCE_IP] = {"source-ip", NULL},
    [BT_F_ACCOUNT] = {"account", NULL},
    [BT_F_REGION] = {"region", NULL},
    [BT_F_PROJECT] = {"project", NULL},
    [BT_F_BUILD] = {"build", NULL},
    [BT_F_PRINCIPAL] = {"principal", NULL},
};

const char *bt_filter_field_option(bt_filter_field field)
{
    return field < BT_F__COUNT ? field_names[field].option : NULL;
}

const char *bt_filter_field_attribute(bt_filter_field field)
{
    return field < BT_F__COUNT ? field_names[field].attribute : NULL;
}

static int is_uuid36(const char *p)
{
    int i;
    for (i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (p[i] != '-')
                return 0;
        } else if (!isxdigit((unsigned char)p[i])) {
            return 0;
        }
    }
    return 1;
}

const char *bt_filter_build_uuid(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    const char *u;
    if (n < 36)
        return NULL;
    if ((u = bt_event_codebuild_session_uuid(s)))
        return u;
    u = s + n - 36; /* "project:uuid", ARN ".../project:uuid", or bare uuid */
    if (!is_uuid36(u))
        return NULL;
    if (u != s && u[-1] != ':')
        return NULL;
    return u;
}

int bt_filter_add(bt_filter *f, bt_filter_field field, const char *value, bt_error *err)
{
    if (field >= BT_F__COUNT)
        return bt_error_set(err, BT_EINVAL, "unknown filter field");
    if (!value || !*value)
        return bt_error_set(err, BT_EINVAL, "--%s: empty value", field_names[field].option);
    if (f->nvalues[field] >= BT_FILTER_MAX_VALUES)
        return bt_error_set(err, BT_EINVAL, "--%s: more than %d values",
                            field_names[field].option, BT_FILTER_MAX_VALUES);
    if (field == BT_F_BUILD) {
        const char *u = bt_filter_build_uuid(value);
        if (!u)
            return bt_error_set(err, BT_EINVAL,
                                "--build '%s': not a build id, uuid or ARN (expected "
                                "project:uuid, a uuid, or arn:...:build/project:uuid)",
                                value);
        value = u; /* the uuid is the 36-char tail, NUL-terminated because it ends s */
    }
    f->values[field][f->nvalues[field]++] = value;
    return 0;
}

int bt_filter_set_read_only(bt_filter *f, const char *value, bt_error *err)
{
    if (strcmp(value, "true") == 0)
        f->read_only = 1;
    else if (strcmp(value, "false") == 0)
        f->read_only = 0;
    else
        return bt_error_set(err, BT_EINVAL, "--read-only '%s': expected true or false", value);
    return 0;
}

bool bt_filter_is_empty(const bt_filter *f)
{
    int i;
    for (i = 0; i < BT_F__COUNT; i++)
        if (f->nvalues[i])
            return false;
    return f->read_only < 0 && !f->errors_only && !f->kinds;
}

static bool any_eq(const bt_filter *f, bt_filter_field field, const char *v)
{
    unsigned i;
    if (!f->nvalues[field])
        return true;
    if (!v)
        return (f->missing_ok >> field) & 1u;
    for (i = 0; i < f->nvalues[field]; i++)
        if (strcmp(f->values[field][i], v) == 0)
            return true;
    return false;
}

static bool any_resource(const bt_filter *f, const bt_event *ev)
{
    size_t r;
    unsigned i;
    bool name_ok = !f->nvalues[BT_F_RESOURCE_NAME], type_ok = !f->nvalues[BT_F_RESOURCE_TYPE];
    for (r = 0; r < ev->n_resources; r++) {
        for (i = 0; i < f->nvalues[BT_F_RESOURCE_NAME]; i++)
            if (strcmp(f->values[BT_F_RESOURCE_NAME][i], ev->resources[r].name) == 0)
                name_ok = true;
        for (i = 0; i < f->nvalues[BT_F_RESOURCE_TYPE]; i++)
            if (ev->resources[r].type &&
                strcmp(f->values[BT_F_RESOURCE_TYPE][i], ev->resources[r].type) == 0)
                type_ok = true;
    }
    return name_ok && type_ok;
}

bool bt_filter_match(const bt_filter *f, const bt_event *ev)
{
    unsigned kinds = f->kinds ? f->kinds : (1u << BT_KIND_API) | (1u << BT_KIND_BUILD_STATE) |
                                               (1u << BT_KIND_BUILD_PHASE);
    if (!(kinds & (1u << ev->kind)))
        return false;
    if (ev->time_ms < f->start_ms || ev->time_ms > f->end_ms)
        return false;
    if (f->read_only >= 0 && ev->read_only != f->read_only)
        return false;
    if (f->errors_only && !ev->error_code)
        return false;
    return any_eq(f, BT_F_EVENT_NAME, ev->event_name) &&
           any_eq(f, BT_F_EVENT_SOURCE, ev->event_source) &&
           any_eq(f, BT_F_USERNAME, ev->username) &&
           any_eq(f, BT_F_ACCESS_KEY_ID, ev->access_key_id) &&
           any_eq(f, BT_F_EVENT_ID, ev->event_id) &&
           any_eq(f, BT_F_ERROR_CODE, ev->error_code) &&
           any_eq(f, BT_F_SOURCE_IP, ev->source_ip) && any_eq(f, BT_F_ACCOUNT, ev->account) &&
           any_eq(f, BT_F_REGION, ev->region) && any_eq(f, BT_F_PROJECT, ev->project) &&
           (any_eq(f, BT_F_BUILD, ev->build_uuid) || any_eq(f, BT_F_BUILD, ev->actor_uuid)) &&
           any_eq(f, BT_F_PRINCIPAL, ev->principal_arn) && any_resource(f, ev);
}

/* ---- hints ------------------------------------------------------------------------ */

static const char *const codebuild_ops[] = {
    "BatchDeleteBuilds", "BatchGetBuildBatches", "BatchGetBuilds", "BatchGetFleets",
    "BatchGetProjects", "BatchGetReportGroups", "BatchGetReports", "CreateFleet",
    "CreateProject", "CreateReportGroup", "CreateWebhook", "DeleteBuildBatch", "DeleteFleet",
    "DeleteProject", "DeleteReport", "DeleteReportGroup", "DeleteResourcePolicy",
    "DeleteSourceCredentials", "DeleteWebhook", "DescribeCodeCoverages", "DescribeTestCases",
    "GetReportGroupTrend", "GetResourcePolicy", "ImportSourceCredentials",
    "InvalidateProjectCache", "ListBuildBatches", "ListBuildBatchesForProject", "ListBuilds",
    "ListBuildsForProject", "ListCuratedEnvironmentImages", "ListFleets", "ListProjects",
    "ListReportGroups", "ListReports", "ListReportsForReportGroup", "ListSharedProjects",
    "ListSharedReportGroups", "ListSourceCredentials", "PutResourcePolicy", "RetryBuild",
    "RetryBuildBatch", "StartBuild", "StartBuildBatch", "StopBuild", "StopBuildBatch",
    "UpdateFleet", "UpdateProject", "UpdateProjectVisibility", "UpdateReportGroup",
    "UpdateWebhook"};

static size_t lev(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b), i, j, prev, tmp, row[64];
    if (la >= 63 || lb >= 63)
        return 99;
    for (j = 0; j <= lb; j++)
        row[j] = j;
    for (i = 1; i <= la; i++) {
        prev = row[0];
        row[0] = i;
        for (j = 1; j <= lb; j++) {
            size_t cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            tmp = row[j];
            row[j] = row[j] + 1 < row[j - 1] + 1 ? row[j] + 1 : row[j - 1] + 1;
            if (prev + cost < row[j])
                row[j] = prev + cost;
            prev = tmp;
        }
    }
    return row[lb];
}

char *bt_filter_hint(bt_filter_field field, const char *value)
{
    char *out = NULL;
    size_t i, best = 99, bi = 0;

    if (field != BT_F_EVENT_NAME || !value)
        return NULL;
    if (strcasecmp(value, "BuildPhaseChange") == 0 || strcasecmp(value, "BuildStateChange") == 0 ||
        strcasestr(value, "Phase Change") || strcasestr(value, "State Change")) {
        if (strcmp(value, "CodeBuild Build Phase Change") == 0 ||
            strcmp(value, "CodeBuild Build State Change") == 0)
            return NULL;
        if (asprintf(&out,
                     "'%s' is not a CloudTrail event: CodeBuild sends build phase and state "
                     "changes to EventBridge (detail-type \"CodeBuild Build Phase Change\" / "
                     "\"CodeBuild Build State Change\"); ingest those events, use "
                     "'buildtrail build <id>' for a build's timeline, or filter on StartBuild, "
                     "StopBuild and --build",
                     value) < 0)
            return NULL;
        return out;
    }
    for (i = 0; i < sizeof codebuild_ops / sizeof codebuild_ops[0]; i++) {
        size_t d;
        if (strcmp(value, codebuild_ops[i]) == 0)
            return NULL;
        d = lev(value, codebuild_ops[i]);
        if (d < best) {
            best = d;
            bi = i;
        }
    }
    if (best <= 2 || (best <= 3 && strlen(value) > 10)) {
        if (asprintf(&out, "no CodeBuild API is named '%s'; did you mean '%s'?", value,
                     codebuild_ops[bi]) < 0)
            return NULL;
        return out;
    }
    return NULL;
}
