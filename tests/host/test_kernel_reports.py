"""scripts/kernel-reports.py: the guest kernel's reports in a console."""

from load_script import load_script

kernel_reports = load_script('kernel-reports')

BOOT = """\
[    0.000000] Linux version 6.12.118+deb12-amd64 (debian-kernel@lists.debian.org)
[    1.234567] selfvirt 0000:00:05.0: board up: 64 VIFs, mode selfvirt
[    2.000000] WARNING-free line: a driver may print the word WARNING later
[    3.100000] selfvirt 0000:00:05.0: VIF 3: ring index 99 impossible: VIF stopped
[    4.000000] watchdog: BUG: soft lockup - CPU#0 stuck for 22s! [swapper/0:1]
[    5.000000] rcu: INFO: rcu_preempt self-detected stall on CPU
[    6.000000] INFO: task kworker/0:1:42 blocked for more than 120 seconds.
selfvirt-guest: ready
"""

REPORTS = [
    ('[   12.345678] BUG: KASAN: slab-use-after-free in selfvirt_vif_destroy+0x1c/0x90 [selfvirt]',
     'BUG: KASAN: slab-use-after-free in selfvirt_vif_destroy+0x1c/0x90 [selfvirt]'),
    ('[   13.000000] BUG: KCSAN: data-race in selfvirt_rx_poll / selfvirt_xmit',
     'BUG: KCSAN: data-race in selfvirt_rx_poll / selfvirt_xmit'),
    ('[   14.000000] WARNING: possible circular locking dependency detected',
     'WARNING: possible circular locking dependency detected'),
    ('[   15.000000] WARNING: CPU: 1 PID: 77 at net/devlink/health.c:612 devlink_recover_notify+0x5/0x9',
     'WARNING: CPU: 1 PID: 77 at net/devlink/health.c:612 devlink_recover_notify+0x5/0x9'),
    ('[   16.000000] BUG: sleeping function called from invalid context at kernel/locking/mutex.c:283',
     'BUG: sleeping function called from invalid context at kernel/locking/mutex.c:283'),
    ('[   17.000000] BUG: scheduling while atomic: ip/123/0x00000002',
     'BUG: scheduling while atomic: ip/123/0x00000002'),
    ('[   18.000000] UBSAN: shift-out-of-bounds in drivers/net/selfvirt/irq.c:40:10',
     'UBSAN: shift-out-of-bounds in drivers/net/selfvirt/irq.c:40:10'),
    ('[   19.000000] kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)',
     'kmemleak: 2 new suspected memory leaks (see /sys/kernel/debug/kmemleak)'),
    ('[   20.000000] ODEBUG: free active (active state 0) object: 000000001234 object type: work_struct',
     'ODEBUG: free active (active state 0) object: 000000001234 object type: work_struct'),
    ('[   21.000000] kernel BUG at drivers/net/selfvirt/vif.c:100!',
     'kernel BUG at drivers/net/selfvirt/vif.c:100!'),
    ('[   22.000000] Oops: general protection fault, probably for non-canonical address',
     'Oops: general protection fault, probably for non-canonical address'),
    ('[   23.000000] BUG: KFENCE: out-of-bounds read in selfvirt_rx+0x10/0x20',
     'BUG: KFENCE: out-of-bounds read in selfvirt_rx+0x10/0x20'),
    ('[   24.000000] [    T42] WARNING: suspicious RCU usage',
     'WARNING: suspicious RCU usage'),
]


def test_a_clean_boot_has_no_report():
    assert kernel_reports.reports(BOOT) == []


def test_each_checker_is_a_report():
    for line, first in REPORTS:
        assert kernel_reports.reports(BOOT + line + '\n') == [first], line


def test_reports_in_order_and_carriage_returns():
    text = BOOT + '\r\n'.join(line for line, _ in REPORTS[:3]) + '\r\n'
    assert kernel_reports.reports(text) == [first for _, first in REPORTS[:3]]


def test_command_line_exit_status(tmp_path):
    clean = tmp_path / 'clean.console'
    clean.write_text(BOOT)
    bad = tmp_path / 'bad.console'
    bad.write_text(BOOT + REPORTS[0][0] + '\n')
    assert kernel_reports.main([str(clean)]) == 0
    assert kernel_reports.main([str(clean), str(bad)]) == 1


VIRTIO_DEVICE_WRITE = """\
[   19.670898] ==================================================================
[   19.670898] BUG: KCSAN: data-race in virtqueue_get_buf_ctx_split+0x63/0x2a0
[   19.670898] 
[   19.670898] race at unknown origin, with read to 0xff1a440f7ffcd282 of 2 bytes by task 35 on cpu 1:
[   19.670898]  virtqueue_get_buf_ctx_split+0x63/0x2a0
[   19.670898]  virtqueue_get_buf+0x39/0x40
[   19.670898] 
[   19.670898] value changed: 0x000c -> 0x000d
"""


def test_a_virtio_device_write_is_the_stated_exception():
    assert kernel_reports.reports(BOOT + VIRTIO_DEVICE_WRITE) == []


def test_the_exception_is_narrow():
    # the same unknown origin in the driver counts
    ours = VIRTIO_DEVICE_WRITE.replace('virtqueue_get_buf_ctx_split+',
                                       'selfvirt_rx_poll+', 2)
    assert kernel_reports.reports(BOOT + ours) == [
        'BUG: KCSAN: data-race in selfvirt_rx_poll+0x63/0x2a0']
    # virtio_ring racing with another kernel access counts
    two = VIRTIO_DEVICE_WRITE.replace(
        'virtqueue_get_buf_ctx_split+0x63/0x2a0\n',
        'virtqueue_get_buf_ctx_split / selfvirt_xmit\n', 1).replace(
        'race at unknown origin, with read to',
        'read to', 1)
    assert kernel_reports.reports(BOOT + two) == [
        'BUG: KCSAN: data-race in virtqueue_get_buf_ctx_split / selfvirt_xmit']
