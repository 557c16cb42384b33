#!/bin/sh
# Build a debug guest kernel from Debian's linux-source-6.12: Debian's own
# configuration of the guest kernel, its modules trimmed to those the
# guests load (localmodconfig), with the checkers of one VARIANT:
#
#   kasan: KASAN, lockdep (PROVE_LOCKING), DEBUG_ATOMIC_SLEEP,
#          DEBUG_OBJECTS, KFENCE, UBSAN, kmemleak
#   kcsan: KCSAN (it cannot share a build with KASAN), DEBUG_ATOMIC_SLEEP
#
#   scripts/build-debug-kernel.sh OUT_DIR VARIANT GUEST_DIR
#
# GUEST_DIR is the normal guest image's build (make guest): its unpacked
# Debian kernel package gives the configuration and the list of modules.
# Writes OUT_DIR/VARIANT/pkgs/{boot/vmlinuz-KREL,lib/modules/KREL} (the
# layout of an unpacked linux-image package) and OUT_DIR/VARIANT/krel; the
# build tree OUT_DIR/VARIANT/obj is the KDIR of the project's module.
# Compiles through ccache when it is installed.
set -eu

mkdir -p "$1"
out=$(cd "$1" && pwd)
variant=$2
guest=$(cd "$3" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
say() { echo "build-debug-kernel: $*"; }

case "$variant" in
kasan|kcsan) ;;
*) echo "build-debug-kernel: VARIANT is kasan or kcsan, not '$variant'" >&2
   exit 2 ;;
esac
config=$(ls "$guest"/pkgs/boot/config-* 2>/dev/null | head -n 1)
[ -n "$config" ] || { echo "build-debug-kernel: no kernel config in $guest/pkgs/boot (make guest)" >&2; exit 1; }
deb=$(ls "$top"/downloads/linux-source-6.12_*_all.deb 2>/dev/null | tail -n 1)
[ -n "$deb" ] || { echo "build-debug-kernel: no linux-source-6.12 .deb in downloads/ (make kselftest-image fetches it)" >&2; exit 1; }

# 1. The whole source tree, unpacked once for both variants.
src="$out/src/linux-source-6.12"
if [ ! -f "$out/src/.unpacked" ] || [ "$deb" -nt "$out/src/.unpacked" ]; then
    say "unpacking $(basename "$deb")"
    rm -rf "$out/src"
    mkdir -p "$out/src"
    dpkg-deb --fsys-tarfile "$deb" |
        tar -xO ./usr/src/linux-source-6.12.tar.xz | tar -xJ -C "$out/src"
    touch "$out/src/.unpacked"
fi

# 2. The configuration: Debian's, trimmed to the modules the guest images
# carry (their lsmod, as localmodconfig reads it), then the variant's.
obj="$out/$variant/obj"
mkdir -p "$obj"
find "$guest/root/lib/modules" -name '*.ko' -printf '%f\n' |
    sed 's/\.ko$//; s/-/_/g; s/$/ 0 0/' > "$obj/lsmod"
cp "$config" "$obj/.config"
make -s -C "$src" O="$obj" olddefconfig
make -s -C "$src" O="$obj" LSMOD="$obj/lsmod" localmodconfig </dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" \
    "$top/scripts/debug-kernel/common.config" \
    "$top/scripts/debug-kernel/$variant.config" >/dev/null
make -s -C "$src" O="$obj" olddefconfig
# every option asked for must have survived olddefconfig's dependencies
for frag in common "$variant"; do
    grep -E '^CONFIG_[A-Z0-9_]+=' "$top/scripts/debug-kernel/$frag.config" |
    while read -r want; do
        grep -qx "$want" "$obj/.config" ||
            { echo "build-debug-kernel: $want did not take (see $obj/.config)" >&2; exit 1; }
    done
done

# 3. Build and install into a package-like tree.
cc=gcc
command -v ccache >/dev/null && cc="ccache gcc"
start=$(date +%s)
say "building the $variant kernel in $obj ($(nproc) jobs)"
make -s -C "$src" O="$obj" CC="$cc" -j"$(nproc)" bzImage modules
krel=$(make -s -C "$src" O="$obj" kernelrelease)
pkgs="$out/$variant/pkgs"
rm -rf "$pkgs"
mkdir -p "$pkgs/boot"
cp "$obj/arch/x86/boot/bzImage" "$pkgs/boot/vmlinuz-$krel"
cp "$obj/.config" "$pkgs/boot/config-$krel"
make -s -C "$src" O="$obj" INSTALL_MOD_PATH="$pkgs" INSTALL_MOD_STRIP=1 \
    DEPMOD=true modules_install
echo "$krel" > "$out/$variant/krel"
say "$variant kernel $krel built in $(( $(date +%s) - start )) s"
