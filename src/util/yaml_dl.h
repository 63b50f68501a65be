/* yaml_dl.h - libyaml, loaded when first used instead of at program start.
 *
 * Only Sigma rules (rules/rules_load.c: parser and documents) and the yaml output format
 * (core/format_yaml.c: emitter) need it. The functions buildtrail calls are wrappers here
 * that load the library by the soname it was built against (BT_YAML_SONAME) on their first
 * call, once per process and thread-safely, and then forward (datalibs.c). Include this
 * header instead of <yaml.h>: the calling code keeps libyaml's names (mapped onto the
 * wrappers below) and its return conventions; if the library cannot be loaded each returns
 * its failure value (0, NULL; the void setters do nothing). bt_yaml_load() says why, for
 * the entry points that report errors. */
#ifndef BT_YAML_DL_H
#define BT_YAML_DL_H

#include <yaml.h>

#include "buildtrail/error.h"

/* Loads libyaml once per process (later calls return the first outcome). 0, or BT_EIO
 * with a message naming the library and why it could not be loaded. */
int bt_yaml_load(bt_error *err);

/* emitter (format_yaml.c) */
int bt_yaml_emitter_initialize(yaml_emitter_t *emitter);
void bt_yaml_emitter_delete(yaml_emitter_t *emitter);
void bt_yaml_emitter_set_output(yaml_emitter_t *emitter, yaml_write_handler_t *handler, void *data);
void bt_yaml_emitter_set_indent(yaml_emitter_t *emitter, int indent);
void bt_yaml_emitter_set_width(yaml_emitter_t *emitter, int width);
void bt_yaml_emitter_set_unicode(yaml_emitter_t *emitter, int unicode);
void bt_yaml_emitter_set_break(yaml_emitter_t *emitter, yaml_break_t line_break);
int bt_yaml_emitter_emit(yaml_emitter_t *emitter, yaml_event_t *event);
int bt_yaml_emitter_flush(yaml_emitter_t *emitter);
int bt_yaml_stream_start_event_initialize(yaml_event_t *event, yaml_encoding_t encoding);
int bt_yaml_stream_end_event_initialize(yaml_event_t *event);
int bt_yaml_document_start_event_initialize(yaml_event_t *event,
                                            yaml_version_directive_t *version_directive,
                                            yaml_tag_directive_t *tag_directives_start,
                                            yaml_tag_directive_t *tag_directives_end, int implicit);
int bt_yaml_document_end_event_initialize(yaml_event_t *event, int implicit);
int bt_yaml_scalar_event_initialize(yaml_event_t *event, const yaml_char_t *anchor,
                                    const yaml_char_t *tag, const yaml_char_t *value, int length,
                                    int plain_implicit, int quoted_implicit,
                                    yaml_scalar_style_t style);
int bt_yaml_sequence_start_event_initialize(yaml_event_t *event, const yaml_char_t *anchor,
                                            const yaml_char_t *tag, int implicit,
                                            yaml_sequence_style_t style);
int bt_yaml_sequence_end_event_initialize(yaml_event_t *event);
int bt_yaml_mapping_start_event_initialize(yaml_event_t *event, const yaml_char_t *anchor,
                                           const yaml_char_t *tag, int implicit,
                                           yaml_mapping_style_t style);
int bt_yaml_mapping_end_event_initialize(yaml_event_t *event);
/* parser and documents (rules_load.c) */
int bt_yaml_parser_initialize(yaml_parser_t *parser);
void bt_yaml_parser_delete(yaml_parser_t *parser);
void bt_yaml_parser_set_input_string(yaml_parser_t *parser, const unsigned char *input,
                                     size_t size);
int bt_yaml_parser_load(yaml_parser_t *parser, yaml_document_t *document);
void bt_yaml_document_delete(yaml_document_t *document);
yaml_node_t *bt_yaml_document_get_node(yaml_document_t *document, int index);
yaml_node_t *bt_yaml_document_get_root_node(yaml_document_t *document);

#ifndef BT_DL_IMPL /* the calling code's names, onto the wrappers */
#define yaml_emitter_initialize bt_yaml_emitter_initialize
#define yaml_emitter_delete bt_yaml_emitter_delete
#define yaml_emitter_set_output bt_yaml_emitter_set_output
#define yaml_emitter_set_indent bt_yaml_emitter_set_indent
#define yaml_emitter_set_width bt_yaml_emitter_set_width
#define yaml_emitter_set_unicode bt_yaml_emitter_set_unicode
#define yaml_emitter_set_break bt_yaml_emitter_set_break
#define yaml_emitter_emit bt_yaml_emitter_emit
#define yaml_emitter_flush bt_yaml_emitter_flush
#define yaml_stream_start_event_initialize bt_yaml_stream_start_event_initialize
#define yaml_stream_end_event_initialize bt_yaml_stream_end_event_initialize
#define yaml_document_start_event_initialize bt_yaml_document_start_event_initialize
#define yaml_document_end_event_initialize bt_yaml_document_end_event_initialize
#define yaml_scalar_event_initialize bt_yaml_scalar_event_initialize
#define yaml_sequence_start_event_initialize bt_yaml_sequence_start_event_initialize
#define yaml_sequence_end_event_initialize bt_yaml_sequence_end_event_initialize
#define yaml_mapping_start_event_initialize bt_yaml_mapping_start_event_initialize
#define yaml_mapping_end_event_initialize bt_yaml_mapping_end_event_initialize
#define yaml_parser_initialize bt_yaml_parser_initialize
#define yaml_parser_delete bt_yaml_parser_delete
#define yaml_parser_set_input_string bt_yaml_parser_set_input_string
#define yaml_parser_load bt_yaml_parser_load
#define yaml_document_delete bt_yaml_document_delete
#define yaml_document_get_node bt_yaml_document_get_node
#define yaml_document_get_root_node bt_yaml_document_get_root_node
#endif

#endif
