# dm-incmirror: top-level Makefile.
#
#   make                   build the module (running kernel, or KDIR=/KVER=)
#                          and the userspace tools
#   make install           install the module (modules_install + depmod), the
#                          tools and their man pages (PREFIX=/usr/local, DESTDIR=)
#   make install-tools     only the tools, man pages and fio jobs (no kernel tree)
#   make uninstall         remove all of it again (uninstall-tools: the tools only)
#   make man               the man pages, from Documentation/ into build/man/
#   make deps              install what building and testing need (Debian 12)
#   make check             unit tests, W=1 builds for 6.1 and 6.12, guest cases
#   make demo              the incremental migration demonstration in a guest
#   make fuzz              fuzz the bitmap parsers for FUZZ_SECONDS each
#   make bench             benchmark against dm-linear, dm-raid1 and plain copies
#                          in one guest boot per kernel (KERNELS=, default 6.12
#                          for bench only); tables, raw fio JSON and gnuplot
#                          PNGs in bench/results/<date>-<release>/. BENCH_MIB,
#                          BENCH_ROUNDS, BENCH_RUNTIME, BENCH_PARTS, BENCH_LEGS,
#                          BENCH_MODULE=<.ko or dir>, BENCH_TAG: tests/README.md
#   make check-full        make check with every guest case on every kernel
#   make check-mutants     each tests/mutants/ patch is caught by its case
#   make check-random      the randomized claim checker, long: SEQUENCES=
#                          (default 20) of STEPS= (default 30) from SEED=
#                          (default random; INCMIRROR_SEED= too), on
#                          KERNEL= (default 6.12)
#   make check-mutants-random  the mutants of tests/mutants/ against it
#                          (tests/mutants/run-random: SEED=, default 1000)
#   make check-debug       every guest case on a KASAN/kmemleak/lockdep kernel
#                          (built once from linux-source-6.12 and cached)
#   make check-crash       power-cut loop: CRASH_POINTS kills, then resync+cmp
#   make deb               Debian packages dm-incmirror-dkms, incmirror-tools and
#                          the source package (debian/), built in a copy of the
#                          tree in build/deb-work/, into build/deb/
#                          (DEB_BUILD_FLAGS, default -us -uc; -b: binary only)
#   make check-deb         the packaging tests (tests/unit/deb.sh; make check runs
#                          only their static part): make deb, contents, lintian, dkms build
#                          and install for the 6.1 and 6.12 kernels, scratch trees
#
# make check takes CASES="name ..." and KERNELS="6.1 6.12" to narrow a run.

KVER ?= $(shell uname -r)
KDIR ?= /lib/modules/$(KVER)/build
KERNELS ?= 6.1 6.12
CASES ?=
FUZZ_SECONDS ?= 60

TOP := $(CURDIR)

.PHONY: all module tools install uninstall clean deps check check-unit \
	check-build demo bench fuzz module-for

all: module tools

module:
	$(MAKE) -C $(KDIR) M=$(TOP) modules

tools:
	@if [ -f tools/Makefile ]; then $(MAKE) -C tools; fi
	$(MAKE) -C tests/tools

# Installation. DESTDIR is a staging root: the module goes to
# $(DESTDIR)/lib/modules/$(KVER) (INSTALL_MOD_PATH) and depmod is left to the
# system it is unpacked on.
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share/incmirror
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
RST2MAN ?= $(firstword $(wildcard /usr/bin/rst2man) rst2man)
MAN_OUT := build/man
MAN7 := dm-incmirror.7
MAN8 := incmirror-bitmap.8 incmirror-watch.8 incmirror-validate.8 incmirror-lvm.8
TOOL_NAMES := incmirror-bitmap incmirror-watch incmirror-validate incmirror-lvm
# Each tool is tools/<name>/<name>, except incmirror-lvm (tools/lvm/).
tool_dir = $(if $(filter incmirror-lvm,$(1)),lvm,$(1))
TOOL_PROGS := $(foreach t,$(TOOL_NAMES),tools/$(call tool_dir,$(t))/$(t))
FIO_JOBS := incmirror-fill.fio incmirror-verify.fio

.PHONY: install-module install-tools uninstall-tools man
install: install-module install-tools

install-module: module
	$(MAKE) -C $(KDIR) M=$(TOP) modules_install \
		$(if $(DESTDIR),INSTALL_MOD_PATH=$(abspath $(DESTDIR)))
	$(if $(DESTDIR),@echo "install: DESTDIR is set: run 'depmod -a $(KVER)' on the target system", \
		depmod -a $(KVER))

install-tools: tools man
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(DATADIR)/fio $(DESTDIR)$(COMPLETIONDIR)
	install -m 0755 $(TOOL_PROGS) $(DESTDIR)$(SBINDIR)/
	install -m 0644 $(addprefix $(MAN_OUT)/,$(MAN7)) $(DESTDIR)$(MANDIR)/man7/
	install -m 0644 $(addprefix $(MAN_OUT)/,$(MAN8)) $(DESTDIR)$(MANDIR)/man8/
	install -m 0644 $(addprefix tests/fio/,$(FIO_JOBS)) $(DESTDIR)$(DATADIR)/fio/
	for t in $(TOOL_NAMES); do \
		install -m 0644 tools/completion/incmirror $(DESTDIR)$(COMPLETIONDIR)/$$t || exit 1; \
	done

uninstall: uninstall-tools
	rm -f $(DESTDIR)/lib/modules/$(KVER)/updates/dm-incmirror.ko* \
	      $(DESTDIR)/lib/modules/$(KVER)/extra/dm-incmirror.ko*
	$(if $(DESTDIR),,depmod -a $(KVER))

uninstall-tools:
	rm -f $(addprefix $(DESTDIR)$(SBINDIR)/,$(TOOL_NAMES)) \
	      $(addprefix $(DESTDIR)$(MANDIR)/man7/,$(MAN7)) \
	      $(addprefix $(DESTDIR)$(MANDIR)/man8/,$(MAN8)) \
	      $(addprefix $(DESTDIR)$(DATADIR)/fio/,$(FIO_JOBS)) \
	      $(addprefix $(DESTDIR)$(COMPLETIONDIR)/,$(TOOL_NAMES))
	-rmdir $(DESTDIR)$(DATADIR)/fio $(DESTDIR)$(DATADIR) 2>/dev/null

# Man pages: Debian's rst2man (python3-docutils), warnings are errors.
man: $(addprefix $(MAN_OUT)/,$(MAN7) $(MAN8))

$(MAN_OUT)/dm-incmirror.7: Documentation/man/dm-incmirror.7.rst Documentation/dm-incmirror.rst
	@mkdir -p $(MAN_OUT)
	$(RST2MAN) --halt=warning $< $@.tmp && mv $@.tmp $@

$(MAN_OUT)/%.8: Documentation/%.rst
	@mkdir -p $(MAN_OUT)
	$(RST2MAN) --halt=warning $< $@.tmp && mv $@.tmp $@

# The module for one installed release, built W=1 with warnings as errors in
# build/<release>/ so that the two kernel series never share objects.
# Concurrent runs (several guest runs at once) take turns through a lock.
# Sources are copied when their content differs, with a new mtime: copying
# with their own mtime (cp -p) let an object built by a concurrent run from
# a half-edited tree look newer than the final source, and a stale object
# (an older struct layout) was linked into the module.
# KDIR= points at another kbuild tree (the debug kernel's).
module-for:
	@test -n "$(KVER)" || { echo "module-for needs KVER=" >&2; exit 2; }
	@mkdir -p build/$(KVER)/dm-incmirror
	flock build/.lock-$(KVER) sh -c 'for f in Kbuild dm-incmirror/*.[ch]; do \
		cmp -s $$f build/$(KVER)/$$f || cp $$f build/$(KVER)/$$f || exit 1; \
		done && \
		$(MAKE) -C $(KDIR) M=$(TOP)/build/$(KVER) \
		W=1 KCFLAGS=-Werror modules'

deps:
	@tests/deps

check:
	@tests/check $(if $(CASES),--cases "$(CASES)") --kernels "$(KERNELS)"

# Every case on every kernel (make check runs the cases marked
# "# CHECK-KERNEL:" on that kernel only, to stay under 15 minutes).
.PHONY: check-full
check-full:
	@INCMIRROR_CHECK_FULL=1 tests/check --kernels "$(KERNELS)"

# The Ceph cases (tests/lib/ceph.sh), on every kernel in KERNELS: make
# check runs ceph-rbd-incremental-migration on 6.12 only, the others are
# "# CHECK-KERNEL: full".
CEPH_CASES := $(basename $(notdir $(wildcard tests/cases/ceph-*.sh)))
.PHONY: check-ceph
check-ceph:
	@tests/check --cases "$(CEPH_CASES)" --kernels "$(KERNELS)"

# Each broken ordering in tests/mutants/ must be caught by its case.
.PHONY: check-mutants
check-mutants: deps
	@tests/mutants/run --kernel $(lastword $(KERNELS))

# The randomized claim checker (tests/cases/target-random-claims.sh; make
# check runs 1 sequence of 10 steps of it on 6.12). Replay a failure with
# the seed it printed: make check-random SEED=<seed> SEQUENCES=1.
.PHONY: check-random
SEQUENCES ?= 20
STEPS ?= 30
SEED ?= $(INCMIRROR_SEED)
check-random: deps
	@tests/vm/run --kernel $(or $(KERNEL),6.12) --mem 1536 \
		--timeout $$((300 + $(SEQUENCES) * $(STEPS) * 10)) \
		tests/cases/target-random-claims.sh --sequences $(SEQUENCES) --steps $(STEPS) \
		$(if $(SEED),--seed $(SEED))

.PHONY: check-mutants-random
check-mutants-random: deps
	@tests/mutants/run-random --kernel $(or $(KERNEL),6.12) $(if $(SEED),--seed $(SEED)) \
		unmodified $(basename $(notdir $(wildcard tests/mutants/*.patch)))

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

# A benchmark, not a test (make check times nothing). Only the 6.12 guest
# unless KERNELS= is given; the BENCH_* variables reach tests/bench/run from
# the command line or the environment.
bench: deps
	@BENCH_KERNELS="$(if $(filter command line environment,$(origin KERNELS)),$(KERNELS),6.12)" \
		tests/bench/run

fuzz: deps
	$(MAKE) -C tools fuzz FUZZ_SECONDS=$(FUZZ_SECONDS)

# Debian packages. dpkg-buildpackage writes beside the source directory, so
# it runs in a copy of the tree (without .git, build/ and the bench's caches)
# in DEB_WORK, cleaned by debian/rules, whose orig tarball is made from that
# copy without debian/; what it made is copied to DEB_OUT.
DEB_WORK ?= build/deb-work
DEB_OUT ?= build/deb
DEB_BUILD_FLAGS ?= -us -uc
.PHONY: deb check-deb
deb:
	@set -e; src=$$(dpkg-parsechangelog -S Source); ver=$$(dpkg-parsechangelog -S Version); \
	up=$${ver%-*}; dir=$$src-$$up; work=$(abspath $(DEB_WORK)); \
	rm -rf "$$work" && mkdir -p "$$work/$$dir" $(DEB_OUT); \
	tar --exclude=./.git --exclude=./build --exclude=./tests/vm/cache --exclude=./tests/vm/out \
		--exclude=./tools/fuzz/work --exclude=./tests/unit/build --exclude='*.o' \
		--exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' --exclude='*.cmd' \
		--exclude=Module.symvers --exclude=modules.order -cf - . | tar -C "$$work/$$dir" -xf -; \
	(cd "$$work/$$dir" && debian/rules clean >"$$work/clean.log" 2>&1) || \
		{ cat "$$work/clean.log"; exit 1; }; \
	tar -C "$$work" --exclude="$$dir/debian" --sort=name --owner=0 --group=0 --numeric-owner \
		--mtime=@$$(dpkg-parsechangelog -S Timestamp) -cJf "$$work/$${src}_$$up.orig.tar.xz" "$$dir"; \
	echo "deb: dpkg-buildpackage $(DEB_BUILD_FLAGS) in $$work/$$dir (log: $$work/build.log)"; \
	(cd "$$work/$$dir" && nice dpkg-buildpackage $(DEB_BUILD_FLAGS) >"$$work/build.log" 2>&1) || \
		{ tail -40 "$$work/build.log"; exit 1; }; \
	out=$(abspath $(DEB_OUT)); cd "$$work"; \
	for f in $$(ls *.deb *.dsc *.tar.* *.changes *.buildinfo 2>/dev/null); do \
		rm -f "$$out/$${f%%_*}"_*; done; \
	for f in $$(ls *.deb *.dsc *.tar.* *.changes *.buildinfo 2>/dev/null); do \
		cp -p "$$f" "$$out/"; echo "$(DEB_OUT)/$$f"; done

check-deb: deps
	@INCMIRROR_CHECK_DEB=1 tests/unit/run deb

clean:
	$(MAKE) -C $(KDIR) M=$(TOP) clean 2>/dev/null || true
	rm -rf build tests/vm/out
	@if [ -f tools/Makefile ]; then $(MAKE) -C tools clean; fi
