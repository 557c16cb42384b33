# selfvirt: top-level build.  "make demo" and "make check" do everything,
# from the Debian packages to the test summary; see README.md.

TOP := $(CURDIR)
BUILD := $(TOP)/build
KDIR ?= $(lastword $(sort $(wildcard /usr/src/linux-headers-6.12.*-amd64)))
KREL = $(patsubst linux-headers-%,%,$(notdir $(KDIR)))
PYTHON := /usr/bin/python3
NINJA := ninja
GUEST := $(BUILD)/guest/initramfs.cpio.gz
MODULE := guest-driver/selfvirt.ko
QEMU_TARGETS := qemu-system-x86_64 tests/qtest/selfvirt/selfvirt-test \
	tests/qtest/selfvirt/selfvirt-isolation-test \
	tests/qtest/selfvirt/selfvirt-migration-test \
	tests/qtest/device-introspect-test

-include $(BUILD)/config.mk

all: qemu driver guest nested

deps: $(BUILD)/.deps-ok
$(BUILD)/.deps-ok: scripts/install-deps.sh
	@mkdir -p $(BUILD)
	@scripts/install-deps.sh --check || scripts/install-deps.sh
	@scripts/install-deps.sh --check
	@touch $@

$(BUILD)/config.mk: configure scripts/overlay-qemu.sh $(BUILD)/.deps-ok
	./configure

configure-qemu: $(BUILD)/config.mk

qemu: $(BUILD)/config.mk
	@echo "make: building qemu-system-x86_64 and the qtests (a first build takes about 10 minutes)"
	@{ $(NINJA) -C $(QEMU_BUILD) $(QEMU_TARGETS); echo $$? > $(BUILD)/.ninja-rc; } | \
	    awk '/^\[/ { n++; if (n % 100 == 0) { print; fflush() } next } { print; fflush() }'
	@exit $$(cat $(BUILD)/.ninja-rc)
	@scripts/link-firmware.sh $(QEMU_BUILD)

driver: $(BUILD)/.deps-ok
	@test -n "$(KDIR)" || { echo "make: no Linux 6.12 headers in /usr/src (scripts/install-deps.sh)"; exit 1; }
	$(MAKE) -C guest-driver KDIR=$(KDIR)

guest: driver tools
	SELFVIRT_TOOLS=$(UNIT_BUILD) scripts/build-guest.sh $(BUILD)/guest $(MODULE) $(KREL)

# The L1 image of the nested tests: the guest image with QEMU and the L2
# image (the least an L2 VM needs) inside
nested: qemu guest
	scripts/build-l2.sh $(BUILD)/l2 $(BUILD)/guest
	scripts/build-nested.sh $(BUILD)/nested $(BUILD)/guest $(QEMU_BUILD) $(BUILD)/l2

# The driver for Debian 12's default kernel, 6.1: built from a copy of the
# sources (kbuild writes next to them), and a guest image with that kernel.
KDIR61 ?= $(lastword $(sort $(wildcard /usr/src/linux-headers-6.1.*-amd64)))
KREL61 = $(patsubst linux-headers-%,%,$(notdir $(KDIR61)))
DRIVER61 := $(BUILD)/driver-6.1
driver-6.1: $(BUILD)/.deps-ok
	@test -n "$(KDIR61)" || { echo "make: no Linux 6.1 headers in /usr/src (scripts/install-deps.sh)"; exit 1; }
	@mkdir -p $(DRIVER61)
	cp guest-driver/Kbuild guest-driver/*.c guest-driver/*.h $(DRIVER61)/
	rm -f $(DRIVER61)/selfvirt.mod.c
	$(MAKE) -C $(KDIR61) M=$(DRIVER61) SELFVIRT_TOP=$(TOP) modules

guest-6.1: driver-6.1 tools
	SELFVIRT_TOOLS=$(UNIT_BUILD) scripts/build-guest.sh $(BUILD)/guest-6.1 $(DRIVER61)/selfvirt.ko $(KREL61)

# Guest tests in a 6.1 guest (not part of "make check": they double its time)
check-guest-6.1: qemu guest-6.1
	SELFVIRT_GUEST_DIR=$(BUILD)/guest-6.1 $(PYTHON) -m pytest -v -p no:cacheprovider tests/guest

check: all driver-6.1 lint check-unit check-qtest check-host check-guest

# The ecosystems' own checkers (scripts/lint.sh): the kernel's checkpatch
# --strict, kernel-doc, sparse and W=1 on the driver, QEMU's checkpatch on
# the device and its qtests, pyflakes on the Python, and the size limits
# (scripts/check-sizes.py).  Logs in build/lint.
lint: kselftest-image $(BUILD)/config.mk
	scripts/lint.sh $(KDIR) $(KSELFTEST)/src/linux-source-6.12 $(QEMU_SRC) $(BUILD)/lint

# The driver as a Debian package for DKMS, selfvirt-dkms (scripts/build-deb.sh,
# packaging/debian): build/deb/selfvirt-dkms_VERSION_all.deb
SELFVIRT_VERSION := $(shell sed -n "s/^ *version: '\([^']*\)',/\1/p" meson.build)
deb: $(BUILD)/.deps-ok
	scripts/build-deb.sh $(BUILD)/deb $(SELFVIRT_VERSION)

# The project's own meson build (meson.build): unit tests of the ABI and of
# the device's pure logic; the guest tools
UNIT_BUILD := $(BUILD)/meson
$(UNIT_BUILD)/build.ninja: meson.build $(BUILD)/.deps-ok
	@if test -d $(UNIT_BUILD)/meson-private; then \
	    meson setup --reconfigure $(UNIT_BUILD) $(TOP); \
	else \
	    meson setup $(UNIT_BUILD) $(TOP); \
	fi

tools: $(UNIT_BUILD)/build.ninja
	meson compile -C $(UNIT_BUILD)

check-unit: tools
	meson test -C $(UNIT_BUILD) --print-errorlogs

# The project's qtests, and QEMU's own introspection test over every device
check-qtest: qemu
	$(QEMU_BUILD)/pyvenv/bin/meson test -C $(QEMU_BUILD) --no-rebuild --print-errorlogs --suite selfvirt
	$(QEMU_BUILD)/pyvenv/bin/meson test -C $(QEMU_BUILD) --no-rebuild --print-errorlogs qtest-x86_64/device-introspect-test

# Host-side checks without a guest: QEMU under valgrind, the scripts' logic,
# the DKMS package built for each kernel (tests/host)
check-host: qemu deb
	$(PYTHON) -m pytest -v -p no:cacheprovider tests/host

# The guest image with the kernel's own driver selftests (test_kselftest.py),
# from Debian's linux-source of the guest kernel's version
KSELFTEST := $(BUILD)/kselftest
kselftest-image: guest
	scripts/build-kselftest.sh $(KSELFTEST) $(BUILD)/guest \
	    "$$(dpkg-deb -f $(BUILD)/guest/debs/linux-image-$(KREL)_*.deb Version)"

check-guest: qemu guest nested kselftest-image
	$(PYTHON) -m pytest -v -p no:cacheprovider tests/guest

# The design card's scenario (not in make check): VMS L2 VMs a side on
# vifs=VMS boards, each pinging, running iperf3 and exchanging a checked
# file through its own VIF with a VM on the other L1
VMS ?= 32
check-vms-32: qemu nested
	cd tests/guest && $(PYTHON) vms_at_scale.py --vms $(VMS)

# The board under real KVM (in make check too): two L2 VMs in an L1 with a
# selfvirt-nic each, with the KVM fast paths (ioeventfd, irqfd) and without
check-kvm: qemu nested
	$(PYTHON) -m pytest -v -s -p no:cacheprovider tests/guest/test_kvm.py

# Debug guest kernels (not in make check): Debian's linux-source-6.12 with
# KASAN, lockdep, KFENCE, UBSAN, kmemleak ... (kasan) or KCSAN (kcsan), the
# driver built against each, and the guest, L2, L1 and kselftest images on
# it (scripts/build-debug-kernel.sh).  check-kernel-debug runs the guest
# tests on both with 2 vCPUs; any kernel report fails a test.
KDEBUG := $(BUILD)/kernel-debug
KDEBUG_VARIANTS := kasan kcsan
kernel-debug-%: qemu guest kselftest-image tools
	scripts/build-debug-kernel.sh $(KDEBUG) $* $(BUILD)/guest
	@mkdir -p $(KDEBUG)/$*/driver
	cp guest-driver/Kbuild guest-driver/*.c guest-driver/*.h $(KDEBUG)/$*/driver/
	rm -f $(KDEBUG)/$*/driver/selfvirt.mod.c
	$(MAKE) -C $(KDEBUG)/$*/obj M=$(KDEBUG)/$*/driver SELFVIRT_TOP=$(TOP) modules
	SELFVIRT_TOOLS=$(UNIT_BUILD) SELFVIRT_KERNEL_PKGS=$(KDEBUG)/$*/pkgs \
	    scripts/build-guest.sh $(KDEBUG)/$*/guest $(KDEBUG)/$*/driver/selfvirt.ko \
	    "$$(cat $(KDEBUG)/$*/krel)"
	scripts/build-l2.sh $(KDEBUG)/$*/l2 $(KDEBUG)/$*/guest
	scripts/build-nested.sh $(KDEBUG)/$*/nested $(KDEBUG)/$*/guest $(QEMU_BUILD) $(KDEBUG)/$*/l2
	scripts/build-kselftest.sh $(KDEBUG)/$*/kselftest $(KDEBUG)/$*/guest \
	    "$$(dpkg-deb -f $(BUILD)/guest/debs/linux-image-$(KREL)_*.deb Version)"

check-kernel-debug-%: kernel-debug-%
	SELFVIRT_GUEST_DIR=$(KDEBUG)/$*/guest SELFVIRT_NESTED_DIR=$(KDEBUG)/$*/nested \
	SELFVIRT_KSELFTEST_DIR=$(KDEBUG)/$*/kselftest SELFVIRT_GUEST_SMP=2 \
	SELFVIRT_STRESS_SECONDS=$(STRESS_SECONDS) \
	    $(PYTHON) -m pytest -v -p no:cacheprovider tests/guest

check-kernel-debug: $(addprefix check-kernel-debug-,$(KDEBUG_VARIANTS))
# targets without files, made through the patterns: nothing to delete after
.SECONDARY: $(addprefix kernel-debug-,$(KDEBUG_VARIANTS))

# Management in loops under traffic on a 2-vCPU guest (test_stress.py), for
# STRESS_SECONDS (make check runs them for 60 s)
STRESS_SECONDS ?= 60
check-stress: qemu guest
	SELFVIRT_STRESS_SECONDS=$(STRESS_SECONDS) $(PYTHON) -m pytest -v -s \
	    -p no:cacheprovider tests/guest/test_stress.py

# A hostile user of an mdev VIF (selfvirt-mdev-fuzz) and random management
# calls, with other VIFs' traffic checked, for FUZZ_MDEV_SECONDS (make check
# runs it for 30 s).  SELFVIRT_GUEST_DIR picks the guest image.
FUZZ_MDEV_SECONDS ?= 600
fuzz-mdev: qemu guest
	SELFVIRT_FUZZ_SECONDS=$(FUZZ_MDEV_SECONDS) $(PYTHON) -m pytest -v -s \
	    -p no:cacheprovider tests/guest/test_mdev_fuzz.py

# The qtests and guest tests against a second QEMU built with ASan and
# UBSan (build/qemu-san; not part of "make check": a build of its own)
QEMU_SAN := $(BUILD)/qemu-san
SAN_ENV := ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=0 \
	UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1
check-sanitizers: $(BUILD)/config.mk guest nested
	scripts/build-qemu-variant.sh sanitizers $(QEMU_SRC) $(QEMU_SAN)
	$(QEMU_SAN)/pyvenv/bin/meson test -C $(QEMU_SAN) --no-rebuild --print-errorlogs --suite selfvirt
	$(SAN_ENV) SELFVIRT_QEMU=$(QEMU_SAN)/qemu-system-x86_64 \
	    $(PYTHON) -m pytest -v -p no:cacheprovider tests/guest

# The guest tests against the sanitized QEMU in Debian 12's 6.1 guest
check-sanitizers-6.1: $(BUILD)/config.mk guest-6.1 nested
	scripts/build-qemu-variant.sh sanitizers $(QEMU_SRC) $(QEMU_SAN)
	$(SAN_ENV) SELFVIRT_QEMU=$(QEMU_SAN)/qemu-system-x86_64 \
	    SELFVIRT_GUEST_DIR=$(BUILD)/guest-6.1 \
	    $(PYTHON) -m pytest -v -p no:cacheprovider tests/guest

# The qtests against a QEMU built with ThreadSanitizer (build/qemu-tsan,
# QEMU's own recipe and suppressions): races between the board's engine
# threads, the main loop and the qtest accelerator.  A report on the
# device's own state fails it; the rest are counted (scripts/tsan-reports.py).
QEMU_TSAN := $(BUILD)/qemu-tsan
TSAN_LOG := $(BUILD)/tsan/report
TSAN_SUPP := $(BUILD)/tsan/suppressions
TSAN_ENV := TSAN_OPTIONS="suppressions=$(TSAN_SUPP) \
	detect_deadlocks=false history_size=7 exitcode=0 log_path=$(TSAN_LOG)"
SELFVIRT_QTESTS := selfvirt-test selfvirt-isolation-test selfvirt-migration-test
check-tsan: qemu
	scripts/build-qemu-variant.sh tsan $(QEMU_SRC) $(QEMU_TSAN)
	rm -rf $(dir $(TSAN_LOG)) && mkdir -p $(dir $(TSAN_LOG))
	cat $(QEMU_SRC)/tests/tsan/suppressions.tsan tests/qtest/selfvirt-tsan.supp \
	    > $(TSAN_SUPP)
	for t in $(SELFVIRT_QTESTS); do \
	    $(TSAN_ENV) QTEST_QEMU_BINARY=$(QEMU_TSAN)/qemu-system-x86_64 \
	        $(QEMU_BUILD)/tests/qtest/selfvirt/$$t --tap -k || exit 1; \
	done
	$(PYTHON) scripts/tsan-reports.py $(TSAN_LOG)

# libFuzzer on selfvirt-nic (tests/qtest/selfvirt-fuzz.c) in a clang build
# with ASan and UBSan (build/qemu-fuzz); FUZZ_SECONDS long.  Crash inputs go
# to build/fuzz/crashes; replay one with FUZZ_ARGS=FILE.
FUZZ_SECONDS ?= 600
FUZZ_ARGS ?= -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/corpus \
	$(BUILD)/fuzz/seeds
QEMU_FUZZ := $(BUILD)/qemu-fuzz
fuzz: $(BUILD)/config.mk
	scripts/build-qemu-variant.sh fuzzing $(QEMU_SRC) $(QEMU_FUZZ)
	mkdir -p $(BUILD)/fuzz/corpus $(BUILD)/fuzz/crashes
	$(PYTHON) tests/qtest/selfvirt-fuzz-seeds.py $(BUILD)/fuzz/seeds
	$(SAN_ENV) $(QEMU_FUZZ)/qemu-fuzz-x86_64 --fuzz-target=selfvirt-nic-fuzz \
	    -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/crashes/ $(FUZZ_ARGS)

# QEMU's own generic-fuzz with the selfvirt-nic entry that the overlay adds
# to its configs (the CSR and MSI-X BARs, PCI config space; the SDRAM BAR is
# RAM, which generic-fuzz does not write: selfvirt-fuzz.c reaches it)
fuzz-generic: $(BUILD)/config.mk
	scripts/build-qemu-variant.sh fuzzing $(QEMU_SRC) $(QEMU_FUZZ)
	mkdir -p $(BUILD)/fuzz/generic-corpus $(BUILD)/fuzz/crashes
	$(SAN_ENV) $(QEMU_FUZZ)/qemu-fuzz-x86_64 \
	    --fuzz-target=generic-fuzz-selfvirt-nic -print_final_stats=1 \
	    -artifact_prefix=$(BUILD)/fuzz/crashes/ \
	    -max_total_time=$(FUZZ_SECONDS) $(BUILD)/fuzz/generic-corpus

demo: all
	$(PYTHON) tests/guest/demo.py

# Guest benchmark: selfvirt against QEMU's NIC models (about 15 minutes).
bench: all
	$(PYTHON) tests/guest/bench.py --runs 5 --seconds 5

# The same on tap devices in a Linux bridge (root), where virtio-net, igb,
# e1000e and selfvirt hand the host TSO frames whole, and selfvirt with the
# paper's receive copy (about 11 minutes).
bench-tap: all
	$(PYTHON) tests/guest/bench.py --runs 3 --seconds 5 --wire tap \
	    --models selfvirt,selfvirt-copy,virtio-net,igb,e1000e,e1000 \
	    --save $(BUILD)/bench-tap.json

# Two L2 VMs under KVM in an L1 guest, on taps in a bridge there: selfvirt
# against virtio-net with vhost off and on, igb and e1000e (about 13 minutes).
bench-kvm: qemu nested
	$(PYTHON) tests/guest/bench_kvm.py --runs 3 --seconds 5 --save $(BUILD)/bench-kvm.json

# The docs' tables made again from their stored results (docs/results/:
# the benchmarks' --save JSON, the experiment kit's CSVs and run.json);
# make check-host fails when one is stale
docs-tables:
	scripts/bench-table.py --update docs/benchmarks.md
	scripts/bench-table.py --update docs/experiments.md

# Where a ping's round trip goes, hop by hop, from the board's trace events
# of two guests, with every engine turn on the engine threads and with the
# defaults (about 2 minutes).  LATENCY_ARGS: --nested, --irq-mode msix, ...
bench-latency: all
	$(PYTHON) tests/guest/latency_trace.py --count 50 \
	    --board inline-wake-us=0 --board '' \
	    --save $(BUILD)/bench-latency.json $(LATENCY_ARGS)

# The paper's central experiment: L2 VMs on their own VIFs against L2 VMs
# behind an L1 bridge, 1, 2 and 4 at once (about 15 minutes).
bench-nested: all
	$(PYTHON) tests/guest/bench_nested.py --runs 3 --seconds 5 --vms 1,2,4 \
	    --save $(BUILD)/bench-nested.json

# The paper's section 4 and 5 experiments with L2 VMs as the guests: CSVs,
# figures and report.md in build/experiments (QUICK=1: a reduced set; times
# in docs/experiments.md).  EXPERIMENTS_ARGS adds run.py options (--setups
# for the namespaces, --vm-ns, --host-mem, --variant ...).
experiments: qemu guest nested
	$(PYTHON) tests/experiments/run.py --out $(BUILD)/experiments \
	    $(if $(QUICK),--quick) $(EXPERIMENTS_ARGS)

# The device as a patch series against pristine QEMU (scripts/qemu-patches.sh):
# build/qemu-patches/0000-cover-letter.patch, 0001-... for "git am"
QEMU_TARBALL = $(firstword $(wildcard $(TOP)/downloads/qemu_*.orig.tar.xz))
qemu-patches: $(BUILD)/config.mk
	scripts/qemu-patches.sh $(QEMU_TARBALL) $(BUILD)/qemu-patches

# Device benchmark without a guest: switch frames/s, idle CPU.
bench-device: qemu
	$(NINJA) -C $(QEMU_BUILD) tests/qtest/selfvirt/selfvirt-bench
	scripts/bench-device.py $(QEMU_BUILD) --save $(BUILD)/bench-device.json

clean:
	-$(MAKE) -C guest-driver KDIR=$(KDIR) clean
	rm -rf $(BUILD)/guest $(BUILD)/test-output

distclean:
	rm -rf $(BUILD)

.PHONY: check-kvm bench-kvm bench-tap docs-tables all deps configure-qemu qemu driver lint deb qemu-patches guest nested driver-6.1 guest-6.1 check-guest-6.1 check check-qtest check-host check-guest check-sanitizers check-sanitizers-6.1 check-tsan fuzz fuzz-mdev check-stress check-kernel-debug demo bench bench-latency bench-nested bench-device experiments clean distclean
