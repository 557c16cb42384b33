#!/bin/sh
# make qemu-patches: the device as a "git format-patch" series against
# pristine QEMU, in the order upstream reviews it: the device (with its
# Kconfig, meson and trace lines and a MAINTAINERS entry), its qtests, its
# fuzz targets, its documentation.  The local build fixes of the overlay are
# not in it.
#
#   scripts/qemu-patches.sh QEMU_TARBALL OUT_DIR
#
# Unpacks the tarball into OUT_DIR/tree, commits it as the base, lays each
# part in with scripts/overlay-qemu.sh --copy and commits it, and writes
# OUT_DIR/0000-cover-letter.patch, 0001-... there.  Apply the series with
# "git am OUT_DIR/00*.patch" on a QEMU tree of the same version.
set -eu

tarball=$1
mkdir -p "$2"
out=$(cd "$2" && pwd)
top=$(cd "$(dirname "$0")/.." && pwd)
tree="$out/tree"
say() { echo "qemu-patches: $*"; }

rm -rf "$out"/*.patch "$tree"
mkdir -p "$tree"
tar -xJf "$tarball" -C "$tree" --strip-components=1
version=$(cat "$tree/VERSION")
name=$(git -C "$top" config user.name || echo "selfvirt developers")
email=$(git -C "$top" config user.email || echo "selfvirt@localhost")
git -C "$tree" init -q
git -C "$tree" config user.name "$name"
git -C "$tree" config user.email "$email"
git -C "$tree" add -A
git -C "$tree" commit -q -m "QEMU $version"

commit_part() {  # commit_part PART SUBJECT BODY
    "$top/scripts/overlay-qemu.sh" --copy "$top" "$tree" "$1"
    git -C "$tree" add -A
    git -C "$tree" commit -q -s -m "$2" -m "$3"
}

commit_part device "hw/net: add selfvirt-nic, a self-virtualizing network card" \
"selfvirt-nic models the self-virtualizing NIC of Raj, Ganev, Schwan and
Xenidis, \"Scalable I/O Virtualization via Self-Virtualizing Devices\"
(2006): a board with many virtual interfaces (VIFs), each with its send
queue in the board's SDRAM BAR and its receive queue in guest memory
reached through a 64-entry window table, signalled through a 16-bit
interrupt identifier (or MSI-X), and switched on the board by engine
threads.  Each file models one part of the board; selfvirt_abi.h is the
register map shared with the Linux driver."

commit_part qtests "tests/qtest: selfvirt-nic register, isolation and migration tests" \
"Three qtests with libqos: every register and mailbox command with its
error paths, one VIF's guest unable to reach or stall another, and
migration with frames in flight.  selfvirt-bench measures frames per
second through the board's switch (meson test --benchmark)."

commit_part fuzz "tests/qtest/fuzz: selfvirt-nic targets" \
"A libFuzzer target that drives the CSR, doorbell and SDRAM BARs and the
mailbox, and a generic-fuzz entry for the CSR and MSI-X BARs."

commit_part docs "docs: selfvirt-nic register specification and user page" \
"docs/specs/selfvirt.rst is the register-level specification,
selfvirt-input-checks.rst lists how each guest-written value is checked,
and docs/system/devices/selfvirt.rst tells users how to run the device."

git -C "$tree" format-patch -q --cover-letter -o "$out" HEAD~4..HEAD
sed -i -e "s/\*\*\* SUBJECT HERE \*\*\*/hw\/net: selfvirt-nic, a self-virtualizing network card/" \
    -e "s/\*\*\* BLURB HERE \*\*\*/The device, its qtests, its fuzz targets and its documentation, against QEMU $version./" \
    "$out/0000-cover-letter.patch"
say "$(ls "$out"/*.patch | wc -l) files in $out, against QEMU $version"
