/* xml: safe libxml2 parsing (no network, no entities, no DTD) and escaping. */
#include "core/xml.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/entities.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include "core/buf.h"

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init_once(void)
{
    xmlInitParser();
}

/* Swallows libxml2's generic messages so nothing reaches stderr. */
static void xml_silent(void *ctx, const char *msg, ...)
{
    (void)ctx;
    (void)msg;
}

/* Structured handler: the parser keeps the error in ctxt->lastError; print nothing. */
static void xml_structured(void *ud, xmlErrorPtr e)
{
    (void)ud;
    (void)e;
}

static void xml_seterr(char *err, size_t errlen, const char *msg)
{
    if (err && errlen)
        snprintf(err, errlen, "%s", msg);
}

/* Copies libxml2's message of the last error into err, trimmed. */
static void xml_seterr_ctxt(char *err, size_t errlen, xmlParserCtxtPtr ctxt)
{
    size_t n;

    if (!err || !errlen)
        return;
    if (ctxt->lastError.code == 0 || !ctxt->lastError.message) {
        snprintf(err, errlen, "malformed XML");
        return;
    }
    snprintf(err, errlen, "malformed XML at line %d: %s", ctxt->lastError.line,
             ctxt->lastError.message);
    n = strlen(err);
    while (n && (err[n - 1] == '\n' || err[n - 1] == ' '))
        err[--n] = '\0';
}

/* True when the text declares a DTD (where entities live): refused before parsing. */
static bool xml_mentions_doctype(const char *data, size_t len)
{
    static const char tag[] = "<!DOCTYPE";
    size_t tl = sizeof(tag) - 1, i;

    for (i = 0; i + tl <= len; i++)
        if (data[i] == '<' && memcmp(data + i, tag, tl) == 0)
            return true;
    return false;
}

int xml_parse(const char *data, size_t len, struct xml_doc **out, char *err, size_t errlen)
{
    const int opts = XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOCDATA;
    xmlParserCtxtPtr ctxt = NULL;
    xmlDocPtr doc = NULL;
    int rc = 0;

    *out = NULL;
    if (err && errlen)
        err[0] = '\0';
    if (len > XML_MAX_DOC) {
        xml_seterr(err, errlen, "XML document too large");
        return -E2BIG;
    }
    if (!data || len == 0) {
        xml_seterr(err, errlen, "empty XML document");
        return -EBADMSG;
    }
    if (xml_mentions_doctype(data, len)) {
        xml_seterr(err, errlen, "XML document with a DTD refused");
        return -EBADMSG;
    }
    pthread_once(&xml_once, xml_init_once);
    /* libxml2 keeps these per thread: nothing is ever printed on this thread. */
    xmlSetGenericErrorFunc(NULL, xml_silent);
    xmlSetStructuredErrorFunc(NULL, xml_structured);
    ctxt = xmlNewParserCtxt();
    if (!ctxt) {
        xml_seterr(err, errlen, "out of memory");
        return -ENOMEM;
    }
    ctxt->sax->serror = xml_structured;
    ctxt->sax->error = xml_silent;
    ctxt->sax->warning = xml_silent;
    ctxt->vctxt.error = xml_silent;
    ctxt->vctxt.warning = xml_silent;
    doc = xmlCtxtReadMemory(ctxt, data, (int)len, NULL, NULL, opts);
    if (!doc || !ctxt->wellFormed) {
        xml_seterr_ctxt(err, errlen, ctxt);
        rc = ctxt->lastError.code == XML_ERR_NO_MEMORY ? -ENOMEM : -EBADMSG;
        goto out;
    }
    if (doc->intSubset || doc->extSubset) {
        xml_seterr(err, errlen, "XML document with a DTD refused");
        rc = -EBADMSG;
        goto out;
    }
    if (!xmlDocGetRootElement(doc)) {
        xml_seterr(err, errlen, "XML document without a root element");
        rc = -EBADMSG;
        goto out;
    }
    *out = (struct xml_doc *)doc;
    doc = NULL;
out:
    xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    return rc;
}

void xml_doc_free(struct xml_doc *d)
{
    if (d)
        xmlFreeDoc((xmlDocPtr)d);
}

struct xml_node *xml_root(struct xml_doc *d)
{
    if (!d)
        return NULL;
    return (struct xml_node *)xmlDocGetRootElement((xmlDocPtr)d);
}

const char *xml_name(const struct xml_node *n)
{
    if (!n)
        return NULL;
    return (const char *)((const xmlNode *)n)->name;
}

static bool xml_matches(const xmlNode *x, const char *name)
{
    if (x->type != XML_ELEMENT_NODE)
        return false;
    return !name || strcmp((const char *)x->name, name) == 0;
}

struct xml_node *xml_child(const struct xml_node *n, const char *name)
{
    const xmlNode *x;

    if (!n)
        return NULL;
    for (x = ((const xmlNode *)n)->children; x; x = x->next)
        if (xml_matches(x, name))
            return (struct xml_node *)x;
    return NULL;
}

struct xml_node *xml_next(const struct xml_node *n, const char *name)
{
    const xmlNode *x;

    if (!n)
        return NULL;
    for (x = ((const xmlNode *)n)->next; x; x = x->next)
        if (xml_matches(x, name))
            return (struct xml_node *)x;
    return NULL;
}

char *xml_text(const struct xml_node *n)
{
    xmlChar *t;
    char *s;

    if (!n)
        return NULL;
    t = xmlNodeGetContent((const xmlNode *)n);
    if (!t)
        return strdup("");
    /* Hand back malloc memory so callers free with free(). */
    s = strdup((const char *)t);
    xmlFree(t);
    return s;
}

char *xml_child_text(const struct xml_node *n, const char *name)
{
    struct xml_node *c = xml_child(n, name);

    if (!c)
        return NULL;
    return xml_text(c);
}

char *xml_attr(const struct xml_node *n, const char *name)
{
    xmlChar *t;
    char *s;

    if (!n || !name)
        return NULL;
    t = xmlGetProp((const xmlNode *)n, (const xmlChar *)name);
    if (!t)
        return NULL;
    s = strdup((const char *)t);
    xmlFree(t);
    return s;
}

int xml_escape_append(struct buf *b, const char *s)
{
    xmlChar *e;
    const char *p;
    int rc = 0;

    pthread_once(&xml_once, xml_init_once);
    /* xmlEncodeSpecialChars escapes & < > " and \r; ' and other control characters here. */
    e = xmlEncodeSpecialChars(NULL, (const xmlChar *)s);
    if (!e)
        return -ENOMEM;
    for (p = (const char *)e; *p && rc == 0; p++) {
        unsigned char c = (unsigned char)*p;

        if (c == '\'')
            rc = buf_appends(b, "&apos;");
        else if (c < 0x20 || c == 0x7f)
            rc = buf_appendf(b, "&#%d;", c);
        else
            rc = buf_append(b, p, 1);
    }
    xmlFree(e);
    return rc;
}
