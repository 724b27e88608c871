# l4u: L4 address spaces for Linux.
#
#   make                 l4.ko for KDIR (default: the running kernel), libl4u, pagers, selftests
#   make user            the user-space parts only (tools/l4ctl lands beside the pagers)
#   make module          l4.ko only
#   make check           everything, then the selftests in QEMU guests on Debian's 6.1
#                        kernel, a 6.12 KASAN/lockdep/kmemleak kernel and the newest
#                        Debian kernel (7.3, lockdep/kmemleak), plus DKMS builds
#                          T=bin | T=bin:testcase   run a subset (several: T="a b:c")
#                          KERNELS="6.1 debug latest"   the guests (default: all three)
#   make demo            the demo (pagers/l4u-demo) in the 6.1 guest; KERNEL=debug|latest
#   make bench           the benchmarks (bench/) in the 6.1 guest; B=name for one, KERNEL=...
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

.PHONY: all module user libl4u pagers tools selftests kselftest-headers check demo bench bench-build modules-matrix clean help

all: module user

help:
	@sed -n '3,15s/^# \{0,1\}//p' $(firstword $(MAKEFILE_LIST))

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

user: libl4u pagers tools selftests bench-build

libl4u:
	$(MAKE) -C libl4u O=$(BUILD)/libl4u

pagers: libl4u
	$(MAKE) -C pagers O=$(BUILD)/pagers LIBL4U=$(BUILD)/libl4u

# l4ctl goes where the guests' /bin comes from
tools:
	$(MAKE) -C tools O=$(BUILD)/pagers

selftests: libl4u kselftest-headers
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

check:
	+@T="$(T)" KERNELS="$(KERNELS)" scripts/check.sh

demo:
	+@KERNEL="$(KERNEL)" scripts/demo.sh

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

clean:
	rm -rf $(BUILD)
	rm -f *.ko *.o *.mod *.mod.c .*.cmd modules.order Module.symvers
	rm -f kmod/*.o kmod/*.mod kmod/*.mod.c kmod/.*.cmd

endif
