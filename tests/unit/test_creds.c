/* test_creds: S3 and Azure credential discovery with a temporary HOME and environment. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "core/creds.h"
#include "core/log.h"
#include "core/url.h"

static char home[] = "/tmp/bfs_creds_XXXXXX";

static const char *const vars[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION",
    "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
    "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_NO_SIGN_REQUEST",
    "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT", "AZURE_STORAGE_KEY",
    "AZURE_STORAGE_SAS_TOKEN"};

static void clear_env(void)
{
    for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
}

static void write_file(const char *name, const char *text)
{
    char path[256];
    FILE *f;

    snprintf(path, sizeof(path), "%s/.aws/%s", home, name);
    f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static void remove_files(void)
{
    char path[256];

    snprintf(path, sizeof(path), "%s/.aws/credentials", home);
    unlink(path);
    snprintf(path, sizeof(path), "%s/.aws/config", home);
    unlink(path);
}

static void test_s3(void)
{
    struct s3_creds c;
    char err[256];
    int rc;

    clear_env();
    rc = creds_s3_discover(&c, err, sizeof(err));
    CHECK(rc == 0 && c.anonymous && !c.access_key && strcmp(c.region, "us-east-1") == 0 &&
              !c.endpoint,
          "creds_s3_nothing_is_anonymous", "rc=%d err=%s", rc, err);
    creds_s3_free(&c);

    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    rc = creds_s3_discover(&c, err, sizeof(err));
    CHECK(rc == -EINVAL &&
              strcmp(err, "AWS_SECRET_ACCESS_KEY is not set but AWS_ACCESS_KEY_ID is") == 0,
          "creds_s3_missing_secret_named", "rc=%d err=%s", rc, err);
    unsetenv("AWS_ACCESS_KEY_ID");
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret1234", 1);
    rc = creds_s3_discover(&c, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "AWS_ACCESS_KEY_ID is not set"),
          "creds_s3_missing_key_id_named", "err=%s", err);
    CHECK(strstr(err, "envsecret1234") == NULL, "creds_s3_error_has_no_secret", "err=%s", err);

    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SESSION_TOKEN", "tokenENV5678", 1);
    setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8080/", 1);
    rc = creds_s3_discover(&c, err, sizeof(err));
    CHECK(rc == 0 && !c.anonymous && strcmp(c.access_key, "AKIDENV") == 0 &&
              strcmp(c.secret_key, "envsecret1234") == 0 &&
              strcmp(c.session_token, "tokenENV5678") == 0 && strcmp(c.region, "eu-west-1") == 0 &&
              strcmp(c.endpoint, "http://127.0.0.1:8080") == 0,
          "creds_s3_from_env", "rc=%d err=%s", rc, err);
    creds_s3_free(&c);
    setenv("AWS_REGION", "ap-south-1", 1);
    rc = creds_s3_discover(&c, err, sizeof(err));
    CHECK(rc == 0 && strcmp(c.region, "ap-south-1") == 0, "creds_s3_aws_region_wins",
          "region=%s", c.region);
    creds_s3_free(&c);
    {
        char buf[128];

        strcpy(buf, "secret is envsecret1234 and token tokenENV5678");
        log_redact(buf, sizeof(buf));
        CHECK(!strstr(buf, "envsecret1234") && !strstr(buf, "tokenENV5678"),
              "creds_s3_secrets_registered", "got %s", buf);
    }
    setenv("AWS_NO_SIGN_REQUEST", "true", 1);
    rc = creds_s3_discover(&c, err, sizeof(err));
    CHECK(rc == 0 && c.anonymous, "creds_s3_no_sign_request", "rc=%d", rc);
    creds_s3_free(&c);

    /* Profiles. */
    clear_env();
    write_file("credentials", "# comment\n[default]\naws_access_key_id = AKIDDEF\n"
                              "aws_secret_access_key = defsecret0000\n\n"
                              "[work]\naws_access_key_id=AKIDWORK\naws_secret_access_key=wsecret/+=\n"
                              "aws_session_token = wtoken9999\n"
                              "[broken]\naws_access_key_id = AKIDBROKEN\n");
    write_file("config", "[default]\nregion = us-west-2\n"
                         "[profile work]\nregion=eu-central-1\ns3 =\n  endpoint_url = http://127.0.0.1:9000\n"
                         "  addressing_style = path\n"
                         "[profile other]\nendpoint_url = http://other:1\n");
    rc = creds_s3_discover(&c, err, sizeof(err));
    CHECK(rc == 0 && strcmp(c.access_key, "AKIDDEF") == 0 &&
              strcmp(c.secret_key, "defsecret0000") == 0 && strcmp(c.region, "us-west-2") == 0 &&
              !c.session_token && !c.anonymous,
          "creds_s3_default_profile", "rc=%d err=%s", rc, err);
    creds_s3_free(&c);
    setenv("AWS_PROFILE", "work", 1);
    rc = creds_s3_discover(&c, err, sizeof(err));
    CHECK(rc == 0 && strcmp(c.access_key, "AKIDWORK") == 0 &&
              strcmp(c.secret_key, "wsecret/+=") == 0 &&
              strcmp(c.session_token, "wtoken9999") == 0 &&
              strcmp(c.region, "eu-central-1") == 0 && c.endpoint &&
              strcmp(c.endpoint, "http://127.0.0.1:9000") == 0,
          "creds_s3_named_profile_with_config", "rc=%d err=%s", rc, err);
    creds_s3_free(&c);
    setenv("AWS_PROFILE", "other", 1);
    rc = creds_s3_discover(&c, err, sizeof(err));
    CHECK(rc == 0 && c.anonymous && c.endpoint && strcmp(c.endpoint, "http://other:1") == 0,
          "creds_s3_config_only_profile_endpoint", "rc=%d err=%s", rc, err);
    creds_s3_free(&c);
    setenv("AWS_PROFILE", "broken", 1);
    rc = creds_s3_discover(&c, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "aws_secret_access_key") && strstr(err, "broken"),
          "creds_s3_profile_missing_secret", "err=%s", err);
    setenv("AWS_PROFILE", "nosuch", 1);
    rc = creds_s3_discover(&c, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "nosuch"), "creds_s3_unknown_profile", "err=%s", err);
    setenv("AWS_PROFILE", "work", 1);
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV2", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret2222", 1);
    rc = creds_s3_discover(&c, err, sizeof(err));
    CHECK(rc == 0 && strcmp(c.access_key, "AKIDENV2") == 0 && !c.session_token &&
              strcmp(c.region, "eu-central-1") == 0,
          "creds_s3_env_beats_profile", "rc=%d key=%s", rc, c.access_key);
    creds_s3_free(&c);
    clear_env();
    {
        char path[256];

        snprintf(path, sizeof(path), "%s/.aws/credentials", home);
        setenv("AWS_SHARED_CREDENTIALS_FILE", path, 1);
        setenv("HOME", "/nonexistent", 1);
        setenv("AWS_PROFILE", "work", 1);
        rc = creds_s3_discover(&c, err, sizeof(err));
        CHECK(rc == 0 && strcmp(c.access_key, "AKIDWORK") == 0 &&
                  strcmp(c.region, "us-east-1") == 0,
              "creds_s3_shared_credentials_file_var", "rc=%d err=%s", rc, err);
        creds_s3_free(&c);
        setenv("HOME", home, 1);
    }
    clear_env();
    remove_files();
    creds_s3_free(NULL);
}

#define DEVKEY "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="

static void test_az(void)
{
    struct az_creds c;
    struct store_url u;
    char err[512];
    int rc;

    clear_env();
    rc = creds_az_parse_connection_string(
        "DefaultEndpointsProtocol=https;AccountName=acct1;AccountKey=" DEVKEY
        ";EndpointSuffix=core.chinacloudapi.cn",
        &c, err, sizeof(err));
    CHECK(rc == 0 && strcmp(c.account, "acct1") == 0 && strcmp(c.key, DEVKEY) == 0 &&
              strcmp(c.endpoint, "https://acct1.blob.core.chinacloudapi.cn") == 0 && !c.sas,
          "creds_az_cs_key_with_padding_and_suffix", "rc=%d err=%s", rc, err);
    creds_az_free(&c);
    rc = creds_az_parse_connection_string(
        "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1/;SharedAccessSignature=?sv=2022&sig=a%3D",
        &c, err, sizeof(err));
    CHECK(rc == 0 && !c.account && strcmp(c.endpoint, "http://127.0.0.1:10000/devstoreaccount1") == 0 &&
              strcmp(c.sas, "sv=2022&sig=a%3D") == 0,
          "creds_az_cs_sas_and_endpoint", "rc=%d err=%s", rc, err);
    creds_az_free(&c);
    rc = creds_az_parse_connection_string("UseDevelopmentStorage=true", &c, err, sizeof(err));
    CHECK(rc == 0 && strcmp(c.account, "devstoreaccount1") == 0 &&
              strcmp(c.endpoint, "http://127.0.0.1:10000/devstoreaccount1") == 0 && c.key,
          "creds_az_cs_development_storage", "rc=%d", rc);
    creds_az_free(&c);
    rc = creds_az_parse_connection_string("AccountName=a;garbage", &c, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "malformed"), "creds_az_cs_malformed", "err=%s", err);
    rc = creds_az_parse_connection_string("AccountName=acct;AccountKey=not*base64", &c, err,
                                          sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "base64") && !strstr(err, "not*base64"),
          "creds_az_cs_bad_key_not_echoed", "err=%s", err);

    url_parse("az://cont", &u, err, sizeof(err));
    rc = creds_az_discover(&u, &c, err, sizeof(err));
    CHECK(rc == -EINVAL &&
              strcmp(err, "Azure credentials missing for az://cont: set "
                          "AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT with "
                          "AZURE_STORAGE_KEY or AZURE_STORAGE_SAS_TOKEN") == 0,
          "creds_az_nothing_error_names_vars", "err=%s", err);
    setenv("AZURE_STORAGE_ACCOUNT", "acct2", 1);
    rc = creds_az_discover(&u, &c, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "AZURE_STORAGE_KEY") && strstr(err, "acct2"),
          "creds_az_account_without_key", "err=%s", err);
    setenv("AZURE_STORAGE_KEY", DEVKEY, 1);
    rc = creds_az_discover(&u, &c, err, sizeof(err));
    CHECK(rc == 0 && strcmp(c.account, "acct2") == 0 && strcmp(c.key, DEVKEY) == 0 &&
              strcmp(c.endpoint, "https://acct2.blob.core.windows.net") == 0,
          "creds_az_account_and_key", "rc=%d err=%s", rc, err);
    creds_az_free(&c);
    unsetenv("AZURE_STORAGE_KEY");
    setenv("AZURE_STORAGE_SAS_TOKEN", "?sv=2022-11-02&sp=rl&sig=SasSig%2Fxyz", 1);
    rc = creds_az_discover(&u, &c, err, sizeof(err));
    CHECK(rc == 0 && !c.key && strcmp(c.sas, "sv=2022-11-02&sp=rl&sig=SasSig%2Fxyz") == 0,
          "creds_az_sas_token_strips_qmark", "rc=%d err=%s", rc, err);
    creds_az_free(&c);
    {
        char buf[128];

        strcpy(buf, "sig value SasSig/xyz leaked?");
        log_redact(buf, sizeof(buf));
        CHECK(!strstr(buf, "SasSig"), "creds_az_sas_signature_registered", "got %s", buf);
    }
    clear_env();
    setenv("AZURE_STORAGE_CONNECTION_STRING",
           "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=" DEVKEY
           ";BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;",
           1);
    rc = creds_az_discover(&u, &c, err, sizeof(err));
    CHECK(rc == 0 && strcmp(c.account, "devstoreaccount1") == 0 &&
              strcmp(c.endpoint, "http://127.0.0.1:10000/devstoreaccount1") == 0 &&
              strcmp(c.key, DEVKEY) == 0,
          "creds_az_connection_string_env", "rc=%d err=%s", rc, err);
    creds_az_free(&c);
    setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountName=x;AccountKey=###", 1);
    rc = creds_az_discover(&u, &c, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "AZURE_STORAGE_CONNECTION_STRING") && !strstr(err, "###"),
          "creds_az_bad_connection_string_named", "err=%s", err);
    url_free(&u);

    clear_env();
    url_parse("https://acct3.blob.core.windows.net/cont/p?sv=1&sig=UrlSig123", &u, err,
              sizeof(err));
    rc = creds_az_discover(&u, &c, err, sizeof(err));
    CHECK(rc == 0 && strcmp(c.account, "acct3") == 0 && strcmp(c.sas, "sv=1&sig=UrlSig123") == 0 &&
              strcmp(c.endpoint, "https://acct3.blob.core.windows.net") == 0,
          "creds_az_sas_from_url", "rc=%d err=%s", rc, err);
    creds_az_free(&c);
    /* A connection string for a different account does not apply to this URL. */
    url_free(&u);
    url_parse("https://acct3.blob.core.windows.net/cont", &u, err, sizeof(err));
    setenv("AZURE_STORAGE_CONNECTION_STRING", "AccountName=other;AccountKey=" DEVKEY, 1);
    rc = creds_az_discover(&u, &c, err, sizeof(err));
    CHECK(rc == -EINVAL && strstr(err, "acct3"), "creds_az_other_account_cs_ignored",
          "rc=%d err=%s", rc, err);
    url_free(&u);
    clear_env();
    creds_az_free(NULL);
}

int main(void)
{
    char path[256];

    if (!mkdtemp(home))
        return 1;
    snprintf(path, sizeof(path), "%s/.aws", home);
    mkdir(path, 0700);
    setenv("HOME", home, 1);
    test_s3();
    test_az();
    rmdir(path);
    rmdir(home);
    return CHECK_DONE();
}
