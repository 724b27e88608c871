# l4u: L4 address spaces for Linux.
#
#   make                 l4.ko for KDIR (default: the running kernel) and the user-space parts
#   make user            the user-space parts only (libl4u, pagers, l4ctl beside them,
#                        examples; the selftests too when linux-source-6.12 is there)
#   make module          l4.ko only
#   make selftests       the selftests (kselftest headers from linux-source-6.12)
#   make selftests-install INSTALL_PATH=dir   them in kselftest's layout (run_kselftest.sh)
#   make install         libl4u, headers, l4u.pc, l4ctl, the managers, l4u-demo, man
#                        pages, udev rule, sysusers.d entry: PREFIX=/usr/local, LIBDIR=lib
#                        (relative to PREFIX, or absolute), DESTDIR=, MODULES_LOAD=yes
#                        (also a modules-load.d entry); make uninstall undoes it
#   make install-dkms-src  the module's source for DKMS: /usr/src/l4u-VERSION (Kbuild, kmod,
#                        uapi, dkms.conf; nothing built), DESTDIR=; make uninstall-dkms-src
#   make deb             Debian packages (debian/) into build/deb/
#   make check           everything, then the selftests in QEMU guests on Debian's 6.1
#                        kernel, a 6.12 KASAN/lockdep/kmemleak kernel and the newest
#                        Debian kernel (7.3, lockdep/kmemleak), with examples/, plus DKMS,
#                        Debian package and host tests (install, l4ctl, headers, man, kmod graph)
#                          T=bin | T=bin:testcase   run a subset (several: T="a b:c")
#                          KERNELS="6.1 debug latest"   the guests (default: all three)
#   make demo            the demo (pagers/l4u-demo) in the 6.1 guest; KERNEL=debug|latest
#   make run PROG=path   one static program (yours) in the 6.1 guest instead; ARGS="..."
#   make bench           the benchmarks (bench/) in the 6.1 guest; B=name for one, KERNEL=...
#   make bench-compare   an older l4.ko (OLD=commit) against this one in one 6.1 guest:
#                        the same benchmarks (B=, default fault_ipc mapdb), ROUNDS=n;
#                          PAIRED="l4 cont-busy" ROUNDS=30: those rows, paired ratios
#   make modules-matrix  l4.ko built against every kernel tree found here: a table
#   scripts/profile.sh   perf profile of bench/fault_ipc rows in a guest (l4 cont ...)
#   make clean
#
# Everything is built under build/. l4.ko for kernel release R lands in build/kmod-R/.

# When kbuild reads this file (no Kbuild file next to it), hand over to Kbuild.
ifneq ($(KERNELRELEASE),)
include $(src)/Kbuild
else

KDIR ?= /lib/modules/$(shell uname -r)/build
BUILD := $(CURDIR)/build
KSFT_TARBALL ?= /usr/src/linux-source-6.12.tar.xz
KSFT_INC := $(BUILD)/kselftest

KREL = $(shell sed -n 's/^\#define UTS_RELEASE "\(.*\)"$$/\1/p' $(KDIR)/include/generated/utsrelease.h 2>/dev/null)
KMOD_DIR = $(BUILD)/kmod-$(KREL)

# what the module build needs from the source tree
KMOD_SRC := Kbuild kmod uapi
KMOD_EXCLUDE := --exclude='*.o' --exclude='*.ko' --exclude='*.mod' --exclude='*.mod.c' \
	--exclude='.*.cmd' --exclude='modules.order' --exclude='Module.symvers' --exclude='*.a'

T ?=
KERNELS ?= 6.1 debug latest
KERNEL ?= 6.1

.PHONY: all module user libl4u pagers tools examples selftests selftests-note kselftest-headers \
	kselftest-runner selftests-install check demo run bench bench-build bench-compare \
	install uninstall \
	install-dkms-src uninstall-dkms-src deb modules-matrix clean help

all: module user

help:
	@sed -n '3,29s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

module:
	@if [ ! -f "$(KDIR)/Makefile" ]; then \
		echo "error: no kernel build tree at KDIR=$(KDIR)" >&2; \
		echo "  install the headers of the running kernel (apt-get install linux-headers-$$(uname -r))" >&2; \
		echo "  or name another tree: make KDIR=/lib/modules/<release>/build" >&2; \
		avail=$$(ls -d /lib/modules/*/build 2>/dev/null | tr '\n' ' '); \
		[ -z "$$avail" ] || echo "  trees found here: $$avail" >&2; \
		exit 1; \
	fi
	@[ -n "$(KREL)" ] || { echo "error: cannot read the kernel release of KDIR=$(KDIR)" >&2; exit 1; }
	@[ -f Kbuild ] || { echo "error: Kbuild missing: nothing to build the module from" >&2; exit 1; }
	@mkdir -p $(KMOD_DIR)
	@# a tree built against another KDIR of the same release starts afresh
	@if [ "$$(cat $(KMOD_DIR)/.kdir 2>/dev/null)" != "$$(readlink -f $(KDIR))" ]; then \
		rm -rf $(KMOD_DIR); mkdir -p $(KMOD_DIR); readlink -f $(KDIR) >$(KMOD_DIR)/.kdir; fi
	@# copy the sources, keeping their times, so that kbuild rebuilds only what changed
	@tar -c $(KMOD_EXCLUDE) $(wildcard $(KMOD_SRC)) | tar -x -C $(KMOD_DIR)
	$(MAKE) -C $(KDIR) M=$(KMOD_DIR) modules
	@if [ "$(KREL)" = "$$(uname -r)" ]; then cp $(KMOD_DIR)/l4.ko $(BUILD)/l4.ko; \
		echo "l4.ko for the running kernel: build/l4.ko"; \
	else echo "l4.ko for $(KREL): build/kmod-$(KREL)/l4.ko"; fi

# the selftests need kselftest headers from linux-source-6.12: without it, user skips them
KSFT_HAVE := $(wildcard $(KSFT_INC)/kselftest_harness.h $(KSFT_TARBALL))
user: libl4u pagers tools examples bench-build $(if $(KSFT_HAVE),selftests,selftests-note)

selftests-note:
	@echo "note: no $(KSFT_TARBALL): selftests not built (apt-get install linux-source-6.12)"

libl4u:
	$(MAKE) -C libl4u O=$(BUILD)/libl4u

pagers: libl4u
	$(MAKE) -C pagers O=$(BUILD)/pagers LIBL4U=$(BUILD)/libl4u

# l4ctl goes where the guests' /bin comes from
tools: libl4u
	$(MAKE) -C tools O=$(BUILD)/pagers LIBL4U=$(BUILD)/libl4u

# the examples go beside the pagers (the guests' /bin), their check scripts to build/examples
examples: libl4u
	$(MAKE) -C examples O=$(BUILD)/pagers CHECKS=$(BUILD)/examples LIBL4U=$(BUILD)/libl4u

selftests: libl4u kselftest-headers kselftest-runner
	$(MAKE) -C selftests O=$(BUILD)/selftests KSFT_INC=$(KSFT_INC) LIBL4U=$(BUILD)/libl4u

# kselftest.h and kselftest_harness.h of 6.12, taken from Debian's source package
kselftest-headers: $(KSFT_INC)/kselftest_harness.h

$(KSFT_INC)/kselftest_harness.h:
	@[ -r $(KSFT_TARBALL) ] || { echo "error: $(KSFT_TARBALL) missing (apt-get install linux-source-6.12, or run scripts/deps.sh as root)" >&2; exit 1; }
	@echo "extracting kselftest headers from $(KSFT_TARBALL)"
	@rm -rf $(KSFT_INC).tmp && mkdir -p $(KSFT_INC).tmp
	@tar -C $(KSFT_INC).tmp -xJf $(KSFT_TARBALL) --strip-components=4 --wildcards \
		'*/tools/testing/selftests/kselftest.h' '*/tools/testing/selftests/kselftest_harness.h'
	@rm -rf $(KSFT_INC) && mv $(KSFT_INC).tmp $(KSFT_INC)

# kselftest's runner (run_kselftest.sh, kselftest/runner.sh), for make -C selftests install
KSFT_RUNNER_FILES := run_kselftest.sh kselftest/runner.sh kselftest/prefix.pl kselftest/ktap_helpers.sh
kselftest-runner: $(KSFT_INC)/run_kselftest.sh

$(KSFT_INC)/run_kselftest.sh: $(KSFT_INC)/kselftest_harness.h
	@echo "extracting kselftest's runner from $(KSFT_TARBALL)"
	@tar -C $(KSFT_INC) -xJf $(KSFT_TARBALL) --strip-components=4 \
		$(addprefix linux-source-6.12/tools/testing/selftests/,$(KSFT_RUNNER_FILES))
	@touch $@

# kselftest's install layout of the selftests (make -C selftests install): INSTALL_PATH=
selftests-install: selftests
	$(MAKE) -C selftests O=$(BUILD)/selftests KSFT_INC=$(KSFT_INC) LIBL4U=$(BUILD)/libl4u \
		INSTALL_PATH=$(abspath $(or $(INSTALL_PATH),$(BUILD)/kselftest_install)) install

check:
	+@T="$(T)" KERNELS="$(KERNELS)" scripts/check.sh

# ---- installing -----------------------------------------------------------------
PREFIX ?= /usr/local
LIBDIR ?= lib
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
# systemd and udev read these under /usr/lib and /usr/local/lib alike
UDEVRULESDIR ?= $(PREFIX)/lib/udev/rules.d
SYSUSERSDIR ?= $(PREFIX)/lib/sysusers.d
MODULESLOADDIR ?= $(PREFIX)/lib/modules-load.d
MODULES_LOAD ?= no
PROGS := l4ctl l4u-dsm-anon l4u-dsm-file l4u-demo
MANPAGES := $(wildcard man/man*/*.[0-9])

install: libl4u pagers tools
	$(MAKE) -C libl4u O=$(BUILD)/libl4u PREFIX=$(PREFIX) LIBDIR=$(LIBDIR) MANDIR=$(MANDIR) install
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(UDEVRULESDIR) $(DESTDIR)$(SYSUSERSDIR) \
		$(sort $(addprefix $(DESTDIR)$(MANDIR)/,$(patsubst man/%/,%,$(dir $(MANPAGES)))))
	install -m 755 $(addprefix $(BUILD)/pagers/,$(PROGS)) $(DESTDIR)$(BINDIR)/
	for m in $(MANPAGES); do install -m 644 $$m $(DESTDIR)$(MANDIR)/$${m#man/} || exit 1; done
	install -m 644 scripts/udev/70-l4u.rules $(DESTDIR)$(UDEVRULESDIR)/
	install -m 644 scripts/sysusers.d/l4u.conf $(DESTDIR)$(SYSUSERSDIR)/
ifeq ($(MODULES_LOAD),yes)
	install -d $(DESTDIR)$(MODULESLOADDIR)
	install -m 644 scripts/modules-load.d/l4u.conf $(DESTDIR)$(MODULESLOADDIR)/
endif
	@# the dynamic linker's cache must know the new libl4u.so.0 (not when staging)
	-@[ -n "$(DESTDIR)" ] || ldconfig 2>/dev/null
	@[ -n "$(DESTDIR)" ] || echo "installed; as root, once: systemd-sysusers; udevadm control --reload;" \
		"usermod -aG l4 \$$USER (see README: Installing on a desktop)"

uninstall:
	$(MAKE) -C libl4u O=$(BUILD)/libl4u PREFIX=$(PREFIX) LIBDIR=$(LIBDIR) MANDIR=$(MANDIR) uninstall
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(PROGS)) \
		$(addprefix $(DESTDIR)$(MANDIR)/,$(patsubst man/%,%,$(MANPAGES))) \
		$(DESTDIR)$(UDEVRULESDIR)/70-l4u.rules $(DESTDIR)$(SYSUSERSDIR)/l4u.conf \
		$(DESTDIR)$(MODULESLOADDIR)/l4u.conf

# the module's source as DKMS takes it (dkms add/build/install l4u/VERSION): what
# Kbuild needs and dkms.conf, never build products, build/ or .git
VERSION := $(shell sed -n 's/^PACKAGE_VERSION="\(.*\)"$$/\1/p' dkms.conf)
DKMS_SRC = $(DESTDIR)/usr/src/l4u-$(VERSION)
install-dkms-src:
	install -d $(DKMS_SRC)
	tar -c $(KMOD_EXCLUDE) --exclude='*.ko.*' --exclude='*.o.*' $(KMOD_SRC) dkms.conf | tar -x -C $(DKMS_SRC) --no-same-owner
	find $(DKMS_SRC) -type d -exec chmod 755 {} + && find $(DKMS_SRC) -type f -exec chmod 644 {} +

uninstall-dkms-src:
	rm -rf $(DKMS_SRC)

# Debian packages (debian/): l4u-dkms, libl4u0, libl4u-server0, libl4u-dev, l4u-tools
deb:
	scripts/mkdeb.sh $(BUILD)/deb

demo:
	+@KERNEL="$(KERNEL)" scripts/demo.sh

# one static program of yours in the 6.1 guest (KERNEL=debug for the other):
#   make run PROG=path/to/prog [ARGS="..."]
run:
	@[ -n "$(PROG)" ] || { echo "usage: make run PROG=path/to/static-program [ARGS=...] [KERNEL=debug]" >&2; exit 2; }
	+@DEMO_BIN="$(abspath $(PROG))" DEMO_ARGS="$(ARGS)" KERNEL="$(KERNEL)" scripts/demo.sh

# l4.ko against every kernel tree on this machine: release, builds, warnings
modules-matrix:
	+@scripts/modules-matrix.sh

# benchmarks run in a guest, one boot each: make bench [B="mapdb ..."] [KERNEL=debug]
B ?= $(basename $(notdir $(wildcard bench/*.c)))
bench-build: libl4u
	$(MAKE) -C bench O=$(BUILD)/bench LIBL4U=$(BUILD)/libl4u

bench: bench-build
	+@for b in $(B); do echo "== bench $$b ($(KERNEL))"; \
		DEMO_BIN=$(BUILD)/bench/$$b KERNEL="$(KERNEL)" scripts/demo.sh || exit 1; done

# old module against new in one guest (issue 13): make bench-compare [OLD=commit] [ROUNDS=n]
# [PAIRED="l4 cont-busy"]: those fault_ipc rows alone, old and new in turn, paired ratios
bench-compare: bench-build
	+@scripts/bench-compare.sh $(if $(OLD),-o $(OLD)) $(if $(ROUNDS),-r $(ROUNDS)) \
		$(if $(PAIRED),-p "$(PAIRED)") $(if $(filter command line,$(origin B)),$(B))

clean:
	rm -rf $(BUILD)
	rm -f *.ko *.o *.mod *.mod.c .*.cmd modules.order Module.symvers
	rm -f kmod/*.o kmod/*.mod kmod/*.mod.c kmod/.*.cmd

endif
