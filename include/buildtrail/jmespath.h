/*
 * buildtrail/jmespath.h - JMESPath queries (the --query language of the AWS CLI),
 * compiled once and evaluated over bt_json documents.
 *
 * Semantics follow the reference implementation the AWS CLI uses (Python jmespath
 * 1.0.1), including where it goes beyond the specification: ordering comparators
 * also order strings, numbers keep Python's int/float distinction (see "Numbers"),
 * and errors arise when Python raises them (unknown functions, arity and type
 * errors when the call is evaluated, not when the query is compiled).
 *
 * Errors: every failing call fills the caller's bt_error. err->msg is one line;
 * err->aws_code holds the JMESPath error kind as the compliance suite names it:
 *   "syntax"            the expression is malformed (also: empty, too deeply nested,
 *                       invalid UTF-8); msg = "invalid query at column N: <what>
 *                       (<expression>)", N counting characters from 1
 *   "invalid-type"      a function argument or operand has the wrong type
 *   "invalid-arity"     a function got the wrong number of arguments
 *   "unknown-function"  no function of that name
 *   "invalid-value"     a value is out of range (slice step 0, ceil(inf))
 * bt_jmespath_error_kind() maps that string back to an enum. Return codes:
 * BT_EPARSE (syntax), BT_ELIMIT (nesting cap, kind "syntax"), BT_EINVAL (the four
 * evaluation kinds), BT_ENOMEM.
 *
 * Numbers: bt_json carries a double and the number's text. Results computed by the
 * query (sum, avg, abs, ceil, floor, to_number, length, ...) are NUMBER nodes whose
 * u.str holds the text Python would print: integers without a '.', exact even beyond
 * 2^53 where Python's result is exact ("3", "-12"), floats as repr() ("2.5", "3.0",
 * "1e+16"); non-finite results hold "Infinity", "-Infinity" or "NaN" (json.dumps
 * style). A number node from elsewhere is an int when its text has no '.', 'e' or
 * 'E' (or, with u.str NULL, when its value is integral and below 2^63).
 *
 * Thread-safety: a compiled bt_jmespath is immutable; any number of threads may
 * evaluate it at once, each with its own arena.
 */
#ifndef BT_JMESPATH_H
#define BT_JMESPATH_H

#include "buildtrail/arena.h"
#include "buildtrail/error.h"
#include "buildtrail/json.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct bt_jmespath bt_jmespath;

/* Error kinds, as stored in bt_error.aws_code (see above). */
typedef enum bt_jmespath_error {
    BT_JMESPATH_E_NONE = 0, /* no JMESPath error (or a non-query failure: ENOMEM) */
    BT_JMESPATH_E_SYNTAX,
    BT_JMESPATH_E_INVALID_TYPE,
    BT_JMESPATH_E_INVALID_ARITY,
    BT_JMESPATH_E_UNKNOWN_FUNCTION,
    BT_JMESPATH_E_INVALID_VALUE
} bt_jmespath_error;

/* Maximum nesting of the expression (parentheses, brackets, functions, projections). */
#define BT_JMESPATH_MAX_DEPTH 400

/*
 * Compiles expr (NUL-terminated UTF-8). On success *out owns the compiled query;
 * release it with bt_jmespath_free. On failure *out is NULL, the return code is
 * BT_EPARSE / BT_ELIMIT / BT_ENOMEM and err says where and what was expected, e.g.
 *   invalid query at column 23: expected ']', found end of query (Events[?a=='X'|b)
 */
int bt_jmespath_compile(const char *expr, bt_jmespath **out, bt_error *err);

void bt_jmespath_free(bt_jmespath *q); /* accepts NULL */

/* The expression text q was compiled from (owned by q). */
const char *bt_jmespath_expr(const bt_jmespath *q);

/* True when q refers to a member called name anywhere (`name`, `a.name`, `"name"`,
 * inside filters and function arguments); keys of a multi-select hash and string
 * literals do not count. Lets a caller build an expensive member only for the queries
 * that read it. */
bool bt_jmespath_names_field(const bt_jmespath *q, const char *name);

/*
 * Evaluates q against input (NULL means JSON null). On success *out is the result,
 * never NULL (a JSON null result is a NULL-type node).
 *
 * Ownership: new nodes are allocated in arena; the result may also share nodes of
 * input, of q (literals, multi-select keys) and static read-only nodes (null, true,
 * false). Treat the result as read-only and keep input, q and arena alive while you
 * use it. input is never modified.
 *
 * Errors: BT_EINVAL with err->aws_code "invalid-type", "invalid-arity",
 * "unknown-function" or "invalid-value"; BT_ENOMEM when the arena is exhausted.
 */
int bt_jmespath_eval(const bt_jmespath *q, bt_arena *arena, const bt_json *input, bt_json **out,
                     bt_error *err);

/* The error kind recorded in err (BT_JMESPATH_E_NONE if err is NULL or holds no
 * JMESPath kind). */
bt_jmespath_error bt_jmespath_error_kind(const bt_error *err);

/* Static name of a kind: "syntax", "invalid-type", ... ("" for NONE). */
const char *bt_jmespath_error_name(bt_jmespath_error kind);

#ifdef __cplusplus
}
#endif
#endif
