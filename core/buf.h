/* buf: growable byte buffer with a size cap fixed at init (after curl's dynbuf). */
#ifndef BFS_CORE_BUF_H
#define BFS_CORE_BUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * A buffer owns `data`. `data` is always NUL-terminated when non-NULL (the NUL
 * is not counted in `len`). Appends that would make `len` exceed `max` fail with
 * -E2BIG and leave the buffer unchanged, so a hostile peer cannot make us
 * allocate without bound.
 */
struct buf {
    char *data;
    size_t len;
    size_t cap;
    size_t max;
};

void buf_init(struct buf *b, size_t max);
/* 0, -E2BIG when over the cap, -ENOMEM. */
int buf_append(struct buf *b, const void *p, size_t n);
int buf_appends(struct buf *b, const char *s);
int buf_appendf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int buf_vappendf(struct buf *b, const char *fmt, va_list ap);
/* Keeps the allocation, sets len to 0. */
void buf_reset(struct buf *b);
/* Frees the data; the buffer can be reused after buf_init. buf_free(NULL) is a no-op. */
void buf_free(struct buf *b);
/* Takes ownership of the NUL-terminated data (never NULL: "" when empty, or NULL on
 * allocation failure); the buffer is left empty. Caller frees with free(). */
char *buf_take(struct buf *b);
/* The contents as a C string ("" when empty); borrowed. */
const char *buf_str(const struct buf *b);

#endif
