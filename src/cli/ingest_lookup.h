/* ingest_lookup.h - `ingest lookup:REGION` (ingest_lookup.c): the option group, the
 * client settings and the per-region line that cmd_ingest.c uses for lookup: sources. */
#ifndef BT_INGEST_LOOKUP_H
#define BT_INGEST_LOOKUP_H

#include "buildtrail/aws.h"
#include "buildtrail/ingest.h"
#include "cli.h"

enum { IL_PROFILE = 900, IL_ENDPOINT, IL_RATE };

typedef struct ingest_lookup_opts_t {
    const char *profile, *endpoint;
    double rate; /* 0 = default (2/s), < 0 = unlimited */
} ingest_lookup_opts_t;

extern const cli_group cli_group_ingest_lookup;

/* Handles an option of the group: 0 handled, 1 not ours, -1 bad value (printed). */
int ingest_lookup_opt(ingest_lookup_opts_t *o, const cli_opt *opt, const char *value);
/* The lookup: sources' client settings (bt_ingest_opts.lookup_aws); borrows o's strings. */
void ingest_lookup_config(const ingest_lookup_opts_t *o, bt_aws_config *cfg);
/* Prints what a region's backfill did (and its error); returns its exit code (0 when it
 * succeeded or was skipped). */
int ingest_lookup_report(const bt_ingest_lookup_region *r, int json_summary);

#endif
