#!/usr/bin/python3
"""The paper's evaluation (Raj et al., section 4), re-run under emulation.

Two TCG guests on a stream netdev stand for the paper's two hosts (L1s,
with KVM on TCG's emulated SVM); an L2 VM in an L1 stands for a guest
domain.  In the n,n:1x1 pattern, flow i runs from L2 VM i of the left L1
to L2 VM i of the right one, all n flows started together; the VMs are
added between points, so that n VMs a side exist at point n:

  Fig. 2  latency: psapp (64-byte AF_PACKET probes, a random 0..100 ms
          between probes), the mean over flows of each flow's median
  Fig. 3  aggregate TCP throughput: n iperf3 flows; the host's cores by
          QEMU thread; and the time to bring the VMs up
  Fig. 6  the flows' medians at the largest n
  wake-ups  the VMs' wake-ups in vain (polls that found nothing, from
          each L2 driver's ethtool -S) per useful poll, with the theory
  Fig. 7  8 VMs a side on identifiers 1..8 bits wide: the latency of the
          VM in the last spot of a shared bit (VIF 7: L1's driver forwards
          the VIFs of a bit in index order), MSI-X as the reference

VM setups: vm-sv (each VM on a VIF of its own, an mdev, vfio-pci;
interrupt identifier), vm-sv-msix (the same with a vector per VIF
signal), vm-bridged (the board in plain NIC mode under a bridge in each
L1, each VM on a tap with virtio-net served by vhost-net: the paper's
driver domain and netback), vm-dom0 (one flow from L1's own bridge, the
dotted line); vm-bridged-user (QEMU's virtio-net backend in L1) on request.

The board's own figures, from namespaces in one L1 kernel or user space:

  Fig. 4  the micro-engines' stage costs (the board's own clock,
          stage-timing=on): egress on the sending board, ingress on the
          receiving one, with 1, 8, 16 and 32 VIFs, each moving TCP; in the
          same boots the host's costs of section 4.3.1 (the driver's
          cost_stats: message send and receive, interrupt virtualization)
          and the namespaces' redundant wake-ups, in identifier and MSI-X
          mode
  Figs. 5, 9, 10  the board used from user space through two mdev VIFs
          (selfvirt-vfio): Fig. 5 the host's writes and reads of the
          SDRAM BAR 1500 bytes at a time, and the board moving 1500-byte
          frames from SDRAM up to host memory; Fig. 9 the ping-pong of a
          32-bit word CPU -> board's SDRAM -> host memory -> CPU, the CPU
          polling or taking the MSI, against two CPUs' ping-pong in
          memory (cpu-pingpong); Fig. 10 the board polling its SDRAM
          (poll-us=1000) against sleeping until the doorbell (poll-us=0),
          and against the default, the doorbell's vCPU running the
          sleeping engine's turn (inline-wake-us), with the CPU time of
          the board's engines for each

The contrast, on request (--setups, --widths): network namespaces of one
L1 as the guests, where the bridge is a function call in the same kernel:
sv, sv-msix, bridged (a veth per namespace) and dom0, and Fig. 7 with 8
namespaces.

The machine's size: --l2-mem sets an L2 VM's memory, and an n whose two
L1s (bench_nested.l1_mem) do not fit in --host-mem (default: the host's
available memory less 2 GiB) is left out with a message.

Rounds repeat every setup in turn, so that host load hits them alike.
Raw samples go to OUT/*.csv, figures and report.md to OUT (analysis.py).

  tests/experiments/run.py [--out DIR] [--quick] [--rounds N]
      [--vm-setups vm-sv,vm-sv-msix,vm-bridged] [--vm-ns 1,2,4,...]
      [--vm-widths 1,2,...] [--l2-mem SIZE] [--host-mem MIB]
      [--setups sv,sv-msix,bridged] [--ns 1,2,4,...] [--widths 1,2,...]
      [--no-fig7] [--no-fig4] [--no-mailbox]
      [--variant LABEL:DEVICE_PROPS[:MODULE_PARAMS]] ... [--wire stream|tap]
  tests/experiments/run.py --role left --peer HOST:PORT [--wire inet|dgram]
      [the options above]
  tests/experiments/run.py --role right --peer HOST:PORT [--wire inet|dgram]

Two hosts over IP: with --role, this machine runs one L1 and the peer the
other; the left side drives both, the right one boots what it asks for
(RightHost, through remote.py's connection on PORT + 1, with the secret
in SELFVIRT_PEER_KEY on both).

A variant re-runs the namespaces' sv setup with other board properties or
driver parameters and plots it beside the rest, e.g. --variant
poll:poll-us=200 or --variant w4:irq-id-width=4 or --variant
chain::rx_entries=64.
"""

import argparse
import contextlib
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'guest'))

import analysis                                     # noqa: E402
import bench_nested                                 # noqa: E402
import remote                                       # noqa: E402
from harness import (L2_AGENTS_MAX, THREAD_ROLES,  # noqa: E402
                     add_wire_args, check_wire_args, cores_between,
                     command_line, grow_vif_netns, guests, host_cpu_times,
                     iperf3_mbps, qemu_thread_cpu, remote_end, run_started,
                     save_results, vif_netns, wire)
from test_mdev import create_mdev, mdev_attr        # noqa: E402

FULL = {'ns': [1, 2, 4, 8, 16, 32], 'rounds': 3, 'probes': 40, 'seconds': 5,
        'widths': [1, 2, 3, 4, 5, 6, 7, 8], 'pingpong_s': 3, 'mib': 64,
        'vm_ns': [1, 2, 4, 8, 16, 32], 'vm_widths': [1, 2, 3, 4, 5, 6, 7, 8]}
QUICK = {'ns': [1, 16, 32], 'rounds': 1, 'probes': 15, 'seconds': 3,
         'widths': [1, 2, 4, 8], 'pingpong_s': 1, 'mib': 16,
         'vm_ns': [1, 4, 16], 'vm_widths': [1, 8]}
FIG7_GUESTS = 8
FIG4_NS = [1, 8, 16, 32]    # the paper's VIF counts, and 16
BASE_SETUPS = {
    # name: (board properties, driver parameters)
    'sv': ('', ''),
    'sv-msix': ('irq-mode=msix', ''),
    'bridged': ('', 'nic_mode=1'),
}
MAX_WAIT_MS = 100           # psapp: a random 0..100 ms between probes
LAUNCH_S = 4                # the most one agent call into an L2 VM takes
# Fig. 10: the board's engines poll its SDRAM for poll-us after their last
# frame (the device's maximum, longer than any round trip), or sleep at
# once until the doorbell wakes them; or (the device's default) the vCPU
# that rings the doorbell of an engine asleep runs the engine's turn itself
# VMs as the guests: n L2 VMs in each L1, on VIFs of their own (mdevs,
# vfio-pci) or behind their L1's bridge with virtio-net served by vhost-net
# in L1 (the paper's netback) or by QEMU in L1 (a variant);
# name: (board properties, bench_nested's shape)
VM_SETUPS = {
    'vm-sv': ('', 'direct'),
    'vm-sv-msix': ('irq-mode=msix', 'direct'),
    'vm-bridged': ('', 'bridged'),
    'vm-bridged-user': ('', 'bridged-user'),
}
VM_DEFAULT = 'vm-sv,vm-sv-msix,vm-bridged'
BOARD_POLICIES = {'polls': 'poll-us=1000,inline-wake-us=0',
                  'sleeps': 'poll-us=0,inline-wake-us=0',
                  'inline': 'poll-us=0'}


class Progress:
    """Which point of how many, and the time left, on one line each."""

    def __init__(self, total):
        self.total = total
        self.done = 0
        self.t0 = time.monotonic()

    def step(self, what):
        elapsed = time.monotonic() - self.t0
        left = (elapsed / self.done * (self.total - self.done)
                if self.done else None)
        eta = f'about {left / 60:.0f} min left' if left is not None else \
            'estimating time left'
        print(f'experiments: [{self.done + 1}/{self.total}] {what} '
              f'({elapsed / 60:.1f} min in, {eta})', flush=True)

    def finish_point(self):
        self.done += 1


def setup_bridge(g, host, n):
    """Plain NIC mode: br0 over the board, a veth per namespace vN."""
    g.run('modprobe selfvirt nic_mode=1; modprobe bridge; modprobe veth')
    g.run('for i in $(seq 50); do [ -e /sys/class/net/eth0 ] && break; '
          'sleep 0.1; done; ip link add br0 type bridge; '
          'ip link set eth0 master br0; ip link set eth0 up; '
          f'ip link set br0 up; ip addr add 10.8.0.{host}/24 dev br0')
    for i in range(n):
        g.run(f'ip netns add v{i}; '
              f'ip link add h{i} type veth peer name vif netns v{i}; '
              f'ip link set h{i} master br0; ip link set h{i} up; '
              f'ip -n v{i} link set vif up; '
              f'ip -n v{i} addr add 10.9.{i}.{host}/16 dev vif')


def macs_of(g, fl):
    """The MAC address of each flow's interface, in one command."""
    out = g.out('; '.join(in_ns(ns, f'cat /sys/class/net/{ifname}/address')
                          for ns, ifname, _ in fl))
    macs = out.split()
    assert len(macs) == len(fl), out
    return macs


def flows(n, dom0):
    """(namespace, interface, peer address) of each flow."""
    if dom0:
        return [('', 'br0', '10.8.0.2')]
    return [(f'v{i}', 'vif', f'10.9.{i}.2') for i in range(n)]


def in_ns(netns, cmd):
    # iproute2's, not busybox's: setsid finds the applet first on PATH
    return f'/usr/bin/ip netns exec {netns} {cmd}' if netns else cmd


def measure_latency(a, b, n, probes, dom0=False, client=None):
    """n psapp flows started together: every RTT in us, per flow, and the
    probes lost (no echo within psapp's 1 s).  @client: (namespace,
    interface) of a single flow's client in @a, when not the server's."""
    fl = flows(n, dom0)
    macs = macs_of(b, fl)
    clients = [client] if client else [(ns, ifname) for ns, ifname, _ in fl]
    limit = psapp_limit(probes)
    # servers in their own sessions, so that the agent's command returns
    b.run(' '.join(f'setsid {in_ns(ns, f"psapp server {ifname} -t {limit}")}'
                   ' < /dev/null > /dev/null 2>&1 &' for ns, ifname, _ in fl))
    time.sleep(0.5)
    cmds = ' & '.join(
        in_ns(ns, f'psapp client {ifname} {mac} -n {probes} '
                  f'-w {MAX_WAIT_MS}') + f' > /tmp/psapp{i}.out'
        for i, ((ns, ifname), mac) in enumerate(zip(clients, macs)))
    a.run(f'{cmds}; wait', timeout=limit + 60)
    b.run('pkill psapp', check=False)
    return psapp_results([a.out(f'cat /tmp/psapp{i}.out')
                          for i in range(len(fl))])


def psapp_limit(probes):
    """Seconds a psapp server waits for @probes probes of a client."""
    return int(probes * (MAX_WAIT_MS / 1000 + 1) + 30)


def psapp_results(outs):
    """(each psapp client's RTTs in us, the probes lost in all) of the
    clients' outputs @outs."""
    result, lost = [], 0
    for out in outs:
        result.append([float(x) for x in re.findall(r'^rtt_us ([\d.]+)$',
                                                    out, re.M)])
        lost += int(re.search(r'^probes \d+ received \d+ lost (\d+)', out,
                              re.M)[1])
    return result, lost


def measure_throughput(a, b, n, seconds, dom0=False, client_ns=None):
    """n iperf3 flows started together; Mbit/s of each.  @client_ns: the
    namespace of a single flow's client in @a ('' none), when not the
    server's."""
    fl = flows(n, dom0)
    b.run('; '.join(in_ns(ns, 'iperf3 -s -D -1') for ns, _, _ in fl))
    time.sleep(0.5)
    cmds = ' & '.join(
        in_ns(ns if client_ns is None else client_ns,
              f'iperf3 -c {addr} -t {seconds}') + f' > /tmp/iperf{i}.out'
        for i, (ns, _, addr) in enumerate(fl))
    a.run(f'{cmds}; wait', timeout=seconds + 120)
    return [iperf3_mbps(a.out(f'cat /tmp/iperf{i}.out'))
            for i in range(len(fl))]


def deltas(before, after, count):
    """(key, count, ns) for each key of {key: {count: c, 'ns': t}}: what
    @after adds to @before."""
    for key, now in after.items():
        was = before[key]
        yield key, now[count] - was[count], now['ns'] - was['ns']


class Recorder:
    def __init__(self):
        self.lat, self.thr, self.host, self.ident = [], [], [], []
        self.stages, self.costs = [], []
        self.pingpong, self.board_cpu, self.bandwidth = [], [], []
        self.wakeups, self.fig3_cpu, self.boots = [], [], []

    def mailbox(self, rnd, board, pair, host, hist, cpu):
        """Figs. 9/10: every round trip of one ping-pong ({us: count}), and
        what the board's engines and the vCPUs spent on it."""
        self.pingpong += [{'round': rnd, 'board': board, 'pair': pair,
                           'host': host, 'rtt_us': us, 'count': n}
                          for us, n in hist.items()]
        self.board_cpu.append(dict({'round': rnd, 'board': board,
                                    'pair': pair, 'host': host}, **cpu))

    def stage_point(self, rnd, mode, n, before, after):
        """Fig. 4, 4.3.1 and the wake-ups: each board's stage sums, its
        driver's costs and its VIFs' wake-ups over one point:
        {board: (stage_times, host_costs, wakeups)}."""
        for board, (stages, costs, wakeups) in after.items():
            was_stages, was_costs, was_wakeups = before[board]
            point = {'round': rnd, 'mode': mode, 'n': n, 'board': board}
            for stage, frames, ns in deltas(was_stages, stages, 'frames'):
                self.stages.append(dict(point, stage=stage, frames=frames,
                                        ns=ns))
            for metric, events, ns in deltas(was_costs, costs, 'events'):
                self.costs.append(dict(point, metric=metric, events=events,
                                       ns=ns))
            self.wakeups.append(dict(point, **{
                k: wakeups[k] - was_wakeups[k] for k in WAKEUPS}))

    def wakeup_point(self, rnd, mode, n, before, after):
        """The wake-ups of the L2 VMs' VIFs over one point (vm_wakeups)."""
        self.wakeups.append(dict({'round': rnd, 'mode': mode, 'n': n,
                                  'board': 'vms'},
                                 **{k: after[k] - before[k] for k in WAKEUPS}))

    def vm_boot(self, rnd, setup, n, seconds):
        """The seconds to grow both L1s' L2 VMs to @n a side, up."""
        self.boots.append({'round': rnd, 'setup': setup, 'n': n,
                           'seconds': f'{seconds:.1f}'})

    def identifier(self, rnd, width, latency, guests='namespaces'):
        for flow, rtts in enumerate(latency):
            self.ident += [{'round': rnd, 'guests': guests, 'width': width,
                            'flow': flow, 'rtt_us': rtt} for rtt in rtts]

    def host_point(self, rnd, setup, n, lost, t0, cpu0):
        """The host's load while a point ran (from @t0, /proc/stat @cpu0)."""
        total, steal = host_cpu_times()
        dt = max(total - cpu0[0], 1)
        self.host.append({'round': rnd, 'setup': setup, 'n': n,
                          'seconds': f'{time.monotonic() - t0:.1f}',
                          'steal_pct': f'{100 * (steal - cpu0[1]) / dt:.2f}',
                          'load1': f'{os.getloadavg()[0]:.2f}',
                          'probes_lost': lost})

    def point(self, rnd, setup, n, latency, throughput, t0, cpu0):
        latency, lost = latency
        self.host_point(rnd, setup, n, lost, t0, cpu0)
        for flow, rtts in enumerate(latency):
            self.lat += [{'round': rnd, 'setup': setup, 'n': n, 'flow': flow,
                          'rtt_us': rtt} for rtt in rtts]
        self.thr += [{'round': rnd, 'setup': setup, 'n': n, 'flow': flow,
                      'mbps': f'{mbps:.2f}'}
                     for flow, mbps in enumerate(throughput)]

    def thread_cores(self, rnd, setup, n, cores):
        """The two QEMUs' cores by thread role while Fig. 3's flows ran."""
        self.fig3_cpu += [{'round': rnd, 'setup': setup, 'n': n, 'role': r,
                           'cores': f'{cores[r]:.3f}'} for r in THREAD_ROLES]

    def save(self, out):
        analysis.write_csv(os.path.join(out, 'fig2_latency.csv'),
                           ['round', 'setup', 'n', 'flow', 'rtt_us'], self.lat)
        analysis.write_csv(os.path.join(out, 'fig3_throughput.csv'),
                           ['round', 'setup', 'n', 'flow', 'mbps'], self.thr)
        analysis.write_csv(os.path.join(out, 'fig7_identifier.csv'),
                           ['round', 'guests', 'width', 'flow', 'rtt_us'],
                           self.ident)
        analysis.write_csv(os.path.join(out, 'vm_boot.csv'),
                           ['round', 'setup', 'n', 'seconds'], self.boots)
        analysis.write_csv(os.path.join(out, 'fig4_stages.csv'),
                           ['round', 'mode', 'n', 'board', 'stage', 'frames',
                            'ns'], self.stages)
        analysis.write_csv(os.path.join(out, 'host_costs.csv'),
                           ['round', 'mode', 'n', 'board', 'metric', 'events',
                            'ns'], self.costs)
        analysis.write_csv(os.path.join(out, 'wakeups.csv'),
                           ['round', 'mode', 'n', 'board', *WAKEUPS],
                           self.wakeups)
        analysis.write_csv(os.path.join(out, 'fig9_pingpong.csv'),
                           ['round', 'board', 'pair', 'host', 'rtt_us',
                            'count'], self.pingpong)
        analysis.write_csv(os.path.join(out, 'fig10_board_cpu.csv'),
                           ['round', 'board', 'pair', 'host', 'rounds',
                            'seconds', 'engines_ns', 'vcpus_ns', 'doorbells',
                            'signals'], self.board_cpu)
        analysis.write_csv(os.path.join(out, 'fig5_bandwidth.csv'),
                           ['round', 'board', 'path', 'mibs'], self.bandwidth)
        analysis.write_csv(os.path.join(out, 'fig3_cpu.csv'),
                           ['round', 'setup', 'n', 'role', 'cores'],
                           self.fig3_cpu)
        analysis.write_csv(os.path.join(out, 'host.csv'),
                           ['round', 'setup', 'n', 'seconds', 'steal_pct',
                            'load1', 'probes_lost'], self.host)


def run_setup(rnd, setup, props, params, cfg, rec, progress):
    """One boot of the two guests: every n of the figure, in order."""
    nmax = max(cfg['ns'])
    bridged = 'nic_mode=1' in params
    dev = (f'selfvirt-nic,netdev=wire,vifs={max(nmax, 8)},addr=05.0' +
           (f',{props}' if props else ''))
    with l1_pair(f'experiments-{setup}', dev, cfg) as (a, b):
        for g, host in ((a, 1), (b, 2)):
            if bridged:
                setup_bridge(g, host, nmax)
            else:
                vif_netns(g, nmax, host, params)
        points = [(n, False) for n in cfg['ns']]
        if bridged:
            points.append((1, True))    # the dom0 line
        for n, dom0 in points:
            name = 'dom0' if dom0 else setup
            progress.step(f'round {rnd}/{cfg["rounds"]} {name} n={n}')
            t0, cpu0 = time.monotonic(), host_cpu_times()
            lat = measure_latency(a, b, n, cfg['probes'], dom0)
            threads0, t1 = qemu_thread_cpu(a, b), time.monotonic()
            thr = measure_throughput(a, b, n, cfg['seconds'], dom0)
            rec.thread_cores(rnd, name, n, cores_between(
                threads0, qemu_thread_cpu(a, b), time.monotonic() - t1))
            rec.point(rnd, name, n, lat, thr, t0, cpu0)
            progress.finish_point()


def vm_latency(clients, servers, probes):
    """psapp from each L2 VM of @clients to the one of @servers with its
    index, all at once: as measure_latency.  Each server and client
    starts with an agent call of its own, one after another (seconds
    each, at 32 VMs on 2 cores): a server's limit counts them all."""
    limit = psapp_limit(probes) + LAUNCH_S * (len(servers) + len(clients))
    macs = [l2.out('cat /sys/class/net/eth0/address').strip()
            for l2 in servers]
    for l2 in servers:
        l2.run(f'setsid psapp server eth0 -t {limit} < /dev/null '
               '> /dev/null 2>&1 &')
    time.sleep(0.5)
    outs = bench_nested.in_background(
        clients, lambda i: f'psapp client eth0 {macs[i]} -n {probes} '
        f'-w {MAX_WAIT_MS}', limit + 60)
    # a server gone before its client lost that client's probes
    gone = [i for i, l2 in enumerate(servers)
            if l2.run('pidof psapp', check=False)[0]]
    if gone:
        print(f'vm_latency: the psapp servers of VMs {gone} ended before '
              'their clients: their probes count as lost', flush=True)
    for l2 in servers:
        l2.run('killall psapp', check=False)   # busybox has no pkill
    return psapp_results(outs)


def vm_throughput(clients, servers, seconds):
    """An iperf3 flow from each L2 VM of @clients to the one of @servers
    with its index, all at once: Mbit/s of each."""
    for l2 in servers:
        l2.run('iperf3 -s -D -1')
    time.sleep(0.5)
    # the clients start one agent call after another, and the wait polls
    # each in turn: at 32 bridged VMs a side 125 s was not enough
    outs = bench_nested.in_background(
        clients, lambda i: f'iperf3 -c {bench_nested.peer(i)} -t {seconds}',
        seconds + 120 + 2 * LAUNCH_S * len(clients))
    return [iperf3_mbps(o) for o in outs]


def vm_wakeups(l2s):
    """The wake-ups (polls, redundant_polls, empty_polls) of the L2 VMs'
    VIFs, summed."""
    sums = dict.fromkeys(WAKEUPS, 0)
    for l2 in l2s:
        for line in l2.out('ethtool -S eth0').splitlines():
            key, _, val = line.strip().partition(': ')
            if key in sums:
                sums[key] += int(val)
    return sums


def vm_point(rnd, setup, n, l1s, group, cfg, rec):
    """Figs. 2 and 3 (and on VIFs the wake-ups) with the first @n L2 VMs
    of each Fleet of @group: VM i of L1 a to VM i of L1 b."""
    clients, servers = (f.l2s[:n] for f in group)
    direct = group[0].shape == 'direct'
    t0, cpu0 = time.monotonic(), host_cpu_times()
    lat = vm_latency(clients, servers, cfg['probes'])
    polls0 = vm_wakeups(clients + servers) if direct else None
    threads0, t1 = qemu_thread_cpu(*l1s), time.monotonic()
    thr = vm_throughput(clients, servers, cfg['seconds'])
    rec.thread_cores(rnd, setup, n, cores_between(
        threads0, qemu_thread_cpu(*l1s), time.monotonic() - t1))
    if direct:
        rec.wakeup_point(rnd, setup, n, polls0, vm_wakeups(clients + servers))
    rec.point(rnd, setup, n, lat, thr, t0, cpu0)


def board_spec(side, end, dev):
    """The spec of guest @side (0 left, 1 right): a selfvirt-nic @dev on
    wire end @end (-netdev arguments)."""
    return (('left', 'right')[side],
            [end, ['-device', f'{dev},mac=52:54:00:5f:0{side}:00']])


@contextlib.contextmanager
def l1_pair(name, dev, cfg, nested=False, **kw):
    """The two L1s, the paper's hosts, left and right, a selfvirt-nic @dev
    each on the wire: both here, or (--role left) the right one on the
    peer's host, booted there first.  @nested: L1s that run L2 VMs; @kw
    goes to harness.guests."""
    sides = ('left', 'right') if nested else ()
    if not cfg['peer']:
        with wire(cfg['wire']) as w, \
                guests(name, [board_spec(i, end, dev)
                              for i, end in enumerate(w.ends)],
                       nested=sides, wrapper=w.wrapper, **kw) as (a, b):
            yield a, b
        return
    right = cfg['peer'].root()
    b = right.boot(name, dev, cfg['wire'], nested, **kw)
    try:
        end = remote_end(cfg['wire'], 'left', cfg['peer_addr'])
        with guests(name, [board_spec(0, end, dev)], nested=sides,
                    **kw) as (a,):
            yield a, b
    except BaseException:
        with contextlib.suppress(Exception):    # the first error counts
            right.close()
        raise
    right.close()


class RightHost:
    """The right side of a run over two hosts (--role right): the L1 that
    the left side asks for, on the wire to the left, and the fleets of L2
    VMs in it; the left side's Remote objects use them (remote.serve)."""

    def __init__(self, kind, peer):
        self.kind, self.peer = kind, peer
        self.stack = contextlib.ExitStack()

    def boot(self, name, dev, kind, nested=False, **kw):
        """The right L1 for l1_pair (the last one shut down first), on the
        left side's kind of wire."""
        self.stack.close()
        if kind != self.kind:
            raise ValueError(f'the left side runs a {kind} wire, this side '
                             f'a {self.kind} one: give both the same --wire')
        spec = board_spec(1, remote_end(self.kind, 'right', self.peer), dev)
        print(f'experiments: right side: booting {name}', flush=True)
        g, = self.stack.enter_context(guests(
            name, [spec], nested=('right',) if nested else (), **kw))
        return g

    @staticmethod
    def fleet(l1, *args):
        """A bench_nested.Fleet in the right L1 @l1."""
        return bench_nested.Fleet(l1, *args)

    def close(self):
        self.stack.close()


@contextlib.contextmanager
def vm_hosts(name, props, vms, cfg):
    """Two L1s (the paper's hosts) with room for @vms L2 VMs each."""
    dev = (f'selfvirt-nic,netdev=wire,vifs={max(vms, 8)},addr=05.0' +
           (f',{props}' if props else ''))
    with l1_pair(name, dev, cfg, nested=True,
                 nested_mem=bench_nested.l1_mem(vms, cfg['l2_mem']),
                 l2_agents=vms) as (a, b):
        for g in (a, b):
            g.run('modprobe kvm_amd')
        yield a, b


def run_vms(rnd, setup, cfg, rec, progress):
    """Figs. 2, 3 and 6 with VMs as the guests: one boot of two L1s, L2 VMs
    added on each between points, so that n VMs a side exist at point n;
    VM i of L1 a runs psapp and iperf3 to VM i of L1 b (n,n:1x1).  The
    bridged boot adds the dom0 line: L1 a's own br0 to L1 b's."""
    props, shape = VM_SETUPS[setup]
    ns = cfg['vm_ns']
    with vm_hosts(f'experiments-{setup}', props, max(ns), cfg) as (a, b), \
            bench_nested.fleets((a, b), shape, rnd, mem=cfg['l2_mem']) \
            as group:
        for n in ns:
            progress.step(f'round {rnd}/{cfg["rounds"]} {setup} n={n} '
                          f'({n} L2 VMs a side)')
            t0 = time.monotonic()
            bench_nested.grow(group, n)
            rec.vm_boot(rnd, setup, n, time.monotonic() - t0)
            vm_point(rnd, setup, n, (a, b), group, cfg, rec)
            progress.finish_point()
        if shape != 'direct':
            progress.step(f'round {rnd}/{cfg["rounds"]} vm-dom0 n=1')
            for host, g in enumerate((a, b), 1):
                g.run(f'ip addr add 10.8.0.{host}/24 dev br0')
            t0, cpu0 = time.monotonic(), host_cpu_times()
            lat = measure_latency(a, b, 1, cfg['probes'], dom0=True)
            thr = measure_throughput(a, b, 1, cfg['seconds'], dom0=True)
            rec.point(rnd, 'vm-dom0', 1, lat, thr, t0, cpu0)
            progress.finish_point()


def run_vm_identifier(rnd, width, cfg, rec, progress):
    """Fig. 7 with VMs: FIG7_GUESTS L2 VMs a side on boards whose
    identifier is @width bits wide ('msix': a vector per signal), psapp
    in all of them at once."""
    props = 'irq-mode=msix' if width == 'msix' else f'irq-id-width={width}'
    what = 'MSI-X' if width == 'msix' else f'{width}-bit identifier'
    progress.step(f'round {rnd}/{cfg["rounds"]} fig7 with VMs, {what}, '
                  f'{FIG7_GUESTS} L2 VMs a side')
    with vm_hosts(f'experiments-fig7-vm-{width}', props, FIG7_GUESTS,
                  cfg) as (a, b), \
            bench_nested.fleets((a, b), 'direct', rnd, FIG7_GUESTS,
                                mem=cfg['l2_mem']) as (fa, fb):
        t0, cpu0 = time.monotonic(), host_cpu_times()
        lat = vm_latency(fa.l2s, fb.l2s, cfg['probes'])
        rec.identifier(rnd, width, lat[0], guests='vms')
        rec.host_point(rnd, f'fig7-vm-{width}', FIG7_GUESTS, lat[1], t0, cpu0)
    progress.finish_point()


def run_identifier(rnd, width, cfg, rec, progress):
    """Fig. 7: one boot with an identifier @width bits wide ('msix': a
    vector per signal instead), 8 guests, psapp in all of them."""
    props = 'irq-mode=msix' if width == 'msix' else f'irq-id-width={width}'
    dev = f'selfvirt-nic,netdev=wire,vifs={FIG7_GUESTS},addr=05.0,{props}'
    what = 'MSI-X' if width == 'msix' else f'{width}-bit identifier'
    with l1_pair(f'experiments-fig7-{width}', dev, cfg) as (a, b):
        vif_netns(a, FIG7_GUESTS, 1)
        vif_netns(b, FIG7_GUESTS, 2)
        progress.step(f'round {rnd}/{cfg["rounds"]} fig7 {what}, '
                      f'{FIG7_GUESTS} guests')
        t0, cpu0 = time.monotonic(), host_cpu_times()
        lat = measure_latency(a, b, FIG7_GUESTS, cfg['probes'])
        rec.identifier(rnd, width, lat[0])
        rec.host_point(rnd, f'fig7-{width}', FIG7_GUESTS, lat[1], t0, cpu0)
        progress.finish_point()


def stage_times(g):
    """The board's stage sums in guest @g's QEMU (qom-get stage-times)."""
    return g.vm.qmp('qom-get', path='/machine/peripheral/sv',
                    property='stage-times')['return']


HOST_COSTS = ('host_send', 'host_recv', 'host_vector_irq', 'host_master_irq')
WAKEUPS = ('polls', 'redundant_polls', 'empty_polls')


def driver_counts(g, n):
    """The driver's host costs (ethtool -S host_*, cost_stats=1), summed
    over the VIFs of namespaces v0..v(n-1), the master interrupt's taken
    once (the board's, shown by every VIF); and their wake-ups (polls,
    redundant_polls, empty_polls), summed."""
    out = g.out(f'for i in $(seq 0 {n - 1}); do echo "vif $i"; '
                '/usr/bin/ip netns exec v$i ethtool -S vif | '
                'grep -E "host_|polls"; done', timeout=120)
    sums = {m: {'ns': 0, 'events': 0} for m in HOST_COSTS}
    wakeups = dict.fromkeys(WAKEUPS, 0)
    vif = None
    for line in out.splitlines():
        if line.startswith('vif '):
            vif = int(line.split()[1])
            continue
        key, _, val = line.strip().partition(': ')
        if key in wakeups:
            wakeups[key] += int(val)
            continue
        metric = key[:-3] if key.endswith('_ns') else key[:-1]
        field = 'ns' if key.endswith('_ns') else 'events'
        if metric in sums and (metric != 'host_master_irq' or vif == 0):
            sums[metric][field] += int(val)
    return sums, wakeups


def run_stages(rnd, mode, cfg, rec, progress):
    """Fig. 4, section 4.3.1 and the redundant wake-ups: one boot, the
    boards' stage clocks and the drivers' cost counters on; for each n of
    FIG4_NS, n VIFs a side (more added between points) and n TCP flows,
    the sums around each.  @mode: identifier or msix."""
    nmax = max(FIG4_NS)
    dev = (f'selfvirt-nic,netdev=wire,vifs={nmax},addr=05.0,id=sv,'
           f'stage-timing=on,irq-mode={mode}')
    with l1_pair(f'experiments-fig4-{mode}', dev, cfg) as (a, b):
        boards = {'left': a, 'right': b}
        for g, host in ((a, 1), (b, 2)):
            vif_netns(g, 1, host, 'cost_stats=1')
        for n in FIG4_NS:
            progress.step(f'round {rnd}/{cfg["rounds"]} fig4 {mode} n={n}')
            for g, host in ((a, 1), (b, 2)):
                grow_vif_netns(g, n, host)
            t0, cpu0 = time.monotonic(), host_cpu_times()
            before = {k: (stage_times(g), *driver_counts(g, n))
                      for k, g in boards.items()}
            measure_throughput(a, b, n, cfg['seconds'])
            after = {k: (stage_times(g), *driver_counts(g, n))
                     for k, g in boards.items()}
            rec.stage_point(rnd, mode, n, before, after)
            rec.host_point(rnd, f'fig4-{mode}', n, 0, t0, cpu0)
            progress.finish_point()


def create_mdevs(g, count):
    """@count mdev VIFs on the board of guest @g: their UUIDs."""
    g.run('modprobe selfvirt vifs=0; modprobe vfio_iommu_type1')
    return [create_mdev(g) for _ in range(count)]


def pingpong(g, cmd, seconds):
    """One ping-pong in guest @g: its round trips ({us: count}), and what
    it cost: the CPU of the board's engines and of the vCPUs, and the
    ping-pong's own rounds and seconds."""
    before = (g.thread_cpu_ns('svme'), g.thread_cpu_ns('CPU '))
    out = g.out(cmd, timeout=seconds + 120)
    after = (g.thread_cpu_ns('svme'), g.thread_cpu_ns('CPU '))
    hist = re.search(r'^pingpong_hist ([\d.:,]+)$', out, re.M)
    done = re.search(r'^rounds (\d+) seconds ([\d.]+)$', out, re.M)
    assert hist and done and 'FAIL' not in out, out
    counts = dict(x.split(':') for x in hist[1].split(','))
    return counts, {'rounds': int(done[1]), 'seconds': done[2],
                    'engines_ns': after[0] - before[0],
                    'vcpus_ns': after[1] - before[1]}


def run_mailbox(rnd, board, cfg, rec, progress):
    """Figs. 5, 9 and 10: one boot with 2 vCPUs and the board's policy
    @board (BOARD_POLICIES), two mdev VIFs used from user space, and the
    CPU-to-CPU reference (in the polling boot)."""
    dev = f'selfvirt-nic,vifs=2,addr=05.0,{BOARD_POLICIES[board]}'
    seconds = cfg['pingpong_s']
    with guests(f'experiments-mailbox-{board}', [('g', [['-device', dev]])],
                smp=2) as (g,):
        a, b = create_mdevs(g, 2)
        tests = [('cpu-board', host) for host in ('poll', 'irq')]
        if board == 'polls':
            tests += [('cpu-cpu', host) for host in ('poll', 'irq')]
        for pair, host in tests:
            progress.step(f'round {rnd}/{cfg["rounds"]} mailbox: board '
                          f'{board}, {pair} ping-pong, host {host}')
            t0, cpu0 = time.monotonic(), host_cpu_times()
            if pair == 'cpu-cpu':
                cmd = f'cpu-pingpong {host} {seconds}'
            else:
                cmd = f'selfvirt-vfio {a} pingpong {b} {host} {seconds}'
            doorbells = mdev_attr(g, a, 'doorbells')
            signals = mdev_attr(g, b, 'signals')
            hist, cpu = pingpong(g, cmd, seconds)
            cpu['doorbells'] = mdev_attr(g, a, 'doorbells') - doorbells
            cpu['signals'] = mdev_attr(g, b, 'signals') - signals
            rec.mailbox(rnd, board, pair, host, hist, cpu)
            rec.host_point(rnd, f'mailbox-{board}-{pair}-{host}', 1, 0, t0,
                           cpu0)
            progress.finish_point()
        progress.step(f'round {rnd}/{cfg["rounds"]} Fig. 5: board {board}, '
                      f'{cfg["mib"]} MiB each way')
        t0, cpu0 = time.monotonic(), host_cpu_times()
        out = g.out(f'selfvirt-vfio {a} bandwidth {b} {cfg["mib"]}',
                    timeout=300)
        assert 'FAIL' not in out, out
        for path, mibs in re.findall(r'^(\w+)_mibs ([\d.]+)$', out, re.M):
            rec.bandwidth.append({'round': rnd, 'board': board, 'path': path,
                                  'mibs': mibs})
        rec.host_point(rnd, f'fig5-{board}', 1, 0, t0, cpu0)
        progress.finish_point()


def parse_variant(text):
    parts = text.split(':')
    if len(parts) not in (2, 3) or not re.fullmatch(r'[\w.-]+', parts[0]):
        raise argparse.ArgumentTypeError(
            f"'{text}' is not LABEL:DEVICE_PROPS[:MODULE_PARAMS]")
    label, props = parts[0], parts[1]
    params = parts[2] if len(parts) == 3 else ''
    for kv in filter(None, props.split(',') + params.split()):
        if not re.fullmatch(r'[\w-]+=[\w.-]+', kv):
            raise argparse.ArgumentTypeError(
                f"'{kv}' in variant '{label}' is not name=value")
    return f'sv+{label}', props, params


def int_list(lo, hi, what):
    """An argparse type: a comma-separated set of integers in lo..hi."""
    def parse(text):
        try:
            values = sorted({int(x) for x in text.split(',')})
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{text}' is not a list of "
                                             f"{what}")
        if values[0] < lo or values[-1] > hi:
            raise argparse.ArgumentTypeError(f'{what} must be {lo}..{hi}')
        return values
    return parse


def host_available_mib():
    with open('/proc/meminfo', encoding='utf-8') as f:
        for line in f:
            if line.startswith('MemAvailable:'):
                return int(line.split()[1]) // 1024
    raise RuntimeError('no MemAvailable in /proc/meminfo')


def vms_fit(n, cfg, host_mem, l1s):
    """Whether @l1s L1s with @n L2 VMs each fit in @host_mem MiB; if not,
    say so."""
    need = l1s * bench_nested.mib(bench_nested.l1_mem(n, cfg['l2_mem']))
    if need <= host_mem:
        return True
    which = "this host's L1" if l1s == 1 else 'the two L1s'
    print(f'experiments: {n} L2 VMs a side need {need} MiB for '
          f'{which}, more than '
          f'{host_mem} MiB (--host-mem): n = {n} left out', flush=True)
    return False


def serve_right(ap, args, key):
    """--role right: boot what the left side asks for, until it is done."""
    given = [f'--{k.replace("_", "-")}' for k, v in vars(args).items()
             if k not in ('role', 'peer', 'wire') and v != ap.get_default(k)]
    if given:
        ap.error(f'{", ".join(given)}: the left side chooses what runs; '
                 '--role right takes --peer and --wire only')
    host = RightHost(args.wire, args.peer)
    try:
        remote.serve(args.peer[1] + remote.CONTROL_PORT_OFFSET, host, key)
    finally:
        host.close()
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default='build/experiments')
    ap.add_argument('--quick', action='store_true',
                    help=f'L2 VMs at n in {QUICK["vm_ns"]}, one round')
    ap.add_argument('--rounds', type=int)
    ap.add_argument('--vm-setups', default=VM_DEFAULT,
                    help=f'VMs as the guests: of {", ".join(VM_SETUPS)} '
                    '(or \'\' for none)')
    ap.add_argument('--vm-ns', type=int_list(1, L2_AGENTS_MAX, 'L2 VMs a side'),
                    help='L2 VMs per host, e.g. 1,8,32')
    ap.add_argument('--vm-widths', type=int_list(1, 16, 'identifier widths'),
                    help='Fig. 7 with 8 L2 VMs a side: identifier widths')
    ap.add_argument('--l2-mem', default=bench_nested.L2_MEM,
                    help='memory of an L2 VM, e.g. 128M')
    ap.add_argument('--host-mem', type=int, metavar='MIB',
                    help='memory for the two L1s (default: this host\'s '
                    'available memory less 2 GiB); n that do not fit are '
                    'left out')
    ap.add_argument('--ns', type=int_list(1, 64, 'guests per host'),
                    help='namespaces per host, e.g. 1,4,16')
    ap.add_argument('--setups', default='',
                    help='network namespaces as the guests (the contrast): '
                    f'of {", ".join(BASE_SETUPS)}')
    ap.add_argument('--widths', type=int_list(1, 16, 'identifier widths'),
                    help='Fig. 7 identifier widths, e.g. 1,4,8')
    ap.add_argument('--no-fig7', action='store_true',
                    help='no Fig. 7 (identifier widths)')
    ap.add_argument('--no-fig4', action='store_true',
                    help='no Fig. 4 (stage costs)')
    ap.add_argument('--no-mailbox', action='store_true',
                    help='no Figs. 5, 9 and 10 (the mdev VIFs from user space)')
    ap.add_argument('--variant', type=parse_variant, action='append',
                    default=[], help='LABEL:DEVICE_PROPS[:MODULE_PARAMS]')
    add_wire_args(ap)
    args = ap.parse_args()
    check_wire_args(ap, args)
    key = None
    if args.role:
        if ':' in args.peer[0]:
            ap.error('--peer: the control connection is IPv4 only (an '
                     'address or a name)')
        try:
            key = remote.peer_key()
        except ValueError as e:
            ap.error(str(e))
    if args.role == 'right':
        return serve_right(ap, args, key)
    cfg = dict(QUICK if args.quick else FULL, wire=args.wire, peer=None,
               peer_addr=args.peer)
    if args.ns:
        cfg['ns'] = args.ns
    if args.widths:
        cfg['widths'] = args.widths
    if args.vm_ns:
        cfg['vm_ns'] = args.vm_ns
    if args.vm_widths:
        cfg['vm_widths'] = args.vm_widths
    try:
        cfg['l2_mem'] = args.l2_mem
        bench_nested.l1_mem(1, args.l2_mem)
    except ValueError as e:
        ap.error(f'--l2-mem: {e}')
    vm_setups = [s for s in args.vm_setups.split(',') if s]
    for s in vm_setups:
        if s not in VM_SETUPS:
            ap.error(f"unknown VM setup '{s}'; choose from "
                     f"{', '.join(VM_SETUPS)}")
    host_mem = args.host_mem or host_available_mib() - 2048
    l1s_here = 1 if args.role else 2
    cfg['vm_ns'] = [n for n in cfg['vm_ns']
                    if vms_fit(n, cfg, host_mem, l1s_here)]
    if vm_setups and not cfg['vm_ns']:
        ap.error(f'no L2 VM count fits in {host_mem} MiB (--host-mem)')
    ns_widths = bool(args.widths or args.setups)
    widths = [] if args.no_fig7 or not ns_widths else \
        cfg['widths'] + ['msix']
    vm_widths = [] if args.no_fig7 or not vm_setups else \
        cfg['vm_widths'] + ['msix']
    if args.rounds is not None:
        if args.rounds < 1:
            ap.error('--rounds must be at least 1')
        cfg['rounds'] = args.rounds
    setups = []
    for s in filter(None, args.setups.split(',')):
        if s not in BASE_SETUPS:
            ap.error(f"unknown setup '{s}'; choose from "
                     f"{', '.join(BASE_SETUPS)}")
        setups.append((s, *BASE_SETUPS[s]))
    setups += args.variant
    os.makedirs(args.out, exist_ok=True)

    per_boot = [len(cfg['ns']) + ('nic_mode=1' in p) for _, _, p in setups]
    fig4 = [] if args.no_fig4 else FIG4_NS
    fig4_modes = ('identifier', 'msix')
    boards = [] if args.no_mailbox else list(BOARD_POLICIES)
    # a boot per board policy: 2 ping-pongs and Fig. 5, and the polling
    # one 2 ping-pongs of two CPUs
    mailbox_points = 3 * len(boards) + 2 * ('polls' in boards)
    vm_points = [len(cfg['vm_ns']) + (VM_SETUPS[s][1] != 'direct')
                 for s in vm_setups]
    progress = Progress(cfg['rounds'] * (sum(per_boot) + len(widths) +
                                         sum(vm_points) + len(vm_widths) +
                                         len(fig4) * len(fig4_modes) +
                                         mailbox_points))
    rec = Recorder()
    started = run_started()
    # each boot of the round, in order: the rounds interleave the setups
    plan = ([lambda r, s=s: run_vms(r, s, cfg, rec, progress)
             for s in vm_setups] +
            [lambda r, w=w: run_vm_identifier(r, w, cfg, rec, progress)
             for w in vm_widths] +
            [lambda r, s=s: run_setup(r, *s, cfg, rec, progress)
             for s in setups] +
            [lambda r, w=w: run_identifier(r, w, cfg, rec, progress)
             for w in widths] +
            [lambda r, m=m: run_stages(r, m, cfg, rec, progress)
             for m in (fig4_modes if fig4 else ())] +
            [lambda r, b=b: run_mailbox(r, b, cfg, rec, progress)
             for b in boards])
    # --role left: the Link to the right side, in cfg['peer']
    link = contextlib.closing(remote.Link(
        args.peer[0], args.peer[1] + remote.CONTROL_PORT_OFFSET, key)) \
        if args.role else contextlib.nullcontext()
    with link as cfg['peer']:
        for rnd in range(1, cfg['rounds'] + 1):
            for boot in plan:
                boot(rnd)
                rec.save(args.out)  # a crash later keeps what was measured
    where = (f'the right L1 on {args.peer[0]} over {cfg["wire"]}'
             if args.role else f'a {cfg["wire"]} wire')
    meta = (f'Command: `{command_line()}`; '
            f'{where}; '
            f'{cfg["probes"]} probes per flow, iperf3 {cfg["seconds"]} s; '
            f'VM setups {", ".join(vm_setups) or "none"} at n = '
            f'{cfg["vm_ns"]} ({cfg["l2_mem"]} an L2 VM), Fig. 7 with VMs '
            f'{vm_widths or "none"}; namespace setups '
            f'{", ".join(s for s, _, _ in setups) or "none"} at n = '
            f'{cfg["ns"]}, Fig. 7 with namespaces {widths or "none"}'
            f'; Fig. 4 VIFs {fig4 or "none"}'
            + (f'; Figs. 5/9/10: ping-pongs of {cfg["pingpong_s"]} s, '
               f'{cfg["mib"]} MiB copied' if boards else '; Figs. 5/9/10 none')
            + f'; {time.strftime("%Y-%m-%d %H:%M")}, '
            f'{(time.monotonic() - progress.t0) / 60:.0f} min.')
    # when and on what code the CSVs were measured (scripts/bench-table.py)
    save_results(os.path.join(args.out, 'run.json'), started, None,
                 setting=meta)
    results = analysis.report(args.out, meta)
    for c in results:
        print(f'experiments: {c.verdict:7} {c.name}: {c.ours}')
    print(f'experiments: figures and report in {args.out}/')
    return 0


if __name__ == '__main__':
    sys.exit(main())
