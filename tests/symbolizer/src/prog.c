/* Differential-test program: inlining, loops, recursion, a switch, static
   and global functions, and a function pointer table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

struct node { int key; struct node *left, *right; };

static struct node *insert(struct node *n, int key)
{
    if (!n) {
        n = calloc(1, sizeof *n);
        n->key = key;
        return n;
    }
    if (key < n->key)
        n->left = insert(n->left, key);
    else
        n->right = insert(n->right, key);
    return n;
}

static inline int depth(const struct node *n)
{
    if (!n)
        return 0;
    int a = depth(n->left), b = depth(n->right);
    return 1 + (a > b ? a : b);
}

static int classify(int c)
{
    switch (c % 7) {
    case 0: return c * 3;
    case 1: return c + 11;
    case 2: return c ^ 0x55;
    case 3: return -c;
    case 4: return c / 3;
    case 5: return c << 2;
    default: return c - 1;
    }
}

typedef int (*op_fn)(int, int);
static int op_add(int a, int b) { return a + b; }
static int op_mul(int a, int b) { return a * b; }
static int op_sub(int a, int b) { return a - b; }
static const op_fn ops[] = { op_add, op_mul, op_sub };

unsigned checksum(const char *s)
{
    unsigned v[64];
    int n = 0;
    while (*s && n < 64)
        v[n++] = (unsigned char)*s++;
    return mix_all(v, n);
}

int compute(int argc)
{
    struct node *root = NULL;
    for (int i = 0; i < 50 + argc; i++)
        root = insert(root, (i * 7919) % 101);
    int acc = depth(root);
    for (int i = 0; i < 100; i++)
        acc = ops[i % 3](acc, classify(i));
    return acc;
}

extern int lib_entry(int x);

int main(int argc, char **argv)
{
    int r = compute(argc);
    r += (int)checksum(argv[0]);
    r += lib_entry(r);
    printf("%d\n", r);
    return 0;
}
