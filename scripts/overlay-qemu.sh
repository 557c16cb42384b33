#!/bin/sh
# Lay selfvirt into a QEMU source tree: symbolic links to the project's folders and a
# few appended lines.  Idempotent: every edit is checked for before it is made.
#   scripts/overlay-qemu.sh [--copy] PROJECT_DIR QEMU_SRC [PART...]
# PARTs, in this order by default:
#   device  hw/net/selfvirt, its Kconfig, meson and trace lines, MAINTAINERS
#   qtests  tests/qtest/selfvirt and its meson line
#   fuzz    the libFuzzer target and the generic-fuzz config entry
#   docs    docs/specs and docs/system/devices pages, with their index lines
#   fixes   the local build fixes of QEMU 10.0.2 (not for upstream)
# The default is device, qtests, fuzz and fixes: what the build needs.
# --copy copies the project's files instead of linking them (for a patch
# series: scripts/qemu-patches.sh).
set -eu
copy=false
if [ "${1:-}" = "--copy" ]; then
    copy=true
    shift
fi
top=$1
src=$2
shift 2
[ $# -gt 0 ] || set -- device qtests fuzz fixes

link() {  # link TARGET LINKNAME
    if [ -L "$2" ] && [ "$(readlink "$2")" = "$1" ]; then
        return
    fi
    [ -e "$2" ] && [ ! -L "$2" ] && { echo "overlay: $2 exists and is not our link" >&2; exit 1; }
    ln -sfn "$1" "$2"
}

copy_files() {  # copy_files DIR FILE...: the files, as they are in git
    mkdir -p "$1"
    dir=$1
    shift
    cp "$@" "$dir/"
}

append_once() {  # append_once FILE LINE
    grep -qxF "$2" "$1" || printf '%s\n' "$2" >> "$1"
}

# insert_after FILE ANCHOR LINE: LINE after the line ANCHOR, once
insert_after() {
    grep -qxF "$3" "$1" && return
    grep -qxF "$2" "$1" || { echo "overlay: no line '$2' in $1" >&2; exit 1; }
    awk -v a="$2" -v l="$3" '{ print } $0 == a { print l }' "$1" > "$1.tmp"
    mv "$1.tmp" "$1"
}

part_device() {
    if $copy; then
        copy_files "$src/hw/net/selfvirt" $(cd "$top" &&
            git ls-files --full-name hw/net/selfvirt | sed "s|^|$top/|")
    else
        link "$top/hw/net/selfvirt" "$src/hw/net/selfvirt"
    fi
    append_once "$src/hw/net/meson.build" "subdir('selfvirt')"
    # QEMU's segmentation and checksum helpers, shared with e1000e and igb
    append_once "$src/hw/net/meson.build" \
        "system_ss.add(when: 'CONFIG_SELFVIRT_PCI', if_true: files('net_tx_pkt.c'))"
    append_once "$src/hw/net/meson.build" \
        "system_ss.add(when: 'CONFIG_SELFVIRT_PCI', if_true: files('net_rx_pkt.c'))"
    append_once "$src/hw/net/Kconfig" "source selfvirt/Kconfig"
    # Trace events of a sub-directory must be listed in the top-level meson.build.
    insert_after "$src/meson.build" "    'hw/net'," "    'hw/net/selfvirt',"
    grep -q "^selfvirt-nic$" "$src/MAINTAINERS" ||
        sed -i 's|^igb$|selfvirt-nic\nS: Maintained\nF: hw/net/selfvirt/\nF: tests/qtest/selfvirt/\nF: docs/specs/selfvirt*.rst\nF: docs/system/devices/selfvirt.rst\n\nigb|' \
            "$src/MAINTAINERS"
}

part_qtests() {
    if $copy; then
        copy_files "$src/tests/qtest/selfvirt" $(cd "$top" &&
            git ls-files tests/qtest | grep -Ev 'fuzz|tsan' | sed "s|^|$top/|")
    else
        link "$top/tests/qtest" "$src/tests/qtest/selfvirt"
    fi
    append_once "$src/tests/qtest/meson.build" "subdir('selfvirt')"
}

part_fuzz() {
    $copy && copy_files "$src/tests/qtest/selfvirt" "$top/tests/qtest/selfvirt-fuzz.c"
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
}

part_docs() {
    copy_files "$src/docs/specs" "$top/docs/specs/selfvirt.rst" \
        "$top/docs/specs/selfvirt-input-checks.rst"
    copy_files "$src/docs/system/devices" "$top/docs/system/devices/selfvirt.rst"
    insert_after "$src/docs/specs/index.rst" "   ivshmem-spec" "   selfvirt"
    insert_after "$src/docs/specs/index.rst" "   selfvirt" "   selfvirt-input-checks"
    insert_after "$src/docs/system/device-emulation.rst" \
        "   devices/ivshmem-flat.rst" "   devices/selfvirt.rst"
}

part_fixes() {
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
}

for part in "$@"; do
    case "$part" in
    device|qtests|fuzz|docs|fixes) "part_$part" ;;
    *) echo "overlay: unknown part '$part'" >&2; exit 2 ;;
    esac
done
