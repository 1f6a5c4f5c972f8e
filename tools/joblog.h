/* joblog: a mirror run's copy log (JSON lines) and job-run summary (JSON), with counters. */
#ifndef BFS_TOOLS_JOBLOG_H
#define BFS_TOOLS_JOBLOG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct buf;

/* TransferResult values: Azure Storage Mover's, plus Deleted (mirror mode). */
enum joblog_result {
    JOBLOG_TRANSFERRED = 0,
    JOBLOG_NO_COPY, /* NoCopyNecessary */
    JOBLOG_EXCLUDED,
    JOBLOG_UNSUPPORTED,
    JOBLOG_FAILED,
    JOBLOG_DELETED,
    JOBLOG_NRESULTS,
};

/* Run counters: items[] and bytes[] by result, plus what the walk saw in the source. */
struct joblog_counters {
    uint64_t scanned, bytes_scanned;
    uint64_t items[JOBLOG_NRESULTS];
    uint64_t bytes[JOBLOG_NRESULTS];
};

/* What the summary says about the run; strings are copied at open. */
struct joblog_info {
    const char *job_id, *source, *target, *mode, *flags;
};

struct joblog;

/* The summary lists the first this many Unsupported items ("unsupportedItems": [{ItemPath,
 * Details}]); itemsUnsupported counts them all. */
#define JOBLOG_UNSUP_LIST 100

/*
 * Opens `<dir>/<job_id>.copylog.jsonl` (append) and writes `<job_id>.summary.json` with status
 * "Running". dir NULL: nothing is written (dry run), only counted. Creates dir (and parents).
 * 0 or -errno; *out is freed with joblog_free.
 */
int joblog_open(const char *dir, const struct joblog_info *info, struct joblog **out);
/* One source item seen by the walk (thread-safe). */
void joblog_scanned(struct joblog *jl, uint64_t bytes);
/* One copy-log line (one write(2), so a crash keeps every finished line) and its counter.
 * type 'F' or 'D'; status 0 or a positive errno; details may be NULL. Thread-safe. */
void joblog_item(struct joblog *jl, const char *path, char type, uint64_t size,
                 enum joblog_result res, int status, const char *details);
/* A snapshot of the counters. */
void joblog_get_counters(struct joblog *jl, struct joblog_counters *out);
/* Writes the final summary (atomically: temp file then rename) with status ("Succeeded",
 * "CompletedWithErrors", "Failed", "Canceled"). 0 or -errno. */
int joblog_finish(struct joblog *jl, const char *status);
/* The short human summary of the counters, several lines. */
void joblog_print_summary(struct joblog *jl, FILE *f);
/* Paths of the files written (NULL for a dry run); borrowed. */
const char *joblog_copylog_path(const struct joblog *jl);
const char *joblog_summary_path(const struct joblog *jl);
/* joblog_free(NULL) is a no-op. */
void joblog_free(struct joblog *jl);

/* ---- pure helpers ---- */

/* Appends s as a quoted JSON string. Valid UTF-8 passes through; '"', '\\' and control
 * characters are escaped; each byte of invalid UTF-8 becomes "\udcXX" (Python's
 * surrogateescape: json.loads then .encode('utf-8', 'surrogateescape') gives the bytes back).
 * 0 or the buf error. */
int joblog_json_escape(struct buf *b, const char *s);
/* Appends s for one line of text output: '\\' becomes "\\\\", '\n' "\\n", '\r' "\\r", '\t'
 * "\\t", other control bytes "\\xNN". 0 or the buf error. */
int joblog_text_escape(struct buf *b, const char *s);
/* RFC 3339 UTC with milliseconds, "2026-11-28T17:01:02.123Z"; out >= 32 bytes. */
void joblog_format_time(const struct timespec *ts, char *out, size_t outlen);
/* A run id "20261128T170102Z-1a2b3c4d" from a time and a random number; out >= 32 bytes. */
void joblog_make_id(time_t t, uint32_t rnd, char *out, size_t outlen);
/* true when id is usable as a file name part: 1-64 of [A-Za-z0-9._-], not starting with '.'. */
bool joblog_id_valid(const char *id);
/* The TransferResult name of res. */
const char *joblog_result_name(enum joblog_result res);

#endif
