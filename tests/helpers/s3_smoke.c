/* s3_smoke: exercises the S3 backend against a real server (AWS_ENDPOINT_URL, e.g. Swift s3api). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/creds.h"
#include "core/crypto.h"
#include "core/http.h"
#include "core/log.h"
#include "core/objstore.h"
#include "s3/s3.h"

static int failed, passed;

#define T(cond, name, ...)                                                                         \
    do {                                                                                           \
        if (cond) {                                                                                \
            printf("PASS: %s\n", name);                                                            \
            passed++;                                                                              \
        } else {                                                                                   \
            printf("FAIL: %s: ", name);                                                            \
            printf(__VA_ARGS__);                                                                   \
            printf(" [last error: kind %d, %s]\n", os_last_error()->kind,                          \
                   os_last_error()->message);                                                      \
            failed++;                                                                              \
        }                                                                                          \
        fflush(stdout);                                                                            \
    } while (0)

struct sinkbuf {
    char *p;
    size_t n, cap;
};

static int sink(const void *d, size_t n, void *ud)
{
    struct sinkbuf *s = ud;

    if (s->n + n > s->cap)
        return -ENOSPC;
    memcpy(s->p + s->n, d, n);
    s->n += n;
    return 0;
}

static int64_t copy_single_max;
static int anonymous;

static int mkstore(struct http_client *hc, const struct s3_creds *cr, const char *bucket,
                   const char *secret, struct os_store **out)
{
    struct s3_config c;
    char base[256];

    snprintf(base, sizeof(base), "s3://%s", bucket);
    memset(&c, 0, sizeof(c));
    c.bucket = bucket;
    c.endpoint = cr->endpoint;
    c.region = cr->region;
    c.access_key = cr->access_key;
    c.secret_key = secret ? secret : cr->secret_key;
    c.session_token = cr->session_token;
    c.anonymous = cr->anonymous || anonymous;
    c.url_base = base;
    c.copy_single_max = copy_single_max;
    return s3_store_new(hc, &c, out);
}

static void fill(char *p, size_t n, unsigned seed)
{
    size_t i;

    for (i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (char)(seed >> 16);
    }
}

struct part_job {
    struct os_store *s;
    struct os_upload *u;
    int partno;
    const char *data;
    size_t len;
    int rc;
};

static void *part_thread(void *ud)
{
    struct part_job *j = ud;

    j->rc = j->s->ops->mp_part(j->s->be, j->u, j->partno, j->data, j->len);
    return NULL;
}

/* Uploads data as 3 parts in 3 threads; md5 at begin (early) or at commit. */
static int multipart(struct os_store *s, const char *key, const char *data, const size_t *lens,
                     const unsigned char *md5, int early)
{
    struct os_put_opts o;
    struct os_meta meta[] = {{"origin", "smoke"}};
    struct timespec mt = {1700000000, 250000000};
    struct os_upload *u = NULL;
    struct part_job jobs[3];
    pthread_t th[3];
    size_t off = 0;
    int i, rc;

    memset(&o, 0, sizeof(o));
    o.content_type = "application/x-smoke";
    o.meta = meta;
    o.n_meta = 1;
    o.mtime = &mt;
    o.md5 = early ? md5 : NULL;
    rc = s->ops->mp_begin(s->be, key, &o, &u);
    if (rc)
        return rc;
    for (i = 0; i < 3; i++) {
        jobs[i] = (struct part_job){s, u, i + 1, data + off, lens[i], 0};
        off += lens[i];
    }
    /* Out of order on purpose: part 3 first. */
    for (i = 2; i >= 0; i--)
        pthread_create(&th[i], NULL, part_thread, &jobs[i]);
    for (i = 0; i < 3; i++)
        pthread_join(th[i], NULL);
    for (i = 0; i < 3; i++)
        if (jobs[i].rc) {
            s->ops->mp_abort(s->be, u);
            return jobs[i].rc;
        }
    return s->ops->mp_commit(s->be, u, early ? NULL : md5);
}

int main(int argc, char **argv)
{
    struct http_config hcfg;
    struct http_client *hc = NULL;
    struct s3_creds cr;
    struct os_store *s = NULL, *bad = NULL, *nob = NULL;
    struct os_info info;
    struct os_list_page pg;
    struct sinkbuf sb = {0};
    char err[256], bucket[64], *big = NULL;
    const char *weird = "dir/sp ace+plus%pct#hash?q&amp=eq;semi:colon,comma'q\"dq@at!ü€😀.txt";
    unsigned char md5[16], got5[16];
    const size_t lens[3] = {(size_t)6 << 20, (size_t)5 << 20 | 12345, (size_t)1 << 20};
    size_t total = lens[0] + lens[1] + lens[2];
    struct os_meta meta[] = {{"color", "blue"}, {"Mixed-Case", "Value With Spaces"}};
    struct timespec mt = {1714979289, 123456789};
    struct os_put_opts o;
    const char *keys[40];
    char keybuf[40][64];
    int failed_keys[40];
    int rc, i, pages, n_items;
    char *token = NULL;

    (void)argc;
    (void)argv;
    if (getenv("BRIDGEFS_LOG"))
        log_set_level(log_level_parse(getenv("BRIDGEFS_LOG")));
    if (creds_s3_discover(&cr, err, sizeof(err)) != 0 || !cr.endpoint) {
        printf("FAIL: s3_smoke_setup: %s\n", cr.endpoint ? err : "AWS_ENDPOINT_URL not set");
        return 1;
    }
    http_config_defaults(&hcfg);
    hcfg.max_retries = 2;
    hc = http_client_new(&hcfg);
    snprintf(bucket, sizeof(bucket), "smoke-%ld-%d", (long)time(NULL), (int)getpid());
    rc = mkstore(hc, &cr, bucket, NULL, &s);
    T(rc == 0, "s3_smoke_store_new", "rc %d", rc);
    if (rc)
        return 1;

    rc = s->ops->check(s->be);
    T(rc == -ENOENT && os_last_error()->kind == OSE_NO_BUCKET, "s3_smoke_check_missing_bucket",
      "rc %d", rc);
    rc = s->ops->mkbucket(s->be);
    T(rc == 0, "s3_smoke_mkbucket", "rc %d", rc);
    rc = s->ops->mkbucket(s->be);
    T(rc == -EEXIST && os_last_error()->kind == OSE_EXISTS, "s3_smoke_mkbucket_again_exists",
      "rc %d code %s", rc, os_last_error()->code);
    rc = s->ops->check(s->be);
    T(rc == 0, "s3_smoke_check", "rc %d", rc);

    /* put + head */
    memset(&o, 0, sizeof(o));
    o.content_type = "text/plain; charset=utf-8";
    o.meta = meta;
    o.n_meta = 2;
    o.mtime = &mt;
    rc = s->ops->put(s->be, weird, "hello, world", 12, &o);
    T(rc == 0, "s3_smoke_put_weird_key", "rc %d", rc);
    rc = s->ops->head(s->be, weird, &info);
    crypto_md5("hello, world", 12, md5);
    T(rc == 0 && info.size == 12 && info.has_md5 && memcmp(info.md5, md5, 16) == 0 &&
          info.content_type && strcmp(info.content_type, "text/plain; charset=utf-8") == 0,
      "s3_smoke_head_size_md5_type", "rc %d size %lld type %s", rc, (long long)info.size,
      info.content_type ? info.content_type : "-");
    T(rc == 0 && os_info_meta(&info, "color") &&
          strcmp(os_info_meta(&info, "color"), "blue") == 0 && os_info_meta(&info, "mixed-case") &&
          strcmp(os_info_meta(&info, "mixed-case"), "Value With Spaces") == 0,
      "s3_smoke_head_user_metadata", "n_meta %zu", info.n_meta);
    T(rc == 0 && info.mtime.tv_sec == mt.tv_sec && info.mtime.tv_nsec == mt.tv_nsec &&
          strcmp(info.storage_class, "STANDARD") == 0 && !info.archived,
      "s3_smoke_head_mtime_class", "mtime %lld.%09ld", (long long)info.mtime.tv_sec,
      info.mtime.tv_nsec);
    os_info_clear(&info);
    rc = s->ops->head(s->be, "no/such/key", &info);
    T(rc == -ENOENT && os_last_error()->kind == OSE_NOT_FOUND, "s3_smoke_head_missing", "rc %d",
      rc);

    /* ranged gets */
    sb.cap = 64 << 20;
    sb.p = malloc(sb.cap);
    rc = s->ops->get_range(s->be, weird, 7, 5, sink, &sb, &info);
    T(rc == 0 && sb.n == 5 && memcmp(sb.p, "world", 5) == 0 && info.size == 12,
      "s3_smoke_get_range_middle", "rc %d n %zu size %lld", rc, sb.n, (long long)info.size);
    os_info_clear(&info);
    sb.n = 0;
    rc = s->ops->get_range(s->be, weird, 5, -1, sink, &sb, NULL);
    T(rc == 0 && sb.n == 7 && memcmp(sb.p, ", world", 7) == 0, "s3_smoke_get_range_to_end",
      "rc %d n %zu", rc, sb.n);
    sb.n = 0;
    rc = s->ops->get_range(s->be, weird, 0, -1, sink, &sb, NULL);
    T(rc == 0 && sb.n == 12, "s3_smoke_get_whole", "rc %d n %zu", rc, sb.n);
    sb.n = 0;
    rc = s->ops->get_range(s->be, weird, 12, 10, sink, &sb, NULL);
    T(rc == 0 && sb.n == 0, "s3_smoke_get_at_eof_is_empty", "rc %d n %zu", rc, sb.n);
    sb.n = 0;
    rc = s->ops->get_range(s->be, "missing", 0, -1, sink, &sb, NULL);
    T(rc == -ENOENT && os_last_error()->kind == OSE_NOT_FOUND &&
          strcmp(os_last_error()->code, "NoSuchKey") == 0,
      "s3_smoke_get_missing_no_such_key", "rc %d", rc);

    /* multipart, 3 parts from 3 threads, md5 at commit (stored by a self-copy) and at begin */
    big = malloc(total);
    fill(big, total, 42);
    crypto_md5(big, total, md5);
    rc = multipart(s, "mp/late-md5", big, lens, md5, 0);
    T(rc == 0, "s3_smoke_multipart_md5_at_commit", "rc %d", rc);
    rc = s->ops->head(s->be, "mp/late-md5", &info);
    T(rc == 0 && info.size == (int64_t)total && info.has_md5 && memcmp(info.md5, md5, 16) == 0 &&
          info.etag && strstr(info.etag, "-3") && os_info_meta(&info, "origin") &&
          info.mtime.tv_sec == 1700000000 && info.mtime.tv_nsec == 250000000 &&
          strcmp(info.content_type, "application/x-smoke") == 0,
      "s3_smoke_multipart_head_md5chksum_meta_kept", "rc %d size %lld etag %s has_md5 %d", rc,
      (long long)info.size, info.etag ? info.etag : "-", info.has_md5);
    os_info_clear(&info);
    sb.n = 0;
    rc = s->ops->get_range(s->be, "mp/late-md5", 0, -1, sink, &sb, NULL);
    crypto_md5(sb.p, sb.n, got5);
    T(rc == 0 && sb.n == total && memcmp(got5, md5, 16) == 0, "s3_smoke_multipart_bytes_roundtrip",
      "rc %d n %zu", rc, sb.n);
    rc = multipart(s, "mp/early-md5", big, lens, md5, 1);
    rc = rc ? rc : s->ops->head(s->be, "mp/early-md5", &info);
    T(rc == 0 && info.has_md5 && memcmp(info.md5, md5, 16) == 0, "s3_smoke_multipart_md5_at_begin",
      "rc %d", rc);
    if (rc == 0)
        os_info_clear(&info);
    {
        unsigned char wrong[16] = {1};
        rc = multipart(s, "mp/wrong-md5", big, lens, wrong, 1);
        /* md5 given at begin is sent as metadata; a wrong one is caught only by the caller. */
        (void)rc;
        {
            struct os_upload *u = NULL;
            rc = s->ops->mp_begin(s->be, "mp/tiny-parts", NULL, &u);
            if (rc == 0)
                rc = s->ops->mp_part(s->be, u, 1, big, 1000);
            if (rc == 0)
                rc = s->ops->mp_part(s->be, u, 2, big, 1000);
            if (rc == 0)
                rc = s->ops->mp_commit(s->be, u, NULL);
            T(rc == -EINVAL && strcmp(os_last_error()->code, "EntityTooSmall") == 0,
              "s3_smoke_multipart_entity_too_small", "rc %d code %s", rc, os_last_error()->code);
        }
    }

    /* listing with paging and a delimiter */
    for (i = 0; i < 25; i++) {
        snprintf(keybuf[i], sizeof(keybuf[i]), "page/k%02d %s", i, i % 2 ? "odd+" : "even%");
        keys[i] = keybuf[i];
        rc = s->ops->put(s->be, keys[i], keys[i], strlen(keys[i]), NULL);
        if (rc)
            break;
    }
    T(rc == 0, "s3_smoke_put_25", "rc %d", rc);
    pages = 0;
    n_items = 0;
    do {
        char *next = NULL;
        rc = s->ops->list_page(s->be, "page/", NULL, token, 10, &pg);
        if (rc)
            break;
        pages++;
        for (i = 0; i < (int)pg.n; i++, n_items++)
            if (strcmp(pg.items[i].key, keys[n_items]) != 0)
                rc = -EBADMSG;
        if (pg.next_token)
            next = strdup(pg.next_token);
        free(token);
        token = next;
        os_list_page_free(&pg);
    } while (token && rc == 0);
    free(token);
    token = NULL;
    T(rc == 0 && pages == 3 && n_items == 25, "s3_smoke_list_pages_of_10",
      "rc %d pages %d items %d", rc, pages, n_items);
    rc = s->ops->list_page(s->be, "", "/", NULL, 0, &pg);
    T(rc == 0 && pg.n == 3 && pg.items[0].is_prefix && strcmp(pg.items[0].key, "dir/") == 0 &&
          strcmp(pg.items[1].key, "mp/") == 0 && strcmp(pg.items[2].key, "page/") == 0,
      "s3_smoke_list_delimiter_prefixes", "rc %d n %zu", rc, pg.n);
    if (rc == 0)
        os_list_page_free(&pg);
    rc = s->ops->list_page(s->be, "dir/", "/", NULL, 0, &pg);
    T(rc == 0 && pg.n == 1 && strcmp(pg.items[0].key, weird) == 0 && pg.items[0].has_md5 &&
          pg.items[0].size == 12,
      "s3_smoke_list_weird_key_roundtrip", "rc %d n %zu key %s", rc, pg.n,
      rc == 0 && pg.n ? pg.items[0].key : "-");
    if (rc == 0)
        os_list_page_free(&pg);

    /* copy, set_meta, mkdir */
    rc = s->ops->copy(s->be, weird, "copy/kept", NULL);
    rc = rc ? rc : s->ops->head(s->be, "copy/kept", &info);
    T(rc == 0 && os_info_meta(&info, "color") && info.mtime.tv_sec == mt.tv_sec &&
          strcmp(info.content_type, "text/plain; charset=utf-8") == 0,
      "s3_smoke_copy_keeps_metadata", "rc %d", rc);
    if (rc == 0)
        os_info_clear(&info);
    {
        struct os_meta m2[] = {{"shape", "round"}};
        struct os_put_opts o2;
        memset(&o2, 0, sizeof(o2));
        o2.meta = m2;
        o2.n_meta = 1;
        rc = s->ops->copy(s->be, weird, "copy/replaced", &o2);
        rc = rc ? rc : s->ops->head(s->be, "copy/replaced", &info);
        T(rc == 0 && !os_info_meta(&info, "color") && os_info_meta(&info, "shape") &&
              strcmp(info.content_type, "text/plain; charset=utf-8") == 0,
          "s3_smoke_copy_replaces_metadata", "rc %d", rc);
        if (rc == 0)
            os_info_clear(&info);
        rc = s->ops->set_meta(s->be, "mp/late-md5", &o2);
        rc = rc ? rc : s->ops->head(s->be, "mp/late-md5", &info);
        T(rc == 0 && os_info_meta(&info, "shape") && !os_info_meta(&info, "origin") &&
              info.has_md5 && memcmp(info.md5, md5, 16) == 0 &&
              strcmp(info.content_type, "application/x-smoke") == 0,
          "s3_smoke_set_meta_keeps_md5chksum_and_type", "rc %d", rc);
        if (rc == 0)
            os_info_clear(&info);
    }
    {
        /* A store whose single-copy limit is 8 MiB: copies above it use UploadPartCopy. */
        struct os_store *lo = NULL;
        struct os_meta m3[] = {{"flavour", "mint"}};
        struct os_put_opts o3;

        copy_single_max = (int64_t)8 << 20;
        rc = mkstore(hc, &cr, bucket, NULL, &lo);
        copy_single_max = 0;
        rc = rc ? rc : lo->ops->copy(lo->be, "mp/early-md5", "copy/big", NULL);
        rc = rc ? rc : lo->ops->head(lo->be, "copy/big", &info);
        T(rc == 0 && info.size == (int64_t)total && info.has_md5 &&
              memcmp(info.md5, md5, 16) == 0 && info.etag && strstr(info.etag, "-2") &&
              os_info_meta(&info, "origin") && info.mtime.tv_sec == 1700000000 &&
              strcmp(info.content_type, "application/x-smoke") == 0,
          "s3_smoke_upload_part_copy_keeps_metadata_and_md5", "rc %d etag %s", rc,
          rc == 0 && info.etag ? info.etag : "-");
        if (rc == 0)
            os_info_clear(&info);
        sb.n = 0;
        rc = s->ops->get_range(s->be, "copy/big", 0, -1, sink, &sb, NULL);
        crypto_md5(sb.p, sb.n, got5);
        T(rc == 0 && sb.n == total && memcmp(got5, md5, 16) == 0, "s3_smoke_upload_part_copy_bytes",
          "rc %d n %zu", rc, sb.n);
        memset(&o3, 0, sizeof(o3));
        o3.meta = m3;
        o3.n_meta = 1;
        rc = lo ? lo->ops->set_meta(lo->be, "copy/big", &o3) : -1;
        rc = rc ? rc : lo->ops->head(lo->be, "copy/big", &info);
        T(rc == 0 && os_info_meta(&info, "flavour") && !os_info_meta(&info, "origin") &&
              info.has_md5 && memcmp(info.md5, md5, 16) == 0 && info.size == (int64_t)total,
          "s3_smoke_set_meta_above_copy_limit_keeps_md5", "rc %d", rc);
        if (rc == 0)
            os_info_clear(&info);
        rc = lo ? multipart(lo, "mp/over", big, lens, md5, 0) : -1;
        rc = rc ? rc : lo->ops->head(lo->be, "mp/over", &info);
        T(rc == 0 && !info.has_md5, "s3_smoke_md5_at_commit_above_copy_limit_not_stored",
          "rc %d has_md5 %d", rc, rc == 0 && info.has_md5);
        if (rc == 0)
            os_info_clear(&info);
        os_store_free(lo);
    }
    {
        struct os_store *an = NULL;

        anonymous = 1;
        rc = mkstore(hc, &cr, bucket, NULL, &an);
        anonymous = 0;
        rc = rc ? rc : an->ops->check(an->be);
        T(rc < 0 && strstr(os_last_error()->message, "no credentials were sent"),
          "s3_smoke_anonymous_refused_clearly", "rc %d msg %s", rc, os_last_error()->message);
        printf("# anonymous request: HTTP %ld kind %d: %s\n", os_last_error()->http_status,
               os_last_error()->kind, os_last_error()->message);
        os_store_free(an);
    }
    rc = s->ops->copy(s->be, "no/such", "copy/none", NULL);
    T(rc == -ENOENT, "s3_smoke_copy_missing_source", "rc %d", rc);
    rc = s->ops->mkdir(s->be, "newdir");
    rc = rc ? rc : s->ops->head(s->be, "newdir/", &info);
    T(rc == 0 && info.is_dir_marker && info.size == 0, "s3_smoke_mkdir_marker", "rc %d", rc);
    if (rc == 0)
        os_info_clear(&info);

    /* errors with a wrong secret, and a bucket that does not exist */
    rc = mkstore(hc, &cr, bucket, "wrong-secret-value", &bad);
    rc = rc ? rc : bad->ops->check(bad->be);
    T(rc == -EACCES && os_last_error()->kind == OSE_BAD_CREDENTIALS &&
          strstr(os_last_error()->message, "SignatureDoesNotMatch") &&
          !strstr(os_last_error()->message, "wrong-secret-value"),
      "s3_smoke_wrong_secret_bad_credentials", "rc %d msg %s", rc, os_last_error()->message);
    rc = bad ? bad->ops->head(bad->be, weird, &info) : -1;
    T(rc == -EACCES, "s3_smoke_wrong_secret_head_403", "rc %d kind %d", rc, os_last_error()->kind);
    os_store_free(bad);
    rc = mkstore(hc, &cr, "no-such-bucket-smoke", NULL, &nob);
    rc = rc ? rc : nob->ops->list_page(nob->be, "", "/", NULL, 0, &pg);
    T(rc == -ENOENT && os_last_error()->kind == OSE_NO_BUCKET, "s3_smoke_list_no_bucket", "rc %d",
      rc);
    os_store_free(nob);

    /* delete: single missing counts as done; batch of everything */
    rc = s->ops->del(s->be, "never/existed");
    T(rc == 0, "s3_smoke_delete_missing_ok", "rc %d", rc);
    keys[25] = weird;
    keys[26] = "mp/late-md5";
    keys[27] = "mp/early-md5";
    keys[28] = "copy/kept";
    keys[29] = "copy/replaced";
    keys[30] = "newdir/";
    keys[31] = "not/there";
    keys[32] = "mp/wrong-md5";
    keys[33] = "copy/big";
    keys[34] = "mp/over";
    rc = s->ops->del_many(s->be, keys, 35, failed_keys);
    for (i = 0; i < 35 && rc == 0; i++)
        if (failed_keys[i])
            rc = failed_keys[i];
    T(rc == 0, "s3_smoke_del_many", "rc %d", rc);
    rc = s->ops->list_page(s->be, "", NULL, NULL, 0, &pg);
    T(rc == 0 && pg.n == 0, "s3_smoke_bucket_empty_after_delete", "rc %d n %zu", rc, pg.n);
    if (rc == 0)
        os_list_page_free(&pg);

    free(big);
    free(sb.p);
    os_store_free(s);
    http_client_free(hc);
    creds_s3_free(&cr);
    printf("s3_smoke: %d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
