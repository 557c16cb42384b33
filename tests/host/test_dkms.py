"""The selfvirt-dkms package (make deb): its contents, and DKMS building it.

DKMS builds the packaged sources against each kernel whose headers the
setup installs: Linux 6.12 always, 6.1 where present.  It builds in trees
of the test's own (``--sourcetree``, ``--dkmstree``), so nothing is
installed; as for any DKMS package, DKMS makes its module signing key in
/var/lib/dkms the first time.
"""

import glob
import os
import re
import shutil
import subprocess

import pytest

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEB_DIR = os.path.join(TOP, 'build', 'deb')


def the_deb():
    debs = glob.glob(os.path.join(DEB_DIR, 'selfvirt-dkms_*_all.deb'))
    assert len(debs) == 1, f'one package in {DEB_DIR} (make deb): {debs}'
    return debs[0]


def unpacked(tmp_path):
    """The package's /usr/src/selfvirt-VERSION, unpacked under tmp_path."""
    root = tmp_path / 'root'
    subprocess.run(['dpkg-deb', '-x', the_deb(), str(root)], check=True)
    (src,) = glob.glob(str(root / 'usr' / 'src' / 'selfvirt-*'))
    return src


def kernels():
    """Kernel releases with headers: 6.12 (required) and 6.1 if present."""
    found = {}
    for build in sorted(glob.glob('/lib/modules/*/build')):
        krel = build.split('/')[3]
        for series in ('6.12', '6.1'):
            if krel.startswith(series + '.') and os.path.isdir(build):
                found.setdefault(series, krel)
    return found


def test_the_package_holds_the_sources_and_a_dkms_conf(tmp_path):
    info = subprocess.run(['dpkg-deb', '-f', the_deb(), 'Package', 'Depends'],
                          check=True, capture_output=True, text=True).stdout
    assert 'Package: selfvirt-dkms' in info
    assert 'dkms' in info, info
    src = unpacked(tmp_path)
    version = os.path.basename(src).split('-', 1)[1]
    conf = open(os.path.join(src, 'dkms.conf')).read()
    assert 'PACKAGE_NAME="selfvirt"' in conf
    assert f'PACKAGE_VERSION="{version}"' in conf
    files = {os.path.relpath(os.path.join(d, f), src)
             for d, _, fs in os.walk(src) for f in fs}
    sources = {os.path.basename(p) for p in
               glob.glob(os.path.join(TOP, 'guest-driver', '*.[ch]'))
               if not p.endswith('.mod.c')}
    assert sources <= files, sources - files
    assert 'hw/net/selfvirt/selfvirt_abi.h' in files
    built = [f for f in files if re.search(r'\.(o|ko|mod|mod\.c|cmd)$', f)]
    assert not built, built


@pytest.mark.skipif(not shutil.which('dkms'), reason='dkms missing')
@pytest.mark.parametrize('series', ['6.12', '6.1'])
def test_dkms_builds_the_module_for_the_kernel(tmp_path, series):
    krel = kernels().get(series)
    if series == '6.1' and not krel:
        pytest.skip('no Linux 6.1 headers here')
    assert krel, f'no Linux {series} headers in /lib/modules (install-deps.sh)'
    src = unpacked(tmp_path)
    name, version = os.path.basename(src).split('-', 1)
    tree = tmp_path / 'dkms'
    tree.mkdir()
    run = subprocess.run(['dkms', 'build', '-m', name, '-v', version,
                          '-k', krel, '--sourcetree', os.path.dirname(src),
                          '--dkmstree', str(tree)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
    (ko,) = glob.glob(str(tree / name / version / krel / '*' / 'module' /
                          'selfvirt.ko*'))
    modinfo = subprocess.run(['modinfo', ko], check=True, capture_output=True,
                             text=True).stdout
    assert re.search(r'^vermagic:\s+' + re.escape(krel) + ' ', modinfo, re.M)
    # the board's and the VIF function's PCI drivers
    for device in ('10F0', '10F1'):
        assert f'pci:v00001AF4d0000{device}' in modinfo, modinfo
