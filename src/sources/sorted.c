/* sorted.c - events put back in time order in bounded memory (source.h,
 * bt_event_sorter): each event's raw record spooled under its time, id, kind and length
 * (spool.h), read back in order and parsed again. What `search --from` prints. */
#include <stdlib.h>
#include <string.h>

#include "buildtrail/source.h"
#include "buildtrail/spool.h"
#include "util/tmpfile.h"

/* Bytes of records held in memory before they go to the temporary file a sorted run at
 * a time: up to some 10,000 records sort in memory; millions stay near twice this much
 * (a stage filling while the spool's thread writes the last) whatever their number. */
#define SORTER_STAGE_CAP ((size_t)16 << 20)

struct bt_event_sorter {
    bt_spool *sp;
    bt_arena *arena; /* the event being handed over */
    uint64_t seq;
};

/* newest first: bt_spool_cmp_time_key reversed in time and id, the tag (kind and length)
 * and arrival still ascending, so that of a record's copies the same one is kept in
 * either order */
static int cmp_newest(const void *a, const void *b)
{
    const bt_spool_ent *x = a, *y = b;
    int c;
    if (x->time_ms != y->time_ms)
        return x->time_ms < y->time_ms ? 1 : -1;
    if ((c = strcmp(y->key, x->key)))
        return c;
    if (x->tag != y->tag)
        return x->tag < y->tag ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int bt_event_sorter_new(bool oldest_first, size_t keep, bt_event_sorter **out)
{
    bt_event_sorter *s = calloc(1, sizeof *s);
    bt_spool_opts o = {.kinds = 1,
                       .cmp = oldest_first ? bt_spool_cmp_time_key : cmp_newest,
                       .stage_cap = SORTER_STAGE_CAP,
                       .keep = keep,
                       .same = bt_spool_same_time_key,
                       .compress = true}; /* (1.3 GB of records: 237 MB of file) */
    *out = NULL;
    if (!s || !(s->arena = bt_arena_new(1 << 16, 0)) || bt_spool_new(&o, &s->sp)) {
        bt_event_sorter_free(s);
        return BT_ENOMEM;
    }
    *out = s;
    return 0;
}

void bt_event_sorter_free(bt_event_sorter *s)
{
    if (!s)
        return;
    bt_spool_free(s->sp);
    bt_arena_free(s->arena);
    free(s);
}

static int fail(int rc, const char *what, bt_error *err)
{
    if (rc == BT_ENOMEM)
        return bt_error_set(err, rc, "out of memory");
    return bt_error_set(err, rc,
                        "cannot %s the temporary file that sorts the matches in '%s' "
                        "($TMPDIR)",
                        what, bt_temp_dir());
}

int bt_event_sorter_add(bt_event_sorter *s, const bt_event *ev, bt_error *err)
{
    bt_spool_ent x;
    size_t n = ev->event_id ? strnlen(ev->event_id, sizeof x.key - 1) : 0;
    int rc;
    memset(&x, 0, sizeof x); /* padding too: it goes to a file */
    x.time_ms = ev->time_ms;
    x.seq = s->seq++;
    /* the kind, and the record's length: of two copies of one event that differ, the
     * shorter is kept, whichever file a worker finished first */
    x.tag = (uint32_t)ev->kind | (uint32_t)(ev->raw_len < 0xFFFFFF ? ev->raw_len : 0xFFFFFF) << 8;
    if (n)
        memcpy(x.key, ev->event_id, n);
    rc = bt_spool_put(s->sp, 0, &x, ev->raw, ev->raw_len, false);
    return rc ? fail(rc, "write", err) : 0;
}

int bt_event_sorter_finish(bt_event_sorter *s, bt_error *err)
{
    int rc = bt_spool_finish(s->sp, 0, bt_spool_same_time_key);
    return rc ? fail(rc, "write", err) : 0;
}

int bt_event_sorter_each(bt_event_sorter *s, size_t max, bool raw_only,
                         int (*fn)(void *ctx, const bt_event *ev), void *ctx, bt_error *err)
{
    size_t i, n = bt_spool_count(s->sp, 0);
    int rc = 0;
    if (max && max < n)
        n = max;
    for (i = 0; i < n && !rc; i++) {
        bt_spool_ent x;
        const char *raw;
        bt_event ev;
        if ((rc = bt_spool_at(s->sp, 0, i, &x, &raw)))
            return fail(rc, "read back", err);
        if (raw_only) { /* printed as it is: no need to parse it */
            memset(&ev, 0, sizeof ev);
            ev.raw = raw;
            ev.raw_len = x.len;
            ev.time_ms = x.time_ms;
        } else {
            bt_arena_reset(s->arena);
            /* it parsed once to become an event: only memory fails here */
            if (bt_event_from_raw(s->arena, raw, x.len, (bt_event_kind)(x.tag & 0xFF), false, NULL,
                                  &ev, NULL))
                return fail(BT_ENOMEM, "", err);
        }
        rc = fn(ctx, &ev);
    }
    return rc;
}

size_t bt_event_sorter_count(const bt_event_sorter *s)
{
    return bt_spool_count(s->sp, 0);
}

void bt_event_sorter_stats(bt_event_sorter *s, uint64_t *bytes, uint64_t *file_bytes, size_t *runs)
{
    bt_spool_stats(s->sp, bytes, file_bytes, runs);
}
