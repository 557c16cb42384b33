#!/bin/sh
# A second QEMU build from the same source tree and overlay as the main
# one, for checking: "sanitizers" (gcc's ASan and UBSan), "fuzzing"
# (clang, libFuzzer, ASan and UBSan) or "tsan" (gcc's ThreadSanitizer,
# the races between the board's engine threads).  Builds what that
# variant needs.
#   scripts/build-qemu-variant.sh sanitizers|fuzzing|tsan QEMU_SRC BUILD_DIR
set -eu
variant=$1
src=$(cd "$2" && pwd)
mkdir -p "$3"
out=$(cd "$3" && pwd)
common="--target-list=x86_64-softmmu
--without-default-features
--enable-kvm
--enable-tcg
--enable-slirp
--enable-tpm
--disable-docs
--disable-download
--disable-install-blobs
--python=/usr/bin/python3"
asan_ubsan="--enable-asan
--enable-ubsan"
qtests="tests/qtest/selfvirt/selfvirt-test
        tests/qtest/selfvirt/selfvirt-isolation-test
        tests/qtest/selfvirt/selfvirt-migration-test"
case $variant in
sanitizers)
    args="$common
$asan_ubsan"
    cc=
    targets="qemu-system-x86_64 $qtests"
    ;;
fuzzing)
    command -v clang >/dev/null || {
        echo "fuzzing needs clang and libFuzzer: apt-get install clang" >&2
        exit 1
    }
    args="$common
$asan_ubsan
--cc=clang
--cxx=clang++
--enable-fuzzing"
    targets=qemu-fuzz-x86_64
    ;;
tsan)
    # QEMU's own recipe (docs/devel/testing/main.rst), with gcc (libtsan2
    # comes with it): -O0 keeps every access the source makes
    args="$common
--enable-tsan
--disable-werror
--extra-cflags=-O0"
    # the main build's qtest binaries drive it: races in QEMU are the point
    targets=qemu-system-x86_64
    ;;
*)
    echo "build-qemu-variant: unknown variant '$variant'" >&2
    exit 1
    ;;
esac
stamp="$out/.selfvirt-configure-args"
want=$(printf '%s\n%s\n' "$src" "$args")
if [ ! -f "$out/build.ninja" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "$variant: configuring QEMU in $out"
    rm -rf "$out" && mkdir -p "$out"
    # shellcheck disable=SC2086 # $args is a list of words on purpose
    (cd "$out" && "$src/configure" $args) > "$out.configure.log" 2>&1 ||
        { tail -30 "$out.configure.log"; exit 1; }
    printf '%s\n' "$want" > "$stamp"
fi
"$(dirname "$0")/link-firmware.sh" "$out"
echo "$variant: building (a first build takes about 15 minutes)"
# shellcheck disable=SC2086
{ ninja -C "$out" $targets; echo $? > "$out/.ninja-rc"; } |
    awk '/^\[/ { n++; if (n % 100 == 0) { print; fflush() } next } { print; fflush() }'
exit "$(cat "$out/.ninja-rc")"
