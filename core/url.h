/* url: parsing of s3://, az:// and Azure https:// URLs; percent-encoding. */
#ifndef BFS_CORE_URL_H
#define BFS_CORE_URL_H

#include <stdbool.h>
#include <stddef.h>

struct buf;

enum url_kind { URL_S3 = 1, URL_AZ = 2 };

/*
 * A parsed store URL. All strings owned (url_free). `prefix` is the key prefix
 * inside the bucket/container exactly as written after the bucket ("" when
 * none; a trailing '/' is kept when the user wrote it).
 *   s3://BUCKET[/PREFIX]
 *   az://CONTAINER[/PREFIX]                        (account from credentials)
 *   https://ACCOUNT.blob.core.windows.net/CONTAINER[/PREFIX][?SAS]
 * For the https form, `account` and `endpoint` ("https://ACCOUNT.blob.core.windows.net")
 * are set and `sas` holds the query string without '?', when present.
 */
struct store_url {
    int kind;
    char *bucket;   /* bucket or container */
    char *prefix;
    char *account;  /* Azure only, may be NULL */
    char *endpoint; /* may be NULL */
    char *sas;      /* may be NULL */
};

/* 0, or -EINVAL with a message naming the URL and what is wrong in err. */
int url_parse(const char *s, struct store_url *out, char *err, size_t errlen);
void url_free(struct store_url *u);
/* True when s looks like a store URL (s3://, az://, https://...blob...). */
bool url_is_store(const char *s);

/*
 * RFC 3986 percent-encoding: unreserved characters (A-Z a-z 0-9 - . _ ~) stay,
 * everything else becomes %XX (uppercase hex); '/' stays when keep_slash.
 */
int url_encode_append(struct buf *b, const char *s, bool keep_slash);
/* Decodes %XX (and '+' as space when plus_space); malloc'd result in *out. 0 or -EINVAL/-ENOMEM. */
int url_decode(const char *s, bool plus_space, char **out);

#endif
