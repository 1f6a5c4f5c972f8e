/* mc_env: the cache's LMDB environment: open, check, rebuild, map growth, transactions. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cache/mc_internal.h"
#include "core/crypto.h"
#include "core/log.h"

#define MC_MAP_INITIAL ((size_t)64 << 20)
#define MC_MAP_MAX ((size_t)16 << 30)
#define MC_MAP_STEP ((size_t)1 << 30)
#define MC_MAXREADERS 510
#define MC_RETRIES 64

mc_time_t mc_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (mc_time_t)ts.tv_sec * MC_NS_PER_SEC + ts.tv_nsec;
}

/* ---- errors ---- */

static bool is_corruption(int rc)
{
    return rc == MDB_CORRUPTED || rc == MDB_PAGE_NOTFOUND || rc == MDB_PANIC || rc == MDB_INVALID ||
           rc == MDB_VERSION_MISMATCH;
}

/* Marks the cache broken: every later call fails fast with -EIO, and a file
 * named "corrupt" makes the next mc_open set the file aside and rebuild. */
static void mark_broken(struct mc *c, int rc)
{
    char path[4096];
    int fd;

    if (atomic_exchange(&c->broken, 1))
        return;
    log_warn("cache %s: corrupt (%s); it will be rebuilt at the next open", c->nsdir,
             mdb_strerror(rc));
    snprintf(path, sizeof(path), "%s/corrupt", c->nsdir);
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
}

int mc_err(struct mc *c, int rc, const char *what)
{
    int err;

    switch (rc) {
    case MDB_SUCCESS:
        return 0;
    case MDB_NOTFOUND:
        err = -ENOENT;
        break;
    case MDB_MAP_FULL:
    case ENOSPC:
        err = -ENOSPC;
        break;
    case MDB_TXN_FULL:
        err = -E2BIG;
        break;
    case MDB_READERS_FULL:
    case MDB_MAP_RESIZED:
        err = -EAGAIN;
        break;
    case MDB_KEYEXIST:
        err = -EEXIST;
        break;
    case MDB_BAD_VALSIZE:
    case MDB_BAD_DBI:
    case MDB_INCOMPATIBLE:
    case MDB_BAD_RSLOT:
    case MDB_BAD_TXN:
        err = -EINVAL;
        break;
    default:
        if (is_corruption(rc)) {
            if (c)
                mark_broken(c, rc);
            err = -EIO;
        } else if (rc > 0) {
            err = -rc;
        } else {
            err = -EIO; /* MDB_DBS_FULL, MDB_TLS_FULL, MDB_PAGE_FULL, ... */
        }
    }
    if (rc != MDB_NOTFOUND)
        log_debug("cache: %s: %s (%d) -> %d", what, mdb_strerror(rc), rc, err);
    return err;
}

/* ---- map size ---- */

static size_t map_size(struct mc *c)
{
    MDB_envinfo info;

    if (mdb_env_info(c->env, &info) != 0)
        return 0;
    return info.me_mapsize;
}

/* Another process grew the map: take its size. */
static int map_adopt(struct mc *c)
{
    int rc;

    pthread_rwlock_wrlock(&c->maplock);
    rc = mdb_env_set_mapsize(c->env, 0);
    pthread_rwlock_unlock(&c->maplock);
    if (rc == 0)
        log_debug("cache %s: adopted map size %zu", c->nsdir, map_size(c));
    return mc_err(c, rc, "adopt map size");
}

/* The map was full at size `seen`: double it (then +1 GiB steps) up to map_max.
 * Another thread may have grown it meanwhile: then nothing to do. */
static int map_grow(struct mc *c, size_t seen)
{
    size_t cur, want;
    int rc = 0;
    int err = 0;

    pthread_rwlock_wrlock(&c->maplock);
    cur = map_size(c);
    if (cur > seen)
        goto out;
    if (cur >= c->map_max) {
        log_warn("cache %s: map is at its maximum of %zu bytes", c->nsdir, c->map_max);
        err = -ENOSPC;
        goto out;
    }
    want = cur < MC_MAP_STEP ? cur * 2 : cur + MC_MAP_STEP;
    if (want > c->map_max)
        want = c->map_max;
    rc = mdb_env_set_mapsize(c->env, want);
    if (rc != 0) {
        err = mc_err(c, rc, "grow map");
        goto out;
    }
    atomic_fetch_add(&c->grows, 1);
    log_debug("cache %s: map grown from %zu to %zu bytes", c->nsdir, cur, want);
out:
    pthread_rwlock_unlock(&c->maplock);
    return err;
}

/* ---- transactions ---- */

bool mc_txn_get(struct mc_txn *t, MDB_dbi dbi, const void *k, size_t klen, MDB_val *val)
{
    MDB_val key = {klen, (void *)k};
    int rc;

    if (t->rc)
        return false;
    rc = mdb_get(t->txn, dbi, &key, val);
    if (rc == MDB_NOTFOUND)
        return false;
    t->rc = rc;
    return rc == 0;
}

void mc_txn_put(struct mc_txn *t, MDB_dbi dbi, const void *k, size_t klen, const void *v,
                size_t vlen)
{
    MDB_val key = {klen, (void *)k};
    MDB_val val = {vlen, (void *)v};

    if (t->rc)
        return;
    t->rc = mdb_put(t->txn, dbi, &key, &val, 0);
}

void mc_txn_del(struct mc_txn *t, MDB_dbi dbi, const void *k, size_t klen)
{
    MDB_val key = {klen, (void *)k};
    int rc;

    if (t->rc)
        return;
    rc = mdb_del(t->txn, dbi, &key, NULL);
    if (rc != MDB_NOTFOUND)
        t->rc = rc;
}

/* Every cache's reader list, and readers whose cache was closed while their
 * thread lived on (freed by the thread's key destructor, if it runs). */
static pthread_mutex_t mc_readers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct mc_reader *mc_orphans;

static void reader_unlink(struct mc_reader **head, struct mc_reader *r)
{
    if (r->prev)
        r->prev->next = r->next;
    else
        *head = r->next;
    if (r->next)
        r->next->prev = r->prev;
    r->prev = r->next = NULL;
}

static void reader_link(struct mc_reader **head, struct mc_reader *r)
{
    r->prev = NULL;
    r->next = *head;
    if (r->next)
        r->next->prev = r;
    *head = r;
}

/* Key destructor: the thread exits; free its reader and its LMDB slot. r is
 * valid here: only this destructor frees a reader of another thread. Aborting
 * a reset read transaction touches only the lock file's slot, never the data
 * map, so it needs no maplock (taking it here would invert the lock order). */
static void reader_dtor(void *p)
{
    struct mc_reader *r = p;

    pthread_mutex_lock(&mc_readers_lock);
    if (r->c) {
        reader_unlink(&r->c->readers, r);
        if (r->txn)
            mdb_txn_abort(r->txn);
    } else {
        reader_unlink(&mc_orphans, r);
    }
    pthread_mutex_unlock(&mc_readers_lock);
    free(r);
}

static struct mc_reader *reader_get(struct mc *c)
{
    struct mc_reader *r = pthread_getspecific(c->rkey);

    if (r)
        return r;
    r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->c = c;
    if (pthread_setspecific(c->rkey, r) != 0) {
        free(r);
        return NULL;
    }
    pthread_mutex_lock(&mc_readers_lock);
    reader_link(&c->readers, r);
    pthread_mutex_unlock(&mc_readers_lock);
    return r;
}

int mc_rtxn_begin(struct mc *c, struct mc_txn *t)
{
    struct mc_reader *r;
    MDB_txn *txn;
    int dead;
    int rc = 0;

    memset(t, 0, sizeof(*t));
    t->c = c;
    if (atomic_load(&c->broken))
        return -EIO;
    r = reader_get(c);
    if (!r)
        return -ENOMEM;
    for (int tries = 0; tries < MC_RETRIES; tries++) {
        pthread_rwlock_rdlock(&c->maplock);
        if (r->txn) {
            rc = mdb_txn_renew(r->txn);
            if (rc != 0) {
                /* A failed renew leaves the txn finished; abort frees it and its slot. */
                mdb_txn_abort(r->txn);
                r->txn = NULL;
            }
        } else {
            rc = mdb_txn_begin(c->env, NULL, MDB_RDONLY, &txn);
            if (rc == 0)
                r->txn = txn;
        }
        if (rc == 0) {
            t->txn = r->txn;
            return 0; /* maplock stays held until mc_rtxn_end */
        }
        pthread_rwlock_unlock(&c->maplock);
        if (rc == MDB_MAP_RESIZED) {
            if (map_adopt(c) < 0)
                break;
            continue;
        }
        if (rc == MDB_READERS_FULL) {
            /* Slots of crashed processes are freed by reader_check. */
            dead = 0;
            mdb_reader_check(c->env, &dead);
            if (dead > 0) {
                log_info("cache %s: freed %d reader slots of dead processes", c->nsdir, dead);
                continue;
            }
        }
        break;
    }
    return mc_err(c, rc, "begin read");
}

void mc_rtxn_end(struct mc_txn *t)
{
    if (!t->txn)
        return;
    mdb_txn_reset(t->txn);
    t->txn = NULL;
    pthread_rwlock_unlock(&t->c->maplock);
}

int mc_write(struct mc *c, mc_write_fn fn, void *ud)
{
    struct mc_txn t;
    size_t seen;
    int rc = 0;
    int err;

    for (int tries = 0; tries < MC_RETRIES; tries++) {
        if (atomic_load(&c->broken))
            return -EIO;
        memset(&t, 0, sizeof(t));
        t.c = c;
        pthread_rwlock_rdlock(&c->maplock);
        seen = map_size(c);
        rc = mdb_txn_begin(c->env, NULL, 0, &t.txn);
        if (rc == 0) {
            fn(&t, ud);
            if (t.rc == 0) {
                t.rc = mdb_txn_commit(t.txn); /* frees the txn, success or not */
            } else {
                mdb_txn_abort(t.txn);
            }
            rc = t.rc;
        }
        pthread_rwlock_unlock(&c->maplock);
        if (rc == MDB_MAP_RESIZED) {
            err = map_adopt(c);
            if (err < 0)
                return err;
            continue;
        }
        if (rc == MDB_MAP_FULL) {
            err = map_grow(c, seen);
            if (err < 0)
                return err;
            continue;
        }
        break;
    }
    return mc_err(c, rc, "write");
}

/* ---- open, check, set aside ---- */

static int mkdir_p(const char *path, mode_t mode)
{
    char buf[4096];
    size_t n = strlen(path);

    if (n == 0 || n >= sizeof(buf))
        return -ENAMETOOLONG;
    memcpy(buf, path, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0')
            continue;
        buf[i] = '\0';
        if (mkdir(buf, mode) != 0 && errno != EEXIST)
            return -errno;
        buf[i] = (i == n) ? '\0' : '/';
    }
    return 0;
}

/* Cache folder from the option or the environment; malloc'd. */
static char *folder_default(const char *opt)
{
    const char *x = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    char *s = NULL;

    if (opt && *opt)
        return strdup(opt);
    if (x && x[0] == '/') {
        if (asprintf(&s, "%s/bridgefs", x) < 0)
            s = NULL;
    } else if (home && *home) {
        if (asprintf(&s, "%s/.cache/bridgefs", home) < 0)
            s = NULL;
    }
    return s;
}

/* "<readable label>-<16 hex of sha256(ns)>": the label is for humans only. */
static char *ns_dirname(const char *folder, const char *ns)
{
    unsigned char h[CRYPTO_SHA256_LEN];
    char hex[2 * CRYPTO_SHA256_LEN + 1];
    char label[49];
    size_t n = 0;
    char *s;

    for (const char *p = ns; *p && n < sizeof(label) - 1; p++) {
        char ch = *p;
        bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                  (ch >= '0' && ch <= '9') || ch == '.' || ch == '-';

        label[n++] = ok ? ch : '_';
    }
    label[n] = '\0';
    crypto_sha256(ns, strlen(ns), h);
    crypto_hex(h, 8, hex);
    if (asprintf(&s, "%s/%s-%s", folder, label, hex) < 0)
        return NULL;
    return s;
}

/* Renames data.mdb aside (removing older copies so at most one is kept) and
 * removes lock.mdb and the "corrupt" marker. Processes still using the old
 * pair keep their open files; new ones start afresh. */
static void set_aside(const char *nsdir, const char *why)
{
    char from[4096], to[4200], ts[32];
    struct dirent *de;
    time_t now = time(NULL);
    struct tm tm;
    DIR *d;

    d = opendir(nsdir);
    while (d && (de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "data.mdb.corrupt-", 17) != 0)
            continue;
        snprintf(from, sizeof(from), "%s/%s", nsdir, de->d_name);
        unlink(from);
    }
    if (d)
        closedir(d);
    gmtime_r(&now, &tm);
    strftime(ts, sizeof(ts), "%Y%m%dT%H%M%S", &tm);
    snprintf(from, sizeof(from), "%s/data.mdb", nsdir);
    snprintf(to, sizeof(to), "%s/data.mdb.corrupt-%s", nsdir, ts);
    if (rename(from, to) != 0 && errno != ENOENT) {
        log_warn("cache %s: cannot rename data.mdb aside (%s); removing it", nsdir,
                 strerror(errno));
        unlink(from);
    }
    snprintf(from, sizeof(from), "%s/lock.mdb", nsdir);
    unlink(from);
    snprintf(from, sizeof(from), "%s/corrupt", nsdir);
    unlink(from);
    log_warn("cache %s: %s; set aside as %s and rebuilt", nsdir, why, to);
}

/* Errors of mdb_env_open that are about the environment we run in, not the
 * file: do not throw the cache away for them. */
static bool env_error(int rc)
{
    return rc == ENOMEM || rc == EACCES || rc == EPERM || rc == EROFS || rc == ENOSPC ||
           rc == EMFILE || rc == ENFILE || rc == EAGAIN || rc == ENAMETOOLONG || rc == ENOENT;
}

/* Touches the root-to-leaf paths of a table so a damaged tree shows now. */
static int probe_db(MDB_txn *txn, MDB_dbi dbi)
{
    MDB_cursor *cur = NULL;
    MDB_val k, v;
    MDB_stat st;
    int rc;

    rc = mdb_stat(txn, dbi, &st);
    if (rc == 0)
        rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
    if (rc == MDB_NOTFOUND)
        rc = 0;
    if (cur)
        mdb_cursor_close(cur);
    return rc;
}

#define NEED_REBUILD 1

/* Child side of verify_file: reads every record of every table. LMDB keeps no
 * checksums, so a damaged page can crash the reader (SIGBUS/SIGSEGV); that
 * is why this runs in a child. Exit 0: readable. */
static void verify_child(const char *nsdir)
{
    static const char *const tables[] = {"meta", "ent", "dir"};
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_cursor *cur;
    MDB_dbi dbi;
    MDB_val k, v;
    mc_time_t fetched;
    int kind;
    int rc;

    rc = mdb_env_create(&env);
    if (rc == 0)
        rc = mdb_env_set_maxdbs(env, 4);
    if (rc == 0)
        rc = mdb_env_open(env, nsdir, MDB_RDONLY | MDB_NOTLS, 0600);
    if (rc == ENOENT)
        _exit(0); /* nothing there yet */
    if (rc == 0)
        rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn);
    for (size_t i = 0; rc == 0 && i < sizeof(tables) / sizeof(tables[0]); i++) {
        rc = mdb_dbi_open(txn, tables[i], 0, &dbi);
        if (rc == MDB_NOTFOUND) {
            rc = 0;
            continue;
        }
        if (rc == 0)
            rc = mdb_cursor_open(txn, dbi, &cur);
        if (rc != 0)
            break;
        while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) == 0)
            if (i > 0 && mc_val_peek(v.mv_data, v.mv_size, &kind, &fetched) < 0)
                _exit(1);
        mdb_cursor_close(cur);
        if (rc == MDB_NOTFOUND)
            rc = 0;
    }
    _exit(rc == 0 ? 0 : 1);
}

/* opts.verify: reads the whole file in a child process first. */
static int verify_file(const char *nsdir, const char **why)
{
    int status = 0;
    pid_t pid;

    pid = fork();
    if (pid < 0)
        return 0; /* cannot check: go on unchecked */
    if (pid == 0)
        verify_child(nsdir);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    *why = WIFSIGNALED(status) ? "verification crashed on a damaged page" : "verification failed";
    return NEED_REBUILD;
}

/* Opens the environment and checks version and namespace. Returns 0,
 * NEED_REBUILD with *why set, or a negative errno. */
static int env_open(struct mc *c, size_t map_initial, bool no_sync, bool verify, const char **why)
{
    /* No MDB_WRITEMAP: pages are written with pwrite at commit, so a full
     * disk fails the commit with ENOSPC and the file stays consistent (with
     * a writable map it would be SIGBUS). No MDB_NOLOCK: the lock file is what
     * lets several processes share the cache. MDB_NOTLS: see mc_internal.h. */
    unsigned flags = MDB_NOTLS | MDB_NORDAHEAD | MDB_NOMETASYNC | (no_sync ? MDB_NOSYNC : 0);
    char path[4096];
    MDB_txn *txn = NULL;
    MDB_val v;
    MDB_val k;
    MDB_stat st;
    uint32_t ver;
    int rc;
    int err = 0;

    snprintf(path, sizeof(path), "%s/corrupt", c->nsdir);
    if (access(path, F_OK) == 0) {
        *why = "marked corrupt by an earlier run";
        return NEED_REBUILD;
    }
    if (verify && verify_file(c->nsdir, why) == NEED_REBUILD)
        return NEED_REBUILD;
    rc = mdb_env_create(&c->env);
    if (rc != 0)
        return mc_err(NULL, rc, "env create");
    mdb_env_set_maxdbs(c->env, 4);
    mdb_env_set_maxreaders(c->env, MC_MAXREADERS);
    /* No mdb_env_set_mapsize before open: LMDB then takes the size stored in
     * the file, so we never map less than another process already uses. */
    rc = mdb_env_open(c->env, c->nsdir, flags, 0600);
    if (rc != 0) {
        if (env_error(rc)) {
            err = mc_err(NULL, rc, "env open");
            log_error("cache %s: cannot open: %s", c->nsdir, mdb_strerror(rc));
        } else {
            *why = mdb_strerror(rc);
            err = NEED_REBUILD;
        }
        goto out;
    }
    /* Free the read slots of processes that died without closing. */
    mdb_reader_check(c->env, NULL);
    if (map_size(c) < map_initial) {
        rc = mdb_env_set_mapsize(c->env, map_initial);
        if (rc != 0)
            goto lmdb_fail;
    }
    rc = mdb_txn_begin(c->env, NULL, 0, &txn);
    if (rc == MDB_MAP_RESIZED) {
        rc = mdb_env_set_mapsize(c->env, 0);
        if (rc == 0)
            rc = mdb_txn_begin(c->env, NULL, 0, &txn);
    }
    if (rc == 0)
        rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &c->db_meta);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "ent", MDB_CREATE, &c->db_ent);
    if (rc == 0)
        rc = mdb_dbi_open(txn, "dir", MDB_CREATE, &c->db_dir);
    if (rc == 0)
        rc = probe_db(txn, c->db_ent);
    if (rc == 0)
        rc = probe_db(txn, c->db_dir);
    if (rc != 0)
        goto lmdb_fail;
    k = (MDB_val){7, "version"};
    rc = mdb_get(txn, c->db_meta, &k, &v);
    if (rc == MDB_NOTFOUND) {
        rc = mdb_stat(txn, c->db_ent, &st);
        if (rc != 0)
            goto lmdb_fail;
        if (st.ms_entries > 0) {
            *why = "no format version";
            err = NEED_REBUILD;
            goto out;
        }
        ver = MC_FORMAT_VERSION;
        v = (MDB_val){sizeof(ver), &ver};
        rc = mdb_put(txn, c->db_meta, &k, &v, 0);
        k = (MDB_val){9, "namespace"};
        v = (MDB_val){strlen(c->ns), c->ns};
        if (rc == 0)
            rc = mdb_put(txn, c->db_meta, &k, &v, 0);
        if (rc != 0)
            goto lmdb_fail;
    } else if (rc != 0) {
        goto lmdb_fail;
    } else {
        if (v.mv_size != sizeof(ver)) {
            *why = "unreadable format version";
            err = NEED_REBUILD;
            goto out;
        }
        memcpy(&ver, v.mv_data, sizeof(ver));
        if (ver != MC_FORMAT_VERSION) {
            *why = "another format version";
            log_info("cache %s: format version %u, this program uses %u", c->nsdir, (unsigned)ver,
                     (unsigned)MC_FORMAT_VERSION);
            err = NEED_REBUILD;
            goto out;
        }
        k = (MDB_val){9, "namespace"};
        rc = mdb_get(txn, c->db_meta, &k, &v);
        if (rc != 0 || v.mv_size != strlen(c->ns) || memcmp(v.mv_data, c->ns, v.mv_size) != 0) {
            *why = "another namespace";
            err = NEED_REBUILD;
            goto out;
        }
    }
    rc = mdb_txn_commit(txn);
    txn = NULL;
    if (rc != 0)
        goto lmdb_fail;
    goto out;
lmdb_fail:
    if (is_corruption(rc) || rc == MDB_BAD_VALSIZE || rc == MDB_INCOMPATIBLE) {
        *why = mdb_strerror(rc);
        err = NEED_REBUILD;
    } else {
        err = mc_err(NULL, rc, "env check");
        log_error("cache %s: cannot open: %s", c->nsdir, mdb_strerror(rc));
    }
out:
    if (txn)
        mdb_txn_abort(txn);
    if (err != 0 && c->env) {
        mdb_env_close(c->env);
        c->env = NULL;
    }
    return err;
}

static int mc_alloc(const char *ns, const struct mc_opts *o, struct mc **out)
{
    pthread_rwlockattr_t ra;
    struct mc *c;
    char *folder = NULL;
    int err = 0;

    c = calloc(1, sizeof(*c));
    if (!c)
        return -ENOMEM;
    c->map_max = (o && o->map_max) ? o->map_max : MC_MAP_MAX;
    pthread_rwlockattr_init(&ra);
    pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&c->maplock, &ra);
    pthread_rwlockattr_destroy(&ra);
    if (pthread_key_create(&c->rkey, reader_dtor) != 0) {
        pthread_rwlock_destroy(&c->maplock);
        free(c);
        return -EAGAIN;
    }
    folder = folder_default(o ? o->folder : NULL);
    c->ns = strdup(ns);
    if (!folder || !c->ns) {
        err = folder ? -ENOMEM : -ENOENT;
        goto out;
    }
    c->nsdir = ns_dirname(folder, ns);
    if (!c->nsdir) {
        err = -ENOMEM;
        goto out;
    }
    err = mkdir_p(c->nsdir, 0700);
    if (err < 0)
        log_error("cache: cannot create %s: %s", c->nsdir, strerror(-err));
out:
    free(folder);
    if (err < 0) {
        mc_close(c);
        c = NULL;
    }
    *out = c;
    return err;
}

int mc_open(const char *ns, const struct mc_opts *o, struct mc **out)
{
    size_t map_initial = (o && o->map_initial) ? o->map_initial : MC_MAP_INITIAL;
    bool no_sync = o && o->no_sync;
    bool verify = o && o->verify;
    const char *why = NULL;
    char path[4096];
    struct mc *c = NULL;
    int lockfd = -1;
    int err;

    *out = NULL;
    if (!ns || !*ns)
        return -EINVAL;
    err = mc_alloc(ns, o, &c);
    if (err < 0)
        return err;
    if (map_initial > c->map_max)
        map_initial = c->map_max;
    /* Serializes check-and-rebuild between processes opening this namespace. */
    snprintf(path, sizeof(path), "%s/open.lock", c->nsdir);
    lockfd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (lockfd < 0 || flock(lockfd, LOCK_EX) != 0) {
        err = -errno;
        log_error("cache: cannot lock %s: %s", path, strerror(errno));
        goto out;
    }
    err = env_open(c, map_initial, no_sync, verify, &why);
    if (err == NEED_REBUILD) {
        set_aside(c->nsdir, why);
        err = env_open(c, map_initial, no_sync, verify, &why);
        if (err == NEED_REBUILD) {
            log_error("cache %s: still unusable after rebuild: %s", c->nsdir, why);
            err = -EIO;
        }
    }
out:
    if (lockfd >= 0)
        close(lockfd); /* releases the flock */
    if (err < 0) {
        mc_close(c);
        return err;
    }
    *out = c;
    return 0;
}

void mc_close(struct mc *c)
{
    struct mc_reader *self, *r;

    if (!c)
        return;
    self = pthread_getspecific(c->rkey);
    /* Free every LMDB slot now. The calling thread's reader is freed here;
     * other live threads' readers become orphans, freed by their destructor
     * if it is already running or still runs; after pthread_key_delete no
     * new destructor starts. */
    pthread_mutex_lock(&mc_readers_lock);
    while ((r = c->readers) != NULL) {
        reader_unlink(&c->readers, r);
        if (r->txn)
            mdb_txn_abort(r->txn);
        r->txn = NULL;
        r->c = NULL;
        if (r == self)
            free(r);
        else
            reader_link(&mc_orphans, r);
    }
    pthread_key_delete(c->rkey);
    pthread_mutex_unlock(&mc_readers_lock);
    if (c->env) {
        mdb_env_sync(c->env, 1);
        mdb_env_close(c->env);
    }
    pthread_rwlock_destroy(&c->maplock);
    free(c->nsdir);
    free(c->ns);
    free(c);
}

const char *mc_dir_path(const struct mc *c)
{
    return c->nsdir;
}

int mc_stats(struct mc *c, struct mc_stats *out)
{
    struct mc_txn t;
    MDB_envinfo info;
    MDB_stat st;
    char path[4096];
    struct stat sb;
    int err;

    memset(out, 0, sizeof(*out));
    err = mc_rtxn_begin(c, &t);
    if (err < 0)
        return err;
    t.rc = mdb_env_info(c->env, &info);
    if (t.rc == 0) {
        out->map_size = info.me_mapsize;
        t.rc = mdb_stat(t.txn, c->db_ent, &st);
    }
    if (t.rc == 0) {
        out->entries = st.ms_entries;
        out->used_bytes = (uint64_t)(info.me_last_pgno + 1) * st.ms_psize;
        t.rc = mdb_stat(t.txn, c->db_dir, &st);
    }
    if (t.rc == 0)
        out->dirs = st.ms_entries;
    err = mc_err(c, t.rc, "stats");
    mc_rtxn_end(&t);
    snprintf(path, sizeof(path), "%s/data.mdb", c->nsdir);
    if (stat(path, &sb) == 0)
        out->file_size = (uint64_t)sb.st_size;
    out->grows = atomic_load(&c->grows);
    return err;
}
