# symbolizer/symbolizer.mk - libcorosym and the corosym CLI.
#
# The folders are the layers (docs/architecture.md):
#   util/      the base every layer uses (allocation, hex, string pool)
#   lib/       libcorosym: elf/, dwarf/, index/, then the session, the
#              debug-file search, lookup and frame building
#   cli/       the corosym command (on include/corosym.h only)
#   pprof/     corosym pprof and folded stacks (pprof.mk)
# Part 2 (pprof.mk, included before this file) may define
# COROSYM_EXTRA_OBJS and COROSYM_EXTRA_LIBS for the CLI link.

CS_DIR   := symbolizer
CS_OUT   := $(B)/symbolizer
CS_LIBSRC := util/util.c \
             lib/elf/elf.c lib/elf/symtab.c \
             lib/dwarf/form.c lib/dwarf/line.c lib/dwarf/ranges.c \
             lib/dwarf/names.c lib/dwarf/info.c lib/dwarf/vars.c \
             lib/dwarf/calls.c \
             lib/index/build.c lib/index/cache.c \
             lib/search.c lib/lookup.c lib/frames.c lib/session.c \
             lib/demangle.c
CS_LIBOBJ := $(addprefix $(CS_OUT)/obj/,$(CS_LIBSRC:.c=.o))
CS_CLISRC := cli/main.c cli/output.c cli/batch.c cli/lineproto.c
CS_CLIOBJ := $(addprefix $(CS_OUT)/obj/,$(CS_CLISRC:.c=.o))
CS_LIBINC := -I$(CS_DIR)/include -I$(CS_DIR)/util -I$(CS_DIR)/lib
CS_CFLAGS := $(BASE_CFLAGS) $(CS_LIBINC)
# The CLI sees the public header, the base and pprof's entry point.
CS_CLI_CFLAGS := $(BASE_CFLAGS) -I$(CS_DIR)/include -I$(CS_DIR)/util \
                 -I$(CS_DIR)/cli -I$(CS_DIR)/pprof
# libelf, libdeflate, libzstd and zlib are linked statically (start-up time:
# each run maps fewer shared objects); libdebuginfod is dlopen'ed on use.
CS_LIBS  := -Wl,-Bstatic -lelf -ldeflate -lzstd -lz -Wl,-Bdynamic -lstdc++ -ldl -lpthread

ALL += $(CS_OUT)/libcorosym.a $(CS_OUT)/corosym $(CS_OUT)/libcorosym.ldflags
INSTALL += install-corosym

# (headers: gcc's .d files, see the top Makefile)
$(CS_OUT)/obj/%.o: $(CS_DIR)/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CS_CFLAGS) -c $< -o $@

$(CS_OUT)/obj/cli/%.o: $(CS_DIR)/cli/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CS_CLI_CFLAGS) -c $< -o $@

$(CS_OUT)/libcorosym.a: $(CS_LIBOBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# What a program linking libcorosym.a needs after it (used by the tests).
$(CS_OUT)/libcorosym.ldflags: $(CS_DIR)/symbolizer.mk
	@mkdir -p $(dir $@)
	echo '$(CS_LIBS)' > $@

$(CS_OUT)/corosym: $(CS_CLIOBJ) $(CS_OUT)/libcorosym.a $(COROSYM_EXTRA_OBJS)
	$(CC) $(CS_CFLAGS) -o $@ $(CS_CLIOBJ) \
	    $(COROSYM_EXTRA_OBJS) $(CS_OUT)/libcorosym.a $(COROSYM_EXTRA_LIBS) \
	    $(CS_LIBS)

.PHONY: install-corosym
install-corosym: $(CS_OUT)/corosym $(CS_OUT)/libcorosym.a
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	    $(DESTDIR)$(PREFIX)/include
	install -m 755 $(CS_OUT)/corosym $(DESTDIR)$(PREFIX)/bin/corosym
	install -m 644 $(CS_OUT)/libcorosym.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(CS_DIR)/include/corosym.h $(DESTDIR)$(PREFIX)/include/
