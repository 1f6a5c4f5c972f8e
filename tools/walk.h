/* walk: a merge-join of two directory trees, one sorted directory at a time. */
#ifndef BFS_TOOLS_WALK_H
#define BFS_TOOLS_WALK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

enum walk_type { WALK_NONE = 0, WALK_FILE, WALK_DIR, WALK_LINK, WALK_OTHER };

/* One side of an item, from lstat. type WALK_NONE: absent (err 0) or lstat failed (err < 0,
 * e.g. -ENOENT when the name vanished between readdir and lstat). */
struct walk_stat {
    enum walk_type type;
    int err;
    uint64_t size;
    struct timespec mtime;
    mode_t mode;
};

/* An entry present on at least one side. Strings are borrowed for the callback's duration. */
struct walk_item {
    const char *path; /* relative to the roots, no leading '/', e.g. "a/b.txt" */
    const char *name; /* last component of path */
    struct walk_stat src, dst;
};

enum walk_next { WALK_CONTINUE = 0, WALK_DESCEND, WALK_STOP };
enum walk_side { WALK_SRC = 0, WALK_DST = 1 };

/*
 * Callbacks, all run on the walking thread. Only `item` is required.
 * item:      one merged name; return WALK_DESCEND to enter it (sides that are not directories
 *            list as empty), WALK_CONTINUE, or WALK_STOP to end the walk.
 * leave:     after the children of a descended item (post-order).
 * dir_error: a directory of one side exists but could not be listed (err negative errno);
 *            its subtree is skipped on both sides.
 * skip_name: return true to hide a raw name of one side (dirpath "" at the root).
 */
struct walk_ops {
    enum walk_next (*item)(void *arg, const struct walk_item *it);
    void (*leave)(void *arg, const struct walk_item *it);
    void (*dir_error)(void *arg, const char *path, enum walk_side side, int err);
    bool (*skip_name)(void *arg, enum walk_side side, const char *dirpath, const char *name);
};

/*
 * Walks src_root and dst_root (directories; dst_root may be missing: it lists as empty) in
 * strcmp byte order, depth-first. Memory: one sorted name list per side per level of the
 * current path. Returns 0, 1 when a callback stopped the walk, or -errno when a root cannot
 * be listed (src) or paths get too long for the path buffer (then it was reported via
 * dir_error and the walk went on).
 */
int walk_run(const char *src_root, const char *dst_root, const struct walk_ops *ops, void *arg);

/* lstat into a walk_stat (type WALK_NONE with err on failure). */
void walk_lstat(const char *path, struct walk_stat *out);
/* The walk type of an lstat mode. */
enum walk_type walk_type_of(mode_t mode);

#endif
