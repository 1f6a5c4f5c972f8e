/* test_xml: safe parsing of service XML, hostile documents, and escaping. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/buf.h"
#include "core/xml.h"

static const char listing[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\n"
    "  <Name>bucket</Name>\n"
    "  <IsTruncated>true</IsTruncated>\n"
    "  <Contents><Key>a&amp;b.txt</Key><Size>12</Size></Contents>\n"
    "  <Contents><Key>c &lt;d&gt;</Key><Size>0</Size></Contents>\n"
    "  <CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes>\n"
    "  <NextContinuationToken>tok=</NextContinuationToken>\n"
    "</ListBucketResult>\n";

static void *parse_thread(void *arg)
{
    long ok = 1;

    (void)arg;
    for (int i = 0; i < 200; i++) {
        struct xml_doc *d = NULL;
        char err[128];
        char *t;

        if (xml_parse(listing, sizeof(listing) - 1, &d, err, sizeof(err)) != 0) {
            ok = 0;
            break;
        }
        t = xml_child_text(xml_root(d), "Name");
        if (!t || strcmp(t, "bucket") != 0)
            ok = 0;
        free(t);
        xml_doc_free(d);
        if (xml_parse("<a><b></a>", 10, &d, err, sizeof(err)) != -EBADMSG)
            ok = 0;
    }
    return (void *)ok;
}

/* Runs fn with stderr redirected to a temp file; returns how many bytes were written there. */
static long stderr_bytes_during(void (*fn)(void))
{
    char path[] = "/tmp/bfs_xml_stderrXXXXXX";
    int fd = mkstemp(path), saved;
    long n;

    fflush(stderr);
    saved = dup(2);
    dup2(fd, 2);
    fn();
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    n = lseek(fd, 0, SEEK_END);
    close(fd);
    unlink(path);
    return n;
}

static void parse_garbage(void)
{
    struct xml_doc *d = NULL;
    char err[128];

    xml_parse("<a><b>unterminated", 18, &d, err, sizeof(err));
    xml_parse("not xml at all", 14, &d, err, sizeof(err));
    xml_parse("<a>&undefined;</a>", 18, &d, err, sizeof(err));
}

int main(void)
{
    struct xml_doc *d = NULL;
    struct xml_node *root, *c, *p;
    char err[256];
    char *t;
    int rc, n;

    rc = xml_parse(listing, sizeof(listing) - 1, &d, err, sizeof(err));
    CHECK(rc == 0 && d, "xml_parse_listing", "rc=%d err=%s", rc, err);
    root = xml_root(d);
    CHECK_STREQ(xml_name(root), "ListBucketResult", "xml_root_name_without_namespace");
    t = xml_child_text(root, "IsTruncated");
    CHECK_STREQ(t, "true", "xml_child_text");
    free(t);
    n = 0;
    for (c = xml_child(root, "Contents"); c; c = xml_next(c, "Contents"))
        n++;
    CHECK(n == 2, "xml_iterate_children_by_name", "n=%d", n);
    c = xml_child(root, "Contents");
    t = xml_child_text(c, "Key");
    CHECK_STREQ(t, "a&b.txt", "xml_text_unescapes_amp");
    free(t);
    t = xml_child_text(xml_next(c, "Contents"), "Key");
    CHECK_STREQ(t, "c <d>", "xml_text_unescapes_lt_gt");
    free(t);
    p = xml_child(root, "CommonPrefixes");
    t = xml_child_text(p, "Prefix");
    CHECK_STREQ(t, "dir/", "xml_common_prefix");
    free(t);
    CHECK(xml_child_text(root, "Missing") == NULL, "xml_child_text_absent_null", "not NULL");
    c = xml_child(root, NULL);
    CHECK(c && strcmp(xml_name(c), "Name") == 0, "xml_child_any_element_skips_text",
          "got %s", c ? xml_name(c) : "(null)");
    t = xml_text(xml_child(root, "Name"));
    CHECK_STREQ(t, "bucket", "xml_text_of_node");
    free(t);
    xml_doc_free(d);
    xml_doc_free(NULL);

    d = NULL;
    rc = xml_parse("<a><b>", 6, &d, err, sizeof(err));
    CHECK(rc == -EBADMSG && d == NULL && err[0], "xml_truncated_is_ebadmsg", "rc=%d err=%s", rc,
          err);
    rc = xml_parse("", 0, &d, err, sizeof(err));
    CHECK(rc == -EBADMSG, "xml_empty_is_ebadmsg", "rc=%d", rc);
    rc = xml_parse("<html><body>oops", 16, &d, err, sizeof(err));
    CHECK(rc == -EBADMSG && strstr(err, "line"), "xml_error_message_has_line", "err=%s", err);
    rc = xml_parse("<a/>", (size_t)XML_MAX_DOC + 1, &d, err, sizeof(err));
    CHECK(rc == -E2BIG, "xml_too_large_is_e2big", "rc=%d", rc);

    {
        static const char laughs[] =
            "<?xml version=\"1.0\"?>\n"
            "<!DOCTYPE lolz [\n"
            " <!ENTITY lol \"lol\">\n"
            " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
            " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
            " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
            " <!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">\n"
            " <!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">\n"
            " <!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">\n"
            " <!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">\n"
            " <!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">\n"
            " <!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">\n"
            "]>\n"
            "<lolz>&lol9;</lolz>\n";
        static const char xxe[] =
            "<?xml version=\"1.0\"?>\n"
            "<!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
            "<r>&x;</r>\n";
        static const char ext_dtd[] =
            "<?xml version=\"1.0\"?>\n"
            "<!DOCTYPE r SYSTEM \"http://127.0.0.1:1/evil.dtd\">\n"
            "<r/>\n";

        d = NULL;
        rc = xml_parse(laughs, sizeof(laughs) - 1, &d, err, sizeof(err));
        CHECK(rc == -EBADMSG && d == NULL && strstr(err, "DTD"), "xml_billion_laughs_refused",
              "rc=%d err=%s", rc, err);
        rc = xml_parse(xxe, sizeof(xxe) - 1, &d, err, sizeof(err));
        CHECK(rc == -EBADMSG && d == NULL, "xml_external_entity_refused", "rc=%d", rc);
        rc = xml_parse(ext_dtd, sizeof(ext_dtd) - 1, &d, err, sizeof(err));
        CHECK(rc == -EBADMSG && d == NULL, "xml_external_dtd_refused", "rc=%d", rc);
        rc = xml_parse("<a>&lol;</a>", 12, &d, err, sizeof(err));
        CHECK(rc == -EBADMSG, "xml_undefined_entity_refused", "rc=%d", rc);
    }

    CHECK(stderr_bytes_during(parse_garbage) == 0, "xml_errors_not_printed_to_stderr",
          "libxml2 printed to stderr");

    {
        pthread_t th[4];
        void *res;
        int all = 1;

        for (int i = 0; i < 4; i++)
            pthread_create(&th[i], NULL, parse_thread, NULL);
        for (int i = 0; i < 4; i++) {
            pthread_join(th[i], &res);
            if (!res)
                all = 0;
        }
        CHECK(all, "xml_parse_concurrent_threads", "a thread failed");
    }

    {
        struct buf b;

        buf_init(&b, 1024);
        rc = xml_escape_append(&b, "a&b<c>d\"e'f\x01g");
        CHECK(rc == 0, "xml_escape_ok", "rc=%d", rc);
        CHECK_STREQ(buf_str(&b), "a&amp;b&lt;c&gt;d&quot;e&apos;f&#1;g", "xml_escape_specials");
        buf_reset(&b);
        xml_escape_append(&b, "plain/key é.txt");
        CHECK_STREQ(buf_str(&b), "plain/key é.txt", "xml_escape_leaves_utf8");
        buf_reset(&b);
        xml_escape_append(&b, "a\rb");
        CHECK(strstr(buf_str(&b), "\r") == NULL, "xml_escape_carriage_return", "got %s",
              buf_str(&b));
        buf_free(&b);
        buf_init(&b, 4);
        rc = xml_escape_append(&b, "&&&&");
        CHECK(rc == -E2BIG, "xml_escape_respects_cap", "rc=%d", rc);
        buf_free(&b);
    }
    return CHECK_DONE();
}
