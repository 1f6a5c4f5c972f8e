/* test_sigv4: the SigV4 signer against AWS's SigV4 test suite and the S3 API reference examples. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "core/buf.h"
#include "core/http.h"
#include "s3/sigv4.h"

/* ---- AWS SigV4 test suite, from the fixture written by tests/unit/sigv4_suite.py ---- */

struct suite_case {
    char *name, *method, *uri, *body, *creq, *sts, *authz, *note;
    struct http_hdrs hdrs;
    struct http_hdrs edited; /* hdrs with the errata applied */
    int has_erratum;
};

/* Undoes the fixture escaping in place. */
static void unescape(char *s)
{
    char *o = s;

    for (; *s; s++) {
        if (*s == '\\' && s[1]) {
            s++;
            *o++ = *s == 'n' ? '\n' : *s == 't' ? '\t' : *s == 'r' ? '\r' : *s;
        } else {
            *o++ = *s;
        }
    }
    *o = '\0';
}

/* Splits line at TABs into at most max fields (unescaped, pointing into line). */
static int split_fields(char *line, char **f, int max)
{
    int n = 0;
    char *p = line, *t;

    while (n < max) {
        f[n++] = p;
        t = strchr(p, '\t');
        if (!t)
            break;
        *t = '\0';
        p = t + 1;
    }
    for (int i = 0; i < n; i++)
        unescape(f[i]);
    return n;
}

static void case_clear(struct suite_case *c)
{
    free(c->name);
    free(c->method);
    free(c->uri);
    free(c->body);
    free(c->creq);
    free(c->sts);
    free(c->authz);
    free(c->note);
    http_hdrs_free(&c->hdrs);
    http_hdrs_free(&c->edited);
    memset(c, 0, sizeof(*c));
}

static void run_case(const struct sigv4_key *k, struct suite_case *c)
{
    struct http_hdrs h = {0}, h2 = {0};
    struct buf canon, sts, canon2, sts2;
    char url[4096], name[512], why[512] = "";
    const char *date, *auth;
    time_t now = 0;
    int rc;

    buf_init(&canon, 1 << 20);
    buf_init(&sts, 1 << 20);
    buf_init(&canon2, 1 << 20);
    buf_init(&sts2, 1 << 20);
    if (c->has_erratum)
        snprintf(name, sizeof(name), "sigv4_suite/%s [AWS erratum: %s]", c->name,
                 c->note ? c->note : "request edited");
    else
        snprintf(name, sizeof(name), "sigv4_suite/%s", c->name);
    snprintf(url, sizeof(url), "https://%s%s",
             http_hdrs_get(&c->hdrs, "host") ? http_hdrs_get(&c->hdrs, "host") : "example.com",
             c->uri);
    date = http_hdrs_get(&c->hdrs, "x-amz-date");
    if (!date || sigv4_parse_amz_date(date, &now) != 0) {
        CHECK(0, name, "no parseable X-Amz-Date header in the case");
        goto out;
    }
    http_hdrs_copy(&h, &c->hdrs);
    rc = sigv4_sign_headers_ex(k, c->method, url, &h, c->body, strlen(c->body), NULL, 0, now,
                               SIGV4_URI_DOUBLE_ENCODE | SIGV4_NORMALIZE_PATH, &canon, &sts);
    if (rc) {
        CHECK(0, name, "signing failed: %d", rc);
        goto out;
    }
    auth = http_hdrs_get(&h, "authorization");
    if (c->has_erratum) {
        http_hdrs_copy(&h2, &c->edited);
        rc = sigv4_sign_headers_ex(k, c->method, url, &h2, c->body, strlen(c->body), NULL, 0, now,
                                   SIGV4_URI_DOUBLE_ENCODE | SIGV4_NORMALIZE_PATH, &canon2, &sts2);
        if (rc) {
            CHECK(0, name, "signing the edited request failed: %d", rc);
            goto out;
        }
        auth = http_hdrs_get(&h2, "authorization");
    }
    if (strcmp(buf_str(&canon), c->creq) != 0)
        snprintf(why, sizeof(why), "canonical request differs:\n--- got\n%s\n--- want\n%s",
                 buf_str(&canon), c->creq);
    else if (strcmp(buf_str(c->has_erratum ? &sts2 : &sts), c->sts) != 0)
        snprintf(why, sizeof(why), "string to sign differs:\n--- got\n%s\n--- want\n%s",
                 buf_str(c->has_erratum ? &sts2 : &sts), c->sts);
    else if (!auth || strcmp(auth, c->authz) != 0)
        snprintf(why, sizeof(why), "authorization differs:\n--- got\n%s\n--- want\n%s",
                 auth ? auth : "(none)", c->authz);
    CHECK(why[0] == '\0', name, "%s", why);
out:
    http_hdrs_free(&h);
    http_hdrs_free(&h2);
    buf_free(&canon);
    buf_free(&sts);
    buf_free(&canon2);
    buf_free(&sts2);
}

static void run_suite(void)
{
    const char *path = getenv("BRIDGEFS_SIGV4_FIXTURE");
    struct sigv4_key k = {0};
    struct suite_case c = {0};
    char *cfg[4] = {0};
    char *line = NULL;
    size_t cap = 0;
    int cases = 0, in_case = 0, i;
    FILE *f;

    if (!path || !*path) {
        CHECK(0, "sigv4_suite_fixture_present",
              "BRIDGEFS_SIGV4_FIXTURE is not set: run tests/unit/sigv4_suite.py > FILE and set it");
        return;
    }
    f = fopen(path, "r");
    if (!f) {
        CHECK(0, "sigv4_suite_fixture_present", "cannot open %s: %s", path, strerror(errno));
        return;
    }
    while (getline(&line, &cap, f) > 0) {
        char *fl[6];
        int n;

        line[strcspn(line, "\n")] = '\0';
        n = split_fields(line, fl, 6);
        if (strcmp(fl[0], "config") == 0 && n == 5) {
            for (i = 0; i < 4; i++) {
                free(cfg[i]);
                cfg[i] = strdup(fl[i + 1]);
            }
            k.service = cfg[0];
            k.region = cfg[1];
            k.access_key = cfg[2];
            k.secret_key = cfg[3];
        } else if (strcmp(fl[0], "case") == 0 && n >= 2) {
            case_clear(&c);
            c.name = strdup(fl[1]);
            in_case = 1;
        } else if (!in_case) {
            continue;
        } else if (strcmp(fl[0], "method") == 0 && n >= 2) {
            c.method = strdup(fl[1]);
        } else if (strcmp(fl[0], "uri") == 0 && n >= 2) {
            c.uri = strdup(fl[1]);
        } else if (strcmp(fl[0], "header") == 0 && n >= 3) {
            http_hdrs_add(&c.hdrs, fl[1], fl[2]);
        } else if (strcmp(fl[0], "body") == 0) {
            c.body = strdup(n >= 2 ? fl[1] : "");
        } else if (strcmp(fl[0], "creq") == 0 && n >= 2) {
            c.creq = strdup(fl[1]);
        } else if (strcmp(fl[0], "sts") == 0 && n >= 2) {
            c.sts = strdup(fl[1]);
        } else if (strcmp(fl[0], "authz") == 0 && n >= 2) {
            c.authz = strdup(fl[1]);
        } else if (strcmp(fl[0], "erratum-drop-header") == 0 && n >= 2) {
            if (!c.has_erratum)
                http_hdrs_copy(&c.edited, &c.hdrs);
            c.has_erratum = 1;
            http_hdrs_del(&c.edited, fl[1]);
        } else if (strcmp(fl[0], "erratum-set-header") == 0 && n >= 3) {
            if (!c.has_erratum)
                http_hdrs_copy(&c.edited, &c.hdrs);
            c.has_erratum = 1;
            http_hdrs_set(&c.edited, fl[1], fl[2]);
        } else if (strcmp(fl[0], "erratum-note") == 0 && n >= 2) {
            free(c.note);
            c.note = strdup(fl[1]);
        } else if (strcmp(fl[0], "end") == 0) {
            in_case = 0;
            cases++;
            if (!k.secret_key) {
                CHECK(0, c.name, "fixture has no config line before its cases");
                continue;
            }
            if (!c.method || !c.uri || !c.body || !c.creq || !c.sts || !c.authz) {
                CHECK(0, c.name, "incomplete case in fixture");
                continue;
            }
            run_case(&k, &c);
        }
    }
    case_clear(&c);
    free(line);
    fclose(f);
    CHECK(cases >= 28, "sigv4_suite_has_all_cases", "fixture %s has %d cases, want >= 28", path,
          cases);
    for (i = 0; i < 4; i++)
        free(cfg[i]);
}

/* ---- The S3 API reference's SigV4 examples (sig-v4-header-based-auth, sigv4-query-string-auth)
 * ---- */

static const struct sigv4_key s3_example_key = {
    "AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", NULL, "us-east-1", "s3"};
#define EX_HOST "examplebucket.s3.amazonaws.com"
#define EX_CRED                                                                                    \
    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"

static time_t example_time(void)
{
    time_t t = 0;

    sigv4_parse_amz_date("20130524T000000Z", &t);
    return t;
}

/* Signs one example and checks canonical request (when want_canon), SignedHeaders and Signature. */
static void s3_example(const char *name, const char *method, const char *url, struct http_hdrs *h,
                       const char *body, const char *want_canon, const char *want_sts,
                       const char *want_signed, const char *want_sig)
{
    struct buf canon, sts;
    char want_auth[512], why[2048] = "";
    const char *auth;
    int rc;

    buf_init(&canon, 1 << 20);
    buf_init(&sts, 1 << 20);
    rc =
        sigv4_sign_headers_ex(&s3_example_key, method, url, h, body, body ? strlen(body) : 0,
                              body ? NULL : SIGV4_EMPTY_SHA256, 1, example_time(), 0, &canon, &sts);
    auth = http_hdrs_get(h, "authorization");
    snprintf(want_auth, sizeof(want_auth), EX_CRED ", SignedHeaders=%s, Signature=%s", want_signed,
             want_sig);
    if (rc)
        snprintf(why, sizeof(why), "signing failed: %d", rc);
    else if (want_canon && strcmp(buf_str(&canon), want_canon) != 0)
        snprintf(why, sizeof(why), "canonical request differs:\n--- got\n%s\n--- want\n%s",
                 buf_str(&canon), want_canon);
    else if (want_sts && strcmp(buf_str(&sts), want_sts) != 0)
        snprintf(why, sizeof(why), "string to sign differs:\n--- got\n%s\n--- want\n%s",
                 buf_str(&sts), want_sts);
    else if (!auth || strcmp(auth, want_auth) != 0)
        snprintf(why, sizeof(why), "authorization differs: got %s want %s", auth ? auth : "(none)",
                 want_auth);
    CHECK(why[0] == '\0', name, "%s", why);
    buf_free(&canon);
    buf_free(&sts);
}

static void test_s3_examples(void)
{
    struct http_hdrs h = {0};
    char *url = NULL;
    int rc;

    http_hdrs_add(&h, "Host", EX_HOST);
    http_hdrs_add(&h, "Range", "bytes=0-9");
    s3_example("sigv4_s3_example_get_object_range", "GET", "https://" EX_HOST "/test.txt", &h, NULL,
               "GET\n/test.txt\n\nhost:" EX_HOST
               "\nrange:bytes=0-9\nx-amz-content-sha256:" SIGV4_EMPTY_SHA256
               "\nx-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-"
               "date\n" SIGV4_EMPTY_SHA256,
               "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
               "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972",
               "host;range;x-amz-content-sha256;x-amz-date",
               "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
    http_hdrs_free(&h);

    http_hdrs_add(&h, "Host", EX_HOST);
    http_hdrs_add(&h, "Date", "Fri, 24 May 2013 00:00:00 GMT");
    http_hdrs_add(&h, "x-amz-storage-class", "REDUCED_REDUNDANCY");
    s3_example(
        "sigv4_s3_example_put_object_dollar_key", "PUT", "https://" EX_HOST "/test%24file.text", &h,
        "Welcome to Amazon S3.",
        "PUT\n/test%24file.text\n\ndate:Fri, 24 May 2013 00:00:00 GMT\nhost:" EX_HOST
        "\nx-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
        "\nx-amz-date:20130524T000000Z\nx-amz-storage-class:REDUCED_REDUNDANCY\n\n"
        "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
        "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072",
        NULL, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
    http_hdrs_free(&h);

    http_hdrs_add(&h, "Host", EX_HOST);
    s3_example("sigv4_s3_example_get_bucket_lifecycle", "GET", "https://" EX_HOST "/?lifecycle", &h,
               NULL,
               "GET\n/\nlifecycle=\nhost:" EX_HOST "\nx-amz-content-sha256:" SIGV4_EMPTY_SHA256
               "\nx-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-"
               "date\n" SIGV4_EMPTY_SHA256,
               NULL, "host;x-amz-content-sha256;x-amz-date",
               "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
    http_hdrs_free(&h);

    http_hdrs_add(&h, "Host", EX_HOST);
    s3_example("sigv4_s3_example_list_objects_max_keys_prefix", "GET",
               "https://" EX_HOST "/?max-keys=2&prefix=J", &h, NULL,
               "GET\n/\nmax-keys=2&prefix=J\nhost:" EX_HOST
               "\nx-amz-content-sha256:" SIGV4_EMPTY_SHA256
               "\nx-amz-date:20130524T000000Z\n\nhost;x-amz-content-sha256;x-amz-"
               "date\n" SIGV4_EMPTY_SHA256,
               NULL, "host;x-amz-content-sha256;x-amz-date",
               "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    http_hdrs_free(&h);

    /* The same list request with its query written in the other order signs the same. */
    http_hdrs_add(&h, "Host", EX_HOST);
    s3_example("sigv4_s3_example_list_objects_query_order_irrelevant", "GET",
               "https://" EX_HOST "/?prefix=J&max-keys=2", &h, NULL, NULL, NULL,
               "host;x-amz-content-sha256;x-amz-date",
               "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
    http_hdrs_free(&h);

    rc = sigv4_presign(&s3_example_key, "GET", "https://" EX_HOST "/test.txt", 86400,
                       example_time(), &url);
    CHECK_STREQ(rc == 0 ? url : NULL,
                "https://" EX_HOST "/test.txt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
                "AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date="
                "20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
                "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404",
                "sigv4_s3_example_presigned_get");
    free(url);
}

/* ---- Behaviour the examples do not pin down ---- */

static void canon_of(const char *method, const char *url, int flags, struct buf *canon)
{
    struct http_hdrs h = {0};
    struct buf sh;

    buf_init(&sh, 1 << 16);
    http_hdrs_add(&h, "Host", "h");
    sigv4_canonical_request(method, url, &h, SIGV4_UNSIGNED, flags, canon, &sh);
    buf_free(&sh);
    http_hdrs_free(&h);
}

static void test_canonical_details(void)
{
    struct buf c;

    buf_init(&c, 1 << 16);
    canon_of("GET", "http://h/b/a//./c%20d/..", 0, &c);
    CHECK(strncmp(buf_str(&c), "GET\n/b/a//./c%20d/..\n\n", 22) == 0,
          "sigv4_s3_path_not_normalized_nor_reencoded", "got %s", buf_str(&c));
    buf_reset(&c);
    canon_of("GET", "http://h/a%20b", SIGV4_URI_DOUBLE_ENCODE, &c);
    CHECK(strncmp(buf_str(&c), "GET\n/a%2520b\n", 13) == 0, "sigv4_generic_path_double_encoded",
          "got %s", buf_str(&c));
    buf_reset(&c);
    canon_of("POST", "http://h/b/k?uploads", 0, &c);
    CHECK(strncmp(buf_str(&c), "POST\n/b/k\nuploads=\n", 19) == 0,
          "sigv4_query_flag_without_value_gets_equals", "got %s", buf_str(&c));
    buf_reset(&c);
    canon_of("GET",
             "http://h/b?prefix=a%2Fb%20c&list-type=2&continuation-token=x+y%2B&encoding-type=url",
             0, &c);
    CHECK(strstr(buf_str(&c), "\ncontinuation-token=x%2By%2B&encoding-type=url&list-type=2&"
                              "prefix=a%2Fb%20c\n") != NULL,
          "sigv4_query_sorted_and_encoded_once", "got %s", buf_str(&c));
    buf_reset(&c);
    canon_of("GET", "http://h/b?a=2&a=10&A=3", 0, &c);
    CHECK(strstr(buf_str(&c), "\nA=3&a=10&a=2\n") != NULL, "sigv4_query_sorted_by_name_then_value",
          "got %s", buf_str(&c));
    buf_reset(&c);
    canon_of("GET", "http://h", 0, &c);
    CHECK(strncmp(buf_str(&c), "GET\n/\n\n", 7) == 0, "sigv4_empty_path_is_slash", "got %s",
          buf_str(&c));
    buf_free(&c);
}

static void test_sign_details(void)
{
    struct sigv4_key k = s3_example_key;
    struct http_hdrs h = {0};
    const char *auth;
    size_t i, n_auth = 0;
    char *url = NULL;
    int rc;

    k.session_token = "SESSIONTOKENvalue+/=";
    rc = sigv4_sign_headers(&k, "GET", "http://127.0.0.1:8080/b/k", &h, NULL, 0, SIGV4_UNSIGNED, 1,
                            example_time());
    CHECK(rc == 0, "sigv4_sign_ok", "rc %d", rc);
    CHECK_STREQ(http_hdrs_get(&h, "host"), "127.0.0.1:8080", "sigv4_host_derived_with_port");
    CHECK_STREQ(http_hdrs_get(&h, "x-amz-security-token"),
                "SESSIONTOKENvalue+/=", "sigv4_session_token_header_added");
    CHECK_STREQ(http_hdrs_get(&h, "x-amz-content-sha256"), SIGV4_UNSIGNED,
                "sigv4_unsigned_payload_header");
    auth = http_hdrs_get(&h, "authorization");
    CHECK(auth && strstr(auth, "x-amz-security-token") && !strstr(auth, k.secret_key),
          "sigv4_token_signed_secret_absent", "auth %s", auth ? "present" : "missing");
    rc = sigv4_sign_headers(&k, "GET", "http://127.0.0.1:8080/b/k", &h, NULL, 0, SIGV4_UNSIGNED, 1,
                            example_time() + 60);
    for (i = 0; i < h.n; i++)
        if (strcasecmp(h.v[i].name, "authorization") == 0)
            n_auth++;
    CHECK(rc == 0 && n_auth == 1, "sigv4_resign_replaces_authorization", "%zu headers", n_auth);
    http_hdrs_free(&h);

    rc =
        sigv4_presign(&k, "GET", "http://127.0.0.1:8080/b/k?versionId=1", 60, example_time(), &url);
    CHECK(rc == 0 && strstr(url, "?versionId=1&X-Amz-Algorithm=") &&
              strstr(url, "&X-Amz-Security-Token=SESSIONTOKENvalue%2B%2F%3D") &&
              strstr(url, "&X-Amz-Signature="),
          "sigv4_presign_keeps_query_and_adds_token", "got %s", url ? url : "(null)");
    free(url);
    url = NULL;
    rc = sigv4_presign(&k, "GET", "http://h/b/k", 0, example_time(), &url);
    CHECK(rc == -EINVAL && !url, "sigv4_presign_rejects_bad_expiry", "rc %d", rc);
    rc = sigv4_presign(&k, "GET", "http://h/b/k", 604801, example_time(), &url);
    CHECK(rc == -EINVAL && !url, "sigv4_presign_rejects_expiry_over_7_days", "rc %d", rc);
    rc = sigv4_sign_headers(&k, "GET", "not a url", &h, NULL, 0, SIGV4_UNSIGNED, 1, 0);
    CHECK(rc == -EINVAL, "sigv4_rejects_url_without_scheme", "rc %d", rc);
    http_hdrs_free(&h);
    {
        time_t t;
        CHECK(sigv4_parse_amz_date("2013-05-24T00:00:00Z", &t) == -EINVAL &&
                  sigv4_parse_amz_date("20130524T000000", &t) == -EINVAL,
              "sigv4_parse_amz_date_rejects_bad_input", "accepted bad input");
    }
}

int main(void)
{
    run_suite();
    test_s3_examples();
    test_canonical_details();
    test_sign_details();
    return CHECK_DONE();
}
