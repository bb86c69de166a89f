/*
 * pprof_sym.h - fill a pprof profile's functions and lines with libcorosym.
 *
 * For each mapping, the module is looked up by the mapping's build-id (hex
 * string) and file name, through the session's debug-file search.  Each
 * location of a found mapping whose address resolves gets one Line per
 * frame of its inline chain (line[0] innermost), pointing at deduplicated
 * Functions (name demangled, system_name as in the object file).  Locations
 * that already have lines are kept unless FORCE; unresolved locations are
 * left exactly as they were.  Mapping flags has_functions / has_filenames /
 * has_line_numbers / has_inline_frames are set from what was found.
 *
 * Addresses: Location.address is a process address.  The module-relative
 * file offset is address - memory_start + file_offset, turned into an ELF
 * virtual address through the module's PT_LOAD headers.  A mapping with
 * memory_start == memory_limit == file_offset == 0 is taken to carry
 * module-relative virtual addresses already.  Addresses are not adjusted
 * for return addresses (as go tool pprof does not adjust them either).
 */
#ifndef COROSYM_PPROF_SYM_H
#define COROSYM_PPROF_SYM_H

#include <stdio.h>

#include "corosym.h"
#include "pprof.h"

struct pprof_sym_stats {
    size_t mappings;          /* mappings in the profile */
    size_t mappings_found;    /* module with symbols and/or DWARF */
    size_t mappings_missing;  /* no module, or nothing usable in it */
    size_t locations;         /* locations in the profile */
    size_t locations_done;    /* symbolized by this run */
    size_t locations_kept;    /* already had lines; left alone */
};

/*
 * Symbolize PR in place with session S.  One line per missing mapping is
 * written to WARN (may be NULL).  Returns PPROF_OK or PPROF_E_NOMEM.
 */
int pprof_symbolize(struct pprof *pr, corosym_session *s, int force,
                    FILE *warn, struct pprof_sym_stats *st, char *err,
                    size_t errlen);

/* Parse a hex build-id into BUF (at most CAP bytes); its length or 0. */
size_t pprof_parse_build_id(const char *hex, uint8_t *buf, size_t cap);

#endif
