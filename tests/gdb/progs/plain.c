/* No coroutines: a plain program whose stack is damaged when it faults. */
#include <stdlib.h>

__attribute__((noinline)) int damaged(int x)
{
    /* a wild frame pointer: the arguments and the caller are unreadable */
    __asm__ volatile("mov $0x1000, %%rbp\n\tmovl $0, 0" ::: "memory");
    return x;
}

int main(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        void (*wild)(void) = (void (*)(void))0x10;
        wild(); /* pc 0x10: a frame no one can name */
    }
    return damaged(3);
}
