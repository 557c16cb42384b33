"""Two hosts over IP: the demo's two sides, each started by the same tool
(demo.py --role left|right --peer HOST:PORT) in a network namespace of
its own, the two joined by a veth pair as two machines are by their
network: a TCP stream (-netdev stream, inet) or UDP (-netdev dgram)."""

import contextlib
import json
import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason='network namespaces need root')

DEMO = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'demo.py')
ADDRS = ('192.168.241.1', '192.168.241.2')      # left, right
PORT = 7001


@contextlib.contextmanager
def two_hosts():
    """Two network namespaces, "hosts", joined by a veth pair."""
    names = [f'svhost{i}-{os.getpid()}' for i in (0, 1)]
    try:
        for ns in names:
            subprocess.run(['ip', 'netns', 'add', ns], check=True)
        subprocess.run(['ip', 'link', 'add', 'svh0', 'netns', names[0],
                        'type', 'veth', 'peer', 'svh1', 'netns', names[1]],
                       check=True)
        for i, ns in enumerate(names):
            for cmd in (['link', 'set', 'lo', 'up'],
                        ['addr', 'add', f'{ADDRS[i]}/24', 'dev', f'svh{i}'],
                        ['link', 'set', f'svh{i}', 'up']):
                subprocess.run(['ip', '-n', ns, *cmd], check=True)
        yield names
    finally:
        for ns in names:
            subprocess.run(['ip', 'netns', 'del', ns], check=False)


def demo(ns, role, peer, kind):
    return ['nsenter', f'--net=/run/netns/{ns}', '--', sys.executable, DEMO,
            '--seconds', '2', '--wire', kind, '--role', role,
            '--peer', f'{peer}:{PORT}']


def veth_tx_bytes(ns):
    link = json.loads(subprocess.run(
        ['ip', '-n', ns, '-j', '-s', 'link', 'show', 'svh0'], check=True,
        capture_output=True, text=True).stdout)[0]
    return link['stats64']['tx']['bytes']


@pytest.mark.parametrize('kind', ['inet', 'dgram'])
def test_demo_on_two_hosts(kind):
    """Each side boots its own guest; left's VIFs ping and run iperf3 to
    right's across the "hosts'" network, and right ends when left is
    done."""
    with two_hosts() as (left_ns, right_ns):
        right = subprocess.Popen(demo(right_ns, 'right', ADDRS[0], kind),
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.STDOUT, text=True)
        try:
            left = subprocess.run(demo(left_ns, 'left', ADDRS[1], kind),
                                  capture_output=True, text=True,
                                  timeout=900)
            print(left.stdout, left.stderr)
            right_out, _ = right.communicate(timeout=180)
        finally:
            right.kill()
        print(right_out)
        assert left.returncode == 0, left.stdout + left.stderr
        assert right.returncode == 0, right_out
        rows = re.findall(r'^\s+(\d)\s+[\d.]+\s+(\d+) Mbit/s$', left.stdout,
                          re.M)
        assert [r[0] for r in rows] == ['0', '1'], left.stdout
        assert all(int(mbps) > 0 for _, mbps in rows), left.stdout
        # the frames went over the hosts' network, not a local socket
        assert veth_tx_bytes(left_ns) > 4 << 20
