/*
 * decode_image IMAGE DESC_ADDR -- decode a table from a memory image with
 * libcorocap and print it in the canonical form that
 * tests/capture/test_decode_diff.py also prints from the Python core.
 */
#include <stdio.h>
#include <stdlib.h>

#include "corocap.h"

/* Names are escaped by the decoder (escape.c), as the core does. */
static void print_name(const cc_coroutine *co)
{
    if (!(co->has & CC_HAS_NAME))
        printf("-");
    else
        printf("'%s'", co->name);
}

int main(int argc, char **argv)
{
    char err[CC_ERRLEN];
    if (argc != 3) {
        fprintf(stderr, "usage: decode_image IMAGE DESC_ADDR\n");
        return 2;
    }
    cc_reader *r = cc_reader_image(argv[1], err);
    if (!r) {
        fprintf(stderr, "%s\n", err);
        return 2;
    }
    cc_table *t = cc_table_read(r, strtoull(argv[2], NULL, 0), err);
    if (!t) {
        printf("error: %s\n", err);
        cc_reader_free(r);
        return 0;
    }
    for (size_t i = 0; i < t->nwarnings; i++)
        printf("warning: %s\n", t->warnings[i]);
    printf("table nregs=%u mid_update=%d\n", t->nregs, t->mid_update);
    for (size_t i = 0; i < t->ncos; i++) {
        const cc_coroutine *co = &t->cos[i];
        printf("co slot=%llu addr=0x%llx id=%llu state=%u tid=%u wait=%u "
               "since=%llu pc=0x%llx name=", (unsigned long long)co->slot,
               (unsigned long long)co->addr, (unsigned long long)co->id,
               co->state, co->tid, co->wait_reason,
               (unsigned long long)co->since_ns,
               (unsigned long long)cc_pc_of(t, co));
        print_name(co);
        printf(" unreadable=%s note=%s\n",
               co->unreadable ? cc_unreadable_name(co->unreadable) : "-",
               co->unreadable ? co->note : "-");
    }
    cc_table_free(t);
    cc_reader_free(r);
    return 0;
}
