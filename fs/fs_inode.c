/* fs_inode: the inode table: 64-bit inode numbers for paths, with lookup counts (no I/O). */
#include "fs/fs_inode.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/fs_path.h"

struct fs_itable {
    pthread_mutex_t lock;
    struct fs_inode **by_ino;  /* nbuckets chains */
    struct fs_inode **by_path;
    size_t nbuckets;           /* power of two */
    uint64_t count;
    uint64_t next_ino;
    uint64_t gen;
};

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */

    while (*s) {
        h ^= (unsigned char)*s++;
        h *= 1099511628211ULL;
    }
    return h;
}

static uint64_t hash_ino(uint64_t i)
{
    i ^= i >> 33;
    i *= 0xff51afd7ed558ccdULL;
    i ^= i >> 33;
    return i;
}

static void link_in(struct fs_itable *t, struct fs_inode *in)
{
    size_t bi = hash_ino(in->ino) & (t->nbuckets - 1), bp = hash_str(in->path) & (t->nbuckets - 1);

    in->next_ino = t->by_ino[bi];
    t->by_ino[bi] = in;
    in->next_path = t->by_path[bp];
    t->by_path[bp] = in;
}

static void unlink_path(struct fs_itable *t, struct fs_inode *in)
{
    struct fs_inode **pp = &t->by_path[hash_str(in->path) & (t->nbuckets - 1)];

    while (*pp && *pp != in)
        pp = &(*pp)->next_path;
    if (*pp)
        *pp = in->next_path;
    in->next_path = NULL;
}

static void link_path(struct fs_itable *t, struct fs_inode *in)
{
    size_t bp = hash_str(in->path) & (t->nbuckets - 1);

    in->next_path = t->by_path[bp];
    t->by_path[bp] = in;
}

static void unlink_ino(struct fs_itable *t, struct fs_inode *in)
{
    struct fs_inode **pp = &t->by_ino[hash_ino(in->ino) & (t->nbuckets - 1)];

    while (*pp && *pp != in)
        pp = &(*pp)->next_ino;
    if (*pp)
        *pp = in->next_ino;
}

/* Doubles the bucket arrays when the load passes 1; keeps the old ones on ENOMEM. */
static void maybe_grow(struct fs_itable *t)
{
    size_t nb = t->nbuckets * 2;
    struct fs_inode **bi, **bp, *in, *next;

    if (t->count < t->nbuckets)
        return;
    bi = calloc(nb, sizeof(*bi));
    bp = calloc(nb, sizeof(*bp));
    if (!bi || !bp) {
        free(bi);
        free(bp);
        return;
    }
    for (size_t i = 0; i < t->nbuckets; i++) {
        for (in = t->by_ino[i]; in; in = next) {
            next = in->next_ino;
            in->next_ino = bi[hash_ino(in->ino) & (nb - 1)];
            bi[hash_ino(in->ino) & (nb - 1)] = in;
        }
        for (in = t->by_path[i]; in; in = next) {
            next = in->next_path;
            in->next_path = bp[hash_str(in->path) & (nb - 1)];
            bp[hash_str(in->path) & (nb - 1)] = in;
        }
    }
    free(t->by_ino);
    free(t->by_path);
    t->by_ino = bi;
    t->by_path = bp;
    t->nbuckets = nb;
}

static struct fs_inode *inode_new(uint64_t ino, uint64_t gen, const char *path, bool is_dir)
{
    struct fs_inode *in = calloc(1, sizeof(*in));

    if (!in)
        return NULL;
    in->path = strdup(path);
    if (!in->path) {
        free(in);
        return NULL;
    }
    in->ino = ino;
    in->gen = gen;
    in->is_dir = is_dir;
    pthread_mutex_init(&in->lock, NULL);
    return in;
}

static void inode_free(struct fs_inode *in)
{
    pthread_mutex_destroy(&in->lock);
    free(in->path);
    free(in);
}

struct fs_itable *fs_itable_new(const char *root_path)
{
    struct fs_itable *t = calloc(1, sizeof(*t));
    struct fs_inode *root;

    if (!t)
        return NULL;
    t->nbuckets = 1024;
    t->by_ino = calloc(t->nbuckets, sizeof(*t->by_ino));
    t->by_path = calloc(t->nbuckets, sizeof(*t->by_path));
    t->gen = 1;
    t->next_ino = 2;
    root = inode_new(1, t->gen, root_path, true);
    if (!t->by_ino || !t->by_path || !root) {
        free(root);
        free(t->by_ino);
        free(t->by_path);
        free(t);
        return NULL;
    }
    root->nlookup = 1; /* never forgotten */
    pthread_mutex_init(&t->lock, NULL);
    link_in(t, root);
    t->count = 1;
    return t;
}

void fs_itable_free(struct fs_itable *t)
{
    struct fs_inode *in, *next;

    if (!t)
        return;
    for (size_t i = 0; i < t->nbuckets; i++)
        for (in = t->by_ino[i]; in; in = next) {
            next = in->next_ino;
            inode_free(in);
        }
    free(t->by_ino);
    free(t->by_path);
    pthread_mutex_destroy(&t->lock);
    free(t);
}

/* Table lock held. */
static struct fs_inode *find_path(struct fs_itable *t, const char *path)
{
    struct fs_inode *in = t->by_path[hash_str(path) & (t->nbuckets - 1)];

    while (in && strcmp(in->path, path) != 0)
        in = in->next_path;
    return in;
}

struct fs_inode *fs_itable_acquire(struct fs_itable *t, const char *path, bool is_dir,
                                   uint64_t lookups)
{
    struct fs_inode *in;

    pthread_mutex_lock(&t->lock);
    in = find_path(t, path);
    if (!in) {
        in = inode_new(t->next_ino, t->gen, path, is_dir);
        if (!in)
            goto out;
        t->next_ino++;
        maybe_grow(t);
        link_in(t, in);
        t->count++;
    }
    in->is_dir = is_dir;
    in->nlookup += lookups;
    in->refs++;
out:
    pthread_mutex_unlock(&t->lock);
    return in;
}

struct fs_inode *fs_itable_get(struct fs_itable *t, uint64_t ino)
{
    struct fs_inode *in;

    pthread_mutex_lock(&t->lock);
    in = t->by_ino[hash_ino(ino) & (t->nbuckets - 1)];
    while (in && in->ino != ino)
        in = in->next_ino;
    if (in)
        in->refs++;
    pthread_mutex_unlock(&t->lock);
    return in;
}

/* Table lock held: frees in when unreferenced (the root never is). */
static void maybe_drop(struct fs_itable *t, struct fs_inode *in)
{
    if (in->ino == 1 || in->nlookup > 0 || in->refs > 0)
        return;
    unlink_ino(t, in);
    unlink_path(t, in);
    t->count--;
    inode_free(in);
}

void fs_itable_put(struct fs_itable *t, struct fs_inode *in)
{
    if (!in)
        return;
    pthread_mutex_lock(&t->lock);
    if (in->refs > 0)
        in->refs--;
    maybe_drop(t, in);
    pthread_mutex_unlock(&t->lock);
}

void fs_itable_forget(struct fs_itable *t, uint64_t ino, uint64_t n)
{
    struct fs_inode *in;

    pthread_mutex_lock(&t->lock);
    in = t->by_ino[hash_ino(ino) & (t->nbuckets - 1)];
    while (in && in->ino != ino)
        in = in->next_ino;
    if (in && in->ino != 1) {
        in->nlookup = in->nlookup > n ? in->nlookup - n : 0;
        maybe_drop(t, in);
    }
    pthread_mutex_unlock(&t->lock);
}

char *fs_itable_path(struct fs_itable *t, const struct fs_inode *in)
{
    char *p;

    pthread_mutex_lock(&t->lock);
    p = strdup(in->path);
    pthread_mutex_unlock(&t->lock);
    return p;
}

int fs_itable_rename(struct fs_itable *t, const char *old_path, const char *new_path)
{
    struct fs_inode *in, *victim, **moved = NULL;
    size_t nmoved = 0, cap = 0;
    int rc = 0;
    bool enomem;

    pthread_mutex_lock(&t->lock);
    victim = find_path(t, new_path);
    if (victim && strcmp(old_path, new_path) != 0) {
        /* The replaced target stays known to the kernel by number only. */
        char *gone = strdup("\x01gone");
        if (!gone) {
            rc = -ENOMEM;
            goto out;
        }
        unlink_path(t, victim);
        free(victim->path);
        victim->path = gone;
        link_path(t, victim);
    }
    for (size_t i = 0; i < t->nbuckets; i++)
        for (in = t->by_ino[i]; in; in = in->next_ino) {
            char *np = fs_path_rebase(in->path, old_path, new_path, &enomem);
            if (enomem) {
                rc = -ENOMEM;
                goto out;
            }
            if (!np || in->ino == 1) {
                free(np);
                continue;
            }
            if (nmoved == cap) {
                size_t nc = cap ? cap * 2 : 16;
                struct fs_inode **m = realloc(moved, nc * sizeof(*m));
                if (!m) {
                    free(np);
                    rc = -ENOMEM;
                    goto out;
                }
                moved = m;
                cap = nc;
            }
            unlink_path(t, in);
            free(in->path);
            in->path = np;
            moved[nmoved++] = in;
        }
    for (size_t i = 0; i < nmoved; i++)
        link_path(t, moved[i]);
    nmoved = 0;
out:
    for (size_t i = 0; i < nmoved; i++)
        link_path(t, moved[i]);
    free(moved);
    pthread_mutex_unlock(&t->lock);
    return rc;
}

void fs_itable_each(struct fs_itable *t, void (*fn)(struct fs_inode *in, void *ud), void *ud)
{
    struct fs_inode **list = NULL, *in;
    size_t n = 0, cap = 0;

    pthread_mutex_lock(&t->lock);
    for (size_t i = 0; i < t->nbuckets; i++)
        for (in = t->by_ino[i]; in; in = in->next_ino) {
            if (n == cap) {
                size_t nc = cap ? cap * 2 : 16;
                struct fs_inode **l = realloc(list, nc * sizeof(*l));
                if (!l)
                    break;
                list = l;
                cap = nc;
            }
            in->refs++;
            list[n++] = in;
        }
    pthread_mutex_unlock(&t->lock);
    for (size_t i = 0; i < n; i++) {
        fn(list[i], ud);
        fs_itable_put(t, list[i]);
    }
    free(list);
}

uint64_t fs_itable_count(struct fs_itable *t)
{
    uint64_t n;

    pthread_mutex_lock(&t->lock);
    n = t->count;
    pthread_mutex_unlock(&t->lock);
    return n;
}
