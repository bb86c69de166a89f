# corodbg top-level build.  Each component contributes a fragment
# (<dir>/*.mk) that appends its targets to ALL, TESTBIN, BENCH and DEMO;
# this file only holds the common flags and the user-facing targets.
#
#   make            build everything (never runs apt: names what is missing)
#   make deps       install missing Debian packages (root), probe that they work
#   make testbin    build everything the tests use
#   make test       make deps, build, run every test
#   make demo       build the examples and show them under the debuggers
#   make bench      run the benchmarks (ratios against anchors, same run)
#   make install    PREFIX=/usr/local DESTDIR=
#   make fuzz       longer fuzzing runs of the symbolizer's parsers

CC      ?= gcc
PREFIX  ?= /usr/local
DESTDIR ?=
B       := build
PYTHON  := /usr/bin/python3

WARN    := -Wall -Wextra -Werror
CFLAGS  ?= -O2 -g
BASE_CFLAGS := -std=c11 $(WARN) -D_GNU_SOURCE -fPIC $(CFLAGS)
SAN_CFLAGS  := -std=c11 $(WARN) -D_GNU_SOURCE -fPIC -O1 -g \
               -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=all

ALL     :=
TESTBIN :=
BENCH   :=
DEMO    :=
INSTALL :=

.PHONY: all testbin test demo bench install deps deps-build clean fuzz
all: deps-build

# Libraries first, so later fragments can name their variables (HOOKS_*,
# CORORT_*) in prerequisites; then every other fragment.
FIRST_MK := runtime-hooks/hooks.mk $(wildcard runtime/runtime.mk)
include $(FIRST_MK)
include $(filter-out $(FIRST_MK),$(sort $(wildcard */*.mk)))

all: $(ALL)

# deps: installs what is missing (root) or prints the apt-get line (not
# root), then probes each capability the build and the tests use.
# deps-build: the build's packages only, checked and never installed.
deps:
	@scripts/install-deps.sh
deps-build:
	@scripts/install-deps.sh --build

# Everything the tests run, without running them.
testbin: all $(TESTBIN)

test: deps
	@$(MAKE) --no-print-directory testbin
	$(PYTHON) -m pytest -q -p no:cacheprovider tests

demo: deps
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

bench: deps
	@$(MAKE) --no-print-directory all $(BENCH)
	@scripts/bench.sh

install: all $(INSTALL)

clean:
	rm -rf $(B)
