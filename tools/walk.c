/* walk: a merge-join of two directory trees, one sorted directory at a time. */
#include "tools/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define WALK_BUF 4096 /* full and relative path buffers (PATH_MAX) */

/* A path being built component by component. */
struct pathbuf {
    char s[WALK_BUF];
    size_t len;
};

struct walker {
    const struct walk_ops *ops;
    void *arg;
    struct pathbuf src, dst, rel;
    bool stopped;
};

/*
 * One directory's names in sorted order. A directory of up to run_max names is a sorted
 * array in memory. A bigger one (a flat bucket of millions of objects) is sorted in runs
 * of run_max names written to an unlinked temporary file (NUL-separated, in $TMPDIR, else
 * /tmp), then merged: memory stays at one run while listing and one name plus a stdio
 * buffer per run while merging.
 */
struct run {
    FILE *f;
    char *cur;      /* current name of the run (getdelim buffer), NULL when used up */
    size_t cap;
};

struct names {
    char **v;       /* the names in memory (the last run, or all of them) */
    size_t n, cap;
    size_t pos;     /* next name in v (in-memory mode) */
    struct run *runs;
    size_t nruns;
    size_t *heap;   /* indices of runs with a current name, smallest name first */
    size_t nheap;
    int err;        /* a read error while merging */
};
enum walk_type walk_type_of(mode_t mode)
{
    if (S_ISREG(mode))
        return WALK_FILE;
    if (S_ISDIR(mode))
        return WALK_DIR;
    if (S_ISLNK(mode))
        return WALK_LINK;
    return WALK_OTHER;
}

static void fill_stat(const struct stat *st, struct walk_stat *out)
{
    out->type = walk_type_of(st->st_mode);
    out->err = 0;
    out->size = st->st_size > 0 ? (uint64_t)st->st_size : 0;
    out->mtime = st->st_mtim;
    out->mode = st->st_mode;
}

void walk_lstat(const char *path, struct walk_stat *out)
{
    struct stat st;

    memset(out, 0, sizeof(*out));
    if (lstat(path, &st) != 0) {
        out->err = -errno;
        return;
    }
    fill_stat(&st, out);
}

static size_t walk_run_max(void)
{
    static size_t run_max;

    if (!run_max) { /* BRIDGEFS_WALK_RUN: a smaller run size, for tests */
        const char *e = getenv("BRIDGEFS_WALK_RUN");
        long v = e ? strtol(e, NULL, 10) : 0;
        run_max = v >= 2 ? (size_t)v : 65536;
    }
    return run_max;
}

static void names_drop_mem(struct names *nl)
{
    for (size_t i = 0; i < nl->n; i++)
        free(nl->v[i]);
    nl->n = nl->pos = 0;
}

static void names_free(struct names *nl)
{
    names_drop_mem(nl);
    free(nl->v);
    for (size_t i = 0; i < nl->nruns; i++) {
        if (nl->runs[i].f)
            fclose(nl->runs[i].f);
        free(nl->runs[i].cur);
    }
    free(nl->runs);
    free(nl->heap);
    memset(nl, 0, sizeof(*nl));
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the names in memory and writes them to a new run file. */
static int names_spill(struct names *nl)
{
    const char *dir = getenv("TMPDIR");
    char tmpl[PATH_MAX];
    struct run *runs;
    FILE *f;
    int fd, rc = 0;

    qsort(nl->v, nl->n, sizeof(*nl->v), cmp_names);
    snprintf(tmpl, sizeof(tmpl), "%s/bridgefs-walk.XXXXXX", dir && *dir ? dir : "/tmp");
    fd = mkstemp(tmpl);
    if (fd < 0)
        return -errno;
    unlink(tmpl);
    f = fdopen(fd, "w+");
    if (!f) {
        rc = -errno;
        close(fd);
        return rc;
    }
    for (size_t i = 0; i < nl->n && rc == 0; i++)
        if (fputs(nl->v[i], f) == EOF || fputc('\0', f) == EOF)
            rc = errno ? -errno : -EIO;
    if (rc == 0 && (fflush(f) != 0 || fseek(f, 0, SEEK_SET) != 0))
        rc = errno ? -errno : -EIO;
    runs = rc == 0 ? realloc(nl->runs, (nl->nruns + 1) * sizeof(*runs)) : NULL;
    if (!runs) {
        fclose(f);
        return rc < 0 ? rc : -ENOMEM;
    }
    nl->runs = runs;
    memset(&runs[nl->nruns], 0, sizeof(runs[0]));
    runs[nl->nruns++].f = f;
    names_drop_mem(nl);
    return 0;
}

static int names_push(struct names *nl, const char *name)
{
    char *copy;
    int rc;

    if (nl->n == walk_run_max()) {
        rc = names_spill(nl);
        if (rc < 0)
            return rc;
    }
    if (nl->n == nl->cap) {
        size_t cap = nl->cap ? nl->cap * 2 : 64;
        char **v = realloc(nl->v, cap * sizeof(*v));
        if (!v)
            return -ENOMEM;
        nl->v = v;
        nl->cap = cap;
    }
    copy = strdup(name);
    if (!copy)
        return -ENOMEM;
    nl->v[nl->n++] = copy;
    return 0;
}

/* Reads the next name of run r; false at its end (or on an error, kept in nl->err). */
static bool run_advance(struct names *nl, struct run *r)
{
    ssize_t k = getdelim(&r->cur, &r->cap, '\0', r->f);

    if (k <= 0) {
        if (ferror(r->f))
            nl->err = -EIO;
        free(r->cur);
        r->cur = NULL;
        r->cap = 0;
        return false;
    }
    return true;
}

static bool heap_less(const struct names *nl, size_t a, size_t b)
{
    return strcmp(nl->runs[nl->heap[a]].cur, nl->runs[nl->heap[b]].cur) < 0;
}

static void heap_down(struct names *nl, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, m = i, t;
        if (l < nl->nheap && heap_less(nl, l, m))
            m = l;
        if (l + 1 < nl->nheap && heap_less(nl, l + 1, m))
            m = l + 1;
        if (m == i)
            return;
        t = nl->heap[i];
        nl->heap[i] = nl->heap[m];
        nl->heap[m] = t;
        i = m;
    }
}

/* Ends the listing: sorts what is in memory, or (runs on disk) starts the merge. */
static int names_finish(struct names *nl)
{
    int rc;

    if (!nl->nruns) {
        if (nl->n > 1)
            qsort(nl->v, nl->n, sizeof(*nl->v), cmp_names);
        return 0;
    }
    if (nl->n > 0) {
        rc = names_spill(nl);
        if (rc < 0)
            return rc;
    }
    nl->heap = calloc(nl->nruns, sizeof(*nl->heap));
    if (!nl->heap)
        return -ENOMEM;
    for (size_t i = 0; i < nl->nruns; i++)
        if (run_advance(nl, &nl->runs[i]))
            nl->heap[nl->nheap++] = i;
    for (size_t i = nl->nheap / 2; i-- > 0;)
        heap_down(nl, i);
    return nl->err;
}

/* The current (smallest unread) name, or NULL at the end. */
static const char *names_peek(const struct names *nl)
{
    if (!nl->nruns)
        return nl->pos < nl->n ? nl->v[nl->pos] : NULL;
    return nl->nheap ? nl->runs[nl->heap[0]].cur : NULL;
}

/* Moves past the current name. The string names_peek returned is invalid afterwards. */
static void names_next(struct names *nl)
{
    if (!nl->nruns) {
        nl->pos++;
        return;
    }
    if (!nl->nheap)
        return;
    if (!run_advance(nl, &nl->runs[nl->heap[0]]))
        nl->heap[0] = nl->heap[--nl->nheap];
    heap_down(nl, 0);
}

/*
 * Lists the directory at path into *nl (sorted) and leaves an open fd for fstatat in *fd.
 * A missing directory (or a non-directory) lists as empty with *fd = -1. 0 or -errno.
 */
static int list_dir(struct walker *w, enum walk_side side, const char *path, struct names *nl,
                    int *fd)
{
    DIR *d = NULL;
    struct dirent *de;
    int rc = 0, dfd, dup_fd;

    *fd = -1;
    dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
    if (dfd < 0) {
        rc = (errno == ENOENT || errno == ENOTDIR || errno == ELOOP) ? 0 : -errno;
        goto out;
    }
    dup_fd = dup(dfd);
    if (dup_fd < 0) {
        rc = -errno;
        goto out;
    }
    d = fdopendir(dup_fd);
    if (!d) {
        rc = -errno;
        close(dup_fd);
        goto out;
    }
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (!de) {
            if (errno)
                rc = -errno;
            break;
        }
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (w->ops->skip_name && w->ops->skip_name(w->arg, side, w->rel.s, de->d_name))
            continue;
        rc = names_push(nl, de->d_name);
        if (rc < 0)
            break;
    }
    if (rc == 0)
        rc = names_finish(nl);
out:
    if (d)
        closedir(d);
    if (rc < 0) {
        names_free(nl);
        if (dfd >= 0)
            close(dfd);
    } else {
        *fd = dfd;
    }
    return rc;
}

/* Appends "/name" (or "name" to an empty relative path); -ENAMETOOLONG leaves it unchanged. */
static int path_push(struct pathbuf *p, const char *name, bool slash)
{
    size_t n = strlen(name), add = n + (slash ? 1 : 0);

    if (p->len + add + 1 > sizeof(p->s))
        return -ENAMETOOLONG;
    if (slash)
        p->s[p->len++] = '/';
    memcpy(p->s + p->len, name, n + 1);
    p->len += n;
    return 0;
}

static void path_cut(struct pathbuf *p, size_t len)
{
    p->len = len;
    p->s[len] = '\0';
}

static void side_stat(int dfd, const char *name, struct walk_stat *out)
{
    struct stat st;

    memset(out, 0, sizeof(*out));
    if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        out->err = -errno;
        return;
    }
    fill_stat(&st, out);
}

static void walk_level(struct walker *w)
{
    struct names sn = {0}, dn = {0};
    int sfd = -1, dfd = -1, rc;
    size_t s_len = w->src.len, d_len = w->dst.len, r_len = w->rel.len;
    char name[WALK_BUF];

    rc = list_dir(w, WALK_SRC, w->src.s, &sn, &sfd);
    if (rc < 0) {
        if (w->ops->dir_error)
            w->ops->dir_error(w->arg, w->rel.s, WALK_SRC, rc);
        goto out;
    }
    rc = list_dir(w, WALK_DST, w->dst.s, &dn, &dfd);
    if (rc < 0) {
        if (w->ops->dir_error)
            w->ops->dir_error(w->arg, w->rel.s, WALK_DST, rc);
        goto out;
    }
    while (!w->stopped && (names_peek(&sn) || names_peek(&dn))) {
        const char *sname = names_peek(&sn), *dname = names_peek(&dn);
        struct walk_item it;
        int c;
        enum walk_next next;

        if (!sname)
            c = 1;
        else if (!dname)
            c = -1;
        else
            c = strcmp(sname, dname);
        snprintf(name, sizeof(name), "%s", c <= 0 ? sname : dname);
        memset(&it, 0, sizeof(it));
        if (c <= 0)
            side_stat(sfd, name, &it.src);
        if (c >= 0)
            side_stat(dfd, name, &it.dst);
        if (c <= 0)
            names_next(&sn);
        if (c >= 0)
            names_next(&dn);
        if (path_push(&w->rel, name, r_len > 0) < 0 || path_push(&w->src, name, true) < 0 ||
            path_push(&w->dst, name, true) < 0) {
            path_cut(&w->rel, r_len);
            path_cut(&w->src, s_len);
            path_cut(&w->dst, d_len);
            if (w->ops->dir_error)
                w->ops->dir_error(w->arg, w->rel.s, it.src.type != WALK_NONE ? WALK_SRC : WALK_DST,
                                  -ENAMETOOLONG);
            continue;
        }
        it.path = w->rel.s;
        it.name = w->rel.s + w->rel.len - strlen(name);
        next = w->ops->item(w->arg, &it);
        if (next == WALK_STOP) {
            w->stopped = true;
        } else if (next == WALK_DESCEND) {
            walk_level(w);
            if (!w->stopped && w->ops->leave)
                w->ops->leave(w->arg, &it);
        }
        path_cut(&w->rel, r_len);
        path_cut(&w->src, s_len);
        path_cut(&w->dst, d_len);
    }
    if (!w->stopped && (sn.err || dn.err) && w->ops->dir_error) /* a run file failed to read */
        w->ops->dir_error(w->arg, w->rel.s, sn.err ? WALK_SRC : WALK_DST, sn.err ? sn.err : dn.err);
out:
    names_free(&sn);
    names_free(&dn);
    if (sfd >= 0)
        close(sfd);
    if (dfd >= 0)
        close(dfd);
}

int walk_run(const char *src_root, const char *dst_root, const struct walk_ops *ops, void *arg)
{
    struct walker *w;
    int rc;

    w = calloc(1, sizeof(*w));
    if (!w)
        return -ENOMEM;
    w->ops = ops;
    w->arg = arg;
    if (strlen(src_root) + 1 > sizeof(w->src.s) || strlen(dst_root) + 1 > sizeof(w->dst.s)) {
        free(w);
        return -ENAMETOOLONG;
    }
    strcpy(w->src.s, src_root);
    w->src.len = strlen(src_root);
    strcpy(w->dst.s, dst_root);
    w->dst.len = strlen(dst_root);
    walk_level(w);
    rc = w->stopped ? 1 : 0;
    free(w);
    return rc;
}
