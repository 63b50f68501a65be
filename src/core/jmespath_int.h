/*
 * jmespath_int.h - private to src/core/jmespath*.c: the AST the parser builds, the
 * evaluation context, and the value helpers shared by the interpreter and the
 * built-in functions. The AST mirrors jmespath.py's node types one to one, so the
 * two agree on every quirk of evaluation order.
 */
#ifndef BT_JMESPATH_INT_H
#define BT_JMESPATH_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buildtrail/jmespath.h"

typedef enum jp_type {
    JP_IDENTITY,          /* the value itself (implicit) */
    JP_CURRENT,           /* @ */
    JP_FIELD,             /* name */
    JP_SUBEXPR,           /* kids applied in sequence: a.b.c */
    JP_INDEX_EXPR,        /* kids applied in sequence: left[0][1] */
    JP_PIPE,              /* kids[0] | kids[1] */
    JP_INDEX,             /* [n] on the value */
    JP_SLICE,             /* [a:b:c] on the value */
    JP_PROJECTION,        /* kids[1] over each element of array kids[0] */
    JP_VALUE_PROJECTION,  /* kids[1] over each value of object kids[0] */
    JP_FILTER_PROJECTION, /* kids[1] over elements of kids[0] where kids[2] */
    JP_FLATTEN,           /* kids[0] flattened one level */
    JP_LITERAL,           /* lit */
    JP_MULTI_LIST,        /* [k0, k1, ...] */
    JP_MULTI_HASH,        /* {key0: k0, ...} */
    JP_OR,
    JP_AND,
    JP_NOT,
    JP_COMPARATOR, /* op */
    JP_FUNCTION,   /* name(kids...) */
    JP_EXPREF      /* &kids[0] */
} jp_type;

typedef enum jp_cmp { JP_EQ, JP_NE, JP_LT, JP_LTE, JP_GT, JP_GTE } jp_cmp;

typedef struct jp_func jp_func;
typedef struct jp_node jp_node;

struct jp_node {
    jp_type type;
    jp_cmp op;      /* COMPARATOR */
    unsigned depth; /* height of this subtree (capped at BT_JMESPATH_MAX_DEPTH) */
    size_t n, cap;  /* number of kids, room in kids */
    jp_node **kids;
    const char *name; /* FIELD name, FUNCTION name (NUL-terminated, may hold NUL) */
    size_t name_len;
    int64_t num[3];    /* INDEX: num[0]; SLICE: start, stop, step */
    bool has[3];       /* SLICE: which parts were given */
    bt_json *lit;      /* LITERAL */
    const jp_func *fn; /* FUNCTION: resolved, NULL when unknown (raised at eval) */
    /* MULTI_HASH: keys[i]/key_lens[i] for kids[i]; slot[i] is the index of the
     * distinct key kids[i] assigns (Python dict semantics: first position, last value) */
    const char **keys;
    size_t *key_lens;
    size_t *slot;
    size_t nslots;
};

struct bt_jmespath {
    bt_arena *arena; /* owns the AST, literals and the expression copy */
    jp_node *root;
    char *expr;
    bool loose_expref; /* an &expr appears outside a function argument */
};

/* ---- evaluation context (one per bt_jmespath_eval call) ---- */

typedef struct jp_ctx {
    bt_arena *arena;
    bt_error *err;
    int rc; /* 0 or the first error code; every step checks it */
} jp_ctx;

/* Sets ctx->rc and err (code + JMESPath kind); returns NULL for convenience. */
bt_json *jp_fail(jp_ctx *c, int code, bt_jmespath_error kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
bt_json *jp_nomem(jp_ctx *c);

/* Evaluates node against v (NULL = null). Returns NULL for null or on error (check
 * c->rc). */
bt_json *jp_eval(jp_ctx *c, const jp_node *node, const bt_json *v);

/* Calls f with evaluated args (may include expref markers). */
bt_json *jp_call(jp_ctx *c, const jp_node *call, bt_json **args, size_t nargs);
const jp_func *jp_func_lookup(const char *name, size_t len);

/* ---- values ---- */

extern bt_json jp_null_node, jp_true_node, jp_false_node;

/* An expression reference as a value: a NULL-typed node marked by src. */
bt_json *jp_expref_new(jp_ctx *c, const jp_node *expr);
bool jp_is_expref(const bt_json *v);
const jp_node *jp_expref_node(const bt_json *v);

/* JMESPath type of v: "null", "boolean", "number", "string", "array", "object",
 * "expref". */
const char *jp_type_name(const bt_json *v);
bool jp_truthy(const bt_json *v);
/* Python ==. top: apply jmespath.py's top-level rule that 0/1 never equal booleans. */
bool jp_equal(const bt_json *a, const bt_json *b, bool top);
/* Python int? (see jmespath.h "Numbers") */
bool jp_num_is_int(const bt_json *v);
/* Python's a < b for two numbers: -1, 0, 1, or 2 when unordered (NaN). */
int jp_num_cmp(const bt_json *a, const bt_json *b);
/* Python's comparison of two strings (code point order = UTF-8 byte order). */
int jp_str_cmp(const bt_json *a, const bt_json *b);

bt_json *jp_bool(bool b);
bt_json *jp_new_int(jp_ctx *c, int64_t i);
bt_json *jp_new_int128(jp_ctx *c, __int128 i);
bt_json *jp_new_float(jp_ctx *c, double d);
/* A number node with the given (already Python-normalised) text. */
bt_json *jp_new_num_text(jp_ctx *c, const char *text, size_t len, double d);
/* Writes Python's repr(d) (json.dumps spelling for inf/nan) into out (>= 32 bytes). */
size_t jp_float_repr(double d, char *out);
/* Appends the text Python's json.dumps prints for number v. */
int jp_num_write(bt_buf *out, const bt_json *v);

/* Object members as a Python dict sees them: duplicate keys collapsed to the first
 * position with the last value. Returns members (possibly v's own) and *n. NULL
 * with c->rc set on allocation failure; NULL with *n == 0 for an empty object. */
bt_json_member *jp_members(jp_ctx *c, const bt_json *obj, size_t *n);
/* Dict semantics over a concatenation of members (merge()). */
bt_json_member *jp_merge_members(jp_ctx *c, bt_json_member *m, size_t n, size_t *out_n);
/* Python dict.get: the last member named key, or NULL. */
bt_json *jp_lookup(const bt_json *obj, const char *key, size_t len);

/* Builds an array from n items (copied). */
bt_json *jp_array_from(jp_ctx *c, bt_json **items, size_t n);
/* Serialises v as json.dumps(v, separators=(',', ':')) does (ASCII-escaped). */
int jp_dumps(jp_ctx *c, bt_buf *out, const bt_json *v);

#endif
