# libcorodbg: the runtime hooks and the coroutine table.
# Exports for other fragments: HOOKS_B, HOOKS_INC, HOOKS_LIB_A,
# HOOKS_LIB_SO, HOOKS_LIB_SAN_A, HOOKS_AARCH64_A, HOOKS_LDLIBS,
# HOOKS_LDFLAGS (export the table from executables so debuggers find it
# through .dynsym even after strip, and keep the GDB auto-load record).

HOOKS_DIR       := runtime-hooks
HOOKS_B         := $(B)/runtime-hooks
HOOKS_INC       := -I$(HOOKS_DIR)/include
HOOKS_SRC       := $(sort $(wildcard $(HOOKS_DIR)/src/*.c))
# Headers come from gcc's .d files (DEPFLAGS), except for the aarch64
# build below, which compiles in one recipe.
HOOKS_HDR       := $(HOOKS_DIR)/include/corodbg.h $(HOOKS_DIR)/src/internal.h
HOOKS_OBJ       := $(HOOKS_SRC:$(HOOKS_DIR)/src/%.c=$(HOOKS_B)/obj/%.o)
HOOKS_SAN_OBJ   := $(HOOKS_SRC:$(HOOKS_DIR)/src/%.c=$(HOOKS_B)/san/%.o)
HOOKS_LIB_A     := $(HOOKS_B)/libcorodbg.a
HOOKS_LIB_SO    := $(HOOKS_B)/libcorodbg.so
HOOKS_LIB_SAN_A := $(HOOKS_B)/libcorodbg-san.a
HOOKS_LDLIBS    := -lpthread -ldl
# -u keeps gdb_autoload.o (the .debug_gdb_scripts record, not referenced
# from code) in static links, so GDB auto-loads corodbg for the program.
HOOKS_LDFLAGS   := -Wl,--export-dynamic-symbol=corodbg_table \
                   -Wl,--export-dynamic-symbol=corodbg_event_hook \
                   -Wl,--export-dynamic-symbol=corodbg_totals \
                   -Wl,--export-dynamic-symbol=corodbg_current \
                   -Wl,-u,corodbg_gdb_script

$(HOOKS_B)/obj/%.o: $(HOOKS_DIR)/src/%.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -fvisibility=hidden $(HOOKS_INC) $(HOOKS_DEFS) -c $< -o $@

$(HOOKS_B)/san/%.o: $(HOOKS_DIR)/src/%.c
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -fvisibility=hidden $(HOOKS_INC) $(HOOKS_DEFS) -c $< -o $@

# Files that embed $(PREFIX) depend on this stamp, which holds the last
# PREFIX and is rewritten (so newer) only when PREFIX changes: a
# `make install PREFIX=/usr/local` after a build for /opt/corodbg then
# regenerates them instead of installing the stale ones.  It is checked on
# every run (the phony prerequisite); its mtime decides the rest.
HOOKS_PREFIX_STAMP := $(HOOKS_B)/prefix.stamp
.PHONY: hooks-prefix-check
$(HOOKS_PREFIX_STAMP): hooks-prefix-check
	@mkdir -p $(@D)
	@if [ "$$(cat $@ 2>/dev/null)" != '$(PREFIX)' ]; then \
	  printf '%s\n' '$(PREFIX)' > $@; fi

# The GDB auto-load record trusts the install prefix (gdb_autoload.c), so
# the prefix is compiled into it and it is one of those files.
$(HOOKS_B)/obj/gdb_autoload.o $(HOOKS_B)/san/gdb_autoload.o: $(HOOKS_PREFIX_STAMP)
$(HOOKS_B)/obj/gdb_autoload.o $(HOOKS_B)/san/gdb_autoload.o: \
  HOOKS_DEFS = -DCORODBG_PREFIX='"$(PREFIX)"'

$(HOOKS_LIB_A): $(HOOKS_OBJ)
	rm -f $@ && ar rcs $@ $^

$(HOOKS_LIB_SAN_A): $(HOOKS_SAN_OBJ)
	rm -f $@ && ar rcs $@ $^

$(HOOKS_LIB_SO): $(HOOKS_OBJ)
	$(CC) -shared -Wl,-soname,libcorodbg.so.1 -o $@.1 $^ $(HOOKS_LDLIBS)
	ln -sf libcorodbg.so.1 $@

# Public-API symbols must be visible even though objects default to hidden.
HOOKS_API_CHECK := $(HOOKS_B)/api-exported.ok
$(HOOKS_API_CHECK): $(HOOKS_LIB_SO) $(HOOKS_DIR)/include/corodbg.h
	@for s in corodbg_table corodbg_event_hook corodbg_create corodbg_exit \
	  corodbg_switch corodbg_block corodbg_wake corodbg_panic \
	  corodbg_install_crash_handler corodbg_leak_check; do \
	  nm -D --defined-only $(HOOKS_LIB_SO) | grep -qw $$s || \
	  { echo "libcorodbg.so does not export $$s" >&2; exit 1; }; done
	@touch $@

# Unit tests of the API, normal and sanitized.
HOOKS_TESTS_SRC := $(sort $(wildcard $(HOOKS_DIR)/tests/*.c))
HOOKS_TESTS     := $(HOOKS_TESTS_SRC:$(HOOKS_DIR)/tests/%.c=$(HOOKS_B)/tests/%) \
                   $(HOOKS_TESTS_SRC:$(HOOKS_DIR)/tests/%.c=$(HOOKS_B)/tests/%-san) \
                   $(HOOKS_B)/tests/test_api-shared

$(HOOKS_B)/tests/%: $(HOOKS_DIR)/tests/%.c $(HOOKS_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(HOOKS_INC) -I$(HOOKS_DIR)/src $< -o $@ \
	  $(HOOKS_LIB_A) -rdynamic $(HOOKS_LDLIBS)

$(HOOKS_B)/tests/%-san: $(HOOKS_DIR)/tests/%.c $(HOOKS_LIB_SAN_A)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(HOOKS_INC) -I$(HOOKS_DIR)/src $< -o $@ \
	  $(HOOKS_LIB_SAN_A) -rdynamic $(HOOKS_LDLIBS)

$(HOOKS_B)/tests/test_api-shared: $(HOOKS_DIR)/tests/test_api.c $(HOOKS_LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(HOOKS_INC) -I$(HOOKS_DIR)/src $< -o $@ \
	  -L$(HOOKS_B) -l:libcorodbg.so -Wl,-rpath,'$$ORIGIN/..' -rdynamic $(HOOKS_LDLIBS)

# The aarch64 build only has to compile (Debian's cross gcc).
HOOKS_AARCH64_A := $(HOOKS_B)/aarch64/libcorodbg.a
$(HOOKS_AARCH64_A): $(HOOKS_SRC) $(HOOKS_HDR)
	@mkdir -p $(@D)
	cd $(@D) && for f in $(abspath $(HOOKS_SRC)); do \
	  aarch64-linux-gnu-gcc -std=c11 $(WARN) -D_GNU_SOURCE -fPIC -O2 -g \
	    -fvisibility=hidden -I$(abspath $(HOOKS_DIR)/include) -c $$f || exit 1; done
	aarch64-linux-gnu-ar rcs $@ $(@D)/*.o

ALL     += $(HOOKS_LIB_A) $(HOOKS_LIB_SO) $(HOOKS_LIB_SAN_A) $(HOOKS_API_CHECK)
TESTBIN += $(HOOKS_TESTS) $(HOOKS_AARCH64_A)

HOOKS_PC := $(HOOKS_B)/corodbg.pc
$(HOOKS_PC): $(HOOKS_DIR)/corodbg.pc.in $(HOOKS_PREFIX_STAMP)
	@mkdir -p $(@D)
	sed -e 's|@PREFIX@|$(PREFIX)|g' $< > $@

.PHONY: install-hooks
install-hooks: $(HOOKS_LIB_A) $(HOOKS_LIB_SO) $(HOOKS_PC)
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig
	install -m 644 $(HOOKS_LIB_A) $(DESTDIR)$(PREFIX)/lib/libcorodbg.a
	install -m 755 $(HOOKS_LIB_SO).1 $(DESTDIR)$(PREFIX)/lib/libcorodbg.so.1
	ln -sf libcorodbg.so.1 $(DESTDIR)$(PREFIX)/lib/libcorodbg.so
	install -m 644 $(HOOKS_DIR)/include/corodbg.h $(DESTDIR)$(PREFIX)/include/
	install -m 644 $(HOOKS_PC) $(DESTDIR)$(PREFIX)/lib/pkgconfig/corodbg.pc
INSTALL += install-hooks

# Programs the discovery tests strip: static library, and shared library.
HOOKS_DISCOVER := $(HOOKS_B)/programs/discover-static $(HOOKS_B)/programs/discover-shared \
                  $(HOOKS_B)/programs/dump_table
$(HOOKS_B)/programs/discover-static: $(HOOKS_DIR)/tests/programs/discover.c $(HOOKS_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(HOOKS_INC) $< -o $@ $(HOOKS_LIB_A) $(HOOKS_LDFLAGS) $(HOOKS_LDLIBS)
$(HOOKS_B)/programs/discover-shared: $(HOOKS_DIR)/tests/programs/discover.c $(HOOKS_LIB_SO)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(HOOKS_INC) $< -o $@ -L$(HOOKS_B) -l:libcorodbg.so \
	  -Wl,-rpath,'$$ORIGIN/..' $(HOOKS_LDLIBS)
TESTBIN += $(HOOKS_DISCOVER)
$(HOOKS_B)/programs/dump_table: $(HOOKS_DIR)/tests/programs/dump_table.c $(HOOKS_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(HOOKS_INC) $< -o $@ $(HOOKS_LIB_A) $(HOOKS_LDFLAGS) $(HOOKS_LDLIBS)

# One crashing program built with and without libcorodbg: the crash
# handler must leave every way of dying or recovering as it was.
HOOKS_CHAIN := $(HOOKS_B)/programs/chain $(HOOKS_B)/programs/chain-plain
$(HOOKS_B)/programs/chain: $(HOOKS_DIR)/tests/programs/chain.c $(HOOKS_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(HOOKS_INC) $< -o $@ $(HOOKS_LIB_A) $(HOOKS_LDFLAGS) $(HOOKS_LDLIBS)
$(HOOKS_B)/programs/chain-plain: $(HOOKS_DIR)/tests/programs/chain.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -DCHAIN_PLAIN $< -o $@
TESTBIN += $(HOOKS_CHAIN)
