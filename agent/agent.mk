# agent/agent.mk -- libcorodbg-agent, the opt-in in-process endpoint
# (agent/include/corodbg_agent.h), built on libcorocap.
#
#   build/agent/libcorodbg-agent.so   link it (-lcorodbg-agent) or
#                                     LD_PRELOAD it, start it by API or
#                                     CORODBG_AGENT
#   build/agent/tests/*               tests/agent's programs
#   build/agent/fuzz/fuzz-http        libFuzzer harness of the request parser

AG_DIR := agent
AG_B   := $(B)/agent
# capture/capture.mk is read after this file: name its pieces by path.
AG_INC  = -I$(AG_DIR)/include -I$(AG_DIR)/lib $(CAP_INC)
AG_CAP_LIB := $(B)/capture/libcorocap.a
AG_SRC := $(sort $(wildcard $(AG_DIR)/lib/*.c))
AG_OBJ := $(AG_SRC:$(AG_DIR)/lib/%.c=$(AG_B)/obj/%.o)
# Headers come from gcc's .d files (DEPFLAGS); the generated ones must
# exist before the first compile, which no .d file knows yet.
AG_GEN_HDR := $(B)/capture/gen/runtime_rules.h $(B)/symbolizer/proto/profile.pb-c.h
AG_SO  := $(AG_B)/libcorodbg-agent.so
# libcorodbg's symbols (the table, the totals) come from the program,
# which links libcorodbg itself: the agent must not bring a second table.
# libdeflate and libzstd are linked statically as elsewhere (their Debian
# archives are PIC).
AG_PPROF_OBJ := $(B)/symbolizer/pprof/profile.pb-c.o \
                $(B)/symbolizer/pprof/pprof_gzip.o
AG_LIBS := $(B)/symbolizer/libcorosym.a $(AG_PPROF_OBJ) \
           -Wl,-Bstatic -ldeflate -lzstd -Wl,-Bdynamic \
           -ldw -lelf -lprotobuf-c -lz -lstdc++ -ldl -lpthread

$(AG_B)/obj/%.o: $(AG_DIR)/lib/%.c | $(AG_GEN_HDR)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -fvisibility=hidden $(AG_INC) -I$(B)/capture/gen -c $< -o $@

# Only the public API is exported (exports.map).
$(AG_SO): $(AG_OBJ) $(AG_CAP_LIB) $(B)/symbolizer/libcorosym.a $(AG_PPROF_OBJ) \
          $(AG_DIR)/lib/exports.map
	$(CC) -shared -Wl,-soname,libcorodbg-agent.so.1 -o $@.1 $(AG_OBJ) \
	  $(AG_CAP_LIB) $(AG_LIBS) -Wl,--version-script=$(AG_DIR)/lib/exports.map
	ln -sf libcorodbg-agent.so.1 $@

$(AG_B)/tests/agent_target: $(AG_DIR)/tests/agent_target.c $(AG_SO) \
                            $(RT_LIB_A) $(HOOKS_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -O0 -fno-omit-frame-pointer $(RT_INC) \
	  -I$(AG_DIR)/include $< -o $@ $(RT_LIB_A) $(HOOKS_LIB_A) \
	  $(HOOKS_LDFLAGS) -L$(AG_B) -l:libcorodbg-agent.so \
	  -Wl,-rpath,'$$ORIGIN/..' $(RT_LDLIBS)

ALL     += $(AG_SO)
TESTBIN += $(AG_B)/tests/agent_target

.PHONY: install-agent
install-agent: $(AG_SO)
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include
	install -m 755 $(AG_SO).1 $(DESTDIR)$(PREFIX)/lib/libcorodbg-agent.so.1
	ln -sf libcorodbg-agent.so.1 $(DESTDIR)$(PREFIX)/lib/libcorodbg-agent.so
	install -m 644 $(AG_DIR)/include/corodbg_agent.h $(DESTDIR)$(PREFIX)/include/
INSTALL += install-agent

# libFuzzer harness of the request parser (clang-14, ASan + UBSan), run
# briefly by tests/agent/test_fuzz_http.py and longer by `make fuzz-agent`.
$(AG_B)/fuzz/fuzz-http: $(AG_DIR)/fuzz/fuzz_http.c $(AG_DIR)/lib/http.c $(AG_DIR)/lib/http.h
	@mkdir -p $(@D)
	clang-14 -std=c11 -D_GNU_SOURCE -g -O1 -fno-omit-frame-pointer \
	  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	  -Wall -Wextra -Werror -I$(AG_DIR)/lib -o $@ $< $(AG_DIR)/lib/http.c
TESTBIN += $(AG_B)/fuzz/fuzz-http

FUZZ_SECONDS ?= 300
.PHONY: fuzz-agent
fuzz-agent: $(AG_B)/fuzz/fuzz-http
	@mkdir -p $(AG_B)/fuzz/corpus-http
	$(AG_B)/fuzz/fuzz-http -max_total_time=$(FUZZ_SECONDS) -timeout=10 \
	  -artifact_prefix=$(AG_B)/fuzz/ $(AG_B)/fuzz/corpus-http $(AG_DIR)/fuzz/corpus/http

# bench/run-agent.sh's switch-heavy workload (run with and without the
# agent preloaded) and the agent_target it scrapes at 100,000 coroutines.
$(AG_B)/bench/switch_load: bench/agent/switch_load.c $(RT_LIB_A) $(HOOKS_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(RT_INC) $< -o $@ $(RT_LIB_A) $(HOOKS_LIB_A) \
	  $(HOOKS_LDFLAGS) $(RT_LDLIBS)
BENCH += $(AG_B)/bench/switch_load $(AG_SO) $(AG_B)/tests/agent_target

# `make fuzz` fuzzes the agent's parser too.
fuzz: fuzz-agent

# agent_target with the agent, libcorocap, corort and libcorodbg all under
# ASan + UBSan, linked into one executable: tests/agent runs its endpoint
# and malformed-request tests against it too.
AG_SAN_OBJ := $(AG_SRC:$(AG_DIR)/lib/%.c=$(AG_B)/san/%.o)
$(AG_B)/san/%.o: $(AG_DIR)/lib/%.c | $(AG_GEN_HDR)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(AG_INC) -I$(B)/capture/gen -c $< -o $@
$(AG_B)/tests/agent_target-san: $(AG_DIR)/tests/agent_target.c $(AG_SAN_OBJ) \
                                $(B)/capture/libcorocap-san.a $(RT_LIB_SAN_A) \
                                $(B)/symbolizer/libcorosym.a $(AG_PPROF_OBJ) \
                                $(HOOKS_LIB_SAN_A)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(RT_INC) -I$(AG_DIR)/include $< -o $@ $(AG_SAN_OBJ) \
	  $(B)/capture/libcorocap-san.a $(RT_LIB_SAN_A) $(HOOKS_LIB_SAN_A) \
	  $(HOOKS_LDFLAGS) $(AG_LIBS) $(RT_LDLIBS)
TESTBIN += $(AG_B)/tests/agent_target-san
