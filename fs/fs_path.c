/* fs_path: pure mapping between mount paths, object keys and listing entries (no I/O). */
#include "fs/fs_path.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/objstore.h"

static const char folder_suffix[] = "_$folder$";

char *fs_path_join(const char *parent, const char *name)
{
    size_t pl = strlen(parent), nl = strlen(name);
    char *s;

    if (pl == 0)
        return strdup(name);
    s = malloc(pl + nl + 2);
    if (!s)
        return NULL;
    memcpy(s, parent, pl);
    s[pl] = '/';
    memcpy(s + pl + 1, name, nl + 1);
    return s;
}

char *fs_path_dir_prefix(const char *dir)
{
    return dir[0] ? fs_path_join(dir, "") : strdup("");
}

char *fs_path_normalize(const char *prefix)
{
    size_t n = strlen(prefix), o = 0;
    char *s = malloc(n + 1);

    if (!s)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (prefix[i] == '/' && (o == 0 || s[o - 1] == '/'))
            continue;
        s[o++] = prefix[i];
    }
    while (o > 0 && s[o - 1] == '/')
        o--;
    s[o] = '\0';
    return s;
}

const char *fs_path_name(const char *path)
{
    const char *p = strrchr(path, '/');

    return p ? p + 1 : path;
}

char *fs_path_rebase(const char *path, const char *old_prefix, const char *new_prefix,
                     bool *enomem)
{
    size_t ol = strlen(old_prefix), nl = strlen(new_prefix), rl;
    char *s;

    *enomem = false;
    if (strncmp(path, old_prefix, ol) != 0)
        return NULL;
    if (ol > 0 && path[ol] != '\0' && path[ol] != '/')
        return NULL;
    rl = strlen(path + ol);
    if (ol == 0 && rl > 0) /* old prefix is the root: everything is below it */
        return fs_path_join(new_prefix, path);
    s = malloc(nl + rl + 1);
    if (!s) {
        *enomem = true;
        return NULL;
    }
    memcpy(s, new_prefix, nl);
    memcpy(s + nl, path + ol, rl + 1);
    if (nl == 0 && s[0] == '/')
        memmove(s, s + 1, rl);
    return s;
}

bool fs_name_valid(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > 255 || strchr(name, '/'))
        return false;
    return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int fs_list_item_name(const struct os_info *it, const char *pfx, char **name, bool *is_dir)
{
    size_t pl = strlen(pfx), kl, fl = sizeof(folder_suffix) - 1;
    const char *rest;
    bool dir = it->is_prefix;

    *name = NULL;
    *is_dir = false;
    if (!it->key || strncmp(it->key, pfx, pl) != 0)
        return 0;
    rest = it->key + pl;
    kl = strlen(rest);
    if (kl == 0)
        return 0; /* the directory's own "dir/" marker */
    if (rest[kl - 1] == '/') {
        kl--;
        dir = true;
    } else if (kl > fl && strcmp(rest + kl - fl, folder_suffix) == 0) {
        kl -= fl;
        dir = true;
    } else if (it->is_dir_marker) {
        dir = true;
    }
    if (kl == 0 || memchr(rest, '/', kl))
        return 0;
    *name = strndup(rest, kl);
    if (!*name)
        return -ENOMEM;
    if (!fs_name_valid(*name)) {
        free(*name);
        *name = NULL;
        return 0;
    }
    *is_dir = dir;
    return 1;
}

bool fs_parse_u32(const char *s, uint32_t *out)
{
    char *end = NULL;
    unsigned long long v;

    if (!s || !*s)
        return false;
    errno = 0;
    v = strtoull(s, &end, s[0] == '0' && s[1] ? 8 : 10);
    if (errno || *end || v > 0xffffffffULL)
        return false;
    *out = (uint32_t)v;
    return true;
}

mode_t fs_mode_of(bool is_dir, bool has_mode, uint32_t meta_mode, mode_t def_file,
                  mode_t def_dir)
{
    mode_t type = is_dir ? S_IFDIR : S_IFREG;
    mode_t perm = is_dir ? def_dir : def_file;

    if (has_mode) {
        perm = meta_mode & 07777;
        if (!is_dir && (meta_mode & S_IFMT) == S_IFLNK)
            type = S_IFLNK;
    }
    return type | (perm & 07777);
}
