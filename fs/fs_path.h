/* fs_path: pure mapping between mount paths, object keys and listing entries (no I/O). */
#ifndef BFS_FS_PATH_H
#define BFS_FS_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct os_info;

/* Paths are full object keys without leading or trailing '/' ("" is the bucket root). */

/* parent + "/" + name (just name when parent is ""). malloc'd, caller frees; NULL on ENOMEM. */
char *fs_path_join(const char *parent, const char *name);
/* The listing prefix of dir: "" for "", else dir + "/". malloc'd; NULL on ENOMEM. */
char *fs_path_dir_prefix(const char *dir);
/* A user-given mount prefix ("a/b/", "/a//b") normalized to "a/b". malloc'd; NULL on ENOMEM. */
char *fs_path_normalize(const char *prefix);
/* Last component of path (borrowed pointer into path). */
const char *fs_path_name(const char *path);
/* path with new_prefix in place of old_prefix when path is old_prefix or below it
 * (component-wise); NULL when it is not below, or on ENOMEM (then *enomem is set). */
char *fs_path_rebase(const char *path, const char *old_prefix, const char *new_prefix,
                     bool *enomem);
/* True when name can be a path component: non-empty, no '/', not "." or "..", at most
 * 255 bytes. */
bool fs_name_valid(const char *name);

/*
 * Name of a listing item of directory prefix `pfx` ("" or ending in '/'):
 * returns 1 with *name (malloc'd, caller frees) and *is_dir, 0 when the item
 * is not a child to show (the directory's own marker, a key outside pfx, an
 * invalid name), -ENOMEM. Prefixes "pfx/d/", S3 markers "pfx/d/", s3fs markers
 * "pfx/d_$folder$" and items flagged is_dir_marker (Azure hdi_isfolder) are
 * directories named "d".
 */
int fs_list_item_name(const struct os_info *it, const char *pfx, char **name, bool *is_dir);

/*
 * Parses s3fs-style metadata: mode (decimal, or octal with a leading 0), uid,
 * gid. Returns true when the value parses; *out gets it.
 */
bool fs_parse_u32(const char *s, uint32_t *out);

/* The st_mode of an entry: type from meta_mode when it carries file-type bits
 * (S_IFLNK for s3fs symlinks), else from is_dir; permissions from meta_mode
 * when has_mode, else def_file/def_dir. */
mode_t fs_mode_of(bool is_dir, bool has_mode, uint32_t meta_mode, mode_t def_file,
                  mode_t def_dir);

#endif
