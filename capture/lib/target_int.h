/* target_int.h -- shared by target.c, target_pid.c and target_core.c. */
#ifndef TARGET_INT_H
#define TARGET_INT_H

#include "corocap.h"

/* Merge a mapping of PATH into its module (new module when first seen). */
cc_module *cc_target_add_mapping(cc_target *t, const char *path,
                                 uint64_t start, uint64_t end,
                                 uint64_t offset, int exec);
/* Read each module's ELF file (FILE_OF: where to open it, NULL = path):
 * build-id, bias, the table. */
void cc_target_finish_modules(cc_target *t, const char *(*file_of)(
                                  const cc_target *, const cc_module *));

#endif
