# The examples: small programs on corort + libcorodbg that reproduce the
# failures the debuggers are for.  Built into build/examples/ with -O0 so
# debuggers can show every local, plus `strip --strip-all` copies
# (NAME-stripped) and non-PIE builds (NAME-nopie).
#
# Each program is compiled from two sources in one step, and gcc's .d
# file then keeps only the second one's headers (Makefile, DEPFLAGS), so
# the headers are listed here.

EX_B      := $(B)/examples
EX_NAMES  := leak spawn-loop panic segv server
EX_NOPIE  := leak server
EX_LIBS   := $(RT_LIB_A) $(HOOKS_LIB_A)
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

# aarch64 builds of three examples, cross-compiled against the aarch64
# runtime and hooks, for tests/aarch64 (qemu-aarch64 + gdb-multiarch):
# server (with worker threads) and panic as PIE, segv without PIE because
# GDB cannot relocate a PIE from qemu's core files (no auxv note).
EX_A64_B    := $(EX_B)/aarch64
EX_A64_BINS := $(EX_A64_B)/server $(EX_A64_B)/panic $(EX_A64_B)/segv-nopie
EX_A64_LIBS := $(RT_AARCH64_A) $(HOOKS_AARCH64_A)
EX_A64_CC    = aarch64-linux-gnu-gcc -std=c11 $(WARN) -D_GNU_SOURCE -O0 -g \
               -fno-omit-frame-pointer $(RT_INC)

$(EX_A64_B)/%: examples/%.c examples/common.c $(EX_A64_LIBS) $(EX_HDRS)
	@mkdir -p $(@D)
	$(EX_A64_CC) $< examples/common.c -o $@ $(EX_A64_LIBS) $(HOOKS_LDFLAGS) \
	  -lpthread -ldl
$(EX_A64_B)/%-nopie: examples/%.c examples/common.c $(EX_A64_LIBS) $(EX_HDRS)
	@mkdir -p $(@D)
	$(EX_A64_CC) -fno-pie -no-pie $< examples/common.c -o $@ $(EX_A64_LIBS) \
	  $(HOOKS_LDFLAGS) -lpthread -ldl

TESTBIN += $(EX_A64_BINS)
