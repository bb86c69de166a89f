# The examples: small programs on corort + libcorodbg that reproduce the
# failures the debuggers are for.  Built into build/examples/ with -O0 so
# debuggers can show every local, plus `strip --strip-all` copies
# (NAME-stripped) and non-PIE builds (NAME-nopie).
#
# This fragment is included before runtime/ and runtime-hooks/ (sorted),
# so prerequisites name their archives by path: make expands prerequisite
# lists at once, recipes only later.

EX_B      := $(B)/examples
EX_NAMES  := leak spawn-loop panic segv server
EX_NOPIE  := leak server
EX_LIBS   := $(B)/runtime/libcorort.a $(B)/runtime-hooks/libcorodbg.a
EX_HDRS   := examples/common.h runtime/include/corort.h \
             runtime-hooks/include/corodbg.h
EX_CFLAGS  = $(BASE_CFLAGS) -O0 -fno-omit-frame-pointer $(RT_INC)
EX_LDLIBS  = $(EX_LIBS) $(HOOKS_LDFLAGS) -lpthread -ldl

EX_BINS := $(EX_NAMES:%=$(EX_B)/%) $(EX_NAMES:%=$(EX_B)/%-stripped) \
           $(EX_NOPIE:%=$(EX_B)/%-nopie)

$(EX_B)/%: examples/%.c examples/common.c $(EX_LIBS) $(EX_HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) $< examples/common.c -o $@ $(EX_LDLIBS)

$(EX_B)/%-nopie: examples/%.c examples/common.c $(EX_LIBS) $(EX_HDRS)
	@mkdir -p $(@D)
	$(CC) $(EX_CFLAGS) -fno-pie -no-pie $< examples/common.c -o $@ $(EX_LDLIBS)

$(EX_B)/%-stripped: $(EX_B)/%
	strip --strip-all -o $@ $<

ALL += $(EX_BINS)
