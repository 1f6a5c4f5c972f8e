/* mc_codec: the cache's key layout and compact versioned value encoding. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cache/mc_internal.h"
#include "core/crypto.h"

/* ---- keys ---- */

void mc_path_norm(const char *path, const char **p, size_t *len)
{
    size_t n;

    while (*path == '/')
        path++;
    n = strlen(path);
    while (n > 0 && path[n - 1] == '/')
        n--;
    *p = path;
    *len = n;
}

int mc_path_split(const char *path, const char **p, size_t *plen, size_t *dirlen, const char **name,
                  size_t *namelen)
{
    const char *s;
    size_t n;
    size_t i;

    mc_path_norm(path, &s, &n);
    if (n == 0)
        return -EINVAL;
    i = n;
    while (i > 0 && s[i - 1] != '/')
        i--;
    *p = s;
    *plen = n;
    *dirlen = i > 0 ? i - 1 : 0;
    *name = s + i;
    *namelen = n - i;
    return 0;
}

void mc_key_dir(struct mc_key *k, const char *dir, size_t dirlen)
{
    unsigned char h[CRYPTO_SHA256_LEN];

    if (dirlen <= MC_PLAIN_DIR_MAX) {
        memcpy(k->b, dir, dirlen);
        k->b[dirlen] = '\0';
        k->plen = dirlen + 1;
    } else {
        /* A plain key never has NUL as its second byte after a leading NUL
         * (root children are "\0" + a non-empty name), so this cannot clash. */
        crypto_sha256(dir, dirlen, h);
        k->b[0] = '\0';
        k->b[1] = '\0';
        memcpy(k->b + 2, h, MC_HASH_PREFIX_LEN - 2);
        k->plen = MC_HASH_PREFIX_LEN;
    }
    k->len = k->plen;
}

int mc_key_name(struct mc_key *k, const char *name, size_t namelen)
{
    if (namelen == 0 || memchr(name, '/', namelen) || memchr(name, '\0', namelen))
        return -EINVAL;
    if (namelen > MC_NAME_MAX || k->plen + namelen > MC_KEY_MAX)
        return -ENAMETOOLONG;
    memcpy(k->b + k->plen, name, namelen);
    k->len = k->plen + namelen;
    return 0;
}

/* ---- values ---- */

/* Bits of the flags varint of an entry value. */
enum {
    VF_MD5 = 1 << 0,
    VF_ARCHIVED = 1 << 1,
    VF_MARKER = 1 << 2,
    VF_PREFIX = 1 << 3,
    VF_MODE = 1 << 4,
    VF_UID = 1 << 5,
    VF_GID = 1 << 6,
    VF_META_TRUNC = 1 << 7,
};

/* A fixed-capacity writer; sized exactly by a first pass. */
struct wr {
    unsigned char *p; /* NULL: only count */
    size_t n;
};

static void wr_bytes(struct wr *w, const void *d, size_t n)
{
    if (w->p)
        memcpy(w->p + w->n, d, n);
    w->n += n;
}

static void wr_u8(struct wr *w, unsigned v)
{
    unsigned char b = (unsigned char)v;

    wr_bytes(w, &b, 1);
}

static void wr_uv(struct wr *w, uint64_t v)
{
    unsigned char b[10];
    size_t n = 0;

    while (v >= 0x80) {
        b[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    b[n++] = (unsigned char)v;
    wr_bytes(w, b, n);
}

static void wr_sv(struct wr *w, int64_t v)
{
    wr_uv(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

/* NULL is length 0, "" is length 1, else strlen + 1. */
static void wr_str(struct wr *w, const char *s, size_t n)
{
    if (!s) {
        wr_uv(w, 0);
        return;
    }
    wr_uv(w, (uint64_t)n + 1);
    wr_bytes(w, s, n);
}

static size_t meta_bytes(const struct os_info *i)
{
    size_t n = 0;

    for (size_t k = 0; k < i->n_meta; k++)
        n += strlen(i->meta[k].key ? i->meta[k].key : "") +
             strlen(i->meta[k].value ? i->meta[k].value : "");
    return n;
}

static void enc_ent(struct wr *w, const struct mc_attr *a, mc_time_t fetched)
{
    const struct os_info *i;
    unsigned flags = 0;
    bool meta_ok;

    wr_u8(w, MC_VAL_VERSION);
    if (!a) {
        wr_u8(w, MCK_NEG);
        wr_uv(w, 0);
        wr_sv(w, fetched);
        return;
    }
    i = &a->info;
    meta_ok = !a->meta_truncated && meta_bytes(i) <= MC_META_MAX;
    flags |= i->has_md5 ? VF_MD5 : 0;
    flags |= i->archived ? VF_ARCHIVED : 0;
    flags |= i->is_dir_marker ? VF_MARKER : 0;
    flags |= i->is_prefix ? VF_PREFIX : 0;
    flags |= a->has_mode ? VF_MODE : 0;
    flags |= a->has_uid ? VF_UID : 0;
    flags |= a->has_gid ? VF_GID : 0;
    flags |= meta_ok ? 0 : VF_META_TRUNC;
    wr_u8(w, MCK_ATTR);
    wr_uv(w, flags);
    wr_sv(w, fetched);
    wr_sv(w, i->size);
    wr_sv(w, i->mtime.tv_sec);
    wr_uv(w, (uint64_t)i->mtime.tv_nsec);
    wr_sv(w, i->last_modified.tv_sec);
    wr_uv(w, (uint64_t)i->last_modified.tv_nsec);
    if (i->has_md5)
        wr_bytes(w, i->md5, sizeof(i->md5));
    wr_str(w, i->etag, i->etag ? strlen(i->etag) : 0);
    wr_str(w, i->content_type, i->content_type ? strlen(i->content_type) : 0);
    wr_str(w, i->storage_class, i->storage_class ? strlen(i->storage_class) : 0);
    if (a->has_mode)
        wr_uv(w, a->mode);
    if (a->has_uid)
        wr_uv(w, a->uid);
    if (a->has_gid)
        wr_uv(w, a->gid);
    if (!meta_ok) {
        wr_uv(w, 0);
        return;
    }
    wr_uv(w, i->n_meta);
    for (size_t k = 0; k < i->n_meta; k++) {
        const char *key = i->meta[k].key ? i->meta[k].key : "";
        const char *val = i->meta[k].value ? i->meta[k].value : "";

        wr_str(w, key, strlen(key));
        wr_str(w, val, strlen(val));
    }
}

int mc_val_encode_ent(const struct mc_attr *a, mc_time_t fetched, unsigned char **out,
                      size_t *outlen)
{
    struct wr w = {NULL, 0};

    enc_ent(&w, a, fetched);
    *outlen = w.n;
    w.p = malloc(w.n);
    if (!w.p)
        return -ENOMEM;
    w.n = 0;
    enc_ent(&w, a, fetched);
    *out = w.p;
    return 0;
}

int mc_val_encode_dir(mc_time_t complete_at, const char *dir, size_t dirlen, unsigned char **out,
                      size_t *outlen)
{
    struct wr w = {NULL, 0};

    for (int pass = 0; pass < 2; pass++) {
        if (pass == 1) {
            *outlen = w.n;
            w.p = malloc(w.n);
            if (!w.p)
                return -ENOMEM;
            w.n = 0;
        }
        wr_u8(&w, MC_VAL_VERSION);
        wr_u8(&w, MCK_DIR);
        wr_sv(&w, complete_at);
        wr_str(&w, dir, dirlen);
    }
    *out = w.p;
    return 0;
}

/* A bounds-checked reader; any overrun sets bad. */
struct rd {
    const unsigned char *p;
    size_t n, off;
    bool bad;
};

static unsigned rd_u8(struct rd *r)
{
    if (r->off >= r->n) {
        r->bad = true;
        return 0;
    }
    return r->p[r->off++];
}

static uint64_t rd_uv(struct rd *r)
{
    uint64_t v = 0;

    for (unsigned shift = 0; shift < 64; shift += 7) {
        unsigned b = rd_u8(r);

        if (r->bad)
            return 0;
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

static int64_t rd_sv(struct rd *r)
{
    uint64_t u = rd_uv(r);

    return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static void rd_bytes(struct rd *r, void *d, size_t n)
{
    if (r->bad || r->n - r->off < n) {
        r->bad = true;
        return;
    }
    memcpy(d, r->p + r->off, n);
    r->off += n;
}

/* Returns a malloc'd copy (NULL for a NULL string); sets *nomem on failure. */
static char *rd_str(struct rd *r, bool *nomem)
{
    uint64_t n = rd_uv(r);
    char *s;

    if (r->bad || n == 0)
        return NULL;
    n--;
    if (r->n - r->off < n) {
        r->bad = true;
        return NULL;
    }
    s = malloc(n + 1);
    if (!s) {
        *nomem = true;
        return NULL;
    }
    memcpy(s, r->p + r->off, n);
    s[n] = '\0';
    r->off += n;
    return s;
}

int mc_val_peek(const void *v, size_t len, int *kind, mc_time_t *fetched)
{
    struct rd r = {v, len, 0, false};
    unsigned ver = rd_u8(&r);

    *kind = (int)rd_u8(&r);
    if (*kind != MCK_DIR)
        (void)rd_uv(&r); /* flags */
    *fetched = rd_sv(&r);
    if (r.bad || ver != MC_VAL_VERSION)
        return -EINVAL;
    if (*kind != MCK_ATTR && *kind != MCK_NEG && *kind != MCK_DIR)
        return -EINVAL;
    return 0;
}

int mc_val_decode_dir(const void *v, size_t len, mc_time_t *complete_at)
{
    int kind;

    if (mc_val_peek(v, len, &kind, complete_at) < 0 || kind != MCK_DIR)
        return -EINVAL;
    return 0;
}

int mc_val_decode_ent(const void *v, size_t len, struct mc_entry *e)
{
    struct rd r = {v, len, 0, false};
    struct os_info *i = &e->attr.info;
    bool nomem = false;
    unsigned ver, kind, flags;
    uint64_t nm;
    int err = -EINVAL;

    memset(e, 0, sizeof(*e));
    ver = rd_u8(&r);
    kind = rd_u8(&r);
    flags = (unsigned)rd_uv(&r);
    e->fetched = rd_sv(&r);
    if (r.bad || ver != MC_VAL_VERSION || (kind != MCK_ATTR && kind != MCK_NEG))
        goto out;
    if (kind == MCK_NEG) {
        e->negative = true;
        return 0;
    }
    i->size = rd_sv(&r);
    i->mtime.tv_sec = (time_t)rd_sv(&r);
    i->mtime.tv_nsec = (long)rd_uv(&r);
    i->last_modified.tv_sec = (time_t)rd_sv(&r);
    i->last_modified.tv_nsec = (long)rd_uv(&r);
    i->has_md5 = flags & VF_MD5;
    if (i->has_md5)
        rd_bytes(&r, i->md5, sizeof(i->md5));
    i->archived = flags & VF_ARCHIVED;
    i->is_dir_marker = flags & VF_MARKER;
    i->is_prefix = flags & VF_PREFIX;
    i->etag = rd_str(&r, &nomem);
    i->content_type = rd_str(&r, &nomem);
    i->storage_class = rd_str(&r, &nomem);
    e->attr.has_mode = flags & VF_MODE;
    e->attr.has_uid = flags & VF_UID;
    e->attr.has_gid = flags & VF_GID;
    e->attr.meta_truncated = flags & VF_META_TRUNC;
    if (e->attr.has_mode)
        e->attr.mode = (uint32_t)rd_uv(&r);
    if (e->attr.has_uid)
        e->attr.uid = (uint32_t)rd_uv(&r);
    if (e->attr.has_gid)
        e->attr.gid = (uint32_t)rd_uv(&r);
    nm = rd_uv(&r);
    /* Each pair takes at least two bytes: a bound that also caps the allocation. */
    if (r.bad || nomem || nm > (r.n - r.off) / 2)
        goto out;
    if (nm > 0) {
        i->meta = calloc(nm, sizeof(*i->meta));
        if (!i->meta) {
            nomem = true;
            goto out;
        }
    }
    for (uint64_t k = 0; k < nm; k++) {
        i->meta[k].key = rd_str(&r, &nomem);
        i->meta[k].value = rd_str(&r, &nomem);
        i->n_meta = k + 1;
        if (r.bad || nomem || !i->meta[k].key || !i->meta[k].value)
            goto out;
    }
    if (r.off != r.n)
        goto out;
    err = 0;
out:
    if (err < 0) {
        if (nomem)
            err = -ENOMEM;
        mc_entry_clear(e);
    }
    return err;
}
