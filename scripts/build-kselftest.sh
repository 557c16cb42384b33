#!/bin/sh
# The guest image for the kernel's own driver selftests: the guest image,
# plus a second cpio archive (the kernel unpacks both) with
# tools/testing/selftests/drivers/net from Debian's linux-source-6.12 as
# "make install" lays it out, and what those tests run: python3 with
# python3-yaml, and socat.
#
#   scripts/build-kselftest.sh OUT_DIR GUEST_DIR KVER
#
# The linux-source package (its .deb, 150 MB) is fetched once with
# "apt-get download" into downloads/; only the few paths the selftests
# need are unpacked from its tarball.
set -eu

mkdir -p "$1"
out=$(cd "$1" && pwd)           # absolute: make -C runs elsewhere
guest=$2
kver=$3                         # the Debian package version, as the guest's
top=$(cd "$(dirname "$0")/.." && pwd)
downloads="$top/downloads"
say() { echo "build-kselftest: $*"; }

mkdir -p "$downloads"
deb=$(ls "$downloads"/linux-source-6.12_"$kver"_all.deb 2>/dev/null || true)
if [ -z "$deb" ]; then
    say "downloading linux-source-6.12 $kver from Debian"
    (cd "$downloads" && apt-get download -q -o APT::Sandbox::User=root \
        "linux-source-6.12=$kver" >/dev/null)
    deb=$(ls "$downloads"/linux-source-6.12_"$kver"_all.deb)
fi

# 1. The selftests, installed as the kernel's Makefile installs them.
src="$out/src/linux-source-6.12"
if [ ! -f "$out/src/.unpacked" ] || [ "$deb" -nt "$out/src/.unpacked" ]; then
    say "unpacking the selftests from $(basename "$deb")"
    rm -rf "$out/src"
    mkdir -p "$out/src"
    dpkg-deb --fsys-tarfile "$deb" |
        tar -xO ./usr/src/linux-source-6.12.tar.xz |
        tar -xJ -C "$out/src" linux-source-6.12/tools \
            linux-source-6.12/Documentation/netlink linux-source-6.12/scripts \
            linux-source-6.12/Makefile
    touch "$out/src/.unpacked"
fi
rm -rf "$out/install"
make -s -C "$src/tools/testing/selftests" TARGETS="drivers/net drivers/net/hw" \
    install INSTALL_PATH="$out/install" >/dev/null

# 2. The second archive: the tests in /opt/kselftest, python3, socat, and
# iputils' ping (busybox's takes no "-W0.5"), which only the guest needs.
if ! ls "$out"/debs/iputils-ping_*.deb >/dev/null 2>&1; then
    mkdir -p "$out/debs"
    (cd "$out/debs" && apt-get download -q -o APT::Sandbox::User=root \
        iputils-ping >/dev/null)
fi
rm -rf "$out/pkgs"
dpkg -x "$out"/debs/iputils-ping_*.deb "$out/pkgs"
root="$out/root"
rm -rf "$root"
mkdir -p "$root/opt" "$root/usr/bin" "$root/usr/lib/x86_64-linux-gnu" \
    "$root/usr/lib/python3/dist-packages"
cp -a "$out/install" "$root/opt/kselftest"
cp /usr/bin/python3.11 /usr/bin/socat "$out/pkgs/bin/ping" "$root/usr/bin/"
ln -s python3.11 "$root/usr/bin/python3"
# /bin/sh: dash, which the tests' shell commands find iproute2 and ping
# with; busybox's ash prefers its own applets to PATH
mkdir -p "$root/bin"
cp /bin/dash "$root/bin/sh"
cp /bin/bash "$root/bin/"     # the netns remote runs "bash -c"
# the standard library without what no test imports
(cd /usr/lib && tar -c --exclude=python3.11/test --exclude=python3.11/tkinter \
    --exclude=python3.11/idlelib --exclude=python3.11/lib2to3 \
    --exclude=python3.11/ensurepip --exclude=python3.11/pydoc_data \
    --exclude='python3.11/config-*' --exclude=python3.11/site-packages \
    --exclude=python3.11/distutils python3.11) | tar -x -C "$root/usr/lib"
cp -a /usr/lib/python3/dist-packages/yaml /usr/lib/python3/dist-packages/_yaml \
    "$root/usr/lib/python3/dist-packages/"
# their shared libraries that the guest image lacks
for f in "$root/usr/bin/python3.11" "$root/usr/bin/socat" "$root/usr/bin/ping" \
    "$root/bin/bash" \
    "$root"/usr/lib/python3.11/lib-dynload/*.so \
    "$root"/usr/lib/python3/dist-packages/yaml/*.so; do
    [ -e "$f" ] && ldd "$f" | awk '/=> \// { print $3 }'
done | sort -u | while read -r lib; do
    cp -Ln "$lib" "$root/usr/lib/x86_64-linux-gnu/"
done

(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out/kselftest.cpio.gz"
cat "$guest/initramfs.cpio.gz" "$out/kselftest.cpio.gz" > "$out/initramfs.cpio.gz.tmp"
mv "$out/initramfs.cpio.gz.tmp" "$out/initramfs.cpio.gz"
cp "$guest/vmlinuz" "$out/vmlinuz"
say "initramfs $out/initramfs.cpio.gz ($(du -h "$out/initramfs.cpio.gz" | cut -f1)): the guest image and the selftests"
