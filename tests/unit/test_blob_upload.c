/* test_blob_upload: block sizes and block ids of Azure block uploads. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "blob/blob.h"
#include "check.h"
#include "core/crypto.h"

#define MIB (1024ull * 1024)

static void test_known_size(void)
{
    uint64_t max_blob = 50000ull * 4000 * MIB; /* 190.7 TiB */
    size_t ps;

    CHECK(blob_part_size(0, 1) == 8 * MIB && blob_part_size(1, 1) == 8 * MIB &&
              blob_part_size(64 * MIB, 3) == 8 * MIB,
          "upload_small_blob_uses_8_mib_blocks", "got %zu", blob_part_size(64 * MIB, 3));
    /* 8 MiB * 50,000 = 390.6 GiB; one byte more needs 9 MiB blocks. */
    CHECK(blob_part_size((int64_t)(8 * MIB * 50000), 1) == 8 * MIB &&
              blob_part_size((int64_t)(8 * MIB * 50000) + 1, 1) == 9 * MIB,
          "upload_block_size_rounds_up_to_mib", "got %zu",
          blob_part_size((int64_t)(8 * MIB * 50000) + 1, 1));
    ps = blob_part_size((int64_t)max_blob, 1);
    CHECK(ps == 4000 * MIB && (uint64_t)ps * 50000 >= max_blob, "upload_190_tib_fits_50000_blocks",
          "got %zu", ps);
    CHECK(blob_part_size((int64_t)max_blob * 2, 7) == 4000 * MIB,
          "upload_block_size_capped_4000_mib", "got %zu", blob_part_size((int64_t)max_blob * 2, 7));
    CHECK(blob_part_size(1000ll * 1024 * 1024 * 1024 * 1024, 1) ==
              blob_part_size(1000ll * 1024 * 1024 * 1024 * 1024, 49999),
          "upload_known_size_constant_across_blocks", "differs");
}

static void test_unknown_size(void)
{
    uint64_t total = 0;
    int i;

    CHECK(blob_part_size(-1, 1) == 8 * MIB && blob_part_size(-1, 2000) == 8 * MIB &&
              blob_part_size(-1, 2001) == 16 * MIB && blob_part_size(-1, 4001) == 32 * MIB,
          "upload_unknown_size_doubles_every_2000", "got %zu %zu", blob_part_size(-1, 2001),
          blob_part_size(-1, 4001));
    CHECK(blob_part_size(-1, 50000) == 4000 * MIB, "upload_unknown_size_capped", "got %zu",
          blob_part_size(-1, 50000));
    for (i = 1; i <= 50000; i++)
        total += blob_part_size(-1, i);
    CHECK(total > 100ull * 1024 * 1024 * MIB, "upload_unknown_size_reaches_100_tib",
          "total %llu MiB", (unsigned long long)(total / MIB));
}

static void test_block_ids(void)
{
    char a[64], b[64], c[64];
    unsigned char raw[64];
    long n;

    blob_block_id("0badf00d", 1, a, sizeof(a));
    blob_block_id("0badf00d", 50000, b, sizeof(b));
    blob_block_id("12345678", 1, c, sizeof(c));
    CHECK(strlen(a) == strlen(b) && strlen(a) == strlen(c) && strcmp(a, c) != 0,
          "upload_block_ids_equal_length", "%s %s", a, b);
    n = crypto_base64_decode(b, raw, sizeof(raw) - 1);
    if (n > 0)
        raw[n] = '\0';
    CHECK(n > 0 && strcmp((char *)raw, "bfs-0badf00d-0000050000") == 0,
          "upload_block_id_is_base64_of_fixed_text", "n %ld", n);
}

int main(void)
{
    test_known_size();
    test_unknown_size();
    test_block_ids();
    return CHECK_DONE();
}
