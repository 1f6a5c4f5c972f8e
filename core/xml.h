/* xml: safe parsing of service responses and escaping for request bodies, on libxml2. */
#ifndef BFS_CORE_XML_H
#define BFS_CORE_XML_H

#include <stddef.h>

struct buf;

/* Opaque; a node is borrowed from its document and lives as long as it. */
struct xml_doc;
struct xml_node;

/* Largest document xml_parse accepts (bytes). */
#define XML_MAX_DOC (64u * 1024 * 1024)

/*
 * Parses a response body. No network access, no entity expansion, no DTD
 * loading, libxml2's default depth/size limits (no XML_PARSE_HUGE). Returns 0,
 * -EBADMSG for malformed or truncated XML (message in err), -E2BIG over
 * XML_MAX_DOC, -ENOMEM. *out is owned by the caller: xml_doc_free().
 */
int xml_parse(const char *data, size_t len, struct xml_doc **out, char *err, size_t errlen);
void xml_doc_free(struct xml_doc *d);

struct xml_node *xml_root(struct xml_doc *d);
/* Local name (namespace prefix ignored); borrowed. */
const char *xml_name(const struct xml_node *n);
/* First element child named `name` (any element when name is NULL), or NULL. */
struct xml_node *xml_child(const struct xml_node *n, const char *name);
/* Next element sibling named `name` (any element when NULL), or NULL. */
struct xml_node *xml_next(const struct xml_node *n, const char *name);
/* Text content of the node; malloc'd, caller frees; NULL on allocation failure. */
char *xml_text(const struct xml_node *n);
/* Text of the first child named `name`; malloc'd, caller frees; NULL when absent. */
char *xml_child_text(const struct xml_node *n, const char *name);

/* Value of attribute `name` of the element; malloc'd, caller frees; NULL when absent. */
char *xml_attr(const struct xml_node *n, const char *name);

/* Appends s with &, <, >, ", ' and control characters escaped (libxml2's encoder). 0 or -errno. */
int xml_escape_append(struct buf *b, const char *s);

#endif
