/* Second translation unit: goes into the shared object or the program. */
#include <string.h>
#include "util.h"

static int table[256];

static inline int fill(int seed)
{
    for (int i = 0; i < 256; i++)
        table[i] = (int)mix((unsigned)seed, (unsigned)i);
    return table[seed & 255];
}

static int __attribute__((noinline)) scan(int x)
{
    int best = 0;
    for (int i = 0; i < 256; i++)
        if (table[i] % 17 == x % 17 && table[i] > best)
            best = table[i];
    return best;
}

int lib_entry(int x)
{
    int v = fill(x);
    v += scan(x);
    unsigned w[4] = { (unsigned)x, (unsigned)v, 3, 4 };
    return v ^ (int)mix_all(w, 4);
}
