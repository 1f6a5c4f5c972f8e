/* blob_xml: parsing of List Blobs and error answers (through core/xml.h, with caps). */
#include "blob/blob.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/crypto.h"
#include "core/objstore.h"
#include "core/url.h"
#include "core/xml.h"

/* Caps on what one page may hold: Azure sends at most 5,000 entries and 8 KiB of
 * metadata per blob; anything far beyond is a hostile or broken server. */
#define BLOB_LIST_MAX_ITEMS 100000
#define BLOB_LIST_MAX_META 1024
#define BLOB_NAME_MAX 4096

/* Copies the first line of s (no trailing spaces) into out. */
static void blob_first_line(const char *s, char *out, size_t outlen)
{
    size_t n;

    if (!outlen)
        return;
    n = strcspn(s, "\r\n");
    while (n && s[n - 1] == ' ')
        n--;
    if (n >= outlen)
        n = outlen - 1;
    memcpy(out, s, n);
    out[n] = '\0';
}

int blob_error_parse(const char *body, size_t len, char *code, size_t codelen, char *msg,
                     size_t msglen)
{
    struct xml_doc *doc = NULL;
    struct xml_node *root;
    char err[128];
    char *c = NULL, *m = NULL;
    int rc = 0;

    if (codelen)
        code[0] = '\0';
    if (msglen)
        msg[0] = '\0';
    if (!body || len == 0)
        return -EPROTO;
    if (xml_parse(body, len, &doc, err, sizeof(err)) != 0)
        return -EPROTO;
    root = xml_root(doc);
    if (!root || strcmp(xml_name(root), "Error") != 0) {
        rc = -EPROTO;
        goto out;
    }
    c = xml_child_text(root, "Code");
    m = xml_child_text(root, "Message");
    if (!c || !*c) {
        rc = -EPROTO;
        goto out;
    }
    blob_first_line(c, code, codelen);
    if (m)
        blob_first_line(m, msg, msglen);
out:
    free(c);
    free(m);
    xml_doc_free(doc);
    return rc;
}

/* Sets the protocol error for a listing and returns -EPROTO. */
static int blob_list_bad(const char *what, const char *why)
{
    return os_error_set(-EPROTO, OSE_PROTOCOL, 200, NULL, NULL,
                        "unparseable List Blobs answer for %s: %s", what, why);
}

/* Text of child `name`, NULL when absent or empty. Sets *nomem on allocation failure. */
static char *blob_child_nonempty(const struct xml_node *n, const char *name, bool *nomem)
{
    struct xml_node *c = xml_child(n, name);
    char *t;

    if (!c)
        return NULL;
    t = xml_text(c);
    if (!t) {
        *nomem = true;
        return NULL;
    }
    if (!*t) {
        free(t);
        return NULL;
    }
    return t;
}

/* Strict non-negative decimal int64. */
static int blob_parse_size(const char *s, int64_t *out)
{
    int64_t v = 0;

    if (!s || !*s)
        return -EINVAL;
    for (; *s; s++) {
        if (!isdigit((unsigned char)*s) || v > (INT64_MAX - 9) / 10)
            return -EINVAL;
        v = v * 10 + (*s - '0');
    }
    *out = v;
    return 0;
}

/* Name of a Blob or BlobPrefix. Names with characters XML cannot carry come
 * percent-encoded with Encoded="true" (API 2021-12-02+): decoded here. */
static int blob_item_name(const struct xml_node *item, const char *what, char **out)
{
    struct xml_node *nn = xml_child(item, "Name");
    char *name, *enc;

    *out = NULL;
    if (!nn)
        return blob_list_bad(what, "an entry without <Name>");
    name = xml_text(nn);
    if (!name)
        return os_error_set(-ENOMEM, OSE_LOCAL, 0, NULL, NULL, "out of memory");
    enc = xml_attr(nn, "Encoded");
    if (enc && strcmp(enc, "true") == 0) {
        char *dec = NULL;

        free(enc);
        if (url_decode(name, false, &dec) < 0) {
            free(name);
            return blob_list_bad(what, "an Encoded <Name> that is not valid percent-encoding");
        }
        free(name);
        name = dec;
    } else {
        free(enc);
    }
    if (!*name || strlen(name) > BLOB_NAME_MAX) {
        free(name);
        return blob_list_bad(what, "an entry with an empty or oversized <Name>");
    }
    *out = name;
    return 0;
}

/* Properties of one <Blob> into i (key already set). */
static int blob_item_props(const struct xml_node *props, const char *what, struct os_info *i)
{
    bool nomem = false;
    char *len = NULL, *lm = NULL, *etag = NULL, *md5 = NULL;
    unsigned char raw[32];
    int rc = 0;

    if (!props)
        return blob_list_bad(what, "a <Blob> without <Properties>");
    len = blob_child_nonempty(props, "Content-Length", &nomem);
    lm = blob_child_nonempty(props, "Last-Modified", &nomem);
    etag = blob_child_nonempty(props, "Etag", &nomem);
    md5 = blob_child_nonempty(props, "Content-MD5", &nomem);
    i->content_type = blob_child_nonempty(props, "Content-Type", &nomem);
    i->storage_class = blob_child_nonempty(props, "AccessTier", &nomem);
    if (nomem) {
        rc = os_error_set(-ENOMEM, OSE_LOCAL, 0, NULL, NULL, "out of memory");
        goto out;
    }
    if (!len || blob_parse_size(len, &i->size) != 0) {
        rc = blob_list_bad(what, "a <Blob> without a valid <Content-Length>");
        goto out;
    }
    if (lm && os_time_parse(lm, &i->last_modified) != 0) {
        rc = blob_list_bad(what, "a <Blob> with an unparseable <Last-Modified>");
        goto out;
    }
    if (etag) {
        size_t n = strlen(etag);

        if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"') {
            memmove(etag, etag + 1, n - 2);
            etag[n - 2] = '\0';
        }
        i->etag = etag;
        etag = NULL;
    }
    /* A Content-MD5 that is not 16 bytes of base64 is not an MD5: ignore it. */
    if (md5 && crypto_base64_decode(md5, raw, sizeof(raw)) == CRYPTO_MD5_LEN) {
        memcpy(i->md5, raw, CRYPTO_MD5_LEN);
        i->has_md5 = true;
    }
    i->archived = i->storage_class && strcasecmp(i->storage_class, "Archive") == 0;
out:
    free(len);
    free(lm);
    free(etag);
    free(md5);
    return rc;
}

/* <Metadata><k>v</k>...</Metadata> into i (keys lowercased by os_info_set_meta). */
static int blob_item_meta(const struct xml_node *md, const char *what, struct os_info *i)
{
    struct xml_node *c;
    size_t count = 0;
    int rc = 0;

    for (c = xml_child(md, NULL); c && rc == 0; c = xml_next(c, NULL)) {
        const char *k = xml_name(c);
        char *v;

        if (++count > BLOB_LIST_MAX_META)
            return blob_list_bad(what, "too many metadata entries on one blob");
        /* Azure reports names it cannot carry as <x-ms-invalid-name>: skip them. */
        if (!k || strcasecmp(k, "x-ms-invalid-name") == 0)
            continue;
        v = xml_text(c);
        if (!v)
            return os_error_set(-ENOMEM, OSE_LOCAL, 0, NULL, NULL, "out of memory");
        rc = os_info_set_meta(i, k, v);
        free(v);
        if (rc != 0)
            rc = os_error_set(rc, OSE_LOCAL, 0, NULL, NULL, "out of memory");
    }
    return rc;
}

/* rename_N + rename_key_N pairs (names Azure cannot carry, see blob_meta_header) back
 * to the original name. Left as they are when memory runs out. */
static void blob_meta_unrename(struct os_info *i)
{
    for (size_t j = 0; j < i->n_meta;) {
        const char *k = i->meta[j].key;
        char vname[300];
        size_t r;
        char *orig;

        if (strncmp(k, "rename_key_", 11) != 0 || !k[11]) {
            j++;
            continue;
        }
        snprintf(vname, sizeof(vname), "rename_%s", k + 11);
        for (r = 0; r < i->n_meta && strcmp(i->meta[r].key, vname) != 0; r++)
            ;
        orig = r < i->n_meta ? strdup(i->meta[j].value) : NULL;
        if (!orig || !*orig) {
            free(orig);
            j++;
            continue;
        }
        for (char *p = orig; *p; p++)
            *p = (char)tolower((unsigned char)*p);
        free(i->meta[r].key);
        i->meta[r].key = orig;
        free(i->meta[j].key);
        free(i->meta[j].value);
        i->meta[j] = i->meta[--i->n_meta]; /* j now holds another pair: look at it again */
    }
}

/* mtime (metadata `mtime`, else Last-Modified), the hdi_isfolder marker, and renamed
 * metadata names restored. */
void blob_info_finish(struct os_info *i)
{
    blob_meta_unrename(i);
    const char *mt = os_info_meta(i, "mtime");
    const char *folder = os_info_meta(i, "hdi_isfolder");

    if (!mt || os_mtime_parse(mt, &i->mtime) != 0)
        i->mtime = i->last_modified;
    i->is_dir_marker = folder && strcasecmp(folder, "true") == 0;
}

static int blob_parse_blob(const struct xml_node *b, const char *what, struct os_info *i)
{
    struct xml_node *md;
    int rc;

    rc = blob_item_name(b, what, &i->key);
    if (rc == 0)
        rc = blob_item_props(xml_child(b, "Properties"), what, i);
    md = xml_child(b, "Metadata");
    if (rc == 0 && md)
        rc = blob_item_meta(md, what, i);
    if (rc == 0)
        blob_info_finish(i);
    return rc;
}

static int blob_info_cmp(const void *a, const void *b)
{
    const struct os_info *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    if (c != 0)
        return c;
    /* A blob "d/" and a prefix "d/" cannot both come; keep blobs first if they do. */
    return (int)x->is_prefix - (int)y->is_prefix;
}

int blob_list_parse(const char *body, size_t len, const char *what, struct os_list_page *out)
{
    struct xml_doc *doc = NULL;
    struct xml_node *root, *blobs, *it;
    char err[160];
    size_t count = 0;
    bool nomem = false;
    int rc = 0;

    memset(out, 0, sizeof(*out));
    rc = xml_parse(body, len, &doc, err, sizeof(err));
    if (rc != 0) {
        rc = blob_list_bad(what, err[0] ? err : "malformed XML");
        goto out;
    }
    root = xml_root(doc);
    if (!root || strcmp(xml_name(root), "EnumerationResults") != 0) {
        rc = blob_list_bad(what, "the root element is not <EnumerationResults>");
        goto out;
    }
    blobs = xml_child(root, "Blobs");
    for (it = xml_child(blobs, NULL); it; it = xml_next(it, NULL)) {
        const char *nm = xml_name(it);

        if (strcmp(nm, "Blob") == 0 || strcmp(nm, "BlobPrefix") == 0)
            count++;
    }
    if (count > BLOB_LIST_MAX_ITEMS) {
        rc = blob_list_bad(what, "too many entries in one page");
        goto out;
    }
    if (count) {
        out->items = calloc(count, sizeof(*out->items));
        if (!out->items) {
            rc = os_error_set(-ENOMEM, OSE_LOCAL, 0, NULL, NULL, "out of memory");
            goto out;
        }
    }
    for (it = xml_child(blobs, NULL); it && rc == 0; it = xml_next(it, NULL)) {
        const char *nm = xml_name(it);
        struct os_info *i = &out->items[out->n];

        if (strcmp(nm, "Blob") == 0) {
            out->n++;
            rc = blob_parse_blob(it, what, i);
        } else if (strcmp(nm, "BlobPrefix") == 0) {
            out->n++;
            i->is_prefix = true;
            rc = blob_item_name(it, what, &i->key);
        }
    }
    if (rc != 0)
        goto out;
    out->next_token = blob_child_nonempty(root, "NextMarker", &nomem);
    if (nomem) {
        rc = os_error_set(-ENOMEM, OSE_LOCAL, 0, NULL, NULL, "out of memory");
        goto out;
    }
    if (out->n > 1)
        qsort(out->items, out->n, sizeof(*out->items), blob_info_cmp);
out:
    if (rc != 0)
        os_list_page_free(out);
    xml_doc_free(doc);
    return rc;
}
