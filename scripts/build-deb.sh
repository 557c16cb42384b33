#!/bin/sh
# The driver as a Debian package, selfvirt-dkms, built with Debian's
# dh-dkms: its sources go to /usr/src/selfvirt-VERSION and DKMS builds
# them for each installed kernel with that kernel's headers.
#
#   scripts/build-deb.sh OUT_DIR VERSION
#
# Lays out OUT_DIR/selfvirt-VERSION/ (packaging/debian, a changelog of
# VERSION, and in src/ the driver's sources with the ABI header where the
# driver's Kbuild looks for it) and runs dpkg-buildpackage there; the
# package is OUT_DIR/selfvirt-dkms_VERSION_all.deb.
set -eu

mkdir -p "$1"
out=$(cd "$1" && pwd)
version=$2
top=$(cd "$(dirname "$0")/.." && pwd)
tree="$out/selfvirt-$version"

rm -rf "$tree" "$out"/selfvirt-dkms_*.deb "$out"/selfvirt_*
mkdir -p "$tree/src/hw/net/selfvirt"
cp -r "$top/packaging/debian" "$tree/"
# the driver's sources as they are in git: no build products
for f in "$top"/guest-driver/Kbuild "$top"/guest-driver/Makefile \
         "$top"/guest-driver/*.c "$top"/guest-driver/*.h; do
    case "$f" in *.mod.c) continue ;; esac
    cp "$f" "$tree/src/"
done
cp "$top/hw/net/selfvirt/selfvirt_abi.h" "$tree/src/hw/net/selfvirt/"

cat > "$tree/debian/changelog" <<EOF
selfvirt ($version) unstable; urgency=medium

  * Built from the selfvirt repository (scripts/build-deb.sh).

 -- selfvirt developers <selfvirt@localhost>  $(date -R)
EOF

(cd "$tree" && dpkg-buildpackage -us -uc -b) > "$out/build.log" 2>&1 ||
    { tail -30 "$out/build.log"; echo "build-deb: dpkg-buildpackage failed (log: $out/build.log)" >&2; exit 1; }
echo "build-deb: $out/selfvirt-dkms_${version}_all.deb"
