/* cli: the bridgefs subcommands, their shared context, and the pure helpers they use. */
#ifndef BFS_TOOLS_CLI_H
#define BFS_TOOLS_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct http_client;
struct os_info;
struct os_error;
struct buf;
struct cli_store;

/* Read-only after start-up; passed to every command. */
struct cli_ctx {
    struct http_client *hc; /* one per process, shared by every store; borrowed */
};

/* The commands. argv[0] is the command name; options follow. Each returns an exit code
 * (tools/exitcodes.h) and prints its own errors on stderr. */
int cli_cmd_ls(const struct cli_ctx *c, int argc, char **argv);
int cli_cmd_stat(const struct cli_ctx *c, int argc, char **argv);
int cli_cmd_cat(const struct cli_ctx *c, int argc, char **argv);
int cli_cmd_put(const struct cli_ctx *c, int argc, char **argv);
int cli_cmd_rm(const struct cli_ctx *c, int argc, char **argv);
int cli_cmd_mb(const struct cli_ctx *c, int argc, char **argv);

/* Prints the usage text of the whole program (cmd NULL) or of one command to f. */
void cli_usage(FILE *f, const char *cmd);

/*
 * Prints "bridgefs: CMD URL: cause" for a failed operation (err < 0) using the
 * calling thread's os_last_error(), and returns the exit code. s may be NULL.
 */
int cli_fail(const char *cmd, const char *url, const struct cli_store *s, int err);
/* Prints "bridgefs: CMD: message" (printf format) and returns code. */
int cli_failf(int code, const char *cmd, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- pure helpers (unit-tested in tests/unit/test_tools.c) ---- */

/* "START-END" (inclusive) or "START-": *off = START, *len = END-START+1 or -1. 0 or -EINVAL. */
int cli_parse_range(const char *s, int64_t *off, int64_t *len);
/* "KEY=VALUE" into malloc'd *key (lowercased) and *value. The key must be non-empty and
 * made of letters, digits, '-' and '_'. 0, -EINVAL or -ENOMEM; the caller frees both. */
int cli_parse_meta(const char *s, char **key, char **value);
/* A byte count: digits with an optional K, M, G, T suffix (powers of 1024, optional
 * "iB" or "B"). 0 or -EINVAL (also on overflow or zero). */
int cli_parse_size(const char *s, uint64_t *out);
/* Seconds since the epoch, integer or decimal ("1714979289" or "1714979289.5"). 0 or -EINVAL. */
int cli_parse_epoch(const char *s, struct timespec *out);

/* UTC "YYYY-MM-DDTHH:MM:SSZ"; with nanos and a non-zero tv_nsec, "...SS.nnnnnnnnnZ".
 * A zero timespec gives "-". out must hold at least 32 bytes. */
void cli_format_time(const struct timespec *ts, bool nanos, char *out, size_t outlen);
/* MD5 in hex when known, else the ETag, else "-". out must hold at least 33 bytes. */
void cli_format_hash(const struct os_info *i, char *out, size_t outlen);

/*
 * Name of a listing entry relative to `base` (the listed prefix, "" or ending in '/').
 * Prefixes and directory markers ("d/", "d_$folder$", hdi_isfolder "d") become "d/".
 * Returns 1 with a malloc'd *out (caller frees) and *is_dir, 0 when the entry must not
 * be shown (the listed directory's own marker, or a key outside base), -ENOMEM.
 */
int cli_entry_name(const struct os_info *i, const char *base, char **out, bool *is_dir);
/* Appends one `ls` line (no newline handling besides the final '\n'): the name alone, or
 * with long_fmt "SIZE  MTIME  HASH  NAME" (dirs: "-" for size and hash). 0 or -errno. */
int cli_format_ls_line(struct buf *b, const struct os_info *i, const char *name, bool is_dir,
                       bool long_fmt);

/*
 * The error line without the "bridgefs: " program prefix and without a newline:
 * "CMD URL: cause[: detail] (HTTP status code)". backend is "s3" or "blob" (or NULL),
 * store_base e.g. "s3://bucket", endpoint the service URL (for unreachable). Secrets
 * registered with the log are redacted.
 */
void cli_format_error(char *out, size_t outlen, const char *cmd, const char *url, int err,
                      const struct os_error *e, const char *backend, const char *store_base,
                      const char *endpoint);

/* Key for `put FILE URL-prefix`: prefix ending in '/' (or "") gets FILE's base name,
 * otherwise the prefix itself. -EINVAL when a name is needed but FILE is "-" or has
 * none. *out malloc'd, caller frees. */
int cli_put_key(const char *prefix, const char *file, char **out);

/* Whether process pid still runs: it exists (kill 0 does not say ESRCH) and is not a zombie
 * waiting for its parent (a daemon's parent is init, which may reap it late). */
bool cli_pid_alive(long pid);

#endif
