/* GDB auto-load entry: a .debug_gdb_scripts record that makes GDB load
 * the corodbg extension for any program linked with libcorodbg.
 *
 * The record is an inline Python script (kind 4, "python text").  GDB runs
 * it only when the objfile passes `auto-load safe-path`; users add
 *     add-auto-load-safe-path /path/to/program
 * (or `set auto-load safe-path /`) to ~/.gdbinit.  GDB vetted the program,
 * not the file the script then sources, so the script sources only:
 *   1. $CORODBG_GDB, when it names a file (the user chose it);
 *   2. gdb/corodbg-gdb.py in the program's directory or a parent of it (a
 *      corodbg source or build tree), and
 *   3. CORODBG_PREFIX/share/corodbg/gdb/corodbg-gdb.py (the install
 *      prefix, compiled in by hooks.mk),
 * and 2 and 3 only when the file and every directory above it are owned
 * by the user or root and writable by neither group nor others: otherwise
 * anyone could plant /tmp/gdb/corodbg-gdb.py for a program in /tmp/build.
 * One exception: above the file's own gdb/ directory, a root-owned sticky
 * directory such as /tmp may be writable by all, because there nobody
 * can rename or replace an entry someone else owns; the gdb/ directory
 * and everything in between are still checked, so a planted /tmp/gdb
 * (owned by its planter) is refused and a tree built in /tmp works.
 * A rejected file gets one warning line naming why; when nothing is found
 * it prints nothing and the corodbg commands simply are not there.
 *
 * A static archive member is only linked when something references it, so
 * static users keep this record with -Wl,-u,corodbg_gdb_script (the shared
 * library always carries it). */
#include "internal.h"

#ifndef CORODBG_PREFIX
#define CORODBG_PREFIX "/usr/local"
#endif

/* Kind 4 = "python text": the first line names the script, the rest is
 * the code, NUL-terminated.  Written in assembly so the section flags
 * ("MS": mergeable strings, which lets the linker fold duplicates) are
 * exact on every architecture.  The prefix must not contain a quote. */
__asm__(".pushsection \".debug_gdb_scripts\", \"MS\", %progbits, 1\n"
        ".globl corodbg_gdb_script\n"
        ".type corodbg_gdb_script, %object\n"
        "corodbg_gdb_script:\n"
        ".byte 4\n"
        ".ascii \"corodbg-autoload\\n\"\n"
        ".ascii \"import os, gdb\\n\"\n"
        ".ascii \"def _corodbg_unsafe(p):\\n\"\n"
        ".ascii \"    u = os.getuid()\\n\"\n"
        ".ascii \"    d = os.path.realpath(p)\\n\"\n"
        ".ascii \"    n = 0\\n\"\n"
        ".ascii \"    while True:\\n\"\n"
        ".ascii \"        try:\\n\"\n"
        ".ascii \"            st = os.stat(d)\\n\"\n"
        ".ascii \"        except OSError as e:\\n\"\n"
        ".ascii \"            return '%s cannot be checked (%s)' % (d, e.strerror)\\n\"\n"
        ".ascii \"        if st.st_uid not in (0, u):\\n\"\n"
        ".ascii \"            return '%s is owned by uid %d' % (d, st.st_uid)\\n\"\n"
        ".ascii \"        if st.st_mode & 0o022 and not (n > 1 and st.st_uid == 0 and st.st_mode & 0o1000):\\n\"\n"
        ".ascii \"            return '%s is writable by group or others' % d\\n\"\n"
        ".ascii \"        if d == os.path.dirname(d):\\n\"\n"
        ".ascii \"            return None\\n\"\n"
        ".ascii \"        d = os.path.dirname(d)\\n\"\n"
        ".ascii \"        n += 1\\n\"\n"
        ".ascii \"def _corodbg_find():\\n\"\n"
        ".ascii \"    e = os.environ.get('CORODBG_GDB', '')\\n\"\n"
        ".ascii \"    if e and os.path.isfile(e):\\n\"\n"
        ".ascii \"        return e\\n\"\n"
        ".ascii \"    c = []\\n\"\n"
        ".ascii \"    o = gdb.current_objfile()\\n\"\n"
        ".ascii \"    d = os.path.dirname(os.path.realpath(o.filename)) if o else ''\\n\"\n"
        ".ascii \"    while d and d != os.path.dirname(d):\\n\"\n"
        ".ascii \"        c.append(os.path.join(d, 'gdb', 'corodbg-gdb.py'))\\n\"\n"
        ".ascii \"        d = os.path.dirname(d)\\n\"\n"
        ".ascii \"    c.append('" CORODBG_PREFIX "/share/corodbg/gdb/corodbg-gdb.py')\\n\"\n"
        ".ascii \"    for p in c:\\n\"\n"
        ".ascii \"        if os.path.isfile(p):\\n\"\n"
        ".ascii \"            why = _corodbg_unsafe(p)\\n\"\n"
        ".ascii \"            if why is None:\\n\"\n"
        ".ascii \"                return p\\n\"\n"
        ".ascii \"            gdb.write('corodbg: not loading %s: %s (set CORODBG_GDB to load a file you trust)\\\\n' % (p, why), gdb.STDERR)\\n\"\n"
        ".ascii \"if not getattr(gdb, '_corodbg_loaded', False):\\n\"\n"
        ".ascii \"    _p = _corodbg_find()\\n\"\n"
        ".ascii \"    if _p:\\n\"\n"
        ".ascii \"        gdb.execute('source ' + _p)\\n\"\n"
        ".byte 0\n"
        ".size corodbg_gdb_script, . - corodbg_gdb_script\n"
        ".popsection\n");
