/* mhd_dl.h - libmicrohttpd, loaded when `serve` starts instead of at program start (the
 * reason is in curl_dl.h). Include this header instead of <microhttpd.h>; bt_mhd_load()
 * must have returned 0 before any of the functions below is called. */
#ifndef BT_MHD_DL_H
#define BT_MHD_DL_H

#include <stdint.h>
#include <sys/socket.h>
#include <microhttpd.h>

#include "buildtrail/error.h"

typedef struct bt_mhd_fns {
    struct MHD_Daemon *(*start_daemon)(unsigned int flags, uint16_t port,
                                       MHD_AcceptPolicyCallback apc, void *apc_cls,
                                       MHD_AccessHandlerCallback dh, void *dh_cls, ...);
    void (*stop_daemon)(struct MHD_Daemon *daemon);
    enum MHD_Result (*is_feature_supported)(enum MHD_FEATURE feature);
    const union MHD_ConnectionInfo *(*get_connection_info)(struct MHD_Connection *connection,
                                                           enum MHD_ConnectionInfoType info_type,
                                                           ...);
    int (*get_connection_values)(struct MHD_Connection *connection, enum MHD_ValueKind kind,
                                 MHD_KeyValueIterator iterator, void *iterator_cls);
    struct MHD_Response *(*create_response_from_buffer)(size_t size, void *buffer,
                                                        enum MHD_ResponseMemoryMode mode);
    enum MHD_Result (*add_response_header)(struct MHD_Response *response, const char *header,
                                           const char *content);
    enum MHD_Result (*queue_response)(struct MHD_Connection *connection,
                                      unsigned int status_code, struct MHD_Response *response);
    void (*destroy_response)(struct MHD_Response *response);
} bt_mhd_fns;

/* Filled by bt_mhd_load; read-only after. */
extern bt_mhd_fns bt_mhd_fn;

/* Loads libmicrohttpd once per process (thread-safe). 0, or BT_EIO with a message naming
 * the library and why it could not be loaded. */
int bt_mhd_load(bt_error *err);

#ifndef BT_DL_IMPL
#define MHD_start_daemon bt_mhd_fn.start_daemon
#define MHD_stop_daemon bt_mhd_fn.stop_daemon
#define MHD_is_feature_supported bt_mhd_fn.is_feature_supported
#define MHD_get_connection_info bt_mhd_fn.get_connection_info
#define MHD_get_connection_values bt_mhd_fn.get_connection_values
#define MHD_create_response_from_buffer bt_mhd_fn.create_response_from_buffer
#define MHD_add_response_header bt_mhd_fn.add_response_header
#define MHD_queue_response bt_mhd_fn.queue_response
#define MHD_destroy_response bt_mhd_fn.destroy_response
#endif

#endif
