/*
 * buildtrail/error.h - error codes and the error detail every fallible call fills.
 *
 * Functions return int: 0 on success, a negative BT_E* code on failure. The
 * human-readable detail goes into a caller-owned bt_error (no globals, thread-safe).
 * Codes are append-only. The library never prints; the CLI turns an error into
 * "buildtrail: <msg>" and an exit code.
 */
#ifndef BT_ERROR_H
#define BT_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

enum {
    BT_OK = 0,
    BT_ERROR = -1,     /* generic failure */
    BT_ENOMEM = -2,    /* allocation failed */
    BT_EINVAL = -3,    /* bad argument or option value (usage) */
    BT_EIO = -4,       /* file or system I/O */
    BT_EPARSE = -5,    /* malformed input: JSON, gzip, XML, INI, expression */
    BT_ELIMIT = -6,    /* a size or depth cap was exceeded */
    BT_EDB = -7,       /* store (SQLite) failure */
    BT_ENOTFOUND = -8, /* no such file, event, build, profile ... */
    BT_EHTTP = -9,     /* transport failure: connect, TLS, timeout, reset */
    BT_EAWS = -10,     /* the service returned an error (code in bt_error.aws_code) */
    BT_ECRED = -11,    /* no credentials, or a credential source failed */
    BT_ECONFIG = -12,  /* configuration: region, profile, endpoint */
    BT_ESTOP = -13,    /* stopped on request (callback asked to stop, signal) */
    BT_EAUTH = -14,    /* server side: request not authenticated */
};

#define BT_ERROR_MSG_MAX 512

typedef struct bt_error {
    int code;                     /* last BT_E* code set, 0 if none */
    int http_status;              /* HTTP status for BT_EAWS/BT_EHTTP, else 0 */
    char aws_code[64];            /* AWS error type, e.g. "ThrottlingException" */
    char msg[BT_ERROR_MSG_MAX];   /* one line, lowercase, subject quoted */
    /* Filled by the AWS client (aws.h) when an AWS call fails, so callers never read
     * them back out of msg; empty / 0 otherwise. */
    char request_id[128];         /* the failed reply's request id, else "" */
    int attempts;                 /* attempts the call made (1 = not retried), 0 = none */
    int retries_exhausted;        /* the last failure was retryable but no attempt was
                                     left: botocore's "(reached max retries: N)", N =
                                     attempts - 1 */
    char aws_message[BT_ERROR_MSG_MAX]; /* the service's own message (one line), else "" */
} bt_error;

#define BT_ERROR_INIT {0, 0, {0}, {0}, {0}, 0, 0, {0}}

/* Sets err (if not NULL) with a printf-style message; returns code, so callers can
 * write `return bt_error_set(err, BT_EIO, "'%s': %s", path, strerror(errno));`. */
int bt_error_set(bt_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with "<prefix>: " (adding context on the way up). */
void bt_error_prefix(bt_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

void bt_error_clear(bt_error *err);

/* Static name of a code, e.g. "parse error". */
const char *bt_strerror(int code);

#ifdef __cplusplus
}
#endif
#endif
