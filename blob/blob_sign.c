/* blob_sign: Azure Shared Key signing (string to sign, HMAC-SHA256, Authorization header). */
#include "blob/blob.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/http.h"
#include "core/url.h"

/* Largest string to sign we build (headers and query are small; metadata <= 8 KiB). */
#define BLOB_STS_MAX (256u * 1024)

/* One name:value line of the canonicalized headers or resource. Both owned. */
struct blob_kv {
    char *name;
    char *value;
};

static void blob_kv_free(struct blob_kv *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].value);
    }
    free(v);
}

static int blob_kv_cmp(const void *a, const void *b)
{
    const struct blob_kv *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c != 0)
        return c;
    return strcmp(x->value, y->value);
}

/* Collation weight of one (lowercased) header-name byte. The service sorts
 * x-ms- headers with a culture-aware compare, not by bytes: '_' comes before
 * '-', punctuation before digits, digits before letters (so x-ms-meta-i_ sorts
 * before x-ms-meta-i0; Azurite's localeCompare agrees). */
static int blob_coll_weight(unsigned char c)
{
    if (c == '_')
        return 1;
    if (c == '-')
        return 2;
    if (c >= '0' && c <= '9')
        return 300 + c;
    if (c >= 'a' && c <= 'z')
        return 400 + c;
    return 10 + c; /* other punctuation and bytes, in byte order */
}

static int blob_hdr_cmp(const void *a, const void *b)
{
    const unsigned char *x = (const unsigned char *)((const struct blob_kv *)a)->name;
    const unsigned char *y = (const unsigned char *)((const struct blob_kv *)b)->name;

    for (; *x && *y; x++, y++) {
        int d = blob_coll_weight(*x) - blob_coll_weight(*y);

        if (d != 0)
            return d;
    }
    if (*x || *y)
        return *x ? 1 : -1;
    return blob_kv_cmp(a, b);
}

static void blob_lower(char *s)
{
    for (; *s; s++)
        *s = (char)tolower((unsigned char)*s);
}

/* Copies s without leading and trailing whitespace (what an HTTP parser delivers). */
static char *blob_trimdup(const char *s)
{
    size_t n;

    while (*s == ' ' || *s == '\t')
        s++;
    n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    return strndup(s, n);
}

/* Appends "name:v1,v2\n" lines (or "\nname:v1,v2" when lead_nl) for sorted kv,
 * joining the values of equal names. */
static int blob_kv_append(struct buf *out, const struct blob_kv *v, size_t n, bool lead_nl)
{
    size_t i;
    int rc = 0;

    for (i = 0; i < n && rc == 0; i++) {
        bool same = i > 0 && strcmp(v[i - 1].name, v[i].name) == 0;

        if (same) {
            rc = buf_appendf(out, ",%s", v[i].value);
        } else {
            if (i > 0 && !lead_nl)
                rc = buf_appends(out, "\n");
            if (rc == 0)
                rc = buf_appendf(out, "%s%s:%s", lead_nl ? "\n" : "", v[i].name, v[i].value);
        }
    }
    if (rc == 0 && n > 0 && !lead_nl)
        rc = buf_appends(out, "\n");
    return rc;
}

/* The canonicalized x-ms- headers: lowercase names, sorted, one "name:value\n" each. */
static int blob_canon_headers(const struct http_hdrs *h, struct buf *out)
{
    struct blob_kv *v = NULL;
    size_t i, n = 0;
    int rc = 0;

    if (h && h->n) {
        v = calloc(h->n, sizeof(*v));
        if (!v)
            return -ENOMEM;
    }
    for (i = 0; h && i < h->n; i++) {
        if (strncasecmp(h->v[i].name, "x-ms-", 5) != 0)
            continue;
        v[n].name = strdup(h->v[i].name);
        v[n].value = blob_trimdup(h->v[i].value ? h->v[i].value : "");
        n++;
        if (!v[n - 1].name || !v[n - 1].value) {
            rc = -ENOMEM;
            goto out;
        }
        blob_lower(v[n - 1].name);
    }
    /* Equal names (never sent by us) are ordered by value, then comma-joined. */
    if (n > 1)
        qsort(v, n, sizeof(*v), blob_hdr_cmp);
    rc = blob_kv_append(out, v, n, false);
out:
    blob_kv_free(v, n);
    return rc;
}

/* Splits url into its path (borrowed range) and query (borrowed, without '?'). */
static void blob_url_parts(const char *url, const char **path, size_t *pathlen, const char **query)
{
    const char *p = strstr(url, "://");
    const char *q;

    p = p ? p + 3 : url;
    p += strcspn(p, "/?#");
    q = p + strcspn(p, "?#");
    *path = p;
    *pathlen = (size_t)(q - p);
    *query = *q == '?' ? q + 1 : NULL;
}

/* "/ACCOUNT/PATH" then "\nname:value" per query parameter, names lowercased and
 * sorted, values decoded, the values of one name sorted and comma-joined. */
static int blob_canon_resource(const char *account, const char *url, struct buf *out)
{
    const char *path, *query, *p;
    size_t pathlen, n = 0, cap = 0;
    struct blob_kv *v = NULL;
    int rc;

    blob_url_parts(url, &path, &pathlen, &query);
    rc = buf_appendf(out, "/%s", account);
    if (rc == 0)
        rc = pathlen ? buf_append(out, path, pathlen) : buf_appends(out, "/");
    for (p = query; rc == 0 && p && *p;) {
        size_t len = strcspn(p, "&#");
        const char *eq = memchr(p, '=', len);
        char *rawname = NULL, *rawval = NULL;

        if (len > 0) {
            if (n == cap) {
                struct blob_kv *nv;

                cap = cap ? cap * 2 : 8;
                nv = realloc(v, cap * sizeof(*v));
                if (!nv) {
                    rc = -ENOMEM;
                    break;
                }
                v = nv;
            }
            rawname = strndup(p, eq ? (size_t)(eq - p) : len);
            rawval = eq ? strndup(eq + 1, len - (size_t)(eq - p) - 1) : strdup("");
            v[n].name = NULL;
            v[n].value = NULL;
            if (!rawname || !rawval)
                rc = -ENOMEM;
            if (rc == 0)
                rc = url_decode(rawname, true, &v[n].name);
            if (rc == 0)
                rc = url_decode(rawval, true, &v[n].value);
            free(rawname);
            free(rawval);
            n++;
            if (rc != 0)
                break;
            blob_lower(v[n - 1].name);
        }
        p += len;
        if (*p != '&')
            break;
        p++;
    }
    if (rc == 0) {
        if (n > 1)
            qsort(v, n, sizeof(*v), blob_kv_cmp);
        rc = blob_kv_append(out, v, n, true);
    }
    blob_kv_free(v, n);
    return rc;
}

static const char *blob_hv(const struct http_hdrs *h, const char *name)
{
    const char *v = h ? http_hdrs_get(h, name) : NULL;

    return v ? v : "";
}

int blob_string_to_sign(const char *account, const char *method, const char *url,
                        const struct http_hdrs *hdrs, unsigned long content_length, struct buf *out)
{
    static const char *const std_hdrs[] = {
        "Content-Encoding",
        "Content-Language",
        NULL /* Content-Length */,
        "Content-MD5",
        "Content-Type",
        "Date",
        "If-Modified-Since",
        "If-Match",
        "If-None-Match",
        "If-Unmodified-Since",
        "Range",
    };
    size_t i;
    int rc;

    rc = buf_appendf(out, "%s\n", method);
    for (i = 0; rc == 0 && i < sizeof(std_hdrs) / sizeof(std_hdrs[0]); i++) {
        if (!std_hdrs[i]) {
            if (content_length)
                rc = buf_appendf(out, "%lu\n", content_length);
            else
                rc = buf_appends(out, "\n");
            continue;
        }
        rc = buf_appendf(out, "%s\n", blob_hv(hdrs, std_hdrs[i]));
    }
    if (rc == 0)
        rc = blob_canon_headers(hdrs, out);
    if (rc == 0)
        rc = blob_canon_resource(account, url, out);
    return rc;
}

/* Sets x-ms-date to now (RFC 1123, GMT) unless the caller already set one. */
static int blob_set_date(struct http_hdrs *hdrs)
{
    char date[64];
    time_t now;
    struct tm tm;

    if (http_hdrs_get(hdrs, "x-ms-date"))
        return 0;
    now = time(NULL);
    gmtime_r(&now, &tm);
    strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
    return http_hdrs_set(hdrs, "x-ms-date", date);
}

int blob_sharedkey_sign(const char *account, const unsigned char *key, unsigned long keylen,
                        const char *method, const char *url, struct http_hdrs *hdrs,
                        unsigned long content_length)
{
    unsigned char mac[CRYPTO_SHA256_LEN];
    char sig[CRYPTO_B64_SIZE(CRYPTO_SHA256_LEN)];
    struct buf sts, auth;
    int rc;

    buf_init(&sts, BLOB_STS_MAX);
    buf_init(&auth, 1024);
    rc = blob_set_date(hdrs);
    if (rc == 0)
        rc = blob_string_to_sign(account, method, url, hdrs, content_length, &sts);
    if (rc != 0)
        goto out;
    crypto_hmac_sha256(key, keylen, sts.data, sts.len, mac);
    crypto_base64_encode(mac, sizeof(mac), sig);
    rc = buf_appendf(&auth, "SharedKey %s:%s", account, sig);
    if (rc == 0)
        rc = http_hdrs_set(hdrs, "Authorization", auth.data);
out:
    /* The signature is as good as a credential for this request: wipe it. */
    memset(sig, 0, sizeof(sig));
    memset(mac, 0, sizeof(mac));
    if (auth.data)
        memset(auth.data, 0, auth.len);
    buf_free(&auth);
    buf_free(&sts);
    return rc;
}
