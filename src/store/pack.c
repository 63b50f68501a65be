/*
 * pack.c - packed batches (pack.h): in a parser thread, a batch's events are put in pack
 * order (the rare records first, then by time), cut into ~512 KiB blocks whose records
 * are laid out like with like (source, name, caller, user agent) and compressed with
 * zstd, each block summarised (Bloom filters of its high-cardinality values and
 * resources, time range, names), numbered in id order (block, name, time: each name's
 * events in a block a run of ids), and their build facts computed, so that the SQLite
 * writer (sqlite.c) only inserts.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "buildtrail/codebuild.h"
#include "store/bloom.h"
#include "store/pack.h"
#include "store/sqlite_int.h"
#include "util/tsort.h"

int pack_block_note(int64_t *t0, int64_t *t1, uint32_t **names, size_t *n, size_t *cap,
                    int64_t time_ms, const uint32_t *hash)
{
    void *v = *names;
    if (time_ms < *t0)
        *t0 = time_ms;
    if (time_ms > *t1)
        *t1 = time_ms;
    if (!hash)
        return 0;
    if (bt_array_grow(&v, cap, *n + 1, sizeof **names, 256))
        return BT_ENOMEM;
    *names = v;
    (*names)[(*n)++] = *hash;
    return 0;
}

void bt_store_pack_free(bt_store_pack *p)
{
    size_t i;
    if (!p)
        return;
    for (i = 0; i < p->nblocks; i++) {
        free(p->blocks[i].data);
        free(p->blocks[i].bloom);
        free(p->blocks[i].rbloom);
        free(p->blocks[i].nset);
    }
    free(p->blocks);
    free(p->ev_block);
    free(p->ev_off);
    free(p->pre);
    free(p->ev_rank);
    free(p->rank_ev);
    free(p->claim_ev);
    free(p->ev_run);
    free(p->runs);
    free(p->facts);
    free(p->fact_ev);
    bt_arena_free(p->arena);
    free(p);
}

/* Computes the build facts of ev[0..n) into p (the rare events that carry some). */
static int pack_facts(bt_store_pack *p, const bt_event *ev, size_t n, bt_error *err)
{
    size_t i, cap = 0;
    bt_build_facts f;
    for (i = 0; i < n; i++) {
        if (!bt_build_facts_wanted(&ev[i]))
            continue;
        if (!p->arena && !(p->arena = bt_arena_new(1 << 14, 0)))
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        if (bt_build_facts_of(p->arena, &ev[i], &f))
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        if (f.kind == BT_BF_NONE)
            continue;
        if (p->nfacts == cap) {
            size_t nc = cap ? cap * 2 : 16;
            bt_build_facts *v = realloc(p->facts, nc * sizeof *v);
            uint32_t *e = v ? realloc(p->fact_ev, nc * sizeof *e) : NULL;
            if (v)
                p->facts = v;
            if (!e)
                return bt_error_set(err, BT_ENOMEM, "out of memory");
            p->fact_ev = e;
            cap = nc;
        }
        p->facts[p->nfacts] = f;
        p->fact_ev[p->nfacts++] = (uint32_t)i;
    }
    return 0;
}

/* Pack order: first the rare records that sparse searches look for across the whole
 * store, the errors first (`search --errors` then decompresses a block's errors, about
 * 10 KB, where it decompressed all its rare records, 28 KB on the bench's store), then
 * the others (CodeBuild starts, stops and project changes; one record of each build
 * role session: mark_session_heads), each part by build (made by it, or about it) then
 * time;
 * then the rest by time. The rare records sit at the start of a batch's first block,
 * in a frame of their own, where a read that needs only them decompresses a prefix
 * (load_block). The rest in time order makes each block cover a slice of the batch's
 * time: a time-ordered read (a full search, hunt, serve's pages) then needs few blocks
 * at once, where grouping by build made every block span the whole batch (about 7
 * reads of each block in a full search of 1M events, against its 16-block cache), and
 * a build's calls, minutes long, still fall in one or two blocks. */
#define RARE_ERROR 2 /* pack_rare's value for an error; 1 for the other rare records */
static int pack_rare(const bt_event *e)
{
    if (e->error_code)
        return RARE_ERROR;
    return e->event_source && strcmp(e->event_source, "codebuild.amazonaws.com") == 0 &&
           bt_codebuild_event_is(e->event_name, BT_CB_FACTS | BT_CB_PROJECT_CHANGE);
}

/* Marks rare one record of each build role session in ev[0..n): any record names the
 * session's role (its caller ARN), which is all `builds` reads of a build it knows only
 * from its calls (sqlite_builds.c), and the rare frame makes that read cheap. */
static int mark_session_heads(const bt_event *ev, size_t n, unsigned char *rare)
{
    size_t cap = 16, j;
    const char **seen;
    while (cap < 2 * n)
        cap *= 2;
    if (!(seen = calloc(cap, sizeof *seen)))
        return BT_ENOMEM;
    for (j = 0; j < n; j++) {
        const char *u = ev[j].actor_uuid;
        size_t h;
        if (!u)
            continue;
        for (h = (size_t)hash_str(u) & (cap - 1); seen[h] && strcmp(seen[h], u) != 0;
             h = (h + 1) & (cap - 1))
            ;
        if (!seen[h]) {
            seen[h] = u;
            if (!rare[j])
                rare[j] = 1;
        }
    }
    free(seen);
    return 0;
}

static const char *pack_key(const bt_event *e)
{
    return e->actor_uuid ? e->actor_uuid : e->build_uuid ? e->build_uuid : "~";
}

/* An event's place in the pack order: what cmp_pack compares (qsort has no context
 * argument, so the sort carries its keys) and the event's index. */
typedef struct pack_sk {
    int64_t t;
    const char *key; /* pack_key, for a rare event; NULL otherwise */
    uint32_t i;
    unsigned char rare;
} pack_sk;

static int less_pack(const pack_sk *a, const pack_sk *b)
{
    int c;
    if (a->rare != b->rare) /* errors (RARE_ERROR), the other rare records, the rest */
        return a->rare > b->rare;
    if (a->rare && (c = strcmp(a->key, b->key)) != 0)
        return c < 0;
    if (a->t != b->t)
        return a->t < b->t;
    return a->i < b->i;
}
BT_TSORT_DEFINE(sort_pack, pack_sk, less_pack)

/* A record's place in its block's bytes: the rare records (nrare, pack_rare) keep pack
 * order, as their own frame; the others are laid out by source, name, caller ARN, user
 * agent, then time, so that records alike sit side by side and zstd's level 1 finds
 * their common text (on 80 MB of generated records in 512 KiB blocks, 12.7% smaller
 * than in time order: records of one kind repeat each other's keys and most values).
 * The ids are not affected: the rows hold each record's offset. */
typedef struct byte_key {
    const char *src, *name, *arn, *ua; /* NULL sorts as "" */
    int64_t t;
    uint32_t i;
    uint64_t rank; /* pack_layout: the ranks of (src, name), arn and ua in the block */
} byte_key;

static int less_bytes(const byte_key *a, const byte_key *b)
{
    if (a->rank != b->rank)
        return a->rank < b->rank;
    if (a->t != b->t)
        return a->t < b->t;
    return a->i < b->i;
}
BT_TSORT_DEFINE(sort_bytes, byte_key, less_bytes)

/* The distinct values of one part of the layout's order among a block's records, and
 * their ranks: the records are sorted by these integers, not by comparing their strings
 * (which, long and alike as callers' ARNs and user agents are, was most of the sort). */
typedef struct rank_tab {
    const char **a, **b; /* a value: one string, or two (source, name) */
    uint64_t *h;
    uint32_t *rank;
    size_t cap, n; /* slots (a power of 2), values held */
} rank_tab;

#define S0(x) ((x) ? (x) : "")

/* A 64-bit hash of s (NULL as "") from h: its length is mixed in last, so ("ab", "c")
 * is not ("a", "bc"). */
static uint64_t str_hash(uint64_t h, const char *s)
{
    s = S0(s);
    return bt_bloom_hash_bytes(h, s, strlen(s));
}

static int rank_init(rank_tab *r, size_t n)
{
    r->cap = 16;
    while (r->cap < 2 * n)
        r->cap *= 2;
    r->n = 0;
    r->a = calloc(r->cap, sizeof *r->a);
    r->b = calloc(r->cap, sizeof *r->b);
    r->h = calloc(r->cap, sizeof *r->h);
    r->rank = calloc(r->cap, sizeof *r->rank);
    return r->a && r->b && r->h && r->rank ? 0 : BT_ENOMEM;
}

static void rank_free(rank_tab *r)
{
    free(r->a);
    free(r->b);
    free(r->h);
    free(r->rank);
}

/* The slot of the value (a, b), added when new (a slot's a is never NULL once used).
 * Values are told apart by their 64-bit hashes alone: two values of a block that shared
 * one would take one rank, their records then laid out by time, byte-exact as ever. */
static uint32_t rank_slot(rank_tab *r, const char *a, const char *b)
{
    uint64_t h = str_hash(str_hash(0xcbf29ce484222325ULL, a), b);
    size_t i;
    a = S0(a);
    b = S0(b);
    for (i = (size_t)(h >> 40) & (r->cap - 1); r->a[i]; i = (i + 1) & (r->cap - 1))
        if (r->h[i] == h)
            return (uint32_t)i;
    r->a[i] = a;
    r->b[i] = b;
    r->h[i] = h;
    r->n++;
    return (uint32_t)i;
}

typedef struct rank_val {
    const char *a, *b;
    uint32_t slot;
} rank_val;

static int less_val(const rank_val *x, const rank_val *y)
{
    int c = strcmp(x->a, y->a);
    return c ? c < 0 : strcmp(x->b, y->b) < 0;
}
BT_TSORT_DEFINE(sort_vals, rank_val, less_val)

/* Gives each value held its rank in (a, b) order. */
static int rank_order(rank_tab *r)
{
    rank_val *v = malloc((r->n + 1) * sizeof *v);
    size_t i, n = 0;
    if (!v)
        return BT_ENOMEM;
    for (i = 0; i < r->cap; i++)
        if (r->a[i]) {
            v[n].a = r->a[i];
            v[n].b = r->b[i];
            v[n++].slot = (uint32_t)i;
        }
    sort_vals(v, n);
    for (i = 0; i < n; i++)
        r->rank[v[i].slot] = (uint32_t)i;
    free(v);
    return 0;
}

/* Sorts the n records at m by source, name, caller ARN, user agent, time, then index. */
static int sort_layout(byte_key *m, size_t n)
{
    rank_tab t[3];
    uint32_t *slot;
    size_t j;
    int rc, k;
    if (n >= (size_t)1 << 21) /* beyond any block (512 KiB of records of 2 bytes or more) */
        return BT_ELIMIT;
    slot = malloc((3 * n + 1) * sizeof *slot);
    rc = slot ? 0 : BT_ENOMEM;
    memset(t, 0, sizeof t);
    for (k = 0; k < 3 && !rc; k++)
        rc = rank_init(&t[k], n);
    for (j = 0; j < n && !rc; j++) {
        slot[3 * j] = rank_slot(&t[0], m[j].src, m[j].name);
        slot[3 * j + 1] = rank_slot(&t[1], m[j].arn, NULL);
        slot[3 * j + 2] = rank_slot(&t[2], m[j].ua, NULL);
    }
    for (k = 0; k < 3 && !rc; k++)
        rc = rank_order(&t[k]);
    for (j = 0; j < n && !rc; j++) /* ranks < n < 2^21: a block holds fewer records */
        m[j].rank = (uint64_t)t[0].rank[slot[3 * j]] << 42 |
                    (uint64_t)t[1].rank[slot[3 * j + 1]] << 21 | t[2].rank[slot[3 * j + 2]];
    if (!rc)
        sort_bytes(m, n);
    for (k = 0; k < 3; k++)
        rank_free(&t[k]);
    free(slot);
    return rc;
}

/* Packing state: the block being filled and its summary keys. */
typedef struct packer {
    ZSTD_CCtx *zc;
    bt_zdict *dict; /* the store's, when it has one (dict_ref) */
    bt_buf raw, bloom, rbloom, nset;
    uint64_t *keys, *rkeys;
    size_t nkeys, capkeys, nrkeys, caprkeys, capblocks;
    uint32_t *names; /* the block's events' names as hashes (bt_nset_build) */
    size_t nnames, capnames;
    int64_t t0, t1; /* the block's first and last time */
    byte_key *mem;  /* the block's events, in pack order (the rare ones first) */
    size_t nmem, capmem, nrare;
    size_t rawlen; /* their records' bytes */
} packer;

/* Lays out the records of the block being filled (byte_key) into k->raw, giving each its
 * offset, and the bytes of the rare ones that start it (0 when they are all it holds). */
static int pack_layout(bt_store_pack *p, packer *k, const bt_event *ev, size_t *split)
{
    size_t j, nrest = k->nmem - k->nrare;
    int rc;

    *split = 0;
    bt_buf_clear(&k->raw);
    if (bt_buf_reserve(&k->raw, k->rawlen))
        return BT_ENOMEM;
    if (nrest > 1 && (rc = sort_layout(k->mem + k->nrare, nrest)))
        return rc;
    for (j = 0; j < k->nmem; j++) {
        uint32_t i = k->mem[j].i;
        if (j == k->nrare && k->nrare && nrest)
            *split = k->raw.len;
        p->ev_off[i] = (uint32_t)k->raw.len;
        if (bt_buf_append(&k->raw, ev[i].raw, ev[i].raw_len))
            return BT_ENOMEM;
    }
    return 0;
}

/* The compression context of the calling thread (kept while it lives: made anew for
 * every batch, its 600 KB were fresh pages to fault in each time), NULL when it cannot
 * be made. */
static pthread_key_t cctx_key;
static int cctx_key_ok;
static pthread_once_t cctx_once = PTHREAD_ONCE_INIT;

static void cctx_free(void *c)
{
    ZSTD_freeCCtx(c);
}

static void cctx_setup(void)
{
    cctx_key_ok = pthread_key_create(&cctx_key, cctx_free) == 0;
}

static ZSTD_CCtx *thread_cctx(void)
{
    ZSTD_CCtx *c;
    pthread_once(&cctx_once, cctx_setup);
    if (!cctx_key_ok)
        return NULL;
    if (!(c = pthread_getspecific(cctx_key)) && (c = ZSTD_createCCtx()) &&
        pthread_setspecific(cctx_key, c) != 0) {
        ZSTD_freeCCtx(c);
        c = NULL;
    }
    return c;
}

/* Compresses src[0..n) into dst[0..cap) as one zstd frame, with the store's dictionary
 * when it has one: ZSTD_compress's result. */
static size_t pack_compress(packer *k, void *dst, size_t cap, const void *src, size_t n)
{
    return k->dict ? ZSTD_compress_usingCDict(k->zc, dst, cap, src, n, dict_cdict(k->dict))
                   : ZSTD_compressCCtx(k->zc, dst, cap, src, n, ZSTD_LEVEL);
}

/* Compresses and summarises the block being filled into p's next block. */
static int pack_close(bt_store_pack *p, packer *k, const bt_event *ev, bt_error *err)
{
    pack_block *b;
    size_t bound, rest, split;

    if (p->nblocks == k->capblocks) {
        size_t nc = k->capblocks ? k->capblocks * 2 : 8;
        pack_block *v = realloc(p->blocks, nc * sizeof *v);
        if (!v)
            return bt_error_set(err, BT_ENOMEM, "out of memory");
        p->blocks = v;
        k->capblocks = nc;
    }
    if (pack_layout(p, k, ev, &split))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    b = &p->blocks[p->nblocks];
    memset(b, 0, sizeof *b);
    p->nblocks++;
    bound = ZSTD_compressBound(split) + ZSTD_compressBound(k->raw.len - split);
    if (!(b->data = malloc(bound)) || bt_bloom_build(k->keys, k->nkeys, &k->bloom) ||
        bt_bloom_build(k->rkeys, k->nrkeys, &k->rbloom) || !(b->bloom = malloc(k->bloom.len)) ||
        !(b->rbloom = malloc(k->rbloom.len)) || bt_nset_build(k->names, k->nnames, &k->nset) ||
        !(b->nset = malloc(k->nset.len + 1)))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    memcpy(b->nset, k->nset.data, k->nset.len);
    b->nset_len = k->nset.len;
    b->t0 = k->t0;
    b->t1 = k->t1;
    memcpy(b->bloom, k->bloom.data, k->bloom.len);
    b->bloom_len = k->bloom.len;
    memcpy(b->rbloom, k->rbloom.data, k->rbloom.len);
    b->rbloom_len = k->rbloom.len;
    /* the rare records first, as a frame of their own (zstd reads concatenated frames
     * as one stream), so a read of them stops early (load_block) */
    b->len = 0;
    if (split) {
        b->len = pack_compress(k, b->data, bound, k->raw.data, split);
        if (ZSTD_isError(b->len))
            return bt_error_set(err, BT_ERROR, "zstd: %s", ZSTD_getErrorName(b->len));
    }
    rest = pack_compress(k, (char *)b->data + b->len, bound - b->len, k->raw.data + split,
                         k->raw.len - split);
    if (ZSTD_isError(rest))
        return bt_error_set(err, BT_ERROR, "zstd: %s", ZSTD_getErrorName(rest));
    b->len += rest;
    b->raw_len = k->raw.len;
    bt_buf_clear(&k->raw);
    k->nmem = 0;
    k->nrare = 0;
    k->rawlen = 0;
    k->nkeys = 0;
    k->nrkeys = 0;
    k->nnames = 0;
    k->t0 = INT64_MAX;
    k->t1 = INT64_MIN;
    return 0;
}

/* One event in the sort that gives the batch's claim order. */
typedef struct claim_key {
    int64_t ek;
    uint32_t ev;
} claim_key;

static int less_claim(const claim_key *a, const claim_key *b)
{
    return a->ek != b->ek ? a->ek < b->ek : a->ev < b->ev;
}
BT_TSORT_DEFINE(sort_claim, claim_key, less_claim)

/* The batch's claim order (p->claim_ev): by the event ids' keys in `eids`, so that the
 * writer reads and writes each chunk of keys once for all the batch's keys it holds
 * (eid_claim); copies of an event keep the batch's order, and the first is kept. */
static int pack_claims(bt_store_pack *p, size_t n, bt_error *err)
{
    claim_key *k = malloc(n * sizeof *k + 1);
    size_t j;
    if (!k || !(p->claim_ev = malloc(n * sizeof *p->claim_ev + 1))) {
        free(k);
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    for (j = 0; j < n; j++) {
        k[j].ek = p->pre[j].ek;
        k[j].ev = (uint32_t)j;
    }
    if (n > 1)
        sort_claim(k, n);
    for (j = 0; j < n; j++)
        p->claim_ev[j] = k[j].ev;
    free(k);
    return 0;
}

/* One event in the sort that gives the batch's id order. */
typedef struct rank_key {
    uint32_t block, hash, pos, ev;
    int64_t t;
} rank_key;

static int less_rank(const rank_key *a, const rank_key *b)
{
    if (a->block != b->block)
        return a->block < b->block;
    if (a->hash != b->hash)
        return a->hash < b->hash;
    if (a->t != b->t)
        return a->t < b->t;
    return a->pos < b->pos;
}
BT_TSORT_DEFINE(sort_rank, rank_key, less_rank)

/*
 * The batch's id order (p->ev_rank): block by block, and within a block by name, then
 * time, so the events of one name in a block take consecutive ids: a run (p->runs),
 * which the block's directory of names (bsum.ndir) gives a search by name to read
 * instead of the block's every row. The records' bytes have their own order
 * (pack_layout); the ids are only the rows' order. order[j] is the event at place j in
 * pack order.
 */
static int pack_ranks(bt_store_pack *p, const bt_event *ev, const uint32_t *hash,
                      const uint32_t *order, size_t n, bt_error *err)
{
    rank_key *k = malloc(n * sizeof *k + 1);
    size_t j, cap = 0;
    int rc = 0;

    if (!k || !(p->ev_rank = malloc(n * sizeof *p->ev_rank + 1)) ||
        !(p->rank_ev = malloc(n * sizeof *p->rank_ev + 1)) ||
        !(p->ev_run = malloc(n * sizeof *p->ev_run + 1))) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    for (j = 0; j < n; j++) {
        uint32_t i = order[j];
        k[j].block = p->ev_block[i];
        k[j].hash = hash[i];
        k[j].pos = (uint32_t)j;
        k[j].ev = i;
        k[j].t = ev[i].time_ms;
    }
    if (n)
        sort_rank(k, n);
    for (j = 0; j < n; j++) {
        pack_block *b = &p->blocks[k[j].block];
        pack_run *r;
        p->ev_rank[k[j].ev] = (uint32_t)j;
        p->rank_ev[j] = k[j].ev;
        if (j == 0 || k[j].block != k[j - 1].block) {
            b->jlo = (uint32_t)j;
            b->run0 = (uint32_t)p->nruns;
            b->nruns = 0;
        }
        b->jhi = (uint32_t)j;
        if (j == 0 || k[j].block != k[j - 1].block || k[j].hash != k[j - 1].hash) {
            void *v = p->runs;
            if (bt_array_grow(&v, &cap, p->nruns + 1, sizeof *p->runs, 64)) {
                rc = bt_error_set(err, BT_ENOMEM, "out of memory");
                goto done;
            }
            p->runs = v;
            r = &p->runs[p->nruns++];
            r->hash = k[j].hash;
            r->rlo = (uint32_t)j;
            b->nruns++;
        }
        r = &p->runs[p->nruns - 1];
        r->rhi = (uint32_t)j;
        p->ev_run[k[j].ev] = (uint32_t)(p->nruns - 1);
    }
done:
    free(k);
    return rc;
}

void pack_pre_of(pack_pre *pre, const bt_event *ev, bt_bloom_memo *m)
{
    /* the values interning looks up and their hashes (hash_str, which is bt_bloom_fnv) */
    const char *v[PRE_STRS] = {ev->event_name, ev->event_source, ev->region,     ev->account,
                               ev->error_code, ev->project,      ev->build_uuid, ev->actor_uuid};
    int k;
    for (k = 0; k < PRE_STRS; k++) {
        pre->cs[k] = v[k];
        pre->ih[k] = v[k] ? bt_bloom_fnv_canon(m, &pre->cs[k]) : 0;
    }
    pre->rmask = 0; /* set with the summary's keys (bt_bloom_rkeys_add) */
    pre->eid_ok = (unsigned char)(ev->event_id && bt_event_uuid_pack(ev->event_id, pre->eid));
    if (pre->eid_ok)
        pre->ek = eid_key(ev->time_ms / BT_STORE_HOUR_MS, pre->eid, 16, 0);
    else
        pre->ek = eid_key(ev->time_ms / BT_STORE_HOUR_MS, ev->event_id ? ev->event_id : "",
                          ev->event_id ? strlen(ev->event_id) : 0, 1);
}

int bt_store_pack_new(bt_store *s, const bt_event *ev, size_t n, bt_store_pack **out, bt_error *err)
{
    bt_store_pack *p = calloc(1, sizeof *p);
    packer k;
    uint32_t *order = malloc(n * sizeof *order + 1);
    pack_sk *sk = malloc(n * sizeof *sk + 1);
    uint32_t *hash = malloc(n * sizeof *hash + 1); /* per event: its name's (0: none) */
    unsigned char *rare = malloc(n + 1);
    bt_bloom_memo *memo = bt_bloom_memo_new(); /* NULL: hashes computed each time */
    size_t j, i;
    int rc = 0;

    *out = NULL;
    memset(&k, 0, sizeof k);
    k.t0 = INT64_MAX;
    k.t1 = INT64_MIN;
    k.zc = thread_cctx();
    k.dict = dict_ref(s);
    if (!p || !k.zc || !order || !sk || !hash || !rare ||
        !(p->ev_block = malloc(n * sizeof *p->ev_block + 1)) ||
        !(p->ev_off = malloc(n * sizeof *p->ev_off + 1)) ||
        !(p->pre = malloc(n * sizeof *p->pre + 1))) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    p->n = n;
    p->dict_id = dict_id_of(k.dict);
    p->dict_of = s;
    if ((rc = pack_facts(p, ev, n, err)))
        goto done;
    for (j = 0; j < n; j++) {
        rare[j] = (unsigned char)pack_rare(&ev[j]);
        pack_pre_of(&p->pre[j], &ev[j], memo);
        hash[j] = ev[j].event_name ? (uint32_t)bt_bloom_h31_of(p->pre[j].ih[PRE_NAME]) : 0;
    }
    if (mark_session_heads(ev, n, rare)) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    for (j = 0; j < n; j++) {
        sk[j].t = ev[j].time_ms;
        sk[j].key = rare[j] ? pack_key(&ev[j]) : NULL;
        sk[j].i = (uint32_t)j;
        sk[j].rare = rare[j];
    }
    if (n > 1)
        sort_pack(sk, n);
    for (j = 0; j < n; j++)
        order[j] = sk[j].i;
    for (j = 0; j < n; j++) {
        i = order[j];
        /* close the block at the size target */
        if (k.rawlen && k.rawlen + ev[i].raw_len > BLOCK_RAW_TARGET &&
            (rc = pack_close(p, &k, ev, err)))
            goto done;
        {
            void *v = k.mem;
            byte_key *b;
            if (bt_array_grow(&v, &k.capmem, k.nmem + 1, sizeof *k.mem, 1024)) {
                rc = bt_error_set(err, BT_ENOMEM, "out of memory");
                goto done;
            }
            k.mem = v;
            b = &k.mem[k.nmem++];
            b->src = ev[i].event_source;
            b->name = ev[i].event_name;
            b->arn = ev[i].principal_arn;
            b->ua = ev[i].user_agent;
            b->t = ev[i].time_ms;
            b->i = (uint32_t)i;
        }
        if (rare[i])
            k.nrare++; /* pack order puts every rare record before the others */
        k.rawlen += ev[i].raw_len;
        p->ev_block[i] = (uint32_t)p->nblocks;
        if ((rc = bt_bloom_keys_add(&k.keys, &k.nkeys, &k.capkeys, &ev[i], memo)) ||
            (rc = bt_bloom_rkeys_add(&k.rkeys, &k.nrkeys, &k.caprkeys, &ev[i], memo,
                                     &p->pre[i].rmask)) ||
            (rc = pack_block_note(&k.t0, &k.t1, &k.names, &k.nnames, &k.capnames, ev[i].time_ms,
                                  ev[i].event_name ? &hash[i] : NULL))) {
            rc = bt_error_set(err, rc, "out of memory");
            goto done;
        }
    }
    if (k.nmem && (rc = pack_close(p, &k, ev, err)))
        goto done;
    if ((rc = pack_ranks(p, ev, hash, order, n, err)) || (rc = pack_claims(p, n, err)))
        goto done;
    *out = p;
    p = NULL;
done:
    bt_store_pack_free(p);
    dict_unref(k.dict);
    bt_bloom_memo_free(memo);
    bt_buf_dispose(&k.raw);
    bt_buf_dispose(&k.bloom);
    bt_buf_dispose(&k.rbloom);
    bt_buf_dispose(&k.nset);
    free(k.keys);
    free(k.rkeys);
    free(k.names);
    free(k.mem);
    free(order);
    free(sk);
    free(hash);
    free(rare);
    return rc;
}

int bt_store_pack_prepare(void *ctx, const bt_event *ev, size_t n, void **out)
{
    return bt_store_pack_new(ctx, ev, n, (bt_store_pack **)out, NULL);
}

void bt_store_pack_release(void *prepared)
{
    bt_store_pack_free(prepared);
}

/* The directory of names of block b of pack (bsum.ndir, see sqlite_int.h), runs giving
 * each run's new events. */
int pack_block_dir(const bt_store_pack *pack, size_t b, const uint32_t *runs, bt_buf *out)
{
    const pack_block *blk = &pack->blocks[b];
    uint32_t r, nnamed = (uint32_t)(blk->nset_len / 4);
    bt_buf_clear(out);
    /* a run of events without a name first, when the name set has no hash 0 */
    if (bt_ndir_put(out, blk->nruns == nnamed + 1))
        return BT_ENOMEM;
    for (r = blk->run0; r < blk->run0 + blk->nruns; r++)
        if (bt_ndir_put(out, pack->runs[r].rhi - pack->runs[r].rlo + 1) ||
            bt_ndir_put(out, runs[r]))
            return BT_ENOMEM;
    return 0;
}
