/* test_crypto: digests, HMAC, hex and strict base64 against published vectors. */
#include <errno.h>
#include <string.h>

#include "check.h"
#include "core/crypto.h"

static void hexof(const unsigned char *d, size_t n, char *out)
{
    crypto_hex(d, n, out);
}

int main(void)
{
    unsigned char d[32], b[64];
    char hx[65], b64[128];
    long n;

    crypto_sha256("abc", 3, d);
    hexof(d, 32, hx);
    CHECK_STREQ(hx, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                "crypto_sha256_abc");
    crypto_sha256("", 0, d);
    hexof(d, 32, hx);
    CHECK_STREQ(hx, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "crypto_sha256_empty");
    crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, d);
    hexof(d, 32, hx);
    CHECK_STREQ(hx, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
                "crypto_hmac_rfc4231_case2");
    crypto_hmac_sha256("", 0, "", 0, d);
    hexof(d, 32, hx);
    CHECK_STREQ(hx, "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad",
                "crypto_hmac_empty_key_msg");
    crypto_md5("", 0, d);
    hexof(d, 16, hx);
    CHECK_STREQ(hx, "d41d8cd98f00b204e9800998ecf8427e", "crypto_md5_empty");
    crypto_md5("abc", 3, d);
    hexof(d, 16, hx);
    CHECK_STREQ(hx, "900150983cd24fb0d6963f7d28e17f72", "crypto_md5_abc");

    {
        struct crypto_md5_ctx *m = crypto_md5_new();
        struct crypto_sha256_ctx *s = crypto_sha256_new();

        crypto_md5_update(m, "a", 1);
        crypto_md5_update(m, "bc", 2);
        crypto_md5_final(m, d);
        hexof(d, 16, hx);
        CHECK_STREQ(hx, "900150983cd24fb0d6963f7d28e17f72", "crypto_md5_streaming");
        crypto_md5_free(m);
        crypto_sha256_update(s, "ab", 2);
        crypto_sha256_update(s, "c", 1);
        crypto_sha256_final(s, d);
        hexof(d, 32, hx);
        CHECK_STREQ(hx, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
                    "crypto_sha256_streaming");
        crypto_sha256_free(s);
        crypto_md5_free(NULL);
        crypto_sha256_free(NULL);
    }

    CHECK(crypto_unhex("00ffAB10", b, 4) == 0 && b[0] == 0 && b[1] == 0xff && b[2] == 0xab &&
              b[3] == 0x10,
          "crypto_unhex_mixed_case", "bad decode");
    CHECK(crypto_unhex("00ff", b, 4) == -EINVAL, "crypto_unhex_short_rejected", "accepted");
    CHECK(crypto_unhex("zz", b, 1) == -EINVAL, "crypto_unhex_bad_digit_rejected", "accepted");

    /* RFC 4648 section 10. */
    {
        static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
        static const char *const enc[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                          "Zm9vYmFy"};
        int ok_e = 1, ok_d = 1;

        for (int i = 0; i < 7; i++) {
            size_t l = crypto_base64_encode(plain[i], strlen(plain[i]), b64);

            if (l != strlen(enc[i]) || strcmp(b64, enc[i]) != 0)
                ok_e = 0;
            n = crypto_base64_decode(enc[i], b, sizeof(b));
            if (n != (long)strlen(plain[i]) || memcmp(b, plain[i], (size_t)n) != 0)
                ok_d = 0;
        }
        CHECK(ok_e, "crypto_base64_encode_rfc4648", "mismatch");
        CHECK(ok_d, "crypto_base64_decode_rfc4648", "mismatch");
    }
    CHECK(crypto_base64_decode("Zg", b, sizeof(b)) == -EINVAL, "crypto_base64_missing_padding",
          "accepted");
    CHECK(crypto_base64_decode("Zg=", b, sizeof(b)) == -EINVAL, "crypto_base64_bad_length",
          "accepted");
    CHECK(crypto_base64_decode("Z===", b, sizeof(b)) == -EINVAL, "crypto_base64_too_much_padding",
          "accepted");
    CHECK(crypto_base64_decode("Zg==Zg==", b, sizeof(b)) == -EINVAL,
          "crypto_base64_padding_in_middle", "accepted");
    CHECK(crypto_base64_decode("Zm9v\nYmFy", b, sizeof(b)) == -EINVAL,
          "crypto_base64_whitespace_rejected", "accepted");
    CHECK(crypto_base64_decode("Zm9*", b, sizeof(b)) == -EINVAL,
          "crypto_base64_bad_char_rejected", "accepted");
    CHECK(crypto_base64_decode("Zh==", b, sizeof(b)) == -EINVAL &&
              crypto_base64_decode("Zm9=", b, sizeof(b)) == -EINVAL,
          "crypto_base64_noncanonical_rejected", "accepted");
    CHECK(crypto_base64_decode("Zm9vYmFy", b, 5) == -E2BIG, "crypto_base64_too_small_out",
          "not E2BIG");
    CHECK(crypto_base64_decode("Zm9vYmE=", b, 5) == 5, "crypto_base64_exact_fit", "no fit");
    {
        unsigned char all[256], back[256];
        char e[CRYPTO_B64_SIZE(256)];

        for (int i = 0; i < 256; i++)
            all[i] = (unsigned char)i;
        crypto_base64_encode(all, 256, e);
        n = crypto_base64_decode(e, back, sizeof(back));
        CHECK(n == 256 && memcmp(all, back, 256) == 0, "crypto_base64_roundtrip_all_bytes",
              "n=%ld", n);
    }
    return CHECK_DONE();
}
