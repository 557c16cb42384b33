"""The kernel's own driver selftests (tools/testing/selftests/drivers/net
of Debian's linux-source-6.12, the guest kernel's version) on a VIF.

The device under test is VIF 0 in the guest's root namespace; its peer is
VIF 1 of the same board in namespace "peer" (the selftests' netns remote),
so every frame crosses the board's switch.  The counts are the contract:
what passes, what is expected to fail (XFAIL) and what is skipped, each
explained in docs/selftests.md.
"""

import re

import pytest

from harness import KSELFTEST_DIR, guests, vif_ports

KSFT = '/opt/kselftest/drivers/net'
# /usr/bin first: iproute2's ip and iputils' ping, not busybox's applets
ENV = ('PATH=/usr/bin:/usr/sbin:/bin:/sbin LOCAL_V4=198.51.100.1 REMOTE_V4=198.51.100.2 LOCAL_V6=2001:db8::1 '
       'REMOTE_V6=2001:db8::2 REMOTE_TYPE=netns REMOTE_ARGS=peer')

# test: (pass, xfail, skip), as docs/selftests.md explains them
EXPECTED = {
    'ping.py': (3, 0, 0),
    'stats.py': (3, 2, 0),
    'queues.py': (1, 0, 1),
}


def totals(out):
    """The KTAP totals line of a selftest's output, as a dict."""
    m = re.search(r'# Totals: (.*)', out)
    assert m, f'no totals line:\n{out}'
    return {k: int(v) for k, v in re.findall(r'(\w+):(\d+)', m[1])}


def dut_and_peer(g):
    """VIF 0 up in the root namespace, VIF 1 in namespace peer."""
    g.run('modprobe selfvirt vifs=2')
    names = vif_ports(g)
    dut, peer = names['0'], names['1']
    g.run(f'ip netns add peer; ip link set {peer} netns peer; '
          f'ip -n peer link set {peer} up; '
          f'ip -n peer addr add 198.51.100.2/24 dev {peer}; '
          f'ip -n peer addr add 2001:db8::2/64 dev {peer} nodad; '
          f'ip link set {dut} up; ip addr add 198.51.100.1/24 dev {dut}; '
          f'ip addr add 2001:db8::1/64 dev {dut} nodad')
    return dut


@pytest.fixture(scope='module')
def dut():
    dev = ['-device', 'selfvirt-nic,vifs=4,addr=05.0']
    with guests('kselftest', [('g0', [dev])], image=KSELFTEST_DIR) as (g,):
        yield g, dut_and_peer(g)


@pytest.mark.parametrize('test', list(EXPECTED))
def test_driver_selftest(dut, test):
    g, netif = dut
    rc, out, err = g.run(f'cd {KSFT} && env NETIF={netif} {ENV} '
                         f'python3 ./{test}', timeout=300, check=False)
    print(out)
    t = totals(out)
    print(f'{test}: {t}')
    assert t['fail'] == 0 and t['error'] == 0, out + err
    assert (t['pass'], t['xfail'], t['skip']) == EXPECTED[test], out
    assert rc == 0, out + err
