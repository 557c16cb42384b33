#!/bin/sh
# Lay selfvirt into a QEMU source tree: symbolic links to the project's folders and a
# few appended lines.  Idempotent: every edit is checked for before it is made.
#   scripts/overlay-qemu.sh PROJECT_DIR QEMU_SRC
set -eu
top=$1
src=$2

link() {  # link TARGET LINKNAME
    if [ -L "$2" ] && [ "$(readlink "$2")" = "$1" ]; then
        return
    fi
    [ -e "$2" ] && [ ! -L "$2" ] && { echo "overlay: $2 exists and is not our link" >&2; exit 1; }
    ln -sfn "$1" "$2"
}

append_once() {  # append_once FILE LINE
    grep -qxF "$2" "$1" || printf '%s\n' "$2" >> "$1"
}

link "$top/hw/net/selfvirt" "$src/hw/net/selfvirt"
link "$top/tests/qtest" "$src/tests/qtest/selfvirt"

append_once "$src/hw/net/meson.build" "subdir('selfvirt')"
# QEMU's segmentation and checksum helpers, shared with e1000e and igb
append_once "$src/hw/net/meson.build" \
    "system_ss.add(when: 'CONFIG_SELFVIRT_PCI', if_true: files('net_tx_pkt.c'))"
append_once "$src/hw/net/meson.build" \
    "system_ss.add(when: 'CONFIG_SELFVIRT_PCI', if_true: files('net_rx_pkt.c'))"
append_once "$src/hw/net/Kconfig" "source selfvirt/Kconfig"
append_once "$src/tests/qtest/meson.build" "subdir('selfvirt')"
# the project's libFuzzer target (only read by a --enable-fuzzing build)
append_once "$src/tests/qtest/fuzz/meson.build" \
    "specific_fuzz_ss.add(when: 'CONFIG_SELFVIRT_PCI', if_true: files('../selfvirt/selfvirt-fuzz.c'))"

# An entry in QEMU's generic-fuzz configs, beside igb's and e1000e's:
# generic-fuzz-selfvirt-nic, engines inline so that a crash input replays
fuzzcfg="$src/tests/qtest/fuzz/generic_fuzz_configs.h"
grep -q '"selfvirt-nic"' "$fuzzcfg" ||
    sed -i 's|^        .name = "cirrus-vga",$|        .name = "selfvirt-nic",\n        .args = "-M q35 -nodefaults -netdev user,id=net0 "\n        "-device selfvirt-nic,netdev=net0,vifs=4,sdram-size=16M,"\n        "x-engines-inline=on",\n        .objects = "selfvirt*",\n    },{\n        .name = "cirrus-vga",|' "$fuzzcfg"
grep -q '"selfvirt-nic"' "$fuzzcfg" ||
    { echo "overlay: could not add selfvirt-nic to $fuzzcfg" >&2; exit 1; }

# Trace events of a sub-directory must be listed in the top-level meson.build.
grep -q "'hw/net/selfvirt'," "$src/meson.build" ||
    sed -i "s|^    'hw/net',\$|    'hw/net',\n    'hw/net/selfvirt',|" "$src/meson.build"
grep -q "'hw/net/selfvirt'," "$src/meson.build" ||
    { echo "overlay: could not add hw/net/selfvirt to trace_events_subdirs" >&2; exit 1; }

# The Debian "+ds" tarball has no edk2 blobs: never try to unpack them.
sed -i 's/^    unpack_edk2_blobs = bzip2.found()$/    unpack_edk2_blobs = false/' "$src/meson.build"

# QEMU 10.0.2's TCG translates through a CPU's cached AddressSpaceDispatch,
# which RCU may free before that CPU's tcg_commit refreshes it: a SIGSEGV
# while Linux sizes PCI BARs with -smp 2 (QEMU issue 3040, fixed in 10.0.4
# by commit 2865bf1c57).  Until the tree is 10.0.4, read the current one.
phys="$src/system/physmem.c"
sed -i -e 's/= cpu->cpu_ases\[asidx\]\.memory_dispatch;$/= address_space_to_dispatch(cpu->cpu_ases[asidx].as);/' \
    -e 's/= cpuas->memory_dispatch;$/= address_space_to_dispatch(cpuas->as);/' "$phys"
! grep -qE '= (cpu->cpu_ases\[asidx\]\.|cpuas->)memory_dispatch;$' "$phys" ||
    { echo "overlay: could not fix the dispatch reads in $phys" >&2; exit 1; }
