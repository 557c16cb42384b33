"""scripts/tsan-reports.py: TSan's reports, the device's and the rest."""

import pytest

from load_script import load_script

tsan_reports = load_script('tsan-reports')

DEVICE_RACE = """==================
WARNING: ThreadSanitizer: data race (pid=4242)
  Write of size 4 at 0x7b4400001234 by thread T7:
    #0 selfvirt_vif_set_flags ../qemu-10.0.2/hw/net/selfvirt/selfvirt_ingress.c:199 (qemu-system-x86_64+0x1)
  Previous write of size 4 at 0x7b4400001234 by thread T9:
    #0 selfvirt_vif_set_flags ../qemu-10.0.2/hw/net/selfvirt/selfvirt_ingress.c:199 (qemu-system-x86_64+0x1)

  Location is heap block of size 37600 at 0x7b4400000000 allocated by main thread:
    #0 malloc <null> (qemu-system-x86_64+0x3)
SUMMARY: ThreadSanitizer: data race ../qemu-10.0.2/hw/net/selfvirt/selfvirt_ingress.c:199 in selfvirt_vif_set_flags
=================="""

CORE_RACE = """==================
WARNING: ThreadSanitizer: data race (pid=4242)
  Read of size 8 at 0x7b0c00000010 by main thread:
    #0 g_main_context_dispatch <null> (libglib-2.0.so.0+0x1)
  Previous write of size 8 at 0x7b0c00000010 by thread T1:
    #0 qemu_bh_schedule ../qemu-10.0.2/util/async.c:100 (qemu-system-x86_64+0x2)
SUMMARY: ThreadSanitizer: data race in g_main_context_dispatch
=================="""

# the board and the guest share guest RAM by design: no location block
GUEST_MEMORY = """==================
WARNING: ThreadSanitizer: data race (pid=4242)
  Write of size 4 at 0x7fdc07000000 by main thread (mutexes: write M0):
    #0 memmove <null> (qemu-system-x86_64+0x368f5e)
    #1 flatview_write_continue_step system/physmem.c:2963:9 (qemu-system-x86_64+0x4)
  Previous atomic read of size 4 at 0x7fdc07000000 by thread T8:
    #0 selfvirt_egress_next_desc ../qemu-10.0.2/hw/net/selfvirt/selfvirt_egress.c:306:33 (qemu-system-x86_64+0x5)
SUMMARY: ThreadSanitizer: data race in __interceptor_memmove
=================="""

# QEMU's bottom-half code, called by the device: not the device's access
CORE_CALLED_BY_DEVICE = """==================
WARNING: ThreadSanitizer: data race (pid=4242)
  Read of size 8 at 0x7b480004a1b0 by thread T5 (mutexes: write M0):
    #0 aio_bh_enqueue util/async.c:94:9 (qemu-system-x86_64+0x6)
    #1 qemu_bh_schedule util/async.c:236:5 (qemu-system-x86_64+0x7)
    #2 selfvirt_port_rx_context hw/net/selfvirt/selfvirt_port.c:148:9 (qemu-system-x86_64+0x8)
  Previous atomic write of size 8 at 0x7b480004a1b0 by main thread:
    #0 aio_bh_poll util/async.c:187:5 (qemu-system-x86_64+0x9)

  Location is heap block of size 344 at 0x7b480004a100 allocated by main thread:
    #0 calloc <null> (qemu-system-x86_64+0x3)
SUMMARY: ThreadSanitizer: data race util/async.c:94:9 in aio_bh_enqueue
=================="""

INVERSION = """==================
WARNING: ThreadSanitizer: lock-order-inversion (potential deadlock) (pid=4242)
  Cycle in lock order graph: M1 => M2 => M1
    #0 pthread_mutex_lock <null>
    #1 qemu_mutex_lock_impl ../qemu-10.0.2/util/qemu-thread-posix.c:94
==================
"""


def test_split_and_sort():
    text = 'noise before\n' + DEVICE_RACE + '\n' + CORE_RACE + '\n' + INVERSION
    reports = tsan_reports.split_reports(text)
    assert len(reports) == 3
    device, others = tsan_reports.summary(reports)
    assert len(device) == 1 and 'selfvirt_vif_set_flags' in device[0]
    assert others == {'data race': 1,
                      'lock-order-inversion': 1}


@pytest.mark.parametrize('report,device', [
    (DEVICE_RACE, True), (CORE_RACE, False), (GUEST_MEMORY, False),
    (CORE_CALLED_BY_DEVICE, False),
])
def test_is_device(report, device):
    assert tsan_reports.is_device(report) is device


def test_access_tops_skip_interceptors():
    assert tsan_reports.access_tops(GUEST_MEMORY) == [
        'system/physmem.c:2963:9',
        '../qemu-10.0.2/hw/net/selfvirt/selfvirt_egress.c:306:33']


def test_main_exit_codes(tmp_path, capsys):
    prefix = str(tmp_path / 'tsan')
    assert tsan_reports.main(['tsan-reports', prefix]) == 2     # no logs
    (tmp_path / 'tsan.100').write_text(CORE_RACE)
    assert tsan_reports.main(['tsan-reports', prefix]) == 0
    assert '0 reports in hw/net/selfvirt/; outside it: 1 data race' in \
        capsys.readouterr().out
    (tmp_path / 'tsan.101').write_text(DEVICE_RACE)
    assert tsan_reports.main(['tsan-reports', prefix]) == 1
    out = capsys.readouterr().out
    assert 'selfvirt_ingress.c:199' in out and '1 reports in' in out


@pytest.mark.parametrize('report,expected', [
    (DEVICE_RACE, 'data race'), (INVERSION, 'lock-order-inversion'),
    ('WARNING: ThreadSanitizer: heap-use-after-free', 'heap-use-after-free'),
])
def test_kind(report, expected):
    assert tsan_reports.kind(report) == expected
