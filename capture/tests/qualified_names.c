/*
 * qualified_names -- print cc_qualified_name of each line of stdin, for
 * tests/capture/test_runtime_names.py to compare with the Python core's
 * runtime_rules.qualified_name.
 */
#include <stdio.h>
#include <string.h>

#include "corocap.h"

int main(void)
{
    static char line[65536];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        printf("%s\n", cc_qualified_name(line));
    }
    return 0;
}
