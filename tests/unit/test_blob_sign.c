/* test_blob_sign: Azure Shared Key string to sign and signature on fixed inputs. */
#include <stdlib.h>
#include <string.h>

#include "blob/blob.h"
#include "check.h"
#include "core/buf.h"
#include "core/crypto.h"
#include "core/http.h"

#define DATE "Fri, 26 Jun 2015 23:39:12 GMT"
/* Azurite's well-known development key (public, documented by Microsoft). */
#define DEVKEY                                                                                     \
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static char *sts(const char *account, const char *method, const char *url,
                 const struct http_hdrs *h, unsigned long len)
{
    struct buf b;

    buf_init(&b, 1 << 20);
    if (blob_string_to_sign(account, method, url, h, len, &b) != 0) {
        buf_free(&b);
        return NULL;
    }
    return buf_take(&b);
}

static void test_get_range(void)
{
    struct http_hdrs h = {0};
    char *s;

    http_hdrs_add(&h, "x-ms-version", "2021-12-02");
    http_hdrs_add(&h, "X-Ms-Date", DATE);
    http_hdrs_add(&h, "Range", "bytes=0-99");
    http_hdrs_add(&h, "Accept", "*/*");
    s = sts("myaccount", "GET",
            "https://myaccount.blob.core.windows.net/mycontainer/dir/my%20blob.txt", &h, 0);
    CHECK_STREQ(s,
                "GET\n\n\n\n\n\n\n\n\n\n\nbytes=0-99\n"
                "x-ms-date:" DATE "\nx-ms-version:2021-12-02\n"
                "/myaccount/mycontainer/dir/my%20blob.txt",
                "sign_get_range_host_style");
    free(s);
    s = sts("devstoreaccount1", "GET",
            "http://127.0.0.1:10000/devstoreaccount1/mycontainer/dir/my%20blob.txt", &h, 0);
    CHECK_STREQ(s,
                "GET\n\n\n\n\n\n\n\n\n\n\nbytes=0-99\n"
                "x-ms-date:" DATE "\nx-ms-version:2021-12-02\n"
                "/devstoreaccount1/devstoreaccount1/mycontainer/dir/my%20blob.txt",
                "sign_get_range_path_style_resource");
    free(s);
    http_hdrs_free(&h);
}

static void test_put_meta(void)
{
    struct http_hdrs h = {0};
    char *s;

    http_hdrs_add(&h, "Content-MD5", "XrY7u+Ae7tCTyyK7j1rNww==");
    http_hdrs_add(&h, "x-ms-blob-type", "BlockBlob");
    http_hdrs_add(&h, "x-ms-meta-Mtime", "2024-05-06T07:08:09.123456789Z");
    http_hdrs_add(&h, "x-ms-meta-color", "  blue ");
    http_hdrs_add(&h, "x-ms-blob-content-md5", "XrY7u+Ae7tCTyyK7j1rNww==");
    http_hdrs_add(&h, "x-ms-blob-content-type", "text/plain");
    http_hdrs_add(&h, "x-ms-date", DATE);
    http_hdrs_add(&h, "x-ms-version", "2021-12-02");
    s = sts("devstoreaccount1", "PUT", "http://127.0.0.1:10000/devstoreaccount1/cont/a/b%2Bc.bin",
            &h, 11);
    CHECK_STREQ(s,
                "PUT\n\n\n11\nXrY7u+Ae7tCTyyK7j1rNww==\n\n\n\n\n\n\n\n"
                "x-ms-blob-content-md5:XrY7u+Ae7tCTyyK7j1rNww==\n"
                "x-ms-blob-content-type:text/plain\n"
                "x-ms-blob-type:BlockBlob\n"
                "x-ms-date:" DATE "\n"
                "x-ms-meta-color:blue\n"
                "x-ms-meta-mtime:2024-05-06T07:08:09.123456789Z\n"
                "x-ms-version:2021-12-02\n"
                "/devstoreaccount1/devstoreaccount1/cont/a/b%2Bc.bin",
                "sign_put_metadata_md5_path_style");
    free(s);
    /* Azure sorts x-ms- names culture-aware: '_' before digits before letters. */
    http_hdrs_free(&h);
    http_hdrs_add(&h, "x-ms-meta-ab", "3");
    http_hdrs_add(&h, "x-ms-meta-i0", "2");
    http_hdrs_add(&h, "x-ms-meta-i_", "1");
    http_hdrs_add(&h, "x-ms-meta-a1", "4");
    http_hdrs_add(&h, "x-ms-meta-a_b", "5");
    http_hdrs_add(&h, "x-ms-meta-a", "6");
    s = sts("acct", "PUT", "https://acct.blob.core.windows.net/c/b", &h, 1);
    CHECK(s && strstr(s, "\nx-ms-meta-a:6\nx-ms-meta-a_b:5\nx-ms-meta-a1:4\nx-ms-meta-ab:3\n"
                         "x-ms-meta-i_:1\nx-ms-meta-i0:2\n/acct/c/b"),
          "sign_meta_headers_culture_order", "got %s", s ? s : "(null)");
    free(s);
    /* Zero-length PUT: Content-Length is empty (2015-02-21+). */
    s = sts("acct", "PUT", "https://acct.blob.core.windows.net/cont?restype=container", NULL, 0);
    CHECK_STREQ(s, "PUT\n\n\n\n\n\n\n\n\n\n\n\n/acct/cont\nrestype:container",
                "sign_zero_length_put_empty_content_length");
    free(s);
    http_hdrs_free(&h);
}

static void test_list_query(void)
{
    struct http_hdrs h = {0};
    char *s;

    http_hdrs_add(&h, "x-ms-date", DATE);
    http_hdrs_add(&h, "x-ms-version", "2021-12-02");
    s = sts("myaccount", "GET",
            "https://myaccount.blob.core.windows.net/mycontainer?restype=container&comp=list"
            "&include=metadata&prefix=dir%2Fsub%20x%2B&delimiter=%2F&marker=2%21abc&maxresults=2",
            &h, 0);
    CHECK_STREQ(s,
                "GET\n\n\n\n\n\n\n\n\n\n\n\n"
                "x-ms-date:" DATE "\nx-ms-version:2021-12-02\n"
                "/myaccount/mycontainer\ncomp:list\ndelimiter:/\ninclude:metadata\n"
                "marker:2!abc\nmaxresults:2\nprefix:dir/sub x+\nrestype:container",
                "sign_list_query_sorted_decoded");
    free(s);
    s = sts("myaccount", "GET",
            "https://myaccount.blob.core.windows.net/c?Include=snapshots&comp=list&include=metadata"
            "&restype=container",
            &h, 0);
    CHECK(
        s &&
            strstr(s, "\n/myaccount/c\ncomp:list\ninclude:metadata,snapshots\nrestype:container") &&
            s[strlen(s) - 1] == 'r',
        "sign_query_names_lowercased_values_joined", "got %s", s ? s : "(null)");
    free(s);
    /* Path-style list: resource doubles the account. */
    s = sts("devstoreaccount1", "GET",
            "http://127.0.0.1:10000/devstoreaccount1/c?restype=container&comp=list&maxresults=1",
            &h, 0);
    CHECK(s && strstr(s, "\n/devstoreaccount1/devstoreaccount1/"
                         "c\ncomp:list\nmaxresults:1\nrestype:container"),
          "sign_list_path_style_resource", "got %s", s ? s : "(null)");
    free(s);
    http_hdrs_free(&h);
}

static void test_signature(void)
{
    unsigned char key[64];
    long n = crypto_base64_decode(DEVKEY, key, sizeof(key));
    struct http_hdrs h = {0};
    const char *auth;
    int rc;

    http_hdrs_add(&h, "x-ms-version", "2021-12-02");
    http_hdrs_add(&h, "x-ms-date", DATE);
    http_hdrs_add(&h, "Range", "bytes=0-99");
    rc = blob_sharedkey_sign(
        "devstoreaccount1", key, (unsigned long)n, "GET",
        "http://127.0.0.1:10000/devstoreaccount1/mycontainer/dir/my%20blob.txt", &h, 0);
    auth = http_hdrs_get(&h, "Authorization");
    /* Expected value computed independently (Python hmac/hashlib/base64). */
    CHECK(rc == 0 && auth &&
              strcmp(auth,
                     "SharedKey devstoreaccount1:1qmNSKI/LAl/XZ8iSGYi61uFrO2+qlk5yW0LP+4JUhg=") ==
                  0,
          "sign_sharedkey_authorization_matches_reference", "rc %d", rc);
    http_hdrs_free(&h);

    rc = blob_sharedkey_sign("devstoreaccount1", key, (unsigned long)n, "HEAD",
                             "http://127.0.0.1:10000/devstoreaccount1/c/b", &h, 0);
    CHECK(rc == 0 && http_hdrs_get(&h, "x-ms-date") && http_hdrs_get(&h, "Authorization") &&
              strncmp(http_hdrs_get(&h, "Authorization"), "SharedKey devstoreaccount1:", 27) == 0,
          "sign_adds_x_ms_date_when_missing", "rc %d", rc);
    http_hdrs_free(&h);
}

int main(void)
{
    test_get_range();
    test_put_meta();
    test_list_query();
    test_signature();
    return CHECK_DONE();
}
