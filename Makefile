# dm-incmirror: top-level Makefile.
#
#   make                   build the module (running kernel, or KDIR=/KVER=)
#                          and the userspace tools
#   make install           install the module (modules_install + depmod)
#   make uninstall         remove it again
#   make deps              install what building and testing need (Debian 12)
#   make check             unit tests, W=1 builds for 6.1 and 6.12, guest cases
#   make demo              the incremental migration demonstration in a guest
#   make fuzz              fuzz the bitmap parsers for FUZZ_SECONDS each
#   make bench             copy speed and write cost against dm-raid1, in a guest
#   make check-mutants     the crash-replay case kills each tests/mutants/ patch
#   make check-debug       every guest case on a KASAN/kmemleak/lockdep kernel
#                          (built once from linux-source-6.12 and cached)
#   make check-crash       power-cut loop: CRASH_POINTS kills, then resync+cmp
#
# make check takes CASES="name ..." and KERNELS="6.1 6.12" to narrow a run.

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
KERNELS ?= 6.1 6.12
CASES ?=
FUZZ_SECONDS ?= 60
BENCH_MIB ?= 256

TOP := $(CURDIR)

.PHONY: all module tools install uninstall clean deps check check-unit \
	check-build demo bench fuzz module-for

all: module tools

module:
	$(MAKE) -C $(KDIR) M=$(TOP) modules

tools:
	@if [ -f tools/Makefile ]; then $(MAKE) -C tools; fi
	$(MAKE) -C tests/tools

install: module
	$(MAKE) -C $(KDIR) M=$(TOP) modules_install
	depmod -a $(KVER)

uninstall:
	rm -f /lib/modules/$(KVER)/updates/dm-incmirror.ko* \
	      /lib/modules/$(KVER)/extra/dm-incmirror.ko*
	depmod -a $(KVER)

# The module for one installed release, built W=1 with warnings as errors in
# build/<release>/ so that the two kernel series never share objects.
# Concurrent runs (several guest runs at once) take turns through a lock.
# KDIR= points at another kbuild tree (the debug kernel's).
module-for:
	@test -n "$(KVER)" || { echo "module-for needs KVER=" >&2; exit 2; }
	@mkdir -p build/$(KVER)/dm-incmirror
	flock build/.lock-$(KVER) sh -c 'cp -p Kbuild build/$(KVER)/ && \
		cp -p dm-incmirror/*.[ch] build/$(KVER)/dm-incmirror/ && \
		$(MAKE) -C $(KDIR) M=$(TOP)/build/$(KVER) \
		W=1 KCFLAGS=-Werror modules'

deps:
	@tests/deps

check:
	@tests/check $(if $(CASES),--cases "$(CASES)") --kernels "$(KERNELS)"

# The crash-replay case must catch each broken ordering in tests/mutants/.
.PHONY: check-mutants
check-mutants: deps
	@tests/mutants/run --kernel $(lastword $(KERNELS))

.PHONY: check-debug debug-kernel check-crash
CRASH_POINTS ?= 20

# Not part of make check: the first run builds a kernel (9 min on 2 cores).
check-debug: deps
	@tests/debug-kernel/check-debug $(CASES)

debug-kernel:
	@tests/debug-kernel/build >/dev/null

check-crash: deps
	@CRASH_POINTS=$(CRASH_POINTS) tests/crash/run-crash-loop

demo: deps
	tests/vm/run --kernel 6.12 tests/demo/demo.sh

bench: deps
	tests/vm/run --kernel $(firstword $(KERNELS)) --mem 3072 \
		tests/bench/copy-speed.sh $(BENCH_MIB)

fuzz: deps
	$(MAKE) -C tools fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)

clean:
	$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null || true
	rm -rf build tests/vm/out
	@if [ -f tools/Makefile ]; then $(MAKE) -C tools clean; fi
