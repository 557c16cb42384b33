#!/bin/sh
# Build the L1 image of the nested tests: the guest image (build-guest.sh)
# plus what L1 needs to run an L2 VM on a VIF of its board: the project's
# own qemu-system-x86_64 with its shared libraries and firmware, and the
# L2 image (build-l2.sh) as L2's kernel and initramfs.  KVM, VFIO, mdev,
# tun and vhost-net modules are in the guest image already.
#
#   scripts/build-nested.sh OUT_DIR GUEST_DIR QEMU_BUILD_DIR L2_DIR
set -eu

out=$1
guest=$2
qemu_build=$3
l2=$4
root="$out/root"

[ -d "$guest/root" ] || { echo "build-nested: no $guest/root (make guest)" >&2; exit 1; }
rm -rf "$root"
mkdir -p "$out"
cp -a "$guest/root" "$root"
mkdir -p "$root/usr/share/qemu" "$root/l2"

strip -o "$root/usr/bin/qemu-system-x86_64" "$qemu_build/qemu-system-x86_64"
ldd "$root/usr/bin/qemu-system-x86_64" | awk '/=> \// { print $3 }' |
while read -r lib; do
    cp -L "$lib" "$root/usr/lib/x86_64-linux-gnu/"
done
# SeaBIOS and the option ROMs, from Debian's packages (link-firmware.sh)
for blob in "$qemu_build"/qemu-bundle/usr/local/share/qemu/*.bin; do
    cp -L "$blob" "$root/usr/share/qemu/"
done
cp "$l2/vmlinuz" "$l2/initramfs.cpio.gz" "$root/l2/"

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
cp "$guest/vmlinuz" "$out/vmlinuz"
echo "build-nested: L1 image $out/initramfs.cpio.gz ($(du -h "$out/initramfs.cpio.gz" | cut -f1))"
