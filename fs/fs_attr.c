/* fs_attr: attributes and directory listings, from the metadata cache or the backend. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "fs/fs_int.h"
#include "fs/fs_path.h"

static const char folder_suffix[] = "_$folder$";

void fs_log_error(const char *what, const char *path, int rc)
{
    const struct os_error *e = os_last_error();

    if (e && e->err == rc && e->kind != OSE_NONE)
        log_error("fs: %s %s: %s (%s; HTTP %ld %s)", what, path, strerror(-rc),
                  e->message[0] ? e->message : os_errkind_str(e->kind), e->http_status, e->code);
    else
        log_error("fs: %s %s: %s", what, path, strerror(-rc));
}

char *fs_marker_key(const struct fs *fs, const char *dir)
{
    return fs->list_has_meta ? strdup(dir) : fs_path_join(dir, "");
}

void fs_attr_from_info(struct mc_attr *a, struct os_info *info)
{
    memset(a, 0, sizeof(*a));
    a->info = *info;
    memset(info, 0, sizeof(*info));
    a->has_mode = fs_parse_u32(os_info_meta(&a->info, "mode"), &a->mode);
    a->has_uid = fs_parse_u32(os_info_meta(&a->info, "uid"), &a->uid);
    a->has_gid = fs_parse_u32(os_info_meta(&a->info, "gid"), &a->gid);
}

void fs_attr_to_stat(const struct fs *fs, uint64_t ino, const struct mc_attr *a, struct stat *st)
{
    bool dir = mc_attr_is_dir(a);

    memset(st, 0, sizeof(*st));
    st->st_ino = ino;
    st->st_mode = fs_mode_of(dir, a->has_mode, a->mode, fs->def_file, fs->def_dir);
    st->st_nlink = dir ? 2 : 1;
    st->st_uid = a->has_uid ? a->uid : fs->cfg.uid;
    st->st_gid = a->has_gid ? a->gid : fs->cfg.gid;
    st->st_size = dir ? 0 : a->info.size;
    if (S_ISLNK(st->st_mode) && st->st_size == 0) {
        const char *t = os_info_meta(&a->info, "symlink_target");
        st->st_size = t ? (off_t)strlen(t) : 0;
    }
    st->st_blksize = 1 << 20;
    st->st_blocks = (st->st_size + 511) / 512;
    st->st_mtim = a->info.mtime;
    if (fs->cfg.server_mtime && a->info.last_modified.tv_sec != 0)
        st->st_mtim = a->info.last_modified; /* the same whether metadata is known or not */
    if (st->st_mtim.tv_sec == 0 && st->st_mtim.tv_nsec == 0)
        st->st_mtim = dir ? fs->started : a->info.last_modified;
    st->st_ctim = st->st_mtim;
    st->st_atim = st->st_mtim;
}

void fs_cache_put(struct fs *fs, const char *path, const struct mc_attr *a)
{
    int rc = mc_put_attr(fs->mc, path, a, mc_now());

    if (rc < 0)
        log_warn("fs: cache update of %s failed: %s", path, strerror(-rc));
}

void fs_cache_del(struct fs *fs, const char *path)
{
    int rc = mc_del(fs->mc, path, mc_now());

    if (rc < 0)
        log_warn("fs: cache delete of %s failed: %s", path, strerror(-rc));
}

void fs_cache_refresh(struct fs *fs, const char *path)
{
    struct os_info info = {0};
    struct mc_attr a;

    if (fs->ops->head(fs->be, path, &info) == 0) {
        fs_attr_from_info(&a, &info);
        fs_cache_put(fs, path, &a);
        mc_attr_clear(&a);
    } else {
        os_info_clear(&info);
        mc_forget(fs->mc, path);
    }
}

/* Directory attributes for path from an optional marker. */
static void dir_attr(struct mc_attr *a, struct os_info *marker)
{
    if (marker && marker->key) {
        fs_attr_from_info(a, marker);
        a->info.is_dir_marker = true;
        a->info.size = 0;
    } else {
        memset(a, 0, sizeof(*a));
        a->info.is_prefix = true;
    }
}

int fs_attr_fetch(struct fs *fs, const char *path, struct mc_attr *a)
{
    struct os_info file = {0}, marker = {0};
    struct os_list_page pg = {0};
    char *pfx = NULL, *k = NULL;
    bool is_file = false, is_dir = false;
    int rc;

    memset(a, 0, sizeof(*a));
    rc = fs->ops->head(fs->be, path, &file);
    if (rc == 0) {
        if (file.is_dir_marker) {
            marker = file;
            memset(&file, 0, sizeof(file));
            is_dir = true;
        } else {
            is_file = true;
        }
    } else if (rc != -ENOENT) {
        goto out;
    }
    pfx = fs_path_join(path, "");
    if (!pfx) {
        rc = -ENOMEM;
        goto out;
    }
    if (!is_dir) {
        rc = fs->ops->list_page(fs->be, pfx, "/", NULL, 1, &pg);
        if (rc < 0)
            goto out;
        if (pg.n > 0) {
            is_dir = true;
            if (!pg.items[0].is_prefix && strcmp(pg.items[0].key, pfx) == 0 &&
                fs->ops->head(fs->be, pfx, &marker) != 0)
                os_info_clear(&marker);
        }
    }
    if (!is_dir && !is_file && !fs->list_has_meta) {
        k = malloc(strlen(path) + sizeof(folder_suffix));
        if (!k) {
            rc = -ENOMEM;
            goto out;
        }
        strcpy(k, path);
        strcat(k, folder_suffix);
        rc = fs->ops->head(fs->be, k, &marker);
        if (rc == 0)
            is_dir = true;
        else if (rc != -ENOENT)
            goto out;
    }
    if (is_dir) {
        dir_attr(a, &marker);
    } else if (is_file) {
        fs_attr_from_info(a, &file);
    } else {
        rc = -ENOENT;
        mc_put_negative(fs->mc, path, mc_now());
        goto out;
    }
    rc = 0;
    fs_cache_put(fs, path, a);
out:
    os_info_clear(&file);
    os_info_clear(&marker);
    os_list_page_free(&pg);
    free(pfx);
    free(k);
    return rc;
}

/* A directory known from an S3 listing only: HEAD of its "dir/" marker; none means a
 * directory without a marker (the listing showed objects below it). */
int fs_attr_marker_fetch(struct fs *fs, const char *path, struct mc_attr *a)
{
    struct os_info marker = {0};
    char *k = fs_marker_key(fs, path);
    int rc = k ? fs->ops->head(fs->be, k, &marker) : -ENOMEM;

    free(k);
    if (rc == 0 || rc == -ENOENT) {
        dir_attr(a, rc == 0 ? &marker : NULL);
        fs_cache_put(fs, path, a);
        rc = 0;
    }
    os_info_clear(&marker);
    return rc;
}

int fs_attr_get(struct fs *fs, const char *path, bool need_meta, struct mc_attr *a)
{
    struct mc_entry e = {0};
    int fr, rc;

    memset(a, 0, sizeof(*a));
    if (strcmp(path, fs->root) == 0) {
        a->info.is_prefix = true;
        return 0;
    }
    fr = mc_get(fs->mc, path, mc_now(), fs->cfg.ttl_ns, &e);
    if (fr == MC_FRESH) {
        if (e.negative) {
            rc = -ENOENT;
            goto out;
        }
        if (!(need_meta && e.attr.meta_truncated)) {
            *a = e.attr;
            memset(&e.attr, 0, sizeof(e.attr));
            rc = 0;
            goto out;
        }
        /* a listed entry: its HEAD (a directory's marker), no directory probe */
        rc = fs_sa_fetch(fs, path, mc_attr_is_dir(&e.attr), a);
        goto out;
    }
    rc = fs_attr_fetch(fs, path, a);
    if (rc < 0 && rc != -ENOENT && rc != -ENOMEM && fr == MC_STALE && !e.negative) {
        log_warn("fs: %s: serving stale attributes (%s)", path, strerror(-rc));
        *a = e.attr;
        memset(&e.attr, 0, sizeof(e.attr));
        rc = 0;
    }
out:
    if (fr > 0)
        mc_entry_clear(&e);
    return rc;
}

/* ---- listings ---- */

/* The cached attributes of an S3 object or directory marker (listings carry no user
 * metadata): metadata of the same object version known from before, else meta_truncated
 * so that stat HEADs it once. */
static void merge_known_meta(struct fs *fs, const char *path, struct mc_attr *a)
{
    struct mc_entry e = {0};
    int fr = mc_get(fs->mc, path, mc_now(), -1, &e);

    a->meta_truncated = true;
    if (fr > 0 && !e.negative && !e.attr.meta_truncated &&
        mc_attr_is_dir(&e.attr) == mc_attr_is_dir(a) &&
        e.attr.info.is_dir_marker == a->info.is_dir_marker &&
        e.attr.info.size == a->info.size && e.attr.info.etag && a->info.etag &&
        strcmp(e.attr.info.etag, a->info.etag) == 0) {
        struct os_info keep = a->info;
        *a = e.attr;
        memset(&e.attr, 0, sizeof(e.attr));
        /* keep the listing's own fields, take metadata-derived ones from the cache */
        free(a->info.storage_class);
        a->info.storage_class = keep.storage_class;
        keep.storage_class = NULL;
        a->info.last_modified = keep.last_modified;
        os_info_clear(&keep);
        a->meta_truncated = false;
    }
    if (fr > 0)
        mc_entry_clear(&e);
}

struct pagebuf {
    char **names;
    struct mc_attr *attrs;
    size_t n;
};

static void pagebuf_clear(struct pagebuf *p)
{
    for (size_t i = 0; i < p->n; i++) {
        free(p->names[i]);
        mc_attr_clear(&p->attrs[i]);
    }
    free(p->names);
    free(p->attrs);
    memset(p, 0, sizeof(*p));
}

/*
 * Attributes of a directory from a listing item. On S3 a marker item carries no metadata,
 * and a common prefix "d/" hides whether a "d/" marker exists (a delimiter listing rolls it
 * into the prefix): both are meta_truncated, so that the first stat HEADs the marker (as
 * for files), unless the cache knows the directory fully from a fresh lookup. A lookup
 * and a listing then show the same attributes.
 */
static void listed_dir_attr(struct fs *fs, const char *path, struct os_info *it, struct mc_attr *a)
{
    struct mc_entry e = {0};
    int fr;

    dir_attr(a, it && !it->is_prefix ? it : NULL);
    if (fs->list_has_meta)
        return;
    if (a->info.is_dir_marker) {
        merge_known_meta(fs, path, a);
        return;
    }
    a->meta_truncated = true;
    fr = mc_get(fs->mc, path, mc_now(), fs->cfg.ttl_ns, &e);
    if (fr == MC_FRESH && !e.negative && mc_attr_is_dir(&e.attr) && !e.attr.meta_truncated) {
        mc_attr_clear(a);
        *a = e.attr;
        memset(&e.attr, 0, sizeof(e.attr));
    }
    if (fr > 0)
        mc_entry_clear(&e);
}

/* Whether directory `name` is already known from this fill: -1-i when the page holds
 * an entry of that name at index i, 1 when an earlier page gave its marker, else 0. */
static int dir_known(struct fs *fs, struct pagebuf *p, const char *path, const char *name,
                     mc_time_t began)
{
    struct mc_entry e = {0};
    int fr;

    for (size_t i = p->n; i-- > 0;)
        if (strcmp(p->names[i], name) == 0)
            return -1 - (int)i;
    fr = mc_get(fs->mc, path, began, -1, &e);
    if (fr > 0) {
        bool known = !e.negative && e.fetched >= began && e.attr.info.is_dir_marker;
        mc_entry_clear(&e);
        return known ? 1 : 0;
    }
    return 0;
}

/* Converts one LIST page of dir (prefix pfx) and adds it to the fill. */
static int add_page(struct fs *fs, struct mc_dirfill *f, const char *dir, const char *pfx,
                    struct os_list_page *pg, mc_time_t began)
{
    struct pagebuf p = {0};
    int rc = 0;

    p.names = calloc(pg->n ? pg->n : 1, sizeof(*p.names));
    p.attrs = calloc(pg->n ? pg->n : 1, sizeof(*p.attrs));
    if (!p.names || !p.attrs) {
        rc = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < pg->n; i++) {
        struct os_info *it = &pg->items[i];
        char *name = NULL, *path = NULL;
        bool is_dir;
        int k = fs_list_item_name(it, pfx, &name, &is_dir);
        struct mc_attr a;

        if (k < 0) {
            rc = k;
            goto out;
        }
        if (k == 0)
            continue;
        path = fs_path_join(dir, name);
        if (!path) {
            free(name);
            rc = -ENOMEM;
            goto out;
        }
        if (is_dir) {
            k = dir_known(fs, &p, path, name, began);
            if (k < 0 && !(it->is_prefix && mc_attr_is_dir(&p.attrs[-1 - k]))) {
                /* a marker beats a bare prefix, a directory beats a file of the same name */
                size_t j = (size_t)(-1 - k);
                mc_attr_clear(&p.attrs[j]);
                listed_dir_attr(fs, path, it, &p.attrs[j]);
                free(name);
                free(path);
                continue;
            }
            if (k != 0 && it->is_prefix) {
                free(name);
                free(path);
                continue;
            }
            listed_dir_attr(fs, path, it, &a);
        } else {
            fs_attr_from_info(&a, it);
            if (!fs->list_has_meta)
                merge_known_meta(fs, path, &a);
        }
        free(path);
        p.names[p.n] = name;
        p.attrs[p.n] = a;
        p.n++;
    }
    rc = mc_dir_add_page(f, (const char *const *)p.names, p.attrs, p.n);
out:
    pagebuf_clear(&p);
    return rc;
}

/* LISTs dir completely into the cache. */
static int dir_fill(struct fs *fs, const char *dir)
{
    struct mc_dirfill *f = NULL;
    struct os_list_page pg = {0};
    char *pfx = fs_path_dir_prefix(dir), *token = NULL;
    mc_time_t began = mc_now();
    int rc;

    if (!pfx)
        return -ENOMEM;
    rc = mc_dir_begin(fs->mc, dir, began, &f);
    if (rc < 0)
        goto out;
    do {
        rc = fs->ops->list_page(fs->be, pfx, "/", token, 0, &pg);
        free(token);
        token = NULL;
        if (rc < 0) {
            fs_log_error("LIST", pfx, rc);
            goto out;
        }
        rc = add_page(fs, f, dir, pfx, &pg, began);
        if (rc < 0)
            goto out;
        token = pg.next_token;
        pg.next_token = NULL;
        os_list_page_free(&pg);
    } while (token);
    rc = mc_dir_commit(f);
    f = NULL;
out:
    os_list_page_free(&pg);
    mc_dir_abort(f);
    free(token);
    free(pfx);
    return rc;
}

void fs_dirents_free(struct fs_dirent *ents, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(ents[i].name);
        mc_attr_clear(&ents[i].attr);
    }
    free(ents);
}

int fs_dir_prepare(struct fs *fs, const char *dir)
{
    int rc, st = mc_dir_state(fs->mc, dir, mc_now(), fs->cfg.ttl_ns, NULL);

    if (st == MC_FRESH)
        return 0;
    rc = dir_fill(fs, dir);
    if (rc < 0 && st == MC_STALE && rc != -ENOMEM)
        rc = 0; /* a stale listing beats none */
    return rc;
}

int fs_dir_page(struct fs *fs, const char *dir, const char *after, size_t max,
                struct fs_dirent **ents, size_t *n, bool *eof)
{
    struct mc_page pg = {0};
    struct fs_dirent *v;
    int rc;

    *ents = NULL;
    *n = 0;
    *eof = true;
    rc = mc_dir_read(fs->mc, dir, after, max, mc_now(), -1, &pg);
    if (rc < 0)
        return rc;
    v = calloc(pg.n ? pg.n : 1, sizeof(*v));
    if (!v) {
        mc_page_clear(&pg);
        return -ENOMEM;
    }
    for (size_t i = 0; i < pg.n; i++) {
        v[i].name = pg.ents[i].name;
        pg.ents[i].name = NULL;
        v[i].attr = pg.ents[i].attr;
        memset(&pg.ents[i].attr, 0, sizeof(pg.ents[i].attr));
    }
    *ents = v;
    *n = pg.n;
    *eof = pg.eof || pg.n == 0;
    mc_page_clear(&pg);
    return 0;
}

int fs_dir_has_children(struct fs *fs, const char *dir)
{
    struct os_list_page pg = {0};
    char *pfx = fs_path_dir_prefix(dir);
    int rc, found = 0;

    if (!pfx)
        return -ENOMEM;
    /* Two keys: the directory's own "dir/" marker may come first. */
    rc = fs->ops->list_page(fs->be, pfx, "/", NULL, 2, &pg);
    if (rc == 0)
        for (size_t i = 0; i < pg.n; i++)
            if (strcmp(pg.items[i].key, pfx) != 0)
                found = 1;
    os_list_page_free(&pg);
    free(pfx);
    return rc < 0 ? rc : found;
}
