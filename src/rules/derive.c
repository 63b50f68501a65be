/* derive.c - buildtrail's derived fields for rules (docs/rules.md, "Derived fields"):
 * a build tracker that learns each build's project, start, end and its role session's
 * source addresses from events (in any order) or from a store's build summaries, and
 * derives, per event, the build it belongs to, whether it is the build's own call, the
 * build's state at the event's time and whether the source address is known. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/buf.h"
#include "buildtrail/codebuild.h"
#include "buildtrail/event.h"
#include "buildtrail/rules.h"
#include "rules_int.h"

typedef struct tip {
    char addr[46]; /* an IPv4 or IPv6 address */
    int64_t first_ms;
    char first_id[40]; /* event id of the first use (ties at the same ms) */
} tip;

typedef struct tbuild {
    char uuid[37];
    char *project;          /* malloc'd or NULL */
    char *build_id;         /* malloc'd or NULL */
    int64_t start_ms;       /* 0 unknown */
    int64_t end_ms;         /* 0 unknown */
    int end_rank;           /* bt_build_status_rank of the end's status */
    bt_build_status status; /* the final status when end_ms */
    /* malloc'd, grown as addresses come (most builds use one): 16 inline made a build
     * 1.7 KiB, 342 MB at the default cap (now about 340 bytes, 67 MB) */
    tip *ips;
    unsigned nips;
    size_t capips;
} tbuild;

struct bt_build_tracker {
    tbuild **slots; /* open addressing on the uuid */
    size_t cap, n, max, dropped;
    bt_arena *scratch; /* re-parsing fact records */
    char idbuf[512];   /* derive: "project:uuid" when only pieces are known */
    char projbuf[256];
};

static uint64_t hash_uuid(const char *u)
{
    uint64_t h = 1469598103934665603ull;
    int i;
    for (i = 0; i < 36 && u[i]; i++)
        h = (h ^ (unsigned char)u[i]) * 1099511628211ull;
    return h;
}

bt_build_tracker *bt_build_tracker_new(size_t max_builds)
{
    bt_build_tracker *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->max = max_builds ? max_builds : BT_BUILD_TRACKER_DEFAULT_BUILDS;
    t->cap = 1024;
    t->slots = calloc(t->cap, sizeof *t->slots);
    t->scratch = bt_arena_new(64 << 10, 0);
    if (!t->slots || !t->scratch) {
        bt_build_tracker_free(t);
        return NULL;
    }
    return t;
}

void bt_build_tracker_free(bt_build_tracker *t)
{
    size_t i;
    if (!t)
        return;
    for (i = 0; t->slots && i < t->cap; i++)
        if (t->slots[i]) {
            free(t->slots[i]->project);
            free(t->slots[i]->build_id);
            free(t->slots[i]->ips);
            free(t->slots[i]);
        }
    free(t->slots);
    bt_arena_free(t->scratch);
    free(t);
}

size_t bt_build_tracker_count(const bt_build_tracker *t, size_t *dropped)
{
    if (dropped)
        *dropped = t->dropped;
    return t->n;
}

static tbuild **slot_of(tbuild **slots, size_t cap, const char *uuid)
{
    size_t i = (size_t)hash_uuid(uuid) & (cap - 1);
    while (slots[i] && strncmp(slots[i]->uuid, uuid, 36) != 0)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

static tbuild *find(const bt_build_tracker *t, const char *uuid)
{
    if (!uuid || strlen(uuid) < 36)
        return NULL;
    return *slot_of(t->slots, t->cap, uuid);
}

static int grow(bt_build_tracker *t)
{
    size_t i, cap = t->cap * 2;
    tbuild **v = calloc(cap, sizeof *v);
    if (!v)
        return BT_ENOMEM;
    for (i = 0; i < t->cap; i++)
        if (t->slots[i])
            *slot_of(v, cap, t->slots[i]->uuid) = t->slots[i];
    free(t->slots);
    t->slots = v;
    t->cap = cap;
    return 0;
}

/* The entry of uuid, made when new; *out NULL (and 0) when the cap is reached. */
static int get(bt_build_tracker *t, const char *uuid, tbuild **out)
{
    tbuild **s;
    *out = NULL;
    if (!uuid || strlen(uuid) < 36)
        return 0;
    s = slot_of(t->slots, t->cap, uuid);
    if (*s) {
        *out = *s;
        return 0;
    }
    if (t->n >= t->max) {
        t->dropped++;
        return 0;
    }
    if ((t->n + 1) * 2 > t->cap) {
        if (grow(t))
            return BT_ENOMEM;
        s = slot_of(t->slots, t->cap, uuid);
    }
    if (!(*s = calloc(1, sizeof **s)))
        return BT_ENOMEM;
    memcpy((*s)->uuid, uuid, 36);
    t->n++;
    *out = *s;
    return 0;
}

static int set_str(char **dst, const char *s)
{
    if (!s || *dst)
        return 0;
    return (*dst = strdup(s)) ? 0 : BT_ENOMEM;
}

/* An address, not a service name ("codebuild.amazonaws.com", "AWS Internal"). */
static int is_address(const char *s)
{
    size_t i, n = s ? strlen(s) : 0;
    if (!n || n >= sizeof(((tip *)0)->addr))
        return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') ||
              c == '.' || c == ':'))
            return 0;
    }
    return 1;
}

/* (ms, id) strictly before (ms2, id2) */
static int before(int64_t ms, const char *id, int64_t ms2, const char *id2)
{
    if (ms != ms2)
        return ms < ms2;
    return strcmp(id ? id : "", id2 ? id2 : "") < 0;
}

static int learn_ip(tbuild *b, const bt_event *ev)
{
    unsigned i;
    tip *p;
    if (!is_address(ev->source_ip))
        return 0;
    for (i = 0; i < b->nips; i++) {
        p = &b->ips[i];
        if (strcmp(p->addr, ev->source_ip) == 0) {
            if (before(ev->time_ms, ev->event_id, p->first_ms, p->first_id)) {
                p->first_ms = ev->time_ms;
                snprintf(p->first_id, sizeof p->first_id, "%s", ev->event_id ? ev->event_id : "");
            }
            return 0;
        }
    }
    if (b->nips == BT_BUILD_TRACKER_MAX_IPS)
        return 0;
    if (bt_array_grow((void **)&b->ips, &b->capips, b->nips + 1, sizeof *b->ips, 1))
        return BT_ENOMEM;
    p = &b->ips[b->nips++];
    snprintf(p->addr, sizeof p->addr, "%s", ev->source_ip);
    p->first_ms = ev->time_ms;
    snprintf(p->first_id, sizeof p->first_id, "%s", ev->event_id ? ev->event_id : "");
    return 0;
}

static void set_end(tbuild *b, int64_t ms, bt_build_status st, int rank)
{
    if (rank < b->end_rank)
        return;
    /* among equals the earliest end counts (a stop, the first final state) */
    if (rank == b->end_rank && b->end_ms && b->end_ms <= ms)
        return;
    b->end_ms = ms;
    b->end_rank = rank;
    b->status = st;
}

static void set_start(tbuild *b, int64_t ms)
{
    if (ms > 0 && (!b->start_ms || ms < b->start_ms))
        b->start_ms = ms;
}

static int learn_facts(bt_build_tracker *t, const bt_event *ev)
{
    bt_build_facts f;
    tbuild *b;
    int rc;

    bt_arena_reset(t->scratch);
    if ((rc = bt_build_facts_of(t->scratch, ev, &f)) || f.kind == BT_BF_NONE || !f.uuid)
        return rc;
    if ((rc = get(t, f.uuid, &b)) || !b)
        return rc;
    if ((rc = set_str(&b->project, f.project)) || (rc = set_str(&b->build_id, f.build_id)))
        return rc;
    switch (f.kind) {
    case BT_BF_START:
    case BT_BF_RETRY:
    case BT_BF_BATCH_START: set_start(b, f.time_ms); break;
    case BT_BF_STOP: set_end(b, f.time_ms, BT_STATUS_STOPPED, 2); break;
    case BT_BF_STATE:
        set_start(b, f.start_ms);
        if (f.status == BT_STATUS_IN_PROGRESS)
            set_start(b, f.time_ms);
        else if (f.status != BT_STATUS_UNKNOWN)
            set_end(b, f.time_ms, f.status, 3);
        break;
    default: break;
    }
    return 0;
}

bool bt_build_tracker_wants(const bt_event *ev)
{
    return bt_build_facts_possible(ev) || ev->actor_uuid;
}

bool bt_build_tracker_may_want(const char *raw, size_t len)
{
    return memmem(raw, len, "odeBuild", 8) || memmem(raw, len, "odebuild", 8);
}

int bt_build_tracker_learn(bt_build_tracker *t, const bt_event *ev)
{
    tbuild *b;
    int rc;
    if (bt_build_facts_possible(ev) && (rc = learn_facts(t, ev)))
        return rc;
    if (!ev->actor_uuid)
        return 0;
    if ((rc = get(t, ev->actor_uuid, &b)) || !b)
        return rc;
    return learn_ip(b, ev);
}

int bt_build_tracker_add_build(bt_build_tracker *t, const bt_build *bb)
{
    tbuild *b;
    int rc;
    if ((rc = get(t, bb->uuid, &b)) || !b)
        return rc;
    if ((rc = set_str(&b->project, bb->project)) || (rc = set_str(&b->build_id, bb->build_id)))
        return rc;
    set_start(b, bb->start_ms);
    if (bb->end_ms > 0 && bb->outcome != BT_STATUS_UNKNOWN && bb->outcome != BT_STATUS_IN_PROGRESS)
        set_end(b, bb->end_ms, bb->outcome,
                bt_build_status_rank(bb->outcome, bt_build_status_source_parse(bb->status_source)));
    return 0;
}

/* source_ip_known of a build's call: 1 used before, 0 not (others were), -1 first */
static int ip_known(const tbuild *b, const bt_event *ev)
{
    unsigned i;
    int any_before = 0;
    if (!is_address(ev->source_ip))
        return -1;
    for (i = 0; i < b->nips; i++) {
        const tip *p = &b->ips[i];
        if (!before(p->first_ms, p->first_id, ev->time_ms, ev->event_id))
            continue;
        if (strcmp(p->addr, ev->source_ip) == 0)
            return 1;
        any_before = 1;
    }
    return any_before ? 0 : -1;
}

static void derive_state(const tbuild *b, const bt_event *ev, bt_rule_derived *d)
{
    if (b->start_ms && ev->time_ms < b->start_ms && !ev->actor_uuid) {
        d->build_state = "NOT_STARTED";
    } else if (b->end_ms && ev->time_ms > b->end_ms) {
        d->build_state = bt_build_status_name(b->status);
        d->build_ended_age_s = (double)(ev->time_ms - b->end_ms) / 1000.0;
    } else if (b->start_ms || b->end_ms || ev->actor_uuid) {
        d->build_state = "IN_PROGRESS";
    }
}

void rules_derive(const bt_build_tracker *t, const bt_event *ev, bt_rule_derived *d,
                  bt_arena *scratch, char *projbuf, size_t projsz, char *idbuf, size_t idsz)
{
    const char *uuid = ev->actor_uuid ? ev->actor_uuid : ev->build_uuid;
    const tbuild *b;
    bt_rule_derived init = BT_RULE_DERIVED_INIT;

    *d = init;
    d->is_build_call = ev->actor_uuid ? 1 : 0;
    if (!uuid || strlen(uuid) < 36)
        return;
    b = find(t, uuid);
    d->build_uuid = uuid;
    d->project = b && b->project ? b->project : NULL;
    if (!d->project && !ev->actor_uuid)
        d->project = ev->project;
    if (!d->project && ev->actor_uuid) {
        /* the console's role naming "codebuild-<project>-service-role" (a guess) */
        bt_arena_reset(scratch);
        d->project = bt_build_project_from_role(NULL, scratch, ev->principal_arn);
        if (d->project) {
            snprintf(projbuf, projsz, "%s", d->project);
            d->project = projbuf;
        }
    }
    if (b && b->build_id)
        d->build_id = b->build_id;
    else if (!ev->actor_uuid && ev->build_id)
        d->build_id = ev->build_id;
    else if (d->project) {
        snprintf(idbuf, idsz, "%s:%.36s", d->project, uuid);
        d->build_id = idbuf;
    }
    if (!b)
        return;
    derive_state(b, ev, d);
    if (ev->actor_uuid)
        d->source_ip_known = ip_known(b, ev);
}

void bt_build_tracker_derive(bt_build_tracker *t, const bt_event *ev, bt_rule_derived *d)
{
    rules_derive(t, ev, d, t->scratch, t->projbuf, sizeof t->projbuf, t->idbuf, sizeof t->idbuf);
}
