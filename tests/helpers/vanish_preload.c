/* vanish_preload: LD_PRELOAD fault injection: a named file disappears just as a program opens or stats it. */
/* Both the plain and the 64-bit names are defined here, so the headers must not alias them. */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * For tests of "a file that vanishes during the walk": another process deleting the file at
 * the right moment would be a race, so the file is deleted by the very call that is about to
 * use it. BFS_VANISH_OPEN=NAME: open/openat of a path whose last component is NAME unlinks it
 * first (the open then fails with ENOENT). BFS_VANISH_STAT=NAME: the same for fstatat.
 * Everything else passes through to the next definition (libc, or a sanitizer's).
 */

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');

    return s ? s + 1 : p;
}

static void maybe_vanish(const char *var, int dirfd, const char *path)
{
    const char *name = getenv(var);

    if (name && *name && path && strcmp(base_name(path), name) == 0)
        unlinkat(dirfd, path, 0);
}

static int open_mode(int flags, va_list ap)
{
    return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE ? va_arg(ap, int) : 0;
}

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

/* open(path, flags, ...) and open64: the same wrapper twice. */
#define WRAP_OPEN(fn)                                                                  \
    int fn(const char *path, int flags, ...)                                           \
    {                                                                                  \
        va_list ap;                                                                    \
        int mode;                                                                      \
        va_start(ap, flags);                                                           \
        mode = open_mode(flags, ap);                                                   \
        va_end(ap);                                                                    \
        maybe_vanish("BFS_VANISH_OPEN", AT_FDCWD, path);                               \
        return NEXT(fn)(path, flags, mode);                                            \
    }

/* openat(dirfd, path, flags, ...) and openat64. */
#define WRAP_OPENAT(fn)                                                                \
    int fn(int dirfd, const char *path, int flags, ...)                                \
    {                                                                                  \
        va_list ap;                                                                    \
        int mode;                                                                      \
        va_start(ap, flags);                                                           \
        mode = open_mode(flags, ap);                                                   \
        va_end(ap);                                                                    \
        maybe_vanish("BFS_VANISH_OPEN", dirfd, path);                                  \
        return NEXT(fn)(dirfd, path, flags, mode);                                     \
    }

WRAP_OPEN(open)
WRAP_OPEN(open64)
WRAP_OPENAT(openat)
WRAP_OPENAT(openat64)

int fstatat(int dirfd, const char *path, struct stat *st, int flags)
{
    maybe_vanish("BFS_VANISH_STAT", dirfd, path);
    return NEXT(fstatat)(dirfd, path, st, flags);
}

int fstatat64(int dirfd, const char *path, struct stat64 *st, int flags)
{
    maybe_vanish("BFS_VANISH_STAT", dirfd, path);
    return NEXT(fstatat64)(dirfd, path, st, flags);
}
