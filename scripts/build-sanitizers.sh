#!/bin/sh
# A second QEMU build with AddressSanitizer and UndefinedBehaviorSanitizer
# (gcc's), in build/qemu-san, from the same source tree and overlay as the
# main build.  Builds qemu-system-x86_64 and the project's qtests.
#   scripts/build-sanitizers.sh QEMU_SRC BUILD_DIR
set -eu
src=$1
out=$2
args="--target-list=x86_64-softmmu
--without-default-features
--enable-kvm
--enable-tcg
--enable-slirp
--disable-docs
--disable-download
--disable-install-blobs
--enable-asan
--enable-ubsan
--python=/usr/bin/python3"
stamp="$out/.selfvirt-configure-args"
want=$(printf '%s\n%s\n' "$src" "$args")
if [ ! -f "$out/build.ninja" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "sanitizers: configuring QEMU with ASan and UBSan in $out"
    rm -rf "$out" && mkdir -p "$out"
    # shellcheck disable=SC2086 # $args is a list of words on purpose
    (cd "$out" && "$src/configure" $args) > "$out.configure.log" 2>&1 ||
        { tail -30 "$out.configure.log"; exit 1; }
    printf '%s\n' "$want" > "$stamp"
fi
"$(dirname "$0")/link-firmware.sh" "$out"
echo "sanitizers: building (a first build takes about 15 minutes)"
ninja -C "$out" qemu-system-x86_64 tests/qtest/selfvirt/selfvirt-test \
    tests/qtest/selfvirt/selfvirt-isolation-test \
    tests/qtest/selfvirt/selfvirt-migration-test \
    tests/qtest/selfvirt/selfvirt-rate-test |
    awk '/^\[/ { n++; if (n % 100 == 0) { print; fflush() } next } { print; fflush() }'
