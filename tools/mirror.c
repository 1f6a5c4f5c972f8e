/* mirror: the mirror engine: walk both trees, decide per item, queue copies, delete last. */
#include "tools/mirror.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tools/cli.h"
#include "tools/exitcodes.h"
#include "tools/joblog.h"
#include "tools/mirror_int.h"
#include "tools/progress.h"

#define QUEUE_PER_WORKER 4

static const char *CMD = "mirror";

/* Logs a failed item and prints it on stderr. */
static void item_failed(struct mirror_run *r, const char *path, char type, uint64_t size, int err,
                        const char *details)
{
    char suffix[300];

    snprintf(suffix, sizeof(suffix), ": %s", details);
    mirror_print_line(stderr, "bridgefs: mirror: ", path[0] ? path : ".", suffix);
    joblog_item(r->jl, path[0] ? path : ".", type, size, JOBLOG_FAILED, err, details);
}

static char *full_path(const char *root, const char *rel)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%s", root, rel) < 0)
        return NULL;
    return p;
}

static void spool_delete(struct mirror_run *r, char type, uint64_t size, const char *path)
{
    if (!r->spool)
        return;
    fprintf(r->spool, "%c%" PRIu64 " %s", type, size, path);
    fputc('\0', r->spool);
    r->ndelete++;
}

/* Creates the directory of a source-only item (mode and xattrs from the source). */
static bool make_dir(struct mirror_run *r, const struct walk_item *it)
{
    char *dpath = full_path(r->dst, it->path), *spath = full_path(r->src, it->path);
    char details[160] = "";
    int fd = -1, err = 0;

    if (!dpath || !spath) {
        err = ENOMEM;
        goto out;
    }
    if (r->o->dry_run) {
        mirror_print_line(stdout, "mkdir  ", it->path, "/");
        goto out;
    }
    if (mkdir(dpath, (it->src.mode & 07777) | 0700) != 0 && errno != EEXIST) {
        err = errno;
        snprintf(details, sizeof(details), "mkdir: %s", strerror(err));
        goto out;
    }
    fd = open(dpath, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (fd >= 0) {
        mirror_copy_xattrs_path(r, spath, fd);
        if (!r->in_place)
            fchmod(fd, (it->src.mode & 07777) | 0700);
        close(fd);
    }
out:
    if (err)
        item_failed(r, it->path, 'D', 0, err, details[0] ? details : strerror(err));
    else
        joblog_item(r->jl, it->path, 'D', 0, JOBLOG_TRANSFERRED, 0, NULL);
    free(dpath);
    free(spath);
    return err == 0;
}

static void queue_copy(struct mirror_run *r, const struct walk_item *it, int kind)
{
    struct mirror_job *j = mirror_job_new(it->path, kind, &it->src, &it->dst);

    if (!j) {
        item_failed(r, it->path, 'F', it->src.size, ENOMEM, "out of memory");
        return;
    }
    mirror_pool_push(r->pool, j); /* -ECANCELED: the walk stops at the next item */
}

/* Mirror mode, a directory in one tree where the other has a non-directory: remove the
 * target item, then copy the source item. */
static enum walk_next replace(struct mirror_run *r, const struct walk_item *it)
{
    char details[200], *dpath = full_path(r->dst, it->path);
    bool sdir = it->src.type == WALK_DIR;
    int rc = 0;

    snprintf(details, sizeof(details), "type conflict: %s in source, %s in target; replaced",
             sdir ? "directory" : "file", sdir ? "file" : "directory");
    if (!dpath) {
        item_failed(r, it->path, sdir ? 'D' : 'F', 0, ENOMEM, "out of memory");
        return WALK_CONTINUE;
    }
    if (r->o->dry_run)
        mirror_print_line(stdout, "delete  ", it->path, "  (type conflict)");
    else
        rc = mirror_remove_tree(dpath);
    free(dpath);
    if (rc < 0) {
        snprintf(details, sizeof(details), "type conflict: cannot remove the target %s: %s",
                 sdir ? "file" : "directory", strerror(-rc));
        item_failed(r, it->path, sdir ? 'D' : 'F', it->src.size, -rc, details);
        return WALK_CONTINUE;
    }
    joblog_item(r->jl, it->path, sdir ? 'F' : 'D', it->dst.size, JOBLOG_DELETED, 0, details);
    if (sdir)
        return make_dir(r, it) ? WALK_DESCEND : WALK_CONTINUE;
    queue_copy(r, it, MIRROR_JOB_COPY);
    return WALK_CONTINUE;
}

static enum walk_next on_item(void *arg, const struct walk_item *it)
{
    struct mirror_run *r = arg;
    const struct mirror_opts *o = r->o;
    bool sdir = it->src.type == WALK_DIR;
    char type = sdir ? 'D' : 'F', details[200];
    uint64_t size = sdir ? 0 : it->src.size;

    if (mirror_canceled())
        return WALK_STOP;
    if (it->src.type == WALK_NONE && it->src.err == 0) { /* only in the target */
        if (o->mode != MIRROR_MODE_MIRROR || it->dst.type == WALK_NONE ||
            mirror_filter_excluded(o->filter, it->path, it->dst.type == WALK_DIR))
            return WALK_CONTINUE; /* kept: merge mode, or protected by an exclude */
        if (it->dst.type == WALK_DIR)
            return WALK_DESCEND; /* children first; the directory at leave */
        spool_delete(r, 'F', it->dst.size, it->path);
        return WALK_CONTINUE;
    }
    if (it->src.err) {
        if (it->src.err == -ENOENT) {
            item_failed(r, it->path, 'F', 0, ENOENT, "vanished during the walk");
        } else {
            snprintf(details, sizeof(details), "lstat: %s", strerror(-it->src.err));
            item_failed(r, it->path, 'F', 0, -it->src.err, details);
            r->src_failed = true;
        }
        return WALK_CONTINUE;
    }
    joblog_scanned(r->jl, size);
    progress_scanned(r->pg, size);
    if (mirror_filter_excluded(o->filter, it->path, sdir)) {
        joblog_item(r->jl, it->path, type, size, JOBLOG_EXCLUDED, 0, NULL);
        progress_done(r->pg, size);
        return WALK_CONTINUE;
    }
    switch (mirror_decide(&it->src, &it->dst, o->mode, o->compare)) {
    case MIRROR_ACT_UNSUPPORTED:
        joblog_item(r->jl, it->path, type, size, JOBLOG_UNSUPPORTED, 0,
                    "not a regular file, directory or symlink");
        break;
    case MIRROR_ACT_SKIP:
        joblog_item(r->jl, it->path, type, size, JOBLOG_NO_COPY, 0, NULL);
        break;
    case MIRROR_ACT_DESCEND:
        joblog_item(r->jl, it->path, 'D', 0, JOBLOG_NO_COPY, 0, NULL);
        progress_done(r->pg, 0);
        return WALK_DESCEND;
    case MIRROR_ACT_MKDIR:
        progress_done(r->pg, 0);
        return make_dir(r, it) ? WALK_DESCEND : WALK_CONTINUE;
    case MIRROR_ACT_COPY:
        queue_copy(r, it, MIRROR_JOB_COPY);
        return WALK_CONTINUE; /* progress_done by the worker */
    case MIRROR_ACT_CHECKSUM:
        queue_copy(r, it, MIRROR_JOB_CHECKSUM);
        return WALK_CONTINUE;
    case MIRROR_ACT_REPLACE:
        if (sdir)
            progress_done(r->pg, 0); /* a file is counted by its copy worker */
        return replace(r, it);
    case MIRROR_ACT_CONFLICT:
        snprintf(details, sizeof(details), "type conflict: %s in source, %s in target",
                 sdir ? "directory" : "file", sdir ? "file" : "directory");
        item_failed(r, it->path, type, size, sdir ? ENOTDIR : EISDIR, details);
        break;
    case MIRROR_ACT_DELETE:
    case MIRROR_ACT_KEEP:
        break;
    }
    progress_done(r->pg, size);
    return WALK_CONTINUE;
}

static void on_leave(void *arg, const struct walk_item *it)
{
    struct mirror_run *r = arg;

    if (it->src.type == WALK_NONE && it->src.err == 0 && it->dst.type == WALK_DIR)
        spool_delete(r, 'D', 0, it->path);
}

static void on_dir_error(void *arg, const char *path, enum walk_side side, int err)
{
    struct mirror_run *r = arg;
    char details[200];

    snprintf(details, sizeof(details), "cannot list the %s directory: %s",
             side == WALK_SRC ? "source" : "target", strerror(-err));
    if (side == WALK_SRC)
        r->src_failed = true;
    item_failed(r, path, 'D', 0, -err, details);
}

/* Hides the temp files of an interrupted run, and removes them from the target. */
static bool on_skip_name(void *arg, enum walk_side side, const char *dirpath, const char *name)
{
    struct mirror_run *r = arg;
    char *p = NULL;

    if (strncmp(name, MIRROR_TMP_PREFIX, strlen(MIRROR_TMP_PREFIX)) != 0)
        return false;
    if (side == WALK_DST && !r->o->dry_run && !r->in_place &&
        asprintf(&p, "%s/%s%s%s", r->dst, dirpath, dirpath[0] ? "/" : "", name) >= 0) {
        struct stat st;
        if (lstat(p, &st) == 0 && !S_ISDIR(st.st_mode))
            unlink(p);
        free(p);
    }
    return true;
}

/* Runs the spooled deletes (children before their directory, as the walk recorded them). */
static void run_deletes(struct mirror_run *r)
{
    char *line = NULL;
    size_t cap = 0;

    rewind(r->spool);
    while (getdelim(&line, &cap, '\0', r->spool) > 0 && !mirror_canceled()) {
        char type = line[0], *sp = strchr(line, ' '), *path, *dpath;
        uint64_t size = strtoull(line + 1, NULL, 10);
        int rc;

        if (!sp)
            continue;
        path = sp + 1;
        if (r->o->dry_run) {
            mirror_print_line(stdout, "delete  ", path, type == 'D' ? "/" : "");
            joblog_item(r->jl, path, type, size, JOBLOG_DELETED, 0, NULL);
            continue;
        }
        dpath = full_path(r->dst, path);
        if (!dpath)
            break;
        rc = type == 'D' ? rmdir(dpath) : unlink(dpath);
        if (rc != 0 && errno == ENOENT)
            rc = 0;
        if (rc == 0) {
            joblog_item(r->jl, path, type, size, JOBLOG_DELETED, 0, NULL);
        } else if (!(type == 'D' && (errno == ENOTEMPTY || errno == EEXIST))) {
            char details[160];
            snprintf(details, sizeof(details), "delete: %s", strerror(errno));
            item_failed(r, path, type, size, errno, details);
        } /* else a directory kept for excluded items inside */
        free(dpath);
    }
    free(line);
}

/* realpath of path, or when path does not exist, realpath of its parent plus its last
 * component. malloc'd; NULL with errno set. */
static char *resolve_maybe_missing(const char *path)
{
    char parent[PATH_MAX], *real, *full = NULL;
    const char *slash;
    size_t n = strlen(path);

    real = realpath(path, NULL);
    if (real || errno != ENOENT)
        return real;
    while (n > 1 && path[n - 1] == '/')
        n--;
    slash = memrchr(path, '/', n);
    if (!slash)
        snprintf(parent, sizeof(parent), ".");
    else
        snprintf(parent, sizeof(parent), "%.*s", slash == path ? 1 : (int)(slash - path), path);
    real = realpath(parent, NULL);
    if (!real)
        return NULL;
    if (asprintf(&full, "%s/%.*s", strcmp(real, "/") ? real : "",
                 (int)(n - (size_t)(slash ? slash + 1 - path : 0)), slash ? slash + 1 : path) < 0) {
        full = NULL;
        errno = ENOMEM;
    }
    free(real);
    return full;
}

/* Resolves and checks SRC and DST, creating DST when missing (not in a dry run). Fills
 * r->src and r->dst; returns -1 to go on or an exit code. */
static int prepare_paths(struct mirror_run *r)
{
    const struct mirror_opts *o = r->o;
    struct stat st;
    const char *why;
    DIR *d;

    if (stat(o->src, &st) != 0)
        return cli_failf(errno == ENOENT   ? CLI_EXIT_NOT_FOUND
                         : errno == EACCES ? CLI_EXIT_ACCESS
                                           : CLI_EXIT_ERROR,
                         CMD, "source %s: %s", o->src, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return cli_failf(CLI_EXIT_USAGE, CMD, "source %s: not a directory", o->src);
    d = opendir(o->src);
    if (!d)
        return cli_failf(errno == EACCES ? CLI_EXIT_ACCESS : CLI_EXIT_ERROR, CMD,
                         "source %s: cannot read it: %s", o->src, strerror(errno));
    closedir(d);
    r->src = realpath(o->src, NULL);
    if (!r->src)
        return cli_failf(CLI_EXIT_ERROR, CMD, "source %s: %s", o->src, strerror(errno));
    if (stat(o->dst, &st) == 0 && !S_ISDIR(st.st_mode))
        return cli_failf(CLI_EXIT_USAGE, CMD, "target %s: not a directory", o->dst);
    if (stat(o->dst, &st) != 0 && errno != ENOENT)
        return cli_failf(errno == EACCES ? CLI_EXIT_ACCESS : CLI_EXIT_ERROR, CMD, "target %s: %s",
                         o->dst, strerror(errno));
    r->dst = resolve_maybe_missing(o->dst);
    if (!r->dst)
        return cli_failf(errno == ENOENT ? CLI_EXIT_NOT_FOUND : CLI_EXIT_ERROR, CMD,
                         "target %s: %s", o->dst, strerror(errno));
    if (mirror_check_overlap(r->src, r->dst, &why) < 0)
        return cli_failf(CLI_EXIT_USAGE, CMD, "refusing to run: %s (%s, %s)", why, r->src, r->dst);
    if (!o->dry_run && mkdir(r->dst, 0755) != 0 && errno != EEXIST)
        return cli_failf(errno == EACCES ? CLI_EXIT_ACCESS : CLI_EXIT_ERROR, CMD,
                         "target %s: cannot create it: %s", o->dst, strerror(errno));
    r->in_place = !o->dry_run && mirror_is_bridgefs(r->dst);
    return -1;
}

static void run_free(struct mirror_run *r)
{
    free(r->src);
    free(r->dst);
    if (r->spool)
        fclose(r->spool);
    joblog_free(r->jl);
}

int mirror_run(const struct mirror_opts *o)
{
    static const struct walk_ops ops = {on_item, on_leave, on_dir_error, on_skip_name};
    struct mirror_run r;
    struct joblog_info info;
    struct joblog_counters c;
    char logdir[PATH_MAX], id[40];
    const char *status;
    bool refused = false;
    enum progress_show show;
    uint32_t rnd = 0;
    int rc, code;

    memset(&r, 0, sizeof(r));
    r.o = o;
    code = prepare_paths(&r);
    if (code >= 0)
        goto out;
    if (o->job_id) {
        snprintf(id, sizeof(id), "%s", o->job_id);
    } else {
        if (getrandom(&rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
            rnd = (uint32_t)getpid() ^ (uint32_t)time(NULL);
        joblog_make_id(time(NULL), rnd, id, sizeof(id));
    }
    if (o->log_dir)
        snprintf(logdir, sizeof(logdir), "%s", o->log_dir);
    else if (mirror_default_log_dir(logdir, sizeof(logdir)) < 0) {
        code = cli_failf(CLI_EXIT_USAGE, CMD, "no HOME or XDG_STATE_HOME: give --log-dir DIR");
        goto out;
    }
    info.job_id = id;
    info.source = o->src_name ? o->src_name : r.src;
    info.target = o->dst_name ? o->dst_name : r.dst;
    info.mode = o->mode == MIRROR_MODE_MIRROR ? "mirror" : "merge";
    info.flags = o->flags;
    rc = joblog_open(o->dry_run ? NULL : logdir, &info, &r.jl);
    if (rc < 0) {
        code = cli_failf(CLI_EXIT_ERROR, CMD, "cannot write the job log in %s: %s", logdir,
                         strerror(-rc));
        goto out;
    }
    if (o->mode == MIRROR_MODE_MIRROR) {
        r.spool = tmpfile();
        if (!r.spool) {
            code = cli_failf(CLI_EXIT_ERROR, CMD, "cannot create a temporary file: %s",
                             strerror(errno));
            goto out;
        }
    }
    show = o->progress == 0        ? PROGRESS_NONE
           : isatty(STDERR_FILENO) ? PROGRESS_TTY
           : o->progress > 0       ? PROGRESS_LINES
                                   : PROGRESS_NONE;
    mirror_signals_install();
    r.pg = progress_start(show, stderr, NULL, NULL);
    r.pool = mirror_pool_new(o->jobs, (size_t)o->jobs * QUEUE_PER_WORKER, mirror_copy_job, &r);
    if (!r.pg || !r.pool) {
        code = cli_failf(CLI_EXIT_ERROR, CMD, "cannot start the copy workers");
        goto stop;
    }
    walk_run(r.src, r.dst, &ops, &r);
    mirror_pool_finish(r.pool); /* every copy is done before any delete */
    r.pool = NULL;
    if (r.ndelete > 0 && !mirror_canceled()) {
        if (r.src_failed) {
            cli_failf(0, CMD,
                      "not deleting the %" PRIu64 " items only in the target: the "
                      "source walk had errors",
                      r.ndelete);
            refused = true;
        } else if (o->max_delete >= 0 && r.ndelete > (uint64_t)o->max_delete) {
            cli_failf(0, CMD,
                      "refusing to delete %" PRIu64 " items (more than --max-delete %" PRId64
                      "); nothing deleted",
                      r.ndelete, o->max_delete);
            refused = true;
        } else {
            run_deletes(&r);
        }
    }
stop:
    mirror_pool_finish(r.pool);
    progress_stop(r.pg);
    mirror_signals_restore();
    if (code >= 0)
        goto out;
    joblog_get_counters(r.jl, &c);
    if (mirror_canceled()) {
        status = "Canceled";
        code = 128 + mirror_canceled();
    } else if (c.items[JOBLOG_FAILED] > 0 || refused) {
        status = "CompletedWithErrors";
        code = CLI_EXIT_PARTIAL;
    } else {
        status = "Succeeded";
        code = CLI_EXIT_OK;
    }
    rc = joblog_finish(r.jl, status);
    if (rc < 0)
        cli_failf(0, CMD, "cannot write the job summary: %s", strerror(-rc));
    fprintf(stderr, "%s%s: ", o->dry_run ? "dry run, nothing changed: " : "", status);
    joblog_print_summary(r.jl, stderr);
out:
    run_free(&r);
    return code;
}
