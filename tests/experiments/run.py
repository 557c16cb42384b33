#!/usr/bin/python3
"""The paper's evaluation (Raj et al., section 4), re-run under emulation.

Two TCG guests on a stream netdev stand for the paper's two hosts; a
network namespace with its own interface stands for a guest domain.  In
the n,n:1x1 pattern, flow i runs from namespace i of the left guest to
namespace i of the right one, all n flows started together:

  Fig. 2  latency: psapp (64-byte AF_PACKET probes, a random 0..100 ms
          between probes), the mean over flows of each flow's median
  Fig. 3  aggregate TCP throughput: n iperf3 flows
  Fig. 4  the micro-engines' stage costs (the board's own clock,
          stage-timing=on): egress on the sending board, ingress on the
          receiving one, with 1, 8 and 32 VIFs moving TCP; in the same
          boots the host's costs of section 4.3.1 (the driver's cost_stats:
          message send and receive, interrupt virtualization), in
          identifier and MSI-X mode
  Fig. 7  8 guests on identifiers 1..8 bits wide: the latency of the guest
          in the last spot of a shared bit (VIF 7: the driver polls the
          VIFs of a bit in index order), MSI-X as the reference

for each setup: sv (a VIF per namespace, interrupt identifier), sv-msix
(the same with a vector per VIF signal), bridged (the board in plain NIC
mode, a Linux bridge and a veth per namespace: the paper's driver
domain), dom0 (one flow from the bridging guest itself, n = 1).

Rounds repeat every setup in turn, so that host load hits them alike.
Raw samples go to OUT/*.csv, figures and report.md to OUT (analysis.py).

  tests/experiments/run.py [--out DIR] [--quick] [--rounds N]
      [--setups sv,sv-msix,bridged (or '' for none)] [--ns 1,2,4,...]
      [--widths 1,2,...] [--no-fig7] [--no-fig4]
      [--variant LABEL:DEVICE_PROPS[:MODULE_PARAMS]] ...

A variant re-runs the sv setup with other board properties or driver
parameters and plots it beside the rest, e.g. --variant poll:poll-us=200
or --variant w4:irq-id-width=4 or --variant chain::rx_entries=64.
"""

import argparse
import os
import re
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'guest'))

import analysis                                     # noqa: E402
from harness import (guests, host_cpu_times, iperf3_mbps,  # noqa: E402
                     vif_netns, wire_pair)

FULL = {'ns': [1, 2, 4, 8, 16, 32], 'rounds': 3, 'probes': 40, 'seconds': 5,
        'widths': [1, 2, 3, 4, 5, 6, 7, 8]}
QUICK = {'ns': [1, 16, 32], 'rounds': 1, 'probes': 15, 'seconds': 3,
         'widths': [1, 2, 4, 8]}
FIG7_GUESTS = 8
FIG4_NS = [1, 8, 32]        # the paper's VIF counts
BASE_SETUPS = {
    # name: (board properties, driver parameters)
    'sv': ('', ''),
    'sv-msix': ('irq-mode=msix', ''),
    'bridged': ('', 'nic_mode=1'),
}
MAX_WAIT_MS = 100           # psapp: a random 0..100 ms between probes


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


def measure_latency(a, b, n, probes, dom0=False):
    """n psapp flows started together: every RTT in us, per flow, and the
    probes lost (no echo within psapp's 1 s)."""
    fl = flows(n, dom0)
    macs = macs_of(b, fl)
    limit = int(probes * (MAX_WAIT_MS / 1000 + 1) + 30)
    # servers in their own sessions, so that the agent's command returns
    b.run(' '.join(f'setsid {in_ns(ns, f"psapp server {ifname} -t {limit}")}'
                   ' < /dev/null > /dev/null 2>&1 &' for ns, ifname, _ in fl))
    time.sleep(0.5)
    cmds = ' & '.join(
        in_ns(ns, f'psapp client {ifname} {mac} -n {probes} '
                  f'-w {MAX_WAIT_MS}') + f' > /tmp/psapp{i}.out'
        for i, ((ns, ifname, _), mac) in enumerate(zip(fl, macs)))
    a.run(f'{cmds}; wait', timeout=limit + 60)
    b.run('pkill psapp', check=False)
    result, lost = [], 0
    for i in range(len(fl)):
        out = a.out(f'cat /tmp/psapp{i}.out')
        result.append([float(x) for x in re.findall(r'^rtt_us ([\d.]+)$',
                                                    out, re.M)])
        lost += int(re.search(r'^probes \d+ received \d+ lost (\d+)', out,
                              re.M)[1])
    return result, lost


def measure_throughput(a, b, n, seconds, dom0=False):
    """n iperf3 flows started together; Mbit/s of each."""
    fl = flows(n, dom0)
    b.run('; '.join(in_ns(ns, 'iperf3 -s -D -1') for ns, _, _ in fl))
    time.sleep(0.5)
    cmds = ' & '.join(
        in_ns(ns, f'iperf3 -c {addr} -t {seconds}') + f' > /tmp/iperf{i}.out'
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

    def stage_point(self, rnd, mode, n, before, after):
        """Fig. 4 and 4.3.1: each board's stage sums and its driver's
        costs over one point: {board: (stage_times, host_costs)}."""
        for board, (stages, costs) in after.items():
            was_stages, was_costs = before[board]
            point = {'round': rnd, 'mode': mode, 'n': n, 'board': board}
            for stage, frames, ns in deltas(was_stages, stages, 'frames'):
                self.stages.append(dict(point, stage=stage, frames=frames,
                                        ns=ns))
            for metric, events, ns in deltas(was_costs, costs, 'events'):
                self.costs.append(dict(point, metric=metric, events=events,
                                       ns=ns))

    def identifier(self, rnd, width, latency):
        for flow, rtts in enumerate(latency):
            self.ident += [{'round': rnd, 'width': width, 'flow': flow,
                            'rtt_us': rtt} for rtt in rtts]

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

    def save(self, out):
        analysis.write_csv(os.path.join(out, 'fig2_latency.csv'),
                           ['round', 'setup', 'n', 'flow', 'rtt_us'], self.lat)
        analysis.write_csv(os.path.join(out, 'fig3_throughput.csv'),
                           ['round', 'setup', 'n', 'flow', 'mbps'], self.thr)
        analysis.write_csv(os.path.join(out, 'fig7_identifier.csv'),
                           ['round', 'width', 'flow', 'rtt_us'], self.ident)
        analysis.write_csv(os.path.join(out, 'fig4_stages.csv'),
                           ['round', 'mode', 'n', 'board', 'stage', 'frames',
                            'ns'], self.stages)
        analysis.write_csv(os.path.join(out, 'host_costs.csv'),
                           ['round', 'mode', 'n', 'board', 'metric', 'events',
                            'ns'], self.costs)
        analysis.write_csv(os.path.join(out, 'host.csv'),
                           ['round', 'setup', 'n', 'seconds', 'steal_pct',
                            'load1', 'probes_lost'], self.host)


def run_setup(rnd, setup, props, params, cfg, rec, progress):
    """One boot of the two guests: every n of the figure, in order."""
    nmax = max(cfg['ns'])
    bridged = 'nic_mode=1' in params
    server, client = wire_pair()
    dev = (f'selfvirt-nic,netdev=wire,vifs={max(nmax, 8)},addr=05.0' +
           (f',{props}' if props else ''))
    specs = [('left', [server, ['-device', dev + ',mac=52:54:00:5f:00:00']]),
             ('right', [client, ['-device', dev + ',mac=52:54:00:5f:01:00']])]
    with guests(f'experiments-{setup}', specs) as (a, b):
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
            thr = measure_throughput(a, b, n, cfg['seconds'], dom0)
            rec.point(rnd, name, n, lat, thr, t0, cpu0)
            progress.finish_point()


def run_identifier(rnd, width, cfg, rec, progress):
    """Fig. 7: one boot with an identifier @width bits wide ('msix': a
    vector per signal instead), 8 guests, psapp in all of them."""
    props = 'irq-mode=msix' if width == 'msix' else f'irq-id-width={width}'
    server, client = wire_pair()
    dev = f'selfvirt-nic,netdev=wire,vifs={FIG7_GUESTS},addr=05.0,{props}'
    specs = [('left', [server, ['-device', dev + ',mac=52:54:00:5f:00:00']]),
             ('right', [client, ['-device', dev + ',mac=52:54:00:5f:01:00']])]
    what = 'MSI-X' if width == 'msix' else f'{width}-bit identifier'
    with guests(f'experiments-fig7-{width}', specs) as (a, b):
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


def host_costs(g, n):
    """The driver's host costs (ethtool -S host_*, cost_stats=1), summed
    over the VIFs of namespaces v0..v(n-1); the master interrupt's are the
    board's, shown by every VIF: taken once."""
    out = g.out(f'for i in $(seq 0 {n - 1}); do echo "vif $i"; '
                '/usr/bin/ip netns exec v$i ethtool -S vif | grep host_; done',
                timeout=120)
    sums = {m: {'ns': 0, 'events': 0} for m in HOST_COSTS}
    vif = None
    for line in out.splitlines():
        if line.startswith('vif '):
            vif = int(line.split()[1])
            continue
        key, _, val = line.strip().partition(': ')
        metric = key[:-3] if key.endswith('_ns') else key[:-1]
        field = 'ns' if key.endswith('_ns') else 'events'
        if metric in sums and (metric != 'host_master_irq' or vif == 0):
            sums[metric][field] += int(val)
    return sums


def run_stages(rnd, mode, cfg, rec, progress):
    """Fig. 4 and section 4.3.1: one boot with 32 VIFs a side, the boards'
    stage clocks and the drivers' cost counters on; n TCP flows for each
    n of FIG4_NS, the sums around each.  @mode: identifier or msix."""
    nmax = max(FIG4_NS)
    server, client = wire_pair()
    dev = (f'selfvirt-nic,netdev=wire,vifs={nmax},addr=05.0,id=sv,'
           f'stage-timing=on,irq-mode={mode}')
    specs = [('left', [server, ['-device', dev + ',mac=52:54:00:5f:00:00']]),
             ('right', [client, ['-device', dev + ',mac=52:54:00:5f:01:00']])]
    with guests(f'experiments-fig4-{mode}', specs) as (a, b):
        vif_netns(a, nmax, 1, 'cost_stats=1')
        vif_netns(b, nmax, 2, 'cost_stats=1')
        for n in FIG4_NS:
            progress.step(f'round {rnd}/{cfg["rounds"]} fig4 {mode} n={n}')
            t0, cpu0 = time.monotonic(), host_cpu_times()
            boards = {'left': a, 'right': b}
            before = {k: (stage_times(g), host_costs(g, n))
                      for k, g in boards.items()}
            measure_throughput(a, b, n, cfg['seconds'])
            after = {k: (stage_times(g), host_costs(g, n))
                     for k, g in boards.items()}
            rec.stage_point(rnd, mode, n, before, after)
            rec.host_point(rnd, f'fig4-{mode}', n, 0, t0, cpu0)
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default='build/experiments')
    ap.add_argument('--quick', action='store_true',
                    help=f'n in {QUICK["ns"]}, one round (at most 10 min)')
    ap.add_argument('--rounds', type=int)
    ap.add_argument('--ns', type=int_list(1, 64, 'guests per host'),
                    help='guests per host, e.g. 1,4,16')
    ap.add_argument('--setups', default=','.join(BASE_SETUPS))
    ap.add_argument('--widths', type=int_list(1, 16, 'identifier widths'),
                    help='Fig. 7 identifier widths, e.g. 1,4,8')
    ap.add_argument('--no-fig7', action='store_true',
                    help='no Fig. 7 (identifier widths)')
    ap.add_argument('--no-fig4', action='store_true',
                    help='no Fig. 4 (stage costs)')
    ap.add_argument('--variant', type=parse_variant, action='append',
                    default=[], help='LABEL:DEVICE_PROPS[:MODULE_PARAMS]')
    args = ap.parse_args()
    cfg = dict(QUICK if args.quick else FULL)
    if args.ns:
        cfg['ns'] = args.ns
    if args.widths:
        cfg['widths'] = args.widths
    widths = [] if args.no_fig7 else cfg['widths'] + ['msix']
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
    # a quick run keeps to its 10 minutes: Fig. 4 in identifier mode only
    fig4_modes = ('identifier',) if args.quick else ('identifier', 'msix')
    progress = Progress(cfg['rounds'] * (sum(per_boot) + len(widths) +
                                         len(fig4) * len(fig4_modes)))
    rec = Recorder()
    for rnd in range(1, cfg['rounds'] + 1):
        for setup, props, params in setups:
            run_setup(rnd, setup, props, params, cfg, rec, progress)
            rec.save(args.out)      # a crash later keeps what was measured
        for width in widths:
            run_identifier(rnd, width, cfg, rec, progress)
            rec.save(args.out)
        for mode in fig4_modes if fig4 else ():
            run_stages(rnd, mode, cfg, rec, progress)
            rec.save(args.out)
    meta = (f'Command: `tests/experiments/run.py {" ".join(sys.argv[1:])}`; '
            f'n = {cfg["ns"]}, {cfg["probes"]} probes per flow, iperf3 '
            f'{cfg["seconds"]} s; setups '
            f'{", ".join(s for s, _, _ in setups) or "none"}'
            f'; Fig. 7 widths {widths or "none"}'
            f'; Fig. 4 VIFs {fig4 or "none"}'
            f'; {time.strftime("%Y-%m-%d %H:%M")}, '
            f'{(time.monotonic() - progress.t0) / 60:.0f} min.')
    results = analysis.report(args.out, meta)
    for c in results:
        print(f'experiments: {c.verdict:7} {c.name}: {c.ours}')
    print(f'experiments: figures and report in {args.out}/')
    return 0


if __name__ == '__main__':
    sys.exit(main())
