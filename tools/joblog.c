/* joblog: a mirror run's copy log (JSON lines) and job-run summary (JSON), with counters. */
#include "tools/joblog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"

#define LINE_MAX_BYTES (64 * 1024)
#define UNSUP_MAX_BYTES (512 * 1024) /* the summary's list of Unsupported items */

struct joblog {
    pthread_mutex_t mu; /* guards c and the copy-log fd writes */
    struct joblog_counters c;
    int fd;                  /* copy log, -1 for a dry run */
    char *copylog, *summary; /* paths, NULL for a dry run */
    char *id, *source, *target, *mode, *flags;
    struct timespec start;
    struct buf unsup; /* the first JOBLOG_UNSUP_LIST Unsupported items, JSON objects, for the
                       * summary; guarded by mu */
};

static const char *result_names[JOBLOG_NRESULTS] = {
    "Transferred", "NoCopyNecessary", "Excluded", "Unsupported", "Failed", "Deleted",
};

const char *joblog_result_name(enum joblog_result res)
{
    return (unsigned)res < JOBLOG_NRESULTS ? result_names[res] : "Failed";
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when the bytes are not valid UTF-8. */
static size_t utf8_len(const unsigned char *s)
{
    unsigned char c = s[0];

    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (s[1] & 0xC0) == 0x80 ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        if (s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        if (s[1] < lo || s[1] > hi || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
            return 0;
        return 4;
    }
    return 0;
}

int joblog_json_escape(struct buf *b, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    int rc = buf_append(b, "\"", 1);

    while (rc == 0 && *s) {
        size_t n = utf8_len(s);
        unsigned char c = *s;

        if (n == 0) {
            rc = buf_appendf(b, "\\udc%02x", c);
            s++;
            continue;
        }
        if (n > 1) {
            rc = buf_append(b, s, n);
        } else if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            rc = buf_append(b, e, 2);
        } else if (c == '\n') {
            rc = buf_appends(b, "\\n");
        } else if (c == '\r') {
            rc = buf_appends(b, "\\r");
        } else if (c == '\t') {
            rc = buf_appends(b, "\\t");
        } else if (c < 0x20 || c == 0x7f) {
            rc = buf_appendf(b, "\\u%04x", c);
        } else {
            rc = buf_append(b, s, 1);
        }
        s += n;
    }
    if (rc == 0)
        rc = buf_append(b, "\"", 1);
    return rc;
}

int joblog_text_escape(struct buf *b, const char *str)
{
    const unsigned char *s = (const unsigned char *)str;
    int rc = 0;

    for (; rc == 0 && *s; s++) {
        if (*s == '\\')
            rc = buf_appends(b, "\\\\");
        else if (*s == '\n')
            rc = buf_appends(b, "\\n");
        else if (*s == '\r')
            rc = buf_appends(b, "\\r");
        else if (*s == '\t')
            rc = buf_appends(b, "\\t");
        else if (*s < 0x20 || *s == 0x7f)
            rc = buf_appendf(b, "\\x%02x", *s);
        else
            rc = buf_append(b, s, 1);
    }
    return rc;
}

void joblog_format_time(const struct timespec *ts, char *out, size_t outlen)
{
    struct tm tm;
    time_t t = ts->tv_sec;
    size_t n;

    n = gmtime_r(&t, &tm) ? strftime(out, outlen, "%Y-%m-%dT%H:%M:%S", &tm) : 0;
    if (n == 0) {
        snprintf(out, outlen, "-");
        return;
    }
    snprintf(out + n, outlen - n, ".%03ldZ", (long)(ts->tv_nsec / 1000000));
}

void joblog_make_id(time_t t, uint32_t rnd, char *out, size_t outlen)
{
    struct tm tm;
    size_t n = 0;

    if (gmtime_r(&t, &tm))
        n = strftime(out, outlen, "%Y%m%dT%H%M%SZ", &tm);
    snprintf(out + n, outlen - n, "-%08" PRIx32, rnd);
}

bool joblog_id_valid(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > 64 || id[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* mkdir -p; 0 or -errno. */
static int mkdir_p(const char *dir)
{
    char tmp[PATH_MAX];
    size_t n = strlen(dir);

    if (n == 0 || n >= sizeof(tmp))
        return -ENAMETOOLONG;
    memcpy(tmp, dir, n + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
            return -errno;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -errno;
    return 0;
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int write_summary(struct joblog *jl, const char *status)
{
    struct joblog_counters c;
    struct timespec end;
    char ts0[40], ts1[40], *tmp = NULL;
    struct buf b;
    static const char *keys[JOBLOG_NRESULTS] = {
        "Transferred", "NoTransferNeeded", "Excluded", "Unsupported", "Failed", "Deleted",
    };
    int fd = -1, rc;
    double dur;

    if (!jl->summary)
        return 0;
    clock_gettime(CLOCK_REALTIME, &end);
    joblog_get_counters(jl, &c);
    joblog_format_time(&jl->start, ts0, sizeof(ts0));
    joblog_format_time(&end, ts1, sizeof(ts1));
    dur = (double)(end.tv_sec - jl->start.tv_sec) + (end.tv_nsec - jl->start.tv_nsec) / 1e9;
    buf_init(&b, (1 << 20) + UNSUP_MAX_BYTES);
    rc = buf_appends(&b, "{\n  \"jobId\": ");
    rc = rc ? rc : joblog_json_escape(&b, jl->id);
    rc = rc ? rc : buf_appends(&b, ",\n  \"source\": ");
    rc = rc ? rc : joblog_json_escape(&b, jl->source);
    rc = rc ? rc : buf_appends(&b, ",\n  \"target\": ");
    rc = rc ? rc : joblog_json_escape(&b, jl->target);
    rc = rc ? rc : buf_appends(&b, ",\n  \"mode\": ");
    rc = rc ? rc : joblog_json_escape(&b, jl->mode);
    rc = rc ? rc : buf_appends(&b, ",\n  \"flags\": ");
    rc = rc ? rc : joblog_json_escape(&b, jl->flags);
    rc = rc ? rc : buf_appends(&b, ",\n  \"copyLog\": ");
    rc = rc ? rc : joblog_json_escape(&b, jl->copylog);
    rc = rc ? rc : buf_appendf(&b, ",\n  \"itemsScanned\": %" PRIu64, c.scanned);
    for (int i = 0; rc == 0 && i < JOBLOG_NRESULTS; i++)
        rc = buf_appendf(&b, ",\n  \"items%s\": %" PRIu64, keys[i], c.items[i]);
    rc = rc ? rc : buf_appendf(&b, ",\n  \"bytesScanned\": %" PRIu64, c.bytes_scanned);
    for (int i = 0; rc == 0 && i < JOBLOG_NRESULTS; i++)
        rc = buf_appendf(&b, ",\n  \"bytes%s\": %" PRIu64, keys[i], c.bytes[i]);
    pthread_mutex_lock(&jl->mu);
    rc = rc ? rc : buf_appends(&b, ",\n  \"unsupportedItems\": [");
    rc = rc || !jl->unsup.len ? rc : buf_append(&b, jl->unsup.data, jl->unsup.len);
    rc = rc ? rc : buf_appends(&b, jl->unsup.len ? "\n  ]" : "]");
    pthread_mutex_unlock(&jl->mu);
    rc = rc ? rc : buf_appends(&b, ",\n  \"status\": ");
    rc = rc ? rc : joblog_json_escape(&b, status);
    rc = rc ? rc
            : buf_appendf(&b,
                          ",\n  \"startTime\": \"%s\",\n  \"endTime\": \"%s\",\n"
                          "  \"durationSeconds\": %.3f\n}\n",
                          ts0, ts1, dur);
    if (rc < 0)
        goto out;
    if (asprintf(&tmp, "%s.tmp", jl->summary) < 0) {
        tmp = NULL;
        rc = -ENOMEM;
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = -errno;
        goto out;
    }
    rc = write_all(fd, b.data, b.len);
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    fd = -1;
    if (rc == 0 && rename(tmp, jl->summary) != 0)
        rc = -errno;
out:
    if (rc < 0 && tmp)
        unlink(tmp);
    free(tmp);
    buf_free(&b);
    return rc;
}

void joblog_free(struct joblog *jl)
{
    if (!jl)
        return;
    if (jl->fd >= 0)
        close(jl->fd);
    pthread_mutex_destroy(&jl->mu);
    buf_free(&jl->unsup);
    free(jl->copylog);
    free(jl->summary);
    free(jl->id);
    free(jl->source);
    free(jl->target);
    free(jl->mode);
    free(jl->flags);
    free(jl);
}

int joblog_open(const char *dir, const struct joblog_info *info, struct joblog **out)
{
    struct joblog *jl;
    int rc = 0;

    *out = NULL;
    jl = calloc(1, sizeof(*jl));
    if (!jl)
        return -ENOMEM;
    pthread_mutex_init(&jl->mu, NULL);
    buf_init(&jl->unsup, UNSUP_MAX_BYTES);
    jl->fd = -1;
    clock_gettime(CLOCK_REALTIME, &jl->start);
    jl->id = strdup(info->job_id ? info->job_id : "");
    jl->source = strdup(info->source ? info->source : "");
    jl->target = strdup(info->target ? info->target : "");
    jl->mode = strdup(info->mode ? info->mode : "");
    jl->flags = strdup(info->flags ? info->flags : "");
    if (!jl->id || !jl->source || !jl->target || !jl->mode || !jl->flags) {
        rc = -ENOMEM;
        goto out;
    }
    if (!dir)
        goto out;
    rc = mkdir_p(dir);
    if (rc < 0)
        goto out;
    if (asprintf(&jl->copylog, "%s/%s.copylog.jsonl", dir, jl->id) < 0 ||
        asprintf(&jl->summary, "%s/%s.summary.json", dir, jl->id) < 0) {
        jl->copylog = jl->summary = NULL;
        rc = -ENOMEM;
        goto out;
    }
    jl->fd = open(jl->copylog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (jl->fd < 0) {
        rc = -errno;
        goto out;
    }
    rc = write_summary(jl, "Running");
out:
    if (rc < 0)
        joblog_free(jl);
    else
        *out = jl;
    return rc;
}

void joblog_scanned(struct joblog *jl, uint64_t bytes)
{
    pthread_mutex_lock(&jl->mu);
    jl->c.scanned++;
    jl->c.bytes_scanned += bytes;
    pthread_mutex_unlock(&jl->mu);
}

/* Appends one Unsupported item to the summary's list; a failure (too long) leaves it out. */
static void unsup_add(struct buf *u, const char *path, const char *details)
{
    size_t len = u->len;
    int rc = buf_appends(u, u->len ? ",\n    {\"ItemPath\": " : "\n    {\"ItemPath\": ");

    rc = rc ? rc : joblog_json_escape(u, path);
    rc = rc ? rc : buf_appends(u, ", \"Details\": ");
    rc = rc ? rc : joblog_json_escape(u, details ? details : "");
    rc = rc ? rc : buf_appends(u, "}");
    if (rc < 0)
        u->len = len;
}

void joblog_item(struct joblog *jl, const char *path, char type, uint64_t size,
                 enum joblog_result res, int status, const char *details)
{
    struct buf b;
    struct timespec now;
    char ts[40];
    int rc;

    if ((unsigned)res >= JOBLOG_NRESULTS)
        res = JOBLOG_FAILED;
    buf_init(&b, LINE_MAX_BYTES);
    if (jl->fd >= 0) {
        clock_gettime(CLOCK_REALTIME, &now);
        joblog_format_time(&now, ts, sizeof(ts));
        rc = buf_appends(&b, "{\"ItemPath\":");
        rc = rc ? rc : joblog_json_escape(&b, path);
        rc = rc ? rc
                : buf_appendf(&b,
                              ",\"ItemType\":\"%c\",\"FileSize\":%" PRIu64
                              ",\"TransferResult\":\"%s\",\"StatusCode\":%d,\"Details\":",
                              type, size, result_names[res], status);
        rc = rc ? rc : joblog_json_escape(&b, details ? details : "");
        rc = rc ? rc : buf_appendf(&b, ",\"TimeGenerated\":\"%s\"}\n", ts);
        if (rc < 0) {
            buf_reset(&b);
            buf_appendf(&b,
                        "{\"ItemPath\":\"?\",\"TransferResult\":\"%s\",\"Details\":"
                        "\"log line too long\"}\n",
                        result_names[res]);
        }
    }
    pthread_mutex_lock(&jl->mu);
    if (res == JOBLOG_UNSUPPORTED && jl->c.items[res] < JOBLOG_UNSUP_LIST)
        unsup_add(&jl->unsup, path, details);
    jl->c.items[res]++;
    jl->c.bytes[res] += size;
    if (jl->fd >= 0 && b.len > 0)
        (void)write_all(jl->fd, b.data, b.len);
    pthread_mutex_unlock(&jl->mu);
    buf_free(&b);
}

void joblog_get_counters(struct joblog *jl, struct joblog_counters *out)
{
    pthread_mutex_lock(&jl->mu);
    *out = jl->c;
    pthread_mutex_unlock(&jl->mu);
}

int joblog_finish(struct joblog *jl, const char *status)
{
    return write_summary(jl, status);
}

void joblog_print_summary(struct joblog *jl, FILE *f)
{
    struct joblog_counters c;

    joblog_get_counters(jl, &c);
    fprintf(f,
            "scanned %" PRIu64 " items (%" PRIu64 " bytes): %" PRIu64 " transferred (%" PRIu64
            " bytes), %" PRIu64 " unchanged, %" PRIu64 " deleted, %" PRIu64 " excluded, %" PRIu64
            " unsupported, %" PRIu64 " failed\n",
            c.scanned, c.bytes_scanned, c.items[JOBLOG_TRANSFERRED], c.bytes[JOBLOG_TRANSFERRED],
            c.items[JOBLOG_NO_COPY], c.items[JOBLOG_DELETED], c.items[JOBLOG_EXCLUDED],
            c.items[JOBLOG_UNSUPPORTED], c.items[JOBLOG_FAILED]);
    if (jl->summary)
        fprintf(f, "job %s: copy log %s, summary %s\n", jl->id, jl->copylog, jl->summary);
}

const char *joblog_copylog_path(const struct joblog *jl)
{
    return jl->copylog;
}

const char *joblog_summary_path(const struct joblog *jl)
{
    return jl->summary;
}
