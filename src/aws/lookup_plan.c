/* lookup_plan.c - the LookupEvents query planner: of the attributes and filters a
 * query ANDs, the one single-valued attribute the service filters on (the most
 * selective, or an unknown key so the service reports it), and the rest applied to
 * each event here (attributes on the LookupEvents event, other filters on its
 * record). Used by bt_ct_lookup_pages. */
#include <stdint.h>
#include <string.h>

#include "buildtrail/lookup.h"

static const char *opt_name(bt_arena *a, const char *name)
{
    size_t n = strlen(name);
    char *s = bt_arena_alloc(a, n + 3);
    if (!s)
        return name;
    memcpy(s, "--", 2);
    memcpy(s + 2, name, n + 1);
    return s;
}

int bt_ct_plan_make(bt_ct_plan *p, const bt_ct_cond *conds, size_t nconds, const bt_filter *f,
                    bt_arena *a, bt_error *err)
{
    const bt_ct_cond *all[BT_CT_PLAN_MAX_LOCAL];
    size_t nall = 0, nf = 0, i;
    int field, best = -1, best_rank = 1000;

    memset(p, 0, sizeof *p);
    if (nconds + BT_F__COUNT + 1 > BT_CT_PLAN_MAX_LOCAL)
        return bt_error_set(err, BT_EINVAL, "too many lookup attributes");
    for (i = 0; i < nconds; i++)
        all[nall++] = &conds[i];
    p->record = *f;
    for (field = 0; field < BT_F__COUNT; field++) {
        const char *attr = bt_filter_field_attribute((bt_filter_field)field);
        bt_ct_cond *c;
        if (!attr || !f->nvalues[field])
            continue;
        c = &p->filter_conds[nf++];
        c->key = attr;
        c->n = f->nvalues[field];
        memcpy(c->values, f->values[field], c->n * sizeof c->values[0]);
        c->origin = opt_name(a, bt_filter_field_option((bt_filter_field)field));
        all[nall++] = c;
        p->record.nvalues[field] = 0;
    }
    if (f->read_only >= 0) {
        bt_ct_cond *c = &p->filter_conds[nf++];
        c->key = BT_CT_ATTR_READ_ONLY;
        c->values[0] = f->read_only ? "true" : "false";
        c->n = 1;
        c->origin = "--read-only";
        all[nall++] = c;
        p->record.read_only = -1;
    }
    /* the service gets one single-valued attribute: an unknown key first (the service
     * reports it), else the most selective */
    for (i = 0; i < nall; i++) {
        int rank = all[i]->n == 1 ? bt_ct_attr_rank(all[i]->key) : 1000;
        if (rank == 100)
            rank = -1;
        if (rank < best_rank) {
            best_rank = rank;
            best = (int)i;
        }
    }
    if (best >= 0)
        p->server = all[best];
    for (i = 0; i < nall; i++)
        if ((int)i != best)
            p->local[p->nlocal++] = *all[i];
    p->record.start_ms = INT64_MIN;
    p->record.end_ms = INT64_MAX;
    p->need_record = !bt_filter_is_empty(&p->record);
    p->record.kinds = ~0u; /* Insights events too */
    return 0;
}

int bt_ct_plan_match(const bt_ct_plan *p, bt_arena *a, const bt_ct_event *ev)
{
    size_t i, k;
    for (i = 0; i < p->nlocal; i++) {
        int any = 0;
        for (k = 0; k < p->local[i].n && !any; k++)
            any = bt_ct_event_attr_match(ev, p->local[i].key, p->local[i].values[k]);
        if (!any)
            return 0;
    }
    if (p->need_record) {
        bt_event rec;
        bt_error err = BT_ERROR_INIT;
        int rc = bt_ct_event_record(a, ev, &rec, &err);
        if (rc == BT_ENOMEM)
            return -1;
        if (rc)
            return 0;
        return bt_filter_match(&p->record, &rec) ? 1 : 0;
    }
    return 1;
}

int bt_ct_plan_describe(const bt_ct_plan *p, bt_buf *out)
{
    size_t i, k;
    int field, rc = 0;
    rc |= bt_buf_puts(out, "sent to the service: ");
    if (p->server)
        rc |= bt_buf_printf(out, "%s=%s (from %s)", p->server->key, p->server->values[0],
                            p->server->origin);
    else
        rc |= bt_buf_puts(out, "no attribute");
    rc |= bt_buf_puts(out, "; applied here: ");
    if (!p->nlocal && !p->need_record)
        rc |= bt_buf_puts(out, "nothing");
    for (i = 0; i < p->nlocal; i++) {
        rc |= bt_buf_printf(out, "%s%s=", i ? " AND " : "", p->local[i].key);
        for (k = 0; k < p->local[i].n; k++)
            rc |= bt_buf_printf(out, "%s%s", k ? "|" : "", p->local[i].values[k]);
        rc |= bt_buf_printf(out, " (from %s)", p->local[i].origin);
    }
    if (p->need_record) {
        int first = !p->nlocal;
        for (field = 0; field < BT_F__COUNT; field++)
            if (p->record.nvalues[field]) {
                rc |= bt_buf_printf(out, "%s--%s", first ? "" : " AND ",
                                    bt_filter_field_option((bt_filter_field)field));
                first = 0;
            }
        if (p->record.errors_only)
            rc |= bt_buf_printf(out, "%s--errors", first ? "" : " AND ");
        rc |= bt_buf_puts(out, " (on the record)");
    }
    return rc ? BT_ENOMEM : 0;
}
