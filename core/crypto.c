/* crypto: SHA-256, HMAC-SHA256, MD5, hex and strict base64 on OpenSSL EVP. */
#include "core/crypto.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

void crypto_sha256(const void *data, size_t len, unsigned char out[CRYPTO_SHA256_LEN])
{
    unsigned int n = CRYPTO_SHA256_LEN;

    EVP_Digest(data, len, out, &n, EVP_sha256(), NULL);
}

void crypto_hmac_sha256(const void *key, size_t keylen, const void *msg, size_t msglen,
                        unsigned char out[CRYPTO_SHA256_LEN])
{
    unsigned int n = CRYPTO_SHA256_LEN;
    static const unsigned char empty = 0;

    HMAC(EVP_sha256(), keylen ? key : &empty, (int)keylen, msglen ? msg : &empty, msglen, out,
         &n);
}

void crypto_md5(const void *data, size_t len, unsigned char out[CRYPTO_MD5_LEN])
{
    unsigned int n = CRYPTO_MD5_LEN;

    EVP_Digest(data, len, out, &n, EVP_md5(), NULL);
}

/* Both streaming contexts wrap one EVP_MD_CTX. */
struct crypto_md5_ctx {
    EVP_MD_CTX *md;
};
struct crypto_sha256_ctx {
    EVP_MD_CTX *md;
};

static EVP_MD_CTX *crypto_md_new(const EVP_MD *type)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    if (md && EVP_DigestInit_ex(md, type, NULL) != 1) {
        EVP_MD_CTX_free(md);
        md = NULL;
    }
    return md;
}

struct crypto_md5_ctx *crypto_md5_new(void)
{
    struct crypto_md5_ctx *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->md = crypto_md_new(EVP_md5());
    if (!c->md) {
        free(c);
        return NULL;
    }
    return c;
}

void crypto_md5_update(struct crypto_md5_ctx *c, const void *data, size_t len)
{
    EVP_DigestUpdate(c->md, data, len);
}

void crypto_md5_final(struct crypto_md5_ctx *c, unsigned char out[CRYPTO_MD5_LEN])
{
    unsigned int n = CRYPTO_MD5_LEN;

    EVP_DigestFinal_ex(c->md, out, &n);
}

void crypto_md5_free(struct crypto_md5_ctx *c)
{
    if (!c)
        return;
    EVP_MD_CTX_free(c->md);
    free(c);
}

struct crypto_sha256_ctx *crypto_sha256_new(void)
{
    struct crypto_sha256_ctx *c = calloc(1, sizeof(*c));

    if (!c)
        return NULL;
    c->md = crypto_md_new(EVP_sha256());
    if (!c->md) {
        free(c);
        return NULL;
    }
    return c;
}

void crypto_sha256_update(struct crypto_sha256_ctx *c, const void *data, size_t len)
{
    EVP_DigestUpdate(c->md, data, len);
}

void crypto_sha256_final(struct crypto_sha256_ctx *c, unsigned char out[CRYPTO_SHA256_LEN])
{
    unsigned int n = CRYPTO_SHA256_LEN;

    EVP_DigestFinal_ex(c->md, out, &n);
}

void crypto_sha256_free(struct crypto_sha256_ctx *c)
{
    if (!c)
        return;
    EVP_MD_CTX_free(c->md);
    free(c);
}

void crypto_hex(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

int crypto_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int crypto_unhex(const char *in, unsigned char *out, size_t outlen)
{
    size_t i;
    int hi, lo;

    if (!in || strlen(in) != 2 * outlen)
        return -EINVAL;
    for (i = 0; i < outlen; i++) {
        hi = crypto_hexval(in[2 * i]);
        lo = crypto_hexval(in[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return -EINVAL;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

size_t crypto_base64_encode(const void *in, size_t len, char *out)
{
    size_t done = 0, chunk, n = 0;
    const unsigned char *p = in;

    out[0] = '\0';
    /* EVP_EncodeBlock takes an int length: feed it in multiples of 3 bytes. */
    while (done < len) {
        chunk = len - done;
        if (chunk > 3u * 256 * 1024 * 1024)
            chunk = 3u * 256 * 1024 * 1024;
        n += (size_t)EVP_EncodeBlock((unsigned char *)out + n, p + done, (int)chunk);
        done += chunk;
    }
    out[n] = '\0';
    return n;
}

static bool crypto_b64_char(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/';
}

static int crypto_b64_val(char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : 63;
}

long crypto_base64_decode(const char *in, unsigned char *out, size_t outsz)
{
    size_t len, i, pad = 0, n;
    unsigned char *tmp;
    int got;
    long rc;

    if (!in)
        return -EINVAL;
    len = strlen(in);
    if (len % 4 != 0 || len > (size_t)1 << 30)
        return -EINVAL;
    if (len == 0)
        return 0;
    if (in[len - 1] == '=')
        pad++;
    if (in[len - 2] == '=')
        pad++;
    for (i = 0; i < len - pad; i++)
        if (!crypto_b64_char(in[i]))
            return -EINVAL;
    n = len / 4 * 3 - pad;
    if (n > outsz)
        return -E2BIG;
    /* EVP_DecodeBlock writes len/4*3 bytes, padding included. */
    tmp = malloc(len / 4 * 3 + 1);
    if (!tmp)
        return -ENOMEM;
    got = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)len);
    if (got < 0 || (size_t)got != len / 4 * 3) {
        rc = -EINVAL;
        goto out;
    }
    /* Canonical form only: unused bits before the padding must be zero. */
    if ((pad == 1 && (crypto_b64_val(in[len - 2]) & 3)) ||
        (pad == 2 && (crypto_b64_val(in[len - 3]) & 15))) {
        rc = -EINVAL;
        goto out;
    }
    memcpy(out, tmp, n);
    rc = (long)n;
out:
    free(tmp);
    return rc;
}
