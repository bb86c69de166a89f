/* write_int.h -- pieces shared by the writers. */
#ifndef WRITE_INT_H
#define WRITE_INT_H

#include <stdio.h>

#include "corocap.h"

void cc_write_frame_lines(FILE *out, const cc_frame *f);
void cc_write_header(FILE *out, const cc_capture *c, const cc_coroutine *co);
void cc_write_trailer(FILE *out, const cc_capture *c, const char *prefix);
void cc_write_modules(FILE *out, const cc_capture *c, const char *prefix);
void cc_hex(const uint8_t *b, size_t n, char *out);

/* Coroutines grouped by (raw stack, state, wait reason): the key the
 * grouped and pprof writers share.  ORDER: coroutine indexes, group by
 * group; START[g]..START[g+1] are group g's members, largest first. */
struct cc_groups { size_t *order, *start, n; };
int cc_group_stacks(const cc_capture *c, int by_state, struct cc_groups *g);
void cc_groups_free(struct cc_groups *g);

#endif
