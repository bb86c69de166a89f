/*
 * fuzz_cache.c - libFuzzer harness for corosym's persistent index (cache)
 * file reader.
 *
 * Input: a cache file image.  It is checked as is (magic, version, sizes,
 * checksum), then again after cs_cache_seal() fixes its size and checksum
 * fields, so mutations reach the table and reference checks behind the
 * checksum.  The key is taken from the image (offset 16) so the staleness
 * check passes too.
 */
#include <stdlib.h>
#include <string.h>

#include "corosym_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint64_t key = 0;
    char *err = NULL;
    uint8_t *copy;
    size_t cap = (size + 7) & ~(size_t)7;

    if (size >= 24)
        memcpy(&key, data + 16, 8);
    /* 8-byte aligned copies: the reader views the image in place */
    copy = aligned_alloc(8, cap ? cap : 8);
    if (!copy)
        return 0;
    memcpy(copy, data, size);
    if (cs_cache_check(copy, size, key, &err) == 0 && err)
        abort(); /* success must not leave an error */
    free(err);
    err = NULL;
    cs_cache_seal(copy, size);
    if (cs_cache_check(copy, size, key, &err) != 0 && !err)
        abort(); /* failure must say why */
    free(err);
    free(copy);
    return 0;
}
