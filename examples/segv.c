/* segv: a SIGSEGV inside a coroutine.
 *
 * parser-2 parses a record whose field table was never allocated and
 * reads field 7 through a NULL pointer: parse_batch -> parse_record ->
 * read_field faults at address 0x38 (7 * sizeof(void *)).  libcorodbg's
 * crash handler (installed by corort_init) marks parser-2 CRASHED with the
 * signal and fault address, then the default action kills the process
 * (exit status 139), so a core file names the crashing coroutine.
 * example_checkpoint() is called just before the bad read.
 *
 *   build/examples/segv
 */
#include "common.h"

#include <corort.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct field {
    const char *name;
    long value;
};

struct record {
    int record_id;
    int nfields;
    struct field **fields; /* NULL: the bug */
};

static corort_chan *done;

static __attribute__((noinline)) long read_field(const struct record *rec,
                                                 int field_index)
{
    struct field **table = rec->fields;
    if (!table)
        example_checkpoint();
    struct field *f = table[field_index]; /* SIGSEGV when table is NULL */
    return f->value;
}

static __attribute__((noinline)) long parse_record(const struct record *rec)
{
    long sum = 0;
    int field_index = 7;
    sum += read_field(rec, field_index);
    return sum;
}

static __attribute__((noinline)) long parse_batch(const struct record *recs,
                                                  int count)
{
    long total = 0;
    for (int record_index = 0; record_index < count; record_index++)
        total += parse_record(&recs[record_index]);
    return total;
}

static struct field f_ok = {"size", 7};
static struct field *ok_fields[8] = {0, 0, 0, 0, 0, 0, 0, &f_ok};

static void parser(void *arg)
{
    int parser_id = (int)(intptr_t)arg;
    struct record batch[2] = {
        {100 + parser_id, 8, ok_fields},
        {200 + parser_id, 8, parser_id == 2 ? NULL : ok_fields},
    };
    long total = parse_batch(batch, 2);
    printf("parser-%d: total %ld\n", parser_id, total);
    int one = 1;
    corort_chan_send(done, &one);
}

static void collector(void *arg)
{
    (void)arg;
    int v;
    for (;;)
        corort_chan_recv(done, &v);
}

int main(void)
{
    char name[32];
    setvbuf(stdout, NULL, _IOLBF, 0);
    corort_init(NULL);
    done = corort_chan_new(sizeof(int), 0);
    corort_spawn("collector", collector, NULL);
    for (int i = 1; i <= 3; i++) {
        snprintf(name, sizeof name, "parser-%d", i);
        corort_spawn(name, parser, (void *)(intptr_t)i);
    }
    corort_run();
    printf("segv: not reached\n");
    return 1;
}
