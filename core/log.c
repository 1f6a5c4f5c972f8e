/* log: leveled, thread-safe, one-line logging with secret redaction. */
#include "core/log.h"

#include <ctype.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>

#include "core/buf.h"
#include "core/url.h"

#define LOG_REDACTED "[REDACTED]"
#define LOG_MAX_SECRETS 64

static int log_level = LOGL_WARN;
static FILE *log_stream;
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

/* Registered secrets, guarded by log_mu; owned, never freed (process lifetime). */
static char *log_secrets[LOG_MAX_SECRETS];
static size_t log_n_secrets;

void log_set_level(int level)
{
    if (level < LOGL_ERROR)
        level = LOGL_ERROR;
    if (level > LOGL_TRACE)
        level = LOGL_TRACE;
    __atomic_store_n(&log_level, level, __ATOMIC_RELAXED);
}

int log_get_level(void)
{
    return __atomic_load_n(&log_level, __ATOMIC_RELAXED);
}

void log_set_stream(FILE *f)
{
    pthread_mutex_lock(&log_mu);
    log_stream = f;
    pthread_mutex_unlock(&log_mu);
}

int log_level_parse(const char *s)
{
    static const char *const names[] = {"error", "warn", "info", "debug", "trace"};
    size_t i;

    if (!s)
        return -1;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strcasecmp(s, names[i]) == 0)
            return (int)i;
    if (strcasecmp(s, "warning") == 0)
        return LOGL_WARN;
    return -1;
}

static void log_add_secret_one(const char *s)
{
    size_t i;
    char *copy;

    for (i = 0; i < log_n_secrets; i++)
        if (strcmp(log_secrets[i], s) == 0)
            return;
    if (log_n_secrets >= LOG_MAX_SECRETS)
        return;
    copy = strdup(s);
    if (copy)
        log_secrets[log_n_secrets++] = copy;
}

void log_add_secret(const char *s)
{
    struct buf enc;

    if (!s || strlen(s) < 4)
        return;
    buf_init(&enc, 4 * strlen(s) + 16);
    /* Also the percent-encoded form, as the secret appears inside URLs. */
    (void)url_encode_append(&enc, s, false);
    pthread_mutex_lock(&log_mu);
    log_add_secret_one(s);
    if (enc.len && strcmp(buf_str(&enc), s) != 0)
        log_add_secret_one(buf_str(&enc));
    pthread_mutex_unlock(&log_mu);
    buf_free(&enc);
}

/* A redaction rule: a key, and the characters that end its value. */
struct log_rule {
    const char *key;
    const char *stop;     /* value ends at one of these or NUL */
    bool need_boundary;   /* key must not follow a letter/digit/'-'/'_' */
};

static const struct log_rule log_rules[] = {
    {"Authorization:", "\r\n", true},
    {"x-amz-security-token:", "\r\n", true},
    {"X-Amz-Signature=", "&# \t\r\n\"'", true},
    {"X-Amz-Credential=", "&# \t\r\n\"'", true},
    {"X-Amz-Security-Token=", "&# \t\r\n\"'", true},
    {"sig=", "&# \t\r\n\"';", true},
    {"AccountKey=", "; \t\r\n\"'", true},
    {"SharedAccessSignature=", "; \t\r\n\"'", true},
};

static bool log_is_word(char c)
{
    return isalnum((unsigned char)c) || c == '-' || c == '_';
}

/* Length of the matching rule key at s (0 when none); *rule gets the rule. */
static size_t log_match_rule(const char *start, const char *s, const struct log_rule **rule)
{
    size_t i, kl;

    for (i = 0; i < sizeof(log_rules) / sizeof(log_rules[0]); i++) {
        kl = strlen(log_rules[i].key);
        if (strncasecmp(s, log_rules[i].key, kl) != 0)
            continue;
        if (log_rules[i].need_boundary && s > start && log_is_word(s[-1]))
            continue;
        *rule = &log_rules[i];
        return kl;
    }
    return 0;
}

/* Length of the registered secret at s (longest), or 0. Caller holds log_mu. */
static size_t log_match_secret(const char *s)
{
    size_t i, l, best = 0;

    for (i = 0; i < log_n_secrets; i++) {
        l = strlen(log_secrets[i]);
        if (l > best && strncmp(s, log_secrets[i], l) == 0)
            best = l;
    }
    return best;
}

/* Writes the redacted form of s into out. Caller holds log_mu. */
static int log_redact_into(const char *s, struct buf *out)
{
    const char *p = s;
    const struct log_rule *rule = NULL;
    size_t kl, vl;
    int rc = 0;

    while (*p && rc == 0) {
        kl = log_match_rule(s, p, &rule);
        if (kl) {
            rc = buf_append(out, p, kl);
            p += kl;
            /* Keep a leading space of header values and an auth scheme word. */
            while (*p == ' ' && rc == 0) {
                rc = buf_append(out, p, 1);
                p++;
            }
            vl = strcspn(p, rule->stop);
            if (vl) {
                if (rc == 0)
                    rc = buf_appends(out, LOG_REDACTED);
                p += vl;
            }
            continue;
        }
        vl = log_match_secret(p);
        if (vl) {
            rc = buf_appends(out, LOG_REDACTED);
            p += vl;
            continue;
        }
        rc = buf_append(out, p, 1);
        p++;
    }
    return rc;
}

/* Fallback when memory is short: masks every rule value and secret in place. */
static void log_mask_in_place(char *s)
{
    char *p = s;
    const struct log_rule *rule = NULL;
    size_t kl, vl;

    while (*p) {
        kl = log_match_rule(s, p, &rule);
        if (kl) {
            p += kl;
            vl = strcspn(p, rule->stop);
            memset(p, '*', vl);
            p += vl;
            continue;
        }
        vl = log_match_secret(p);
        if (vl) {
            memset(p, '*', vl);
            p += vl;
            continue;
        }
        p++;
    }
}

char *log_redact(char *s, size_t cap)
{
    struct buf out;
    size_t n;

    if (!s || cap == 0)
        return s;
    buf_init(&out, 3 * strlen(s) + 64);
    pthread_mutex_lock(&log_mu);
    if (log_redact_into(s, &out) != 0) {
        log_mask_in_place(s);
        pthread_mutex_unlock(&log_mu);
        buf_free(&out);
        return s;
    }
    pthread_mutex_unlock(&log_mu);
    n = out.len < cap - 1 ? out.len : cap - 1;
    memcpy(s, buf_str(&out), n);
    s[n] = '\0';
    buf_free(&out);
    return s;
}

static const char *log_level_name(int level)
{
    static const char *const names[] = {"ERROR", "WARN", "INFO", "DEBUG", "TRACE"};

    if (level < 0 || level > LOGL_TRACE)
        return "LOG";
    return names[level];
}

void log_msg(int level, const char *fmt, ...)
{
    char stack[1024];
    char *msg = stack, *heap = NULL, *p;
    size_t cap = sizeof(stack);
    struct timeval tv;
    struct tm tm;
    char ts[96];
    va_list ap;
    int n;

    if (level > log_get_level())
        return;
    va_start(ap, fmt);
    n = vsnprintf(stack, sizeof(stack), fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n * 3 + 64 > sizeof(stack)) {
        cap = (size_t)n * 3 + 64;
        heap = malloc(cap);
        if (heap) {
            va_start(ap, fmt);
            vsnprintf(heap, cap, fmt, ap);
            va_end(ap);
            msg = heap;
        } else {
            cap = sizeof(stack);
        }
    }
    log_redact(msg, cap);
    for (p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (long)(tv.tv_usec / 1000));
    pthread_mutex_lock(&log_mu);
    fprintf(log_stream ? log_stream : stderr, "%s %s %s\n", ts, log_level_name(level), msg);
    fflush(log_stream ? log_stream : stderr);
    pthread_mutex_unlock(&log_mu);
    free(heap);
}
