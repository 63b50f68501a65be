/* test_spool.c - unit tests for the spool (spool.h): records of varied sizes through a
 * tiny stage (many runs in the temporary file, merged back) against an in-memory
 * reference, two kinds interleaved in one file, duplicates dropped, keep (the first N
 * distinct per run), draining staged records below a time, the in-memory path (no
 * file), release and misuse. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/error.h"
#include "buildtrail/spool.h"
#include "tharness.h"

/* runs written as zstd frames by the spool's writer thread, or plainly */
static bool compress;

/* the spool's own order and sameness (oldest first, then the key, then arrival) */
#define cmp_ent bt_spool_cmp_time_key
#define same_ent bt_spool_same_time_key

static uint64_t rng = 0x9E3779B97F4A7C15ULL;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* Record i's bytes: its number and time, then filler, so a record read back from the
 * wrong place shows. */
static size_t record_of(const bt_spool_ent *x, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "{\"seq\":%llu,\"t\":%lld,\"k\":\"%s\"}",
                                (unsigned long long)x->seq, (long long)x->time_ms, x->key);
    size_t pad = x->seq % 7 == 0 ? 3000 : x->seq % 50; /* some records far larger */
    while (pad-- && n + 1 < cap)
        buf[n++] = (char)('a' + (x->seq + pad) % 26);
    buf[n] = 0;
    return n;
}

typedef struct ref_ent {
    bt_spool_ent e;
    int kind;
} ref_ent;

#define N 20000

static ref_ent *make(size_t n)
{
    ref_ent *v = calloc(n, sizeof *v);
    size_t i;
    for (i = 0; v && i < n; i++) {
        v[i].e.time_ms = 1700000000000LL + next_rand() % 5000; /* many ties */
        v[i].e.seq = i;
        v[i].e.tag = (uint32_t)(i % 3);
        if (next_rand() % 5) /* a fifth have no key: never the same as another */
            snprintf(v[i].e.key, sizeof v[i].e.key, "id-%u", next_rand() % 800);
        v[i].kind = (int)(next_rand() % 2);
    }
    /* duplicates: a record delivered twice (same time and key) */
    for (i = 0; v && i + 1 < n; i += 97) {
        size_t j = (i * 31 + 7) % n;
        v[j].e.time_ms = v[i].e.time_ms;
        memcpy(v[j].e.key, v[i].e.key, sizeof v[j].e.key);
        v[j].kind = v[i].kind;
        if (!*v[i].e.key)
            snprintf(v[i].e.key, sizeof v[i].e.key, "dup-%zu", i),
                memcpy(v[j].e.key, v[i].e.key, 40);
    }
    return v;
}

/* kind's entries of v in the spool's order, duplicates dropped; their count */
static size_t reference(const ref_ent *v, size_t n, int kind, bt_spool_ent *out)
{
    size_t i, k = 0, m = 0;
    for (i = 0; i < n; i++)
        if (v[i].kind == kind)
            out[m++] = v[i].e;
    qsort(out, m, sizeof *out, cmp_ent);
    for (i = 0; i < m; i++)
        if (!k || !same_ent(&out[k - 1], &out[i]))
            out[k++] = out[i];
    return k;
}

static void check_kind(bt_spool *sp, const ref_ent *v, size_t n, int kind)
{
    bt_spool_ent *want = malloc(n * sizeof *want);
    char buf[4096];
    size_t i, m, bad = 0;
    CHECK(want != NULL);
    if (!want)
        return;
    m = reference(v, n, kind, want);
    CHECK_INT(bt_spool_finish(sp, kind, same_ent), 0);
    CHECK_INT(bt_spool_count(sp, kind), m);
    for (i = 0; i < m && i < bt_spool_count(sp, kind); i++) {
        bt_spool_ent x;
        const char *rec;
        size_t len;
        if (bt_spool_at(sp, kind, i, &x, &rec)) {
            bad++;
            continue;
        }
        len = record_of(&want[i], buf, sizeof buf);
        if (x.time_ms != want[i].time_ms || strcmp(x.key, want[i].key) || x.tag != want[i].tag ||
            x.len != len || memcmp(rec, buf, len))
            bad++;
    }
    CHECK_INT(bad, 0);
    free(want);
}

/* Two kinds interleaved through a 64 KiB stage: runs of both kinds in one file. */
static void test_spilled_two_kinds(void)
{
    ref_ent *v = make(N);
    bt_spool_opts o = {2, cmp_ent, 64 << 10, 64 << 10, 0, NULL, compress};
    bt_spool *sp = NULL;
    char buf[4096];
    uint64_t bytes;
    size_t i, runs;
    CHECK(v != NULL);
    CHECK_INT(bt_spool_new(&o, &sp), 0);
    for (i = 0; v && sp && i < N; i++) {
        bt_spool_ent x = v[i].e;
        size_t len = record_of(&x, buf, sizeof buf);
        CHECK_INT(bt_spool_put(sp, v[i].kind, &x, buf, len, false), 0);
        CHECK_INT(x.len, len);
    }
    bt_spool_stats(sp, &bytes, NULL, &runs);
    CHECK(runs > 20);
    CHECK(bytes > 0);
    check_kind(sp, v, N, 0);
    check_kind(sp, v, N, 1);
    /* in any order (backwards here), still right */
    {
        bt_spool_ent x, y;
        const char *rec;
        size_t n = bt_spool_count(sp, 1);
        CHECK(n > 2);
        CHECK_INT(bt_spool_at(sp, 1, n - 1, &x, &rec), 0);
        CHECK_INT(bt_spool_at(sp, 1, 0, &y, &rec), 0);
        CHECK(cmp_ent(&y, &x) < 0);
        CHECK_INT((int)record_of(&y, buf, sizeof buf), (int)y.len);
        CHECK(memcmp(rec, buf, y.len) == 0);
        CHECK_INT(bt_spool_at(sp, 1, n, &x, &rec), BT_EINVAL);
    }
    bt_spool_release(sp, 0);
    CHECK_INT(bt_spool_count(sp, 0), 0);
    CHECK_INT(bt_spool_at(sp, 0, 0, NULL, &(const char *){NULL}), BT_EINVAL);
    bt_spool_free(sp);
    free(v);
}

/* Everything in one stage: sorted in memory, no file. */
static void test_in_memory(void)
{
    ref_ent *v = make(2000);
    bt_spool_opts o = {2, cmp_ent, 0, 0, 0, NULL, compress};
    bt_spool *sp = NULL;
    char buf[4096];
    uint64_t bytes;
    size_t i, runs;
    CHECK_INT(bt_spool_new(&o, &sp), 0);
    for (i = 0; v && sp && i < 2000; i++) {
        bt_spool_ent x = v[i].e;
        CHECK_INT(bt_spool_put(sp, v[i].kind, &x, buf, record_of(&x, buf, sizeof buf), false), 0);
    }
    check_kind(sp, v, 2000, 0);
    check_kind(sp, v, 2000, 1);
    bt_spool_stats(sp, &bytes, NULL, &runs);
    CHECK_INT(runs, 0);
    CHECK_INT(bytes, 0);
    /* finished: nothing more of that kind */
    {
        bt_spool_ent x = v[0].e;
        CHECK_INT(bt_spool_put(sp, 0, &x, "x", 1, false), BT_EINVAL);
        CHECK_INT(bt_spool_finish(sp, 0, NULL), BT_EINVAL);
    }
    bt_spool_free(sp);
    free(v);
}

/* keep: each run holds its first keep distinct entries, so the first keep of the final
 * order are those of an unbounded spool. */
static void test_keep(void)
{
    ref_ent *v = make(N);
    bt_spool_opts o = {1, cmp_ent, 32 << 10, 0, 150, same_ent, compress};
    bt_spool_ent *want = malloc(N * sizeof *want);
    bt_spool *sp = NULL;
    char buf[4096];
    size_t i, m, bad = 0, runs;
    uint64_t bytes;
    CHECK_INT(bt_spool_new(&o, &sp), 0);
    for (i = 0; v && sp && i < N; i++) {
        bt_spool_ent x = v[i].e;
        v[i].kind = 0;
        CHECK_INT(bt_spool_put(sp, 0, &x, buf, record_of(&x, buf, sizeof buf), false), 0);
    }
    m = reference(v, N, 0, want);
    CHECK_INT(bt_spool_finish(sp, 0, same_ent), 0);
    bt_spool_stats(sp, &bytes, NULL, &runs);
    CHECK(runs > 10);
    CHECK(bt_spool_count(sp, 0) >= 150);
    CHECK(bt_spool_count(sp, 0) <= 150 * runs);
    CHECK(m > 150);
    for (i = 0; i < 150; i++) {
        bt_spool_ent x;
        const char *rec;
        if (bt_spool_at(sp, 0, i, &x, &rec) || cmp_ent(&x, &want[i]) != 0)
            bad++;
    }
    CHECK_INT(bad, 0);
    bt_spool_free(sp);
    free(want);
    free(v);
}

static int drained_n;
static int64_t drained_last;
static int on_drain(void *ctx, const bt_spool_ent *x, const char *rec)
{
    char buf[4096];
    size_t len = record_of(x, buf, sizeof buf);
    (void)ctx;
    CHECK(x->time_ms >= drained_last);
    CHECK(len == x->len && memcmp(rec, buf, len) == 0);
    drained_last = x->time_ms;
    drained_n++;
    return drained_n == 500 ? BT_ESTOP : 0;
}

/* Held past the cap, drained below a time in order; the rest stay staged. */
static void test_drain(void)
{
    ref_ent *v = make(3000);
    bt_spool_opts o = {1, cmp_ent, 4 << 10, 0, 0, NULL, compress};
    bt_spool *sp = NULL;
    char buf[4096];
    size_t i, below = 0, runs;
    uint64_t bytes;
    int64_t mid = 1700000000000LL + 2500;
    drained_n = 0;
    CHECK_INT(bt_spool_new(&o, &sp), 0);
    for (i = 0; v && sp && i < 3000; i++) {
        bt_spool_ent x = v[i].e;
        below += x.time_ms < mid;
        CHECK_INT(bt_spool_put(sp, 0, &x, buf, record_of(&x, buf, sizeof buf), true), 0);
    }
    bt_spool_stats(sp, &bytes, NULL, &runs);
    CHECK_INT(runs, 0); /* held: no run despite the 4 KiB cap */
    drained_last = INT64_MIN;
    CHECK_INT(bt_spool_drain(sp, 0, mid, on_drain, NULL), BT_ESTOP); /* stops at the 500th */
    CHECK_INT(drained_n, 500);
    CHECK(below > 500);
    CHECK_INT(bt_spool_drain(sp, 0, mid, on_drain, NULL), 0);
    CHECK_INT((size_t)drained_n, below);
    CHECK(drained_last < mid);
    CHECK_INT(bt_spool_finish(sp, 0, NULL), 0);
    CHECK_INT(bt_spool_count(sp, 0), 3000 - below);
    {
        bt_spool_ent x;
        const char *rec;
        CHECK_INT(bt_spool_at(sp, 0, 0, &x, &rec), 0);
        CHECK(x.time_ms >= mid);
    }
    bt_spool_free(sp);
    free(v);
}

static void test_misuse(void)
{
    bt_spool_opts o = {BT_SPOOL_MAX_KINDS + 1, cmp_ent, 0, 0, 0, NULL, false};
    bt_spool *sp = NULL;
    bt_spool_ent x;
    CHECK_INT(bt_spool_new(&o, &sp), BT_EINVAL);
    CHECK(sp == NULL);
    o.kinds = 1;
    o.cmp = NULL;
    CHECK_INT(bt_spool_new(&o, &sp), BT_EINVAL);
    o.cmp = cmp_ent;
    CHECK_INT(bt_spool_new(&o, &sp), 0);
    memset(&x, 0, sizeof x);
    CHECK_INT(bt_spool_put(sp, 1, &x, "a", 1, false), BT_EINVAL);             /* no such kind */
    CHECK_INT(bt_spool_at(sp, 0, 0, NULL, &(const char *){NULL}), BT_EINVAL); /* not finished */
    CHECK_INT(bt_spool_finish(sp, 0, NULL), 0);
    CHECK_INT(bt_spool_count(sp, 0), 0);
    bt_spool_free(sp);
    bt_spool_free(NULL);
}

/* the same, the runs compressed (and written by the spool's thread) */
static void test_compressed(void)
{
    uint64_t bytes_plain, bytes_z;
    size_t runs;
    char buf[4096];
    bt_spool *sp = NULL;
    ref_ent *v = make(N);
    size_t i, k;
    compress = true;
    test_spilled_two_kinds();
    test_keep();
    test_drain();
    /* smaller in the file than the records: the frames are compressed */
    for (k = 0; k < 2; k++) {
        bt_spool_opts o = {1, cmp_ent, 64 << 10, 0, 0, NULL, k == 1};
        CHECK_INT(bt_spool_new(&o, &sp), 0);
        for (i = 0; v && sp && i < N; i++) {
            bt_spool_ent x = v[i].e;
            CHECK_INT(bt_spool_put(sp, 0, &x, buf, record_of(&x, buf, sizeof buf), false), 0);
        }
        CHECK_INT(bt_spool_finish(sp, 0, NULL), 0);
        {
            uint64_t rec;
            bt_spool_stats(sp, &rec, k ? &bytes_z : &bytes_plain, &runs);
            CHECK(rec > 0);
        }
        CHECK(runs > 10);
        bt_spool_free(sp);
    }
    CHECK(bytes_z * 3 < bytes_plain);
    compress = false;
    free(v);
}

BT_TEST_MAIN(test_spilled_two_kinds, test_in_memory, test_keep, test_drain, test_misuse,
             test_compressed)
