"""Live migration under traffic: a guest moves to a new QEMU mid-transfer.

The right guest (the stream netdev's client, which reconnects to the
wire) is migrated to a new QEMU on this host twice: first while it
receives 8 MiB of random data through its VIF, then while it sends them
back.  The TCP connection survives, the bytes arrive intact (sha256), and
the board's counters came along with the VIF.  Frames inside the board
when the VM stops are not carried in the stream; TCP sends them again.
"""

from harness import (check_transfer, guests, start_transfer,
                     vif_board_stat, vif_netns)
from test_traffic import guest_pair

NS = '/usr/bin/ip netns exec v0'
RATE_MBPS = 30          # 8 MiB take about 2.2 s


def transfer_across_migration(sender, receiver, dst, migrating):
    start_transfer(sender, receiver, NS, dst, RATE_MBPS)
    rx_before = vif_board_stat(migrating, 'v0', 'rx_frames')
    took = migrating.migrate()
    print(f'{migrating} migrated in {took:.1f} s')
    # the counters came with the VIF
    assert vif_board_stat(migrating, 'v0', 'rx_frames') >= rx_before
    check_transfer(sender, receiver)


def test_migrate_receiver_then_sender():
    with guests('migration', guest_pair()) as (a, b):
        vif_netns(a, 1, 1)
        vif_netns(b, 1, 2)
        transfer_across_migration(a, b, '10.9.0.2', b)
        transfer_across_migration(b, a, '10.9.0.1', b)
        out = a.out(f'{NS} ping -c 2 -W 3 10.9.0.2', timeout=30)
        assert '2 packets received' in out, out
        for g in (a, b):
            assert vif_board_stat(g, 'v0', 'tx_errors') == 0
            assert vif_board_stat(g, 'v0', 'win_aborts') == 0
