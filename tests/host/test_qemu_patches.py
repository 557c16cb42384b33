"""make qemu-patches: the device as a patch series that "git am" applies.

The series is written against Debian's pristine QEMU tarball (the one
./configure fetched) and applied to a second pristine tree; the applied
tree must then hold the project's device, qtests and docs exactly.
"""

import filecmp
import glob
import os
import subprocess

TOP = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SUBJECTS = ['hw/net: add selfvirt-nic', 'tests/qtest: selfvirt-nic',
            'tests/qtest/fuzz: selfvirt-nic', 'docs: selfvirt-nic']


def git(tree, *args):
    return subprocess.run(['git', '-C', str(tree), '-c', 'user.name=t',
                           '-c', 'user.email=t@t', *args], check=True,
                          capture_output=True, text=True).stdout


def test_the_series_applies_to_pristine_qemu_and_holds_the_device(tmp_path):
    (tarball,) = glob.glob(os.path.join(TOP, 'downloads', 'qemu_*.orig.tar.xz'))
    out = tmp_path / 'series'
    subprocess.run([os.path.join(TOP, 'scripts', 'qemu-patches.sh'), tarball,
                    str(out)], check=True, capture_output=True)
    patches = sorted(glob.glob(str(out / '000[1-9]-*.patch')))
    assert len(patches) == len(SUBJECTS)
    for patch, subject in zip(patches, SUBJECTS):
        text = open(patch).read()
        assert subject in text, (patch, subject)
        assert 'Signed-off-by: ' in text
    assert (out / '0000-cover-letter.patch').exists()

    tree = tmp_path / 'qemu'
    tree.mkdir()
    subprocess.run(['tar', '-xJf', tarball, '-C', str(tree),
                    '--strip-components=1'], check=True)
    git(tree, 'init', '-q')
    git(tree, 'add', '-A')
    git(tree, 'commit', '-q', '-m', 'pristine')
    git(tree, 'am', *patches)
    assert git(tree, 'status', '--porcelain') == ''
    tracked = git(TOP, 'ls-files', 'hw/net/selfvirt', 'tests/qtest').split()
    for path in tracked:
        name = os.path.basename(path)
        if path.startswith('tests/qtest/'):
            if 'tsan' in name or name.endswith('.py'):
                continue        # the project's tools, not for upstream
            applied = tree / 'tests' / 'qtest' / 'selfvirt' / name
        else:
            applied = tree / path
        assert filecmp.cmp(os.path.join(TOP, path), applied, shallow=False), path
    for doc in ('docs/specs/selfvirt.rst', 'docs/system/devices/selfvirt.rst'):
        assert filecmp.cmp(os.path.join(TOP, doc), tree / doc, shallow=False)
    maintainers = open(tree / 'MAINTAINERS').read()
    assert 'selfvirt-nic\nS: Maintained\nF: hw/net/selfvirt/\n' in maintainers
