/* batch.h - the answers to a batch of CODE requests for one module:
   rendered on several threads in address order (each thread walks its own
   slice of the index almost sequentially), then put back in input order,
   also on several threads. */
#ifndef COROSYM_BATCH_H
#define COROSYM_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "corosym.h"
#include "output.h"

typedef struct cs_batch cs_batch;

/* At most THREADS render threads (1: render on the calling thread only).
   The buffers are kept from batch to batch. */
cs_batch *cs_batch_new(unsigned threads);
void cs_batch_free(cs_batch *b);

/* What one render needs besides the addresses. */
typedef struct cs_batch_job {
    corosym_module *m;
    const cs_outcfg *oc;
    const char *module;      /* as printed in JSON */
    const uint8_t *bid;
    size_t bidlen;
    /* corosym_sort_addresses() results: address order */
    const uint64_t *addrs;   /* addresses to look up (after --adjust-vma) */
    const uint32_t *order;   /* the input index of each */
    uint64_t adjust_vma;     /* printed address = addrs[j] + adjust_vma */
    size_t n;
} cs_batch_job;

/* Looks up and renders answers 0..J->n) of J, each thread a run of
   the sorted addresses.  Answer Q (input order) is then
   cs_batch_emit(b, ..., Q) until the next render. */
void cs_batch_render(cs_batch *b, const cs_batch_job *j);

/* Appends answer Q to OUT. */
void cs_batch_emit(cs_batch *b, cs_out *out, size_t q);
/* Writes every answer of the last render to OUT, in input order (0, 1,
   ...): copied on several threads into one buffer, then written in the
   background after whatever OUT held, while the caller goes on.  Set
   OUT's before_write hook to cs_batch_sync (argument B) so that nothing
   else is written to OUT's fd before that write is done. */
void cs_batch_write_all(cs_batch *b, cs_out *out);
/* Waits for the background write, if any (and exits 0 like cs_out_flush
   when it found the reader gone).  ARG is the cs_batch.  Call it before
   writing to stderr too, so messages land after the answers before them
   whatever the number of threads. */
void cs_batch_sync(void *arg);

/* Parses N input lines, line i at BUF[STARTS[i]] up to the byte before
   STARTS[i + 1] (its newline), as bare hex addresses "0x1f00" into
   ADDRS, on the batch's threads.  Returns 0 when every line was one, -1
   when any was not (then ADDRS is partly written; use the general
   parser).  The fast path for the commonest input of a big batch. */
int cs_batch_parse_addrs(cs_batch *b, const char *buf, const size_t *starts,
                         size_t n, uint64_t *addrs);

/* The number of threads to use by default: the online CPUs, at most 8. */
unsigned cs_batch_default_threads(void);

#endif
