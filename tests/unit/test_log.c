/* test_log: levels, line format, thread safety, and redaction of every kind of secret. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/log.h"

static char *redact(const char *s)
{
    size_t cap = strlen(s) * 3 + 64;
    char *b = malloc(cap);

    strcpy(b, s);
    return log_redact(b, cap);
}

#define REDACT_CASE(input, secret, keep, name)                                          \
    do {                                                                                \
        char *r_ = redact(input);                                                       \
        CHECK(strstr(r_, secret) == NULL && strstr(r_, "[REDACTED]") &&                 \
                  ((keep) == NULL || strstr(r_, (keep) ? (keep) : "")),                \
              name, "got \"%s\"", r_);                                                  \
        free(r_);                                                                       \
    } while (0)

static FILE *tmp;

static void *log_thread(void *arg)
{
    for (int i = 0; i < 200; i++)
        log_warn("thread %ld line %d with some padding text to make it longer", (long)arg, i);
    return NULL;
}

int main(void)
{
    char line[4096];
    int lines = 0, ok;

    CHECK(log_level_parse("error") == LOGL_ERROR && log_level_parse("WARN") == LOGL_WARN &&
              log_level_parse("info") == LOGL_INFO && log_level_parse("debug") == LOGL_DEBUG &&
              log_level_parse("trace") == LOGL_TRACE && log_level_parse("loud") == -1 &&
              log_level_parse(NULL) == -1,
          "log_level_parse", "wrong");
    CHECK(log_get_level() == LOGL_WARN, "log_default_level_warn", "level=%d", log_get_level());

    REDACT_CASE("GET / HTTP/1.1\r\nAuthorization: AWS4-HMAC-SHA256 Credential=AKID/20240506/"
                "us-east-1/s3/aws4_request, SignedHeaders=host, Signature=deadbeefcafe\r\nHost: x",
                "deadbeefcafe", "Host: x", "log_redact_authorization_header");
    REDACT_CASE("authorization: SharedKey devstoreaccount1:abcdEFGH1234=", "abcdEFGH1234",
                "authorization:", "log_redact_authorization_lowercase");
    REDACT_CASE("https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential="
                "AKIDEXAMPLE%2F20240506&X-Amz-Signature=0123456789abcdef&X-Amz-Expires=60",
                "0123456789abcdef", "X-Amz-Expires=60", "log_redact_presigned_signature");
    REDACT_CASE("https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIDEXAMPLE%2F20240506&x=1",
                "AKIDEXAMPLE", "x=1", "log_redact_presigned_credential");
    REDACT_CASE("?X-Amz-Security-Token=FQoGZXIvYXdzEXAMPLETOKEN&y=2", "FQoGZXIvYXdzEXAMPLETOKEN",
                "y=2", "log_redact_presigned_token");
    REDACT_CASE("x-amz-security-token: FQoGZXIvYXdzTOKEN2\r\n", "FQoGZXIvYXdzTOKEN2", NULL,
                "log_redact_security_token_header");
    REDACT_CASE("https://acct.blob.core.windows.net/c/b?sv=2022-11-02&ss=b&sig=AbC%2Bd%3D&se=x",
                "AbC%2Bd%3D", "se=x", "log_redact_sas_sig");
    REDACT_CASE("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=Zm9vYmFyYmF6cXV4==;"
                "EndpointSuffix=core.windows.net",
                "Zm9vYmFyYmF6cXV4==", "EndpointSuffix=core.windows.net",
                "log_redact_connection_string_accountkey");
    REDACT_CASE("BlobEndpoint=https://a/;SharedAccessSignature=sv=1&sig=XYZsecret123",
                "XYZsecret123", NULL, "log_redact_connection_string_sas");
    {
        char *r = redact("signature=keepme design=ok");
        CHECK(strstr(r, "keepme") && strstr(r, "design=ok"), "log_redact_sig_needs_boundary",
              "got %s", r);
        free(r);
    }
    log_add_secret("s3cr3t-Value/With+Chars");
    REDACT_CASE("error: the key s3cr3t-Value/With+Chars was refused by the server",
                "s3cr3t-Value", "was refused", "log_redact_registered_secret");
    REDACT_CASE("url path /x?k=s3cr3t-Value%2FWith%2BChars&z", "s3cr3t-Value", NULL,
                "log_redact_registered_secret_urlencoded");
    log_add_secret("abc"); /* too short: ignored */
    {
        char *r = redact("abcdef");
        CHECK(strcmp(r, "abcdef") == 0, "log_short_secret_ignored", "got %s", r);
        free(r);
    }
    {
        char small[16];

        strcpy(small, "sig=a&sig=b");
        log_redact(small, sizeof(small));
        CHECK(strlen(small) < sizeof(small) && strstr(small, "=a") == NULL,
              "log_redact_respects_cap", "got %s", small);
    }

    tmp = tmpfile();
    log_set_stream(tmp);
    log_set_level(LOGL_INFO);
    log_info("hello %d", 42);
    log_debug("hidden debug");
    log_error("Authorization: Bearer SECRETTOKEN123\nsecond line");
    log_set_level(LOGL_WARN);
    log_info("hidden info");
    fflush(tmp);
    rewind(tmp);
    ok = 1;
    if (!fgets(line, sizeof(line), tmp))
        ok = 0;
    CHECK(ok && strlen(line) > 30 && line[4] == '-' && line[10] == 'T' && line[19] == '.' &&
              line[23] == 'Z' && strstr(line, " INFO hello 42\n"),
          "log_line_format_iso8601_ms", "line=%s", line);
    ok = fgets(line, sizeof(line), tmp) != NULL;
    CHECK(ok && strstr(line, " ERROR ") && !strstr(line, "SECRETTOKEN123") &&
              strstr(line, "second line"),
          "log_msg_redacted_one_line", "line=%s", line);
    CHECK(fgets(line, sizeof(line), tmp) == NULL, "log_level_filters", "extra line %s", line);
    fclose(tmp);

    tmp = tmpfile();
    log_set_stream(tmp);
    {
        pthread_t th[4];

        for (long i = 0; i < 4; i++)
            pthread_create(&th[i], NULL, log_thread, (void *)i);
        for (int i = 0; i < 4; i++)
            pthread_join(th[i], NULL);
    }
    fflush(tmp);
    rewind(tmp);
    ok = 1;
    while (fgets(line, sizeof(line), tmp)) {
        lines++;
        if (!strstr(line, " WARN thread ") || !strstr(line, "longer\n"))
            ok = 0;
    }
    CHECK(ok && lines == 800, "log_threads_whole_lines", "lines=%d ok=%d", lines, ok);
    log_set_stream(NULL);
    fclose(tmp);
    return CHECK_DONE();
}
