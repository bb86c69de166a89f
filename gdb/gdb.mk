# corodbg GDB front end: test fixture programs, bench program, install.
# The extension itself is Python (gdb/corodbg-gdb.py, gdb/corodbg_gdb/,
# python/corodbg/); nothing to compile for it.

GDB_B        := $(B)/gdb
GDB_FX_SRC   := tests/gdb/progs/fixture.c
# The mini runtime and workers, shared with the LLDB test program.
GDB_MINIRT   := tests/progs/minirt.c tests/progs/regmodes.c
GDB_FX_DEPS  := $(GDB_FX_SRC) $(GDB_MINIRT) tests/progs/minirt.h tests/progs/rm_switch.h
# -O0 so the tests can assert exact lines and every local.
GDB_FX_FLAGS := -std=c11 $(WARN) -D_GNU_SOURCE -O0 -g $(HOOKS_INC) -Itests/progs
# -u keeps libcorodbg's .debug_gdb_scripts record in a static link.
GDB_FX_LIBS  := $(HOOKS_LIB_A) $(HOOKS_LDFLAGS) -Wl,-u,corodbg_gdb_script \
                $(HOOKS_LDLIBS)

$(GDB_B)/fixture: $(GDB_FX_DEPS) $(HOOKS_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(GDB_FX_FLAGS) -fPIE -pie $(GDB_FX_SRC) $(GDB_MINIRT) -o $@ $(GDB_FX_LIBS)

$(GDB_B)/fixture-nopie: $(GDB_FX_DEPS) $(HOOKS_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(GDB_FX_FLAGS) -fno-pie -no-pie $(GDB_FX_SRC) $(GDB_MINIRT) -o $@ $(GDB_FX_LIBS)

$(GDB_B)/fixture-stripped: $(GDB_B)/fixture
	strip --strip-all -o $@ $<

# Not exported in .dynsym, then stripped: the table is found only through
# its allocated ELF section .corodbg.
$(GDB_B)/fixture-nodyn: $(GDB_FX_DEPS) $(HOOKS_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(GDB_FX_FLAGS) $(GDB_FX_SRC) $(GDB_MINIRT) -o $@.tmp $(HOOKS_LIB_A) \
	  -Wl,-u,corodbg_gdb_script $(HOOKS_LDLIBS)
	strip --strip-all -o $@ $@.tmp && rm -f $@.tmp

$(GDB_B)/fixture-shared: $(GDB_FX_DEPS) $(HOOKS_LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(GDB_FX_FLAGS) $(GDB_FX_SRC) $(GDB_MINIRT) -o $@ -L$(HOOKS_B) -l:libcorodbg.so \
	  -Wl,-rpath,'$$ORIGIN/../runtime-hooks' $(HOOKS_LDLIBS)

# The bench program is the fixture built -O2 (what production looks like).
$(GDB_B)/fixture-O2: $(GDB_FX_DEPS) $(HOOKS_LIB_A)
	@mkdir -p $(@D)
	$(CC) -std=c11 $(WARN) -D_GNU_SOURCE -O2 -g $(HOOKS_INC) -Itests/progs \
	  $(GDB_FX_SRC) $(GDB_MINIRT) -o $@ \
	  $(GDB_FX_LIBS)

GDB_TESTBIN := $(GDB_B)/fixture $(GDB_B)/fixture-nopie \
               $(GDB_B)/fixture-stripped $(GDB_B)/fixture-shared \
               $(GDB_B)/fixture-nodyn
TESTBIN += $(GDB_TESTBIN)
BENCH   += $(GDB_TESTBIN) $(GDB_B)/fixture-O2

.PHONY: install-gdb
# The shared core comes from python/python.mk.
install-gdb: install-python-core
	install -d $(DESTDIR)$(PREFIX)/share/corodbg/gdb/corodbg_gdb
	install -m 644 gdb/corodbg-gdb.py $(DESTDIR)$(PREFIX)/share/corodbg/gdb/
	install -m 644 gdb/corodbg_gdb/*.py \
	  $(DESTDIR)$(PREFIX)/share/corodbg/gdb/corodbg_gdb/
INSTALL += install-gdb
