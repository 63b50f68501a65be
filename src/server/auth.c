/* auth.c - the access keys `buildtrail serve --auth FILE` accepts: loading the
 * "ACCESS_KEY_ID SECRET" file, lookup for the SigV4 verifier, wiping on free. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buildtrail/server.h"
#include "server/server_int.h"
#include "util/crypto_dl.h"

#define AKID_MAX 128
#define SECRET_MAX 1023
#define LINE_MAX_LEN 4096

typedef struct key {
    char *akid;
    char *secret;
} key;

struct bt_serve_auth {
    key *keys;
    size_t n, cap;
};

bt_serve_auth *bt_serve_auth_new(void)
{
    return calloc(1, sizeof(bt_serve_auth));
}

size_t bt_serve_auth_count(const bt_serve_auth *a)
{
    return a ? a->n : 0;
}

static void wipe_free(char *s)
{
    if (s) {
        OPENSSL_cleanse(s, strlen(s));
        free(s);
    }
}

void bt_serve_auth_free(bt_serve_auth *a)
{
    size_t i;
    if (!a)
        return;
    for (i = 0; i < a->n; i++) {
        free(a->keys[i].akid);
        wipe_free(a->keys[i].secret);
    }
    free(a->keys);
    free(a);
}

static int valid_akid(const char *s)
{
    size_t n = 0;
    for (; *s; s++, n++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return 0;
    return n > 0 && n <= AKID_MAX;
}

static int valid_secret(const char *s)
{
    size_t n = 0;
    for (; *s; s++, n++)
        if ((unsigned char)*s <= ' ' || (unsigned char)*s >= 0x7f)
            return 0;
    return n > 0 && n <= SECRET_MAX;
}

int bt_serve_auth_add(bt_serve_auth *a, const char *akid, const char *secret, bt_error *err)
{
    size_t i;
    if (!a || !akid || !secret)
        return bt_error_set(err, BT_EINVAL, "auth: missing key");
    if (!valid_akid(akid))
        /* never echoed: with the fields swapped it would be the secret */
        return bt_error_set(err, BT_EINVAL,
                            "auth: the access key id is not 1-128 letters, digits, '_', '-' or '.' "
                            "(are the fields swapped? expected 'ACCESS_KEY_ID SECRET')");
    if (!valid_secret(secret))
        return bt_error_set(err, BT_EINVAL,
                            "auth: the secret is not 1-1023 printable ASCII characters without "
                            "spaces");
    for (i = 0; i < a->n; i++)
        if (strcmp(a->keys[i].akid, akid) == 0)
            return bt_error_set(err, BT_EINVAL, "auth: an access key id is given twice");
    if (bt_array_grow((void **)&a->keys, &a->cap, a->n + 1, sizeof *a->keys, 8))
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    a->keys[a->n].akid = strdup(akid);
    a->keys[a->n].secret = strdup(secret);
    if (!a->keys[a->n].akid || !a->keys[a->n].secret) {
        free(a->keys[a->n].akid);
        wipe_free(a->keys[a->n].secret);
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    }
    a->n++;
    return 0;
}

int bt_serve_auth_load(const char *path, bt_serve_auth **out, bt_error *err)
{
    FILE *f = NULL;
    char *line = NULL;
    bt_serve_auth *a = NULL;
    unsigned lineno = 0;
    int rc = 0;

    *out = NULL;
    line = malloc(LINE_MAX_LEN + 2);
    a = bt_serve_auth_new();
    if (!line || !a) {
        rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        goto done;
    }
    f = fopen(path, "r");
    if (!f) {
        rc = bt_error_set(err, BT_EIO, "auth file '%s': %s", path, strerror(errno));
        goto done;
    }
    while (fgets(line, LINE_MAX_LEN + 2, f)) {
        char *p = line, *id, *secret, *extra, *save = NULL;
        size_t len = strlen(line);
        lineno++;
        if (len > LINE_MAX_LEN) {
            rc = bt_error_set(err, BT_EPARSE, "auth file '%s' line %u: too long", path, lineno);
            goto done;
        }
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '#' || *p == '\n' || *p == '\r' || !*p)
            continue;
        id = strtok_r(p, " \t\r\n", &save);
        secret = strtok_r(NULL, " \t\r\n", &save);
        extra = strtok_r(NULL, " \t\r\n", &save);
        if (!id || !secret || extra) {
            rc = bt_error_set(err, BT_EPARSE,
                              "auth file '%s' line %u: expected 'ACCESS_KEY_ID SECRET'", path,
                              lineno);
            goto done;
        }
        if ((rc = bt_serve_auth_add(a, id, secret, err))) {
            bt_error_prefix(err, "auth file '%s' line %u", path, lineno);
            if (rc == BT_EINVAL) {
                rc = BT_EPARSE;
                if (err)
                    err->code = rc;
            }
            goto done;
        }
    }
    if (ferror(f)) {
        rc = bt_error_set(err, BT_EIO, "auth file '%s': read error", path);
        goto done;
    }
    if (!a->n) {
        rc = bt_error_set(err, BT_EPARSE, "auth file '%s': no keys", path);
        goto done;
    }
    *out = a;
    a = NULL;
done:
    if (f)
        fclose(f);
    if (line) {
        OPENSSL_cleanse(line, LINE_MAX_LEN + 2);
        free(line);
    }
    bt_serve_auth_free(a);
    return rc;
}

int bt_serve_auth_lookup(void *payload, const char *akid, char *secret, size_t cap)
{
    const bt_serve_auth *a = payload;
    size_t i;
    if (!a)
        return BT_ENOTFOUND;
    for (i = 0; i < a->n; i++)
        if (strcmp(a->keys[i].akid, akid) == 0) {
            size_t n = strlen(a->keys[i].secret);
            if (n >= cap)
                return BT_ENOTFOUND;
            memcpy(secret, a->keys[i].secret, n + 1);
            return 0;
        }
    return BT_ENOTFOUND;
}
