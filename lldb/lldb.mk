# LLDB front end: the test program (plain, stripped), and the DAP test
# client's npm packages (tests/dap/node_modules, gitignored).

LLDB_B      := $(B)/lldb
LLDB_PROG   := $(LLDB_B)/lldbprog
LLDB_STRIP  := $(LLDB_B)/lldbprog-stripped
LLDB_DAPDEPS := tests/dap/node_modules/.corodbg-installed

# The mini runtime and workers are shared with the GDB fixture.
LLDB_MINIRT := tests/progs/minirt.c tests/progs/regmodes.c

$(LLDB_PROG): tests/lldb/progs/lldbprog.c $(LLDB_MINIRT) tests/progs/minirt.h tests/progs/rm_switch.h \
              $(HOOKS_LIB_A) runtime-hooks/include/corodbg.h
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O0 -fno-omit-frame-pointer $(HOOKS_INC) -Itests/progs \
	  $< $(LLDB_MINIRT) -o $@ \
	  $(HOOKS_LIB_A) $(HOOKS_LDFLAGS) -lpthread -ldl

$(LLDB_STRIP): $(LLDB_PROG)
	strip --strip-all -o $@ $<

# npm is allowed to fail (no network): the DAP tests then skip and say why.
$(LLDB_DAPDEPS): tests/dap/package.json
	@if command -v npm >/dev/null 2>&1 && \
	   (cd tests/dap && npm install --no-audit --no-fund --loglevel=error >/dev/null); then \
	  touch $@; \
	else echo "lldb.mk: npm install in tests/dap failed: the DAP tests will skip" >&2; fi

.PHONY: lldb-dap-deps
lldb-dap-deps: $(LLDB_DAPDEPS)

TESTBIN += $(LLDB_PROG) $(LLDB_STRIP) lldb-dap-deps
BENCH   += $(LLDB_PROG)

# Installed next to the shared core (share/corodbg/python, from
# python/python.mk): corodbg_lldb_adapter/__init__.py finds it as ../python.
.PHONY: install-lldb
install-lldb: install-python-core
	install -d $(DESTDIR)$(PREFIX)/share/corodbg/lldb/corodbg_lldb_adapter
	install -m 644 lldb/corodbg_lldb.py lldb/corodbg_os.py \
	  $(DESTDIR)$(PREFIX)/share/corodbg/lldb/
	install -m 644 lldb/corodbg_lldb_adapter/*.py \
	  $(DESTDIR)$(PREFIX)/share/corodbg/lldb/corodbg_lldb_adapter/
INSTALL += install-lldb
