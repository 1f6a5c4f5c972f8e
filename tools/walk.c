/* walk: a merge-join of two directory trees, one sorted directory at a time. */
#include "tools/walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#define WALK_BUF 4096 /* full and relative path buffers (PATH_MAX) */
#define FUSE_SUPER_MAGIC 0x65735546
#define AHEAD_THREADS 4 /* directories listed ahead at once */
#define AHEAD_DIRS 8    /* subdirectories of the current directory queued ahead of the walk */
#define AHEAD_QUEUE 64  /* requests waiting at most (more are dropped: the walk lists them) */

/*
 * List-ahead. On a FUSE mount (a bridgefs mount lists a directory with LIST requests and
 * caches the result), reading a directory is a network round trip, and a depth-first walk
 * makes them one after another. So while the walk works through a directory, a few threads
 * read the next subdirectories it will enter; when the walk gets there, the listing is in
 * the mount's cache. Best effort: a request that cannot be queued or fails changes nothing
 * but the speed (the walk lists every directory itself, as without it).
 */
struct ahead_req {
    struct ahead_req *next;
    char path[];
};

struct ahead {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct ahead_req *head, *tail;
    size_t queued;
    bool stop;
    pthread_t th[AHEAD_THREADS];
    int nth;
};

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
    bool ahead_side[2];   /* list ahead on this side (it is a FUSE mount) */
    struct ahead *ahead;  /* NULL: no list-ahead */
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
    char **v;       /* the names in memory (the last run, or all of them); v[i][-1] holds
                     * the name's d_type */
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
        free(nl->v[i] - 1);
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

static int names_push(struct names *nl, const char *name, unsigned char type)
{
    size_t len = strlen(name);
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
    copy = malloc(len + 2);
    if (!copy)
        return -ENOMEM;
    copy[0] = (char)type;
    memcpy(copy + 1, name, len + 1);
    nl->v[nl->n++] = copy + 1;
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

/* ---- list-ahead ---- */

static void *ahead_thread(void *ud)
{
    struct ahead *a = ud;

    pthread_mutex_lock(&a->mu);
    for (;;) {
        struct ahead_req *r;
        DIR *d;

        while (!a->head && !a->stop)
            pthread_cond_wait(&a->cv, &a->mu);
        if (a->stop)
            break;
        r = a->head;
        a->head = r->next;
        if (!a->head)
            a->tail = NULL;
        a->queued--;
        pthread_mutex_unlock(&a->mu);
        d = opendir(r->path);
        if (d) {
            while (readdir(d))
                ;
            closedir(d);
        }
        free(r);
        pthread_mutex_lock(&a->mu);
    }
    pthread_mutex_unlock(&a->mu);
    return NULL;
}

static bool on_fuse(const char *path)
{
    struct statfs sf;

    return statfs(path, &sf) == 0 && sf.f_type == FUSE_SUPER_MAGIC;
}

/* Starts list-ahead for the sides that are FUSE mounts (BRIDGEFS_WALK_AHEAD=0: never). */
static void ahead_start(struct walker *w)
{
    const char *e = getenv("BRIDGEFS_WALK_AHEAD");
    struct ahead *a;

    if (e && strcmp(e, "0") == 0)
        return;
    w->ahead_side[WALK_SRC] = on_fuse(w->src.s);
    w->ahead_side[WALK_DST] = on_fuse(w->dst.s);
    if (!w->ahead_side[WALK_SRC] && !w->ahead_side[WALK_DST])
        return;
    a = calloc(1, sizeof(*a));
    if (!a)
        return;
    pthread_mutex_init(&a->mu, NULL);
    pthread_cond_init(&a->cv, NULL);
    for (int i = 0; i < AHEAD_THREADS; i++)
        if (pthread_create(&a->th[a->nth], NULL, ahead_thread, a) == 0)
            a->nth++;
    if (!a->nth) {
        pthread_cond_destroy(&a->cv);
        pthread_mutex_destroy(&a->mu);
        free(a);
        return;
    }
    w->ahead = a;
}

static void ahead_stop(struct walker *w)
{
    struct ahead *a = w->ahead;

    if (!a)
        return;
    pthread_mutex_lock(&a->mu);
    a->stop = true;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    for (int i = 0; i < a->nth; i++)
        pthread_join(a->th[i], NULL);
    while (a->head) {
        struct ahead_req *r = a->head;
        a->head = r->next;
        free(r);
    }
    pthread_cond_destroy(&a->cv);
    pthread_mutex_destroy(&a->mu);
    free(a);
    w->ahead = NULL;
}

/* Queues a listing of dir/name (dropped when the queue is full). */
static void ahead_queue(struct ahead *a, const struct pathbuf *dir, const char *name)
{
    size_t dl = dir->len, nl = strlen(name);
    struct ahead_req *r;

    if (dl + 1 + nl + 1 > WALK_BUF)
        return;
    r = malloc(sizeof(*r) + dl + 1 + nl + 1);
    if (!r)
        return;
    r->next = NULL;
    memcpy(r->path, dir->s, dl);
    r->path[dl] = '/';
    memcpy(r->path + dl + 1, name, nl + 1);
    pthread_mutex_lock(&a->mu);
    if (a->queued >= AHEAD_QUEUE) {
        pthread_mutex_unlock(&a->mu);
        free(r);
        return;
    }
    if (a->tail)
        a->tail->next = r;
    else
        a->head = r;
    a->tail = r;
    a->queued++;
    pthread_cond_signal(&a->cv);
    pthread_mutex_unlock(&a->mu);
}

/* Cursor of the names of one side already considered for list-ahead. */
struct ahead_cur {
    size_t next;  /* index in nl->v of the next name to consider */
    size_t dirs;  /* directories queued at or after the walk's position */
};

/*
 * Keeps AHEAD_DIRS subdirectories of this directory (d_type from readdir) queued ahead of
 * the walk's position, for one side. Only a directory sorted in memory is looked ahead in
 * (one spilled to disk is read once, in order).
 */
static void ahead_fill(struct walker *w, enum walk_side side, const struct names *nl,
                       struct ahead_cur *c)
{
    const struct pathbuf *dir = side == WALK_SRC ? &w->src : &w->dst;

    if (!w->ahead || !w->ahead_side[side] || nl->nruns)
        return;
    if (c->next < nl->pos)
        c->next = nl->pos;
    while (c->dirs < AHEAD_DIRS && c->next < nl->n) {
        const char *name = nl->v[c->next++];

        if ((unsigned char)name[-1] == DT_DIR) {
            ahead_queue(w->ahead, dir, name);
            c->dirs++;
        }
    }
}

/* The walk moves past the current name of nl: one fewer directory queued ahead of it. */
static void ahead_pass(const struct names *nl, struct ahead_cur *c)
{
    if (!nl->nruns && nl->pos < c->next && nl->pos < nl->n &&
        (unsigned char)nl->v[nl->pos][-1] == DT_DIR && c->dirs > 0)
        c->dirs--;
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
        rc = names_push(nl, de->d_name, de->d_type);
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
    struct ahead_cur sac = {0}, dac = {0};
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

        ahead_fill(w, WALK_SRC, &sn, &sac);
        ahead_fill(w, WALK_DST, &dn, &dac);
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
        if (c <= 0) {
            ahead_pass(&sn, &sac);
            names_next(&sn);
        }
        if (c >= 0) {
            ahead_pass(&dn, &dac);
            names_next(&dn);
        }
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
    ahead_start(w);
    walk_level(w);
    ahead_stop(w);
    rc = w->stopped ? 1 : 0;
    free(w);
    return rc;
}
