"""Two hosts over IP: the two sides of the demo and of bench.py, each
started by the same tool (--role left|right --peer HOST:PORT) in a
network namespace of its own, the two joined by a veth pair as two
machines are by their network: a TCP stream (-netdev stream, inet) or UDP
(-netdev dgram)."""

import contextlib
import json
import os
import re
import signal
import subprocess
import sys

import pytest

from harness import in_netns

pytestmark = pytest.mark.skipif(os.geteuid() != 0,
                                reason='network namespaces need root')

HERE = os.path.dirname(os.path.abspath(__file__))
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


def side(tool, ns, role, peer, kind):
    """One side's command: @tool (demo.py, bench.py) in host @ns."""
    extra = ['--runs', '2', '--models', 'selfvirt'] if tool == 'bench' else []
    return [*in_netns(ns), sys.executable,
            os.path.join(HERE, f'{tool}.py'), '--seconds', '2', *extra,
            '--wire', kind, '--role', role, '--peer', f'{peer}:{PORT}']


def left_mbps(tool, out):
    """What the left side measured: Mbit/s per VIF (demo) or per run."""
    if tool == 'demo':
        rows = re.findall(r'^\s+(\d)\s+[\d.]+\s+(\d+) Mbit/s$', out, re.M)
        assert [r[0] for r in rows] == ['0', '1'], out
        return [float(mbps) for _, mbps in rows]
    return [float(m) for m in re.findall(r'^round \d/2 selfvirt:\s+([\d.]+) '
                                         r'Mbit/s', out, re.M)]


def start(cmd):
    """@cmd in a process group of its own, its output collected."""
    return subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def veth_tx_bytes(ns):
    link = json.loads(subprocess.run(
        ['ip', '-n', ns, '-j', '-s', 'link', 'show', 'svh0'], check=True,
        capture_output=True, text=True).stdout)[0]
    return link['stats64']['tx']['bytes']


@pytest.mark.parametrize('tool,kind', [('demo', 'inet'), ('demo', 'dgram'),
                                       ('bench', 'inet')])
def test_two_hosts(tool, kind):
    """Each side boots its own guest; left's VIFs ping and run iperf3 to
    right's across the "hosts'" network, and right ends when left is
    done."""
    with two_hosts() as (left_ns, right_ns):
        right = start(side(tool, right_ns, 'right', ADDRS[0], kind))
        left = start(side(tool, left_ns, 'left', ADDRS[1], kind))
        try:
            left_out, _ = left.communicate(timeout=900)
            print(left_out)
            right_out, _ = right.communicate(timeout=180)
            print(right_out)
        finally:
            for p in (left, right):     # and their QEMUs, on a failure
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
        assert left.returncode == 0, left_out
        assert right.returncode == 0, right_out
        mbps = left_mbps(tool, left_out)
        assert len(mbps) == 2 and all(m > 0 for m in mbps), left_out
        # the frames went over the hosts' network, not a local socket
        assert veth_tx_bytes(left_ns) > 4 << 20
