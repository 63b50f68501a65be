/* expat_dl.h - libexpat, loaded when first used instead of at program start.
 *
 * Only the AWS XML replies (STS, S3 listings and errors: aws/xml.c, aws/s3.c) need it,
 * yet linking it cost every start its mapping and relocations. The functions buildtrail
 * calls are wrappers here that load the library by the soname it was built against
 * (BT_EXPAT_SONAME) on their first call, once per process and thread-safely, and then
 * forward (datalibs.c). Include this header instead of <expat.h>: the calling code keeps
 * expat's names (mapped onto the wrappers below) and its return conventions; if the
 * library cannot be loaded each returns its failure value (NULL, XML_STATUS_ERROR, 0).
 * bt_expat_load() says why, for the entry points that report errors. */
#ifndef BT_EXPAT_DL_H
#define BT_EXPAT_DL_H

#include <expat.h>

#include "buildtrail/error.h"

/* Loads libexpat once per process (later calls return the first outcome). 0, or BT_EIO
 * with a message naming the library and why it could not be loaded. */
int bt_expat_load(bt_error *err);

XML_Parser bt_XML_ParserCreateNS(const XML_Char *encoding, XML_Char namespaceSeparator);
void bt_XML_ParserFree(XML_Parser parser);
void bt_XML_SetUserData(XML_Parser parser, void *userData);
void bt_XML_SetElementHandler(XML_Parser parser, XML_StartElementHandler start,
                              XML_EndElementHandler end);
void bt_XML_SetCharacterDataHandler(XML_Parser parser, XML_CharacterDataHandler handler);
void bt_XML_SetEntityDeclHandler(XML_Parser parser, XML_EntityDeclHandler handler);
enum XML_Status bt_XML_Parse(XML_Parser parser, const char *s, int len, int isFinal);
enum XML_Status bt_XML_StopParser(XML_Parser parser, XML_Bool resumable);
enum XML_Error bt_XML_GetErrorCode(XML_Parser parser);
const XML_LChar *bt_XML_ErrorString(enum XML_Error code);
XML_Size bt_XML_GetCurrentLineNumber(XML_Parser parser);

#ifndef BT_DL_IMPL /* the calling code's names, onto the wrappers */
#define XML_ParserCreateNS bt_XML_ParserCreateNS
#define XML_ParserFree bt_XML_ParserFree
#define XML_SetUserData bt_XML_SetUserData
#define XML_SetElementHandler bt_XML_SetElementHandler
#define XML_SetCharacterDataHandler bt_XML_SetCharacterDataHandler
#define XML_SetEntityDeclHandler bt_XML_SetEntityDeclHandler
#define XML_Parse bt_XML_Parse
#define XML_StopParser bt_XML_StopParser
#define XML_GetErrorCode bt_XML_GetErrorCode
#define XML_ErrorString bt_XML_ErrorString
#define XML_GetCurrentLineNumber bt_XML_GetCurrentLineNumber
#endif

#endif
