/*
 * fuzz_elf.c - libFuzzer harness for ELF/DWARF loading in libcorosym.
 *
 * Input: an ELF file's bytes.  The module is opened from memory (no debug
 * file search, no cache, no debuginfod) and a few addresses are
 * symbolized: fixed ones typical of small executables, and ones taken from
 * the input's last bytes, so the fuzzer can steer them, as code and as
 * data (the DWARF variables pass); and one tail-call question (the
 * call-site pass and the chain search).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corosym.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* the seeds' functions live at 0x400150..0x400190 */
    static const uint64_t fixed[] = {0, 0x1139, 0x400150, 0x400160,
                                     0x400168, 0x400180, 0x401000};
    corosym_options o;
    corosym_session *s;
    corosym_module *m;
    corosym_frame fr[8];
    corosym_miss miss;
    uint64_t addrs[16], va;
    size_t n = 0, i, k;

    corosym_options_init(&o);
    o.default_debug_dir = 0;
    o.debuginfod = 0;
    o.use_cache = 0;
    s = corosym_session_new(&o);
    if (!s)
        return 0;
    m = corosym_module_from_memory(s, "fuzz-input", data, size);
    if (m) {
        (void)corosym_module_error(m);
        (void)corosym_module_warning(m);
        (void)corosym_module_flags(m);
        for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
            addrs[n++] = fixed[i];
        if (size >= 16) {
            uint32_t a, b;
            memcpy(&a, data + size - 8, 4);
            memcpy(&b, data + size - 4, 4);
            addrs[n++] = a;
            addrs[n++] = b & 0xffff;
        }
        if (corosym_module_offset_to_vaddr(m, 0x1000, &va) == 0)
            addrs[n++] = va;
        for (i = 0; i < n; i++) {
            size_t got = corosym_symbolize(m, addrs[i], fr, 8, &miss);
            for (k = 0; k < got && k < 8; k++) {
                /* touch every string so ASan sees bad pointers */
                if (fr[k].function)
                    (void)strlen(fr[k].function);
                if (fr[k].file)
                    (void)strlen(fr[k].file);
                if (fr[k].symbol)
                    (void)strlen(fr[k].symbol);
                if (fr[k].start_file)
                    (void)strlen(fr[k].start_file);
            }
            (void)corosym_miss_string(miss);
            /* the DWARF variables pass (first call reads them all) */
            corosym_data d;
            (void)corosym_symbolize_data(m, addrs[i], &d);
            if (d.decl_file)
                (void)strlen(d.decl_file);
            if (d.name)
                (void)strlen(d.name);
        }
        /* the call-site pass and the tail-call search: the caller's
           return address from the input's last 8 bytes (as above), the
           callee's entry from the 4 before (the tail-call seeds end so) */
        if (size >= 16) {
            uint32_t ret, callee;
            uint64_t tail[8];
            memcpy(&callee, data + size - 12, 4);
            memcpy(&ret, data + size - 8, 4);
            size_t got = corosym_tail_calls(m, ret, NULL, callee, tail, 8);
            for (k = 0; k < got && k < 8; k++)
                (void)corosym_symbolize(m, tail[k] - 1, fr, 8, &miss);
        }
    }
    corosym_session_free(s);
    return 0;
}
