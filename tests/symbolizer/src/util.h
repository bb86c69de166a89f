/* Inline helpers used from several functions (inlined across files). */
#ifndef UTIL_H
#define UTIL_H
static inline unsigned mix(unsigned h, unsigned v)
{
    h ^= v;
    h *= 16777619u;
    return h;
}

static inline unsigned mix_all(const unsigned *v, int n)
{
    unsigned h = 2166136261u;
    for (int i = 0; i < n; i++)
        h = mix(h, v[i]);
    return h;
}
#endif
