/* blob_smoke: exercises the Blob backend against Azurite (AZURE_STORAGE_CONNECTION_STRING). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blob/blob.h"
#include "core/buf.h"
#include "core/creds.h"
#include "core/crypto.h"
#include "core/http.h"
#include "core/log.h"
#include "core/objstore.h"
#include "core/url.h"

static int failed, passed;
/* Prefix of case names, so a suite run again (through SAS) keeps names unique. */
static const char *tprefix = "";

#define T(cond, name, ...)                                                                         \
    do {                                                                                           \
        if (cond) {                                                                                \
            printf("PASS: %s%s\n", tprefix, name);                                                            \
            passed++;                                                                              \
        } else {                                                                                   \
            printf("FAIL: %s%s: ", tprefix, name);                                                            \
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

static int mkstore(struct http_client *hc, const struct az_creds *cr, const char *container,
                   const char *key, struct os_store **out)
{
    struct blob_config c;
    char base[256];

    snprintf(base, sizeof(base), "az://%s", container);
    memset(&c, 0, sizeof(c));
    c.account = cr->account;
    c.container = container;
    c.endpoint = cr->endpoint;
    c.key = key;
    c.sas = cr->sas;
    c.url_base = base;
    return blob_store_new(hc, &c, out);
}

struct part_job {
    struct os_store *st;
    struct os_upload *u;
    int partno;
    const char *data;
    size_t len;
    int rc;
};

static void *part_thread(void *a)
{
    struct part_job *j = a;

    j->rc = j->st->ops->mp_part(j->st->be, j->u, j->partno, j->data, j->len);
    return NULL;
}

static void test_basic(struct os_store *st)
{
    const struct os_ops *o = st->ops;
    static const char hello[] = "hello world, from bridgefs";
    struct os_meta meta[] = {{"color", "blue"}, {"Shape", "round"}, {"i0", "a"}, {"i_", "b"},
                             {"a_b", "c"},      {"a1", "d"},        {"ab", "e"}, {"hdi", "f"}};
    struct timespec mt = {1714979289, 123456789};
    struct os_put_result pr = {0};
    struct os_put_opts po = {"text/plain", meta, 8, &mt, NULL, &pr};
    unsigned char md5[16];
    struct os_info i;
    char buf[256];
    struct sinkbuf sb = {buf, 0, sizeof(buf)};
    int rc;

    rc = o->put(st->be, "dir/hello world+%.txt", hello, sizeof(hello) - 1, &po);
    T(rc == 0, "smoke_put", "rc %d", rc);
    crypto_md5(hello, sizeof(hello) - 1, md5);
    rc = o->head(st->be, "dir/hello world+%.txt", &i);
    T(rc == 0 && i.size == (int64_t)sizeof(hello) - 1 && i.has_md5 && memcmp(i.md5, md5, 16) == 0 &&
          i.content_type && strcmp(i.content_type, "text/plain") == 0 && i.etag,
      "smoke_head_size_md5_type", "rc %d size %lld", rc, (long long)i.size);
    T(rc == 0 && os_info_meta(&i, "color") && strcmp(os_info_meta(&i, "color"), "blue") == 0 &&
          os_info_meta(&i, "shape") && i.mtime.tv_sec == mt.tv_sec && i.mtime.tv_nsec == mt.tv_nsec,
      "smoke_head_metadata_mtime", "mtime %lld.%ld", (long long)i.mtime.tv_sec, i.mtime.tv_nsec);
    T(rc == 0 && i.storage_class && !i.archived, "smoke_head_access_tier", "tier %s",
      i.storage_class ? i.storage_class : "(null)");
    /* The Put Blob answer told the same ETag and Last-Modified as the HEAD (the mount caches
     * a new blob from it, without a HEAD). */
    T(rc == 0 && pr.ok && i.etag && strcmp(pr.etag, i.etag) == 0 &&
          pr.last_modified.tv_sec == i.last_modified.tv_sec,
      "smoke_put_result_is_head", "ok %d etag %s / %s", pr.ok, pr.etag, i.etag ? i.etag : "-");
    os_info_clear(&i);

    rc = o->get_range(st->be, "dir/hello world+%.txt", 6, 5, sink, &sb, &i);
    T(rc == 0 && sb.n == 5 && memcmp(buf, "world", 5) == 0 && i.size == (int64_t)sizeof(hello) - 1,
      "smoke_ranged_get", "rc %d n %zu size %lld", rc, sb.n, (long long)i.size);
    os_info_clear(&i);
    sb.n = 0;
    rc = o->get_range(st->be, "dir/hello world+%.txt", 13, -1, sink, &sb, NULL);
    T(rc == 0 && sb.n == sizeof(hello) - 14 && memcmp(buf, hello + 13, sb.n) == 0,
      "smoke_get_to_end", "rc %d n %zu", rc, sb.n);
    sb.n = 0;
    rc = o->get_range(st->be, "dir/hello world+%.txt", sizeof(hello) - 1, 10, sink, &sb, NULL);
    T(rc == 0 && sb.n == 0, "smoke_get_past_end_is_eof", "rc %d n %zu", rc, sb.n);
    sb.n = 0;
    rc = o->put(st->be, "empty", "", 0, NULL);
    if (rc == 0)
        rc = o->get_range(st->be, "empty", 0, -1, sink, &sb, &i);
    T(rc == 0 && sb.n == 0 && i.size == 0, "smoke_get_empty_blob", "rc %d", rc);
    os_info_clear(&i);
    sb.n = 0;
    rc = o->get_range(st->be, "no/such/blob", 0, -1, sink, &sb, NULL);
    T(rc == -ENOENT && os_last_error()->kind == OSE_NOT_FOUND, "smoke_get_missing", "rc %d", rc);
    rc = o->head(st->be, "no/such/blob", &i);
    T(rc == -ENOENT && os_last_error()->kind == OSE_NOT_FOUND, "smoke_head_missing", "rc %d", rc);
    os_info_clear(&i);
}

static void test_blocks(struct os_store *st)
{
    const struct os_ops *o = st->ops;
    size_t bs = 1024 * 1024 + 7, total = 2 * bs + 1000, k;
    char *data = malloc(total), *back = malloc(total + 16);
    struct sinkbuf sb = {back, 0, total + 16};
    struct part_job j[3];
    pthread_t th[3];
    struct os_upload *u = NULL;
    struct os_info i;
    unsigned char md5[16];
    struct os_meta meta[] = {{"kind", "blocks"}};
    struct timespec mt = {1700000000, 5};
    struct os_put_result pr = {0};
    struct os_put_opts po = {"application/x-test", meta, 1, &mt, NULL, &pr};
    int rc, n;

    for (k = 0; k < total; k++)
        data[k] = (char)(k * 131 + (k >> 9));
    crypto_md5(data, total, md5);
    rc = o->mp_begin(st->be, "big/three-blocks.bin", &po, &u);
    T(rc == 0 && u, "smoke_block_begin", "rc %d", rc);
    /* Parts out of order, from three threads at once. */
    for (n = 0; n < 3; n++) {
        j[n].st = st;
        j[n].u = u;
        j[n].partno = 3 - n;
        j[n].data = data + (size_t)(2 - n) * bs;
        j[n].len = n == 0 ? 1000 : bs;
        pthread_create(&th[n], NULL, part_thread, &j[n]);
    }
    for (n = 0; n < 3; n++)
        pthread_join(th[n], NULL);
    T(j[0].rc == 0 && j[1].rc == 0 && j[2].rc == 0, "smoke_block_parts_concurrent", "%d %d %d",
      j[0].rc, j[1].rc, j[2].rc);
    rc = o->mp_commit(st->be, u, md5);
    T(rc == 0, "smoke_block_commit", "rc %d", rc);
    rc = o->head(st->be, "big/three-blocks.bin", &i);
    T(rc == 0 && i.size == (int64_t)total && i.has_md5 && memcmp(i.md5, md5, 16) == 0 &&
          os_info_meta(&i, "kind") && i.mtime.tv_nsec == 5 &&
          strcmp(i.content_type, "application/x-test") == 0,
      "smoke_block_head_md5_meta", "rc %d size %lld md5 %d", rc, (long long)i.size, i.has_md5);
    T(rc == 0 && pr.ok && i.etag && strcmp(pr.etag, i.etag) == 0 &&
          pr.last_modified.tv_sec == i.last_modified.tv_sec,
      "smoke_block_commit_result_is_head", "ok %d etag %s / %s", pr.ok, pr.etag,
      i.etag ? i.etag : "-");
    os_info_clear(&i);
    rc = o->get_range(st->be, "big/three-blocks.bin", 0, -1, sink, &sb, NULL);
    T(rc == 0 && sb.n == total && memcmp(back, data, total) == 0, "smoke_block_bytes_round_trip",
      "rc %d n %zu", rc, sb.n);
    /* A commit with a missing block is refused locally. */
    rc = o->mp_begin(st->be, "big/gap.bin", NULL, &u);
    if (rc == 0)
        rc = o->mp_part(st->be, u, 2, data, 10);
    if (rc == 0)
        rc = o->mp_commit(st->be, u, NULL);
    T(rc == -EINVAL, "smoke_block_commit_with_gap_refused", "rc %d", rc);
    rc = o->mp_begin(st->be, "big/aborted.bin", NULL, &u);
    if (rc == 0)
        rc = o->mp_part(st->be, u, 1, data, 10);
    o->mp_abort(st->be, u);
    rc = o->head(st->be, "big/aborted.bin", &i);
    T(rc == -ENOENT, "smoke_block_abort_leaves_nothing", "rc %d", rc);
    os_info_clear(&i);
    free(data);
    free(back);
}

static void test_list(struct os_store *st)
{
    const struct os_ops *o = st->ops;
    struct os_list_page p;
    char key[64], *tok = NULL;
    int k, rc, pages = 0, total = 0, order_ok = 1;
    char last[64] = "";

    for (k = 0; k < 7; k++) {
        snprintf(key, sizeof(key), "page/item-%02d", k);
        o->put(st->be, key, key, strlen(key), NULL);
    }
    o->put(st->be, "page/sub/inner", "x", 1, NULL);
    rc = o->mkdir(st->be, "page/folder");
    T(rc == 0, "smoke_mkdir", "rc %d", rc);
    do {
        rc = o->list_page(st->be, "page/", "/", tok, 3, &p);
        free(tok);
        tok = NULL;
        if (rc != 0)
            break;
        pages++;
        for (size_t n = 0; n < p.n; n++) {
            total++;
            if (strcmp(last, p.items[n].key) >= 0)
                order_ok = 0;
            snprintf(last, sizeof(last), "%s", p.items[n].key);
            if (strcmp(p.items[n].key, "page/folder") == 0)
                T(p.items[n].is_dir_marker, "smoke_list_dir_marker", "not marked");
            if (strcmp(p.items[n].key, "page/sub/") == 0)
                T(p.items[n].is_prefix, "smoke_list_prefix", "not a prefix");
        }
        tok = p.next_token ? strdup(p.next_token) : NULL;
        os_list_page_free(&p);
    } while (tok);
    /* 7 items + folder marker + sub/ prefix = 9 entries, 3 per page. */
    T(rc == 0 && pages == 3 && total == 9 && order_ok, "smoke_list_paging_maxresults",
      "rc %d pages %d total %d order %d", rc, pages, total, order_ok);
    rc = o->list_page(st->be, "", NULL, NULL, 0, &p);
    T(rc == 0 && p.n >= 10 && !p.next_token, "smoke_list_flat", "rc %d n %zu", rc, p.n);
    os_list_page_free(&p);
}

static void test_copy_meta_delete(struct os_store *st)
{
    const struct os_ops *o = st->ops;
    struct os_meta nm[] = {{"new", "yes"}};
    struct os_put_opts po = {"text/x-new", nm, 1, NULL, NULL, NULL};
    const char *keys[8];
    int failed_k[8];
    struct os_info i;
    char key[64];
    int rc, k;

    rc = o->copy(st->be, "dir/hello world+%.txt", "copy/kept.txt", NULL);
    if (rc == 0)
        rc = o->head(st->be, "copy/kept.txt", &i);
    T(rc == 0 && os_info_meta(&i, "color") && i.size == 26 && i.has_md5, "smoke_copy_keeps_meta",
      "rc %d", rc);
    os_info_clear(&i);
    rc = o->copy(st->be, "dir/hello world+%.txt", "copy/replaced.txt", &po);
    if (rc == 0)
        rc = o->head(st->be, "copy/replaced.txt", &i);
    T(rc == 0 && !os_info_meta(&i, "color") && os_info_meta(&i, "new") && i.content_type &&
          strcmp(i.content_type, "text/x-new") == 0 && i.has_md5,
      "smoke_copy_replaces_meta_and_type", "rc %d type %s", rc,
      i.content_type ? i.content_type : "(null)");
    os_info_clear(&i);
    rc = o->copy(st->be, "no/such", "copy/none", NULL);
    T(rc == -ENOENT, "smoke_copy_missing_source", "rc %d kind %d", rc, os_last_error()->kind);

    rc = o->set_meta(st->be, "copy/kept.txt", &po);
    if (rc == 0)
        rc = o->head(st->be, "copy/kept.txt", &i);
    T(rc == 0 && i.n_meta == 1 && os_info_meta(&i, "new"), "smoke_set_meta_replaces", "rc %d n %zu",
      rc, i.n_meta);
    os_info_clear(&i);

    rc = o->del(st->be, "copy/kept.txt");
    T(rc == 0, "smoke_delete", "rc %d", rc);
    rc = o->head(st->be, "copy/kept.txt", &i);
    T(rc == -ENOENT && os_last_error()->kind == OSE_NOT_FOUND, "smoke_delete_gone", "rc %d", rc);
    os_info_clear(&i);
    rc = o->del(st->be, "copy/kept.txt");
    T(rc == 0, "smoke_delete_absent_ok", "rc %d", rc);
    for (k = 0; k < 7; k++) {
        snprintf(key, sizeof(key), "page/item-%02d", k);
        keys[k] = strdup(key);
    }
    keys[7] = "page/never-existed";
    rc = o->del_many(st->be, keys, 8, failed_k);
    T(rc == 0 && failed_k[0] == 0 && failed_k[7] == 0, "smoke_del_many", "rc %d", rc);
    for (k = 0; k < 7; k++)
        free((char *)keys[k]);
    rc = o->head(st->be, "page/item-03", &i);
    T(rc == -ENOENT, "smoke_del_many_gone", "rc %d", rc);
    os_info_clear(&i);
}

/* Names with characters that need encoding round-trip exactly through put, head and list. */
static void test_names(struct os_store *st)
{
    const struct os_ops *o = st->ops;
    static char longname[1100];
    const char *names[] = {"odd/a b",
                           "odd/p+q",
                           "odd/100%",
                           "odd/x#y",
                           "odd/what?",
                           "odd/\xc3\xbcn\xc3\xaf/\xc3\xa7\xc3\xb8"
                           "d\xc3\xa9",
                           "odd/semi;colon=eq&amp",
                           "odd/~tilde'quote\"dq",
                           longname};
    size_t n = sizeof(names) / sizeof(names[0]), k, found = 0;
    struct os_list_page p;
    struct os_info i;
    int rc, bad = 0;

    memset(longname, 'L', 1024);
    memcpy(longname, "odd/", 4);
    longname[1024] = '\0';
    for (k = 0; k < n; k++) {
        rc = o->put(st->be, names[k], names[k], strlen(names[k]), NULL);
        if (rc == 0)
            rc = o->head(st->be, names[k], &i);
        if (rc != 0 || i.size != (int64_t)strlen(names[k])) {
            printf("INFO: name %.40s: rc %d\n", names[k], rc);
            bad++;
        }
        os_info_clear(&i);
    }
    T(bad == 0, "smoke_special_names_put_head", "%d bad", bad);
    rc = o->list_page(st->be, "odd/", NULL, NULL, 0, &p);
    for (k = 0; rc == 0 && k < p.n; k++)
        for (size_t m = 0; m < n; m++)
            if (strcmp(p.items[k].key, names[m]) == 0)
                found++;
    T(rc == 0 && found == n && p.n == n, "smoke_special_names_listed_exactly",
      "rc %d found %zu of %zu", rc, found, n);
    os_list_page_free(&p);
}

/* Set Blob Tier Archive through the internal request helper, then read. */
static void test_archive(struct os_store *st)
{
    const struct os_ops *o = st->ops;
    struct http_hdrs h = {0};
    struct http_response resp;
    struct blob_call c;
    struct os_info i;
    char buf[64];
    struct sinkbuf sb = {buf, 0, sizeof(buf)};
    int rc;

    o->put(st->be, "cold/archived.bin", "frozen", 6, NULL);
    http_response_init(&resp);
    http_hdrs_set(&h, "x-ms-access-tier", "Archive");
    memset(&c, 0, sizeof(c));
    c.method = "PUT";
    c.op = BLOB_OP_SET_META;
    c.key = "cold/archived.bin";
    c.query = "comp=tier";
    c.hdrs = &h;
    c.range_start = c.range_end = -1;
    c.idempotent = true;
    rc = blob_call(st->be, &c, &resp);
    printf("INFO: Set Blob Tier Archive: rc %d HTTP %ld\n", rc, resp.status);
    http_response_free(&resp);
    http_hdrs_free(&h);
    if (rc != 0) {
        printf("INFO: Azurite refused the Archive tier; archive test skipped\n");
        return;
    }
    rc = o->head(st->be, "cold/archived.bin", &i);
    T(rc == 0 && i.archived && i.storage_class && strcmp(i.storage_class, "Archive") == 0,
      "smoke_head_archived", "rc %d", rc);
    os_info_clear(&i);
    rc = o->get_range(st->be, "cold/archived.bin", 0, -1, sink, &sb, NULL);
    T(rc == -EACCES && os_last_error()->kind == OSE_ARCHIVED &&
          strstr(os_last_error()->message, "rehydrate it first"),
      "smoke_get_archived_refused", "rc %d", rc);
    printf("INFO: archived read says: %s\n", os_last_error()->message);
}

/* An account SAS (blob service, all resource types, read-write) signed with the account key,
 * valid for two hours. Caller frees. NULL on failure. */
static char *make_account_sas(const struct az_creds *cr)
{
    unsigned char key[256], mac[CRYPTO_SHA256_LEN];
    char se[32], sig[CRYPTO_B64_SIZE(CRYPTO_SHA256_LEN)];
    struct buf sts, out;
    time_t t = time(NULL) + 7200;
    struct tm tm;
    long n;

    n = cr->key ? crypto_base64_decode(cr->key, key, sizeof(key)) : -1;
    if (n <= 0)
        return NULL;
    gmtime_r(&t, &tm);
    strftime(se, sizeof(se), "%Y-%m-%dT%H:%M:%SZ", &tm);
    buf_init(&sts, 4096);
    buf_init(&out, 4096);
    /* account, sp, ss, srt, st, se, sip, spr, sv, encryption scope, "" */
    buf_appendf(&sts, "%s\nrwdlacup\nb\nsco\n\n%s\n\nhttps,http\n%s\n\n", cr->account, se,
                BLOB_API_VERSION);
    crypto_hmac_sha256(key, (size_t)n, sts.data, sts.len, mac);
    crypto_base64_encode(mac, sizeof(mac), sig);
    buf_appendf(&out, "sv=%s&ss=b&srt=sco&sp=rwdlacup&se=", BLOB_API_VERSION);
    url_encode_append(&out, se, false);
    buf_appends(&out, "&spr=https,http&sig=");
    url_encode_append(&out, sig, false);
    buf_free(&sts);
    return buf_take(&out);
}

int main(int argc, char **argv)
{
    const char *cs = getenv("AZURE_STORAGE_CONNECTION_STRING");
    struct az_creds cr;
    struct http_config hcfg;
    struct http_client *hc;
    struct os_store *st = NULL, *bad = NULL, *none = NULL;
    char err[256], container[64], *sas_token = NULL;
    int rc;

    if (argc > 1 && strcmp(argv[1], "-v") == 0)
        log_set_level(LOGL_DEBUG);
    memset(&cr, 0, sizeof(cr));
    if (!cs || creds_az_parse_connection_string(cs, &cr, err, sizeof(err)) != 0) {
        fprintf(stderr, "blob_smoke: set AZURE_STORAGE_CONNECTION_STRING (%s)\n",
                cs ? err : "unset");
        return 2;
    }
    http_config_defaults(&hcfg);
    hcfg.max_retries = 1;
    hc = http_client_new(&hcfg);
    snprintf(container, sizeof(container), "smoke-%ld-%d", (long)time(NULL), (int)getpid());
    rc = mkstore(hc, &cr, container, cr.key, &st);
    T(rc == 0, "smoke_store_new", "rc %d", rc);
    if (rc != 0)
        return 1;
    rc = st->ops->check(st->be);
    T(rc == -ENOENT && os_last_error()->kind == OSE_NO_BUCKET, "smoke_check_missing_container",
      "rc %d", rc);
    rc = st->ops->mkbucket(st->be);
    T(rc == 0, "smoke_mkbucket", "rc %d", rc);
    rc = st->ops->mkbucket(st->be);
    T(rc == -EEXIST && os_last_error()->kind == OSE_EXISTS, "smoke_mkbucket_exists", "rc %d", rc);
    rc = st->ops->check(st->be);
    T(rc == 0, "smoke_check", "rc %d", rc);

    test_basic(st);
    test_blocks(st);
    test_list(st);
    test_copy_meta_delete(st);
    test_names(st);
    test_archive(st);
    /* The same operations through an account SAS (BLOB_SMOKE_SAS, or one made here). */
    sas_token = getenv("BLOB_SMOKE_SAS") ? strdup(getenv("BLOB_SMOKE_SAS")) : make_account_sas(&cr);
    if (sas_token) {
        struct os_store *sas = NULL;
        struct az_creds c2 = cr;

        c2.sas = sas_token;
        rc = mkstore(hc, &c2, container, NULL, &sas);
        T(rc == 0, "smoke_sas_store_new", "rc %d", rc);
        if (rc == 0) {
            struct os_info i;

            rc = sas->ops->head(sas->be, "dir/hello world+%.txt", &i);
            T(rc == 0 && i.size == 26, "smoke_sas_head", "rc %d", rc);
            os_info_clear(&i);
            rc = sas->ops->copy(sas->be, "dir/hello world+%.txt", "sas/copied", NULL);
            T(rc == 0, "smoke_sas_copy", "rc %d", rc);
            tprefix = "sas/";
            test_blocks(sas);
            test_list(sas);
            tprefix = "";
            os_store_free(sas);
        }
    }

    /* A wrong key (valid base64, wrong bytes). */
    rc = mkstore(hc, &cr, container, "d3JvbmcgYWNjb3VudCBrZXkgZm9yIHRlc3Rpbmc=", &bad);
    if (rc == 0)
        rc = bad->ops->head(bad->be, "dir/hello world+%.txt", &(struct os_info){0});
    T(rc == -EACCES && os_last_error()->kind == OSE_BAD_CREDENTIALS &&
          strstr(os_last_error()->message, "AuthenticationFailed"),
      "smoke_wrong_key_head", "rc %d", rc);
    if (bad)
        rc = bad->ops->list_page(bad->be, "", NULL, NULL, 1, &(struct os_list_page){0});
    T(rc == -EACCES && os_last_error()->kind == OSE_BAD_CREDENTIALS, "smoke_wrong_key_list",
      "rc %d", rc);
    printf("INFO: wrong key says: %s\n", os_last_error()->message);
    rc = mkstore(hc, &cr, container, "not base64!", &none);
    T(rc == -EINVAL && !strstr(os_last_error()->message, "not base64!"), "smoke_bad_base64_key",
      "rc %d", rc);

    {
        struct az_creds c3 = cr;
        struct os_store *down = NULL;
        struct os_info i;

        c3.endpoint = "http://127.0.0.1:1/devstoreaccount1";
        rc = mkstore(hc, &c3, container, cr.key, &down);
        if (rc == 0)
            rc = down->ops->head(down->be, "x", &i);
        T(rc < 0 && os_last_error()->kind == OSE_UNREACHABLE &&
              strstr(os_last_error()->message, "http://127.0.0.1:1/devstoreaccount1"),
          "smoke_unreachable_endpoint", "rc %d", rc);
        printf("INFO: unreachable says: %s\n", os_last_error()->message);
        os_store_free(down);
    }
    free(sas_token);
    os_store_free(bad);
    os_store_free(none);
    os_store_free(st);
    http_client_free(hc);
    creds_az_free(&cr);
    printf("%d passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
