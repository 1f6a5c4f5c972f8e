/* cli_util: parsing, formatting and error-to-exit-code helpers shared by the bridgefs commands. */
#include "tools/cli.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>

#include "core/buf.h"
#include "core/crypto.h"
#include "core/log.h"
#include "core/objstore.h"
#include "tools/exitcodes.h"
#include "tools/store_open.h"

#define FOLDER_SUFFIX "_$folder$"

int cli_exit_code(int err, int kind)
{
    if (err >= 0)
        return CLI_EXIT_OK;
    switch (kind) {
    case OSE_NOT_FOUND:
    case OSE_NO_BUCKET:
        return CLI_EXIT_NOT_FOUND;
    case OSE_ACCESS_DENIED:
    case OSE_BAD_CREDENTIALS:
        return CLI_EXIT_ACCESS;
    case OSE_ARCHIVED:
        return CLI_EXIT_ARCHIVED;
    case OSE_UNREACHABLE:
    case OSE_TIMEOUT:
    case OSE_THROTTLED:
    case OSE_SERVER:
        return CLI_EXIT_NETWORK;
    case OSE_INVALID:
    case OSE_EXISTS:
    case OSE_PROTOCOL:
    case OSE_LOCAL:
        return CLI_EXIT_ERROR;
    default:
        break;
    }
    switch (-err) {
    case ENOENT:
        return CLI_EXIT_NOT_FOUND;
    case EACCES:
    case EPERM:
        return CLI_EXIT_ACCESS;
    case ECONNREFUSED:
    case EHOSTUNREACH:
    case ENETUNREACH:
    case ETIMEDOUT:
    case ECONNRESET:
        return CLI_EXIT_NETWORK;
    default:
        return CLI_EXIT_ERROR;
    }
}

int cli_parse_range(const char *s, int64_t *off, int64_t *len)
{
    char *end = NULL;
    long long a, b;

    if (!s || !isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    a = strtoll(s, &end, 10);
    if (errno || *end != '-')
        return -EINVAL;
    s = end + 1;
    if (*s == '\0') {
        *off = a;
        *len = -1;
        return 0;
    }
    if (!isdigit((unsigned char)s[0]))
        return -EINVAL;
    b = strtoll(s, &end, 10);
    if (errno || *end != '\0' || b < a)
        return -EINVAL;
    *off = a;
    *len = b - a + 1;
    return 0;
}

int cli_parse_meta(const char *s, char **key, char **value)
{
    const char *eq = s ? strchr(s, '=') : NULL;
    size_t klen;
    char *k = NULL, *v = NULL;

    *key = NULL;
    *value = NULL;
    if (!eq || eq == s)
        return -EINVAL;
    klen = (size_t)(eq - s);
    for (size_t i = 0; i < klen; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (!isalnum(ch) && ch != '-' && ch != '_')
            return -EINVAL;
    }
    k = strndup(s, klen);
    v = strdup(eq + 1);
    if (!k || !v) {
        free(k);
        free(v);
        return -ENOMEM;
    }
    for (size_t i = 0; i < klen; i++)
        k[i] = (char)tolower((unsigned char)k[i]);
    *key = k;
    *value = v;
    return 0;
}

int cli_parse_size(const char *s, uint64_t *out)
{
    char *end = NULL;
    unsigned long long v;
    unsigned shift = 0;

    if (!s || !isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    v = strtoull(s, &end, 10);
    if (errno)
        return -EINVAL;
    switch (toupper((unsigned char)*end)) {
    case 'K': shift = 10; end++; break;
    case 'M': shift = 20; end++; break;
    case 'G': shift = 30; end++; break;
    case 'T': shift = 40; end++; break;
    default: break;
    }
    if (shift && (end[0] == 'i' || end[0] == 'I'))
        end++;
    if (end[0] == 'B' || end[0] == 'b')
        end++;
    if (*end != '\0' || v == 0)
        return -EINVAL;
    if (shift && v > (UINT64_MAX >> shift))
        return -EINVAL;
    *out = (uint64_t)v << shift;
    return 0;
}

int cli_parse_epoch(const char *s, struct timespec *out)
{
    char *end = NULL;
    long long sec;
    long nsec = 0;

    if (!s || !isdigit((unsigned char)s[0]))
        return -EINVAL;
    errno = 0;
    sec = strtoll(s, &end, 10);
    if (errno)
        return -EINVAL;
    if (*end == '.') {
        long scale = 100000000;
        end++;
        if (!isdigit((unsigned char)*end))
            return -EINVAL;
        for (; isdigit((unsigned char)*end); end++) {
            nsec += (*end - '0') * scale;
            scale /= 10;
        }
    }
    if (*end != '\0')
        return -EINVAL;
    out->tv_sec = (time_t)sec;
    out->tv_nsec = nsec;
    return 0;
}

void cli_format_time(const struct timespec *ts, bool nanos, char *out, size_t outlen)
{
    struct tm tm;
    time_t t = ts->tv_sec;
    size_t n;

    if (ts->tv_sec == 0 && ts->tv_nsec == 0) {
        snprintf(out, outlen, "-");
        return;
    }
    if (!gmtime_r(&t, &tm)) {
        snprintf(out, outlen, "-");
        return;
    }
    n = strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n == 0) {
        snprintf(out, outlen, "-");
        return;
    }
    if (nanos && ts->tv_nsec)
        snprintf(out + n, outlen - n, ".%09ldZ", (long)ts->tv_nsec);
    else
        snprintf(out + n, outlen - n, "Z");
}

void cli_format_hash(const struct os_info *i, char *out, size_t outlen)
{
    char hex[2 * CRYPTO_MD5_LEN + 1];

    if (i->has_md5) {
        crypto_hex(i->md5, CRYPTO_MD5_LEN, hex);
        snprintf(out, outlen, "%s", hex);
    } else if (i->etag && i->etag[0]) {
        snprintf(out, outlen, "%s", i->etag);
    } else {
        snprintf(out, outlen, "-");
    }
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t m = strlen(suffix);

    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

int cli_entry_name(const struct os_info *i, const char *base, char **out, bool *is_dir)
{
    size_t blen = strlen(base);
    const char *rel;
    size_t n;
    bool dir = false;
    char *name;

    *out = NULL;
    *is_dir = false;
    if (!i->key || strncmp(i->key, base, blen) != 0)
        return 0;
    rel = i->key + blen;
    n = strlen(rel);
    if (i->is_prefix || i->is_dir_marker) {
        dir = true;
        if (ends_with(rel, n, "/"))
            n--;
        else if (i->is_dir_marker && ends_with(rel, n, FOLDER_SUFFIX))
            n -= strlen(FOLDER_SUFFIX);
    } else if (n > 0 && rel[n - 1] == '/') {
        /* an object whose key ends in '/' is a directory marker whatever its metadata */
        dir = true;
        n--;
    }
    if (n == 0)
        return 0; /* the listed directory's own marker */
    name = malloc(n + 2);
    if (!name)
        return -ENOMEM;
    memcpy(name, rel, n);
    if (dir)
        name[n++] = '/';
    name[n] = '\0';
    *out = name;
    *is_dir = dir;
    return 1;
}

int cli_format_ls_line(struct buf *b, const struct os_info *i, const char *name, bool is_dir,
                       bool long_fmt)
{
    char t[48], hash[80];

    if (!long_fmt)
        return buf_appendf(b, "%s\n", name);
    cli_format_time(&i->mtime, false, t, sizeof(t));
    if (is_dir)
        return buf_appendf(b, "-  %s  -  %s\n", t, name);
    cli_format_hash(i, hash, sizeof(hash));
    return buf_appendf(b, "%" PRId64 "  %s  %s  %s\n", i->size, t, hash, name);
}

/* A backend message without its leading "WHAT URL: " (the command line names the URL). */
static const char *strip_what(const char *msg)
{
    const char *scheme, *colon;

    if (!msg)
        return NULL;
    scheme = strstr(msg, "://");
    colon = strstr(msg, ": ");
    if (scheme && colon && colon > scheme) {
        colon = strstr(scheme, ": ");
        if (colon && colon[2])
            return colon + 2;
    }
    return msg;
}

/* The human cause for a failure, tailored to the backend where it helps. */
static void cause_text(char *out, size_t outlen, int err, const struct os_error *e,
                       const char *backend, const char *store_base, const char *endpoint)
{
    bool az = backend && strcmp(backend, "blob") == 0;
    int kind = e ? e->kind : OSE_NONE;
    const char *msg = e && e->message[0] ? strip_what(e->message) : NULL;
    const char *code = e && e->code[0] ? e->code : NULL;
    const char *what;

    switch (kind) {
    case OSE_NO_BUCKET:
        snprintf(out, outlen, "%s not found: %s", az ? "container" : "bucket",
                 store_base ? store_base : "?");
        break;
    case OSE_NOT_FOUND:
        snprintf(out, outlen, "%s not found", az ? "blob" : "object");
        break;
    case OSE_BAD_CREDENTIALS:
        if (az)
            snprintf(out, outlen, "bad credentials: %s: the server could not authenticate the "
                     "request: check the account key or SAS", code ? code : "AuthenticationFailed");
        else
            snprintf(out, outlen, "bad credentials: the server rejected the request signature "
                     "(%s): check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
                     code ? code : "SignatureDoesNotMatch");
        break;
    case OSE_ACCESS_DENIED:
        snprintf(out, outlen, "access denied: the credentials work but lack permission for this");
        break;
    case OSE_ARCHIVED:
        snprintf(out, outlen, "%s", az ? "blob is in the Archive tier: rehydrate it first"
                                       : "object is archived: restore it first");
        break;
    case OSE_UNREACHABLE:
    case OSE_TIMEOUT:
        what = kind == OSE_TIMEOUT ? "timed out" : "endpoint unreachable";
        if (msg && endpoint && strstr(msg, endpoint))
            snprintf(out, outlen, "%s: %s", what, msg);
        else
            snprintf(out, outlen, "%s: %s%s%s", what, endpoint ? endpoint : "?", msg ? ": " : "",
                     msg ? msg : "");
        break;
    case OSE_NONE:
        if (err == -ECONNREFUSED || err == -EHOSTUNREACH || err == -ENETUNREACH ||
            err == -ETIMEDOUT || err == -ECONNRESET) {
            snprintf(out, outlen, "endpoint unreachable: %s: %s", endpoint ? endpoint : "?",
                     strerror(-err));
            break;
        }
        snprintf(out, outlen, "%s", strerror(err < 0 ? -err : EIO));
        break;
    default:
        if (msg)
            snprintf(out, outlen, "%s", msg);
        else
            snprintf(out, outlen, "%s", os_errkind_str(kind));
        break;
    }
}

void cli_format_error(char *out, size_t outlen, const char *cmd, const char *url, int err,
                      const struct os_error *e, const char *backend, const char *store_base,
                      const char *endpoint)
{
    char cause[512];
    size_t n;

    if (outlen == 0)
        return;
    cause_text(cause, sizeof(cause), err, e, backend, store_base, endpoint);
    n = (size_t)snprintf(out, outlen, "%s%s%s: %s", cmd, url ? " " : "", url ? url : "", cause);
    if (n < outlen && e && e->kind != OSE_NONE && e->http_status > 0) {
        snprintf(out + n, outlen - n, " (HTTP %ld%s%s)", e->http_status, e->code[0] ? " " : "",
                 e->code);
    }
    log_redact(out, outlen);
}

int cli_fail(const char *cmd, const char *url, const struct cli_store *s, int err)
{
    const struct os_error *e = os_last_error();
    char line[1024];

    if (e && (e->err != err || e->kind == OSE_NONE))
        e = NULL; /* stale, or not from a backend */
    cli_format_error(line, sizeof(line), cmd, url, err, e, s ? s->backend : NULL,
                     s && s->st ? s->st->url_base : NULL, s ? s->endpoint : NULL);
    fprintf(stderr, "bridgefs: %s\n", line);
    return cli_exit_code(err, e ? e->kind : OSE_NONE);
}

int cli_failf(int code, const char *cmd, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    log_redact(line, sizeof(line));
    fprintf(stderr, "bridgefs: %s%s%s\n", cmd ? cmd : "", cmd ? ": " : "", line);
    return code;
}

int cli_put_key(const char *prefix, const char *file, char **out)
{
    size_t plen = strlen(prefix);
    const char *slash, *name;
    size_t flen;
    char *k;

    *out = NULL;
    if (plen > 0 && prefix[plen - 1] != '/') {
        *out = strdup(prefix);
        return *out ? 0 : -ENOMEM;
    }
    if (strcmp(file, "-") == 0)
        return -EINVAL;
    flen = strlen(file);
    while (flen > 1 && file[flen - 1] == '/')
        flen--;
    slash = memrchr(file, '/', flen);
    name = slash ? slash + 1 : file;
    flen -= (size_t)(name - file);
    if (flen == 0 || (flen == 1 && name[0] == '.') || (flen == 2 && !strncmp(name, "..", 2)) ||
        name[0] == '/')
        return -EINVAL;
    k = malloc(plen + flen + 1);
    if (!k)
        return -ENOMEM;
    memcpy(k, prefix, plen);
    memcpy(k + plen, name, flen);
    k[plen + flen] = '\0';
    *out = k;
    return 0;
}

bool cli_pid_alive(long pid)
{
    char path[64], line[512], *close_paren;
    bool alive;
    FILE *f;

    if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
        return false;
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    f = fopen(path, "r");
    if (!f)
        return true; /* no /proc: trust kill */
    alive = true;
    if (fgets(line, sizeof(line), f)) {
        close_paren = strrchr(line, ')'); /* the name may hold spaces and parentheses */
        if (close_paren && close_paren[1] == ' ' && (close_paren[2] == 'Z' || close_paren[2] == 'X'))
            alive = false;
    }
    fclose(f);
    return alive;
}
