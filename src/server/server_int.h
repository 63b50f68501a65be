/* server_int.h - internals shared by the files of src/server (not installed). */
#ifndef BT_SERVER_INT_H
#define BT_SERVER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "buildtrail/server.h"

/* bt_sigv4_secret_fn over a bt_serve_auth (payload). */
int bt_serve_auth_lookup(void *payload, const char *akid, char *secret, size_t cap);

/* A random UUID (version 4) as 36 characters + NUL, from a per-thread generator. */
void bt_serve_request_id(char out[37]);

/* The web view (web.c): is req one of its requests (GET / HEAD, or POST to a path other
 * than "/")? Then bt_web_handle answers it. */
int bt_web_wants(const bt_serve_request *req);
void bt_web_handle(const bt_serve_config *cfg, bt_store *store, bt_arena *scratch,
                   const bt_serve_request *req, bt_serve_response *r);

#endif
