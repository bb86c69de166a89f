/* GDB auto-load entry: a .debug_gdb_scripts record that makes GDB load
 * the corodbg extension for any program linked with libcorodbg.
 *
 * The record is an inline Python script (kind 4, "python text").  GDB runs
 * it only when the objfile passes `auto-load safe-path`; users add
 *     add-auto-load-safe-path /path/to/program
 * (or `set auto-load safe-path /`) to ~/.gdbinit.  The script looks for
 * corodbg-gdb.py in $CORODBG_GDB, then next to the program in a corodbg
 * source or build tree (walking up from the program's directory), then
 * under /usr/local/share/corodbg and /usr/share/corodbg.  It prints
 * nothing; when nothing is found, the corodbg commands simply are not
 * there.
 *
 * A static archive member is only linked when something references it, so
 * static users keep this record with -Wl,-u,corodbg_gdb_script (the shared
 * library always carries it). */
#include "internal.h"

/* Kind 4 = "python text": the first line names the script, the rest is
 * the code, NUL-terminated.  Written in assembly so the section flags
 * ("MS": mergeable strings, which lets the linker fold duplicates) are
 * exact on every architecture. */
__asm__(".pushsection \".debug_gdb_scripts\", \"MS\", %progbits, 1\n"
        ".globl corodbg_gdb_script\n"
        ".type corodbg_gdb_script, %object\n"
        "corodbg_gdb_script:\n"
        ".byte 4\n"
        ".ascii \"corodbg-autoload\\n\"\n"
        ".ascii \"import os, gdb\\n\"\n"
        ".ascii \"def _corodbg_find():\\n\"\n"
        ".ascii \"    c = [os.environ.get('CORODBG_GDB', '')]\\n\"\n"
        ".ascii \"    o = gdb.current_objfile()\\n\"\n"
        ".ascii \"    d = os.path.dirname(os.path.realpath(o.filename)) if o else ''\\n\"\n"
        ".ascii \"    while d and d != os.path.dirname(d):\\n\"\n"
        ".ascii \"        c.append(os.path.join(d, 'gdb', 'corodbg-gdb.py'))\\n\"\n"
        ".ascii \"        d = os.path.dirname(d)\\n\"\n"
        ".ascii \"    c += ['/usr/local/share/corodbg/gdb/corodbg-gdb.py',\\n\"\n"
        ".ascii \"          '/usr/share/corodbg/gdb/corodbg-gdb.py']\\n\"\n"
        ".ascii \"    for p in c:\\n\"\n"
        ".ascii \"        if p and os.path.isfile(p):\\n\"\n"
        ".ascii \"            return p\\n\"\n"
        ".ascii \"if not getattr(gdb, '_corodbg_loaded', False):\\n\"\n"
        ".ascii \"    _p = _corodbg_find()\\n\"\n"
        ".ascii \"    if _p:\\n\"\n"
        ".ascii \"        gdb.execute('source ' + _p)\\n\"\n"
        ".byte 0\n"
        ".size corodbg_gdb_script, . - corodbg_gdb_script\n"
        ".popsection\n");
