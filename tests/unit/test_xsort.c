/* test_xsort.c - unit tests for the external sorter (xsort.h): a million elements through
 * a tiny memory cap (hundreds of runs, a multi-pass merge) against an in-memory
 * reference, ties, duplicates dropped by `same`, sequential and random reads, the
 * in-memory path, the empty sorter and misuse. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/xsort.h"
#include "tharness.h"

typedef struct elem {
    uint32_t key;
    uint32_t grp; /* 0: never a duplicate */
    uint64_t seq; /* push order: the tie-break */
} elem;

static int cmp_elem(const void *a, const void *b)
{
    const elem *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* a duplicate: same key and the same non-zero group as the last kept */
static int same_elem(const void *prev, const void *cur)
{
    const elem *p = prev, *c = cur;
    return c->grp && p->grp == c->grp && p->key == c->key;
}

static uint64_t rng = 88172645463325252ULL;

static uint32_t next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* n elements with keys in [0, keys) (many ties), a third of them in a group of 1..3 */
static elem *make(size_t n, uint32_t keys)
{
    elem *v = malloc(n * sizeof *v);
    size_t i;
    for (i = 0; v && i < n; i++) {
        memset(&v[i], 0, sizeof v[i]);
        v[i].key = next_rand() % keys;
        v[i].grp = next_rand() % 3 == 0 ? 1 + next_rand() % 3 : 0;
        v[i].seq = i;
    }
    return v;
}

/* the reference: qsort, then the duplicates dropped as bt_xsort_finish drops them */
static size_t reference(elem *v, size_t n, int dedupe)
{
    size_t i, k = 0;
    qsort(v, n, sizeof *v, cmp_elem);
    for (i = 0; i < n; i++) {
        if (dedupe && k && same_elem(&v[k - 1], &v[i]))
            continue;
        v[k++] = v[i];
    }
    return k;
}

static int same_bytes(const elem *a, const elem *b)
{
    return a->key == b->key && a->grp == b->grp && a->seq == b->seq;
}

/* Pushes v[0..n) through a sorter with mem_cap and checks everything read back. */
static void run_case(const elem *v, size_t n, size_t mem_cap, int dedupe, size_t want_runs_min,
                     unsigned want_passes)
{
    elem *ref = malloc((n ? n : 1) * sizeof *ref), e, prev;
    bt_xsort *x = NULL;
    size_t i, k, runs, bad = 0, unordered = 0;
    unsigned passes;
    CHECK(ref != NULL);
    if (!ref)
        return;
    memcpy(ref, v, n * sizeof *v);
    k = reference(ref, n, dedupe);
    CHECK_INT(bt_xsort_new(sizeof(elem), cmp_elem, mem_cap, &x), 0);
    for (i = 0; i < n; i++)
        if (bt_xsort_push(x, &v[i]) != 0)
            bad++;
    CHECK_INT(bad, 0);
    CHECK_INT(bt_xsort_count(x), n);
    CHECK_INT(bt_xsort_finish(x, dedupe ? same_elem : NULL), 0);
    CHECK_INT(bt_xsort_count(x), k);
    bt_xsort_stats(x, &runs, &passes);
    CHECK(runs >= want_runs_min);
    if (!want_runs_min)
        CHECK_INT(runs, 0);
    CHECK_INT(passes, want_passes);
    /* in order: equal to the reference, strictly increasing by (key, seq) */
    for (i = 0; i < k; i++) {
        if (bt_xsort_at(x, i, &e) != 0 || !same_bytes(&e, &ref[i]))
            bad++;
        if (i && cmp_elem(&prev, &e) >= 0)
            unordered++;
        prev = e;
    }
    CHECK_INT(bad, 0);
    CHECK_INT(unordered, 0);
    /* random reads, then backwards over the end */
    for (i = 0; k && i < 2000; i++) {
        size_t j = next_rand() % k;
        if (bt_xsort_at(x, j, &e) != 0 || !same_bytes(&e, &ref[j]))
            bad++;
    }
    for (i = k; i > 0 && i + 3000 > k; i--)
        if (bt_xsort_at(x, i - 1, &e) != 0 || !same_bytes(&e, &ref[i - 1]))
            bad++;
    CHECK_INT(bad, 0);
    CHECK_INT(bt_xsort_at(x, k, &e), BT_EINVAL);
    bt_xsort_free(x);
    free(ref);
}

/* n elements with keys in [0, keys) through mem_cap, against the reference */
static void random_case(size_t n, uint32_t keys, size_t mem_cap, int dedupe, size_t runs_min,
                        unsigned passes)
{
    elem *v = make(n, keys);
    CHECK(v != NULL);
    if (v)
        run_case(v, n, mem_cap, dedupe, runs_min, passes);
    free(v);
}

/* 1M elements through a 16 KiB cap: ~980 runs, merged 64 at a time, then once more */
static void test_many_runs(void)
{
    random_case(1000000, 50000, 16 << 10, 1, 900, 2);
}

/* many ties (100 keys) broken by seq, no duplicates dropped: 74 runs, two passes */
static void test_many_runs_no_same(void)
{
    random_case(300000, 100, 64 << 10, 0, 70, 2);
}

/* a few runs: one merge pass; exactly one full run plus one element */
static void test_few_runs(void)
{
    elem *v = make(5000, 300);
    CHECK(v != NULL);
    if (!v)
        return;
    run_case(v, 5000, 1000 * sizeof(elem), 1, 5, 1);
    run_case(v, 1001, 1000 * sizeof(elem), 1, 2, 1);
    run_case(v, 1000, 1000 * sizeof(elem), 1, 0, 0); /* fits: in memory */
    free(v);
}

/* under the cap: sorted and deduplicated in memory, no file, no pass */
static void test_in_memory(void)
{
    elem *v = make(20000, 2000);
    CHECK(v != NULL);
    if (!v)
        return;
    run_case(v, 20000, 0, 1, 0, 0);
    run_case(v, 20000, 0, 0, 0, 0);
    run_case(v, 1, 0, 1, 0, 0);
    free(v);
}

/* every element a duplicate of the first: one kept, on disk and in memory */
static void test_all_same(void)
{
    elem *v = calloc(10000, sizeof *v), e;
    bt_xsort *x = NULL;
    size_t i;
    int pass;
    CHECK(v != NULL);
    if (!v)
        return;
    for (pass = 0; pass < 2; pass++) {
        for (i = 0; i < 10000; i++) {
            v[i].key = 7;
            v[i].grp = 1;
            v[i].seq = 10000 - i; /* pushed in reverse: the smallest seq is kept */
        }
        CHECK_INT(bt_xsort_new(sizeof(elem), cmp_elem, pass ? 64 * sizeof(elem) : 0, &x), 0);
        for (i = 0; i < 10000; i++)
            CHECK_INT(bt_xsort_push(x, &v[i]), 0);
        CHECK_INT(bt_xsort_finish(x, same_elem), 0);
        CHECK_INT(bt_xsort_count(x), 1);
        memset(&e, 0, sizeof e);
        CHECK_INT(bt_xsort_at(x, 0, &e), 0);
        CHECK_INT(e.seq, 1);
        CHECK_INT(e.key, 7);
        bt_xsort_free(x);
    }
    free(v);
}

static void test_empty_and_misuse(void)
{
    bt_xsort *x = NULL;
    elem e = {1, 0, 0};
    CHECK_INT(bt_xsort_new(0, cmp_elem, 0, &x), BT_EINVAL);
    CHECK(x == NULL);
    CHECK_INT(bt_xsort_new(sizeof(elem), NULL, 0, &x), BT_EINVAL);
    CHECK_INT(bt_xsort_new(sizeof(elem), cmp_elem, 0, &x), 0);
    CHECK_INT(bt_xsort_count(x), 0);
    CHECK_INT(bt_xsort_at(x, 0, &e), BT_EINVAL); /* before finish */
    CHECK_INT(bt_xsort_finish(x, same_elem), 0);
    CHECK_INT(bt_xsort_count(x), 0);
    CHECK_INT(bt_xsort_at(x, 0, &e), BT_EINVAL);
    CHECK_INT(bt_xsort_push(x, &e), BT_EINVAL); /* after finish */
    CHECK_INT(bt_xsort_finish(x, NULL), BT_EINVAL);
    bt_xsort_free(x);
    bt_xsort_free(NULL);
}

BT_TEST_MAIN(test_many_runs, test_many_runs_no_same, test_few_runs, test_in_memory, test_all_same,
             test_empty_and_misuse)
