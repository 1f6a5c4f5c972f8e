/* walk: a merge-join of two directory trees, one sorted directory at a time. */
#include "tools/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* One directory's names, sorted; each name malloc'd, the array too. */
struct names {
    char **v;
    size_t n, cap;
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

static void names_free(struct names *nl)
{
    for (size_t i = 0; i < nl->n; i++)
        free(nl->v[i]);
    free(nl->v);
    nl->v = NULL;
    nl->n = nl->cap = 0;
}

static int names_push(struct names *nl, const char *name)
{
    char *copy;

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

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
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
    if (rc == 0 && nl->n > 1)
        qsort(nl->v, nl->n, sizeof(*nl->v), cmp_names);
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
    size_t i = 0, j = 0;
    size_t s_len = w->src.len, d_len = w->dst.len, r_len = w->rel.len;

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
    while (!w->stopped && (i < sn.n || j < dn.n)) {
        struct walk_item it;
        const char *name;
        int c;
        enum walk_next next;

        if (i >= sn.n)
            c = 1;
        else if (j >= dn.n)
            c = -1;
        else
            c = strcmp(sn.v[i], dn.v[j]);
        name = c <= 0 ? sn.v[i] : dn.v[j];
        memset(&it, 0, sizeof(it));
        if (c <= 0)
            side_stat(sfd, name, &it.src);
        if (c >= 0)
            side_stat(dfd, name, &it.dst);
        if (c <= 0)
            i++;
        if (c >= 0)
            j++;
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
