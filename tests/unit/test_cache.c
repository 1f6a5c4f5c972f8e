/* test_cache: unit tests of the LMDB metadata cache (cache/mcache.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <dirent.h>
#include <lmdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cache/mcache.h"
#include "check.h"
#include "core/log.h"

#define SEC MC_NS_PER_SEC
#define NS "s3 http://127.0.0.1:8080 testbucket"

static char g_root[256];
static char g_folder[512];
static int g_folder_n;

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

/* A fresh cache folder per test. */
static const char *new_folder(void)
{
    snprintf(g_folder, sizeof(g_folder), "%s/c%d", g_root, g_folder_n++);
    return g_folder;
}

/* Tests that write thousands of single-entry transactions skip fsync (fast). */
static struct mc *open_cache(const char *folder, size_t initial, size_t max, bool fast)
{
    struct mc_opts o = {.folder = folder, .map_initial = initial, .map_max = max, .no_sync = fast};
    struct mc *c = NULL;
    int err = mc_open(NS, &o, &c);

    if (err < 0)
        printf("# mc_open(%s): %s\n", folder, strerror(-err));
    return c;
}

/* Attributes with every field set; strings owned by a (mc_attr_clear). */
static void make_attr(struct mc_attr *a, int64_t size, time_t mtime, int n_meta)
{
    memset(a, 0, sizeof(*a));
    a->info.size = size;
    a->info.mtime.tv_sec = mtime;
    a->info.mtime.tv_nsec = 123456789;
    a->info.last_modified.tv_sec = mtime + 1;
    a->info.etag = strdup("d41d8cd98f00b204e9800998ecf8427e-2");
    for (int i = 0; i < 16; i++)
        a->info.md5[i] = (unsigned char)(i * 17);
    a->info.has_md5 = true;
    a->info.content_type = strdup("text/plain");
    a->info.storage_class = strdup("GLACIER");
    a->info.archived = true;
    a->has_mode = true;
    a->mode = 0100644;
    a->has_uid = true;
    a->uid = 1000;
    a->has_gid = false;
    if (n_meta > 0) {
        a->info.meta = calloc((size_t)n_meta, sizeof(*a->info.meta));
        a->info.n_meta = (size_t)n_meta;
        for (int i = 0; i < n_meta; i++) {
            char k[32];

            snprintf(k, sizeof(k), "key%d", i);
            a->info.meta[i].key = strdup(k);
            a->info.meta[i].value = strdup(i == 0 ? "" : "some value");
        }
    }
}

static void test_roundtrip(void)
{
    struct mc *c = open_cache(new_folder(), 0, 0, false);
    struct mc_attr a;
    struct mc_entry e;
    int r;
    bool same;

    CHECK(c != NULL, "cache_open_new", "mc_open failed");
    if (!c)
        return;
    make_attr(&a, 1234567890123LL, 1714979289, 3);
    CHECK(mc_put_attr(c, "dir/sub/file.txt", &a, 100 * SEC) == 0, "cache_put_attr", "put failed");
    r = mc_get(c, "/dir/sub/file.txt", 101 * SEC, 10 * SEC, &e);
    CHECK(r == MC_FRESH && !e.negative, "cache_get_attr_fresh", "r=%d neg=%d", r, e.negative);
    same = e.attr.info.size == a.info.size && e.attr.info.mtime.tv_sec == a.info.mtime.tv_sec &&
           e.attr.info.mtime.tv_nsec == a.info.mtime.tv_nsec &&
           e.attr.info.last_modified.tv_sec == a.info.last_modified.tv_sec && e.attr.info.has_md5 &&
           memcmp(e.attr.info.md5, a.info.md5, 16) == 0 && e.attr.info.archived &&
           !e.attr.info.is_dir_marker && !e.attr.info.is_prefix && e.attr.has_mode &&
           e.attr.mode == 0100644 && e.attr.has_uid && e.attr.uid == 1000 && !e.attr.has_gid &&
           e.fetched == 100 * SEC && e.attr.info.n_meta == 3 && !e.attr.meta_truncated;
    CHECK(same, "cache_attr_roundtrip_fields", "a field differs");
    CHECK_STREQ(e.attr.info.etag, a.info.etag, "cache_attr_roundtrip_etag");
    CHECK_STREQ(e.attr.info.content_type, "text/plain", "cache_attr_roundtrip_ctype");
    CHECK_STREQ(e.attr.info.storage_class, "GLACIER", "cache_attr_roundtrip_sclass");
    CHECK_STREQ(e.attr.info.key, "dir/sub/file.txt", "cache_attr_roundtrip_key");
    CHECK_STREQ(e.name, "file.txt", "cache_attr_roundtrip_name");
    CHECK(e.attr.info.n_meta == 3 && strcmp(e.attr.info.meta[0].value, "") == 0 &&
              strcmp(e.attr.info.meta[2].key, "key2") == 0 &&
              strcmp(e.attr.info.meta[2].value, "some value") == 0,
          "cache_attr_roundtrip_meta", "meta differs");
    mc_entry_clear(&e);
    mc_attr_clear(&a);

    /* NULL strings stay NULL; a directory marker; too much metadata is dropped. */
    memset(&a, 0, sizeof(a));
    a.info.is_dir_marker = true;
    a.info.mtime.tv_sec = -5; /* before 1970 */
    r = mc_put_attr(c, "dir/sub", &a, 100 * SEC);
    r = r == 0 ? mc_get(c, "dir/sub/", 100 * SEC, SEC, &e) : r;
    CHECK(r == MC_FRESH && e.attr.info.etag == NULL && e.attr.info.content_type == NULL &&
              mc_attr_is_dir(&e.attr) && e.attr.info.mtime.tv_sec == -5 && !e.attr.info.has_md5,
          "cache_attr_null_strings_dir", "r=%d", r);
    mc_entry_clear(&e);
    make_attr(&a, 1, 1, 0);
    a.info.meta = calloc(1, sizeof(*a.info.meta));
    a.info.n_meta = 1;
    a.info.meta[0].key = strdup("big");
    a.info.meta[0].value = calloc(1, MC_META_MAX + 10);
    memset(a.info.meta[0].value, 'x', MC_META_MAX + 5);
    r = mc_put_attr(c, "big", &a, 100 * SEC);
    r = r == 0 ? mc_get(c, "big", 100 * SEC, SEC, &e) : r;
    CHECK(r == MC_FRESH && e.attr.meta_truncated && e.attr.info.n_meta == 0 &&
              e.attr.info.size == 1,
          "cache_attr_meta_bounded", "r=%d trunc=%d", r, e.attr.meta_truncated);
    mc_entry_clear(&e);
    mc_attr_clear(&a);
    r = mc_get(c, "nothing/here", 100 * SEC, SEC, &e);
    CHECK(r == MC_MISS, "cache_get_miss", "r=%d", r);
    CHECK(mc_get(c, "/", 0, SEC, &e) == -EINVAL, "cache_get_root_einval", "root accepted");
    mc_close(c);
}

static void test_ttl_and_negative(void)
{
    struct mc *c = open_cache(new_folder(), 0, 0, false);
    struct mc_attr a;
    struct mc_entry e;
    int r;

    if (!c)
        return;
    make_attr(&a, 10, 1000, 0);
    mc_put_attr(c, "a/f", &a, 100 * SEC);
    r = mc_get(c, "a/f", 109 * SEC, 10 * SEC, &e);
    CHECK(r == MC_FRESH && e.fresh == MC_FRESH, "cache_ttl_fresh", "r=%d", r);
    mc_entry_clear(&e);
    r = mc_get(c, "a/f", 111 * SEC, 10 * SEC, &e);
    CHECK(r == MC_STALE && e.fresh == MC_STALE && e.attr.info.size == 10, "cache_ttl_stale_served",
          "r=%d", r);
    mc_entry_clear(&e);
    r = mc_get(c, "a/f", 1000 * SEC, -1, &e);
    CHECK(r == MC_FRESH, "cache_ttl_never_expires", "r=%d", r);
    mc_entry_clear(&e);
    r = mc_get(c, "a/f", 100 * SEC, 0, &e);
    CHECK(r == MC_STALE, "cache_ttl_zero_stale", "r=%d", r);
    mc_entry_clear(&e);

    r = mc_put_negative(c, "a/none", 100 * SEC);
    r = r == 0 ? mc_get(c, "a/none", 101 * SEC, 10 * SEC, &e) : r;
    CHECK(r == MC_FRESH && e.negative, "cache_negative_fresh", "r=%d neg=%d", r, e.negative);
    mc_entry_clear(&e);
    r = mc_get(c, "a/none", 200 * SEC, 10 * SEC, &e);
    CHECK(r == MC_STALE && e.negative, "cache_negative_stale", "r=%d", r);
    mc_entry_clear(&e);
    /* A positive write replaces a negative entry. */
    mc_put_attr(c, "a/none", &a, 201 * SEC);
    r = mc_get(c, "a/none", 201 * SEC, 10 * SEC, &e);
    CHECK(r == MC_FRESH && !e.negative, "cache_negative_replaced", "r=%d", r);
    mc_entry_clear(&e);
    /* Own delete: negative, gone from the listing, the dir's own record dropped. */
    {
        struct mc_dirfill *f = NULL;
        const char *names[] = {"x"};

        mc_dir_begin(c, "a/d", 100 * SEC, &f);
        mc_dir_add_page(f, names, &a, 1);
        mc_dir_commit(f);
    }
    mc_put_attr(c, "a/d", &a, 100 * SEC);
    r = mc_del(c, "a/d", 202 * SEC);
    CHECK(r == 0, "cache_del_ok", "r=%d", r);
    r = mc_get(c, "a/d", 203 * SEC, 10 * SEC, &e);
    CHECK(r == MC_FRESH && e.negative, "cache_del_negative", "r=%d neg=%d", r, e.negative);
    mc_entry_clear(&e);
    r = mc_dir_state(c, "a/d", 203 * SEC, 10 * SEC, NULL);
    CHECK(r == MC_MISS, "cache_del_drops_dir_record", "r=%d", r);
    r = mc_forget(c, "a/d");
    r = r == 0 ? mc_get(c, "a/d", 203 * SEC, 10 * SEC, &e) : r;
    CHECK(r == MC_MISS, "cache_forget", "r=%d", r);
    mc_attr_clear(&a);
    mc_close(c);
}

static const char *const *names_of(char buf[][16], int from, int n, const char *fmt)
{
    static const char *ptrs[4096];

    for (int i = 0; i < n; i++) {
        snprintf(buf[i], 16, fmt, from + i);
        ptrs[i] = buf[i];
    }
    return ptrs;
}

/* Collects a whole directory through pages; returns count, -1 on error or disorder. */
static int read_all(struct mc *c, const char *dir, size_t page, mc_time_t now, char *names_out,
                    size_t names_cap, int *pages)
{
    char last[300] = "";
    struct mc_page p;
    int n = 0;
    int r;

    *pages = 0;
    if (names_out)
        names_out[0] = '\0';
    for (;;) {
        r = mc_dir_read(c, dir, last, page, now, 60 * SEC, &p);
        if (r < 0)
            return -1;
        (*pages)++;
        for (size_t i = 0; i < p.n; i++) {
            if (last[0] && strcmp(p.ents[i].name, last) <= 0) {
                mc_page_clear(&p);
                return -1;
            }
            snprintf(last, sizeof(last), "%s", p.ents[i].name);
            if (names_out && strlen(names_out) + strlen(last) + 2 < names_cap) {
                strcat(names_out, last);
                strcat(names_out, " ");
            }
            n++;
        }
        if (p.eof || p.n == 0) {
            mc_page_clear(&p);
            break;
        }
        mc_page_clear(&p);
    }
    return n;
}

static void test_listing_replace(void)
{
    struct mc *c = open_cache(new_folder(), 0, 0, false);
    struct mc_dirfill *f = NULL;
    const char *n1[] = {"a", "b", "c"};
    const char *n2[] = {"d", "a"};
    const char *n3[] = {"c"};
    struct mc_attr at[3];
    struct mc_entry e;
    char got[256];
    int pages, r;
    mc_time_t when;

    if (!c)
        return;
    for (int i = 0; i < 3; i++)
        make_attr(&at[i], i, 1, 0);
    r = mc_dir_state(c, "top", 100 * SEC, 60 * SEC, NULL);
    CHECK(r == MC_MISS, "cache_dir_never_listed", "r=%d", r);
    mc_dir_begin(c, "top", 100 * SEC, &f);
    mc_dir_add_page(f, n1, at, 3);
    r = mc_dir_commit(f);
    CHECK(r == 0, "cache_dir_commit", "r=%d", r);
    r = mc_dir_state(c, "top/", 110 * SEC, 60 * SEC, &when);
    CHECK(r == MC_FRESH && when == 100 * SEC, "cache_dir_complete_fresh", "r=%d", r);
    read_all(c, "top", 10, 110 * SEC, got, sizeof(got), &pages);
    CHECK_STREQ(got, "a b c ", "cache_dir_first_listing");

    /* A name absent from a complete listing is a negative answer. */
    r = mc_get(c, "top/zz", 110 * SEC, 60 * SEC, &e);
    CHECK(r == MC_FRESH && e.negative && e.fetched == 100 * SEC,
          "cache_dir_complete_implies_absent", "r=%d", r);
    mc_entry_clear(&e);

    /* Second listing (pages out of order) during which an own write happens. */
    mc_dir_begin(c, "top", 200 * SEC, &f);
    mc_dir_add_page(f, n2, at, 2);
    mc_put_attr(c, "top/new-own-write", &at[0], 201 * SEC);
    mc_dir_add_page(f, n3, at, 1);
    r = mc_dir_commit(f);
    read_all(c, "top", 2, 210 * SEC, got, sizeof(got), &pages);
    CHECK_STREQ(got, "a c d new-own-write ", "cache_dir_replace_removes_vanished");
    r = mc_get(c, "top/b", 210 * SEC, 60 * SEC, &e);
    CHECK(r == MC_FRESH && e.negative, "cache_dir_vanished_is_absent", "r=%d", r);
    mc_entry_clear(&e);
    r = mc_dir_state(c, "top", 300 * SEC, 60 * SEC, NULL);
    CHECK(r == MC_STALE, "cache_dir_complete_stale", "r=%d", r);

    /* Deleting a child keeps the listing accurate; aborting keeps the old record. */
    mc_del(c, "top/c", 211 * SEC);
    read_all(c, "top", 100, 212 * SEC, got, sizeof(got), &pages);
    CHECK_STREQ(got, "a d new-own-write ", "cache_dir_del_leaves_listing");
    mc_dir_begin(c, "top", 300 * SEC, &f);
    mc_dir_abort(f);
    mc_dir_abort(NULL);
    r = mc_dir_state(c, "top", 212 * SEC, 60 * SEC, &when);
    CHECK(r == MC_FRESH && when == 200 * SEC, "cache_dir_abort_keeps_record", "r=%d", r);
    r = mc_dir_forget(c, "top");
    r = r == 0 ? mc_dir_state(c, "top", 212 * SEC, 60 * SEC, NULL) : r;
    CHECK(r == MC_MISS, "cache_dir_forget", "r=%d", r);

    /* The root directory, and invalid names skipped. */
    {
        const char *rn[] = {"x", "bad/name", "", "y"};
        struct mc_attr ra[4];

        for (int i = 0; i < 4; i++)
            ra[i] = at[0];
        mc_dir_begin(c, "", 100 * SEC, &f);
        r = mc_dir_add_page(f, rn, ra, 4);
        r = r == 0 ? mc_dir_commit(f) : r;
        read_all(c, "/", 100, 110 * SEC, got, sizeof(got), &pages);
        CHECK(r == 0 && strcmp(got, "x y ") == 0, "cache_dir_root_listing", "r=%d got '%s'", r,
              got);
    }
    for (int i = 0; i < 3; i++)
        mc_attr_clear(&at[i]);
    mc_close(c);
}

static void test_paging_20000(void)
{
    static char buf[1000][16];
    struct mc *c = open_cache(new_folder(), 0, 0, false);
    struct mc_dirfill *f = NULL;
    struct mc_attr at[1000];
    int pages = 0;
    int n;
    int r = 0;

    if (!c)
        return;
    for (int i = 0; i < 1000; i++)
        make_attr(&at[i], i, 1, 1);
    mc_dir_begin(c, "big/dir", 100 * SEC, &f);
    /* Pages in a scrambled order: the cache must sort. */
    for (int pg = 0; pg < 20 && r == 0; pg++) {
        int base = ((pg * 7) % 20) * 1000;

        r = mc_dir_add_page(f, names_of(buf, base, 1000, "f%05d"), at, 1000);
    }
    r = r == 0 ? mc_dir_commit(f) : (mc_dir_abort(f), r);
    CHECK(r == 0, "cache_20000_fill", "r=%d", r);
    n = read_all(c, "big/dir", 1000, 110 * SEC, NULL, 0, &pages);
    CHECK(n == 20000 && pages == 20, "cache_20000_paged_in_order", "n=%d pages=%d", n, pages);
    {
        struct mc_page p;

        r = mc_dir_read(c, "big/dir", "f09999", 3, 110 * SEC, 60 * SEC, &p);
        CHECK(r == MC_FRESH && p.n == 3 && strcmp(p.ents[0].name, "f10000") == 0 &&
                  strcmp(p.ents[2].attr.info.key, "big/dir/f10002") == 0 && !p.eof,
              "cache_page_after_cursor", "r=%d n=%zu", r, p.n);
        mc_page_clear(&p);
        r = mc_dir_read(c, "big/dir", "f19998", 5, 110 * SEC, 60 * SEC, &p);
        CHECK(r == MC_FRESH && p.n == 1 && p.eof, "cache_page_last_eof", "r=%d n=%zu", r, p.n);
        mc_page_clear(&p);
    }
    /* Relisting with half the names gone removes them in sweep batches. */
    r = 0;
    mc_dir_begin(c, "big/dir", 200 * SEC, &f);
    for (int pg = 0; pg < 10 && r == 0; pg++)
        r = mc_dir_add_page(f, names_of(buf, pg * 1000, 1000, "f%05d"), at, 1000);
    r = r == 0 ? mc_dir_commit(f) : (mc_dir_abort(f), r);
    n = read_all(c, "big/dir", 1000, 210 * SEC, NULL, 0, &pages);
    CHECK(r == 0 && n == 10000, "cache_20000_relist_half", "r=%d n=%d", r, n);
    for (int i = 0; i < 1000; i++)
        mc_attr_clear(&at[i]);
    mc_close(c);
}

static void test_long_paths(void)
{
    struct mc *c = open_cache(new_folder(), 0, 0, false);
    char dir[1000], path[1400], name[300];
    struct mc_dirfill *f = NULL;
    struct mc_attr a;
    struct mc_entry e;
    const char *names[] = {"one", "two"};
    struct mc_attr at[2];
    char got[64];
    int pages, r;

    if (!c)
        return;
    memset(dir, 'd', sizeof(dir) - 1);
    dir[sizeof(dir) - 1] = '\0';
    dir[300] = '/';
    dir[600] = '/';
    make_attr(&a, 7, 1, 0);
    at[0] = a;
    at[1] = a;
    snprintf(path, sizeof(path), "%s/file", dir);
    r = mc_put_attr(c, path, &a, 100 * SEC);
    r = r == 0 ? mc_get(c, path, 100 * SEC, SEC, &e) : r;
    CHECK(r == MC_FRESH && e.attr.info.size == 7 && strcmp(e.attr.info.key, path) == 0,
          "cache_long_parent_hashed", "r=%d", r);
    mc_entry_clear(&e);
    /* Listed after the put: "file" vanished. */
    mc_dir_begin(c, dir, 150 * SEC, &f);
    mc_dir_add_page(f, names, at, 2);
    r = mc_dir_commit(f);
    read_all(c, dir, 10, 150 * SEC, got, sizeof(got), &pages);
    CHECK(r == 0 && strcmp(got, "one two ") == 0, "cache_long_parent_listing", "got '%s'", got);
    /* Hashed keys of long parents must not show up in the root listing. */
    read_all(c, "", 10, 100 * SEC, got, sizeof(got), &pages);
    CHECK_STREQ(got, "", "cache_long_parent_not_in_root");
    memset(name, 'n', sizeof(name) - 1);
    name[sizeof(name) - 1] = '\0';
    snprintf(path, sizeof(path), "x/%s", name);
    r = mc_put_attr(c, path, &a, 100 * SEC);
    CHECK(r == -ENAMETOOLONG, "cache_name_too_long", "r=%d", r);
    mc_attr_clear(&a);
    mc_close(c);
}

static int insert_many(struct mc *c, const char *dir, int from, int n);

static void test_reopen_and_rebuild(void)
{
    const char *folder = new_folder();
    struct mc *c = open_cache(folder, 0, 0, false);
    char data[1024], lockp[1024];
    struct mc_attr a;
    struct mc_entry e;
    struct dirent *de;
    bool aside = false;
    DIR *d;
    int fd, r;

    if (!c)
        return;
    make_attr(&a, 42, 1, 0);
    mc_put_attr(c, "keep/me", &a, 100 * SEC);
    snprintf(data, sizeof(data), "%s/data.mdb", mc_dir_path(c));
    snprintf(lockp, sizeof(lockp), "%s", mc_dir_path(c));
    mc_close(c);
    c = open_cache(folder, 0, 0, false);
    r = c ? mc_get(c, "keep/me", 101 * SEC, 10 * SEC, &e) : -1;
    CHECK(r == MC_FRESH && e.attr.info.size == 42, "cache_reopen_persists", "r=%d", r);
    mc_entry_clear(&e);
    mc_close(c);

    /* Garbage over the whole file. */
    fd = open(data, O_WRONLY);
    if (fd >= 0) {
        struct stat st;
        char junk[4096];

        fstat(fd, &st);
        for (size_t i = 0; i < sizeof(junk); i++)
            junk[i] = (char)(i * 131 + 7);
        for (off_t off = 0; off < st.st_size; off += (off_t)sizeof(junk))
            if (pwrite(fd, junk, sizeof(junk), off) < 0)
                break;
        close(fd);
    }
    c = open_cache(folder, 0, 0, false);
    r = c ? mc_get(c, "keep/me", 101 * SEC, 10 * SEC, &e) : -1;
    CHECK(c && r == MC_MISS, "cache_corrupt_rebuilt", "c=%p r=%d", (void *)c, r);
    d = opendir(lockp);
    while (d && (de = readdir(d)) != NULL)
        aside = aside || strncmp(de->d_name, "data.mdb.corrupt-", 17) == 0;
    if (d)
        closedir(d);
    CHECK(aside, "cache_corrupt_set_aside", "no data.mdb.corrupt-* file");
    r = c ? mc_put_attr(c, "keep/me", &a, 100 * SEC) : -1;
    CHECK(r == 0, "cache_corrupt_rebuilt_usable", "r=%d", r);
    mc_close(c);

    /* Another format version, written with LMDB directly. */
    {
        MDB_env *env;
        MDB_txn *txn;
        MDB_dbi dbi;
        uint32_t v = 99;
        MDB_val k = {7, "version"}, val = {sizeof(v), &v};
        int rc = mdb_env_create(&env);

        rc = rc ? rc : mdb_env_set_maxdbs(env, 4);
        rc = rc ? rc : mdb_env_open(env, lockp, 0, 0600);
        rc = rc ? rc : mdb_txn_begin(env, NULL, 0, &txn);
        rc = rc ? rc : mdb_dbi_open(txn, "meta", 0, &dbi);
        rc = rc ? rc : mdb_put(txn, dbi, &k, &val, 0);
        rc = rc ? rc : mdb_txn_commit(txn);
        mdb_env_close(env);
        CHECK(rc == 0, "cache_version_poke", "%s", mdb_strerror(rc));
    }
    c = open_cache(folder, 0, 0, false);
    r = c ? mc_get(c, "keep/me", 101 * SEC, 10 * SEC, &e) : -1;
    CHECK(c && r == MC_MISS, "cache_version_mismatch_rebuilt", "r=%d", r);
    mc_close(c);

    /* A run that found corruption leaves a marker; the next open rebuilds. */
    c = open_cache(folder, 0, 0, false);
    if (c)
        mc_put_attr(c, "keep/me", &a, 100 * SEC);
    mc_close(c);
    {
        char marker[1100];

        snprintf(marker, sizeof(marker), "%s/corrupt", lockp);
        fd = open(marker, O_WRONLY | O_CREAT, 0600);
        if (fd >= 0)
            close(fd);
    }
    c = open_cache(folder, 0, 0, false);
    r = c ? mc_get(c, "keep/me", 101 * SEC, 10 * SEC, &e) : -1;
    CHECK(c && r == MC_MISS, "cache_corrupt_marker_rebuilt", "r=%d", r);
    mc_close(c);
    /* Garbage over some pages in the middle (meta pages intact): LMDB has no
     * checksums and may crash reading it, so opts.verify reads everything in a
     * child process first. */
    c = open_cache(folder, 0, 0, true);
    if (c) {
        insert_many(c, "mid", 0, 5000);
        mc_close(c);
    }
    fd = open(data, O_WRONLY);
    if (fd >= 0) {
        struct stat st;
        char junk[4096];
        unsigned x = 12345;

        fstat(fd, &st);
        for (off_t off = 2 * 4096; off < st.st_size; off += 3 * 4096) {
            for (size_t i = 0; i < sizeof(junk); i++) {
                x = x * 1103515245u + 12345u;
                junk[i] = (char)(x >> 16);
            }
            if (pwrite(fd, junk, sizeof(junk), off) < 0)
                break;
        }
        close(fd);
    }
    {
        struct mc_opts o = {.folder = folder, .verify = true};

        c = NULL;
        r = mc_open(NS, &o, &c);
        r = r == 0 ? mc_get(c, "mid/k000001", 101 * SEC, -1, &e) : r;
        CHECK(r == MC_MISS, "cache_verify_damaged_pages_rebuilt", "r=%d", r);
        mc_close(c);
    }
    /* Another namespace in the same folder is another environment. */
    {
        struct mc_opts o = {.folder = folder};
        struct mc *c2 = NULL;

        r = mc_open("az http://127.0.0.1:10000/devstoreaccount1 other", &o, &c2);
        CHECK(r == 0 && strcmp(mc_dir_path(c2), lockp) != 0, "cache_namespace_separate", "r=%d", r);
        mc_close(c2);
    }
    mc_attr_clear(&a);
}

/* Inserts n entries "dir/kNNNNNN" with metadata, in one put each. */
static int insert_many(struct mc *c, const char *dir, int from, int n)
{
    struct mc_attr a;
    char path[128];
    int r = 0;

    make_attr(&a, 1, 1, 4);
    for (int i = from; i < from + n && r == 0; i++) {
        snprintf(path, sizeof(path), "%s/k%06d", dir, i);
        r = mc_put_attr(c, path, &a, 100 * SEC);
    }
    mc_attr_clear(&a);
    return r;
}

static int count_present(struct mc *c, const char *dir, int from, int n)
{
    struct mc_entry e;
    char path[128];
    int ok = 0;

    for (int i = from; i < from + n; i++) {
        snprintf(path, sizeof(path), "%s/k%06d", dir, i);
        if (mc_get(c, path, 100 * SEC, -1, &e) == MC_FRESH && !e.negative &&
            e.attr.info.n_meta == 4)
            ok++;
        mc_entry_clear(&e);
    }
    return ok;
}

static void test_map_growth(void)
{
    const char *folder = new_folder();
    struct mc *c = open_cache(folder, 256 << 10, 64 << 20, true);
    struct mc_stats st;
    int r;

    if (!c)
        return;
    r = insert_many(c, "grow", 0, 30000);
    mc_stats(c, &st);
    CHECK(r == 0 && st.grows >= 3 && st.map_size > (256u << 10) * 8, "cache_map_grows",
          "r=%d grows=%u map=%zu", r, st.grows, st.map_size);
    r = count_present(c, "grow", 0, 30000);
    CHECK(r == 30000, "cache_map_grown_all_present", "present=%d", r);
    mc_close(c);

    /* At the cap: -ENOSPC, earlier entries intact, reopen fine. */
    folder = new_folder();
    c = open_cache(folder, 256 << 10, 1 << 20, true);
    if (!c)
        return;
    r = insert_many(c, "cap", 0, 100000);
    CHECK(r == -ENOSPC, "cache_map_cap_enospc", "r=%d", r);
    mc_stats(c, &st);
    mc_close(c);
    c = open_cache(folder, 256 << 10, 1 << 20, true);
    r = c ? count_present(c, "cap", 0, (int)st.entries) : -1;
    CHECK(r > 0 && r == (int)st.entries, "cache_map_cap_consistent", "present=%d of %llu", r,
          (unsigned long long)st.entries);
    mc_close(c);
}

/* Disk full, simulated with RLIMIT_FSIZE in a child: writes fail cleanly. */
static void test_disk_full(void)
{
    const char *folder = new_folder();
    int pfd[2];
    pid_t pid;
    int status = 0;
    int done = -1;
    int err = 0;
    struct mc *c;

    if (pipe(pfd) != 0)
        return;
    pid = fork();
    if (pid == 0) {
        struct rlimit rl = {3 << 20, 3 << 20};
        int n = 0, r = 0;

        close(pfd[0]);
        signal(SIGXFSZ, SIG_IGN);
        c = open_cache(folder, 1 << 20, 256 << 20, true);
        if (!c)
            _exit(2);
        setrlimit(RLIMIT_FSIZE, &rl);
        while (r == 0 && n < 200000) {
            r = insert_many(c, "full", n, 100);
            if (r == 0)
                n += 100;
        }
        if (write(pfd[1], &n, sizeof(n)) < 0 || write(pfd[1], &r, sizeof(r)) < 0)
            _exit(3);
        mc_close(c);
        _exit(0);
    }
    close(pfd[1]);
    if (read(pfd[0], &done, sizeof(done)) != sizeof(done) ||
        read(pfd[0], &err, sizeof(err)) != sizeof(err))
        done = -1;
    close(pfd[0]);
    waitpid(pid, &status, 0);
    CHECK(done > 0 && (err == -EFBIG || err == -ENOSPC), "cache_disk_full_clean_error",
          "done=%d err=%d (%s)", done, err, strerror(-err));
    c = open_cache(folder, 1 << 20, 256 << 20, true);
    {
        int r = c ? count_present(c, "full", 0, done) : -1;

        CHECK(r == done, "cache_disk_full_no_corruption", "present=%d of %d", r, done);
        r = c ? insert_many(c, "full", done, 100) : -1;
        CHECK(r == 0, "cache_disk_full_writable_after", "r=%d", r);
    }
    mc_close(c);
}

static void test_two_processes(void)
{
    const char *folder = new_folder();
    pid_t pid;
    int status = 0;
    struct mc *c;
    int r;

    pid = fork();
    if (pid == 0) {
        int ok;
        struct mc_entry e;

        c = open_cache(folder, 256 << 10, 256 << 20, true);
        if (!c)
            _exit(2);
        r = insert_many(c, "child", 0, 5000);
        /* Wait (bounded) for the parent's last entry, then read all of them. */
        for (int i = 0; i < 600; i++) {
            if (mc_get(c, "parent/k004999", 0, -1, &e) == MC_FRESH) {
                mc_entry_clear(&e);
                break;
            }
            usleep(50000);
        }
        ok = count_present(c, "parent", 0, 5000);
        mc_close(c);
        _exit(r == 0 && ok == 5000 ? 0 : 1);
    }
    c = open_cache(folder, 256 << 10, 256 << 20, true);
    r = c ? insert_many(c, "parent", 0, 5000) : -1;
    CHECK(r == 0, "cache_two_procs_parent_writes", "r=%d", r);
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "cache_two_procs_child_reads_parent",
          "status=%d", status);
    r = c ? count_present(c, "child", 0, 5000) : -1;
    CHECK(r == 5000, "cache_two_procs_parent_reads_child", "present=%d", r);
    mc_close(c);
}

struct thr {
    struct mc *c;
    int id;
    int bad;
};

static void *thr_main(void *p)
{
    struct thr *t = p;
    char dir[32];
    struct mc_page pg;

    snprintf(dir, sizeof(dir), "t%d", t->id);
    for (int round = 0; round < 10; round++) {
        if (insert_many(t->c, dir, round * 200, 200) != 0)
            t->bad++;
        if (count_present(t->c, dir, 0, (round + 1) * 200) != (round + 1) * 200)
            t->bad++;
        if (mc_dir_read(t->c, dir, NULL, 50, 100 * SEC, -1, &pg) < 0 || pg.n != 50)
            t->bad++;
        mc_page_clear(&pg);
    }
    return NULL;
}

static void test_threads(void)
{
    struct mc *c = open_cache(new_folder(), 256 << 10, 256 << 20, true);
    pthread_t th[8];
    struct thr t[8];
    struct mc_stats st;
    int bad = 0;

    if (!c)
        return;
    for (int i = 0; i < 8; i++) {
        t[i] = (struct thr){c, i, 0};
        pthread_create(&th[i], NULL, thr_main, &t[i]);
    }
    for (int i = 0; i < 8; i++) {
        pthread_join(th[i], NULL);
        bad += t[i].bad;
    }
    mc_stats(c, &st);
    CHECK(bad == 0 && st.entries == 16000, "cache_threads_concurrent_growth",
          "bad=%d entries=%llu grows=%u", bad, (unsigned long long)st.entries, st.grows);
    mc_close(c);
}

/* A thread that used the cache outlives mc_close, then exits. */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static int g_stage;

static void *linger_main(void *p)
{
    struct mc_entry e;
    int r = mc_get(p, "x/y", 0, -1, &e);

    mc_entry_clear(&e);
    pthread_mutex_lock(&g_mu);
    g_stage = r == MC_MISS ? 1 : -1;
    pthread_cond_broadcast(&g_cv);
    while (g_stage != 2)
        pthread_cond_wait(&g_cv, &g_mu);
    pthread_mutex_unlock(&g_mu);
    return NULL;
}

static void test_close_with_live_thread(void)
{
    struct mc *c = open_cache(new_folder(), 0, 0, true);
    pthread_t th;
    int stage;

    if (!c)
        return;
    pthread_create(&th, NULL, linger_main, c);
    pthread_mutex_lock(&g_mu);
    while (g_stage == 0)
        pthread_cond_wait(&g_cv, &g_mu);
    stage = g_stage;
    pthread_mutex_unlock(&g_mu);
    mc_close(c);
    pthread_mutex_lock(&g_mu);
    g_stage = 2;
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    pthread_join(th, NULL);
    CHECK(stage == 1, "cache_close_with_live_thread", "stage=%d", stage);
}

int main(void)
{
    char tmpl[] = "/tmp/bfs-test-cache-XXXXXX";

    if (!mkdtemp(tmpl)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(g_root, sizeof(g_root), "%s", tmpl);
    /* The rebuild tests warn on purpose; BFS_TEST_DEBUG=1 shows everything. */
    log_set_level(getenv("BFS_TEST_DEBUG") ? LOGL_DEBUG : LOGL_ERROR);
    test_roundtrip();
    test_ttl_and_negative();
    test_listing_replace();
    test_paging_20000();
    test_long_paths();
    test_reopen_and_rebuild();
    test_map_growth();
    test_disk_full();
    test_two_processes();
    test_threads();
    test_close_with_live_thread();
    nftw(g_root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    return CHECK_DONE();
}
