/* progress: counters of a running job and the progress line (in place on a terminal). */
#ifndef BFS_TOOLS_PROGRESS_H
#define BFS_TOOLS_PROGRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct progress;

/* Display modes: none (counters only), in place with '\r' (a terminal), or a plain line
 * every few seconds. */
enum progress_show { PROGRESS_NONE = 0, PROGRESS_TTY, PROGRESS_LINES };

/* Starts the display thread (none for PROGRESS_NONE) writing to f (borrowed). NULL on ENOMEM.
 * The thread also calls tick(arg) about every 200 ms when tick is not NULL (e.g. to notice a
 * signal). */
struct progress *progress_start(enum progress_show show, FILE *f, void (*tick)(void *), void *arg);
/* Thread-safe updates. */
void progress_scanned(struct progress *p, uint64_t bytes);
void progress_done(struct progress *p, uint64_t bytes);
/* Bytes of an item in flight; call progress_unflight with the same total when it ends. */
void progress_copied(struct progress *p, uint64_t n);
void progress_unflight(struct progress *p, uint64_t n);
/* Stops the thread, clears the in-place line; progress_stop(NULL) is a no-op. */
void progress_stop(struct progress *p);

/* ---- pure formatting (unit-tested) ---- */

/* "0 B", "1023 B", "1.0 KiB", "12.3 MiB", "4.00 GiB" (3 significant digits). out >= 16. */
void progress_format_bytes(uint64_t n, char *out, size_t outlen);
/* ETA: "--" when unknown (negative, NaN, inf, > 99 days), "42s", "3m05s", "1h02m", "3d04h". */
void progress_format_eta(double seconds, char *out, size_t outlen);
/* ETA seconds for `remaining` bytes at `rate` bytes/s; -1 when rate <= 0. */
double progress_eta(uint64_t remaining, double rate);
/* The whole line, without newline: "items D/S  bytes D/S  RATE/s  ETA E". */
void progress_format_line(uint64_t items_done, uint64_t items_scanned, uint64_t bytes_done,
                          uint64_t bytes_scanned, double rate, char *out, size_t outlen);

#endif
