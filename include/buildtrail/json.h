/*
 * buildtrail/json.h - JSON values: a strict parser building a DOM in an arena, and
 * a writer with the output styles the tool needs (compact, AWS CLI, jq-like).
 *
 * Ownership: every bt_json node, string and array lives in the bt_arena given to the
 * parser or constructor; nothing is freed individually. Parsed nodes also record
 * src/src_len, the exact bytes of the value in the input text, so the input must
 * outlive any use of src (the rest of the tree is self-contained in the arena).
 *
 * Strictness: RFC 8259. UTF-8 is validated; depth and input size are capped. See
 * docs/json.md for the choices made on implementation-defined inputs.
 */
#ifndef BT_JSON_H
#define BT_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buildtrail/arena.h"
#include "buildtrail/buf.h"
#include "buildtrail/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum bt_json_type {
    BT_JSON_NULL = 0,
    BT_JSON_FALSE,
    BT_JSON_TRUE,
    BT_JSON_NUMBER,
    BT_JSON_STRING,
    BT_JSON_ARRAY,
    BT_JSON_OBJECT
} bt_json_type;

typedef struct bt_json bt_json;

typedef struct bt_json_member {
    const char *key; /* decoded UTF-8, NUL-terminated (may also hold NULs: use key_len) */
    size_t key_len;
    bt_json *value;
} bt_json_member;

struct bt_json {
    bt_json_type type;
    size_t len; /* STRING: bytes; ARRAY: items; OBJECT: members; NUMBER: bytes of text */
    union {
        const char *str;          /* STRING: decoded UTF-8, NUL-terminated (use len);
                                     NUMBER: the literal text, NUL-terminated, or NULL
                                     for a computed number */
        bt_json **items;          /* ARRAY */
        bt_json_member *members;  /* OBJECT, document order; duplicate keys kept */
    } u;
    double num;                   /* NUMBER: value as double */
    const char *src;              /* parsed: first byte of this value in the input; else NULL */
    size_t src_len;               /* parsed: byte length of the value in the input */
};

#define BT_JSON_DEFAULT_MAX_DEPTH 512
#define BT_JSON_DEFAULT_MAX_SIZE ((size_t)1 << 30) /* 1 GiB of input */

typedef struct bt_json_parse_opts {
    unsigned max_depth; /* 0 = BT_JSON_DEFAULT_MAX_DEPTH */
    size_t max_size;    /* 0 = BT_JSON_DEFAULT_MAX_SIZE; longer input fails BT_ELIMIT */
    size_t offset_base; /* added to byte offsets in error messages (text is a slice of a
                           larger input that starts offset_base bytes earlier) */
} bt_json_parse_opts;

/*
 * Parses exactly one JSON text (leading/trailing whitespace allowed, nothing else).
 * On success *out is the root, allocated in arena. On failure returns BT_EPARSE /
 * BT_ELIMIT / BT_ENOMEM and err->msg says what and at which byte offset, e.g.
 * "invalid JSON at byte 17: expected ':' after object key".
 */
int bt_json_parse(bt_arena *arena, const char *text, size_t len,
                  const bt_json_parse_opts *opts, bt_json **out, bt_error *err);

/*
 * Parses one JSON value at the start of text (after optional whitespace) and stops
 * after it; *consumed is the offset just past the value. For NDJSON and for
 * concatenated values. Same errors as bt_json_parse.
 */
int bt_json_parse_prefix(bt_arena *arena, const char *text, size_t len,
                         const bt_json_parse_opts *opts, bt_json **out, size_t *consumed,
                         bt_error *err);

/* ---- access (all borrowed pointers, NULL when absent or of another type) ---- */

bt_json *bt_json_get(const bt_json *obj, const char *key);  /* first member named key */
bt_json *bt_json_getn(const bt_json *obj, const char *key, size_t key_len);
/* Dotted path of object keys, e.g. "userIdentity.sessionContext.sessionIssuer.arn". */
bt_json *bt_json_get_path(const bt_json *v, const char *path);
/* String value of a member (NULL unless it is a string). */
const char *bt_json_get_str(const bt_json *obj, const char *key);
bool bt_json_is_str(const bt_json *v, const char *s); /* v is a string equal to s */
bool bt_json_truthy(const bt_json *v);                 /* JMESPath truthiness */
/* Deep equality (objects compare as unordered maps, numbers by value). */
bool bt_json_equal(const bt_json *a, const bt_json *b);

/* ---- construction (all in arena; NULL on allocation failure) ---- */

bt_json *bt_json_new_null(bt_arena *a);
bt_json *bt_json_new_bool(bt_arena *a, bool b);
bt_json *bt_json_new_number(bt_arena *a, double d);     /* u.str = NULL */
bt_json *bt_json_new_string(bt_arena *a, const char *s, size_t len); /* copies s */
bt_json *bt_json_new_array(bt_arena *a, size_t capacity); /* len 0 */
bt_json *bt_json_new_object(bt_arena *a, size_t capacity);
/* Appends, growing storage inside the arena. Return 0 or BT_ENOMEM. */
int bt_json_array_push(bt_arena *a, bt_json *arr, bt_json *item);
int bt_json_object_put(bt_arena *a, bt_json *obj, const char *key, size_t key_len,
                       bt_json *value); /* appends; does not replace existing keys */

/* ---- writing ---- */

enum {
    BT_JSON_W_ASCII = 1 << 0,  /* escape non-ASCII as \uXXXX (surrogate pairs) */
    BT_JSON_W_PYNUM = 1 << 1,  /* numbers as Python's json.dumps(json.loads(x)) would
                                  print them: integers exact, floats via repr */
    BT_JSON_W_SORT = 1 << 2,   /* sort object keys (bytewise) */
    BT_JSON_W_SPACES = 1 << 3, /* compact but with ", " and ": " (Python's default) */
    BT_JSON_W_NEWLINE = 1 << 4 /* final '\n' */
};

typedef struct bt_json_write_opts {
    unsigned indent; /* 0 = compact; else spaces per level, Python-style layout
                        ("key": value, "," at line end, [] and {} when empty) */
    unsigned flags;  /* BT_JSON_W_* */
} bt_json_write_opts;

/* Appends the serialisation of v to out. Returns 0, BT_ENOMEM or BT_ELIMIT. */
int bt_json_write(bt_buf *out, const bt_json *v, const bt_json_write_opts *opts);
/* Appends s (len bytes of UTF-8) as a quoted JSON string. */
int bt_json_write_string(bt_buf *out, const char *s, size_t len, unsigned flags);
/* Appends a number formatted like Python's repr(float) / str(int). */
int bt_json_write_number(bt_buf *out, double d);

#ifdef __cplusplus
}
#endif
#endif
