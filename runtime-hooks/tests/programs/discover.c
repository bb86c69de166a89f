/* A program that links libcorodbg the way a user's would (static library,
 * the pkg-config link flags, no -rdynamic), so tests can strip it and
 * check that debuggers can still find the table. */
#include "corodbg.h"

int main(int argc, char **argv)
{
    (void)argv;
    corodbg_co *co = corodbg_create("discoverable", NULL, NULL, 0, NULL);
    corodbg_switch(NULL, co);
    corodbg_switch(co, NULL);
    return argc > 1 ? corodbg_exit(co) : 0;
}
