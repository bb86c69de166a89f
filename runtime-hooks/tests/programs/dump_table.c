/* Copy this process's coroutine table, byte for byte, into a file, so a
 * decoder can be tested on exactly what a debugger would read.
 *
 * Usage: dump_table OUT.bin > expected.txt
 * OUT.bin is a sequence of regions {u64 addr, u64 len, len bytes}: the
 * descriptor first, then the chunk directory, the chunks and the panic
 * message.  stdout lists what the decoder must find, one coroutine a line:
 * "id state wait_reason name|panic message" plus the register pc/sp. */
#include "corodbg.h"

#include <inttypes.h>
#include <string.h>

static FILE *out;

static void region(const void *addr, uint64_t len)
{
    uint64_t hdr[2] = {(uint64_t)(uintptr_t)addr, len};
    fwrite(hdr, sizeof hdr, 1, out);
    fwrite(addr, 1, len, out);
}

static void expect(const corodbg_co *co)
{
    printf("%" PRIu64 " %u %u %s|%.*s|%" PRIx64 " %" PRIx64 "\n", co->id,
           co->state, co->wait_reason, co->name, (int)co->panic_len,
           co->panic_msg ? (const char *)(uintptr_t)co->panic_msg : "",
           co->regs[CORODBG_REG_PC], co->regs[CORODBG_REG_SP]);
}

int main(int argc, char **argv)
{
    if (argc != 2 || !(out = fopen(argv[1], "wb"))) {
        fprintf(stderr, "usage: dump_table OUT.bin\n");
        return 2;
    }
    enum { N = 5000 }; /* more than one chunk */
    static corodbg_co *co[N];
    static int chan;
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "worker-%d", i);
        co[i] = corodbg_create(name, (void *)main, NULL, 0, (void *)expect);
        co[i]->regs[CORODBG_REG_PC] = 0x401000u + (uint64_t)i;
        co[i]->regs[CORODBG_REG_SP] = 0x7f0000000000u + 64u * (uint64_t)i;
    }
    /* Holes: exited coroutines leave free slots the decoder must skip. */
    for (int i = 100; i < 200; i++) {
        corodbg_exit(co[i]);
        co[i] = NULL;
    }
    for (int i = 0; i < N; i += 3) {
        if (!co[i])
            continue;
        corodbg_switch(NULL, co[i]);
        corodbg_block(co[i], (enum corodbg_wait)(1 + i % 8), &chan);
        corodbg_switch(co[i], NULL);
    }
    corodbg_switch(NULL, co[1]); /* stays running */
    corodbg_switch(NULL, co[4]);
    corodbg_panic("request %d failed", 42);
    corodbg_switch(co[4], NULL);

    region(&corodbg_table, corodbg_table.desc_size);
    region((void *)(uintptr_t)corodbg_table.chunk_dir,
           8u * corodbg_table.nchunks);
    const uint64_t *dir = (const uint64_t *)(uintptr_t)corodbg_table.chunk_dir;
    for (uint32_t c = 0; c < corodbg_table.nchunks; c++)
        region((void *)(uintptr_t)dir[c],
               (uint64_t)corodbg_table.chunk_entries * corodbg_table.entry_size);
    region((void *)(uintptr_t)co[4]->panic_msg, co[4]->panic_len + 1u);
    fclose(out);
    for (int i = 0; i < N; i++)
        if (co[i])
            expect(co[i]);
    return 0;
}
