/* objstore: object info helpers, the thread-local error, and rclone's mtime formats. */
#include "core/objstore.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/log.h"

void os_info_clear(struct os_info *i)
{
    size_t k;

    if (!i)
        return;
    free(i->key);
    free(i->etag);
    free(i->content_type);
    free(i->storage_class);
    for (k = 0; k < i->n_meta; k++) {
        free(i->meta[k].key);
        free(i->meta[k].value);
    }
    free(i->meta);
    memset(i, 0, sizeof(*i));
}

const char *os_info_meta(const struct os_info *i, const char *key)
{
    size_t k;

    if (!i || !key)
        return NULL;
    for (k = 0; k < i->n_meta; k++)
        if (strcasecmp(i->meta[k].key, key) == 0)
            return i->meta[k].value;
    return NULL;
}

int os_info_set_meta(struct os_info *i, const char *key, const char *value)
{
    struct os_meta *nm;
    char *k = NULL, *v = NULL;
    size_t j;

    v = strdup(value ? value : "");
    if (!v)
        return -ENOMEM;
    for (j = 0; j < i->n_meta; j++) {
        if (strcasecmp(i->meta[j].key, key) == 0) {
            free(i->meta[j].value);
            i->meta[j].value = v;
            return 0;
        }
    }
    k = strdup(key);
    nm = k ? realloc(i->meta, (i->n_meta + 1) * sizeof(*nm)) : NULL;
    if (!nm) {
        free(k);
        free(v);
        return -ENOMEM;
    }
    for (j = 0; k[j]; j++)
        k[j] = (char)tolower((unsigned char)k[j]);
    i->meta = nm;
    i->meta[i->n_meta].key = k;
    i->meta[i->n_meta].value = v;
    i->n_meta++;
    return 0;
}

void os_list_page_free(struct os_list_page *p)
{
    size_t k;

    if (!p)
        return;
    for (k = 0; k < p->n; k++)
        os_info_clear(&p->items[k]);
    free(p->items);
    free(p->next_token);
    memset(p, 0, sizeof(*p));
}

static _Thread_local struct os_error os_tls_error;

const struct os_error *os_last_error(void)
{
    return &os_tls_error;
}

void os_error_clear(void)
{
    memset(&os_tls_error, 0, sizeof(os_tls_error));
}

int os_error_set(int err, int kind, long http_status, const char *code, const char *request_id,
                 const char *fmt, ...)
{
    struct os_error *e = &os_tls_error;
    va_list ap;

    e->err = err;
    e->kind = kind;
    e->http_status = http_status;
    snprintf(e->code, sizeof(e->code), "%s", code ? code : "");
    snprintf(e->request_id, sizeof(e->request_id), "%s", request_id ? request_id : "");
    e->message[0] = '\0';
    if (fmt) {
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
        va_end(ap);
        log_redact(e->message, sizeof(e->message));
    }
    return err;
}

const char *os_errkind_str(int kind)
{
    switch (kind) {
    case OSE_NONE: return "no error";
    case OSE_NOT_FOUND: return "object not found";
    case OSE_NO_BUCKET: return "bucket or container not found";
    case OSE_ACCESS_DENIED: return "access denied";
    case OSE_BAD_CREDENTIALS: return "credentials refused";
    case OSE_ARCHIVED: return "object is archived (restore or rehydrate it first)";
    case OSE_UNREACHABLE: return "endpoint unreachable";
    case OSE_TIMEOUT: return "timed out";
    case OSE_THROTTLED: return "throttled by the service";
    case OSE_SERVER: return "server error";
    case OSE_INVALID: return "request refused as invalid";
    case OSE_EXISTS: return "already exists or precondition failed";
    case OSE_PROTOCOL: return "unparseable response";
    case OSE_LOCAL: return "local error";
    default: return "unknown error";
    }
}

void os_store_free(struct os_store *s)
{
    if (!s)
        return;
    if (s->ops && s->ops->free && s->be)
        s->ops->free(s->be);
    free(s->url_base);
    free(s);
}

int os_mtime_format_s3(const struct timespec *ts, char *out, size_t outlen)
{
    int n = snprintf(out, outlen, "%lld.%09ld", (long long)ts->tv_sec, (long)ts->tv_nsec);

    if (n < 0 || (size_t)n >= outlen)
        return -ENOSPC;
    return 0;
}

int os_mtime_format_az(const struct timespec *ts, char *out, size_t outlen)
{
    struct tm tm;
    time_t t = ts->tv_sec;
    int n;

    if (!gmtime_r(&t, &tm))
        return -EINVAL;
    n = snprintf(out, outlen, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)ts->tv_nsec);
    if (n < 0 || (size_t)n >= outlen)
        return -ENOSPC;
    return 0;
}

/* Parses up to 9 fractional digits after a '.' at *p; advances *p. */
static int os_parse_frac(const char **p, long *nsec)
{
    const char *s = *p;
    long v = 0;
    int digits = 0;

    *nsec = 0;
    if (*s != '.')
        return 0;
    s++;
    if (!isdigit((unsigned char)*s))
        return -EINVAL;
    while (isdigit((unsigned char)*s)) {
        if (digits < 9) {
            v = v * 10 + (*s - '0');
            digits++;
        }
        s++;
    }
    while (digits++ < 9)
        v *= 10;
    *nsec = v;
    *p = s;
    return 0;
}

/* Parses a fixed count of digits. */
static int os_parse_digits(const char **p, int n, int *out)
{
    int v = 0, i;

    for (i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i]))
            return -EINVAL;
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    *out = v;
    return 0;
}

/* ISO 8601 / RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|+HH:MM|-HH:MM). */
static int os_parse_iso(const char *s, struct timespec *out)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, oh = 0, om = 0, sign = 0;
    long nsec;
    time_t t;

    memset(&tm, 0, sizeof(tm));
    if (os_parse_digits(&s, 4, &y) || *s++ != '-' || os_parse_digits(&s, 2, &mo) ||
        *s++ != '-' || os_parse_digits(&s, 2, &d) || (*s != 'T' && *s != 't' && *s != ' '))
        return -EINVAL;
    s++;
    if (os_parse_digits(&s, 2, &h) || *s++ != ':' || os_parse_digits(&s, 2, &mi) ||
        *s++ != ':' || os_parse_digits(&s, 2, &sec))
        return -EINVAL;
    if (os_parse_frac(&s, &nsec))
        return -EINVAL;
    if (*s == 'Z' || *s == 'z') {
        s++;
    } else if (*s == '+' || *s == '-') {
        sign = *s == '+' ? 1 : -1;
        s++;
        if (os_parse_digits(&s, 2, &oh) || *s++ != ':' || os_parse_digits(&s, 2, &om))
            return -EINVAL;
    } else {
        return -EINVAL;
    }
    if (*s || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return -EINVAL;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    t -= sign * (oh * 3600 + om * 60);
    out->tv_sec = t;
    out->tv_nsec = nsec;
    return 0;
}

int os_mtime_parse(const char *s, struct timespec *out)
{
    const char *p = s;
    long long sec = 0;
    long nsec;
    int neg = 0;

    if (!s || !*s)
        return -EINVAL;
    if (strchr(s, '-') && strchr(s, 'T'))
        return os_parse_iso(s, out);
    if (*p == '-') {
        neg = 1;
        p++;
    }
    if (!isdigit((unsigned char)*p))
        return -EINVAL;
    while (isdigit((unsigned char)*p)) {
        if (sec > (long long)1e15)
            return -EINVAL;
        sec = sec * 10 + (*p - '0');
        p++;
    }
    if (os_parse_frac(&p, &nsec) || *p)
        return -EINVAL;
    if (neg) {
        /* -1.25 is one and a quarter seconds before the epoch. */
        sec = -sec;
        if (nsec) {
            sec -= 1;
            nsec = 1000000000L - nsec;
        }
    }
    out->tv_sec = (time_t)sec;
    out->tv_nsec = nsec;
    return 0;
}

/* RFC 1123: "Mon, 06 May 2024 07:08:09 GMT". */
static int os_parse_http_date(const char *s, struct timespec *out)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    struct tm tm;
    const char *end;
    const char *m;
    char mon[4];

    memset(&tm, 0, sizeof(tm));
    end = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end) {
        /* strptime's %b depends on the locale: parse "06 May 2024 ..." by hand. */
        const char *p = strchr(s, ',');
        int d, y, h, mi, sec;

        if (!p)
            return -EINVAL;
        p++;
        while (*p == ' ')
            p++;
        if (os_parse_digits(&p, 2, &d) || *p++ != ' ')
            return -EINVAL;
        memcpy(mon, p, 3);
        mon[3] = '\0';
        m = strstr(months, mon);
        if (strlen(mon) != 3 || !m || (m - months) % 3 != 0)
            return -EINVAL;
        p += 3;
        if (*p++ != ' ' || os_parse_digits(&p, 4, &y) || *p++ != ' ' ||
            os_parse_digits(&p, 2, &h) || *p++ != ':' || os_parse_digits(&p, 2, &mi) ||
            *p++ != ':' || os_parse_digits(&p, 2, &sec) || strcmp(p, " GMT") != 0)
            return -EINVAL;
        tm.tm_mday = d;
        tm.tm_mon = (int)((m - months) / 3);
        tm.tm_year = y - 1900;
        tm.tm_hour = h;
        tm.tm_min = mi;
        tm.tm_sec = sec;
    } else if (*end) {
        return -EINVAL;
    }
    out->tv_sec = timegm(&tm);
    out->tv_nsec = 0;
    return 0;
}

int os_time_parse(const char *s, struct timespec *out)
{
    if (!s || !*s)
        return -EINVAL;
    if (isdigit((unsigned char)s[0]))
        return os_parse_iso(s, out);
    return os_parse_http_date(s, out);
}
