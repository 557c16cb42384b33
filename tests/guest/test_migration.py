"""Live migration under traffic: a guest moves to a new QEMU mid-transfer.

The right guest (the stream netdev's client, which reconnects to the
wire) is migrated to a new QEMU on this host twice: first while it
receives 8 MiB of random data through its VIF, then while it sends them
back.  The TCP connection survives, the bytes arrive intact (sha256), and
the board's counters came along with the VIF.  Frames inside the board
when the VM stops are not carried in the stream; TCP sends them again.
"""

import re
import time

from harness import guests, nc_listen, nc_send, sha256, wait_for_file
from test_traffic import guest_pair, vif_netns

SYSFS = '/sys/bus/pci/devices/0000:00:05.0/selfvirt'
NS = '/usr/bin/ip netns exec v0'
RATE_MBPS = 30          # 8 MiB take about 2.2 s


def board_stat(g, name):
    out = g.out(f'{NS} ethtool -S vif')
    return int(re.search(rf'board_{name}: (\d+)', out)[1])


def transfer_across_migration(sender, receiver, dst, migrating):
    sender.run(f'echo "0 {RATE_MBPS}" > {SYSFS}/vif_rate')
    sender.run('dd if=/dev/urandom of=/tmp/src bs=1M count=8 2>/dev/null')
    nc_listen(receiver, NS)
    time.sleep(0.5)
    nc_send(sender, NS, dst)
    time.sleep(1)
    assert sender.run('test -e /tmp/nc.rc', check=False)[0] != 0, \
        'the transfer was over before the migration'
    rx_before = board_stat(migrating, 'rx_frames')
    took = migrating.migrate()
    print(f'{migrating} migrated in {took:.1f} s')
    # the counters came with the VIF
    assert board_stat(migrating, 'rx_frames') >= rx_before
    wait_for_file(sender, '/tmp/nc.rc')
    wait_for_file(receiver, '/tmp/nc.done')
    assert sender.out('cat /tmp/nc.rc').strip() == '0'
    assert sha256(receiver, '/tmp/dst') == sha256(sender, '/tmp/src')


def test_migrate_receiver_then_sender():
    with guests('migration', guest_pair()) as (a, b):
        vif_netns(a, 1, 1)
        vif_netns(b, 1, 2)
        transfer_across_migration(a, b, '10.9.0.2', b)
        transfer_across_migration(b, a, '10.9.0.1', b)
        out = a.out(f'{NS} ping -c 2 -W 3 10.9.0.2', timeout=30)
        assert '2 packets received' in out, out
        for g in (a, b):
            assert board_stat(g, 'tx_errors') == 0
            assert board_stat(g, 'win_aborts') == 0
