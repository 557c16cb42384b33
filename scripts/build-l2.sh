#!/bin/sh
# Build the L2 VMs' image: the smallest initramfs that an L2 VM of the
# nested tests and experiments needs, taken from the guest image
# (build-guest.sh): busybox, QEMU's guest agent (the harness drives L2
# through it), iproute2's ip, ethtool, iperf3, psapp, the selfvirt module
# and virtio_net (the bridged L2 VMs), igb and e1000e (bench_kvm.py), with
# their libraries and modules.
# An L2 VM unpacks it into its own RAM, so every MiB left out is a MiB
# less per VM.
#
#   scripts/build-l2.sh OUT_DIR GUEST_DIR
set -eu

out=$1
guest=$2
src="$guest/root"
root="$out/root"

[ -d "$src" ] || { echo "build-l2: no $src (make guest)" >&2; exit 1; }
krel=$(ls "$src/lib/modules")
rm -rf "$root"
mkdir -p "$root/bin" "$root/lib64" "$root/etc" "$root/proc" "$root/sys" \
    "$root/dev" "$root/run" "$root/tmp" "$root/root" "$root/var/run" \
    "$root/usr/bin" "$root/usr/lib/x86_64-linux-gnu"
ln -s lib "$root/usr/lib64"

cp "$src/bin/busybox" "$root/bin/"
for prog in qemu-ga ip ethtool iperf3 psapp selfvirt-vfio; do
    cp "$src/usr/bin/$prog" "$root/usr/bin/"
done
# their libraries, as the guest image has them
libs="$src/usr/lib/x86_64-linux-gnu"
for prog in "$root"/usr/bin/*; do
    LD_LIBRARY_PATH=$libs ldd "$prog" | awk '/=> \// { print $3 }'
done | sort -u | while read -r lib; do
    cp -L "$libs/$(basename "$lib")" "$root/usr/lib/x86_64-linux-gnu/"
done
cp -L "$src"/lib64/ld-linux-x86-64.so.2 "$root/lib64/"

# the module, virtio_net, and what they need
mods="$root/lib/modules/$krel"
mkdir -p "$mods"
for m in selfvirt virtio_net igb e1000e; do
    modprobe -d "$src" -S "$krel" --show-depends "$m" |
        awk '$1 == "insmod" { print $2 }'
done | sort -u | while read -r ko; do
    rel=${ko#"$src/lib/modules/$krel/"}
    mkdir -p "$mods/$(dirname "$rel")"
    cp "$ko" "$mods/$rel"
done
for f in modules.order modules.builtin modules.builtin.modinfo; do
    [ -f "$src/lib/modules/$krel/$f" ] && cp "$src/lib/modules/$krel/$f" "$mods/"
done
# the module without its debug information (3.5 of its 3.8 MB)
strip --strip-debug "$mods"/extra/*.ko
depmod -b "$root" "$krel"

cp "$src/init" "$root/init"
cp -P "$src/etc/mtab" "$src/etc/passwd" "$src/etc/group" "$root/etc/"

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
cp "$guest/vmlinuz" "$out/vmlinuz"
echo "build-l2: L2 image $out/initramfs.cpio.gz ($(du -h "$out/initramfs.cpio.gz" | cut -f1);" \
    "$(du -sh "$root" | cut -f1) unpacked)"
