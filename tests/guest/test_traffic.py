"""Traffic through selfvirt VIFs: the on-board switch and the wire."""

import re

import pytest

from harness import (BOARD_SYSFS, DEVLINK_DEV, board_stat, guests,
                     iperf3_mbps, nc_listen, nc_send, sha256, vif_netns,
                     vif_stat, wait_for_file, wait_listening, wire_pair)


@pytest.mark.parametrize('irq_mode', ['identifier', 'msix'])
def test_vif_to_vif_through_the_board_switch(irq_mode):
    dev = ['-device', f'selfvirt-nic,vifs=4,addr=05.0,irq-mode={irq_mode}']
    with guests(f'vif-to-vif-{irq_mode}', [('g0', [dev])]) as (g,):
        vif_netns(g, 2, 1)
        irqs = g.out('cat /proc/interrupts')
        if irq_mode == 'msix':
            # a vector per VIF signal, no master interrupt
            assert 'sv-vif1-rx' in irqs and 'sv-vif0-tx' in irqs, irqs
        else:
            assert re.search(r'MSI.*selfvirt', irqs), irqs
        out = g.out('ip netns exec v0 ping -c 3 -W 3 10.9.1.1', timeout=30)
        assert '3 packets received' in out, out
        # no netdev: the frames never left the board
        stats = g.out('ip netns exec v0 ethtool -S vif')
        assert re.search(r'board_tx_errors: 0', stats), stats
        assert int(re.search(r'board_rx_frames: (\d+)', stats)[1]) >= 3
        if irq_mode == 'msix':
            # one column per CPU
            irqs = g.out('grep sv-vif1-rx /proc/interrupts')
            cpus = int(g.out('nproc'))
            assert sum(map(int, irqs.split()[1:1 + cpus])) > 0, irqs
        # TCP: the board cuts 64 KiB TSO frames into GSO pieces that fit
        # the receiver's chained slots, not at every MSS
        g.run('ip netns exec v1 iperf3 -s -D -1')
        out = g.out('ip netns exec v0 iperf3 -c 10.9.1.1 -t 2', timeout=60)
        print(f'{irq_mode}: VIF to VIF {iperf3_mbps(out):.0f} Mbit/s')
        stats = g.out('ip netns exec v1 ethtool -S vif')
        assert re.search(r'rx_dropped: 0$', stats, re.M), stats
        assert re.search(r'board_rx_drops: 0$', stats, re.M), stats


def guest_pair(vifs=8, extra=''):
    server, client = wire_pair()
    left = ['-device', f'selfvirt-nic,netdev=wire,vifs={vifs},addr=05.0,'
                       f'mac=52:54:00:5f:00:00{extra}']
    right = ['-device', f'selfvirt-nic,netdev=wire,vifs={vifs},addr=05.0,'
                        f'mac=52:54:00:5f:01:00{extra}']
    return [('left', [server, left]), ('right', [client, right])]


@pytest.mark.parametrize('n', [1, 4, 32])
def test_ping_and_iperf3_between_guests(n):
    """The paper's n,n:1x1 pattern: VIF i of one guest talks to VIF i of the other."""
    with guests(f'pair-{n}', guest_pair(max(n, 8))) as (a, b):
        vif_netns(a, n, 1)
        vif_netns(b, n, 2)
        for i in range(n):
            out = a.out(f'ip netns exec v{i} ping -c 2 -W 3 10.9.{i}.2',
                        timeout=30)
            assert '2 packets received' in out, out
        # 32 VIFs share the 16 identifier bits: redundant polls are expected
        if n > 8:
            stats = a.out('ip netns exec v0 ethtool -S vif')
            assert re.search(r'redundant_polls: \d+', stats), stats
        for i in range(n):
            b.run(f'ip netns exec v{i} iperf3 -s -D -1')
        before = board_stat(a, 'csr_reads')
        cmds = ' & '.join(
            f'ip netns exec v{i} iperf3 -c 10.9.{i}.2 -t 3 > /tmp/iperf{i}.out'
            for i in range(n))
        a.run(f'{cmds}; wait', timeout=120)
        reads = board_stat(a, 'csr_reads') - before
        frames = board_stat(a, 'wire_tx_frames') + board_stat(a, 'wire_rx_frames')
        # the steady path reads nothing of the board but the identifier
        print(f'n={n}: {reads} CSR reads for {frames} frames '
              f'({reads / frames:.3f} per frame)')
        assert reads < frames
        for i in range(n):
            out = a.out(f'cat /tmp/iperf{i}.out')
            mbps = iperf3_mbps(out)
            print(f'n={n} vif {i}: {mbps:.0f} Mbit/s')
            assert mbps > 0
        stats = a.out('ip netns exec v0 ethtool -S vif')
        assert re.search(r'board_tx_errors: 0', stats), stats


@pytest.mark.parametrize('rx_buf', [9216, 2048])
def test_large_mtu(rx_buf):
    """Jumbo frames: in one large buffer, or chained over 2 KiB slots."""
    with guests(f'jumbo-{rx_buf}', guest_pair()) as (a, b):
        vif_netns(a, 1, 1, f'rx_buf={rx_buf}')
        vif_netns(b, 1, 2, f'rx_buf={rx_buf}')
        for g in (a, b):
            g.run('ip -n v0 link set vif mtu 9000')
            rc, _, err = g.run('ip -n v0 link set vif mtu 9300', check=False)
            assert rc != 0, 'an MTU beyond the board\'s frames was accepted'
        out = a.out('ip netns exec v0 ping -c 2 -W 3 -s 8900 10.9.0.2',
                    timeout=30)
        assert '2 packets received' in out, out
        stats = b.out('ip netns exec v0 ethtool -S vif')
        # 8900 bytes of payload arrived in single frames, not fragments
        assert int(re.search(r'board_rx_bytes: (\d+)', stats)[1]) > 2 * 8900
        assert re.search(r'rx_dropped: 0$', stats, re.M), stats


def test_receive_coalescing():
    """The board merges TCP segments (rx-gro-hw); ethtool turns it off."""
    with guests('coalesce', guest_pair()) as (a, b):
        vif_netns(a, 1, 1)
        vif_netns(b, 1, 2)
        assert 'rx-gro-hw: on' in b.out('ip netns exec v0 ethtool -k vif')
        b.run('ip netns exec v0 iperf3 -s -D')
        a.run('ip netns exec v0 iperf3 -c 10.9.0.2 -t 2', timeout=60)
        merged = board_stat(b, 'rx_coalesced')
        frames = board_stat(b, 'wire_rx_frames')
        print(f'{merged} of {frames} segments merged into the one before')
        assert merged > 0
        stats = b.out('ip netns exec v0 ethtool -S vif')
        assert re.search(r'rx_dropped: 0$', stats, re.M), stats

        b.run('ip netns exec v0 ethtool -K vif rx-gro-hw off')
        assert 'rx-gro-hw: off' in b.out('ip netns exec v0 ethtool -k vif')
        out = a.out('ip netns exec v0 iperf3 -c 10.9.0.2 -t 2', timeout=60)
        assert 'receiver' in out, out
        assert board_stat(b, 'rx_coalesced') == merged


def test_plain_nic_mode_with_software_bridge():
    """The paper's baseline: one plain NIC, bridged in software to guests."""
    with guests('nic-mode', guest_pair()) as (a, b):
        a.run('modprobe selfvirt nic_mode=1')
        a.run('modprobe bridge; modprobe veth; ip link add br0 type bridge; '
              'ip link set eth0 master br0; ip link set eth0 up; '
              'ip link set br0 up; ip netns add d1; '
              'ip link add h1 type veth peer name vif netns d1; '
              'ip link set h1 master br0; ip link set h1 up; '
              'ip -n d1 link set vif up; '
              'ip -n d1 addr add 10.9.0.1/16 dev vif')
        # the bridge put the board's port in promiscuous mode: without it
        # the board drops frames for the veth's MAC and the ping fails
        assert 'promiscuity 1' in a.out('ip -d link show eth0')
        vif_netns(b, 1, 2)
        out = a.out('ip netns exec d1 ping -c 3 -W 3 10.9.0.2', timeout=30)
        assert '3 packets received' in out, out
        b.run('ip netns exec v0 iperf3 -s -D -1')
        out = a.out('ip netns exec d1 iperf3 -c 10.9.0.2 -t 2', timeout=40)
        assert 'receiver' in out, out


def test_vif_mac_and_rate():
    """Management attributes: a new MAC is switched to, a rate is honoured."""
    dev = ['-device', 'selfvirt-nic,vifs=4,addr=05.0']
    with guests('mac-rate', [('g0', [dev])]) as (g,):
        vif_netns(g, 2, 1)
        g.run('ip -n v1 link set vif address 52:54:00:aa:00:01')
        out = g.out('ip netns exec v0 ping -c 2 -W 3 10.9.1.1', timeout=30)
        assert '2 packets received' in out, out
        rc, _, _ = g.run(f'devlink port function rate set {DEVLINK_DEV}/9 '
                         'tx_max 10mbit', check=False)
        assert rc != 0, 'a rate for a VIF that does not exist was accepted'
        g.run(f'devlink port function rate set {DEVLINK_DEV}/0 tx_max 20mbit')
        g.run('ip netns exec v1 iperf3 -s -D -1')
        g.run('sleep 1')
        out = g.out('ip netns exec v0 iperf3 -c 10.9.1.1 -t 4', timeout=40)
        mbps = iperf3_mbps(out)
        # VIF 0 may send 20 Mbit/s (plus a 10 ms burst): never much more
        assert 0 < mbps < 26, out


def test_signal_gap():
    """ethtool -C rx-usecs is the board's signal moderation of a VIF: set,
    read back, kept across a board reset; one above the board's refused."""
    dev = ['-device', 'selfvirt-nic,vifs=4,addr=05.0']
    with guests('signal-gap', [('g0', [dev])]) as (g,):
        vif_netns(g, 2, 1)
        g.run('ip netns exec v0 ethtool -C vif rx-usecs 500')
        coal = g.out('ip netns exec v0 ethtool -c vif')
        assert re.search(r'rx-usecs:\s+500', coal), coal
        rc, _, err = g.run('ip netns exec v0 ethtool -C vif rx-usecs 10001',
                           check=False)
        assert rc != 0 and 'maximum' in err, err
        out = g.out('ip netns exec v0 ping -c 20 -i 0.01 -W 3 10.9.1.1',
                    timeout=30)
        assert '20 packets received' in out, out
        g.run(f'echo 1 > {BOARD_SYSFS}/reset')
        coal = g.out('ip netns exec v0 ethtool -c vif')
        assert re.search(r'rx-usecs:\s+500', coal), coal
        out = g.out('ip netns exec v0 ping -c 3 -W 3 10.9.1.1', timeout=30)
        assert '3 packets received' in out, out


def test_queue_sizes_at_run_time():
    dev = ['-device', 'selfvirt-nic,vifs=4,addr=05.0']
    with guests('rings', [('g0', [dev])]) as (g,):
        vif_netns(g, 2, 1, 'rx_buf=2048')    # 2 KiB slots, as a page would not
        g.run('ip netns exec v0 ethtool -G vif rx 64 tx 32')
        rings = g.out('ip netns exec v0 ethtool -g vif')
        assert re.search(r'Current hardware settings:\s+RX:\s+64', rings), rings
        assert re.search(r'Current hardware settings:[\s\S]*TX:\s+32', rings), rings
        for bad in ('rx 100', 'rx 4096', 'tx 2'):
            rc, _, _ = g.run(f'ip netns exec v0 ethtool -G vif {bad}',
                             check=False)
            assert rc != 0, f'ethtool -G vif {bad} was accepted'
        out = g.out('ip netns exec v0 ping -c 3 -W 3 10.9.1.1', timeout=30)
        assert '3 packets received' in out, out
        g.run('ip netns exec v0 iperf3 -s -D -1; sleep 1')
        out = g.out('ip netns exec v1 iperf3 -c 10.9.0.1 -t 2', timeout=40)
        assert 'receiver' in out, out

        # a ring of 4 slots: a frame spans at most 4 (2 KiB each), and the
        # MTU follows; before, a 9000-byte MTU stayed allowed and its
        # frames could never fit the ring
        g.run('ip netns exec v0 ethtool -G vif rx 4')
        link = g.out('ip -n v0 -d link show vif')
        assert re.search(r'maxmtu 8178\b', link), link
        rc, _, _ = g.run('ip -n v0 link set vif mtu 9000', check=False)
        assert rc != 0, 'an MTU beyond a 4-slot ring was accepted'
        g.run('ip -n v0 link set vif mtu 8000; ip -n v1 link set vif mtu 8000')
        out = g.out('ip netns exec v1 ping -c 2 -W 3 -s 7900 10.9.0.1',
                    timeout=30)
        assert '2 packets received' in out, out
        g.run('ip netns exec v0 ethtool -G vif rx 256')
        assert re.search(r'maxmtu 9004\b', g.out('ip -n v0 -d link show vif'))


def test_frames_the_board_refuses_never_halt_a_vif():
    """A route or a peer sets the MSS and a VLAN adds 4 bytes: the driver
    cuts a TSO frame whose MSS the board cannot (below 64) in software, and drops
    (and counts) a frame longer than the board's max_frame.  Before, each
    was posted, and the board halted the VIF's send queue."""
    dev = ['-device', 'selfvirt-nic,vifs=4,addr=05.0,max-frame=1514']
    with guests('refused', [('g0', [dev])]) as (g,):
        vif_netns(g, 2, 1)
        # a route with a locked MTU of 96: v0's TSO frames have an MSS of
        # 44 (a peer may advertise as little as 48)
        g.run('ip -n v0 route change 10.9.0.0/16 dev vif mtu lock 96')
        g.run('dd if=/dev/urandom of=/tmp/src bs=64K count=4 2>/dev/null')
        nc_listen(g, '/usr/bin/ip netns exec v1')   # busybox ip: no netns
        wait_listening(g, '/usr/bin/ip netns exec v1')
        nc_send(g, '/usr/bin/ip netns exec v0', '10.9.1.1')
        wait_for_file(g, '/tmp/nc.rc', timeout=120)
        wait_for_file(g, '/tmp/nc.done')
        assert g.out('cat /tmp/nc.rc').strip() == '0'
        assert sha256(g, '/tmp/dst') == sha256(g, '/tmp/src')
        assert vif_stat(g, 'v0', 'tx_gso_soft') > 0

        # a VLAN at the full MTU: 1518-byte frames on a 1514-byte board
        g.run('modprobe 8021q')
        for ns, host in (('v0', 1), ('v1', 2)):
            g.run(f'ip -n {ns} link add link vif name vlan5 type vlan id 5; '
                  f'ip -n {ns} addr add 10.5.0.{host}/24 dev vlan5; '
                  f'ip -n {ns} link set vlan5 up')
        out = g.out('ip netns exec v0 ping -c 2 -W 2 -s 1400 10.5.0.2',
                    timeout=30)
        assert '2 packets received' in out, out
        g.run('ip netns exec v0 ping -c 2 -W 2 -s 1472 10.5.0.2',
              timeout=30, check=False)
        assert vif_stat(g, 'v0', 'tx_refused') >= 2

        # the VIF sends on, and the board refused nothing
        out = g.out('ip netns exec v0 ping -c 2 -W 3 10.9.1.1', timeout=30)
        assert '2 packets received' in out, out
        assert vif_stat(g, 'v0', 'board_tx_errors') == 0
