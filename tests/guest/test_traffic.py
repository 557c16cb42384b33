"""Traffic through selfvirt VIFs: the on-board switch and the wire."""

import re

import pytest

from harness import guests, wire_pair


def vif_netns(g, vifs, host):
    """Load the driver with @vifs VIFs, one per namespace vN, 10.9.N.host."""
    g.run(f'modprobe selfvirt vifs={vifs}')
    lines = g.out('cat /sys/bus/pci/devices/0000:00:05.0/selfvirt/vifs')
    names = dict(line.split() for line in lines.splitlines())
    assert len(names) == vifs, lines
    for idx, ifname in names.items():
        ns = f'v{idx}'
        g.run(f'ip netns add {ns}; ip link set {ifname} netns {ns}; '
              f'ip -n {ns} link set {ifname} name vif up; '
              f'ip -n {ns} addr add 10.9.{idx}.{host}/16 dev vif')
    return names


def test_vif_to_vif_through_the_board_switch():
    dev = ['-device', 'selfvirt-nic,vifs=4,addr=05.0']
    with guests('vif-to-vif', [('g0', [dev])]) as (g,):
        vif_netns(g, 2, 1)
        out = g.out('ip netns exec v0 ping -c 3 -W 3 10.9.1.1', timeout=30)
        assert '3 packets received' in out, out
        # no netdev: the frames never left the board
        stats = g.out('ip netns exec v0 ethtool -S vif')
        assert re.search(r'board_tx_errors: 0', stats), stats
        assert int(re.search(r'board_rx_frames: (\d+)', stats)[1]) >= 3


@pytest.mark.parametrize('n', [1, 4])
def test_ping_and_iperf3_between_guests(n):
    """The paper's n,n:1x1 pattern: VIF i of one guest talks to VIF i of the other."""
    server, client = wire_pair()
    left = ['-device', 'selfvirt-nic,netdev=wire,vifs=8,addr=05.0,'
                       'mac=52:54:00:5f:00:00']
    right = ['-device', 'selfvirt-nic,netdev=wire,vifs=8,addr=05.0,'
                        'mac=52:54:00:5f:01:00']
    with guests(f'pair-{n}', [('left', [server, left]),
                              ('right', [client, right])]) as (a, b):
        vif_netns(a, n, 1)
        vif_netns(b, n, 2)
        for i in range(n):
            out = a.out(f'ip netns exec v{i} ping -c 2 -W 3 10.9.{i}.2',
                        timeout=30)
            assert '2 packets received' in out, out
        for i in range(n):
            b.run(f'ip netns exec v{i} iperf3 -s -D -1')
        cmds = ' & '.join(
            f'ip netns exec v{i} iperf3 -c 10.9.{i}.2 -t 3 > /tmp/iperf{i}.out'
            for i in range(n))
        a.run(f'{cmds}; wait', timeout=60)
        for i in range(n):
            out = a.out(f'cat /tmp/iperf{i}.out')
            m = re.search(r'([\d.]+) ([MG])bits/sec.*receiver', out)
            assert m, out
            mbps = float(m[1]) * (1000 if m[2] == 'G' else 1)
            print(f'n={n} vif {i}: {mbps:.0f} Mbit/s')
            assert mbps > 0
        stats = a.out('ip netns exec v0 ethtool -S vif')
        assert re.search(r'board_tx_errors: 0', stats), stats
