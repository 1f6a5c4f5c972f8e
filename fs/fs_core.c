/* fs_core: creation and teardown of the filesystem state shared by the handlers. */
#include <errno.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "fs/fs_int.h"
#include "fs/fs_path.h"
#include "fs/fs_wfile.h"

void fs_config_defaults(struct fs_config *c)
{
    memset(c, 0, sizeof(*c));
    c->root = "";
    c->ttl_ns = 60 * MC_NS_PER_SEC;
    c->uid = getuid();
    c->gid = getgid();
    c->umask = 022;
    c->jobs = 4;
}

static int mkdir_p(const char *dir)
{
    char *d = strdup(dir);
    int rc = 0;

    if (!d)
        return -ENOMEM;
    for (char *p = d + 1; *p && rc == 0; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(d, 0700) != 0 && errno != EEXIST)
            rc = -errno;
        *p = '/';
    }
    if (rc == 0 && mkdir(d, 0700) != 0 && errno != EEXIST)
        rc = -errno;
    free(d);
    return rc;
}

int fs_core_new(const struct fs_config *c, struct os_store *st, struct mc *mc, struct fs **out)
{
    struct fs *fs = calloc(1, sizeof(*fs));
    int rc = -ENOMEM;

    /* Part and prefetch buffers are several MiB: a fixed mmap threshold returns them to
     * the system when freed (glibc's dynamic threshold would keep them in the heap, and
     * the daemon's RSS would grow to everything ever allocated at once). */
    mallopt(M_MMAP_THRESHOLD, 1 << 20);
    *out = NULL;
    if (!fs)
        return -ENOMEM;
    fs->cfg = *c;
    if (fs->cfg.jobs < 1)
        fs->cfg.jobs = 1;
    fs->st = st;
    fs->ops = st->ops;
    fs->be = st->be;
    fs->mc = mc;
    fs->list_has_meta = strcmp(st->ops->name, "s3") != 0;
    fs->def_file = 0666 & ~c->umask;
    fs->def_dir = 0777 & ~c->umask;
    clock_gettime(CLOCK_REALTIME, &fs->started);
    atomic_init(&fs->seq, 1);
    fs->root = fs_path_normalize(c->root ? c->root : "");
    if (!fs->root)
        goto fail;
    fs->staging = c->staging_dir ? strdup(c->staging_dir) : fs_path_join(mc_dir_path(mc), "staging");
    if (!fs->staging)
        goto fail;
    rc = mkdir_p(fs->staging);
    if (rc < 0) {
        log_error("fs: cannot create the staging folder %s: %s", fs->staging, strerror(-rc));
        goto fail;
    }
    fs->it = fs_itable_new(fs->root);
    rc = fs->it ? 0 : -ENOMEM;
    if (rc == 0 && !fs->list_has_meta)
        rc = fs_sa_new(fs);
    if (rc < 0) {
        fs_itable_free(fs->it);
        goto fail;
    }
    *out = fs;
    return 0;
fail:
    free(fs->root);
    free(fs->staging);
    free(fs);
    return rc;
}

static void flush_one(struct fs_inode *in, void *ud)
{
    struct fs *fs = ud;
    int rc;

    pthread_mutex_lock(&in->lock);
    if (in->wf)
        in->wf->final = true; /* unmount: no later chance to upload */
    pthread_mutex_unlock(&in->lock);
    rc = fs_io_upload(fs, in);

    if (rc < 0)
        log_error("fs: unmount: upload of inode %llu failed: %s",
                  (unsigned long long)in->ino, strerror(-rc));
}

void fs_core_flush_all(struct fs *fs)
{
    if (fs)
        fs_itable_each(fs->it, flush_one, fs);
}

void fs_core_free(struct fs *fs)
{
    if (!fs)
        return;
    fs_sa_free(fs);
    fs_core_flush_all(fs);
    fs_itable_free(fs->it);
    free(fs->root);
    free(fs->staging);
    free(fs);
}
