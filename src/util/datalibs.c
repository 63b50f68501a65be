/* datalibs.c - loads libexpat, libyaml, libpcre2-8, zlib and libdeflate on first use
 * (expat_dl.h, yaml_dl.h, pcre2_dl.h, zlib_dl.h, deflate_dl.h): dlopen by the soname the
 * build found (BT_EXPAT_SONAME, BT_YAML_SONAME, BT_PCRE2_SONAME, BT_ZLIB_SONAME,
 * BT_DEFLATE_SONAME), each symbol looked up once into a table (the mechanism: dl.h), and
 * the wrappers the calling code goes through forward to it. The tables' and the wrappers'
 * types are checked against the libraries' own declarations at compile time. */
#define BT_DL_IMPL
#include "util/deflate_dl.h"
#include "util/dl.h"
#include "util/expat_dl.h"
#include "util/pcre2_dl.h"
#include "util/yaml_dl.h"
#include "util/zlib_dl.h"

#ifndef BT_EXPAT_SONAME
#error "BT_EXPAT_SONAME (libexpat's soname) is set by CMakeLists.txt"
#endif
#ifndef BT_YAML_SONAME
#error "BT_YAML_SONAME (libyaml's soname) is set by CMakeLists.txt"
#endif
#ifndef BT_PCRE2_SONAME
#error "BT_PCRE2_SONAME (libpcre2-8's soname) is set by CMakeLists.txt"
#endif
#ifndef BT_ZLIB_SONAME
#error "BT_ZLIB_SONAME (zlib's soname) is set by CMakeLists.txt"
#endif
#ifndef BT_DEFLATE_SONAME
#error "BT_DEFLATE_SONAME (libdeflate's soname) is set by CMakeLists.txt"
#endif

#define NSYMS(syms) (sizeof syms / sizeof syms[0])

/* ---- libexpat: wrappers that load it on their first call (expat_dl.h) ---- */

static struct {
    XML_Parser (*parser_create_ns)(const XML_Char *, XML_Char);
    void (*parser_free)(XML_Parser);
    void (*set_user_data)(XML_Parser, void *);
    void (*set_element_handler)(XML_Parser, XML_StartElementHandler, XML_EndElementHandler);
    void (*set_character_data_handler)(XML_Parser, XML_CharacterDataHandler);
    void (*set_entity_decl_handler)(XML_Parser, XML_EntityDeclHandler);
    enum XML_Status (*parse)(XML_Parser, const char *, int, int);
    enum XML_Status (*stop_parser)(XML_Parser, XML_Bool);
    enum XML_Error (*get_error_code)(XML_Parser);
    const XML_LChar *(*error_string)(enum XML_Error);
    XML_Size (*get_current_line_number)(XML_Parser);
} xp;

SAME_TYPES(xp.parser_create_ns, XML_ParserCreateNS);
SAME_TYPES(xp.parser_free, XML_ParserFree);
SAME_TYPES(xp.set_user_data, XML_SetUserData);
SAME_TYPES(xp.set_element_handler, XML_SetElementHandler);
SAME_TYPES(xp.set_character_data_handler, XML_SetCharacterDataHandler);
SAME_TYPES(xp.set_entity_decl_handler, XML_SetEntityDeclHandler);
SAME_TYPES(xp.parse, XML_Parse);
SAME_TYPES(xp.stop_parser, XML_StopParser);
SAME_TYPES(xp.get_error_code, XML_GetErrorCode);
SAME_TYPES(xp.error_string, XML_ErrorString);
SAME_TYPES(xp.get_current_line_number, XML_GetCurrentLineNumber);

static bt_dl_state expat_st = BT_DL_STATE_INIT;

static void expat_once(void)
{
    static const bt_dl_sym syms[] = {
        SYM(xp, parser_create_ns, "XML_ParserCreateNS"),
        SYM(xp, parser_free, "XML_ParserFree"),
        SYM(xp, set_user_data, "XML_SetUserData"),
        SYM(xp, set_element_handler, "XML_SetElementHandler"),
        SYM(xp, set_character_data_handler, "XML_SetCharacterDataHandler"),
        SYM(xp, set_entity_decl_handler, "XML_SetEntityDeclHandler"),
        SYM(xp, parse, "XML_Parse"),
        SYM(xp, stop_parser, "XML_StopParser"),
        SYM(xp, get_error_code, "XML_GetErrorCode"),
        SYM(xp, error_string, "XML_ErrorString"),
        SYM(xp, get_current_line_number, "XML_GetCurrentLineNumber"),
    };
    bt_dl_fill(&expat_st, BT_EXPAT_SONAME, syms, NSYMS(syms));
}

/* 1 once the table is filled (loading it on the first call), 0 if it cannot be */
static int expat_ready(void)
{
    return bt_dl_ready(&expat_st, expat_once);
}

int bt_expat_load(bt_error *err)
{
    return bt_dl_load(&expat_st, expat_once, "libexpat", BT_EXPAT_SONAME, err);
}

XML_Parser bt_XML_ParserCreateNS(const XML_Char *encoding, XML_Char namespaceSeparator)
{
    return expat_ready() ? xp.parser_create_ns(encoding, namespaceSeparator) : NULL;
}

void bt_XML_ParserFree(XML_Parser parser)
{
    if (parser && expat_ready()) /* (a parser exists only if the library does) */
        xp.parser_free(parser);
}

void bt_XML_SetUserData(XML_Parser parser, void *userData)
{
    if (expat_ready())
        xp.set_user_data(parser, userData);
}

void bt_XML_SetElementHandler(XML_Parser parser, XML_StartElementHandler start,
                              XML_EndElementHandler end)
{
    if (expat_ready())
        xp.set_element_handler(parser, start, end);
}

void bt_XML_SetCharacterDataHandler(XML_Parser parser, XML_CharacterDataHandler handler)
{
    if (expat_ready())
        xp.set_character_data_handler(parser, handler);
}

void bt_XML_SetEntityDeclHandler(XML_Parser parser, XML_EntityDeclHandler handler)
{
    if (expat_ready())
        xp.set_entity_decl_handler(parser, handler);
}

enum XML_Status bt_XML_Parse(XML_Parser parser, const char *s, int len, int isFinal)
{
    return expat_ready() ? xp.parse(parser, s, len, isFinal) : XML_STATUS_ERROR;
}

enum XML_Status bt_XML_StopParser(XML_Parser parser, XML_Bool resumable)
{
    return expat_ready() ? xp.stop_parser(parser, resumable) : XML_STATUS_ERROR;
}

enum XML_Error bt_XML_GetErrorCode(XML_Parser parser)
{
    return expat_ready() ? xp.get_error_code(parser) : XML_ERROR_NONE;
}

const XML_LChar *bt_XML_ErrorString(enum XML_Error code)
{
    return expat_ready() ? xp.error_string(code) : NULL;
}

XML_Size bt_XML_GetCurrentLineNumber(XML_Parser parser)
{
    return expat_ready() ? xp.get_current_line_number(parser) : 0;
}

/* ---- libyaml: wrappers that load it on their first call (yaml_dl.h) ---- */

static struct {
    int (*emitter_initialize)(yaml_emitter_t *);
    void (*emitter_delete)(yaml_emitter_t *);
    void (*emitter_set_output)(yaml_emitter_t *, yaml_write_handler_t *, void *);
    void (*emitter_set_indent)(yaml_emitter_t *, int);
    void (*emitter_set_width)(yaml_emitter_t *, int);
    void (*emitter_set_unicode)(yaml_emitter_t *, int);
    void (*emitter_set_break)(yaml_emitter_t *, yaml_break_t);
    int (*emitter_emit)(yaml_emitter_t *, yaml_event_t *);
    int (*emitter_flush)(yaml_emitter_t *);
    int (*stream_start)(yaml_event_t *, yaml_encoding_t);
    int (*stream_end)(yaml_event_t *);
    int (*document_start)(yaml_event_t *, yaml_version_directive_t *, yaml_tag_directive_t *,
                          yaml_tag_directive_t *, int);
    int (*document_end)(yaml_event_t *, int);
    int (*scalar)(yaml_event_t *, const yaml_char_t *, const yaml_char_t *, const yaml_char_t *,
                  int, int, int, yaml_scalar_style_t);
    int (*sequence_start)(yaml_event_t *, const yaml_char_t *, const yaml_char_t *, int,
                          yaml_sequence_style_t);
    int (*sequence_end)(yaml_event_t *);
    int (*mapping_start)(yaml_event_t *, const yaml_char_t *, const yaml_char_t *, int,
                         yaml_mapping_style_t);
    int (*mapping_end)(yaml_event_t *);
    int (*parser_initialize)(yaml_parser_t *);
    void (*parser_delete)(yaml_parser_t *);
    void (*parser_set_input_string)(yaml_parser_t *, const unsigned char *, size_t);
    int (*parser_load)(yaml_parser_t *, yaml_document_t *);
    void (*document_delete)(yaml_document_t *);
    yaml_node_t *(*document_get_node)(yaml_document_t *, int);
    yaml_node_t *(*document_get_root_node)(yaml_document_t *);
} ym;

SAME_TYPES(ym.emitter_initialize, yaml_emitter_initialize);
SAME_TYPES(ym.emitter_delete, yaml_emitter_delete);
SAME_TYPES(ym.emitter_set_output, yaml_emitter_set_output);
SAME_TYPES(ym.emitter_set_indent, yaml_emitter_set_indent);
SAME_TYPES(ym.emitter_set_width, yaml_emitter_set_width);
SAME_TYPES(ym.emitter_set_unicode, yaml_emitter_set_unicode);
SAME_TYPES(ym.emitter_set_break, yaml_emitter_set_break);
SAME_TYPES(ym.emitter_emit, yaml_emitter_emit);
SAME_TYPES(ym.emitter_flush, yaml_emitter_flush);
SAME_TYPES(ym.stream_start, yaml_stream_start_event_initialize);
SAME_TYPES(ym.stream_end, yaml_stream_end_event_initialize);
SAME_TYPES(ym.document_start, yaml_document_start_event_initialize);
SAME_TYPES(ym.document_end, yaml_document_end_event_initialize);
SAME_TYPES(ym.scalar, yaml_scalar_event_initialize);
SAME_TYPES(ym.sequence_start, yaml_sequence_start_event_initialize);
SAME_TYPES(ym.sequence_end, yaml_sequence_end_event_initialize);
SAME_TYPES(ym.mapping_start, yaml_mapping_start_event_initialize);
SAME_TYPES(ym.mapping_end, yaml_mapping_end_event_initialize);
SAME_TYPES(ym.parser_initialize, yaml_parser_initialize);
SAME_TYPES(ym.parser_delete, yaml_parser_delete);
SAME_TYPES(ym.parser_set_input_string, yaml_parser_set_input_string);
SAME_TYPES(ym.parser_load, yaml_parser_load);
SAME_TYPES(ym.document_delete, yaml_document_delete);
SAME_TYPES(ym.document_get_node, yaml_document_get_node);
SAME_TYPES(ym.document_get_root_node, yaml_document_get_root_node);

static bt_dl_state yaml_st = BT_DL_STATE_INIT;

static void yaml_once(void)
{
    static const bt_dl_sym syms[] = {
        SYM(ym, emitter_initialize, "yaml_emitter_initialize"),
        SYM(ym, emitter_delete, "yaml_emitter_delete"),
        SYM(ym, emitter_set_output, "yaml_emitter_set_output"),
        SYM(ym, emitter_set_indent, "yaml_emitter_set_indent"),
        SYM(ym, emitter_set_width, "yaml_emitter_set_width"),
        SYM(ym, emitter_set_unicode, "yaml_emitter_set_unicode"),
        SYM(ym, emitter_set_break, "yaml_emitter_set_break"),
        SYM(ym, emitter_emit, "yaml_emitter_emit"),
        SYM(ym, emitter_flush, "yaml_emitter_flush"),
        SYM(ym, stream_start, "yaml_stream_start_event_initialize"),
        SYM(ym, stream_end, "yaml_stream_end_event_initialize"),
        SYM(ym, document_start, "yaml_document_start_event_initialize"),
        SYM(ym, document_end, "yaml_document_end_event_initialize"),
        SYM(ym, scalar, "yaml_scalar_event_initialize"),
        SYM(ym, sequence_start, "yaml_sequence_start_event_initialize"),
        SYM(ym, sequence_end, "yaml_sequence_end_event_initialize"),
        SYM(ym, mapping_start, "yaml_mapping_start_event_initialize"),
        SYM(ym, mapping_end, "yaml_mapping_end_event_initialize"),
        SYM(ym, parser_initialize, "yaml_parser_initialize"),
        SYM(ym, parser_delete, "yaml_parser_delete"),
        SYM(ym, parser_set_input_string, "yaml_parser_set_input_string"),
        SYM(ym, parser_load, "yaml_parser_load"),
        SYM(ym, document_delete, "yaml_document_delete"),
        SYM(ym, document_get_node, "yaml_document_get_node"),
        SYM(ym, document_get_root_node, "yaml_document_get_root_node"),
    };
    bt_dl_fill(&yaml_st, BT_YAML_SONAME, syms, NSYMS(syms));
}

static int yaml_ready(void)
{
    return bt_dl_ready(&yaml_st, yaml_once);
}

int bt_yaml_load(bt_error *err)
{
    return bt_dl_load(&yaml_st, yaml_once, "libyaml", BT_YAML_SONAME, err);
}

int bt_yaml_emitter_initialize(yaml_emitter_t *emitter)
{
    return yaml_ready() ? ym.emitter_initialize(emitter) : 0;
}

void bt_yaml_emitter_delete(yaml_emitter_t *emitter)
{
    if (yaml_ready()) /* (only an initialised emitter is deleted: the library is there) */
        ym.emitter_delete(emitter);
}

void bt_yaml_emitter_set_output(yaml_emitter_t *emitter, yaml_write_handler_t *handler, void *data)
{
    if (yaml_ready())
        ym.emitter_set_output(emitter, handler, data);
}

void bt_yaml_emitter_set_indent(yaml_emitter_t *emitter, int indent)
{
    if (yaml_ready())
        ym.emitter_set_indent(emitter, indent);
}

void bt_yaml_emitter_set_width(yaml_emitter_t *emitter, int width)
{
    if (yaml_ready())
        ym.emitter_set_width(emitter, width);
}

void bt_yaml_emitter_set_unicode(yaml_emitter_t *emitter, int unicode)
{
    if (yaml_ready())
        ym.emitter_set_unicode(emitter, unicode);
}

void bt_yaml_emitter_set_break(yaml_emitter_t *emitter, yaml_break_t line_break)
{
    if (yaml_ready())
        ym.emitter_set_break(emitter, line_break);
}

int bt_yaml_emitter_emit(yaml_emitter_t *emitter, yaml_event_t *event)
{
    return yaml_ready() ? ym.emitter_emit(emitter, event) : 0;
}

int bt_yaml_emitter_flush(yaml_emitter_t *emitter)
{
    return yaml_ready() ? ym.emitter_flush(emitter) : 0;
}

int bt_yaml_stream_start_event_initialize(yaml_event_t *event, yaml_encoding_t encoding)
{
    return yaml_ready() ? ym.stream_start(event, encoding) : 0;
}

int bt_yaml_stream_end_event_initialize(yaml_event_t *event)
{
    return yaml_ready() ? ym.stream_end(event) : 0;
}

int bt_yaml_document_start_event_initialize(yaml_event_t *event,
                                            yaml_version_directive_t *version_directive,
                                            yaml_tag_directive_t *tag_directives_start,
                                            yaml_tag_directive_t *tag_directives_end, int implicit)
{
    return yaml_ready() ? ym.document_start(event, version_directive, tag_directives_start,
                                            tag_directives_end, implicit)
                        : 0;
}

int bt_yaml_document_end_event_initialize(yaml_event_t *event, int implicit)
{
    return yaml_ready() ? ym.document_end(event, implicit) : 0;
}

int bt_yaml_scalar_event_initialize(yaml_event_t *event, const yaml_char_t *anchor,
                                    const yaml_char_t *tag, const yaml_char_t *value, int length,
                                    int plain_implicit, int quoted_implicit,
                                    yaml_scalar_style_t style)
{
    return yaml_ready() ? ym.scalar(event, anchor, tag, value, length, plain_implicit,
                                    quoted_implicit, style)
                        : 0;
}

int bt_yaml_sequence_start_event_initialize(yaml_event_t *event, const yaml_char_t *anchor,
                                            const yaml_char_t *tag, int implicit,
                                            yaml_sequence_style_t style)
{
    return yaml_ready() ? ym.sequence_start(event, anchor, tag, implicit, style) : 0;
}

int bt_yaml_sequence_end_event_initialize(yaml_event_t *event)
{
    return yaml_ready() ? ym.sequence_end(event) : 0;
}

int bt_yaml_mapping_start_event_initialize(yaml_event_t *event, const yaml_char_t *anchor,
                                           const yaml_char_t *tag, int implicit,
                                           yaml_mapping_style_t style)
{
    return yaml_ready() ? ym.mapping_start(event, anchor, tag, implicit, style) : 0;
}

int bt_yaml_mapping_end_event_initialize(yaml_event_t *event)
{
    return yaml_ready() ? ym.mapping_end(event) : 0;
}

int bt_yaml_parser_initialize(yaml_parser_t *parser)
{
    return yaml_ready() ? ym.parser_initialize(parser) : 0;
}

void bt_yaml_parser_delete(yaml_parser_t *parser)
{
    if (yaml_ready()) /* (only an initialised parser is deleted: the library is there) */
        ym.parser_delete(parser);
}

void bt_yaml_parser_set_input_string(yaml_parser_t *parser, const unsigned char *input, size_t size)
{
    if (yaml_ready())
        ym.parser_set_input_string(parser, input, size);
}

int bt_yaml_parser_load(yaml_parser_t *parser, yaml_document_t *document)
{
    return yaml_ready() ? ym.parser_load(parser, document) : 0;
}

void bt_yaml_document_delete(yaml_document_t *document)
{
    if (yaml_ready())
        ym.document_delete(document);
}

yaml_node_t *bt_yaml_document_get_node(yaml_document_t *document, int index)
{
    return yaml_ready() ? ym.document_get_node(document, index) : NULL;
}

yaml_node_t *bt_yaml_document_get_root_node(yaml_document_t *document)
{
    return yaml_ready() ? ym.document_get_root_node(document) : NULL;
}

/* ---- libpcre2-8: wrappers that load it on their first call (pcre2_dl.h) ---- */

static struct {
    pcre2_code *(*compile)(PCRE2_SPTR, PCRE2_SIZE, uint32_t, int *, PCRE2_SIZE *,
                           pcre2_compile_context *);
    void (*code_free)(pcre2_code *);
    int (*jit_compile)(pcre2_code *, uint32_t);
    pcre2_match_data *(*match_data_create)(uint32_t, pcre2_general_context *);
    pcre2_match_data *(*match_data_create_from_pattern)(const pcre2_code *,
                                                        pcre2_general_context *);
    void (*match_data_free)(pcre2_match_data *);
    int (*match)(const pcre2_code *, PCRE2_SPTR, PCRE2_SIZE, PCRE2_SIZE, uint32_t,
                 pcre2_match_data *, pcre2_match_context *);
    int (*get_error_message)(int, PCRE2_UCHAR *, PCRE2_SIZE);
} re;

/* (pcre2.h's generic names are its macros onto the 8-bit functions: pcre2_compile_8, ...) */
SAME_TYPES(re.compile, pcre2_compile);
SAME_TYPES(re.code_free, pcre2_code_free);
SAME_TYPES(re.jit_compile, pcre2_jit_compile);
SAME_TYPES(re.match_data_create, pcre2_match_data_create);
SAME_TYPES(re.match_data_create_from_pattern, pcre2_match_data_create_from_pattern);
SAME_TYPES(re.match_data_free, pcre2_match_data_free);
SAME_TYPES(re.match, pcre2_match);
SAME_TYPES(re.get_error_message, pcre2_get_error_message);

static bt_dl_state pcre2_st = BT_DL_STATE_INIT;

static void pcre2_once(void)
{
    static const bt_dl_sym syms[] = {
        SYM(re, compile, "pcre2_compile_8"),
        SYM(re, code_free, "pcre2_code_free_8"),
        SYM(re, jit_compile, "pcre2_jit_compile_8"),
        SYM(re, match_data_create, "pcre2_match_data_create_8"),
        SYM(re, match_data_create_from_pattern, "pcre2_match_data_create_from_pattern_8"),
        SYM(re, match_data_free, "pcre2_match_data_free_8"),
        SYM(re, match, "pcre2_match_8"),
        SYM(re, get_error_message, "pcre2_get_error_message_8"),
    };
    bt_dl_fill(&pcre2_st, BT_PCRE2_SONAME, syms, NSYMS(syms));
}

static int pcre2_ready(void)
{
    return bt_dl_ready(&pcre2_st, pcre2_once);
}

int bt_pcre2_load(bt_error *err)
{
    return bt_dl_load(&pcre2_st, pcre2_once, "libpcre2-8", BT_PCRE2_SONAME, err);
}

pcre2_code *bt_pcre2_compile(PCRE2_SPTR pattern, PCRE2_SIZE length, uint32_t options,
                             int *errorcode, PCRE2_SIZE *erroroffset,
                             pcre2_compile_context *ccontext)
{
    return pcre2_ready() ? re.compile(pattern, length, options, errorcode, erroroffset, ccontext)
                         : NULL;
}

void bt_pcre2_code_free(pcre2_code *code)
{
    if (code && pcre2_ready()) /* (a pattern exists only if the library does) */
        re.code_free(code);
}

int bt_pcre2_jit_compile(pcre2_code *code, uint32_t options)
{
    return pcre2_ready() ? re.jit_compile(code, options) : PCRE2_ERROR_NULL;
}

pcre2_match_data *bt_pcre2_match_data_create(uint32_t ovecsize, pcre2_general_context *gcontext)
{
    return pcre2_ready() ? re.match_data_create(ovecsize, gcontext) : NULL;
}

pcre2_match_data *bt_pcre2_match_data_create_from_pattern(const pcre2_code *code,
                                                          pcre2_general_context *gcontext)
{
    return pcre2_ready() ? re.match_data_create_from_pattern(code, gcontext) : NULL;
}

void bt_pcre2_match_data_free(pcre2_match_data *match_data)
{
    if (match_data && pcre2_ready()) /* (NULL, as when no regex ran: nothing to load) */
        re.match_data_free(match_data);
}

int bt_pcre2_match(const pcre2_code *code, PCRE2_SPTR subject, PCRE2_SIZE length,
                   PCRE2_SIZE startoffset, uint32_t options, pcre2_match_data *match_data,
                   pcre2_match_context *mcontext)
{
    return pcre2_ready()
               ? re.match(code, subject, length, startoffset, options, match_data, mcontext)
               : PCRE2_ERROR_NULL;
}

int bt_pcre2_get_error_message(int errorcode, PCRE2_UCHAR *buffer, PCRE2_SIZE bufflen)
{
    if (pcre2_ready())
        return re.get_error_message(errorcode, buffer, bufflen);
    if (bufflen)
        buffer[0] = 0; /* the caller prints it: an empty message, not garbage */
    return PCRE2_ERROR_BADDATA;
}

/* ---- zlib: wrappers that load it on their first call (zlib_dl.h) ---- */

static struct {
    int (*inflate_init2)(z_streamp, int, const char *, int);
    int (*inflate)(z_streamp, int);
    int (*inflate_end)(z_streamp);
} zl;

SAME_TYPES(zl.inflate_init2, inflateInit2_);
SAME_TYPES(zl.inflate, inflate);
SAME_TYPES(zl.inflate_end, inflateEnd);

static bt_dl_state zlib_st = BT_DL_STATE_INIT;

static void zlib_once(void)
{
    static const bt_dl_sym syms[] = {
        SYM(zl, inflate_init2, "inflateInit2_"),
        SYM(zl, inflate, "inflate"),
        SYM(zl, inflate_end, "inflateEnd"),
    };
    bt_dl_fill(&zlib_st, BT_ZLIB_SONAME, syms, NSYMS(syms));
}

static int zlib_ready(void)
{
    return bt_dl_ready(&zlib_st, zlib_once);
}

int bt_zlib_load(bt_error *err)
{
    return bt_dl_load(&zlib_st, zlib_once, "zlib", BT_ZLIB_SONAME, err);
}

int bt_inflateInit2_(z_streamp strm, int windowBits, const char *version, int stream_size)
{
    return zlib_ready() ? zl.inflate_init2(strm, windowBits, version, stream_size)
                        : Z_VERSION_ERROR;
}

int bt_inflate(z_streamp strm, int flush)
{
    return zlib_ready() ? zl.inflate(strm, flush) : Z_STREAM_ERROR;
}

int bt_inflateEnd(z_streamp strm)
{
    return zlib_ready() ? zl.inflate_end(strm) : Z_STREAM_ERROR;
}

/* ---- libdeflate: wrappers that load it on their first call (deflate_dl.h) ---- */

static struct {
    struct libdeflate_decompressor *(*alloc_decompressor)(void);
    enum libdeflate_result (*gzip_decompress_ex)(struct libdeflate_decompressor *, const void *,
                                                 size_t, void *, size_t, size_t *, size_t *);
    void (*free_decompressor)(struct libdeflate_decompressor *);
    struct libdeflate_compressor *(*alloc_compressor)(int);
    size_t (*gzip_compress_bound)(struct libdeflate_compressor *, size_t);
    size_t (*gzip_compress)(struct libdeflate_compressor *, const void *, size_t, void *, size_t);
    void (*free_compressor)(struct libdeflate_compressor *);
} ld;

SAME_TYPES(ld.alloc_decompressor, libdeflate_alloc_decompressor);
SAME_TYPES(ld.gzip_decompress_ex, libdeflate_gzip_decompress_ex);
SAME_TYPES(ld.free_decompressor, libdeflate_free_decompressor);
SAME_TYPES(ld.alloc_compressor, libdeflate_alloc_compressor);
SAME_TYPES(ld.gzip_compress_bound, libdeflate_gzip_compress_bound);
SAME_TYPES(ld.gzip_compress, libdeflate_gzip_compress);
SAME_TYPES(ld.free_compressor, libdeflate_free_compressor);

static bt_dl_state deflate_st = BT_DL_STATE_INIT;

static void deflate_once(void)
{
    static const bt_dl_sym syms[] = {
        SYM(ld, alloc_decompressor, "libdeflate_alloc_decompressor"),
        SYM(ld, gzip_decompress_ex, "libdeflate_gzip_decompress_ex"),
        SYM(ld, free_decompressor, "libdeflate_free_decompressor"),
        SYM(ld, alloc_compressor, "libdeflate_alloc_compressor"),
        SYM(ld, gzip_compress_bound, "libdeflate_gzip_compress_bound"),
        SYM(ld, gzip_compress, "libdeflate_gzip_compress"),
        SYM(ld, free_compressor, "libdeflate_free_compressor"),
    };
    bt_dl_fill(&deflate_st, BT_DEFLATE_SONAME, syms, NSYMS(syms));
}

static int deflate_ready(void)
{
    return bt_dl_ready(&deflate_st, deflate_once);
}

int bt_deflate_load(bt_error *err)
{
    return bt_dl_load(&deflate_st, deflate_once, "libdeflate", BT_DEFLATE_SONAME, err);
}

struct libdeflate_decompressor *bt_libdeflate_alloc_decompressor(void)
{
    return deflate_ready() ? ld.alloc_decompressor() : NULL;
}

enum libdeflate_result
bt_libdeflate_gzip_decompress_ex(struct libdeflate_decompressor *decompressor, const void *in,
                                 size_t in_nbytes, void *out, size_t out_nbytes_avail,
                                 size_t *actual_in_nbytes_ret, size_t *actual_out_nbytes_ret)
{
    return deflate_ready()
               ? ld.gzip_decompress_ex(decompressor, in, in_nbytes, out, out_nbytes_avail,
                                       actual_in_nbytes_ret, actual_out_nbytes_ret)
               : LIBDEFLATE_BAD_DATA;
}

void bt_libdeflate_free_decompressor(struct libdeflate_decompressor *decompressor)
{
    if (decompressor && deflate_ready()) /* (one exists only if the library does) */
        ld.free_decompressor(decompressor);
}

struct libdeflate_compressor *bt_libdeflate_alloc_compressor(int compression_level)
{
    return deflate_ready() ? ld.alloc_compressor(compression_level) : NULL;
}

size_t bt_libdeflate_gzip_compress_bound(struct libdeflate_compressor *compressor, size_t in_nbytes)
{
    return deflate_ready() ? ld.gzip_compress_bound(compressor, in_nbytes) : 0;
}

size_t bt_libdeflate_gzip_compress(struct libdeflate_compressor *compressor, const void *in,
                                   size_t in_nbytes, void *out, size_t out_nbytes_avail)
{
    return deflate_ready() ? ld.gzip_compress(compressor, in, in_nbytes, out, out_nbytes_avail) : 0;
}

void bt_libdeflate_free_compressor(struct libdeflate_compressor *compressor)
{
    if (compressor && deflate_ready())
        ld.free_compressor(compressor);
}
