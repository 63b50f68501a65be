/*
 * pack.h - packed batches (not a public header): a batch's events laid out in blocks
 * and compressed, each block summarised (Bloom filters, time range, names and their
 * runs of ids) and the build facts computed, all in the parser threads that call
 * bt_store_pack_new, so the SQLite writer (sqlite.c, bt_store_add_packed) only inserts.
 * pack.c holds the packing; the layout it makes is described in sqlite.c and
 * docs/store.md.
 */
#ifndef BT_STORE_PACK_H
#define BT_STORE_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/builds.h"
#include "buildtrail/event.h"
#include "buildtrail/store.h"
#include "store/bloom.h"

#define BLOCK_RAW_TARGET (512u << 10) /* a block's raw bytes, at most one record more */
#define ZSTD_LEVEL 1

typedef struct pack_block {
    void *data;
    size_t len, raw_len;
    unsigned char *bloom, *rbloom; /* summaries of its events and their resources (bloom.h) */
    size_t bloom_len, rbloom_len;
    unsigned char *nset; /* its events' names (bt_nset_build) */
    size_t nset_len;
    int64_t t0, t1;       /* its events' first and last time */
    uint32_t jlo, jhi;    /* the first and last place of its events in the batch's id order */
    uint32_t run0, nruns; /* its runs of one name (p->runs[run0 .. run0 + nruns)) */
} pack_block;

/* The events of one block with one name (by hash; 0 for none), which take consecutive
 * places rlo..rhi in the batch's id order. */
typedef struct pack_run {
    uint32_t hash, rlo, rhi;
} pack_run;

/* The interned fields of an event, in pack_pre's order. */
enum {
    PRE_NAME,
    PRE_SOURCE,
    PRE_REGION,
    PRE_ACCOUNT,
    PRE_ERROR,
    PRE_PROJECT,
    PRE_BUILD,
    PRE_ACTOR,
    PRE_STRS
};

/* What the writer would otherwise compute per event, computed by the packer: the
 * hashes interning looks up (ih: hash_str of its name, source, region, account, error
 * code, project, build and acting build; 0 for none) and the values themselves (cs, NULL
 * for none), each the batch's first of the same bytes (bt_bloom_fnv_canon), so the
 * writer tells values apart by their pointers; its event id packed (bt_event_uuid_pack; eid_ok 0
 * when the id is not a UUID) and its resources' fingerprint (events.rh, which the packer gets from
 * bt_bloom_rkeys_add with the block summary's keys). */
typedef struct pack_pre {
    uint64_t ih[PRE_STRS];
    const char *cs[PRE_STRS];
    uint64_t rmask;
    int64_t ek;            /* the event id's key in `eids` (eid_key) */
    unsigned char eid[16]; /* the event id packed, when eid_ok (a UUID) */
    unsigned char eid_ok;
} pack_pre;

struct bt_store_pack {
    pack_block *blocks;
    size_t nblocks;
    uint32_t dict_id;        /* the dictionary its blocks are compressed with (0: none) */
    const bt_store *dict_of; /* and the store whose it is */
    uint32_t *ev_block;      /* per event: index into blocks */
    uint32_t *ev_off;        /* per event: offset in the block's raw bytes */
    uint32_t *ev_rank;       /* per event: its place in the batch's id order (pack_ranks) */
    uint32_t *ev_run;        /* per event: its run (runs) */
    pack_run *runs;
    size_t nruns;
    size_t n;
    /* build facts of the events that carry some, computed in the parser thread */
    bt_build_facts *facts;
    uint32_t *fact_ev; /* per fact: index of its event, ascending */
    size_t nfacts;
    bt_arena *arena;   /* the facts' own strings (others borrow from the events) */
    uint32_t *rank_ev; /* per place in the batch's id order: its event */
    uint32_t *claim_ev; /* per place in claim order (by key in `eids`): its event */
    pack_pre *pre;     /* per event */
};

/* Computes pre for ev (the packer's, per event, through its memo m; the writer's own
 * for an event added alone, bt_store_add, with m NULL), but for rmask, which it sets to
 * 0. */
void pack_pre_of(pack_pre *pre, const bt_event *ev, bt_bloom_memo *m);

/* Adds an event's time and name to the summary of the block being filled (the store's
 * pending block, or a packer's): its time range *t0..*t1 and the hashes of its names
 * (*names, *n in use, *cap allocated; hash: the name's bt_bloom_h31, NULL for an event
 * without a name). BT_ENOMEM when the array cannot grow. */
int pack_block_note(int64_t *t0, int64_t *t1, uint32_t **names, size_t *n, size_t *cap,
                    int64_t time_ms, const uint32_t *hash);

/* The directory of names of block b of pack (bsum.ndir, see sqlite_int.h) into out
 * (cleared first), runs giving each run's stored events. BT_ENOMEM when out cannot
 * grow. */
int pack_block_dir(const bt_store_pack *pack, size_t b, const uint32_t *runs, bt_buf *out);

#endif
