/* ingest_int.h - what ingest.c (bt_ingest) calls in ingest_lookup.c: the backfill of one
 * lookup: source. Not installed. */
#ifndef BT_INGEST_INT_H
#define BT_INGEST_INT_H

#include "buildtrail/ingest.h"

/*
 * Backfills the lookup: source spec ("lookup:r1,r2", "lookup:all", "lookup:") into
 * store, its regions in parallel, each reported through o->lookup_done on the calling
 * thread once all have ended; adds to st's lookup_* counts. Returns 0 (also when
 * o->cancel stopped it: the caller checks), else the first failed (not skipped) region's
 * code with its error copied into err.
 */
int ingest_lookup_source(bt_store *store, const char *spec, const bt_ingest_opts *o,
                         bt_ingest_stats *st, bt_error *err);

#endif
