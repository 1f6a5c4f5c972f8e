/* sigv4: AWS Signature Version 4 signing of requests (header form) and URLs (presigned form). */
#include "s3/sigv4.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/http.h"
#include "core/url.h"

#define SIGV4_ALGO "AWS4-HMAC-SHA256"
/* Caps for what we build: a URL, header block or canonical request never nears these. */
#define SIGV4_BUF_MAX (1u << 20)

/* The parts of a URL; pointers into the caller's string with lengths. */
struct sigv4_url {
    const char *host;
    size_t host_len;
    const char *path;
    size_t path_len;
    const char *query;
    size_t query_len;
};

static int sigv4_split_url(const char *url, struct sigv4_url *u)
{
    const char *p = strstr(url, "://");
    const char *q;

    memset(u, 0, sizeof(*u));
    if (!p)
        return -EINVAL;
    p += 3;
    u->host = p;
    u->host_len = strcspn(p, "/?#");
    p += u->host_len;
    u->path = p;
    u->path_len = strcspn(p, "?#");
    q = p + u->path_len;
    if (*q == '?') {
        q++;
        u->query = q;
        u->query_len = strcspn(q, "#");
    }
    return u->host_len ? 0 : -EINVAL;
}

void sigv4_amz_date(time_t t, char out[17])
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 17, "%Y%m%dT%H%M%SZ", &tm);
}

int sigv4_parse_amz_date(const char *s, time_t *out)
{
    struct tm tm;
    int i;

    if (!s || strlen(s) != 16 || s[8] != 'T' || s[15] != 'Z')
        return -EINVAL;
    for (i = 0; i < 15; i++)
        if (i != 8 && !isdigit((unsigned char)s[i]))
            return -EINVAL;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 + (s[3] - '0') - 1900;
    tm.tm_mon = (s[4] - '0') * 10 + (s[5] - '0') - 1;
    tm.tm_mday = (s[6] - '0') * 10 + (s[7] - '0');
    tm.tm_hour = (s[9] - '0') * 10 + (s[10] - '0');
    tm.tm_min = (s[11] - '0') * 10 + (s[12] - '0');
    tm.tm_sec = (s[13] - '0') * 10 + (s[14] - '0');
    *out = timegm(&tm);
    return 0;
}

/* Appends the canonical URI of path[0..len) according to flags. */
static int sigv4_canon_uri(struct buf *b, const char *path, size_t len, int flags)
{
    struct buf norm;
    char *tmp = NULL;
    const char *use;
    int rc = 0;

    buf_init(&norm, SIGV4_BUF_MAX);
    if (len == 0)
        return buf_appends(b, "/");
    tmp = strndup(path, len);
    if (!tmp)
        return -ENOMEM;
    use = tmp;
    if (flags & SIGV4_NORMALIZE_PATH) {
        /* Remove-dot-segments and empty segments; segment ends kept in a stack of offsets. */
        size_t *ends = calloc(len + 1, sizeof(*ends));
        size_t depth = 0, i = 0;
        bool trailing;

        if (!ends) {
            rc = -ENOMEM;
            goto out;
        }
        trailing =
            len > 0 && (path[len - 1] == '/' || (len >= 2 && strcmp(tmp + len - 2, "/.") == 0) ||
                        (len >= 3 && strcmp(tmp + len - 3, "/..") == 0));
        while (i < len && rc == 0) {
            size_t seg_len;

            while (i < len && tmp[i] == '/')
                i++;
            seg_len = strcspn(tmp + i, "/");
            if (seg_len == 0)
                break;
            if (seg_len == 1 && tmp[i] == '.') {
                /* skip */
            } else if (seg_len == 2 && tmp[i] == '.' && tmp[i + 1] == '.') {
                if (depth > 0) {
                    depth--;
                    norm.len = depth ? ends[depth - 1] : 0;
                    if (norm.data)
                        norm.data[norm.len] = '\0';
                }
            } else {
                rc = buf_appends(&norm, "/");
                if (rc == 0)
                    rc = buf_append(&norm, tmp + i, seg_len);
                ends[depth++] = norm.len;
            }
            i += seg_len;
        }
        free(ends);
        if (rc)
            goto out;
        if (norm.len == 0)
            rc = buf_appends(&norm, "/");
        else if (trailing)
            rc = buf_appends(&norm, "/");
        if (rc)
            goto out;
        use = buf_str(&norm);
    }
    if (flags & SIGV4_URI_DOUBLE_ENCODE)
        rc = url_encode_append(b, use, true);
    else
        rc = buf_appends(b, use);
out:
    buf_free(&norm);
    free(tmp);
    return rc;
}

/* One query parameter, both parts percent-encoded in canonical form. */
struct sigv4_param {
    char *name;
    char *value;
};

static int sigv4_param_cmp(const void *a, const void *b)
{
    const struct sigv4_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    return c ? c : strcmp(x->value, y->value);
}

/* Decodes then re-encodes s[0..len) (RFC 3986, '/' encoded); malloc'd in *out. */
static int sigv4_reencode(const char *s, size_t len, char **out)
{
    struct buf b;
    char *raw = strndup(s, len), *dec = NULL;
    int rc;

    *out = NULL;
    if (!raw)
        return -ENOMEM;
    buf_init(&b, SIGV4_BUF_MAX);
    /* A malformed escape is signed as written, re-encoded. */
    if (url_decode(raw, false, &dec) != 0) {
        dec = raw;
        raw = NULL;
    }
    rc = url_encode_append(&b, dec ? dec : "", false);
    if (rc == 0)
        rc = buf_appends(&b, "");
    if (rc == 0) {
        *out = buf_take(&b);
        if (!*out)
            rc = -ENOMEM;
    }
    buf_free(&b);
    free(dec);
    free(raw);
    return rc;
}

static int sigv4_canon_query(struct buf *b, const char *q, size_t len)
{
    struct sigv4_param *ps = NULL;
    size_t n = 0, cap = 0, i = 0;
    int rc = 0;

    while (i < len) {
        size_t plen = 0, nlen;
        const char *p = q + i;

        while (i + plen < len && p[plen] != '&')
            plen++;
        i += plen + 1;
        if (plen == 0)
            continue;
        if (n == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            struct sigv4_param *np = realloc(ps, ncap * sizeof(*ps));

            if (!np) {
                rc = -ENOMEM;
                goto out;
            }
            ps = np;
            cap = ncap;
        }
        for (nlen = 0; nlen < plen && p[nlen] != '='; nlen++)
            ;
        ps[n].name = NULL;
        ps[n].value = NULL;
        n++;
        rc = sigv4_reencode(p, nlen, &ps[n - 1].name);
        if (rc == 0)
            rc = nlen < plen ? sigv4_reencode(p + nlen + 1, plen - nlen - 1, &ps[n - 1].value)
                             : sigv4_reencode("", 0, &ps[n - 1].value);
        if (rc)
            goto out;
    }
    if (n > 1)
        qsort(ps, n, sizeof(*ps), sigv4_param_cmp);
    for (i = 0; i < n && rc == 0; i++)
        rc = buf_appendf(b, "%s%s=%s", i ? "&" : "", ps[i].name, ps[i].value);
out:
    for (i = 0; i < n; i++) {
        free(ps[i].name);
        free(ps[i].value);
    }
    free(ps);
    return rc;
}

/* One header: lowercase name, trimmed value with inner runs of spaces collapsed. */
struct sigv4_hdr {
    char *name;
    char *value;
    size_t order;
};

static int sigv4_hdr_cmp(const void *a, const void *b)
{
    const struct sigv4_hdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static char *sigv4_lower(const char *s)
{
    char *r = strdup(s);
    size_t i;

    if (r)
        for (i = 0; r[i]; i++)
            r[i] = (char)tolower((unsigned char)r[i]);
    return r;
}

static char *sigv4_trim(const char *s)
{
    char *r = malloc(strlen(s) + 1);
    size_t o = 0;
    bool space = false;

    if (!r)
        return NULL;
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    for (; *s; s++) {
        if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
            space = true;
            continue;
        }
        if (space && o)
            r[o++] = ' ';
        space = false;
        r[o++] = *s;
    }
    r[o] = '\0';
    return r;
}

int sigv4_canonical_request(const char *method, const char *url, const struct http_hdrs *hdrs,
                            const char *payload_hash, int flags, struct buf *canon,
                            struct buf *signed_headers)
{
    struct sigv4_url u;
    struct sigv4_hdr *hs = NULL;
    size_t n = 0, i;
    int rc;

    rc = sigv4_split_url(url, &u);
    if (rc)
        return rc;
    hs = calloc(hdrs->n ? hdrs->n : 1, sizeof(*hs));
    if (!hs)
        return -ENOMEM;
    for (i = 0; i < hdrs->n; i++) {
        if (strcasecmp(hdrs->v[i].name, "authorization") == 0)
            continue;
        hs[n].name = sigv4_lower(hdrs->v[i].name);
        hs[n].value = sigv4_trim(hdrs->v[i].value ? hdrs->v[i].value : "");
        hs[n].order = i;
        n++;
        if (!hs[n - 1].name || !hs[n - 1].value) {
            rc = -ENOMEM;
            goto out;
        }
    }
    qsort(hs, n, sizeof(*hs), sigv4_hdr_cmp);

    rc = buf_appendf(canon, "%s\n", method);
    if (rc == 0)
        rc = sigv4_canon_uri(canon, u.path, u.path_len, flags);
    if (rc == 0)
        rc = buf_appends(canon, "\n");
    if (rc == 0)
        rc = sigv4_canon_query(canon, u.query ? u.query : "", u.query_len);
    if (rc == 0)
        rc = buf_appends(canon, "\n");
    for (i = 0; i < n && rc == 0; i++) {
        bool first = i == 0 || strcmp(hs[i].name, hs[i - 1].name) != 0;
        bool last = i + 1 == n || strcmp(hs[i].name, hs[i + 1].name) != 0;

        if (first) {
            rc = buf_appendf(canon, "%s:", hs[i].name);
            if (rc == 0)
                rc = buf_appendf(signed_headers, "%s%s", buf_str(signed_headers)[0] ? ";" : "",
                                 hs[i].name);
        } else {
            rc = buf_appends(canon, ",");
        }
        if (rc == 0)
            rc = buf_appends(canon, hs[i].value);
        if (rc == 0 && last)
            rc = buf_appends(canon, "\n");
    }
    if (rc == 0)
        rc = buf_appendf(canon, "\n%s\n%s", buf_str(signed_headers), payload_hash);
out:
    for (i = 0; i < n; i++) {
        free(hs[i].name);
        free(hs[i].value);
    }
    free(hs);
    return rc;
}

/* kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request"). */
static int sigv4_signing_key(const struct sigv4_key *k, const char *date8,
                             unsigned char out[CRYPTO_SHA256_LEN])
{
    unsigned char t[CRYPTO_SHA256_LEN];
    size_t sl = strlen(k->secret_key);
    char *seed = malloc(sl + 5);

    if (!seed)
        return -ENOMEM;
    memcpy(seed, "AWS4", 4);
    memcpy(seed + 4, k->secret_key, sl + 1);
    crypto_hmac_sha256(seed, sl + 4, date8, strlen(date8), t);
    crypto_hmac_sha256(t, sizeof(t), k->region, strlen(k->region), t);
    crypto_hmac_sha256(t, sizeof(t), k->service, strlen(k->service), t);
    crypto_hmac_sha256(t, sizeof(t), "aws4_request", 12, out);
    memset(seed, 0, sl + 4);
    free(seed);
    memset(t, 0, sizeof(t));
    return 0;
}

/* Builds the string to sign (into sts) for canon and the hex signature (into sig_hex). */
static int sigv4_sign_canon(const struct sigv4_key *k, const char *amz_date,
                            const struct buf *canon, struct buf *sts,
                            char sig_hex[2 * CRYPTO_SHA256_LEN + 1])
{
    unsigned char h[CRYPTO_SHA256_LEN], key[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1], date8[9];
    int rc;

    memcpy(date8, amz_date, 8);
    date8[8] = '\0';
    crypto_sha256(canon->data ? canon->data : "", canon->len, h);
    crypto_hex(h, sizeof(h), hex);
    rc = buf_appendf(sts, SIGV4_ALGO "\n%s\n%s/%s/%s/aws4_request\n%s", amz_date, date8, k->region,
                     k->service, hex);
    if (rc)
        return rc;
    rc = sigv4_signing_key(k, date8, key);
    if (rc)
        return rc;
    crypto_hmac_sha256(key, sizeof(key), sts->data, sts->len, h);
    crypto_hex(h, sizeof(h), sig_hex);
    memset(key, 0, sizeof(key));
    return 0;
}

static int sigv4_check_key(const struct sigv4_key *k)
{
    if (!k || !k->access_key || !k->secret_key || !k->region || !k->service)
        return -EINVAL;
    return 0;
}

int sigv4_sign_headers_ex(const struct sigv4_key *k, const char *method, const char *url,
                          struct http_hdrs *hdrs, const void *body, size_t body_len,
                          const char *payload_hash, int add_content_sha, time_t now, int flags,
                          struct buf *canon_out, struct buf *sts_out)
{
    struct buf canon, signed_h, sts, auth;
    struct sigv4_url u;
    char amz_date[17], phash[2 * CRYPTO_SHA256_LEN + 1], sig[2 * CRYPTO_SHA256_LEN + 1];
    char date8[9];
    int rc;

    rc = sigv4_check_key(k);
    if (rc == 0)
        rc = sigv4_split_url(url, &u);
    if (rc)
        return rc;
    buf_init(&canon, SIGV4_BUF_MAX);
    buf_init(&signed_h, SIGV4_BUF_MAX);
    buf_init(&sts, SIGV4_BUF_MAX);
    buf_init(&auth, SIGV4_BUF_MAX);
    if (!payload_hash) {
        unsigned char h[CRYPTO_SHA256_LEN];

        crypto_sha256(body ? body : "", body_len, h);
        crypto_hex(h, sizeof(h), phash);
        payload_hash = phash;
    }
    sigv4_amz_date(now, amz_date);
    memcpy(date8, amz_date, 8);
    date8[8] = '\0';

    if (!http_hdrs_get(hdrs, "host")) {
        char *host = strndup(u.host, u.host_len);

        if (!host) {
            rc = -ENOMEM;
            goto out;
        }
        rc = http_hdrs_add(hdrs, "Host", host);
        free(host);
        if (rc)
            goto out;
    }
    http_hdrs_del(hdrs, "authorization");
    rc = http_hdrs_set(hdrs, "X-Amz-Date", amz_date);
    if (rc == 0 && k->session_token)
        rc = http_hdrs_set(hdrs, "X-Amz-Security-Token", k->session_token);
    if (rc == 0 && add_content_sha)
        rc = http_hdrs_set(hdrs, "X-Amz-Content-Sha256", payload_hash);
    if (rc)
        goto out;

    rc = sigv4_canonical_request(method, url, hdrs, payload_hash, flags, &canon, &signed_h);
    if (rc == 0)
        rc = sigv4_sign_canon(k, amz_date, &canon, &sts, sig);
    if (rc == 0)
        rc = buf_appendf(&auth,
                         SIGV4_ALGO " Credential=%s/%s/%s/%s/aws4_request, SignedHeaders=%s, "
                                    "Signature=%s",
                         k->access_key, date8, k->region, k->service, buf_str(&signed_h), sig);
    if (rc == 0)
        rc = http_hdrs_set(hdrs, "Authorization", buf_str(&auth));
    if (rc == 0 && canon_out)
        rc = buf_append(canon_out, canon.data ? canon.data : "", canon.len);
    if (rc == 0 && sts_out)
        rc = buf_append(sts_out, sts.data ? sts.data : "", sts.len);
out:
    buf_free(&canon);
    buf_free(&signed_h);
    buf_free(&sts);
    if (auth.data)
        memset(auth.data, 0, auth.len);
    buf_free(&auth);
    return rc;
}

int sigv4_sign_headers(const struct sigv4_key *k, const char *method, const char *url,
                       struct http_hdrs *hdrs, const void *body, size_t body_len,
                       const char *payload_hash, int add_content_sha, time_t now)
{
    return sigv4_sign_headers_ex(k, method, url, hdrs, body, body_len, payload_hash,
                                 add_content_sha, now, 0, NULL, NULL);
}

int sigv4_presign(const struct sigv4_key *k, const char *method, const char *url, long expires_s,
                  time_t now, char **out)
{
    struct http_hdrs hdrs = {0};
    struct buf full, canon, signed_h, sts, cred;
    struct sigv4_url u;
    char amz_date[17], date8[9], sig[2 * CRYPTO_SHA256_LEN + 1];
    char *host = NULL;
    int rc;

    *out = NULL;
    rc = sigv4_check_key(k);
    if (rc == 0)
        rc = sigv4_split_url(url, &u);
    if (rc)
        return rc;
    if (expires_s < 1 || expires_s > 604800)
        return -EINVAL;
    buf_init(&full, SIGV4_BUF_MAX);
    buf_init(&canon, SIGV4_BUF_MAX);
    buf_init(&signed_h, SIGV4_BUF_MAX);
    buf_init(&sts, SIGV4_BUF_MAX);
    buf_init(&cred, SIGV4_BUF_MAX);
    sigv4_amz_date(now, amz_date);
    memcpy(date8, amz_date, 8);
    date8[8] = '\0';

    rc =
        buf_appendf(&cred, "%s/%s/%s/%s/aws4_request", k->access_key, date8, k->region, k->service);
    /* The URL without a fragment, then our parameters appended to any existing query. */
    if (rc == 0)
        rc = buf_append(&full, url, (size_t)(u.path + u.path_len - url));
    if (rc == 0 && u.query && u.query_len) {
        rc = buf_appends(&full, "?");
        if (rc == 0)
            rc = buf_append(&full, u.query, u.query_len);
        if (rc == 0)
            rc = buf_appends(&full, "&");
    } else if (rc == 0) {
        rc = buf_appends(&full, "?");
    }
    if (rc == 0)
        rc = buf_appends(&full, "X-Amz-Algorithm=" SIGV4_ALGO "&X-Amz-Credential=");
    if (rc == 0)
        rc = url_encode_append(&full, buf_str(&cred), false);
    if (rc == 0)
        rc = buf_appendf(&full, "&X-Amz-Date=%s&X-Amz-Expires=%ld&X-Amz-SignedHeaders=host",
                         amz_date, expires_s);
    if (rc == 0 && k->session_token) {
        rc = buf_appends(&full, "&X-Amz-Security-Token=");
        if (rc == 0)
            rc = url_encode_append(&full, k->session_token, false);
    }
    if (rc)
        goto out;
    host = strndup(u.host, u.host_len);
    if (!host) {
        rc = -ENOMEM;
        goto out;
    }
    rc = http_hdrs_add(&hdrs, "host", host);
    if (rc == 0)
        rc = sigv4_canonical_request(method, buf_str(&full), &hdrs, SIGV4_UNSIGNED, 0, &canon,
                                     &signed_h);
    if (rc == 0)
        rc = sigv4_sign_canon(k, amz_date, &canon, &sts, sig);
    if (rc == 0)
        rc = buf_appendf(&full, "&X-Amz-Signature=%s", sig);
    if (rc == 0) {
        *out = buf_take(&full);
        if (!*out)
            rc = -ENOMEM;
    }
out:
    free(host);
    http_hdrs_free(&hdrs);
    buf_free(&full);
    buf_free(&canon);
    buf_free(&signed_h);
    buf_free(&sts);
    buf_free(&cred);
    return rc;
}
