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
QEMU_TARGETS := qemu-system-x86_64 tests/qtest/selfvirt/selfvirt-test

-include $(BUILD)/config.mk

all: qemu driver guest

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

guest: driver
	scripts/build-guest.sh $(BUILD)/guest $(MODULE) $(KREL)

check: all check-qtest check-guest

check-qtest: qemu
	$(QEMU_BUILD)/pyvenv/bin/meson test -C $(QEMU_BUILD) --no-rebuild --print-errorlogs --suite selfvirt

check-guest: qemu guest
	$(PYTHON) -m pytest -v -p no:cacheprovider tests/guest

demo: all
	$(PYTHON) tests/guest/demo.py

# Guest benchmark: selfvirt against QEMU's NIC models (about 15 minutes).
bench: all
	$(PYTHON) tests/guest/bench.py --runs 5 --seconds 5

# Device benchmark without a guest: switch frames/s, idle CPU.
bench-device: qemu
	$(NINJA) -C $(QEMU_BUILD) tests/qtest/selfvirt/selfvirt-bench
	$(QEMU_BUILD)/pyvenv/bin/meson test -C $(QEMU_BUILD) --no-rebuild --benchmark \
	    --suite selfvirt --verbose

clean:
	-$(MAKE) -C guest-driver KDIR=$(KDIR) clean
	rm -rf $(BUILD)/guest $(BUILD)/test-output

distclean:
	rm -rf $(BUILD)

.PHONY: all deps configure-qemu qemu driver guest check check-qtest check-guest demo bench bench-device clean distclean
