"""Many L2 VMs on one board, each on a VIF of its own (the design card's
scenario, at the size that fits make check).

L1 ``a`` hands eight VIFs of its board to eight L2 VMs as mdevs (KVM on
TCG's emulated SVM) and boots them at once; L1 ``b`` has eight namespace
VIFs, one peer each.  All sixteen flows run at once: every L2 VM sends a
file of its own to its peer and receives another from it, and every file
arrives with the sender's sha256.  ``make check-vms-32`` runs the full
scenario (scripts/vms_at_scale.py).
"""

import re
import time

import bench_nested
from harness import guests, nc_listen, nc_send, sha256, vif_netns, \
    wait_for_file, wire_pair
from test_mdev import mdev_attr

VMS = 8
BLOCKS = 16                 # 64 KiB blocks a file: 1 MiB each way a VM


def namespace_peers(b, n):
    """Peers for exchange_files(): namespaces v0.. of L1 @b."""
    return [(b, f'/usr/bin/ip netns exec v{i}') for i in range(n)]


def exchange_files(l2s, peers, blocks=BLOCKS):
    """Every L2 VM i and its peer i, a (guest, command prefix) pair, send
    each other a file of random data at once; assert that each arrives
    intact."""
    for i, ((g, ns), l2) in enumerate(zip(peers, l2s)):
        for host in (g, l2):
            host.run(f'dd if=/dev/urandom of=/tmp/src{i} bs=64k '
                     f'count={blocks} 2>/dev/null')
        nc_listen(l2, '', port=5002, dst=f'/tmp/dst{i}', done=f'/tmp/done{i}')
        nc_listen(g, ns, dst=f'/tmp/dst{i}', done=f'/tmp/done{i}')
    time.sleep(1)
    for i, ((g, ns), l2) in enumerate(zip(peers, l2s)):
        nc_send(l2, '', bench_nested.peer(i), path=f'/tmp/src{i}',
                rc=f'/tmp/rc{i}')
        nc_send(g, ns, bench_nested.l2_addr(i), path=f'/tmp/src{i}',
                port=5002, rc=f'/tmp/rc{i}')
    for i, ((g, _), l2) in enumerate(zip(peers, l2s)):
        for host, other in ((l2, g), (g, l2)):
            wait_for_file(host, f'/tmp/rc{i}', timeout=300)
            wait_for_file(host, f'/tmp/done{i}', timeout=300)
            assert host.out(f'cat /tmp/rc{i}').strip() == '0', \
                f'{host} could not send file {i}'
            assert sha256(other, f'/tmp/dst{i}') == \
                sha256(host, f'/tmp/src{i}'), \
                f'file {i} of {host} arrived changed in {other}'


def test_eight_l2_vms_on_one_board_move_checked_data_at_once():
    server, client = wire_pair('vms-at-scale')
    board = f'selfvirt-nic,vifs={VMS},addr=05.0,netdev=wire,mac=52:54:00:5f:0'
    with guests('vms-at-scale', [('a', [server, ['-device', board + '0:00']]),
                                 ('b', [client, ['-device', board + '1:00']])],
                nested=('a',), nested_mem='2G', l2_agents=VMS) as (a, b):
        a.run('modprobe kvm_amd')
        vif_netns(b, VMS, 2)
        start = time.monotonic()
        with bench_nested.l2_vms(a, 'direct', 0, VMS) as (l2s, uuids):
            print(f'{VMS} L2 VMs booted at once and answering in '
                  f'{time.monotonic() - start:.0f} s')
            assert sorted(mdev_attr(a, u, 'vif') for u in uuids) == \
                list(range(VMS))
            start = time.monotonic()
            exchange_files(l2s, namespace_peers(b, VMS))
            print(f'{2 * VMS} files of {BLOCKS * 64} KiB checked in '
                  f'{time.monotonic() - start:.0f} s')
            for l2 in l2s:
                stats = l2.out('ethtool -S eth0')
                assert re.search(r'^\s*rx_dropped: 0$', stats, re.M), \
                    f'{l2}: {stats}'
