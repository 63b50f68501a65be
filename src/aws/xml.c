/* xml.c - pulls the text of named elements out of an AWS XML reply (STS query
 * protocol results and errors, S3 errors) with expat; entity expansion in DTDs is
 * refused, sizes are capped. */
#include <stdlib.h>
#include <string.h>

#include "util/expat_dl.h" /* (before aws_int.h: its expat declarations) */

#include "aws/aws_int.h"

#define XML_MAX_SIZE ((size_t)8 << 20)
#define XML_MAX_TEXT ((size_t)1 << 20)
#define XML_MAX_DEPTH 64

typedef struct xstate {
    XML_Parser p;
    const char *const *names;
    size_t n;
    char **vals;
    int capturing; /* index+1 of the name being captured, or 0 */
    int capture_depth;
    int depth;
    bt_buf text;
    int failed; /* BT_E* set inside a callback */
} xstate;

static const char *local_name(const char *name)
{
    /* expat was created with a namespace separator of ' ': "uri local" */
    const char *sp = strrchr(name, ' ');
    const char *colon;
    if (sp)
        return sp + 1;
    colon = strrchr(name, ':');
    return colon ? colon + 1 : name;
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    xstate *x = ud;
    size_t i;
    const char *ln = local_name(name);
    (void)atts;
    x->depth++;
    if (x->depth > XML_MAX_DEPTH) {
        x->failed = BT_ELIMIT;
        XML_StopParser(x->p, XML_FALSE);
        return;
    }
    if (x->capturing)
        return;
    for (i = 0; i < x->n; i++) {
        if (!x->vals[i] && strcmp(ln, x->names[i]) == 0) {
            x->capturing = (int)i + 1;
            x->capture_depth = x->depth;
            bt_buf_clear(&x->text);
            return;
        }
    }
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    xstate *x = ud;
    (void)name;
    if (x->capturing && x->depth == x->capture_depth) {
        char *v = strdup(x->text.data ? x->text.data : "");
        if (!v) {
            x->failed = BT_ENOMEM;
            XML_StopParser(x->p, XML_FALSE);
            return;
        }
        x->vals[x->capturing - 1] = v;
        x->capturing = 0;
    }
    x->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    xstate *x = ud;
    if (!x->capturing || x->depth != x->capture_depth)
        return;
    if (x->text.len + (size_t)len > XML_MAX_TEXT) {
        x->failed = BT_ELIMIT;
        XML_StopParser(x->p, XML_FALSE);
        return;
    }
    if (bt_buf_append(&x->text, s, (size_t)len) != 0) {
        x->failed = BT_ENOMEM;
        XML_StopParser(x->p, XML_FALSE);
    }
}

/* Refuse documents with internal DTD subsets / entity declarations (billion laughs). */
static void XMLCALL on_entity_decl(void *ud, const XML_Char *name, int is_param,
                                   const XML_Char *value, int value_len, const XML_Char *base,
                                   const XML_Char *system_id, const XML_Char *public_id,
                                   const XML_Char *notation)
{
    xstate *x = ud;
    (void)name, (void)is_param, (void)value, (void)value_len, (void)base, (void)system_id,
        (void)public_id, (void)notation;
    x->failed = BT_EPARSE;
    XML_StopParser(x->p, XML_FALSE);
}

int bt_aws_xml_fields(const char *xml, size_t len, const char *const *names, size_t n, char **vals,
                      bt_error *err)
{
    xstate x;
    size_t i;
    int rc = 0;

    for (i = 0; i < n; i++)
        vals[i] = NULL;
    if (len > XML_MAX_SIZE)
        return bt_error_set(err, BT_ELIMIT, "XML reply larger than %zu bytes", XML_MAX_SIZE);
    if ((rc = bt_expat_load(err)))
        return rc;
    memset(&x, 0, sizeof x);
    x.names = names;
    x.n = n;
    x.vals = vals;
    bt_buf_init(&x.text, 0);
    x.p = bt_xml_parser_new(&x, on_start, on_end, on_text, on_entity_decl);
    if (!x.p)
        return bt_error_set(err, BT_ENOMEM, "out of memory");
    if (XML_Parse(x.p, xml, (int)len, XML_TRUE) == XML_STATUS_ERROR || x.failed) {
        if (x.failed == BT_ENOMEM)
            rc = bt_error_set(err, BT_ENOMEM, "out of memory");
        else if (x.failed == BT_ELIMIT)
            rc = bt_error_set(err, BT_ELIMIT, "XML reply too deep or too large");
        else if (x.failed)
            rc = bt_error_set(err, BT_EPARSE, "XML reply declares entities");
        else
            rc = bt_error_set(err, BT_EPARSE, "invalid XML at line %lu: %s",
                              (unsigned long)XML_GetCurrentLineNumber(x.p),
                              XML_ErrorString(XML_GetErrorCode(x.p)));
        for (i = 0; i < n; i++) {
            free(vals[i]);
            vals[i] = NULL;
        }
    }
    XML_ParserFree(x.p);
    bt_buf_dispose(&x.text);
    return rc;
}

XML_Parser bt_xml_parser_new(void *ud, XML_StartElementHandler start, XML_EndElementHandler end,
                             XML_CharacterDataHandler text, XML_EntityDeclHandler entity)
{
    XML_Parser p = XML_ParserCreateNS(NULL, ' ');
    if (!p)
        return NULL;
    XML_SetUserData(p, ud);
    XML_SetElementHandler(p, start, end);
    XML_SetCharacterDataHandler(p, text);
    XML_SetEntityDeclHandler(p, entity);
    return p;
}
