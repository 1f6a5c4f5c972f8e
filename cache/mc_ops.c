/* mc_ops: cache entries: lookups, own writes, negative entries, directory listings and pages. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache/mc_internal.h"
#include "core/log.h"

/* Entries swept per write transaction at mc_dir_commit. */
#define MC_SWEEP_BATCH 4096

void mc_attr_clear(struct mc_attr *a)
{
    struct os_info *i;

    if (!a)
        return;
    i = &a->info;
    free(i->key);
    free(i->etag);
    free(i->content_type);
    free(i->storage_class);
    for (size_t k = 0; k < i->n_meta; k++) {
        free(i->meta[k].key);
        free(i->meta[k].value);
    }
    free(i->meta);
    memset(a, 0, sizeof(*a));
}

void mc_entry_clear(struct mc_entry *e)
{
    if (!e)
        return;
    free(e->name);
    mc_attr_clear(&e->attr);
    memset(e, 0, sizeof(*e));
}

void mc_page_clear(struct mc_page *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        mc_entry_clear(&p->ents[i]);
    free(p->ents);
    memset(p, 0, sizeof(*p));
}

static int freshness(mc_time_t fetched, mc_time_t now, mc_time_t ttl)
{
    if (ttl < 0)
        return MC_FRESH;
    /* fetched in the future (another host's clock) counts as fresh */
    return (now - fetched < ttl) ? MC_FRESH : MC_STALE;
}

/* Fills name and attr.info.key of a decoded entry. */
static int entry_names(struct mc_entry *e, const char *dir, size_t dirlen, const char *name,
                       size_t namelen)
{
    size_t n = dirlen + (dirlen ? 1 : 0) + namelen;

    e->name = strndup(name, namelen);
    if (e->negative)
        return e->name ? 0 : -ENOMEM;
    e->attr.info.key = malloc(n + 1);
    if (!e->name || !e->attr.info.key)
        return -ENOMEM;
    memcpy(e->attr.info.key, dir, dirlen);
    if (dirlen)
        e->attr.info.key[dirlen] = '/';
    memcpy(e->attr.info.key + n - namelen, name, namelen);
    e->attr.info.key[n] = '\0';
    return 0;
}

/* ---- lookups ---- */

int mc_get(struct mc *c, const char *path, mc_time_t now, mc_time_t ttl, struct mc_entry *out)
{
    const char *p, *name;
    size_t plen, dirlen, namelen;
    struct mc_key k;
    struct mc_txn t;
    mc_time_t complete_at;
    MDB_val v;
    bool found;
    int err;

    memset(out, 0, sizeof(*out));
    err = mc_path_split(path, &p, &plen, &dirlen, &name, &namelen);
    if (err < 0)
        return err;
    mc_key_dir(&k, p, dirlen);
    err = mc_key_name(&k, name, namelen);
    if (err < 0)
        return err;
    err = mc_rtxn_begin(c, &t);
    if (err < 0)
        return err;
    found = mc_txn_get(&t, c->db_ent, k.b, k.len, &v);
    if (found) {
        /* An undecodable value (another build wrote it?) counts as a miss. */
        err = mc_val_decode_ent(v.mv_data, v.mv_size, out);
        if (err == -EINVAL) {
            log_debug("cache: undecodable entry for %.*s", (int)plen, p);
            err = MC_MISS;
        }
        if (err == 0)
            err = freshness(out->fetched, now, ttl);
    } else if (mc_txn_get(&t, c->db_dir, k.b, k.plen, &v) &&
               mc_val_decode_dir(v.mv_data, v.mv_size, &complete_at) == 0) {
        /* The parent was listed completely and the name was not in it. */
        out->negative = true;
        out->fetched = complete_at;
        err = freshness(complete_at, now, ttl);
    } else {
        err = MC_MISS;
    }
    if (t.rc != 0)
        err = mc_err(c, t.rc, "get");
    mc_rtxn_end(&t);
    if (err > 0) {
        int e2 = entry_names(out, p, dirlen, name, namelen);

        out->fresh = err;
        if (e2 < 0)
            err = e2;
    }
    if (err <= 0)
        mc_entry_clear(out);
    return err;
}

int mc_dir_state(struct mc *c, const char *dir, mc_time_t now, mc_time_t ttl,
                 mc_time_t *complete_at)
{
    const char *p;
    size_t plen;
    struct mc_key k;
    struct mc_txn t;
    mc_time_t at = 0;
    MDB_val v;
    int err;

    mc_path_norm(dir, &p, &plen);
    mc_key_dir(&k, p, plen);
    err = mc_rtxn_begin(c, &t);
    if (err < 0)
        return err;
    err = MC_MISS;
    if (mc_txn_get(&t, c->db_dir, k.b, k.plen, &v) &&
        mc_val_decode_dir(v.mv_data, v.mv_size, &at) == 0)
        err = freshness(at, now, ttl);
    if (t.rc != 0)
        err = mc_err(c, t.rc, "dir state");
    mc_rtxn_end(&t);
    if (complete_at)
        *complete_at = err > 0 ? at : 0;
    return err;
}

/* ---- single-entry writes ---- */

struct put_ud {
    struct mc_key k;
    const unsigned char *val; /* NULL: delete the entry */
    size_t vlen;
    bool drop_dir; /* also drop path's own listing record */
    struct mc_key dk;
};

static void put_fn(struct mc_txn *t, void *ud)
{
    struct put_ud *u = ud;

    if (u->val)
        mc_txn_put(t, t->c->db_ent, u->k.b, u->k.len, u->val, u->vlen);
    else
        mc_txn_del(t, t->c->db_ent, u->k.b, u->k.len);
    if (u->drop_dir)
        mc_txn_del(t, t->c->db_dir, u->dk.b, u->dk.plen);
}

/* a: attributes; NULL with neg: a negative entry; NULL without: delete. */
static int put_one(struct mc *c, const char *path, const struct mc_attr *a, bool neg, bool drop_dir,
                   mc_time_t now)
{
    const char *p, *name;
    size_t plen, dirlen, namelen;
    unsigned char *val = NULL;
    struct put_ud u;
    int err;

    memset(&u, 0, sizeof(u));
    err = mc_path_split(path, &p, &plen, &dirlen, &name, &namelen);
    if (err < 0)
        return err;
    mc_key_dir(&u.k, p, dirlen);
    err = mc_key_name(&u.k, name, namelen);
    if (err < 0)
        return err;
    if (a || neg) {
        err = mc_val_encode_ent(a, now, &val, &u.vlen);
        if (err < 0)
            return err;
        u.val = val;
    }
    if (drop_dir) {
        u.drop_dir = true;
        mc_key_dir(&u.dk, p, plen);
    }
    err = mc_write(c, put_fn, &u);
    free(val);
    return err;
}

int mc_put_attr(struct mc *c, const char *path, const struct mc_attr *a, mc_time_t now)
{
    if (!a)
        return -EINVAL;
    return put_one(c, path, a, false, false, now);
}

int mc_put_negative(struct mc *c, const char *path, mc_time_t now)
{
    return put_one(c, path, NULL, true, false, now);
}

int mc_del(struct mc *c, const char *path, mc_time_t now)
{
    return put_one(c, path, NULL, true, true, now);
}

int mc_forget(struct mc *c, const char *path)
{
    return put_one(c, path, NULL, false, false, 0);
}

static void dir_forget_fn(struct mc_txn *t, void *ud)
{
    struct mc_key *k = ud;

    mc_txn_del(t, t->c->db_dir, k->b, k->plen);
}

int mc_dir_forget(struct mc *c, const char *dir)
{
    const char *p;
    size_t plen;
    struct mc_key k;

    mc_path_norm(dir, &p, &plen);
    mc_key_dir(&k, p, plen);
    return mc_write(c, dir_forget_fn, &k);
}

/* ---- filling a listing ---- */

struct mc_dirfill {
    struct mc *c;
    char *dir; /* normalized; owned */
    size_t dirlen;
    mc_time_t t0;
    struct mc_key k; /* the directory prefix */
};

int mc_dir_begin(struct mc *c, const char *dir, mc_time_t now, struct mc_dirfill **out)
{
    struct mc_dirfill *f;
    const char *p;
    size_t plen;

    *out = NULL;
    mc_path_norm(dir, &p, &plen);
    f = calloc(1, sizeof(*f));
    if (!f)
        return -ENOMEM;
    f->dir = strndup(p, plen);
    if (!f->dir) {
        free(f);
        return -ENOMEM;
    }
    f->c = c;
    f->dirlen = plen;
    f->t0 = now;
    mc_key_dir(&f->k, f->dir, plen);
    *out = f;
    return 0;
}

void mc_dir_abort(struct mc_dirfill *f)
{
    if (!f)
        return;
    free(f->dir);
    free(f);
}

/* One page, encoded beforehand so a retried transaction redoes only puts. */
struct page_ud {
    struct mc_dirfill *f;
    struct mc_key *keys;
    unsigned char **vals;
    size_t *vlens;
    size_t n;
};

static void page_fn(struct mc_txn *t, void *ud)
{
    struct page_ud *u = ud;

    for (size_t i = 0; i < u->n && t->rc == 0; i++)
        mc_txn_put(t, t->c->db_ent, u->keys[i].b, u->keys[i].len, u->vals[i], u->vlens[i]);
}

int mc_dir_add_page(struct mc_dirfill *f, const char *const *names, const struct mc_attr *attrs,
                    size_t n)
{
    struct page_ud u;
    int err = 0;

    memset(&u, 0, sizeof(u));
    u.f = f;
    if (n == 0)
        return 0;
    u.keys = malloc(n * sizeof(*u.keys));
    u.vals = calloc(n, sizeof(*u.vals));
    u.vlens = calloc(n, sizeof(*u.vlens));
    if (!u.keys || !u.vals || !u.vlens) {
        err = -ENOMEM;
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        struct mc_key *k = &u.keys[u.n];

        *k = f->k;
        if (!names[i] || mc_key_name(k, names[i], strlen(names[i])) < 0) {
            log_debug("cache: listing of '%s': skipping unusable name '%s'", f->dir,
                      names[i] ? names[i] : "(null)");
            continue;
        }
        err = mc_val_encode_ent(&attrs[i], f->t0, &u.vals[u.n], &u.vlens[u.n]);
        if (err < 0)
            goto out;
        u.n++;
    }
    err = mc_write(f->c, page_fn, &u);
out:
    for (size_t i = 0; u.vals && i < n; i++)
        free(u.vals[i]);
    free(u.keys);
    free(u.vals);
    free(u.vlens);
    return err;
}

/* Sweep state: where the next batch starts, and whether the range is done.
 * `from`/`done` are results of the last (committed) attempt only. */
struct sweep_ud {
    struct mc_dirfill *f;
    struct mc_key from; /* first key not yet examined */
    struct mc_key next; /* result: where the next batch starts */
    bool done;          /* result: range exhausted; dir record written */
    size_t removed;     /* result: entries removed by this batch */
    unsigned char *dval;
    size_t dvlen;
};

static void sweep_fn(struct mc_txn *t, void *ud)
{
    struct sweep_ud *u = ud;
    struct mc_dirfill *f = u->f;
    MDB_cursor *cur = NULL;
    MDB_val k = {u->from.len, u->from.b};
    MDB_val v;
    mc_time_t fetched;
    size_t seen = 0;
    int kind;
    int rc;

    u->done = false;
    u->removed = 0;
    rc = mdb_cursor_open(t->txn, t->c->db_ent, &cur);
    if (rc == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0) {
        if (k.mv_size < f->k.plen || memcmp(k.mv_data, f->k.b, f->k.plen) != 0) {
            rc = MDB_NOTFOUND; /* left the directory's range */
            break;
        }
        if (seen == MC_SWEEP_BATCH) {
            memcpy(u->next.b, k.mv_data, k.mv_size);
            u->next.len = k.mv_size;
            break;
        }
        seen++;
        /* Older than the listing and not rewritten by it: vanished. An
         * undecodable value goes too. */
        if (mc_val_peek(v.mv_data, v.mv_size, &kind, &fetched) < 0 || fetched < f->t0) {
            rc = mdb_cursor_del(cur, 0);
            if (rc != 0)
                break;
            u->removed++;
            /* After a delete, MDB_NEXT yields the item that followed it. */
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    if (cur)
        mdb_cursor_close(cur);
    if (rc == MDB_NOTFOUND) {
        rc = 0;
        u->done = true;
        mc_txn_put(t, t->c->db_dir, f->k.b, f->k.plen, u->dval, u->dvlen);
    }
    if (rc != 0 && t->rc == 0)
        t->rc = rc;
}

int mc_dir_commit(struct mc_dirfill *f)
{
    struct sweep_ud u;
    size_t removed = 0;
    int err;

    memset(&u, 0, sizeof(u));
    u.f = f;
    err = mc_val_encode_dir(f->t0, f->dir, f->dirlen, &u.dval, &u.dvlen);
    if (err < 0)
        goto out;
    /* Start at prefix + "\x01": names are never empty and never start with NUL,
     * and this skips the root's hashed-prefix keys ("\0\0..."). */
    u.from = f->k;
    u.from.b[u.from.len++] = 0x01;
    for (;;) {
        err = mc_write(f->c, sweep_fn, &u);
        if (err < 0)
            goto out;
        removed += u.removed;
        if (u.done)
            break;
        u.from = u.next;
    }
    log_debug("cache: listing of '%s' complete; %zu vanished entries removed", f->dir, removed);
out:
    free(u.dval);
    mc_dir_abort(f);
    return err;
}

/* ---- reading a directory ---- */

int mc_dir_read(struct mc *c, const char *dir, const char *after, size_t max, mc_time_t now,
                mc_time_t ttl, struct mc_page *out)
{
    const char *p;
    size_t plen;
    struct mc_key k;
    struct mc_txn t;
    MDB_cursor *cur = NULL;
    MDB_val key, v;
    mc_time_t at;
    size_t cap;
    int state = MC_MISS;
    int rc;
    int err;

    memset(out, 0, sizeof(out[0]));
    if (max == 0)
        return -EINVAL;
    mc_path_norm(dir, &p, &plen);
    mc_key_dir(&k, p, plen);
    if (after && *after) {
        err = mc_key_name(&k, after, strlen(after));
        if (err < 0)
            return err;
    } else {
        k.b[k.len++] = 0x01;
    }
    cap = max < 256 ? max : 256;
    out->ents = calloc(cap, sizeof(*out->ents));
    if (!out->ents)
        return -ENOMEM;
    err = mc_rtxn_begin(c, &t);
    if (err < 0)
        goto out;
    if (mc_txn_get(&t, c->db_dir, k.b, k.plen, &v) &&
        mc_val_decode_dir(v.mv_data, v.mv_size, &at) == 0)
        state = freshness(at, now, ttl);
    rc = t.rc;
    if (rc == 0)
        rc = mdb_cursor_open(t.txn, c->db_ent, &cur);
    key = (MDB_val){k.len, k.b};
    if (rc == 0)
        rc = mdb_cursor_get(cur, &key, &v, MDB_SET_RANGE);
    for (; rc == 0; rc = mdb_cursor_get(cur, &key, &v, MDB_NEXT)) {
        const char *name = (const char *)key.mv_data + k.plen;
        size_t namelen = key.mv_size - k.plen;
        struct mc_entry *e;

        if (key.mv_size <= k.plen || memcmp(key.mv_data, k.b, k.plen) != 0) {
            rc = MDB_NOTFOUND;
            break;
        }
        if (after && *after && key.mv_size == k.len && memcmp(key.mv_data, k.b, k.len) == 0)
            continue; /* the `after` entry itself */
        if (out->n == max)
            break; /* one more child exists: not eof */
        if (out->n == cap) {
            size_t ncap = cap * 2 < max ? cap * 2 : max;
            struct mc_entry *ne = realloc(out->ents, ncap * sizeof(*ne));

            if (!ne) {
                err = -ENOMEM;
                break;
            }
            memset(ne + cap, 0, (ncap - cap) * sizeof(*ne));
            out->ents = ne;
            cap = ncap;
        }
        e = &out->ents[out->n];
        err = mc_val_decode_ent(v.mv_data, v.mv_size, e);
        if (err == -EINVAL) {
            err = 0;
            continue;
        }
        if (err < 0)
            break;
        if (e->negative) {
            mc_entry_clear(e);
            continue;
        }
        out->n++;
        err = entry_names(e, p, plen, name, namelen);
        if (err < 0)
            break;
        e->fresh = freshness(e->fetched, now, ttl);
    }
    if (rc == MDB_NOTFOUND) {
        rc = 0;
        out->eof = true;
    }
    if (cur)
        mdb_cursor_close(cur);
    if (err == 0)
        err = rc ? mc_err(c, rc, "dir read") : state;
    mc_rtxn_end(&t);
out:
    if (err < 0)
        mc_page_clear(out);
    return err;
}
