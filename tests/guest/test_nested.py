"""An L2 VM on a VIF of its own, with direct access (the paper's domU).

L0 (this host's QEMU) emulates the boards; L1 guests own them; the QEMU in
L1 ``a`` runs an L2 VM with KVM (on TCG's emulated SVM) and the mdev of one
VIF as a vfio-pci device.  L2 loads the same selfvirt module, which binds
the VIF function, and moves traffic to a namespace VIF on its own board and
across the wire to the other L1 guest.
"""

import json
import re
import time
import uuid

from harness import Nested, board_stat, guests, nc_listen, ping_ok, sha256, \
    vif_netns, wait_for_file, wire_pair
from test_mdev import TYPE, available, mdev_attr


def iperf3_bytes(l2, dst, seconds=3):
    """Bytes that an iperf3 client in L2 got across to @dst."""
    out = l2.out(f'iperf3 -J -c {dst} -t {seconds}', timeout=60 + 4 * seconds)
    return json.loads(out)['end']['sum_received']['bytes']


def send_file(src, src_prefix, dst, dst_netns, dst_ip, blocks):
    """@blocks of 64 KiB of random data from @src to @dst_ip on @dst (nc),
    arriving with the same sha256."""
    src.run(f'dd if=/dev/urandom of=/tmp/src bs=64k count={blocks} 2>/dev/null')
    nc_listen(dst, dst_netns)
    time.sleep(1)
    src.run(f'{src_prefix}nc {dst_ip} 5001 < /tmp/src', timeout=120)
    wait_for_file(dst, '/tmp/nc.done', timeout=60)
    assert sha256(dst, '/tmp/dst') == sha256(src, '/tmp/src')


def test_l2_vm_moves_traffic_through_its_own_vif():
    server, client = wire_pair('nested')
    board = 'selfvirt-nic,vifs=4,addr=05.0,netdev=wire,mac=52:54:00:5f:0'
    with guests('nested', [('a', [server, ['-device', board + '0:00']]),
                           ('b', [client, ['-device', board + '1:00']])],
                nested=('a',)) as (a, b):
        vif_netns(a, 1, 1)        # namespace v0, 10.9.0.1
        vif_netns(b, 1, 2)
        a.run('modprobe kvm_amd; modprobe vfio_iommu_type1')
        u = str(uuid.uuid4())
        a.run(f'echo {u} > {TYPE}/create')
        l2 = Nested('l2', a, [['-device', f'vfio-pci,sysfsdev=/sys/bus/mdev/devices/{u}']])
        start = time.monotonic()
        l2.launch()
        try:
            l2.wait_ready()
            print(f'L2 booted in {time.monotonic() - start:.0f} s')
            l2.run('modprobe selfvirt')
            assert 'sv-vif-fn' in l2.out('cat /proc/interrupts')
            mac = a.out(f'cat /sys/bus/mdev/devices/{u}/selfvirt/mac').strip()
            assert mac in l2.out('ip link show eth0')
            l2.run('ip link set eth0 up; ip addr add 10.9.1.3/16 dev eth0')

            # to a namespace VIF on L2's own board, and across the wire
            for dst in ('10.9.0.1', '10.9.0.2'):
                out = l2.out(f'ping -c 3 -W 5 {dst}', timeout=60)
                assert '3 packets received' in out, out
            a.run('ip netns exec v0 iperf3 -s -D')
            b.run('ip netns exec v0 iperf3 -s -D')
            time.sleep(1)
            local = iperf3_bytes(l2, '10.9.0.1')
            wire = iperf3_bytes(l2, '10.9.0.2')
            print(f'L2 iperf3, 3 s: {local * 8 / 3e6:.1f} Mbit/s on the board, '
                  f'{wire * 8 / 3e6:.1f} Mbit/s across the wire')
            assert local > 0 and wire > 0

            # a file from L2 to the other L1 guest, checked end to end
            send_file(l2, '', b, '/usr/bin/ip netns exec v0', '10.9.0.2', 16)

            # and into L2: the board merges the TCP segments for L2's VIF
            # into frames of several receive slots, which L2 takes whole
            assert re.search(r'rx-gro-hw: on \[fixed\]',
                             l2.out('ethtool -k eth0')), 'no coalescing in L2'
            merged = board_stat(a, 'rx_coalesced')
            out = l2.out('iperf3 -J -R -c 10.9.0.2 -t 3', timeout=90)
            into = json.loads(out)['end']['sum_received']['bytes']
            print(f'L2 iperf3 -R, 3 s: {into * 8 / 3e6:.1f} Mbit/s into L2, '
                  f'{board_stat(a, "rx_coalesced") - merged} segments merged')
            send_file(b, 'ip netns exec v0 ', l2, '', '10.9.1.3', 32)
            assert board_stat(a, 'rx_coalesced') > merged
            stats = l2.out('ethtool -S eth0')
            assert re.search(r'^\s*rx_dropped: 0$', stats, re.M), stats
            # a merged frame's TCP checksum is its first segment's: the
            # board's check is the only one, so L2 cannot turn it off
            # (before, "rx off" took, and L2's TCP dropped merged frames)
            l2.run('ethtool -K eth0 rx off', check=False)
            assert re.search(r'rx-checksumming: on \[fixed\]',
                             l2.out('ethtool -k eth0')), 'rx csum not fixed'

            # the VIF function's queues and signal gap are L1's to set;
            # its counters are the driver's (no mailbox, no board_*)
            for cmd in ('ethtool -G eth0 rx 64', 'ethtool -C eth0 rx-usecs 10'):
                rc, _, _ = l2.run(cmd, check=False)
                assert rc != 0, f'{cmd} took in L2'
            stats = l2.out('ethtool -S eth0')
            assert 'board_' not in stats, stats
            # and its MAC: the function has no mailbox ops at all
            rc, _, _ = l2.run('ip link set eth0 address 52:54:00:aa:bb:cc',
                              check=False)
            assert rc != 0, 'L2 changed the MAC that L1 gave its VIF'
            rung = int(re.search(r'doorbells: (\d+)', stats)[1])
            signals = mdev_attr(a, u, 'signals')
            doorbells = mdev_attr(a, u, 'doorbells')
            frames = board_stat(a, 'switch_local')
            print(f'L1 traps: {signals} signals forwarded, {doorbells} doorbells '
                  f'trapped; L2 rang {rung} doorbells; {frames} frames '
                  f'switched on the board')
            # L2 rings its doorbell page: the board's, with no trap in L1
            assert signals > 0 and rung > 0 and doorbells == 0

            # remove the mdev while L2 sends: L2's QEMU is asked to let the
            # device go, L2 unplugs it, and L1 and the board carry on
            l2.run('setsid iperf3 -c 10.9.0.1 -t 60 < /dev/null > /dev/null 2>&1 &')
            time.sleep(3)
            a.run(f'echo 1 > /sys/bus/mdev/devices/{u}/remove', timeout=120)
            assert 'mdev released' in a.out('dmesg | tail -20')
            assert 'eth0' not in l2.out('ip link')
            assert available(a) == 3
            assert ping_ok(a, 'v0', '10.9.0.2', count=3)
            # the slot is free for the next mdev
            u2 = str(uuid.uuid4())
            a.run(f'echo {u2} > {TYPE}/create')
            assert mdev_attr(a, u2, 'vif') == 1
        finally:
            l2.shutdown()
        hostile_l2(a, u2)


def hostile_l2(a, u):
    """An L2 VM that writes garbage into its VIF function hurts only itself."""
    evil = Nested('evil', a, [['-device', f'vfio-pci,sysfsdev=/sys/bus/mdev/devices/{u}']])
    evil.launch()
    try:
        evil.wait_ready()
        bdf = evil.out('grep -l 0x10f1 /sys/bus/pci/devices/*/device').split('/')[5]
        bad = board_stat(a, 'bad_desc')
        # random descriptors, indexes past the ring, 2000 doorbells, straight
        # into BAR0 and BAR2 with no driver bound
        out = evil.out(f'selfvirt-vfio --pci {bdf} hostile', timeout=120)
        assert 'failures 0' in out, out
        assert board_stat(a, 'bad_desc') > bad
        assert ping_ok(a, 'v0', '10.9.0.2', count=3)
        # a write into the read-only receive queue: QEMU in L1 maps it
        # PROT_READ, and the write that KVM hands back to it faults there,
        # so the L2 VM ends; were the write ignored instead, the ring must
        # still not hold it
        bar4 = evil.out(f'cat /sys/bus/pci/devices/{bdf}/resource').split()[12]
        try:
            after = evil.out(f'devmem {bar4} 32 0xdeadbeef; devmem {bar4} 32',
                             timeout=10)
        except Exception:       # pylint: disable=broad-except
            after = None        # the agent went with the VM
    finally:
        evil.shutdown()
    if after is None:
        deadline = time.monotonic() + 30
        while a.run('kill -0 $(cat /tmp/evil.pid)', check=False)[0] == 0:
            assert time.monotonic() < deadline, 'the hostile L2 VM hangs'
            time.sleep(1)
    else:
        assert '0xDEADBEEF' not in after.upper(), after
    assert a.run(f'cat /sys/bus/mdev/devices/{u}/selfvirt/vif', check=False)[0] == 0
    assert ping_ok(a, 'v0', '10.9.0.2', count=3)
    a.run(f'echo 1 > /sys/bus/mdev/devices/{u}/remove', timeout=60)
    assert available(a) == 3


def test_nested_image_has_what_l2_needs():
    """The L1 image alone: KVM on the emulated SVM, the L2 files, QEMU runs."""
    with guests('nested-image', [('a', [])], nested=('a',)) as (a,):
        a.run('modprobe kvm_amd')
        assert 'kvm' in a.out('ls /dev')
        assert 'QEMU emulator version' in a.out('qemu-system-x86_64 --version')
        assert a.run('test -s /l2/vmlinuz && test -s /l2/initramfs.cpio.gz',
                     check=False)[0] == 0


def test_l1_migrates_while_l2_sends_through_its_mdev():
    """Live migration of L1 (the board, its driver, the mdev and the L2 VM
    running inside) while L2 sends a file through its VIF: the TCP flow
    survives and the file arrives intact; L2 is reachable afterwards."""
    server, client = wire_pair('nested-mig')
    board = 'selfvirt-nic,vifs=4,addr=05.0,netdev=wire,mac=52:54:00:5f:0'
    with guests('nested-migration', [('a', [server, ['-device', board + '0:00']]),
                                     ('b', [client, ['-device', board + '1:00']])],
                nested=('a',)) as (a, b):
        vif_netns(a, 1, 1)
        vif_netns(b, 1, 2)
        a.run('modprobe kvm_amd; modprobe vfio_iommu_type1')
        u = str(uuid.uuid4())
        a.run(f'echo {u} > {TYPE}/create')
        vif = mdev_attr(a, u, 'vif')
        l2 = Nested('l2', a, [['-device', f'vfio-pci,sysfsdev=/sys/bus/mdev/devices/{u}']])
        l2.launch()
        try:
            l2.wait_ready()
            l2.run('modprobe selfvirt; ip link set eth0 up; '
                   'ip addr add 10.9.1.3/16 dev eth0')
            assert ping_ok_l2(l2, '10.9.0.2')
            # 4 MiB at 3 Mbit/s on the board: about 11 s, the migration inside
            a.run(f'devlink port function rate set pci/0000:00:05.0/{vif} '
                  'tx_max 3mbit')
            l2.run('dd if=/dev/urandom of=/tmp/src bs=64k count=64 2>/dev/null')
            want = sha256(l2, '/tmp/src')
            nc_listen(b, '/usr/bin/ip netns exec v0')
            time.sleep(1)
            l2.run('setsid sh -c "nc 10.9.0.2 5001 < /tmp/src" '
                   '< /dev/null > /dev/null 2>&1 &')
            time.sleep(3)
            assert b.out('stat -c %s /tmp/dst').strip() != str(4 << 20)
            took = a.migrate()
            print(f'L1 with its L2 VM migrated in {took:.1f} s')
            wait_for_file(b, '/tmp/nc.done', timeout=120)
            assert sha256(b, '/tmp/dst') == want
            assert ping_ok(b, 'v0', '10.9.1.3', count=3)
            assert board_stat(a, 'bad_desc') == 0
        finally:
            l2.shutdown()


def ping_ok_l2(l2, dst):
    out = l2.out(f'ping -c 2 -W 5 {dst}', timeout=60)
    return '2 packets received' in out
