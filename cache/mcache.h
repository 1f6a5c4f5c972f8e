/* mcache: persistent LMDB metadata cache of attributes, directory listings and negative entries. */
#ifndef BFS_CACHE_MCACHE_H
#define BFS_CACHE_MCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/objstore.h"

/*
 * One cache per namespace (endpoint + bucket/container, e.g.
 * "s3 http://127.0.0.1:8080 mybucket"), stored as one LMDB environment in
 * FOLDER/<label>-<sha256(ns)[0..8] hex>/ (data.mdb, lock.mdb). The namespace
 * string is also stored inside (meta record "namespace") for inspection.
 * Several processes may open the same namespace at once (two mounts, a mount
 * and `bridgefs ls`): LMDB's lock file coordinates them.
 *
 * Paths. Every path is the FULL object key in the bucket/container, without a
 * leading or trailing '/' ("" is the bucket root), never relative to a mount
 * root: two mounts of different prefixes of one bucket share the namespace, so
 * a mount of s3://b/photos looks up "photos/2024/a.jpg". Leading and trailing
 * '/' are stripped. A path's parent is everything before its last '/', its
 * name everything after; names are at most MC_NAME_MAX bytes (longer:
 * -ENAMETOOLONG; the kernel could not look them up anyway).
 *
 * Layout. An entry (attributes or negative) is stored under (parent, name):
 * key "parent\0name", so a directory's children are one sorted range scan
 * (byte order of names). When the parent path is longer than 240 bytes the
 * key is "\0\0" + sha256(parent)[0..16] + name instead, because LMDB keys are
 * at most 511 bytes. A directory's listing record (complete_at, and its path
 * for inspection) is keyed by the same parent prefix in a second table.
 * Values: a version byte, a kind byte, then varints and length-prefixed
 * strings (cache/mc_codec.c). A third table holds the format version.
 *
 * Time is mc_time_t: nanoseconds since the Unix epoch (CLOCK_REALTIME, so
 * processes agree). Callers pass `now` (mc_now()) so tests can move time.
 *
 * Threads. Every function is safe to call from many threads on one `struct
 * mc` (FUSE workers), except mc_close, and except a `struct mc_dirfill`,
 * which one thread uses at a time. Do not use a `struct mc` across fork():
 * open it in the child.
 *
 * Errors: 0 (or a documented positive value) or a negative errno. -ENOSPC:
 * the map reached opts.map_max or the disk is full (the write is not done,
 * the cache stays consistent). -EIO: the cache file was found corrupt while
 * running; it is marked and rebuilt on the next mc_open, and until then every
 * call fails with -EIO (callers go to the backend).
 */

typedef int64_t mc_time_t;
#define MC_NS_PER_SEC 1000000000LL
#define MC_NAME_MAX 255
/* User metadata over this many bytes (keys + values) is not stored; the
 * entry says meta_truncated and the caller HEADs when it needs it. */
#define MC_META_MAX 8192
/* Format version stored in the meta table; another value means rebuild. */
#define MC_FORMAT_VERSION 1

/* CLOCK_REALTIME in nanoseconds. */
mc_time_t mc_now(void);

struct mc;

struct mc_opts {
    const char *folder; /* NULL: $XDG_CACHE_HOME/bridgefs, else $HOME/.cache/bridgefs */
    size_t map_initial; /* 0: 64 MiB. The map grows on demand (doubling, then +1 GiB steps) */
    size_t map_max;     /* 0: 16 GiB. Past it, writes fail with -ENOSPC */
    bool no_sync;       /* MDB_NOSYNC: no fsync per write (benchmarks); a power loss may
                         * then corrupt the file. Default: data fsynced, meta lazily
                         * (MDB_NOMETASYNC: a crash loses at most the last writes). */
    bool verify;        /* Before use, read every record in a child process; a failure or
                         * a crash there means set aside and rebuild. Costs one read of
                         * the whole file. Without it, damage LMDB notices (bad meta
                         * pages, wrong page types, page numbers out of range) is caught
                         * at open or at run time, but LMDB has no checksums and a page
                         * of garbage in the middle of the file can crash a reader. */
};

/* Opens (creating folder and environment as needed) the cache of namespace
 * `ns`. o may be NULL for defaults. A file that is not LMDB, is corrupt, has
 * another format version or another namespace is renamed aside
 * (data.mdb.corrupt-YYYYmmddTHHMMSS, keeping only the newest such copy) and
 * rebuilt empty, with a log_warn. *out is freed with mc_close. */
int mc_open(const char *ns, const struct mc_opts *o, struct mc **out);
/* Closes; no other thread may be inside an mc_ call on c. Threads that used c
 * may live on or be exiting (their read slots are released here). NULL is a
 * no-op. */
void mc_close(struct mc *c);
/* The namespace directory (holds data.mdb); borrowed, valid until mc_close.
 * The FUSE layer may keep staging files in it. */
const char *mc_dir_path(const struct mc *c);

/* Freshness of what a lookup found. */
enum mc_fresh {
    MC_MISS = 0,  /* nothing known */
    MC_FRESH = 1, /* fetched less than ttl ago */
    MC_STALE = 2, /* older: returned anyway, for serve-stale-on-error */
};

/* Attributes of one object or directory. */
struct mc_attr {
    /* info.key: on output the full path (owned); ignored on input. is_prefix
     * means "a directory without a marker object" and is_dir_marker "a
     * directory with one"; either makes it a directory (mc_attr_is_dir). */
    struct os_info info;
    bool has_mode, has_uid, has_gid;
    uint32_t mode, uid, gid;
    bool meta_truncated; /* output: user metadata was over MC_META_MAX, not stored */
};
static inline bool mc_attr_is_dir(const struct mc_attr *a)
{
    return a->info.is_prefix || a->info.is_dir_marker;
}
/* Frees what a points to (not a itself); a is left zeroed. NULL is a no-op. */
void mc_attr_clear(struct mc_attr *a);

/* What a lookup or a directory page returns. */
struct mc_entry {
    int fresh;         /* MC_FRESH or MC_STALE */
    bool negative;     /* known absent (attr is empty) */
    mc_time_t fetched; /* when it was known to be so */
    char *name;        /* last path component; owned */
    struct mc_attr attr;
};
/* Frees what e points to; e is left zeroed. NULL is a no-op. */
void mc_entry_clear(struct mc_entry *e);

/*
 * Looks up path. Returns MC_MISS, MC_FRESH or MC_STALE (>= 0), or a negative
 * errno. On FRESH/STALE *out is filled (caller mc_entry_clear's it); on MISS
 * and errors it is zeroed. When there is no entry but the parent directory
 * was listed completely, the answer is negative with fetched = complete_at.
 * Fresh means now - fetched < ttl; ttl < 0 never expires; ttl 0 is always
 * stale.
 */
int mc_get(struct mc *c, const char *path, mc_time_t now, mc_time_t ttl, struct mc_entry *out);

/* Stores attributes of path, fetched at now (an own write, a HEAD, a
 * LOOKUP): replaces any entry, keeps the parent listing complete. */
int mc_put_attr(struct mc *c, const char *path, const struct mc_attr *a, mc_time_t now);
/* Records that path was absent at now (a HEAD that said 404). */
int mc_put_negative(struct mc *c, const char *path, mc_time_t now);
/* An own delete: the entry becomes negative (so it leaves the parent's
 * listing) and path's own listing record, if it was a directory, goes. */
int mc_del(struct mc *c, const char *path, mc_time_t now);
/* Drops whatever is known of path (no negative entry). */
int mc_forget(struct mc *c, const char *path);

/* Drops dir's "listed completely" record (its children stay as entries). */
int mc_dir_forget(struct mc *c, const char *dir);
/* Freshness of dir's complete listing: MC_MISS (never listed completely),
 * MC_FRESH or MC_STALE; *complete_at (may be NULL) gets its time. */
int mc_dir_state(struct mc *c, const char *dir, mc_time_t now, mc_time_t ttl,
                 mc_time_t *complete_at);

/*
 * Filling a directory from a LIST: mc_dir_begin(dir, now) with now taken
 * BEFORE the first LIST request; mc_dir_add_page for each page (one write
 * transaction per page; entries get fetched = begin's now); mc_dir_commit
 * once the last page is in: it removes every child of dir known from before
 * `now` that the listing did not return (vanished, in transactions of a few
 * thousand entries) and records "complete at now". Entries written by others
 * after `now` (own writes during the listing) are kept. Pages may come in any
 * order. mc_dir_abort gives up: pages already added stay as entries, the old
 * complete record (if any) is untouched.
 */
struct mc_dirfill;
int mc_dir_begin(struct mc *c, const char *dir, mc_time_t now, struct mc_dirfill **out);
/* names[i] is a child name (no '/'; invalid or over-long names are skipped
 * with a log_debug), attrs[i] its attributes. Everything borrowed. */
int mc_dir_add_page(struct mc_dirfill *f, const char *const *names, const struct mc_attr *attrs,
                    size_t n);
/* Frees f whatever the result. */
int mc_dir_commit(struct mc_dirfill *f);
/* Frees f. NULL is a no-op. */
void mc_dir_abort(struct mc_dirfill *f);

/* A page of a directory's children (never negative entries), in byte order of
 * names. ents owned; mc_page_clear frees. */
struct mc_page {
    struct mc_entry *ents;
    size_t n;
    bool eof; /* no child after the last one returned */
};
/*
 * Reads up to max children of dir with name > after (after NULL or "": from
 * the first), each with its own freshness. Returns the freshness of dir's
 * complete listing (MC_MISS when it was never listed completely: the page is
 * then only what happens to be known) or a negative errno. Memory is bounded
 * by max: a 20,000-entry directory is read in pages.
 */
int mc_dir_read(struct mc *c, const char *dir, const char *after, size_t max, mc_time_t now,
                mc_time_t ttl, struct mc_page *out);
/* Frees the entries; p is left zeroed. NULL is a no-op. */
void mc_page_clear(struct mc_page *p);

struct mc_stats {
    size_t map_size;     /* current map size of this process */
    uint64_t file_size;  /* bytes of data.mdb on disk */
    uint64_t used_bytes; /* pages in use * page size */
    uint64_t entries;    /* attribute and negative entries */
    uint64_t dirs;       /* listing records */
    unsigned grows;      /* map growths done by this process */
};
int mc_stats(struct mc *c, struct mc_stats *out);

#endif
