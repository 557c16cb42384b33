#!/bin/sh
# Install every Debian package selfvirt needs to build QEMU, the guest image and the
# driver, and to run the tests.  Only Debian's archive is used (bookworm, -security,
# -backports).  Run as root; as another user it prints the commands instead.
set -eu

BPO_LIST=/etc/apt/sources.list.d/selfvirt-bookworm-backports.sources

# Build QEMU 10.0.2 (meson >= 1.5 and python3-pycotap come from bookworm-backports).
HOST_PKGS="build-essential pkg-config ninja-build libglib2.0-dev libpixman-1-dev
libslirp-dev flex bison python3-venv python3-setuptools ccache xz-utils cpio
dpkg-dev file kmod iproute2 ethtool python3-matplotlib python3-pytest
valgrind rsync bc libelf-dev libssl-dev sparse pyflakes3 dkms dh-dkms debhelper"
BPO_PKGS="meson python3-pycotap seabios qemu-system-data"
# The guest: Debian's 6.12 kernel headers (to build the module) and, downloaded only,
# the kernel image and the userland packed into the initramfs.
GUEST_PKGS="linux-headers-6.12-amd64 linux-headers-amd64 busybox-static iperf3 libiperf0 libsctp1
socat python3-yaml"

# --check: exit 0 when everything is installed (meson new enough), else 1.
if [ "${1:-}" = "--check" ]; then
    missing=""
    for p in $HOST_PKGS $GUEST_PKGS $BPO_PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
            missing="$missing $p"
    done
    v=$(dpkg-query -W -f='${Version}' meson 2>/dev/null || echo 0)
    dpkg --compare-versions "$v" ge 1.5 || missing="$missing meson(>=1.5)"
    if [ -n "$missing" ]; then
        echo "install-deps: missing:$missing"
        exit 1
    fi
    exit 0
fi

run() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    else
        echo "  sudo $*"
    fi
}

if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: not root; run these commands as root, then try again:"
fi

if [ ! -f "$BPO_LIST" ]; then
    if [ "$(id -u)" -eq 0 ]; then
        cat > "$BPO_LIST" <<'SRC'
Types: deb deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    else
        echo "  sudo sh -c 'printf \"Types: deb deb-src\\nURIs: http://deb.debian.org/debian\\nSuites: bookworm-backports\\nComponents: main\\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\\n\" > $BPO_LIST'"
    fi
fi

export DEBIAN_FRONTEND=noninteractive
run apt-get update -q
run apt-get install -y -q --no-install-recommends $HOST_PKGS $GUEST_PKGS
run apt-get install -y -q --no-install-recommends -t bookworm-backports $BPO_PKGS
[ "$(id -u)" -eq 0 ] || exit 1
