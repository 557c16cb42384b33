#!/bin/sh
# The Debian "+ds" QEMU source has no firmware.  QEMU run from its build
# directory looks for it in qemu-bundle/ there: link Debian's SeaBIOS and
# option ROMs (packages seabios, qemu-system-data) into it.
#   scripts/link-firmware.sh QEMU_BUILD_DIR
set -eu
datadir="$1/qemu-bundle/usr/local/share/qemu"
mkdir -p "$datadir"
for blob in /usr/share/seabios/*.bin /usr/share/qemu/*.bin; do
    [ -e "$blob" ] || continue
    dest="$datadir/$(basename "$blob")"
    [ -e "$dest" ] || ln -s "$blob" "$dest"
done
[ -e "$datadir/bios-256k.bin" ] || {
    echo "link-firmware: no SeaBIOS; install Debian's seabios (scripts/install-deps.sh)" >&2
    exit 1
}
