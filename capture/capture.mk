# capture/capture.mk -- libcorocap (reader, decoder, unwinder, writers,
# shared with the in-process endpoint) and the `corodbg` capture tool.
#
#   build/capture/libcorocap.a      the library (capture/include/corocap.h)
#   build/capture/corodbg           the CLI (capture/cli)
#   build/capture/tests/*           test programs (tests/capture)

CAP_DIR  := capture
CAP_B    := $(B)/capture
CAP_INC  := -I$(CAP_DIR)/include -I$(CAP_DIR)/lib $(HOOKS_INC) \
            -Isymbolizer/include -I$(B)/symbolizer/proto -Isymbolizer/pprof
CAP_SRC  := $(sort $(wildcard $(CAP_DIR)/lib/*.c))
CAP_OBJ  := $(CAP_SRC:$(CAP_DIR)/lib/%.c=$(CAP_B)/obj/%.o)
# Headers come from gcc's .d files (DEPFLAGS); the generated ones are
# order-only prerequisites: they must exist before the first compile,
# which no .d file knows yet.
CAP_GEN_HDR := $(CAP_B)/gen/runtime_rules.h $(B)/symbolizer/proto/profile.pb-c.h
CAP_LIB  := $(CAP_B)/libcorocap.a
# libdeflate and libzstd are linked statically; libdw and libelf stay shared (one
# libelf for both).  protobuf-c for the pprof writer.
CAP_LIBS := $(B)/symbolizer/libcorosym.a $(B)/symbolizer/pprof/profile.pb-c.o \
            $(B)/symbolizer/pprof/pprof_gzip.o \
            -Wl,-Bstatic -ldeflate -lzstd -Wl,-Bdynamic \
            -ldw -lelf -lprotobuf-c -lz -lstdc++ -ldl -lpthread

# The runtime-frame globs come from the Python core (runtime_rules.py),
# the one place they are written, so both debuggers and this tool agree.
$(CAP_B)/gen/runtime_rules.h: python/corodbg/core/runtime_rules.py $(CAP_DIR)/gen_rules.py
	@mkdir -p $(@D)
	$(PYTHON) $(CAP_DIR)/gen_rules.py > $@.tmp && mv $@.tmp $@

$(CAP_B)/obj/%.o: $(CAP_DIR)/lib/%.c | $(CAP_GEN_HDR)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CAP_INC) -I$(CAP_B)/gen -c $< -o $@

$(CAP_LIB): $(CAP_OBJ)
	rm -f $@ && ar rcs $@ $^

$(CAP_B)/cli/%.o: $(CAP_DIR)/cli/%.c | $(CAP_GEN_HDR)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CAP_INC) -c $< -o $@

CAP_CLI_OBJ := $(patsubst $(CAP_DIR)/cli/%.c,$(CAP_B)/cli/%.o,$(sort $(wildcard $(CAP_DIR)/cli/*.c)))
$(CAP_B)/corodbg: $(CAP_CLI_OBJ) $(CAP_LIB) $(B)/symbolizer/libcorosym.a \
                  $(B)/symbolizer/pprof/profile.pb-c.o $(B)/symbolizer/pprof/pprof_gzip.o
	$(CC) $(BASE_CFLAGS) -o $@ $(CAP_CLI_OBJ) $(CAP_LIB) $(CAP_LIBS)

$(CAP_B)/tests/%: $(CAP_DIR)/tests/%.c $(CAP_LIB) | $(CAP_GEN_HDR)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(CAP_INC) $< -o $@ $(CAP_LIB) $(CAP_LIBS)

# The decoder under ASan/UBSan, for the differential test's corrupt images.
CAP_SAN_OBJ := $(CAP_SRC:$(CAP_DIR)/lib/%.c=$(CAP_B)/san/%.o)
$(CAP_B)/san/%.o: $(CAP_DIR)/lib/%.c | $(CAP_GEN_HDR)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(CAP_INC) -I$(CAP_B)/gen -c $< -o $@
$(CAP_B)/libcorocap-san.a: $(CAP_SAN_OBJ)
	rm -f $@ && ar rcs $@ $^
# (and the runtime rule's name parser, on the differential test's names)
$(CAP_B)/tests/%-san: $(CAP_DIR)/tests/%.c $(CAP_B)/libcorocap-san.a \
                      | $(CAP_GEN_HDR)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(CAP_INC) $< -o $@ $(CAP_B)/libcorocap-san.a $(CAP_LIBS)
TESTBIN += $(CAP_B)/tests/decode_image-san $(CAP_B)/tests/qualified_names-san

ALL     += $(CAP_LIB) $(CAP_B)/corodbg
TESTBIN += $(patsubst $(CAP_DIR)/tests/%.c,$(CAP_B)/tests/%,$(wildcard $(CAP_DIR)/tests/*.c))

.PHONY: install-capture
install-capture: $(CAP_B)/corodbg
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(CAP_B)/corodbg $(DESTDIR)$(PREFIX)/bin/corodbg
INSTALL += install-capture

# The benchmark's target (bench/run-capture.sh).
$(CAP_B)/bench/stall_target: bench/capture/stall_target.c $(RT_LIB_A) $(HOOKS_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(RT_INC) $< -o $@ $(RT_LIB_A) $(HOOKS_LIB_A) \
	  $(HOOKS_LDFLAGS) $(RT_LDLIBS)
BENCH += $(CAP_B)/bench/stall_target $(CAP_B)/corodbg $(CAP_B)/tests/cpuburn

# tests/capture's programs (a leak in progress for `watch`).
$(CAP_B)/tests/grower: $(CAP_DIR)/tests/grower.c $(RT_LIB_A) $(HOOKS_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O0 -fno-omit-frame-pointer $(RT_INC) $< -o $@ \
	  $(RT_LIB_A) $(HOOKS_LIB_A) $(HOOKS_LDFLAGS) $(RT_LDLIBS)
$(CAP_B)/tests/cpuburn: $(CAP_DIR)/tests/cpuburn.c $(RT_LIB_A) $(HOOKS_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O0 -fno-omit-frame-pointer $(RT_INC) $< -o $@ \
	  $(RT_LIB_A) $(HOOKS_LIB_A) $(HOOKS_LDFLAGS) $(RT_LDLIBS)
# cc_profile_self's test program: corort, libcorodbg and libcorocap in
# one process (tests/capture/test_profile_self.py, bench/run-selfprof.sh),
# and the same under ASan/UBSan.
$(CAP_B)/tests/selfprof: $(CAP_DIR)/tests/selfprof.c $(CAP_LIB) $(RT_LIB_A) $(HOOKS_LIB_A) \
                         | $(CAP_GEN_HDR)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O0 -fno-omit-frame-pointer $(RT_INC) $(CAP_INC) $< -o $@ \
	  $(CAP_LIB) $(RT_LIB_A) $(HOOKS_LIB_A) $(HOOKS_LDFLAGS) $(CAP_LIBS) $(RT_LDLIBS)
$(CAP_B)/tests/selfprof-san: $(CAP_DIR)/tests/selfprof.c $(CAP_B)/libcorocap-san.a $(RT_LIB_SAN_A) \
                             $(HOOKS_LIB_SAN_A) | $(CAP_GEN_HDR)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(RT_INC) $(CAP_INC) $< -o $@ \
	  $(CAP_B)/libcorocap-san.a $(RT_LIB_SAN_A) $(HOOKS_LIB_SAN_A) $(HOOKS_LDFLAGS) $(CAP_LIBS) $(RT_LDLIBS)
TESTBIN += $(CAP_B)/tests/selfprof-san
BENCH += $(CAP_B)/tests/selfprof
