/* mirror_copy: the copy workers of a mirror run: files and symlinks with mtime, mode, xattrs. */
#include "tools/mirror_int.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "core/log.h"
#include "tools/joblog.h"
#include "tools/mirror.h"
#include "tools/progress.h"

#define COPY_CHUNK (1024 * 1024) /* a FUSE mount takes writes of up to 1 MiB in one request */
#define TMP_NAME_KEEP 200 /* bytes of the item's name kept in its temp name */
#define XATTR_LIST_MAX_ (64 * 1024)
#define XATTR_VALUE_MAX (64 * 1024)

/* Result of one copy: errno (positive) and a static description of the failing step. */
struct copy_err {
    int err;
    const char *step;
};

static void set_err(struct copy_err *e, int err, const char *step)
{
    if (e->err == 0) {
        e->err = err;
        e->step = step;
    }
}

static void warn_xattr_once(struct mirror_run *r, int err)
{
    bool was = atomic_exchange(&r->xattr_warned, true);

    if (!was)
        log_warn("mirror: the target does not keep extended attributes (%s); user metadata "
                 "is not copied",
                 strerror(err));
}

/* Copies user.* but not user.bridgefs.* xattrs from sfd (or spath when sfd < 0) to dfd. */
static int copy_xattrs(struct mirror_run *r, int sfd, const char *spath, int dfd)
{
    char *list = NULL, *val = NULL;
    ssize_t n;
    int rc = 0;

    n = sfd >= 0 ? flistxattr(sfd, NULL, 0) : llistxattr(spath, NULL, 0);
    if (n <= 0)
        return 0; /* none, or the source has no xattr support */
    if (n > XATTR_LIST_MAX_)
        n = XATTR_LIST_MAX_;
    list = malloc((size_t)n);
    val = malloc(XATTR_VALUE_MAX);
    if (!list || !val) {
        rc = -ENOMEM;
        goto out;
    }
    n = sfd >= 0 ? flistxattr(sfd, list, (size_t)n) : llistxattr(spath, list, (size_t)n);
    if (n < 0)
        goto out;
    for (char *name = list; name < list + n; name += strlen(name) + 1) {
        ssize_t vn;
        if (strncmp(name, "user.", 5) != 0 || strncmp(name, "user.bridgefs.", 14) == 0)
            continue;
        vn = sfd >= 0 ? fgetxattr(sfd, name, val, XATTR_VALUE_MAX)
                      : lgetxattr(spath, name, val, XATTR_VALUE_MAX);
        if (vn < 0)
            continue; /* vanished or too large: skip that one */
        if (fsetxattr(dfd, name, val, (size_t)vn, 0) != 0) {
            if (errno == ENOTSUP || errno == EOPNOTSUPP || errno == ENOSYS) {
                warn_xattr_once(r, errno);
                break;
            }
            rc = -errno;
            break;
        }
    }
out:
    free(list);
    free(val);
    return rc;
}

int mirror_copy_xattrs_path(struct mirror_run *r, const char *spath, int dfd)
{
    return copy_xattrs(r, -1, spath, dfd);
}

/* "<dir of dpath>/.bridgefs.tmp.<name>.<hex>"; malloc'd, NULL on ENOMEM. */
static char *temp_name(struct mirror_run *r, const char *dpath)
{
    const char *slash = strrchr(dpath, '/');
    const char *name = slash ? slash + 1 : dpath;
    unsigned seq = atomic_fetch_add(&r->seq, 1);
    uint32_t rnd = (uint32_t)getpid() * 2654435761u ^ seq * 40503u ^ (uint32_t)time(NULL);
    size_t keep = strlen(name) > TMP_NAME_KEEP ? TMP_NAME_KEEP : strlen(name);
    char *out = NULL;

    if (asprintf(&out, "%.*s%s%.*s.%08x", (int)(name - dpath), dpath, MIRROR_TMP_PREFIX, (int)keep,
                 name, rnd) < 0)
        return NULL;
    return out;
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

static bool same_stat(const struct stat *a, const struct stat *b)
{
    return a->st_size == b->st_size && a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
           a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

/* Mode, user metadata and mtime of the copy (before its close: a bridgefs mount stores
 * them with the upload). 0, or -1 with e set. */
static int copy_meta(struct mirror_run *r, int sfd, const char *spath, int dfd,
                     const struct stat *st0, struct copy_err *e)
{
    struct timespec times[2];
    int rc;

    if (fchmod(dfd, st0->st_mode & 07777) != 0 && !r->in_place) {
        set_err(e, errno, "set mode");
        return -1;
    }
    rc = copy_xattrs(r, sfd, spath, dfd);
    if (rc < 0) {
        set_err(e, -rc, "set xattrs");
        return -1;
    }
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1] = st0->st_mtim;
    if (futimens(dfd, times) != 0) {
        set_err(e, errno, "set mtime");
        return -1;
    }
    return 0;
}

/* Copies a regular file; *copied gets the bytes written. */
static void copy_file(struct mirror_run *r, const char *spath, const char *dpath,
                      struct copy_err *e, uint64_t *copied)
{
    struct stat st0, st1;
    char *tmp = NULL, *chunk = NULL;
    int sfd = -1, dfd = -1, rc;
    bool md5_sent = false;

    sfd = open(spath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (sfd < 0 || fstat(sfd, &st0) != 0) {
        set_err(e, errno, errno == ENOENT ? "vanished" : "open source");
        goto out;
    }
    chunk = malloc(COPY_CHUNK);
    tmp = r->in_place ? strdup(dpath) : temp_name(r, dpath);
    if (!chunk || !tmp) {
        set_err(e, ENOMEM, "memory");
        goto out;
    }
    if (r->in_place)
        dfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    else
        dfd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (dfd < 0) {
        set_err(e, errno, "create target");
        goto out;
    }
    if (r->in_place) {
        /* Proposed mount contract: an upload whose written size differs from this at release
         * (a killed or failed copy) is discarded, not committed. Ignored when unsupported. */
        char sz[24];
        snprintf(sz, sizeof(sz), "%lld", (long long)st0.st_size);
        (void)fsetxattr(dfd, "user.bridgefs.expect_size", sz, strlen(sz), 0);
        /* The content type travels from mount to mount (stored with the upload). */
        char ct[256];
        ssize_t ctn = fgetxattr(sfd, "user.bridgefs.content_type", ct, sizeof(ct));
        if (ctn > 0)
            (void)fsetxattr(dfd, "user.bridgefs.content_type", ct, (size_t)ctn, 0);
        /* The source's stored MD5 (a bridgefs mount's): stored with the upload as it begins,
         * and the mount refuses to publish other content (end-to-end check of the copy). */
        char md5[64];
        ssize_t mn = fgetxattr(sfd, MIRROR_XATTR_MD5, md5, sizeof(md5));
        if (mn == 32)
            md5_sent = fsetxattr(dfd, "user.bridgefs.expect_md5", md5, 32, 0) == 0;
        /* Everything else before the data too: a streamed upload begins after its first
         * part, and whatever it began with need not be changed afterwards (on S3 a change
         * after the upload is a copy of the whole object). */
        if (copy_meta(r, sfd, spath, dfd, &st0, e) < 0)
            goto out;
    }
    for (;;) {
        ssize_t n = read(sfd, chunk, COPY_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            set_err(e, errno, "read source");
            goto out;
        }
        if (n == 0)
            break;
        if (mirror_canceled()) {
            set_err(e, ECANCELED, "canceled");
            goto out;
        }
        rc = write_all(dfd, chunk, (size_t)n);
        if (rc < 0) {
            set_err(e, -rc, "write target");
            goto out;
        }
        *copied += (uint64_t)n;
        progress_copied(r->pg, (uint64_t)n);
    }
    if (fstat(sfd, &st1) != 0 || !same_stat(&st0, &st1) || *copied != (uint64_t)st1.st_size) {
        set_err(e, EAGAIN, "source changed during the copy");
        goto out;
    }
    if (!r->in_place && copy_meta(r, sfd, spath, dfd, &st0, e) < 0)
        goto out;
    rc = close(dfd);
    dfd = -1;
    if (rc != 0) {
        set_err(e, errno, md5_sent && errno == EIO
                              ? "close target (the mount did not publish it: the upload failed, "
                                "or the data read did not have the source's stored MD5; the "
                                "mount's log says which)"
                              : "close target");
        goto out;
    }
    if (!r->in_place && rename(tmp, dpath) != 0)
        set_err(e, errno, "rename into place");
out:
    if (dfd >= 0)
        close(dfd);
    if (sfd >= 0)
        close(sfd);
    if (e->err && tmp && !r->in_place)
        unlink(tmp);
    free(tmp);
    free(chunk);
}

static void copy_link(struct mirror_run *r, const char *spath, const char *dpath,
                      struct copy_err *e)
{
    char target[4096], *tmp = NULL;
    struct timespec times[2];
    struct stat st;
    ssize_t n;

    if (lstat(spath, &st) != 0) {
        set_err(e, errno, errno == ENOENT ? "vanished" : "lstat source");
        return;
    }
    n = readlink(spath, target, sizeof(target) - 1);
    if (n < 0) {
        set_err(e, errno, "read link");
        return;
    }
    target[n] = '\0';
    tmp = r->in_place ? strdup(dpath) : temp_name(r, dpath);
    if (!tmp) {
        set_err(e, ENOMEM, "memory");
        return;
    }
    if (r->in_place)
        unlink(tmp);
    if (symlink(target, tmp) != 0) {
        set_err(e, errno, "create symlink");
        goto out;
    }
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_OMIT;
    times[1] = st.st_mtim;
    if (utimensat(AT_FDCWD, tmp, times, AT_SYMLINK_NOFOLLOW) != 0) {
        set_err(e, errno, "set symlink mtime");
        goto out;
    }
    if (!r->in_place && rename(tmp, dpath) != 0)
        set_err(e, errno, "rename into place");
out:
    if (e->err && !r->in_place)
        unlink(tmp);
    free(tmp);
}

/* MD5 equality of the two files: from both xattrs when both have one, else by reading both. */
static int same_md5(struct mirror_run *r, const char *spath, const char *dpath, bool *same)
{
    unsigned char a[16], b[16];
    int rc;

    if (mirror_xattr_md5(spath, a) == 0 && mirror_xattr_md5(dpath, b) == 0) {
        *same = memcmp(a, b, 16) == 0;
        return 0;
    }
    rc = mirror_file_md5(spath, false, a, NULL, NULL);
    if (rc == 0)
        rc = mirror_file_md5(dpath, false, b, NULL, NULL);
    if (rc == 0)
        *same = memcmp(a, b, 16) == 0;
    return rc;
}

void mirror_copy_job(void *arg, struct mirror_job *j)
{
    struct mirror_run *r = arg;
    const struct mirror_opts *o = r->o;
    struct copy_err e = {0};
    char *spath = NULL, *dpath = NULL, details[160], cls[64];
    uint64_t copied = 0;
    enum joblog_result res = JOBLOG_TRANSFERRED;

    if (asprintf(&spath, "%s/%s", r->src, j->path) < 0 ||
        asprintf(&dpath, "%s/%s", r->dst, j->path) < 0) {
        spath = dpath = NULL;
        set_err(&e, ENOMEM, "memory");
        goto log;
    }
    if (j->kind == MIRROR_JOB_CHECKSUM) {
        bool same = false;
        int rc = same_md5(r, spath, dpath, &same);
        if (rc < 0) {
            set_err(&e, -rc, "checksum");
            goto log;
        }
        if (same) {
            res = JOBLOG_NO_COPY;
            if (!o->dry_run && !mirror_same_mtime(&j->src.mtime, &j->dst.mtime)) {
                struct timespec times[2] = {{0, UTIME_OMIT}, j->src.mtime};
                utimensat(AT_FDCWD, dpath, times, AT_SYMLINK_NOFOLLOW);
            }
            goto log;
        }
    }
    if (o->dry_run) {
        mirror_print_line(stdout, "copy  ", j->path, NULL);
        copied = j->src.size;
        goto log;
    }
    if (j->src.type == WALK_LINK)
        copy_link(r, spath, dpath, &e);
    else
        copy_file(r, spath, dpath, &e, &copied);
    progress_unflight(r->pg, copied);
log:
    if (e.err == ECANCELED)
        goto out; /* not logged: the re-run does it */
    details[0] = '\0';
    if (e.err) {
        res = JOBLOG_FAILED;
        snprintf(details, sizeof(details), "%s: %s", e.step, strerror(e.err));
        if (e.err == EACCES && j->src.type == WALK_FILE &&
            mirror_archived_class(spath, cls, sizeof(cls))) {
            res = JOBLOG_UNSUPPORTED; /* not a failure: the run can succeed */
            snprintf(details, sizeof(details), MIRROR_ARCHIVED_FMT, cls);
        } else if (j->src.type == WALK_LINK &&
                   (e.err == EPERM || e.err == ENOSYS || e.err == EOPNOTSUPP)) {
            res = JOBLOG_UNSUPPORTED;
            snprintf(details, sizeof(details), "the target does not support symlinks (%s)",
                     strerror(e.err));
        }
        {
            char suffix[sizeof(details) + 2];
            snprintf(suffix, sizeof(suffix), ": %s", details);
            mirror_print_line(stderr, "bridgefs: mirror: ", j->path, suffix);
        }
    }
    joblog_item(r->jl, j->path, 'F',
                res == JOBLOG_TRANSFERRED && j->src.type == WALK_FILE ? copied : j->src.size, res,
                e.err, details);
    progress_done(r->pg, j->src.size);
out:
    free(spath);
    free(dpath);
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)ftw;
    if (flag == FTW_DP ? rmdir(path) != 0 : unlink(path) != 0)
        return errno ? errno : EIO;
    return 0;
}

int mirror_remove_tree(const char *path)
{
    struct stat st;
    int rc;

    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : -errno;
    if (!S_ISDIR(st.st_mode))
        return unlink(path) == 0 ? 0 : -errno;
    rc = nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    return rc == 0 ? 0 : (rc > 0 ? -rc : -errno);
}
