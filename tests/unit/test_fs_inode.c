/* test_fs_inode: the inode table: numbers, lookup counts, forget, rename. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "fs/fs_inode.h"

int main(void)
{
    struct fs_itable *t = fs_itable_new("root");
    struct fs_inode *a, *b, *r, *c;
    char *p;

    CHECK(t != NULL, "fs_itable_new", "NULL");
    r = fs_itable_get(t, 1);
    CHECK(r && strcmp(r->path, "root") == 0 && r->is_dir, "fs_itable_root_is_ino_1", "wrong root");
    fs_itable_put(t, r);

    a = fs_itable_acquire(t, "root/a", false, 1);
    b = fs_itable_acquire(t, "root/a", false, 1);
    CHECK(a && a == b && a->ino >= 2 && a->nlookup == 2, "fs_itable_same_path_same_inode",
          "a %p b %p", (void *)a, (void *)b);
    fs_itable_put(t, a);
    fs_itable_put(t, b);
    uint64_t ino = a->ino;
    fs_itable_forget(t, ino, 1);
    c = fs_itable_get(t, ino);
    CHECK(c != NULL, "fs_itable_forget_partial_keeps", "gone too early");
    fs_itable_put(t, c);
    fs_itable_forget(t, ino, 1);
    c = fs_itable_get(t, ino);
    CHECK(c == NULL, "fs_itable_forget_all_frees", "still there");
    c = fs_itable_acquire(t, "root/a", false, 1);
    CHECK(c && c->ino != ino, "fs_itable_numbers_not_reused", "reused %llu",
          (unsigned long long)ino);

    /* an own reference keeps an inode alive across forget */
    b = fs_itable_acquire(t, "root/held", false, 1);
    fs_itable_forget(t, b->ino, 1);
    CHECK(fs_itable_get(t, b->ino) == b, "fs_itable_ref_keeps_inode", "freed while held");
    fs_itable_put(t, b);
    fs_itable_put(t, b);

    /* rename moves a directory's inodes */
    struct fs_inode *d = fs_itable_acquire(t, "root/d", true, 1);
    struct fs_inode *f = fs_itable_acquire(t, "root/d/x/f", false, 1);
    struct fs_inode *o = fs_itable_acquire(t, "root/dd", false, 1);
    CHECK(fs_itable_rename(t, "root/d", "root/e") == 0, "fs_itable_rename_ok", "failed");
    p = fs_itable_path(t, f);
    CHECK_STREQ(p, "root/e/x/f", "fs_itable_rename_moves_descendants");
    free(p);
    p = fs_itable_path(t, o);
    CHECK_STREQ(p, "root/dd", "fs_itable_rename_leaves_similar_names");
    free(p);
    struct fs_inode *e2 = fs_itable_acquire(t, "root/e", true, 0);
    CHECK(e2 == d, "fs_itable_rename_path_lookup", "not found by new path");
    fs_itable_put(t, e2);

    /* many inodes: the hash grows */
    char name[64];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof(name), "root/many/%d", i);
        struct fs_inode *x = fs_itable_acquire(t, name, false, 1);
        fs_itable_put(t, x);
    }
    CHECK(fs_itable_count(t) >= 5000, "fs_itable_grows", "count %llu",
          (unsigned long long)fs_itable_count(t));
    struct fs_inode *y = fs_itable_acquire(t, "root/many/4321", false, 0);
    p = fs_itable_path(t, y);
    CHECK_STREQ(p, "root/many/4321", "fs_itable_find_after_growth");
    free(p);
    fs_itable_put(t, y);
    fs_itable_put(t, c);
    fs_itable_put(t, d);
    fs_itable_put(t, f);
    fs_itable_put(t, o);
    fs_itable_free(t);
    return CHECK_DONE();
}
