/* error.c - bt_error: setting, prefixing and naming error codes. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "buildtrail/error.h"

int bt_error_set(bt_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        err->code = code;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return code;
}

void bt_error_prefix(bt_error *err, const char *fmt, ...)
{
    char pre[BT_ERROR_MSG_MAX], old[BT_ERROR_MSG_MAX];
    va_list ap;

    if (!err)
        return;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof pre, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    if (old[0])
        snprintf(err->msg, sizeof err->msg, "%s: %s", pre, old);
    else
        snprintf(err->msg, sizeof err->msg, "%s", pre);
}

void bt_error_clear(bt_error *err)
{
    if (err)
        memset(err, 0, sizeof *err);
}

const char *bt_strerror(int code)
{
    switch (code) {
    case BT_OK: return "success";
    case BT_ENOMEM: return "out of memory";
    case BT_EINVAL: return "invalid argument";
    case BT_EIO: return "i/o error";
    case BT_EPARSE: return "parse error";
    case BT_ELIMIT: return "limit exceeded";
    case BT_EDB: return "store error";
    case BT_ENOTFOUND: return "not found";
    case BT_EHTTP: return "transport error";
    case BT_EAWS: return "service error";
    case BT_ECRED: return "credentials error";
    case BT_ECONFIG: return "configuration error";
    case BT_ESTOP: return "stopped";
    case BT_EAUTH: return "not authenticated";
    default: return "error";
    }
}
