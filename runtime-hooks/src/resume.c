/* Nested resume (asymmetric runtimes): a coroutine that resumed another
 * waits for it, and the table says so instead of leaving it "running". */
#include "internal.h"

int corodbg_resume(corodbg_co *from, corodbg_co *to)
{
    if (!to)
        return CORODBG_EINVAL;
    if (from) {
        int r = corodbg_block(from, CORODBG_WAIT_RESUME, to);
        if (r != CORODBG_OK)
            return r;
    }
    corodbg_switch(from, to);
    return CORODBG_OK;
}
