/* DATA requests: variables of many shapes, for the differential test
   against llvm-symbolizer (tests/symbolizer/test_data_vars.py). */
#include <stddef.h>

struct point { int x, y; };
typedef volatile struct point vpoint;

int counter = 1;                       /* global, initialised */
long zeroed;                           /* .bss */
static int file_static = 3;            /* local symbol */
const char greeting[] = "hello, data";  /* .rodata array */
struct point origin = { 0, 0 };        /* struct */
vpoint grid[4][3];                     /* typedef'd volatile 2-D array */
int *pointer = &counter;               /* pointer */
static double weights[] = { 1.0, 2.0, 3.0, 4.0, 5.0 };
int empty[0];                          /* size 0 (GNU) */
extern int declared_then_defined;
int declared_then_defined = 7;
__thread int per_thread = 9;           /* TLS: not a fixed address */

int __attribute__((noinline)) touch(int i)
{
    static int calls;                  /* function-local static */
    static const struct point corners[2] = { { 1, 2 }, { 3, 4 } };
    calls++;
    grid[i & 3][i % 3].x = i;
    return calls + corners[i & 1].y + file_static + (int)weights[i % 5] +
           greeting[i % 11] + *pointer + (int)zeroed + origin.x +
           declared_then_defined + per_thread + (int)(size_t)empty;
}

int main(int argc, char **argv)
{
    (void)argv;
    return touch(argc);
}
