# symbolizer/symbolizer.mk - libcorosym and the corosym CLI.
#
# Part 2 (pprof.mk, included before this file) may define
# COROSYM_EXTRA_OBJS and COROSYM_EXTRA_LIBS for the CLI link.

CS_DIR   := symbolizer
CS_OUT   := $(B)/symbolizer
CS_LIBSRC := util.c elf.c dwarf.c index.c session.c lineproto.c demangle.c
CS_LIBOBJ := $(addprefix $(CS_OUT)/obj/,$(CS_LIBSRC:.c=.o))
CS_CFLAGS := $(BASE_CFLAGS) -I$(CS_DIR)/include -I$(CS_DIR)
# libelf, libdeflate, libzstd and zlib are linked statically (start-up time:
# each run maps fewer shared objects); libdebuginfod is dlopen'ed on use.
CS_LIBS  := -Wl,-Bstatic -lelf -ldeflate -lzstd -lz -Wl,-Bdynamic -lstdc++ -ldl -lpthread
CS_HDRS  := $(CS_DIR)/include/corosym.h $(CS_DIR)/corosym_int.h \
            $(CS_DIR)/lineproto.h $(CS_DIR)/output.h $(CS_DIR)/batch.h

ALL += $(CS_OUT)/libcorosym.a $(CS_OUT)/corosym $(CS_OUT)/libcorosym.ldflags
INSTALL += install-corosym

$(CS_OUT)/obj/%.o: $(CS_DIR)/%.c $(CS_HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CS_CFLAGS) -c $< -o $@

$(CS_OUT)/libcorosym.a: $(CS_LIBOBJ)
	@mkdir -p $(dir $@)
	rm -f $@
	ar rcs $@ $^

# What a program linking libcorosym.a needs after it (used by the tests).
$(CS_OUT)/libcorosym.ldflags: $(CS_DIR)/symbolizer.mk
	@mkdir -p $(dir $@)
	echo '$(CS_LIBS)' > $@

$(CS_OUT)/corosym: $(CS_OUT)/obj/main.o $(CS_OUT)/obj/output.o \
                   $(CS_OUT)/obj/batch.o \
                   $(CS_OUT)/libcorosym.a $(COROSYM_EXTRA_OBJS)
	$(CC) $(CS_CFLAGS) -o $@ $(CS_OUT)/obj/main.o $(CS_OUT)/obj/output.o \
	    $(CS_OUT)/obj/batch.o \
	    $(COROSYM_EXTRA_OBJS) $(CS_OUT)/libcorosym.a $(COROSYM_EXTRA_LIBS) \
	    $(CS_LIBS)

.PHONY: install-corosym
install-corosym: $(CS_OUT)/corosym $(CS_OUT)/libcorosym.a
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib \
	    $(DESTDIR)$(PREFIX)/include
	install -m 755 $(CS_OUT)/corosym $(DESTDIR)$(PREFIX)/bin/corosym
	install -m 644 $(CS_OUT)/libcorosym.a $(DESTDIR)$(PREFIX)/lib/
	install -m 644 $(CS_DIR)/include/corosym.h $(DESTDIR)$(PREFIX)/include/
