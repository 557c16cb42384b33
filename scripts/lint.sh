#!/bin/sh
# make lint: each ecosystem's own checkers on the project's code, each run
# as that ecosystem runs it.  Any finding fails, except the stated ones.
#
#   scripts/lint.sh KDIR LINUX_SRC QEMU_SRC OUT_DIR
#
# KDIR: kernel headers to build the driver against (sparse, W=1);
# LINUX_SRC: a Linux source tree for scripts/checkpatch.pl and kernel-doc
# (make kselftest-image unpacks Debian's linux-source-6.12);
# QEMU_SRC: the QEMU tree for its scripts/checkpatch.pl.
set -eu

kdir=$1
lsrc=$2
qsrc=$3
mkdir -p "$4"
out=$(cd "$4" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
fail=0
say() { echo "lint: $*"; }
# check NAME CMD...: run a checker; it fails on a non-zero exit or on an
# output line matching $bad
check() {
    name=$1
    shift
    rc=0
    "$@" > "$out/$name.log" 2>&1 || rc=$?
    if [ $rc -ne 0 ] || grep -Eq "$bad" "$out/$name.log"; then
        say "$name: FAILED (exit $rc, log $out/$name.log)"
        { grep -E "$bad" "$out/$name.log" || tail -5 "$out/$name.log"; } |
            sed 's/^/    /'
        fail=1
    else
        say "$name: clean"
    fi
}

driver_src=$(ls guest-driver/*.c guest-driver/*.h | grep -v '\.mod\.c$')

# 1. The kernel's checkpatch, --strict as for a new driver.  Ignored:
#  - LINUX_VERSION_CODE, CONSTANT_COMPARISON: the driver builds for Linux
#    6.1 and 6.12 from one source, and "LINUX_VERSION_CODE < KERNEL_VERSION()"
#    is how an out-of-tree driver does that (an in-tree one would not);
#  - MACRO_ARG_UNUSED, MACRO_ARG_REUSE, MACRO_ARG_PRECEDENCE: the ABI
#    header's X-macro tables pass (id, name) and the names are wanted
#    alone; mdev.c's counter attributes paste their argument into names;
#    devlink_local.h's selfvirt_fmsg() needs its error only on 6.1;
#  - LONG_LINE_STRING: log messages are not split, so they can be grepped
#    (Documentation/process/coding-style.rst, section 2).
bad='(ERROR|WARNING|CHECK):'
check checkpatch-kernel perl "$lsrc/scripts/checkpatch.pl" --no-tree --strict \
    --terse --show-types --ignore \
    LINUX_VERSION_CODE,CONSTANT_COMPARISON,MACRO_ARG_UNUSED,MACRO_ARG_REUSE,MACRO_ARG_PRECEDENCE,LONG_LINE_STRING \
    -f $driver_src

# 2. kernel-doc on every comment that opens with /**
bad='warning|error'
check kernel-doc perl "$lsrc/scripts/kernel-doc" -none -Wall $driver_src

# 3. sparse (C=2: every file) and W=1, in one kbuild pass over a copy of
# the sources (kbuild writes next to them)
rm -rf "$out/driver"
mkdir -p "$out/driver"
cp guest-driver/Kbuild $driver_src "$out/driver/"
bad='warning:|error:'
check sparse-w1 make -C "$kdir" M="$out/driver" SELFVIRT_TOP="$top" C=2 W=1 modules

# 4. QEMU's checkpatch on the device and its qtests.  It has no --ignore,
# so the stated exceptions are filtered from its output, by file and
# message:
#  - "Macros with complex values" in selfvirt_abi.h and selfvirt.h: the
#    X-macro lists (SELFVIRT_BOARD_STATS, SELFVIRT_VIF_STATS, SELFVIRT_STAGES)
#    expand inside enum and array initialisers, where parentheses cannot go;
#  - "architecture specific defines" in selfvirt_abi.h: its __KERNEL__ test,
#    which lets the Linux driver include the same header.
qemu_checkpatch() {
    perl "$qsrc/scripts/checkpatch.pl" --no-tree --terse -f "$@" |
        grep -Ev '^total: |^$' |
        grep -Ev 'selfvirt(_abi)?\.h:[0-9]+: ERROR: Macros with complex values should be enclosed in parenthesis' |
        grep -Ev 'selfvirt_abi\.h:[0-9]+: WARNING: architecture specific defines should be avoided' ||
        true
}
bad='.'
check checkpatch-qemu qemu_checkpatch \
    hw/net/selfvirt/*.c hw/net/selfvirt/*.h tests/qtest/*.c tests/qtest/*.h

# 5. Python: pyflakes (unused imports and names, undefined names)
bad='.'
check pyflakes pyflakes3 $(find tests scripts -name '*.py' | sort)

# 6. The size limits: no .c file over 800 lines, no function over 80
bad='.'
check sizes /usr/bin/python3 scripts/check-sizes.py guest-driver hw/net/selfvirt

# 7. The device's layers call only downwards (docs/devel.md draws them)
bad='.'
check layers /usr/bin/python3 scripts/check-layers.py hw/net/selfvirt

exit $fail
