/* fs: the FUSE filesystem over an object store and the metadata cache (public entry point). */
#ifndef BFS_FS_FS_H
#define BFS_FS_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct os_store;
struct mc;

/* Parsed once at start-up, read-only afterwards. Strings borrowed: they must outlive fs_serve. */
struct fs_config {
    const char *root;        /* key prefix mounted as the root ("" or "a/b", '/' trimmed) */
    const char *source_base; /* "s3://bucket" / "az://container", for user.bridgefs.source */
    const char *fsname;      /* shown in /proc/mounts, e.g. "bridgefs:s3://bucket" */
    int64_t ttl_ns;          /* metadata TTL, also the kernel entry/attr timeout; default 60 s */
    bool read_only;
    bool allow_other;
    uint32_t uid, gid;       /* owner of entries without uid/gid metadata */
    uint32_t umask;          /* applied to the default modes 0666 (files) and 0777 (dirs) */
    size_t part_size;        /* 0: the backend's part_size() */
    int jobs;                /* parallel ranged GETs / part uploads per file; default 4 */
    const char *staging_dir; /* NULL: <cache namespace dir>/staging */
    bool fuse_debug;         /* libfuse's -d */
    bool server_mtime;       /* stat from the listing alone (no HEAD per S3 file): mtime is the
                              * service's Last-Modified, never the stored `mtime` metadata */
};

/* Defaults: ttl 60 s, uid/gid of the process, umask 022, jobs 4. */
void fs_config_defaults(struct fs_config *c);

/*
 * Mounts on mountpoint and serves requests (multithreaded) until unmounted or
 * until SIGINT/SIGTERM/SIGHUP. `ready` is called exactly once: with 0 as soon
 * as the mount is live, or with a negative errno and a message when mounting
 * failed. Before returning, uploads of files still open complete. st and mc
 * are borrowed. Returns 0 after a clean unmount, else a negative errno.
 */
int fs_serve(const struct fs_config *c, struct os_store *st, struct mc *mc, const char *mountpoint,
             void (*ready)(void *ud, int err, const char *msg), void *ud);

#endif
