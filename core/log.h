/* log: leveled logging that never prints a secret. */
#ifndef BFS_CORE_LOG_H
#define BFS_CORE_LOG_H

#include <stdio.h>

enum log_level { LOGL_ERROR = 0, LOGL_WARN, LOGL_INFO, LOGL_DEBUG, LOGL_TRACE };

/* Set once at start-up, before threads start. Default: LOGL_WARN to stderr. */
void log_set_level(int level);
int log_get_level(void);
/* Borrowed stream; NULL means stderr. */
void log_set_stream(FILE *f);
/* Parses "error|warn|info|debug|trace"; returns level or -1. */
int log_level_parse(const char *s);

/*
 * Registers a string that must never be printed (a secret key, SAS signature,
 * session token). Every message passes through log_redact() first. Copies s.
 * Strings shorter than 4 bytes are ignored.
 */
void log_add_secret(const char *s);

/*
 * Redacts in place: registered secrets, `Authorization:` header values,
 * `X-Amz-Signature=`, `X-Amz-Credential=`, `X-Amz-Security-Token=`, `sig=`
 * query values, `AccountKey=` and `SharedAccessSignature=` connection-string
 * values, and `x-amz-security-token:` header values become "[REDACTED]".
 * The result is never longer than the input plus what fits in `cap`.
 * Returns s.
 */
char *log_redact(char *s, size_t cap);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOGL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOGL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOGL_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_get_level() >= LOGL_DEBUG) log_msg(LOGL_DEBUG, __VA_ARGS__); } while (0)
#define log_trace(...) do { if (log_get_level() >= LOGL_TRACE) log_msg(LOGL_TRACE, __VA_ARGS__); } while (0)

#endif
