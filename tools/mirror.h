/* mirror: copy a source directory tree onto a target tree, incrementally, with job logs. */
#ifndef BFS_TOOLS_MIRROR_H
#define BFS_TOOLS_MIRROR_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "tools/walk.h"

/* merge (default): items only in the target are kept; mirror: they are deleted. */
enum mirror_mode { MIRROR_MODE_MERGE = 0, MIRROR_MODE_MIRROR };
/* How "same" is decided for two files: size and mtime (default), size only, or MD5. */
enum mirror_compare { MIRROR_CMP_SIZE_MTIME = 0, MIRROR_CMP_SIZE, MIRROR_CMP_CHECKSUM };

struct mirror_filter;

/* Options of one run; read-only while it runs. Strings are borrowed. */
struct mirror_opts {
    const char *src, *dst;
    const char *src_name, *dst_name; /* shown in the summary instead (URLs); may be NULL */
    enum mirror_mode mode;
    enum mirror_compare compare;
    bool dry_run;
    int64_t max_delete;                 /* -1: no limit */
    int jobs;                           /* copy workers, >= 1 */
    int progress;                       /* -1: auto (on when stderr is a terminal), 0 off, 1 on */
    const char *log_dir;                /* NULL: the default (mirror_default_log_dir) */
    const char *job_id;                 /* NULL: generated */
    const char *flags;                  /* the options as given, for the summary; may be NULL */
    const struct mirror_filter *filter; /* may be NULL: everything included */
};

/* Runs a mirror job; prints errors and the summary on stderr, the dry-run plan on stdout.
 * Returns an exit code: 0, 7 (some items failed or deletes refused), 2, 3, 4, 1, 128+signal. */
int mirror_run(const struct mirror_opts *o);

/* The commands (argv[0] is the command name). Exit codes as documented in their --help. */
int cmd_mirror(int argc, char **argv);
int cmd_verify(int argc, char **argv);
/* Their --help texts (static strings), for `bridgefs help mirror|verify`. */
const char *mirror_help_text(void);
const char *verify_help_text(void);

/* ---- URLs as SRC or DST: private mounts for the length of a run (mirror_mount.c) ---- */

struct mirror_mounts;
/* true when arg is a URL (contains "://"), not a path. */
bool mirror_is_url(const char *arg);
/* Mounts each URL among src and dst on a mountpoint in a new mkdtemp folder under $TMPDIR (else
 * /tmp), with `bridgefs mount URL MP -o cache=<temp>,ttl=3600[,ro]` run from /proc/self/exe in
 * its own process group (ro: src_ro / dst_ro). Returns -1 to go on, else an exit code: the
 * mount's own (it printed why), or 128+signal when canceled (mirror_signals_install first).
 * *out is always set (NULL only on ENOMEM) and must be closed with mirror_mounts_close, also
 * on error. */
int mirror_mounts_open(const char *cmd, const char *src, const char *dst, bool src_ro, bool dst_ro,
                       struct mirror_mounts **out);
/* Two URLs (else 0): -EINVAL with a static reason in *why when they name the same place or
 * one is inside the other (s3://b and s3://b/x/), as mirror_check_overlap does for paths. */
int mirror_check_url_overlap(const char *src, const char *dst, const char **why);
/* The path to give the engine for side 0 (SRC) or 1 (DST): the mountpoint or the argument. */
const char *mirror_mounts_path(const struct mirror_mounts *m, int side);
/* Unmounts (`bridgefs umount`, which waits for uploads; lazily if that fails), removes the
 * temporary folders, frees. NULL: no-op. */
void mirror_mounts_close(struct mirror_mounts *m);

/* ---- pure parts (unit-tested in tests/unit/test_mirror_*.c) ---- */

enum mirror_action {
    MIRROR_ACT_SKIP,        /* same on both sides: NoCopyNecessary */
    MIRROR_ACT_COPY,        /* file or symlink new or changed: copy */
    MIRROR_ACT_CHECKSUM,    /* files of equal size in checksum mode: compare MD5, then copy/skip */
    MIRROR_ACT_MKDIR,       /* directory only in the source: create it and descend */
    MIRROR_ACT_DESCEND,     /* directory on both sides */
    MIRROR_ACT_DELETE,      /* only in the target, mirror mode */
    MIRROR_ACT_KEEP,        /* only in the target, merge mode */
    MIRROR_ACT_REPLACE,     /* directory vs non-directory, mirror mode: delete target, then copy */
    MIRROR_ACT_CONFLICT,    /* directory vs non-directory, merge mode: reported as Failed */
    MIRROR_ACT_UNSUPPORTED, /* source is a fifo, socket or device */
};

/* The decision for one merged item. src and dst are as the walk gives them (type WALK_NONE:
 * absent); a source whose lstat failed must be handled before (it is not decided here). */
enum mirror_action mirror_decide(const struct walk_stat *src, const struct walk_stat *dst,
                                 enum mirror_mode mode, enum mirror_compare cmp);
/* Two mtimes are the same when they differ by less than one second (targets that keep
 * whole seconds, e.g. s3fs-style metadata, truncate or round; mounts keep nanoseconds). */
bool mirror_same_mtime(const struct timespec *a, const struct timespec *b);

/* Include/exclude rules, rsync-like: the first rule that matches decides; no match includes.
 * A pattern with a '/' (other than a trailing one) matches the whole relative path (a leading
 * '/' anchors at the root, which every path is relative to anyway); without, it matches the
 * last component at any depth. A trailing '/' matches directories only. '*' and '?' do not
 * match '/' unless the pattern contains "**", which then lets every '*' cross directories. */
struct mirror_filter *mirror_filter_new(void);
/* 0, -EINVAL (empty pattern), -ENOMEM. The pattern is copied. */
int mirror_filter_add(struct mirror_filter *f, bool include, const char *pattern);
bool mirror_filter_excluded(const struct mirror_filter *f, const char *path, bool is_dir);
/* mirror_filter_free(NULL) is a no-op. */
void mirror_filter_free(struct mirror_filter *f);

/* The default log directory into out: $XDG_STATE_HOME/bridgefs/jobs, else
 * $HOME/.local/state/bridgefs/jobs. 0, or -ENOENT when neither variable is set. */
int mirror_default_log_dir(char *out, size_t outlen);

/* Checks SRC and DST (already resolved with realpath) do not overlap: 0, or -EINVAL with a
 * static reason in *why ("source and target are the same directory", ...). */
int mirror_check_overlap(const char *src_real, const char *dst_real, const char **why);

#endif
