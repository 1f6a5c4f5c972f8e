/* creds: credential and endpoint discovery for S3 and Azure, as DESIGN.md lists. */
#ifndef BFS_CORE_CREDS_H
#define BFS_CORE_CREDS_H

#include <stdbool.h>
#include <stddef.h>

struct store_url;

/* All strings owned; free with creds_s3_free. NULL when not set. */
struct s3_creds {
    char *access_key;
    char *secret_key;
    char *session_token;
    char *region;       /* AWS_REGION, AWS_DEFAULT_REGION, profile region; default "us-east-1" */
    char *endpoint;     /* AWS_ENDPOINT_URL (or profile endpoint_url); NULL = AWS */
    bool anonymous;     /* no credentials found, or AWS_NO_SIGN_REQUEST=true */
};

/*
 * Environment first (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/AWS_SESSION_TOKEN),
 * then AWS_PROFILE (default "default") in AWS_SHARED_CREDENTIALS_FILE or
 * ~/.aws/credentials and AWS_CONFIG_FILE or ~/.aws/config. A key id without a
 * secret (or the reverse) is an error naming the missing variable. No
 * credentials at all gives anonymous access. Secrets are registered with
 * log_add_secret. Returns 0 or -EINVAL with a message in err.
 */
int creds_s3_discover(struct s3_creds *out, char *err, size_t errlen);
void creds_s3_free(struct s3_creds *c);

struct az_creds {
    char *account;
    char *key;          /* base64 account key, for Shared Key */
    char *sas;          /* SAS query string without '?' */
    char *endpoint;     /* e.g. http://127.0.0.1:10000/devstoreaccount1 or https://ACCOUNT.blob.core.windows.net */
};

/*
 * From the URL (account, endpoint, SAS of an https URL), then
 * AZURE_STORAGE_CONNECTION_STRING (AccountName, AccountKey, BlobEndpoint,
 * SharedAccessSignature, DefaultEndpointsProtocol, EndpointSuffix), then
 * AZURE_STORAGE_ACCOUNT + AZURE_STORAGE_KEY, AZURE_STORAGE_SAS_TOKEN.
 * Endpoint defaults to https://ACCOUNT.blob.core.windows.net. Missing account,
 * or neither key nor SAS, is an error naming what to set. Secrets are
 * registered with log_add_secret. Returns 0 or -EINVAL with a message in err.
 */
int creds_az_discover(const struct store_url *u, struct az_creds *out, char *err, size_t errlen);
/* Parses one connection string into out (fields not present stay NULL). 0 or -EINVAL. */
int creds_az_parse_connection_string(const char *cs, struct az_creds *out, char *err, size_t errlen);
void creds_az_free(struct az_creds *c);

#endif
