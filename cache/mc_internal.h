/* mc_internal: what the cache's .c files share: the handle, the transaction wrapper, the codec. */
#ifndef BFS_CACHE_MC_INTERNAL_H
#define BFS_CACHE_MC_INTERNAL_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>

#include "cache/mcache.h"

/*
 * Locks (order: maplock, then mc_readers_lock):
 *  maplock  held shared by every transaction of this process for its whole
 *           life (read or write), exclusively by mdb_env_set_mapsize, which
 *           LMDB allows only while this process has no active transaction.
 *           Writer-preferring so growth is not starved by readers.
 *  mc_readers_lock (process-wide, in mc_env.c) protects every cache's
 *           `readers` list, the orphan list and mc_reader.c. It is global, not
 *           per cache, because a thread-exit destructor may run while
 *           mc_close frees the cache (libfuse detaches idle workers that
 *           exit on their own): the destructor must find out, without
 *           touching the cache, that its cache is gone (r->c == NULL).
 *
 * Why MDB_NOTLS: FUSE worker threads come and go (libfuse's max_idle_threads),
 * and without MDB_NOTLS a read slot belongs to a thread, is released by
 * LMDB's own thread-exit destructor in an unspecified order relative to ours,
 * and a thread may hold one read transaction only. With MDB_NOTLS the slot
 * belongs to the MDB_txn: each thread keeps one reader (struct mc_reader,
 * found through the pthread key `rkey`) whose transaction is reset after
 * each use (slot kept, snapshot released) and renewed at the next, and we
 * decide when it is freed: at thread exit (our key destructor) or mc_close.
 */
struct mc_reader {
    struct mc *c; /* NULL once mc_close orphaned it (under mc_readers_lock) */
    MDB_txn *txn; /* NULL until first use, or after a failed renew */
    struct mc_reader *prev, *next;
};

struct mc {
    MDB_env *env;
    MDB_dbi db_meta; /* "meta": version, namespace, created */
    MDB_dbi db_ent;  /* "ent": prefix+name -> attr or negative value */
    MDB_dbi db_dir;  /* "dir": prefix -> listing record */
    char *ns;        /* owned */
    char *nsdir;     /* owned */
    size_t map_max;
    pthread_rwlock_t maplock;
    pthread_key_t rkey;
    struct mc_reader *readers; /* under mc_readers_lock */
    atomic_int broken;         /* set on corruption found at run time */
    atomic_uint grows;
};

/* A transaction with a sticky LMDB result (knot_lmdb style): once rc != 0
 * every further operation is a no-op and commit aborts. */
struct mc_txn {
    struct mc *c;
    MDB_txn *txn;
    int rc; /* MDB_SUCCESS, an MDB_ code or a positive errno */
};

/* The one LMDB/errno -> negative errno mapper (MDB_MAP_FULL -> -ENOSPC). It
 * also notices corruption and marks the cache broken. */
int mc_err(struct mc *c, int rc, const char *what);

/* Read: begins (renews) this thread's read transaction, holding maplock
 * shared. Returns 0 or a negative errno. mc_rtxn_end resets it. */
int mc_rtxn_begin(struct mc *c, struct mc_txn *t);
void mc_rtxn_end(struct mc_txn *t);

/* Write: runs fn in a write transaction and commits, retrying the whole
 * transaction after growing the map on MDB_MAP_FULL or adopting another
 * process's map size on MDB_MAP_RESIZED. fn must be repeatable: it sets t->rc
 * on failure and keeps results in ud only as "last attempt". */
typedef void (*mc_write_fn)(struct mc_txn *t, void *ud);
int mc_write(struct mc *c, mc_write_fn fn, void *ud);

/* Sticky operations. get returns true when found (val set); a missing key
 * is not an error. */
bool mc_txn_get(struct mc_txn *t, MDB_dbi dbi, const void *k, size_t klen, MDB_val *val);
void mc_txn_put(struct mc_txn *t, MDB_dbi dbi, const void *k, size_t klen, const void *v,
                size_t vlen);
void mc_txn_del(struct mc_txn *t, MDB_dbi dbi, const void *k, size_t klen);

/* ---- keys (mc_codec.c) ---- */

#define MC_KEY_MAX 511        /* LMDB's default maximum key size */
#define MC_PLAIN_DIR_MAX 240  /* longer parent paths are hashed */
#define MC_HASH_PREFIX_LEN 18 /* "\0\0" + 16 bytes of sha256 */

struct mc_key {
    unsigned char b[MC_KEY_MAX];
    size_t plen; /* length of the directory prefix */
    size_t len;  /* whole key */
};
/* Sets k to dir's prefix ("dir\0" or the hashed form). dir is normalized. */
void mc_key_dir(struct mc_key *k, const char *dir, size_t dirlen);
/* Appends a name to k's prefix. 0 or -ENAMETOOLONG / -EINVAL. */
int mc_key_name(struct mc_key *k, const char *name, size_t namelen);
/* Normalizes path (strips '/' at both ends) into start/len, and splits it at
 * its last '/'. Returns 0, or -EINVAL for the root or an empty name. */
int mc_path_split(const char *path, const char **p, size_t *plen, size_t *dirlen, const char **name,
                  size_t *namelen);
/* Strips '/' at both ends. */
void mc_path_norm(const char *path, const char **p, size_t *len);

/* ---- values (mc_codec.c) ---- */

#define MC_VAL_VERSION 1
enum mc_kind { MCK_ATTR = 'A', MCK_NEG = 'N', MCK_DIR = 'D' };

/* Encodes an attribute (a != NULL) or negative (a == NULL) entry into a
 * malloc'd buffer (*out, caller frees). 0 or -ENOMEM. */
int mc_val_encode_ent(const struct mc_attr *a, mc_time_t fetched, unsigned char **out,
                      size_t *outlen);
/* Reads kind and fetched only (cheap). 0 or -EINVAL on a malformed value or
 * another value version. */
int mc_val_peek(const void *v, size_t len, int *kind, mc_time_t *fetched);
/* Full decode into e (negative, fetched, attr); e->name and attr.info.key are
 * left to the caller. 0, -EINVAL (malformed) or -ENOMEM; on error e is
 * cleared. */
int mc_val_decode_ent(const void *v, size_t len, struct mc_entry *e);
/* Listing record: complete_at and the directory path. */
int mc_val_encode_dir(mc_time_t complete_at, const char *dir, size_t dirlen, unsigned char **out,
                      size_t *outlen);
int mc_val_decode_dir(const void *v, size_t len, mc_time_t *complete_at);

#endif
