/* build_timeline.c - example: print one CodeBuild build's timeline from a buildtrail store
 * (made by `buildtrail ingest`) through the public API only: who started it, how it
 * ended, what its role session called per service, and the calls that failed.
 *
 *   example-build-timeline STORE UUID
 *
 * Lines: "build", "trigger", "started", "outcome", "calls", then one "service" line per
 * service and one "error" line per failed call (tab-separated after the first word). */
#include <stdio.h>

#include "buildtrail/builds.h"
#include "buildtrail/error.h"
#include "buildtrail/store.h"

static const char *str(const char *s)
{
    return s ? s : "-";
}

int main(int argc, char **argv)
{
    bt_error err = BT_ERROR_INIT;
    bt_store *store = NULL;
    bt_timeline *t = NULL;
    const bt_build *b;
    size_t i;
    int rc;

    if (argc != 3) {
        fprintf(stderr, "usage: %s STORE UUID\n", argv[0]);
        return 2;
    }
    if (bt_store_open(argv[1], BT_STORE_READONLY, &store, &err) ||
        (rc = bt_build_timeline(store, argv[2], NULL, &t, &err))) {
        fprintf(stderr, "%s: %s\n", argv[0], err.msg);
        bt_store_close(store);
        return err.code == BT_ENOTFOUND ? 5 : 1;
    }
    b = &t->build;
    printf("build\t%s\t%s\n", str(b->build_id), str(b->project));
    printf("trigger\t%s\t%s\n", str(b->trigger_type), str(b->trigger_principal));
    if (t->trigger.found)
        printf("started\t%s\t%s\t%zu overrides\n", str(t->trigger.event_name), str(t->trigger.by),
               t->trigger.n_overrides);
    printf("outcome\t%s\n", b->status ? b->status : "unknown");
    printf("calls\t%llu\t%llu\n", (unsigned long long)b->calls, (unsigned long long)b->errors);
    for (i = 0; i < t->n_services; i++)
        printf("service\t%s\t%llu\t%llu\n", t->services[i].event_source,
               (unsigned long long)t->services[i].calls, (unsigned long long)t->services[i].errors);
    for (i = 0; i < t->n_errors; i++)
        printf("error\t%s\t%s\t%s\n", str(t->errors[i]->event_source),
               str(t->errors[i]->event_name), str(t->errors[i]->error_code));
    bt_timeline_free(t);
    bt_store_close(store);
    return 0;
}
