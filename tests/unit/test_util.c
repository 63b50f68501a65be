/* test_util.c - unit tests for bt_buf, bt_arena, bt_error, bt_mfind and tsort.h. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"
#include "tharness.h"
#include "util/mfind.h"
#include "util/tsort.h"

static void test_buf_cap(void)
{
    bt_buf b;
    bt_buf_init(&b, 8);
    CHECK_INT(bt_buf_puts(&b, "12345678"), 0);
    CHECK_INT(bt_buf_putc(&b, 'x'), BT_ELIMIT);
    CHECK_INT(b.len, 8);
    CHECK_STR(b.data, "12345678");
    bt_buf_clear(&b);
    CHECK_INT(bt_buf_printf(&b, "%d-%s", 42, "ab"), 0);
    CHECK_STR(b.data, "42-ab");
    char *s = bt_buf_detach(&b);
    CHECK_STR(s, "42-ab");
    CHECK(b.data == NULL && b.len == 0);
    free(s);
    bt_buf_dispose(&b);
}

static void test_arena(void)
{
    bt_arena *a = bt_arena_new(128, 0);
    char *big, *s;
    int i;
    CHECK(a != NULL);
    for (i = 0; i < 1000; i++) {
        s = bt_arena_sprintf(a, "v%d", i);
        CHECK(s && atoi(s + 1) == i);
    }
    big = bt_arena_alloc(a, 100000);
    CHECK(big != NULL);
    CHECK(((size_t)big & 7) == 0);
    bt_arena_reset(a);
    CHECK_INT(bt_arena_used(a), 0);
    bt_arena_free(a);
    a = bt_arena_new(64, 256);
    CHECK(bt_arena_alloc(a, 1000) == NULL);
    bt_arena_free(a);
    bt_arena_free(NULL);
}

static void test_error(void)
{
    bt_error e = BT_ERROR_INIT;
    CHECK_INT(bt_error_set(&e, BT_EIO, "'%s': gone", "x.json"), BT_EIO);
    bt_error_prefix(&e, "ingest");
    CHECK_STR(e.msg, "ingest: 'x.json': gone");
    CHECK_STR(bt_strerror(BT_EPARSE), "parse error");
}

static void test_read_file_cap(void)
{
    bt_buf b;
    bt_error e = BT_ERROR_INIT;
    FILE *f = fopen("/tmp/bt-test-small.txt", "w");
    fputs("hello", f);
    fclose(f);
    bt_buf_init(&b, 16); /* a small cap must still read a small file */
    CHECK_INT(bt_buf_read_file(&b, "/tmp/bt-test-small.txt", &e), 0);
    CHECK_STR(b.data, "hello");
    bt_buf_dispose(&b);
    bt_buf_init(&b, 5); /* exactly at the cap */
    CHECK_INT(bt_buf_read_file(&b, "/tmp/bt-test-small.txt", &e), 0);
    bt_buf_dispose(&b);
    bt_buf_init(&b, 4); /* over it */
    CHECK_INT(bt_buf_read_file(&b, "/tmp/bt-test-small.txt", &e), BT_ELIMIT);
    CHECK(strstr(e.msg, "size limit") != NULL);
    bt_buf_dispose(&b);
    remove("/tmp/bt-test-small.txt");
}

/* naive: does lit[0..n) occur in h[0..len), ASCII case-insensitively */
static const char *naive_find(const char *h, size_t len, const char *lit, size_t n)
{
    size_t i, k;
    for (i = 0; i + n <= len; i++) {
        for (k = 0; k < n; k++) {
            unsigned char a = (unsigned char)h[i + k], b = (unsigned char)lit[k];
            if ((unsigned)a - 'A' < 26u)
                a |= 0x20;
            if ((unsigned)b - 'A' < 26u)
                b |= 0x20;
            if (a != b)
                break;
        }
        if (k == n)
            return h + i;
    }
    return NULL;
}

static void test_mfind(void)
{
    static const char *const lits[] = {":AWSCodeBuild-",       "Root",          "x",
                                       ":assumed-role\\/aws:", "\"eventName\"", "zq"};
    size_t lens[6], i, k, trial;
    bt_mfind *m = NULL, *one = NULL;
    char h[300];
    unsigned seed = 12345;
    for (i = 0; i < 6; i++)
        lens[i] = strlen(lits[i]);
    CHECK_INT(bt_mfind_new(lits, lens, 6, &m), 0);
    CHECK_INT(bt_mfind_new(lits + 4, lens + 4, 1, &one), 0);
    if (!m || !one)
        goto done;
    /* fixed cases: the very start, the very end, case, a literal cut by the end */
    CHECK(bt_mfind_any(m, "ROOT", 4));
    CHECK_INT(bt_mfind_which(m, "ROOT", 4), 1);
    CHECK_INT(bt_mfind_which(m, "a:AWSCODEBUILD-zz", 17), 0); /* the first of several */
    CHECK_INT(bt_mfind_which(m, "abc", 3), -1);
    {
        char t[100];
        memset(t, 'a', sizeof t);
        memcpy(t + sizeof t - 14, ":awscodebuild-", 14);
        CHECK(bt_mfind_any(m, t, sizeof t));
        CHECK(!bt_mfind_any(m, t, sizeof t - 1));
    }
    CHECK(!bt_mfind_any(m, "", 0));
    CHECK(!bt_mfind_any(m, "{\"eventnam\":\"Roo", 16));
    {
        const char *t = "{\"a\":1,\"b\":\"some padding to pass one vector\",\"eventName\":\"E\"}";
        CHECK(bt_mfind_find(one, t, strlen(t)) == strstr(t, "\"eventName\""));
    }
    /* random text over a small alphabet that spells the literals often, every length
     * and offset: the same answer as a naive search (the first occurrence, for one) */
    for (trial = 0; trial < 20000; trial++) {
        static const char alpha[] = "RrOoTtXxzqQ:-AWSCodeBuild\"eventNam/\\ ";
        size_t len = (seed = seed * 1103515245u + 12345u) % sizeof h;
        bool want = false;
        const char *w1, *g1;
        for (i = 0; i < len; i++)
            h[i] = alpha[((seed = seed * 1103515245u + 12345u) >> 16) % (sizeof alpha - 1)];
        if (trial % 3 == 0 && len > 20) { /* plant one */
            k = (seed >> 8) % 6;
            if (lens[k] <= len)
                memcpy(h + (seed >> 4) % (len - lens[k] + 1), lits[k], lens[k]);
        }
        for (k = 0; k < 6; k++)
            want |= naive_find(h, len, lits[k], lens[k]) != NULL;
        if (bt_mfind_any(m, h, len) != want) {
            CHECK(!"bt_mfind_any agrees with a naive search");
            break;
        }
        w1 = naive_find(h, len, lits[4], lens[4]);
        g1 = bt_mfind_find(one, h, len);
        if (g1 != w1) {
            CHECK(!"bt_mfind_find gives the first occurrence");
            break;
        }
    }
    CHECK_INT(trial, 20000);
    /* literals of 3 bytes or more, 2 to 8 of them: one pass for all (Teddy) where AVX2
     * is; the same answers, and what it finds is there */
    {
        static const char *const tl[] = {":AWSCodeBuild-", "Root",
                                         ":assumed-role\\/aws:", "\"eventName\"", "odebuild"};
        size_t tn[5];
        bt_mfind *t = NULL;
        for (k = 0; k < 5; k++)
            tn[k] = strlen(tl[k]);
        CHECK_INT(bt_mfind_new(tl, tn, 5, &t), 0);
        for (trial = 0; t && trial < 20000; trial++) {
            static const char alpha[] = "RrOoTtodebuildBUILD:-AWSCe\"eventNam/\\ ";
            size_t len = (seed = seed * 1103515245u + 12345u) % sizeof h;
            bool want = false;
            const char *at;
            int w;
            for (i = 0; i < len; i++)
                h[i] = alpha[((seed = seed * 1103515245u + 12345u) >> 16) % (sizeof alpha - 1)];
            if (trial % 3 == 0 && len > 20) {
                k = (seed >> 8) % 5;
                if (tn[k] <= len)
                    memcpy(h + (seed >> 4) % (len - tn[k] + 1), tl[k], tn[k]);
            }
            for (k = 0; k < 5; k++)
                want |= naive_find(h, len, tl[k], tn[k]) != NULL;
            at = bt_mfind_find(t, h, len);
            w = bt_mfind_which(t, h, len);
            if ((at != NULL) != want ||
                (at && (w < 0 || naive_find(at, tn[w], tl[w], tn[w]) != at))) {
                CHECK(!"one pass for all literals agrees with a naive search");
                break;
            }
        }
        CHECK_INT(trial, 20000);
        bt_mfind_free(t);
    }
    {
        bt_mfind *bad = NULL;
        CHECK_INT(bt_mfind_new(lits, (const size_t[]){0}, 1, &bad), BT_EINVAL); /* empty */
        CHECK(bad == NULL);
    }
done:
    bt_mfind_free(m);
    bt_mfind_free(one);
}

/* tsort.h against qsort, on one total order (key, then index), over sizes around its
 * small-range cut-off and beyond, and inputs that trouble quicksorts: sorted, reversed,
 * all equal, few values, organ pipe. */
typedef struct tkey {
    uint32_t key, idx;
} tkey;

static int less_tkey(const tkey *a, const tkey *b)
{
    return a->key != b->key ? a->key < b->key : a->idx < b->idx;
}
BT_TSORT_DEFINE(sort_tkey, tkey, less_tkey)

static int cmp_tkey(const void *x, const void *y)
{
    const tkey *a = x, *b = y;
    return less_tkey(a, b) ? -1 : less_tkey(b, a);
}

static void test_tsort(void)
{
    static const size_t sizes[] = {0, 1, 2, 3, 15, 16, 17, 33, 100, 1000, 5000};
    enum { SHAPES = 6, MAXN = 5000 };
    static tkey a[MAXN], b[MAXN];
    uint32_t seed = 12345;
    size_t si, i, bad = 0, runs = 0;
    int shape;
    for (si = 0; si < sizeof sizes / sizeof *sizes; si++)
        for (shape = 0; shape < SHAPES; shape++) {
            size_t n = sizes[si];
            for (i = 0; i < n; i++) {
                seed = seed * 1103515245u + 12345u;
                switch (shape) {
                case 0: a[i].key = seed >> 8; break;                   /* random */
                case 1: a[i].key = (uint32_t)i; break;                 /* sorted */
                case 2: a[i].key = (uint32_t)(n - i); break;           /* reversed */
                case 3: a[i].key = 7; break;                           /* all equal */
                case 4: a[i].key = (seed >> 16) % 3; break;            /* few values */
                default: a[i].key = (uint32_t)(i < n / 2 ? i : n - i); /* organ pipe */
                }
                a[i].idx = (uint32_t)((i * 7919u) % (n ? n : 1)); /* not the input order */
            }
            memcpy(b, a, n * sizeof *a);
            sort_tkey(a, n);
            qsort(b, n, sizeof *b, cmp_tkey);
            bad += memcmp(a, b, n * sizeof *a) != 0;
            runs++;
        }
    CHECK_INT(runs, 66);
    CHECK_INT(bad, 0);
}

BT_TEST_MAIN(test_buf_cap, test_arena, test_error, test_read_file_cap, test_mfind, test_tsort)
