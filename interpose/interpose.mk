# interpose: LD_PRELOAD library that publishes ucontext coroutines
# (makecontext/swapcontext/setcontext/getcontext, plus a libpcl adapter)
# in the corodbg table, and the programs its tests drive.

UCX_DIR := interpose
UCX_B   := $(B)/interpose
UCX_SO  := $(UCX_B)/libcorodbg-ucontext.so
UCX_OBJ := $(UCX_B)/obj/uc_interpose.o $(UCX_B)/obj/uc_stubs.o

# Headers come from gcc's .d files (DEPFLAGS in BASE_CFLAGS/SAN_CFLAGS).
$(UCX_B)/obj/uc_interpose.o: $(UCX_DIR)/uc_interpose.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -fvisibility=hidden $(HOOKS_INC) -c $< -o $@

$(UCX_B)/obj/uc_stubs.o: $(UCX_DIR)/uc_stubs.S
	@mkdir -p $(@D)
	$(CC) -fPIC -g -c $< -o $@

$(UCX_SO): $(UCX_OBJ) $(HOOKS_LIB_A) $(UCX_DIR)/exports.map
	$(CC) -shared -o $@ $(UCX_OBJ) $(HOOKS_LIB_A) \
	  -Wl,--version-script=$(UCX_DIR)/exports.map -Wl,-z,noexecstack \
	  -Wl,--no-undefined \
	  -lpthread -ldl

# libcorodbg-fcontext.so: Boost.Context's fcontext (Coroutine2, Fiber,
# Asio spawn), register mode frame.  x86-64 only (fc_stubs.S).
FCX_SO  := $(UCX_B)/libcorodbg-fcontext.so
FCX_OBJ := $(UCX_B)/obj/fc_interpose.o $(UCX_B)/obj/fc_stubs.o
$(UCX_B)/obj/fc_interpose.o: $(UCX_DIR)/fc_interpose.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) -fvisibility=hidden $(HOOKS_INC) -c $< -o $@
$(UCX_B)/obj/fc_stubs.o: $(UCX_DIR)/fc_stubs.S
	@mkdir -p $(@D)
	$(CC) -fPIC -g -c $< -o $@
$(FCX_SO): $(FCX_OBJ) $(HOOKS_LIB_A) $(UCX_DIR)/fc_exports.map
	$(CC) -shared -o $@ $(FCX_OBJ) $(HOOKS_LIB_A) \
	  -Wl,--version-script=$(UCX_DIR)/fc_exports.map -Wl,-z,noexecstack \
	  -Wl,--no-undefined -lpthread -ldl
ALL += $(FCX_SO)

# The Boost test programs (public Boost APIs only), -O0 so the tests can
# assert the user's lines.  Asio's spawn is built on Boost.Coroutine.
FCX_CXX := g++ -std=c++17 -O0 -g -Wall -Wextra -Werror \
           -DBOOST_ALLOW_DEPRECATED_HEADERS -DBOOST_COROUTINES_NO_DEPRECATION_WARNING
$(UCX_B)/tests/boost_gen: tests/interpose/boost/gen.cpp
	@mkdir -p $(@D)
	$(FCX_CXX) $< -o $@ -lboost_context
$(UCX_B)/tests/boost_fibers: tests/interpose/boost/fibers.cpp
	@mkdir -p $(@D)
	$(FCX_CXX) $< -o $@ -lboost_fiber -lboost_context
$(UCX_B)/tests/boost_sessions: tests/interpose/boost/sessions.cpp
	@mkdir -p $(@D)
	$(FCX_CXX) $< -o $@ -lboost_coroutine -lboost_context -lpthread
TESTBIN += $(addprefix $(UCX_B)/tests/,boost_gen boost_fibers boost_sessions)
# Its cost per jump_fcontext (bench/run-fcontext.sh).
$(UCX_B)/bench_fcontext: $(UCX_DIR)/bench_fcontext.cpp
	@mkdir -p $(@D)
	g++ -std=c++17 -O2 -Wall -Wextra -Werror $< -o $@ -lboost_context
BENCH += $(UCX_B)/bench_fcontext $(FCX_SO)

# ASan/UBSan variant for the tests: preload it after the ASan runtime,
# LD_PRELOAD="$(gcc -print-file-name=libasan.so) .../libcorodbg-ucontext-san.so".
UCX_SAN_SO := $(UCX_B)/libcorodbg-ucontext-san.so
$(UCX_B)/san/uc_interpose.o: $(UCX_DIR)/uc_interpose.c
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) -fvisibility=hidden $(HOOKS_INC) -c $< -o $@
$(UCX_SAN_SO): $(UCX_B)/san/uc_interpose.o $(UCX_B)/obj/uc_stubs.o $(HOOKS_LIB_SAN_A) $(UCX_DIR)/exports.map
	$(CC) -shared -fsanitize=address,undefined -o $@ $(UCX_B)/san/uc_interpose.o \
	  $(UCX_B)/obj/uc_stubs.o $(HOOKS_LIB_SAN_A) \
	  -Wl,--version-script=$(UCX_DIR)/exports.map -Wl,-z,noexecstack -lpthread -ldl
TESTBIN += $(UCX_SAN_SO)

# Test programs: they never include corodbg.h.  -rdynamic lets dladdr
# name their coroutine functions; -fno-omit-frame-pointer keeps rbp chains.
UCX_TB      := $(B)/interpose/tests
UCX_TCFLAGS := -std=c11 $(WARN) -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer -rdynamic
$(UCX_TB)/pcl_demo: tests/interpose/pcl_demo.c
	@mkdir -p $(@D)
	$(CC) $(UCX_TCFLAGS) $< -o $@ -lpcl
# The same program with libpcl linked statically: its calls to co_create
# and co_delete cannot be interposed, so only the generic ucontext layer
# sees it.
$(UCX_TB)/pcl_demo_static: tests/interpose/pcl_demo.c
	@mkdir -p $(@D)
	$(CC) $(UCX_TCFLAGS) $< -o $@ -Wl,-Bstatic -lpcl -Wl,-Bdynamic -lpthread
$(UCX_TB)/uc_demo: tests/interpose/uc_demo.c
	@mkdir -p $(@D)
	$(CC) $(UCX_TCFLAGS) $< -o $@ -lpthread

ALL     += $(UCX_SO)
TESTBIN += $(UCX_TB)/pcl_demo $(UCX_TB)/pcl_demo_static $(UCX_TB)/uc_demo

# The cost benchmark (interpose/bench.sh runs it plain and preloaded).
$(UCX_B)/bench_swap: $(UCX_DIR)/bench_swap.c
	@mkdir -p $(@D)
	$(CC) $(BASE_CFLAGS) $< -o $@
BENCH += $(UCX_B)/bench_swap $(UCX_SO)

.PHONY: install-interpose
install-interpose: $(UCX_SO)
	install -d $(DESTDIR)$(PREFIX)/lib
	install -m 755 $(UCX_SO) $(DESTDIR)$(PREFIX)/lib/libcorodbg-ucontext.so
INSTALL += install-interpose
