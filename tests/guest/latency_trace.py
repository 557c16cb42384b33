#!/usr/bin/python3
"""Where a ping's round trip goes: selfvirt-nic's trace events, hop by hop.

Two TCG guests on a stream netdev, one selfvirt-nic each (the bench.py
set-up); guest A pings B.  Both QEMUs log the board's trace events with
timestamps (-trace, -msg timestamp=on; one host clock for both), and this
tool lines them up per echo request and reply:

  doorbell -> wire        the guest's doorbell exit, the egress and wire-tx
                          engines and the tx bottom half, to the net layer
                          (selfvirt_doorbell, _wire_tx)
  wire                    the stream socket and the peer's main loop
                          (_wire_tx, the peer's _wire_rx)
  wire -> ring            wire-rx and ingress engines to the window write
                          (_wire_rx, _rx_frame)
  ring -> interrupt       the signal's bottom half to the MSI or MSI-X
                          message (_rx_frame, _irq_level / _msix_notify)
  B's guest               B's interrupt to its reply's doorbell (the guest
                          kernel: interrupt, NAPI, ICMP, the driver's xmit)
  A's guest               what is left of ping's RTT: A's send path before
                          its doorbell and its receive path after its
                          interrupt

Prints the median of every hop over the pings, and the sum against ping's
own median RTT.  A benchmark, not a test.

--nested: an L2 VM in guest A pings a namespace VIF of guest B, first on
a VIF of its own (an mdev), then behind A's Linux bridge (virtio-net on a
tap, the board in plain NIC mode): "A guest" is then L2 and L1 together.

  tests/guest/latency_trace.py [--count N] [--irq-mode identifier|msix]
                               [--board PROPS ...] [--nested] [--save FILE]
"""

import argparse
import os
import re
import shutil
import statistics
import sys
import tempfile
import time

import bench_nested
from bench import setup
from harness import guests, host_cpu_times, ping_rtts, run_started, \
    save_results, steal_percent, vif_netns, wire_pair

EVENTS = ['selfvirt_doorbell', 'selfvirt_wire_tx',
          'selfvirt_wire_rx', 'selfvirt_rx_frame', 'selfvirt_irq_level',
          'selfvirt_msix_notify']
LINE = re.compile(r'^(\d+)@(\d+)\.(\d+):(selfvirt_\w+) ?(.*)$')


def read_trace(path, start=0):
    """[(seconds, event, args)] from a QEMU log-backend trace file, from
    byte @start on."""
    out = []
    with open(path) as f:
        f.seek(start)
        for line in f:
            m = LINE.match(line.strip())
            if m:
                out.append((int(m[2]) + int(m[3]) / 1e6, m[4], m[5]))
    return out


def next_event(trace, i, name, pred=lambda a: True):
    """Index of the first @name at or after @i whose args pass @pred."""
    while i < len(trace):
        if trace[i][1] == name and pred(trace[i][2]):
            return i
        i += 1
    return None


def one_way(src, dst, i, j):
    """Hops of one frame: @src from index @i, @dst from index @j.

    Returns (hops, next i, next j) or None when the traces end.
    """
    d = next_event(src, i, 'selfvirt_doorbell')
    if d is None:
        return None
    w = next_event(src, d, 'selfvirt_wire_tx')
    if w is None:
        return None
    r = next_event(dst, j, 'selfvirt_wire_rx')
    while r is not None and dst[r][0] < src[w][0]:
        r = next_event(dst, r + 1, 'selfvirt_wire_rx')
    ring = r is not None and next_event(dst, r, 'selfvirt_rx_frame')
    irq = ring and next((k for k in range(ring, len(dst))
                         if dst[k][1] == 'selfvirt_msix_notify' or
                         (dst[k][1] == 'selfvirt_irq_level' and
                          dst[k][2].endswith('level 1'))), None)
    if not irq:
        return None
    t = lambda tr, k: tr[k][0] * 1e3     # noqa: E731 (ms)
    hops = {
        'doorbell -> wire': t(src, w) - t(src, d),
        'wire': t(dst, r) - t(src, w),
        'wire -> ring': t(dst, ring) - t(dst, r),
        'ring -> interrupt': t(dst, irq) - t(dst, ring),
    }
    return hops, t(src, d), t(dst, irq), w + 1, irq + 1


def traced_ping(pinger, boards, count, dst):
    """ping's output for @count pings from @pinger to @dst, with the
    selfvirt trace events of the L1 guests @boards on meanwhile."""
    for g in boards:
        for e in EVENTS:
            g.vm.cmd('trace-event-set-state', name=e, enable=True)
    out = pinger.out(f'ping -c {count} -i 0.1 {dst}', timeout=count + 30)
    for g in boards:
        g.vm.cmd('trace-event-set-state', name='selfvirt_*', enable=False)
    time.sleep(0.5)
    return out


def breakdown(title, out, ta, tb, count):
    """The median of every hop in ms, A's board trace @ta, B's @tb, against
    ping's own median RTT in @out, printed and returned in path order;
    None if too few pings were found."""
    rtts = ping_rtts(out)
    hops = {}
    rest, b_guest = [], []
    i = j = 0
    while True:
        req = one_way(ta, tb, i, j)
        if not req:
            break
        h1, a_door, b_irq, i, j = req
        rep = one_way(tb, ta, j, i)
        if not rep:
            break
        h2, b_door, a_irq, j, i = rep
        for k, v in h1.items():
            hops.setdefault(f'A->B {k}', []).append(v)
        b_guest.append(b_door - b_irq)
        for k, v in h2.items():
            hops.setdefault(f'B->A {k}', []).append(v)
        rest.append(a_irq - a_door)
    if len(b_guest) < count // 2:
        print(f'{title}: only {len(b_guest)} of {count} pings found in the '
              'traces', file=sys.stderr)
        return None

    rtt = statistics.median(rtts)
    board = statistics.median(rest)
    medians = {}
    for k, v in hops.items():
        if k.startswith('B->A') and k.endswith('doorbell -> wire'):
            medians['B guest: interrupt -> reply doorbell'] = \
                statistics.median(b_guest)
        medians[k] = statistics.median(v)
    medians['A doorbell -> A interrupt (all above)'] = board
    medians['A guest: ping RTT minus the above'] = rtt - board
    medians['ping RTT'] = rtt
    print(f'{title}: {len(b_guest)} pings; medians in ms')
    for k, v in medians.items():
        print(f'{k:40} {v:7.3f}')
    return medians


def two_guests(args, dev, log):
    """Guest A pings guest B, a VIF each: (ping output, A's, B's trace)."""
    server, client = wire_pair()
    with guests('latency-trace', [
            ('a', [server, log[0],
                   ['-device', f'{dev},mac=52:54:00:5f:00:00']]),
            ('b', [client, log[1],
                   ['-device', f'{dev},mac=52:54:00:5f:01:00']])]) as (a, b):
        for g, host in ((a, 1), (b, 2)):
            g.run('sysctl -qw net.ipv6.conf.all.disable_ipv6=1 '
                  'net.ipv6.conf.default.disable_ipv6=1')
            setup(g, 'selfvirt', host)
        a.run('ping -c 3 -W 3 10.9.0.2', timeout=30)     # ARP, first wake-ups
        return traced_ping(a, (a, b), args.count, '10.9.0.2')


def nested(args, dev, log, paths):
    """An L2 VM in L1 A pings a namespace VIF of L1 B, on its own VIF
    (direct) and behind A's bridge (bridged): {shape: (ping output, A's
    trace, B's trace)}.  A's board carries only the L2 VM's frames."""
    server, client = wire_pair('latency-nested')
    dev += ',addr=05.0'         # where the harness and mdev tools look
    res = {}
    with guests('latency-nested', [
            ('a', [server, log[0], ['-device', f'{dev},mac=52:54:00:5f:00:00']]),
            ('b', [client, log[1], ['-device', f'{dev},mac=52:54:00:5f:01:00']])],
                nested=('a',)) as (a, b):
        a.run('modprobe kvm_amd')
        vif_netns(b, 1, 2)
        for g in (a, b):
            g.run('sysctl -qw net.ipv6.conf.all.disable_ipv6=1 '
                  'net.ipv6.conf.default.disable_ipv6=1')
        for shape in ('direct', 'bridged'):
            with bench_nested.l2_vms(a, shape, 0) as ((l2,), _):
                l2.run('sysctl -qw net.ipv6.conf.all.disable_ipv6=1')
                start = [os.path.getsize(p) for p in paths]
                out = traced_ping(l2, (a, b), args.count, bench_nested.peer(0))
                res[shape] = (out, read_trace(paths[0], start[0]),
                              read_trace(paths[1], start[1]))
    return res


def traced(args, props):
    """One boot (two for --nested) with the board's @props: {title: (ping
    output, A's trace, B's trace)}."""
    dev = f'selfvirt-nic,vifs=8,irq-mode={args.irq_mode},netdev=wire'
    if props:
        dev += f',{props}'
    tmp = tempfile.mkdtemp(prefix='selfvirt-trace-')
    paths = [os.path.join(tmp, f'{n}.trace') for n in 'ab']
    log = [['-msg', 'timestamp=on', '-D', p] for p in paths]
    try:
        if args.nested:
            return nested(args, dev, log, paths)
        out = two_guests(args, dev, log)
        return {'two guests': (out, read_trace(paths[0]),
                               read_trace(paths[1]))}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--count', type=int, default=50)
    ap.add_argument('--irq-mode', choices=['identifier', 'msix'],
                    default='identifier')
    ap.add_argument('--board', action='append', metavar='PROPS',
                    help='more selfvirt-nic properties, e.g. '
                    'inline-wake-us=0; again for another boot, \'\' for the '
                    'defaults (a column each)')
    ap.add_argument('--nested', action='store_true',
                    help='an L2 VM pings: on its own VIF, then behind its '
                    'L1\'s bridge')
    ap.add_argument('--save', metavar='FILE',
                    help='the medians as JSON (scripts/bench-table.py)')
    args = ap.parse_args()
    if args.count < 5:
        ap.error('--count must be at least 5')
    boards = args.board or ['']
    if len(set(boards)) != len(boards):
        ap.error('--board: each setting once (a column each)')

    started, host0 = run_started(), host_cpu_times()
    columns, ok = {}, True
    for props in boards:
        for title, r in traced(args, props).items():
            name = props or 'default'
            if args.nested:
                name += f', {title}'
            medians = breakdown(name, *r, args.count)
            ok = ok and medians is not None
            columns[name] = medians
    steal = steal_percent(host0, host_cpu_times())
    print(f'irq-mode={args.irq_mode}, host steal {steal:.1f}%')
    if ok and args.save:
        save_results(args.save, started, steal, bench='latency',
                     pings=args.count, irq_mode=args.irq_mode,
                     columns=columns)
    elif args.save:
        print(f'latency_trace: not saved to {args.save}: a column has too '
              'few pings', file=sys.stderr)
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())
