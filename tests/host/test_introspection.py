"""selfvirt-nic under valgrind: introspection and a refused realize leak nothing.

QEMU creates and destroys a device object for every ``device-list-properties``
and for a ``device_add`` whose realize fails; neither may leak.  The check
runs QEMU under valgrind (``-accel qtest``, stopped) and reads its report for
definitely lost blocks allocated by selfvirt code.
"""

import os
import re
import shutil
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))), 'guest'))
# pylint: disable=wrong-import-position
from harness import QEMU, QEMUMachine  # noqa: E402


@pytest.mark.skipif(not shutil.which('valgrind'), reason='valgrind missing')
def test_introspection_and_failed_realize_leak_nothing():
    workdir = tempfile.mkdtemp(prefix='selfvirt-valgrind-')
    log = os.path.join(workdir, 'valgrind.log')
    vm = QEMUMachine(QEMU, args=['-M', 'pc', '-accel', 'qtest', '-S',
                                 '-nodefaults', '-display', 'none'],
                     wrapper=['valgrind', '--leak-check=full',
                              '--show-leak-kinds=definite',
                              '--num-callers=40', f'--log-file={log}'],
                     base_temp_dir=workdir, qmp_timer=300)
    try:
        vm.launch()
        for _ in range(3):
            props = vm.cmd('device-list-properties', typename='selfvirt-nic')
            names = {p['name'] for p in props}
            assert {'vifs', 'irq-mode', 'netdev', 'engines'} <= names, names
        vm.cmd('qom-list-properties', typename='selfvirt-nic')
        # bad values: the object is made, realize fails, it must go away
        for opts in ({'vifs': 0}, {'irq-mode': 'bogus'}):
            r = vm.qmp('device_add', driver='selfvirt-nic', **opts)
            assert 'error' in r, r
        vm.shutdown(timeout=300)
        with open(log, encoding='utf-8') as f:
            report = f.read()
        assert 'LEAK SUMMARY' in report or 'All heap blocks were freed' in \
            report, report[-2000:]
        # valgrind's records are separated by blank lines
        records = re.split(r'\n==\d+== \n', report)
        ours = [rec for rec in records
                if 'definitely lost' in rec and 'selfvirt' in rec]
        assert not ours, '\n\n'.join(ours)
    finally:
        vm.shutdown(hard=True)
        shutil.rmtree(workdir, ignore_errors=True)
