# corort: the reference coroutine runtime (runtime/), its tests
# (tests/runtime/) and the hooks benchmark (bench/hooks/).
# Exports for other fragments: RT_INC, RT_LIB_A (with hooks, needs
# HOOKS_LIB_A), RT_LIB_NOHOOKS_A, RT_LIB_SAN_A (needs HOOKS_LIB_SAN_A),
# RT_AARCH64_A (needs HOOKS_AARCH64_A), RT_LDLIBS.  The top Makefile reads
# this fragment right after runtime-hooks/hooks.mk and before all others
# (FIRST_MK), so the others may name these variables in prerequisites.

RT_DIR       := runtime
RT_B         := $(B)/runtime
RT_INC       := -I$(RT_DIR)/include $(HOOKS_INC)
RT_SRC       := $(sort $(wildcard $(RT_DIR)/src/*.c))
RT_ASM       := $(RT_DIR)/arch/x86_64/switch.S
RT_LDLIBS    := -lpthread -ldl -lm
# No sibling calls in the API files, so a parked coroutine's stack shows
# recv <- corort_chan_recv <- user code with no link missing.  sched.c
# keeps them: its tail call into corort__swap saves a mispredicted return
# per switch (about 4 ns per yield measured here).
RT_CFLAGS     = $(if $(filter sched.c,$(notdir $<)),,-fno-optimize-sibling-calls)

RT_OBJ         := $(RT_SRC:$(RT_DIR)/src/%.c=$(RT_B)/obj/%.o) $(RT_B)/obj/switch.o
RT_NOHOOKS_OBJ := $(RT_SRC:$(RT_DIR)/src/%.c=$(RT_B)/nohooks/%.o) $(RT_B)/nohooks/switch.o
RT_SAN_OBJ     := $(RT_SRC:$(RT_DIR)/src/%.c=$(RT_B)/san/%.o) $(RT_B)/san/switch.o

RT_LIB_A         := $(RT_B)/libcorort.a
RT_LIB_NOHOOKS_A := $(RT_B)/libcorort-nohooks.a
RT_LIB_SAN_A     := $(RT_B)/libcorort-san.a

# Headers come from gcc's .d files (DEPFLAGS); this file for RT_CFLAGS.
$(RT_B)/obj/%.o: $(RT_DIR)/src/%.c $(RT_DIR)/runtime.mk
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(RT_CFLAGS) $(RT_INC) -c $< -o $@
$(RT_B)/nohooks/%.o: $(RT_DIR)/src/%.c $(RT_DIR)/runtime.mk
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(RT_CFLAGS) -DCORORT_NO_HOOKS $(RT_INC) -c $< -o $@
$(RT_B)/san/%.o: $(RT_DIR)/src/%.c $(RT_DIR)/runtime.mk
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(RT_CFLAGS) $(RT_INC) -c $< -o $@
$(RT_B)/obj/switch.o $(RT_B)/nohooks/switch.o $(RT_B)/san/switch.o: $(RT_ASM)
	@mkdir -p $(@D)
	$(CC) -fPIC -g -c $< -o $@

$(RT_LIB_A): $(RT_OBJ)
	rm -f $@ && ar rcs $@ $^
$(RT_LIB_NOHOOKS_A): $(RT_NOHOOKS_OBJ)
	rm -f $@ && ar rcs $@ $^
$(RT_LIB_SAN_A): $(RT_SAN_OBJ)
	rm -f $@ && ar rcs $@ $^

# aarch64: the runtime must build with Debian's cross compiler (not run).
# One recipe compiles every file, so its headers are listed here.
RT_AARCH64_A := $(RT_B)/aarch64/libcorort.a
$(RT_AARCH64_A): $(RT_SRC) $(RT_DIR)/include/corort.h $(RT_DIR)/src/internal.h \
                 runtime-hooks/include/corodbg.h $(RT_DIR)/runtime.mk \
                 $(RT_DIR)/arch/aarch64/switch.S
	@mkdir -p $(@D)
	cd $(@D) && for f in $(abspath $(RT_SRC) $(RT_DIR)/arch/aarch64/switch.S); do \
	  aarch64-linux-gnu-gcc -std=c11 $(WARN) -D_GNU_SOURCE -fPIC -O2 -g $(RT_CFLAGS) \
	    -I$(abspath $(RT_DIR)/include) -I$(abspath runtime-hooks/include) \
	    -c $$f || exit 1; done
	aarch64-linux-gnu-ar rcs $@ $(@D)/*.o

ALL += $(RT_LIB_A) $(RT_LIB_NOHOOKS_A) $(RT_LIB_SAN_A)

# ---- tests: C programs driven by tests/runtime/test_*.py ----
RT_TESTS_SRC := $(sort $(wildcard tests/runtime/*.c))
RT_TESTS     := $(RT_TESTS_SRC:tests/runtime/%.c=$(RT_B)/tests/%) \
                $(RT_TESTS_SRC:tests/runtime/%.c=$(RT_B)/tests/%-san) \
                $(RT_B)/tests/rt_basic-nohooks

$(RT_B)/tests/%: tests/runtime/%.c $(RT_LIB_A) $(HOOKS_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(RT_INC) $< -o $@ $(RT_LIB_A) $(HOOKS_LIB_A) \
	  $(HOOKS_LDFLAGS) $(RT_LDLIBS)
$(RT_B)/tests/%-san: tests/runtime/%.c $(RT_LIB_SAN_A) $(HOOKS_LIB_SAN_A)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $(RT_INC) $< -o $@ $(RT_LIB_SAN_A) $(HOOKS_LIB_SAN_A) \
	  $(HOOKS_LDFLAGS) $(RT_LDLIBS)
$(RT_B)/tests/rt_basic-nohooks: tests/runtime/rt_basic.c $(RT_LIB_NOHOOKS_A)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -DCORORT_NO_HOOKS $(RT_INC) $< -o $@ \
	  $(RT_LIB_NOHOOKS_A) $(RT_LDLIBS)

TESTBIN += $(RT_TESTS) $(RT_AARCH64_A)

# ---- the hooks benchmark (bench/run-hooks.sh) ----
RT_BENCH := $(RT_B)/bench/hooks $(RT_B)/bench/hooks-nohooks
$(RT_B)/bench/hooks: bench/hooks/bench_hooks.c $(RT_LIB_A) $(HOOKS_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(RT_INC) $< -o $@ $(RT_LIB_A) $(HOOKS_LIB_A) \
	  $(HOOKS_LDFLAGS) $(RT_LDLIBS)
$(RT_B)/bench/hooks-nohooks: bench/hooks/bench_hooks.c $(RT_LIB_NOHOOKS_A)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -DCORORT_NO_HOOKS $(RT_INC) $< -o $@ \
	  $(RT_LIB_NOHOOKS_A) $(RT_LDLIBS)
# The same hooks on runtimes publishing registers in place (modes block
# and frame): with and without libcorodbg.
RT_BENCH_MODES := $(RT_B)/bench/modes $(RT_B)/bench/modes-nohooks
$(RT_B)/bench/modes: bench/hooks/bench_modes.c $(HOOKS_LIB_A)
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $(HOOKS_INC) -Itests/progs $< -o $@ $(HOOKS_LIB_A) \
	  $(HOOKS_LDFLAGS) $(HOOKS_LDLIBS)
$(RT_B)/bench/modes-nohooks: bench/hooks/bench_modes.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -DBENCH_NO_HOOKS $(HOOKS_INC) -Itests/progs $< -o $@
BENCH += $(RT_BENCH) $(RT_BENCH_MODES)

.PHONY: install-runtime
install-runtime: $(RT_LIB_A)
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include
	install -m 644 $(RT_LIB_A) $(DESTDIR)$(PREFIX)/lib/libcorort.a
	install -m 644 $(RT_DIR)/include/corort.h $(DESTDIR)$(PREFIX)/include/
INSTALL += install-runtime
