#!/bin/sh
# Build the guest image: Debian's 6.12 kernel and a small initramfs with
# busybox, iperf3, iproute2 (ip, devlink), ethtool, QEMU's guest agent, mdevctl,
# a few stock modules (bridge, peer NICs, VFIO and mdev) and the project's own
# module.
#
#   scripts/build-guest.sh OUT_DIR MODULE.ko KREL
#
# Packages not wanted on the build machine (the guest kernel image, the
# guest agent, mdevctl) are fetched with "apt-get download" from Debian's archive and
# unpacked with dpkg -x into OUT_DIR/pkgs; nothing else is downloaded.
# SELFVIRT_KERNEL_PKGS: take the kernel and its modules from that tree (laid
# out as an unpacked linux-image package: build-debug-kernel.sh) instead.
set -eu

out=$1
module=$2
krel=$3
top=$(cd "$(dirname "$0")/.." && pwd)

debs="$out/debs"
pkgs="$out/pkgs"
root="$out/root"
mkdir -p "$debs" "$pkgs"

say() { echo "build-guest: $*"; }

# 1. Guest-only packages, fetched once.
kpkgs=${SELFVIRT_KERNEL_PKGS:-}
image="linux-image-$krel"
[ -z "$kpkgs" ] || image=
for p in $image qemu-guest-agent libnuma1 liburing2 mdevctl; do
    if ! ls "$debs/${p}_"*.deb >/dev/null 2>&1; then
        say "downloading $p from Debian"
        (cd "$debs" && apt-get download -q -o APT::Sandbox::User=root "$p" >/dev/null)
    fi
done
stamp="$pkgs/.unpacked"
if [ ! -f "$stamp" ] || [ -n "$(find "$debs" -newer "$stamp" -name '*.deb')" ]; then
    say "unpacking guest packages"
    for d in "$debs"/*.deb; do
        dpkg -x "$d" "$pkgs"
    done
    touch "$stamp"
fi
kpkgs=${kpkgs:-$pkgs}
kernel="$kpkgs/boot/vmlinuz-$krel"
[ -f "$kernel" ] || { echo "build-guest: no $kernel" >&2; exit 1; }
cp "$kernel" "$out/vmlinuz"

# 2. The initramfs tree.
rm -rf "$root"
mkdir -p "$root/bin" "$root/lib" "$root/lib64" "$root/etc" "$root/proc" \
    "$root/sys" "$root/dev" "$root/run" "$root/tmp" "$root/root" \
    "$root/var/run" "$root/usr/lib/x86_64-linux-gnu" "$root/usr/bin"
ln -s lib "$root/usr/lib64" 2>/dev/null || true
cp /bin/busybox "$root/bin/busybox"
for prog in /usr/bin/iperf3 /bin/ip /usr/sbin/ethtool /usr/sbin/devlink \
    "$pkgs/usr/sbin/qemu-ga" \
    "$pkgs/usr/bin/mdevctl"; do
    cp "$prog" "$root/usr/bin/"   # /usr/bin: ahead of busybox's applets
done
# the project's guest tools, from its meson build ("make tools"): the
# user-space VFIO test of an mdev VIF (test_mdev.py, and the kit's Figs.
# 5, 9 and 10) and its fuzzer (test_mdev_fuzz.py), the paper's latency
# probe over packet sockets and the CPU-to-CPU ping-pong (the experiment kit)
tools=${SELFVIRT_TOOLS:?build-guest: set SELFVIRT_TOOLS to the meson build (make tools)}
for tool in selfvirt-vfio selfvirt-mdev-fuzz psapp cpu-pingpong; do
    cp "$tools/$tool" "$root/usr/bin/"
done

# Shared libraries of those programs, from the guest packages first, else the
# build machine (the same Debian release).
libpath="$pkgs/usr/lib/x86_64-linux-gnu:$pkgs/lib/x86_64-linux-gnu"
for prog in "$root"/usr/bin/*; do
    LD_LIBRARY_PATH=$libpath ldd "$prog" | awk '/=> \// { print $3 } /^\t\/lib64/ { print $1 }'
done | sort -u | while read -r lib; do
    case "$lib" in
    */ld-linux-x86-64.so.2) cp -L "$lib" "$root/lib64/" ;;
    *) cp -L "$lib" "$root/usr/lib/x86_64-linux-gnu/" ;;
    esac
done

# 3. Kernel modules: stock ones with their dependencies, and ours.
moddir="$root/lib/modules/$krel"
mkdir -p "$moddir/extra"
# virtio_pci and virtio_console are modules in 6.1 (built in in 6.12)
stock="bridge 8021q veth e1000 e1000e igb 8139too 8139cp virtio_net virtio_pci virtio_console
    vfio vfio_iommu_type1 mdev kvm kvm_amd tun vhost_net"
depmod -b "$kpkgs" "$krel"
for m in $stock; do
    modprobe -d "$kpkgs" -S "$krel" --show-depends "$m" | awk '$1 == "insmod" { print $2 }'
done | sort -u | while read -r ko; do
    rel=${ko#"$kpkgs/lib/modules/$krel/"}
    mkdir -p "$moddir/$(dirname "$rel")"
    case "$ko" in
    *.xz) xz -dc "$ko" > "$moddir/${rel%.xz}" ;;
    *) cp "$ko" "$moddir/$rel" ;;
    esac
done
cp "$module" "$moddir/extra/"
cp "$kpkgs/lib/modules/$krel/modules.order" "$kpkgs/lib/modules/$krel/modules.builtin" \
    "$kpkgs/lib/modules/$krel/modules.builtin.modinfo" "$moddir/" 2>/dev/null || true
depmod -b "$root" "$krel"

cp "$top/tests/guest/init" "$root/init"
chmod +x "$root/init"
ln -s /proc/mounts "$root/etc/mtab"
# mdevctl's definitions and script folders (its package's postinst makes them)
mkdir -p "$root/etc/mdevctl.d/scripts.d/callouts" \
    "$root/etc/mdevctl.d/scripts.d/notifiers" \
    "$root/usr/lib/mdevctl/scripts.d/callouts" \
    "$root/usr/lib/mdevctl/scripts.d/notifiers"
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
say "kernel $out/vmlinuz ($krel), initramfs $out/initramfs.cpio.gz ($(du -h "$out/initramfs.cpio.gz" | cut -f1))"
