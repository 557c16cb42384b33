"""Two hosts over IP: the two sides of the demo, of bench.py and of the
experiment kit, each started by the same tool (--role left|right --peer
HOST:PORT) in a network namespace of its own, the two joined by a veth
pair as two machines are by their network: a TCP stream (-netdev stream,
inet) or UDP (-netdev dgram)."""

import contextlib
import csv
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
KIT = os.path.join(HERE, '..', 'experiments', 'run.py')
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


def kit_side(ns, role, peer, args=()):
    """One side of the experiment kit in host @ns."""
    return [*in_netns(ns), sys.executable, KIT, *args, '--wire', 'inet',
            '--role', role, '--peer', f'{peer}:{PORT}']


def left_mbps(tool, out):
    """What the left side measured: Mbit/s per VIF (demo) or per run."""
    if tool == 'demo':
        rows = re.findall(r'^\s+(\d)\s+[\d.]+\s+(\d+) Mbit/s$', out, re.M)
        assert [r[0] for r in rows] == ['0', '1'], out
        return [float(mbps) for _, mbps in rows]
    return [float(m) for m in re.findall(r'^round \d/2 selfvirt:\s+([\d.]+) '
                                         r'Mbit/s', out, re.M)]


def start(cmd, env=None):
    """@cmd in a process group of its own, its output collected."""
    return subprocess.Popen(cmd, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            start_new_session=True, env=env)


def finish(left, right, timeout):
    """Both sides' outputs once left has ended within @timeout s and right
    after it; both killed, with their QEMUs, on a failure."""
    try:
        left_out, _ = left.communicate(timeout=timeout)
        print(left_out)
        right_out, _ = right.communicate(timeout=180)
        print(right_out)
    finally:
        for p in (left, right):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
    assert left.returncode == 0, left_out
    assert right.returncode == 0, right_out
    return left_out


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
        left_out = finish(left, right, 900)
        mbps = left_mbps(tool, left_out)
        assert len(mbps) == 2 and all(m > 0 for m in mbps), left_out
        # the frames went over the hosts' network, not a local socket
        assert veth_tx_bytes(left_ns) > 4 << 20


def test_experiment_kit(tmp_path):
    """The kit's left side drives both: a namespace setup at n = 1 and 2
    and the VM setup vm-sv at n = 1, each point's flows from the left L1
    to the right one (booted by the right side on request); every flow
    moves data over the hosts' network, and every flow's probes come
    back."""
    env = dict(os.environ, SELFVIRT_PEER_KEY=os.urandom(16).hex())
    args = ['--out', str(tmp_path), '--quick', '--rounds', '1',
            '--setups', 'sv', '--ns', '1,2', '--vm-setups', 'vm-sv',
            '--vm-ns', '1', '--no-fig7', '--no-fig4', '--no-mailbox']
    with two_hosts() as (left_ns, right_ns):
        right = start(kit_side(right_ns, 'right', ADDRS[0]), env)
        left = start(kit_side(left_ns, 'left', ADDRS[1], args), env)
        finish(left, right, 1200)
        # the flows' bytes, not only the control connection's
        assert veth_tx_bytes(left_ns) > 16 << 20
    with open(tmp_path / 'fig3_throughput.csv', encoding='utf-8') as f:
        flows = [(r['setup'], int(r['n']), float(r['mbps']))
                 for r in csv.DictReader(f)]
    assert sorted((s, n) for s, n, _ in flows) == \
        [('sv', 1), ('sv', 2), ('sv', 2), ('vm-sv', 1)], flows
    assert all(mbps > 0 for _, _, mbps in flows), flows
    with open(tmp_path / 'fig2_latency.csv', encoding='utf-8') as f:
        probed = {(r['setup'], r['n'], r['flow']) for r in csv.DictReader(f)}
    assert probed == {('sv', '1', '0'), ('sv', '2', '0'), ('sv', '2', '1'),
                      ('vm-sv', '1', '0')}, probed
    assert (tmp_path / 'report.md').exists()
