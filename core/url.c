/* url: parsing of store URLs (s3://, az://, Azure https://) and RFC 3986 percent-encoding. */
#include "core/url.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/crypto.h"

static void url_seterr(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    if (err && errlen)
        snprintf(err, errlen, fmt, a, b ? b : "");
}

/*
 * S3 bucket naming rules (the current AWS rules, which Swift's s3api also
 * applies with dns_compliant_bucket_names): 3-63 characters of lowercase
 * letters, digits, '.' and '-', beginning and ending with a letter or digit,
 * no "..", not an IPv4 address. Legacy us-east-1 names with uppercase or '_'
 * are refused with a message that says so, since virtual-host and SigV4
 * addressing cannot reach them reliably. Returns NULL or why the name is bad.
 */
static const char *url_s3_bucket_problem(const char *b)
{
    size_t n = strlen(b), i;
    int dots = 0, digits_only = 1;

    if (n < 3 || n > 63)
        return "must be 3 to 63 characters long";
    for (i = 0; i < n; i++) {
        char c = b[i];

        if (isupper((unsigned char)c))
            return "uppercase letters are not allowed";
        if (c == '_')
            return "'_' is not allowed";
        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '.' || c == '-'))
            return "only lowercase letters, digits, '.' and '-' are allowed";
        if (c == '.') {
            dots++;
            if (i > 0 && b[i - 1] == '.')
                return "\"..\" is not allowed";
        } else if (!isdigit((unsigned char)c)) {
            digits_only = 0;
        }
    }
    if (!isalnum((unsigned char)b[0]) || !isalnum((unsigned char)b[n - 1]))
        return "must begin and end with a letter or digit";
    if (dots == 3 && digits_only)
        return "must not look like an IP address";
    return NULL;
}

/*
 * Azure container rules: 3-63 characters of lowercase letters, digits and '-',
 * beginning with a letter or digit, no "--", not ending with '-'.
 * "$root" and "$web" are the two special containers. Returns NULL or why.
 */
static const char *url_az_container_problem(const char *c)
{
    size_t n = strlen(c), i;

    if (strcmp(c, "$root") == 0 || strcmp(c, "$web") == 0)
        return NULL;
    if (n < 3 || n > 63)
        return "must be 3 to 63 characters long";
    for (i = 0; i < n; i++) {
        if (isupper((unsigned char)c[i]))
            return "uppercase letters are not allowed";
        if (!(islower((unsigned char)c[i]) || isdigit((unsigned char)c[i]) || c[i] == '-'))
            return "only lowercase letters, digits and '-' are allowed";
        if (c[i] == '-' && i > 0 && c[i - 1] == '-')
            return "\"--\" is not allowed";
    }
    if (!isalnum((unsigned char)c[0]))
        return "must begin with a letter or digit";
    if (c[n - 1] == '-')
        return "must not end with '-'";
    return NULL;
}

/* Azure account names: 3-24 lowercase letters and digits. */
static bool url_az_account_ok(const char *a, size_t n)
{
    size_t i;

    if (n < 3 || n > 24)
        return false;
    for (i = 0; i < n; i++)
        if (!(islower((unsigned char)a[i]) || isdigit((unsigned char)a[i])))
            return false;
    return true;
}

void url_free(struct store_url *u)
{
    if (!u)
        return;
    free(u->bucket);
    free(u->prefix);
    free(u->account);
    free(u->endpoint);
    free(u->sas);
    memset(u, 0, sizeof(*u));
}

/* Splits "BUCKET[/PREFIX]" into owned strings. */
static int url_split_path(const char *p, size_t plen, char **bucket, char **prefix)
{
    const char *slash = memchr(p, '/', plen);
    size_t bl = slash ? (size_t)(slash - p) : plen;

    *bucket = strndup(p, bl);
    *prefix = slash ? strndup(slash + 1, plen - bl - 1) : strdup("");
    if (!*bucket || !*prefix)
        return -ENOMEM;
    return 0;
}

static bool url_is_loopback_host(const char *h, size_t n)
{
    return (n >= 9 && strncmp(h, "127.0.0.1", 9) == 0 && (n == 9 || h[9] == ':')) ||
           (n >= 9 && strncmp(h, "localhost", 9) == 0 && (n == 9 || h[9] == ':'));
}

/*
 * https://ACCOUNT.blob.SUFFIX/CONTAINER[/PREFIX][?SAS], and for the emulator
 * the path style http(s)://127.0.0.1:PORT/ACCOUNT/CONTAINER[/PREFIX][?SAS].
 * The path is percent-decoded.
 */
static int url_parse_https(const char *s, struct store_url *out, char *err, size_t errlen)
{
    const char *rest = strchr(s, ':') + 3; /* after "://" */
    const char *hostend = rest + strcspn(rest, "/?#");
    const char *q = strchr(hostend, '?');
    const char *pathend = q ? q : hostend + strcspn(hostend, "#");
    const char *dot = memchr(rest, '.', (size_t)(hostend - rest));
    size_t hl = (size_t)(hostend - rest);
    char *path = NULL, *dec = NULL;
    const char *p;
    int rc = -EINVAL;

    out->kind = URL_AZ;
    path = strndup(*hostend == '/' ? hostend + 1 : hostend,
                   (size_t)(pathend - hostend) - (*hostend == '/' ? 1 : 0));
    if (!path)
        return -ENOMEM;
    rc = url_decode(path, false, &dec);
    if (rc) {
        url_seterr(err, errlen, "%s: bad percent-encoding in the path%s", s, NULL);
        goto out;
    }
    p = dec;
    if (url_is_loopback_host(rest, hl)) {
        const char *slash = strchr(p, '/');

        if (!slash || slash == p) {
            url_seterr(err, errlen, "%s: expected http://HOST:PORT/ACCOUNT/CONTAINER%s", s, NULL);
            rc = -EINVAL;
            goto out;
        }
        out->account = strndup(p, (size_t)(slash - p));
        if (out->account && asprintf(&out->endpoint, "%.*s/%s", (int)(hostend - s), s,
                                     out->account) < 0)
            out->endpoint = NULL;
        p = slash + 1;
    } else {
        if (!dot || strncasecmp(dot, ".blob.", 6) != 0 ||
            !url_az_account_ok(rest, (size_t)(dot - rest))) {
            url_seterr(err, errlen,
                       "%s: not an Azure Blob URL (expected https://ACCOUNT.blob.core.windows.net/"
                       "CONTAINER)%s",
                       s, NULL);
            rc = -EINVAL;
            goto out;
        }
        out->account = strndup(rest, (size_t)(dot - rest));
        out->endpoint = strndup(s, (size_t)(hostend - s));
    }
    if (!out->account || !out->endpoint) {
        rc = -ENOMEM;
        goto out;
    }
    rc = url_split_path(p, strlen(p), &out->bucket, &out->prefix);
    if (rc)
        goto out;
    if (q && q[1]) {
        out->sas = strndup(q + 1, strcspn(q + 1, "#"));
        if (!out->sas) {
            rc = -ENOMEM;
            goto out;
        }
    }
    rc = 0;
out:
    free(path);
    free(dec);
    return rc;
}

int url_parse(const char *s, struct store_url *out, char *err, size_t errlen)
{
    const char *why;
    const char *colon;
    int rc;

    memset(out, 0, sizeof(*out));
    if (err && errlen)
        err[0] = '\0';
    if (!s || !*s) {
        url_seterr(err, errlen, "empty URL%s%s", "", NULL);
        return -EINVAL;
    }
    colon = strstr(s, "://");
    if (!colon) {
        url_seterr(err, errlen, "%s: not a store URL (expected s3://BUCKET, az://CONTAINER or "
                   "https://ACCOUNT.blob.core.windows.net/CONTAINER)%s", s, NULL);
        return -EINVAL;
    }
    if (strncasecmp(s, "s3://", 5) == 0 || strncasecmp(s, "az://", 5) == 0) {
        bool s3 = tolower((unsigned char)s[0]) == 's';
        const char *p = s + 5;
        /* Keys may hold '?' and '#': after the scheme everything is bucket and key. */
        size_t plen = strlen(p);

        out->kind = s3 ? URL_S3 : URL_AZ;
        if (plen == 0 || p[0] == '/') {
            url_seterr(err, errlen, "%s: missing %s name", s, s3 ? "bucket" : "container");
            return -EINVAL;
        }
        rc = url_split_path(p, plen, &out->bucket, &out->prefix);
        if (rc)
            goto fail;
    } else if (strncasecmp(s, "https://", 8) == 0 || strncasecmp(s, "http://", 7) == 0) {
        rc = url_parse_https(s, out, err, errlen);
        if (rc)
            goto fail;
    } else {
        if (err && errlen)
            snprintf(err, errlen,
                     "%s: unknown scheme \"%.*s\" (expected s3://, az:// or "
                     "https://ACCOUNT.blob.core.windows.net/)",
                     s, (int)(colon - s), s);
        return -EINVAL;
    }
    if (!out->bucket[0]) {
        url_seterr(err, errlen, "%s: missing %s name", s,
                   out->kind == URL_S3 ? "bucket" : "container");
        rc = -EINVAL;
        goto fail;
    }
    why = out->kind == URL_S3 ? url_s3_bucket_problem(out->bucket)
                              : url_az_container_problem(out->bucket);
    if (why) {
        if (err && errlen)
            snprintf(err, errlen, "%s: invalid %s name \"%s\": %s", s,
                     out->kind == URL_S3 ? "bucket" : "container", out->bucket, why);
        rc = -EINVAL;
        goto fail;
    }
    return 0;
fail:
    url_free(out);
    return rc;
}

bool url_is_store(const char *s)
{
    const char *host, *end, *dot;

    if (!s)
        return false;
    if (strncasecmp(s, "s3://", 5) == 0 || strncasecmp(s, "az://", 5) == 0)
        return true;
    if (strncasecmp(s, "https://", 8) != 0)
        return false;
    host = s + 8;
    end = host + strcspn(host, "/?#");
    dot = memchr(host, '.', (size_t)(end - host));
    return dot && strncasecmp(dot, ".blob.", 6) == 0;
}

int url_encode_append(struct buf *b, const char *s, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    const unsigned char *p;
    char enc[3];
    int rc = 0;

    for (p = (const unsigned char *)s; *p && rc == 0; p++) {
        if (isalnum(*p) || *p == '-' || *p == '.' || *p == '_' || *p == '~' ||
            (*p == '/' && keep_slash)) {
            rc = buf_append(b, p, 1);
        } else {
            enc[0] = '%';
            enc[1] = hex[*p >> 4];
            enc[2] = hex[*p & 15];
            rc = buf_append(b, enc, 3);
        }
    }
    return rc;
}

int url_decode(const char *s, bool plus_space, char **out)
{
    size_t n = strlen(s), i, o = 0;
    char *r;
    int hi, lo;

    *out = NULL;
    r = malloc(n + 1);
    if (!r)
        return -ENOMEM;
    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            hi = i + 1 < n ? crypto_hexval(s[i + 1]) : -1;
            lo = i + 2 < n ? crypto_hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                free(r);
                return -EINVAL;
            }
            r[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else if (s[i] == '+' && plus_space) {
            r[o++] = ' ';
        } else {
            r[o++] = s[i];
        }
    }
    r[o] = '\0';
    *out = r;
    return 0;
}
