/* awsdriver.c - a small command-line driver over the AWS client layer, used by the
 * integration tests (tests/integration/it_aws_*.sh) against real peers:
 *
 *   bt-awsdriver [options] creds             resolve credentials, print where from
 *   bt-awsdriver [options] whoami            STS GetCallerIdentity
 *   bt-awsdriver [options] builds ID...      CodeBuild BatchGetBuilds
 *   bt-awsdriver [options] lookup [K=V]      CloudTrail LookupEvents, one page
 *   bt-awsdriver [options] json PREFIX OP [BODY]   any JSON 1.1 call
 *   bt-awsdriver [options] query SVC ACTION VERSION [PARAMS]   any query call
 *   bt-awsdriver [options] endpoint SVC      print the resolved endpoint
 *   bt-awsdriver [options] s3 METHOD PATH [QUERY]   an S3 REST call (body to stdout)
 *
 * options: --profile P, --region R, --endpoint-url URL, --max-attempts N,
 *          --debug (library debug log to stderr), --log FILE (debug log to FILE),
 *          --start T, --end T, --max-results N, --next-token T (lookup).
 * Never prints a secret: the creds command shows the key id and whether a session
 * token exists. Exit status: 0 ok, 1 failure (message on stderr with the code). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/aws.h"
#include "buildtrail/json.h"

static FILE *logf_;

static void on_log(void *payload, const char *line)
{
    (void)payload;
    fprintf(logf_, "%s\n", line);
    fflush(logf_);
}

static int fail(const bt_error *err)
{
    fprintf(stderr, "bt-awsdriver: %s", err->msg);
    if (err->aws_code[0])
        fprintf(stderr, " [aws_code=%s http_status=%d]", err->aws_code, err->http_status);
    fprintf(stderr, " [%s]\n", bt_strerror(err->code));
    return 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: bt-awsdriver [--profile P] [--region R] [--endpoint-url URL] "
                    "[--debug] creds|whoami|builds|lookup|json|query|endpoint|s3 ...\n");
}

int main(int argc, char **argv)
{
    bt_aws_config cfg = BT_AWS_CONFIG_INIT;
    bt_aws_client *c = NULL;
    bt_error err = BT_ERROR_INIT;
    bt_arena *arena = NULL;
    bt_ct_lookup_request lr;
    const char *cmd;
    int i, rc = 0;

    memset(&lr, 0, sizeof lr);
    logf_ = stderr;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--profile") == 0 && i + 1 < argc)
            cfg.profile = argv[++i];
        else if (strcmp(a, "--region") == 0 && i + 1 < argc)
            cfg.region = argv[++i];
        else if (strcmp(a, "--endpoint-url") == 0 && i + 1 < argc)
            cfg.endpoint_url = argv[++i];
        else if (strcmp(a, "--max-attempts") == 0 && i + 1 < argc)
            cfg.max_attempts = atoi(argv[++i]);
        else if (strcmp(a, "--debug") == 0)
            cfg.log = on_log;
        else if (strcmp(a, "--log") == 0 && i + 1 < argc) {
            logf_ = fopen(argv[++i], "a");
            if (!logf_) {
                perror(argv[i]);
                return 2;
            }
            cfg.log = on_log;
        } else if (strcmp(a, "--start") == 0 && i + 1 < argc)
            lr.start_time = atoll(argv[++i]);
        else if (strcmp(a, "--end") == 0 && i + 1 < argc)
            lr.end_time = atoll(argv[++i]);
        else if (strcmp(a, "--max-results") == 0 && i + 1 < argc)
            lr.max_results = atoi(argv[++i]);
        else if (strcmp(a, "--next-token") == 0 && i + 1 < argc)
            lr.next_token = argv[++i];
        else if (strcmp(a, "--rate") == 0 && i + 1 < argc)
            cfg.lookup_events_rate = atof(argv[++i]);
        else
            break;
    }
    if (i >= argc) {
        usage();
        return 2;
    }
    cmd = argv[i++];
    if (bt_aws_client_new(&c, &cfg, &err) != 0) {
        rc = fail(&err);
        goto done;
    }
    arena = bt_arena_new(0, 0);
    if (!arena) {
        rc = 1;
        goto done;
    }
    if (strcmp(cmd, "creds") == 0) {
        bt_aws_creds cr;
        if (bt_aws_client_credentials(c, &cr, &err) != 0) {
            rc = fail(&err);
            goto done;
        }
        printf("source=%s access_key_id=%s session_token=%s expiration=%lld account=%s\n",
               cr.source, cr.access_key_id, cr.session_token ? "yes" : "no",
               (long long)cr.expiration, cr.account_id);
        bt_aws_creds_dispose(&cr);
    } else if (strcmp(cmd, "whoami") == 0) {
        bt_sts_identity id;
        if (bt_sts_get_caller_identity(c, &id, &err) != 0) {
            rc = fail(&err);
            goto done;
        }
        printf("account=%s arn=%s user_id=%s\n", id.account, id.arn, id.user_id);
    } else if (strcmp(cmd, "builds") == 0) {
        bt_cb_builds b;
        bt_buf out = BT_BUF_INIT;
        bt_json_write_opts wo = {0, BT_JSON_W_NEWLINE};
        if (i >= argc) {
            usage();
            rc = 2;
            goto done;
        }
        if (bt_cb_batch_get_builds(c, (const char *const *)argv + i, (size_t)(argc - i), arena, &b,
                                   &err) != 0) {
            rc = fail(&err);
            goto done;
        }
        bt_json_write(&out, b.raw, &wo);
        fputs(out.data ? out.data : "", stdout);
        bt_buf_dispose(&out);
    } else if (strcmp(cmd, "lookup") == 0) {
        bt_ct_lookup_page pg;
        size_t k;
        if (i < argc) {
            char *eq = strchr(argv[i], '=');
            if (!eq) {
                usage();
                rc = 2;
                goto done;
            }
            *eq = '\0';
            lr.attr_key = argv[i];
            lr.attr_value = eq + 1;
        }
        if (bt_ct_lookup_events(c, &lr, arena, &pg, &err) != 0) {
            rc = fail(&err);
            goto done;
        }
        for (k = 0; k < pg.nevents; k++)
            printf("event %s %s %s %.3f\n", pg.events[k].event_id ? pg.events[k].event_id : "-",
                   pg.events[k].event_name ? pg.events[k].event_name : "-",
                   pg.events[k].username ? pg.events[k].username : "-", pg.events[k].event_time);
        printf("next_token=%s\n", pg.next_token ? pg.next_token : "");
    } else if (strcmp(cmd, "json") == 0 || strcmp(cmd, "query") == 0) {
        bt_aws_response resp;
        bt_aws_response_init(&resp);
        if (strcmp(cmd, "json") == 0 && i + 1 < argc)
            rc = bt_aws_json_call(c, argv[i], argv[i + 1], i + 2 < argc ? argv[i + 2] : NULL, &resp,
                                  &err);
        else if (strcmp(cmd, "query") == 0 && i + 2 < argc)
            rc = bt_aws_query_call(c, argv[i], argv[i + 1], argv[i + 2],
                                   i + 3 < argc ? argv[i + 3] : NULL, &resp, &err);
        else {
            usage();
            rc = 2;
            bt_aws_response_dispose(&resp);
            goto done;
        }
        if (rc) {
            rc = fail(&err);
        } else {
            printf("%s\n", resp.body.data ? resp.body.data : "");
            fprintf(stderr, "attempts=%d request_id=%s\n", resp.attempts, resp.request_id);
        }
        bt_aws_response_dispose(&resp);
    } else if (strcmp(cmd, "s3") == 0) {
        bt_aws_response resp;
        if (i + 1 >= argc) {
            usage();
            rc = 2;
            goto done;
        }
        bt_aws_response_init(&resp);
        rc = bt_aws_rest_call(c, "s3", argv[i], argv[i + 1], i + 2 < argc ? argv[i + 2] : NULL,
                              NULL, 0, NULL, 0, BT_AWS_REST_S3, &resp, &err);
        if (rc)
            rc = fail(&err);
        else
            fwrite(resp.body.data ? resp.body.data : "", 1, resp.body.len, stdout);
        bt_aws_response_dispose(&resp);
    } else if (strcmp(cmd, "endpoint") == 0) {
        bt_aws_endpoint ep;
        if (i >= argc) {
            usage();
            rc = 2;
            goto done;
        }
        if (bt_aws_client_endpoint(c, argv[i], &ep, &err) != 0) {
            rc = fail(&err);
            goto done;
        }
        printf("%s %s %s\n", ep.url, ep.signing_region, ep.signing_name);
    } else {
        usage();
        rc = 2;
    }
done:
    bt_arena_free(arena);
    bt_aws_client_free(c);
    if (logf_ && logf_ != stderr)
        fclose(logf_);
    return rc;
}
