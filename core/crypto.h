/* crypto: SHA-256, HMAC-SHA256, MD5, base64 and hex, all on OpenSSL. */
#ifndef BFS_CORE_CRYPTO_H
#define BFS_CORE_CRYPTO_H

#include <stddef.h>

#define CRYPTO_SHA256_LEN 32
#define CRYPTO_MD5_LEN 16

void crypto_sha256(const void *data, size_t len, unsigned char out[CRYPTO_SHA256_LEN]);
void crypto_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                        unsigned char out[CRYPTO_SHA256_LEN]);
void crypto_md5(const void *data, size_t len, unsigned char out[CRYPTO_MD5_LEN]);

/* Streaming MD5 / SHA-256. _new returns NULL on allocation failure; _free(NULL) is a no-op. */
struct crypto_md5_ctx;
struct crypto_md5_ctx *crypto_md5_new(void);
void crypto_md5_update(struct crypto_md5_ctx *c, const void *data, size_t len);
/* Writes the digest; the context may not be updated afterwards (free it). */
void crypto_md5_final(struct crypto_md5_ctx *c, unsigned char out[CRYPTO_MD5_LEN]);
void crypto_md5_free(struct crypto_md5_ctx *c);

struct crypto_sha256_ctx;
struct crypto_sha256_ctx *crypto_sha256_new(void);
void crypto_sha256_update(struct crypto_sha256_ctx *c, const void *data, size_t len);
void crypto_sha256_final(struct crypto_sha256_ctx *c, unsigned char out[CRYPTO_SHA256_LEN]);
void crypto_sha256_free(struct crypto_sha256_ctx *c);

/* Lowercase hex; out must hold 2*len+1 bytes; NUL-terminated. */
void crypto_hex(const unsigned char *in, size_t len, char *out);
/* Value of one hex digit (either case), or -1. */
int crypto_hexval(char c);
/* Parses exactly 2*outlen hex digits (either case); 0 or -EINVAL. */
int crypto_unhex(const char *in, unsigned char *out, size_t outlen);

/* Size of the base64 text for n bytes, including the NUL. */
#define CRYPTO_B64_SIZE(n) ((((n) + 2) / 3) * 4 + 1)
/* Standard base64 with padding; out must hold CRYPTO_B64_SIZE(len). Returns text length. */
size_t crypto_base64_encode(const void *in, size_t len, char *out);
/* Strict standard base64 (padding required, no whitespace). Returns decoded length,
 * -EINVAL on bad input, -E2BIG when it does not fit in outsz. */
long crypto_base64_decode(const char *in, unsigned char *out, size_t outsz);

#endif
