/* ingest_lookup.h - `ingest lookup:REGION` (ingest_lookup.c): the option group and
 * the backfill run that cmd_ingest.c calls for lookup: sources. */
#ifndef BT_INGEST_LOOKUP_H
#define BT_INGEST_LOOKUP_H

#include <signal.h>
#include <stdint.h>

#include "buildtrail/store.h"
#include "cli.h"

enum { IL_PROFILE = 900, IL_ENDPOINT, IL_RATE };

typedef struct ingest_lookup_opts_t {
    const char *profile, *endpoint;
    double rate; /* 0 = default (2/s), < 0 = unlimited */
} ingest_lookup_opts_t;

extern const cli_group cli_group_ingest_lookup;

/* Handles an option of the group: 0 handled, 1 not ours, -1 bad value (printed). */
int ingest_lookup_opt(ingest_lookup_opts_t *o, const cli_opt *opt, const char *value);
/* Is a PATH argument a "lookup:..." source? */
int ingest_is_lookup(const char *arg);
/* Backfills one lookup: source into store (start/end from --start-time/--end-time,
 * INT64_MIN/MAX when unset), printing a summary line per region. Stops after the
 * current page when *stop becomes non-zero. *added counts new events. Returns an
 * exit code. */
int ingest_lookup_run(const ingest_lookup_opts_t *o, const char *spec, bt_store *store,
                      int64_t start_ms, int64_t end_ms, int force, int json_summary,
                      volatile sig_atomic_t *stop, uint64_t *added);

#endif
