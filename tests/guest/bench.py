#!/usr/bin/python3
"""Benchmark: TCP throughput and ping RTT between two guests, per NIC model.

Two TCG guests joined by a wire, one NIC each; the same workload
(ping, the raw-socket probe, then one iperf3 TCP flow) through:

  selfvirt      a selfvirt-nic VIF (self-virtualizing mode, identifier)
  selfvirt-msix the same with irq-mode=msix (a vector per VIF signal)
  selfvirt-br   selfvirt-nic in plain NIC mode with a Linux bridge and a
                veth into a namespace (the paper's software-bridging baseline)
  selfvirt-2k   selfvirt with 2 KiB receive slots (rx_buf=2048; the
                default is a page): half a page per posted buffer, and a
                chain of 36 KiB, so the board cuts 64 KiB GSO frames
  selfvirt-copy selfvirt with the paper's receive (rx_copy=1): every frame
                copied out of the ring, no posted buffers
  selfvirt-cost selfvirt with the driver's send and receive timed
                (cost_stats=1)
  virtio-net, e1000, e1000e, igb, rtl8139   QEMU's own models as peers

--wire stream (the default): the guests back to back over a unix socket,
which carries no virtio-net header, so every model cuts its TSO frames;
--wire tap: each guest on a tap device in a Linux bridge (in a network
namespace of its own; root), as libvirt wires guests, where virtio-net,
igb, e1000e and selfvirt hand the host TSO frames whole.

Two hosts over IP: --role left|right --peer HOST:PORT runs one side of one
model here, the other side on the other machine with the same command
(--wire inet: a TCP stream that the right side listens for on PORT;
--wire dgram: UDP).  The right side serves until the left side, which
measures and prints, is done; the CPU is that of this host's QEMU.

Models are interleaved round by round so that host load hits them alike.
Prints medians (ping RTT, the experiment kit's raw-socket probe psapp,
iperf3), and ratios to virtio-net, the best peer and e1000, with the
host CPU the two QEMU processes used per Gbit/s during iperf3 (and by
thread: each guest's vCPU, the boards' engines, the rest), and the
host's steal time over the whole run.

--idle S also measures, per model, what one guest's QEMU uses in S
seconds with its NIC up and idle: selfvirt models with 32 VIFs up (the
device's idle cost is the difference to the peers, whose QEMU idles the
same TCG guest).

--signal-gap US sets the board's signal moderation (ethtool -C rx-usecs)
on the selfvirt models' interfaces.

--gso-max-size BYTES caps the TCP sender's segmentation offload frames
(ip link ... gso_max_size) on every model: how the host cores per Gbit/s
change with it tells what larger frames (BIG TCP) could still save.

  tests/guest/bench.py [--runs N] [--seconds S] [--models a,b,...] [--idle S]
      [--signal-gap US] [--gso-max-size BYTES] [--wire stream|tap]
  tests/guest/bench.py --role left|right --peer HOST:PORT [--wire inet|dgram]
      [--models MODEL] [--runs N] [--seconds S]
"""

import argparse
import re
import statistics
import sys
import time

from harness import (THREAD_ROLES, abi_define, cores_between, guests,
                     run_started, save_results,
                     host_cpu_times, iperf3_mbps, qemu_thread_cpu,
                     nc_listen, nc_send, ping_rtts, remote_end,
                     steal_percent, wait_for_file, wire, wire_pair,
                     add_wire_args, check_wire_args)

BYE_PORT = 5010     # over IP: the left side's "done" to the right's guest
SERVE_S = 3600      # the right side serves at most this long

MODELS = {
    # name: (device, guest module, module parameters)
    'selfvirt': ('selfvirt-nic,vifs=8', 'selfvirt', 'vifs=1'),
    'selfvirt-msix': ('selfvirt-nic,vifs=8,irq-mode=msix', 'selfvirt',
                      'vifs=1'),
    'selfvirt-br': ('selfvirt-nic,vifs=8', 'selfvirt', 'nic_mode=1'),
    # 2 KiB receive slots: a chain of 36 KiB cuts a 64 KiB GSO frame
    'selfvirt-2k': ('selfvirt-nic,vifs=8', 'selfvirt', 'vifs=1 rx_buf=2048'),
    # the paper's receive: every frame copied out of the ring
    'selfvirt-copy': ('selfvirt-nic,vifs=8', 'selfvirt', 'vifs=1 rx_copy=1'),
    # the driver times its send and its receive (the copy out of the ring)
    'selfvirt-cost': ('selfvirt-nic,vifs=8', 'selfvirt',
                      'vifs=1 cost_stats=1'),
    'virtio-net': ('virtio-net-pci,romfile=', 'virtio_net', ''),
    'e1000': ('e1000,romfile=', 'e1000', ''),
    'e1000e': ('e1000e,romfile=', 'e1000e', ''),
    'igb': ('igb,romfile=', 'igb', ''),
    'rtl8139': ('rtl8139,romfile=', '8139cp', ''),   # QEMU's is a C+
}
PEERS = ['virtio-net', 'e1000', 'e1000e', 'igb', 'rtl8139']


def setup(g, model, host, params=None, gap_us=0, gso=0):
    """Bring the NIC up (a selfvirt one with signal gap @gap_us, TSO frames
    of at most @gso bytes if not 0); return the network namespace to run
    in ('' = root)."""
    dev, module, default_params = MODELS[model]
    g.run(f'modprobe {module} {default_params if params is None else params}')
    g.run('for i in $(seq 50); do [ -e /sys/class/net/eth0 ] && break; '
          'sleep 0.1; done; ip link set eth0 up')
    if module == 'selfvirt' and gap_us:
        g.run(f'ethtool -C eth0 rx-usecs {gap_us}')
    if model != 'selfvirt-br':
        g.run(f'ip addr add 10.9.0.{host}/24 dev eth0')
        if gso:
            g.run(f'/usr/bin/ip link set dev eth0 gso_max_size {gso}')
        return ''
    g.run('modprobe bridge; modprobe veth; ip link add br0 type bridge; '
          'ip link set eth0 master br0; ip link set br0 up; '
          'ip netns add d1; ip link add h1 type veth peer name vif netns d1; '
          'ip link set h1 master br0; ip link set h1 up; '
          f'ip -n d1 link set vif up; ip -n d1 addr add 10.9.0.{host}/24 dev vif')
    if gso:
        g.run(f'/usr/bin/ip -n d1 link set dev vif gso_max_size {gso}')
    return '/usr/bin/ip netns exec d1 '   # not busybox's ip (setsid)


def ifname_of(model):
    return 'vif' if model == 'selfvirt-br' else 'eth0'


def probe_server(b, ns_b, model, seconds=60):
    """psapp's echo server on guest @b for @seconds."""
    b.run(f'setsid {ns_b}psapp server {ifname_of(model)} -t {seconds} '
          '< /dev/null > /dev/null 2>&1 &')


def probe_us(a, b, ns_a, ns_b, model, probes=30):
    """Median RTT of the experiment kit's raw-socket probe (psapp), in us."""
    mac = b.out(f'{ns_b}cat /sys/class/net/{ifname_of(model)}/address')
    probe_server(b, ns_b, model)
    time.sleep(0.5)
    try:
        return probe_client(a, ns_a, model, mac.strip(), probes)
    finally:
        b.run('pkill psapp', check=False)


def probe_client(a, ns_a, model, mac, probes=30):
    """psapp's probes from guest @a to the server at @mac: median us."""
    out = a.out(f'{ns_a}psapp client {ifname_of(model)} {mac} -n {probes} '
                '-w 20', timeout=60)
    m = re.search(r'received (\d+) lost \d+ median_us ([\d.]+)', out)
    assert m and int(m[1]) > 0, f'psapp: no probe came back: {out}'
    return float(m[2])


def driver_costs(g, ns):
    """The driver's timed send and receive so far (cost_stats=1): ns, count."""
    out = g.out(f'{ns}ethtool -S eth0')
    return [int(re.search(rf'^\s*host_{k}: (\d+)$', out, re.M)[1])
            for k in ('send_ns', 'sends', 'recv_ns', 'recvs')]


def print_costs(model, before, after, roles, seconds):
    """The sender's send and the receiver's receive (with its copy out of
    the ring), per frame and as a share of that guest's vCPU."""
    send_ns, sends = after[0][0] - before[0][0], after[0][1] - before[0][1]
    recv_ns, recvs = after[1][2] - before[1][2], after[1][3] - before[1][3]
    print(f'{model}: send {send_ns / max(sends, 1):.0f} ns per frame, '
          f'{send_ns / 1e9 / (roles["tx vCPU"] * seconds):.0%} of the '
          f'sender\'s vCPU; receive {recv_ns / max(recvs, 1):.0f} ns per '
          f'frame, {recv_ns / 1e9 / (roles["rx vCPU"] * seconds):.0%} of '
          'the receiver\'s vCPU', flush=True)


def one_run(model, seconds, gap_us=0, gso=0, kind='stream'):
    dev = MODELS[model][0]
    left = ['-device', f'{dev},netdev=wire,mac=52:54:00:5f:00:00']
    right = ['-device', f'{dev},netdev=wire,mac=52:54:00:5f:01:00']
    with wire(kind) as w, \
            guests(f'bench-{model}', [('left', [w.ends[0], left]),
                                      ('right', [w.ends[1], right])],
                   wrapper=w.wrapper) as (a, b):
        ns_a = setup(a, model, 1, gap_us=gap_us, gso=gso)
        ns_b = setup(b, model, 2, gap_us=gap_us, gso=gso)
        a.run(f'{ns_a}ping -c 3 -W 3 10.9.0.2', timeout=30)   # warm ARP
        out = a.out(f'{ns_a}ping -c 10 -i 0.2 10.9.0.2', timeout=30)
        rtts = ping_rtts(out)
        probe = probe_us(a, b, ns_a, ns_b, model)
        b.run(f'{ns_b}iperf3 -s -D -1')
        time.sleep(0.5)
        timed = 'cost_stats=1' in MODELS[model][2]
        costs = timed and [driver_costs(a, ns_a), driver_costs(b, ns_b)]
        cpu0, t0 = qemu_thread_cpu(a, b), time.monotonic()
        out = a.out(f'{ns_a}iperf3 -c 10.9.0.2 -t {seconds}',
                    timeout=seconds + 60)
        elapsed = time.monotonic() - t0
        roles = cores_between(cpu0, qemu_thread_cpu(a, b), elapsed)
        if timed:
            print_costs(model, costs, [driver_costs(a, ns_a),
                                       driver_costs(b, ns_b)], roles, elapsed)
        mbps = iperf3_mbps(out)
        return (mbps, statistics.median(rtts), roles['all'] / (mbps / 1000),
                probe, roles)


def serve(g, ns, model):
    """The right side over IP: answer ping, psapp and iperf3 until the left
    side says it is done, over the wire itself."""
    g.run(f'{ns}iperf3 -s -D')
    probe_server(g, ns, model, SERVE_S)
    nc_listen(g, ns, port=BYE_PORT, dst='/tmp/bye', done='/tmp/bye.done')
    print('bench: serving until the left side is done', flush=True)
    wait_for_file(g, '/tmp/bye.done', timeout=SERVE_S)


def peer_mac(g, ns):
    """The right side's MAC, as ARP learnt it."""
    for line in g.out(f'{ns}cat /proc/net/arp').splitlines():
        if line.split()[0] == '10.9.0.2':
            return line.split()[3]
    raise AssertionError('no ARP entry for 10.9.0.2')


def measure_remote(g, ns, model, seconds):
    """One round from the left side over IP; CPU of this host's QEMU."""
    rtts = ping_rtts(g.out(f'{ns}ping -c 10 -i 0.2 10.9.0.2', timeout=30))
    probe = probe_client(g, ns, model, peer_mac(g, ns))
    cpu0, t0 = g.cpu_seconds(), time.monotonic()
    iperf = f'{ns}iperf3 -c 10.9.0.2 -t {seconds}'
    out = g.out(f'for t in $(seq 10); do {iperf} && exit 0; sleep 1; done; '
                'exit 1', timeout=10 * (seconds + 20))
    cores = (g.cpu_seconds() - cpu0) / (time.monotonic() - t0)
    mbps = iperf3_mbps(out)
    return mbps, statistics.median(rtts), cores / (mbps / 1000), probe


def remote_side(args):
    """This host's side of a bench over IP with the other on --peer."""
    model, left = args.models, args.role == 'left'
    dev = (f'{MODELS[model][0]},netdev=wire,'
           f'mac=52:54:00:5f:{"00" if left else "01"}:00')
    end = remote_end(args.wire, args.role, args.peer)
    with guests(f'bench-{args.role}', [(args.role, [end, ['-device', dev]])]) \
            as (g,):
        ns = setup(g, model, 1 if left else 2, gap_us=args.signal_gap,
                   gso=args.gso_max_size)
        if not left:
            serve(g, ns, model)
            return 0
        g.run(f'for t in $(seq 300); do {ns}ping -c 1 -W 1 10.9.0.2 && '
              'exit 0; done; exit 1', timeout=700)
        rounds = []
        for r in range(args.runs):
            rounds.append(measure_remote(g, ns, model, args.seconds))
            mbps, rtt, cpu, probe = rounds[-1]
            print(f'round {r + 1}/{args.runs} {model}: {mbps:7.1f} Mbit/s '
                  f'RTT {rtt:.2f} ms, probe {probe:.0f} us, {cpu:.2f} cores '
                  'of this host per Gbit/s', flush=True)
        g.run('echo done > /tmp/bye')
        nc_send(g, ns, '10.9.0.2', path='/tmp/bye', port=BYE_PORT,
                rc='/tmp/bye.rc')
        wait_for_file(g, '/tmp/bye.rc', timeout=60)
    med = [statistics.median(x[i] for x in rounds) for i in range(4)]
    print(f'\nmedians of {args.runs} runs, {args.seconds} s iperf3 TCP, '
          f'{model} over a {args.wire} wire to {args.peer[0]}: '
          f'{med[0]:.1f} Mbit/s, RTT {med[1]:.2f} ms, probe {med[3]:.0f} '
          f'us, {med[2]:.2f} cores of this host per Gbit/s')
    return 0


def idle_run(model, seconds):
    """Host CPU cores one guest's QEMU uses with its NIC up and idle."""
    dev = MODELS[model][0]
    params = None
    if model.startswith('selfvirt') and model != 'selfvirt-br':
        dev = dev.replace('vifs=8', 'vifs=32')
        params = 'vifs=32'
    server, _ = wire_pair()
    with guests(f'idle-{model}', [('idle', [server, [
            '-device', f'{dev},netdev=wire,mac=52:54:00:5f:00:00']])]) as (g,):
        # no IPv6: its router solicitations and DAD on 32 links are traffic
        g.run('sysctl -qw net.ipv6.conf.all.disable_ipv6=1 '
              'net.ipv6.conf.default.disable_ipv6=1')
        setup(g, model, 1, params)
        g.run('for l in /sys/class/net/*; do ip link set ${l##*/} up; done')
        time.sleep(3)
        cpu0, t0 = g.cpu_seconds(), time.monotonic()
        time.sleep(seconds)
        return (g.cpu_seconds() - cpu0) / (time.monotonic() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--runs', type=int, default=5)
    ap.add_argument('--seconds', type=int, default=5)
    ap.add_argument('--models', default=','.join(MODELS))
    ap.add_argument('--idle', type=int, default=0, metavar='S',
                    help='also measure each idle guest for S seconds')
    ap.add_argument('--signal-gap', type=int, default=0, metavar='US',
                    help='the selfvirt interfaces\' signal gap')
    add_wire_args(ap)
    ap.add_argument('--save', metavar='FILE',
                    help='every run\'s figures as JSON (scripts/bench-table.py)')
    ap.add_argument('--gso-max-size', type=int, default=0, metavar='BYTES',
                    help='largest TSO frame the senders build (0: the '
                    'kernel\'s default)')
    args = ap.parse_args()
    check_wire_args(ap, args)
    models = args.models.split(',')
    for m in models:
        if m not in MODELS:
            ap.error(f"unknown model '{m}'; choose from {', '.join(MODELS)}")
    if args.runs < 1 or args.seconds < 1 or args.idle < 0:
        ap.error('--runs and --seconds must be at least 1, --idle at least 0')
    gap_max = abi_define('SELFVIRT_SIGNAL_GAP_MAX_US')
    if not 0 <= args.signal_gap <= gap_max:
        ap.error(f'--signal-gap must be 0..{gap_max} us')
    if args.gso_max_size and not 1500 <= args.gso_max_size <= 65536:
        ap.error('--gso-max-size must be 1500..65536 bytes (0: default)')

    if args.role:
        if len(models) != 1 or args.idle:
            ap.error('--role takes one model and no --idle')
        args.models = models[0]
        return remote_side(args)

    # what is measured is the tree at the start: edits meanwhile are not
    started = run_started()
    host0 = host_cpu_times()
    results = {m: [] for m in models}
    roles = {m: [] for m in models}
    idle = {m: [] for m in models}
    for r in range(args.runs):
        for m in models:
            mbps, rtt, cpu, probe, cores = one_run(m, args.seconds,
                                                   args.signal_gap,
                                                   args.gso_max_size,
                                                   args.wire)
            results[m].append((mbps, rtt, cpu, probe))
            roles[m].append(cores)
            print(f'round {r + 1}/{args.runs} {m:>12}: {mbps:7.1f} Mbit/s '
                  f'RTT {rtt:.2f} ms, probe {probe:.0f} us, {cpu:.2f} host '
                  'cores per Gbit/s', flush=True)
            if args.idle:
                idle[m].append(idle_run(m, args.idle))
                print(f'round {r + 1}/{args.runs} {m:>12}: idle guest '
                      f'{100 * idle[m][-1]:.1f}% of a core', flush=True)
    steal = steal_percent(host0, host_cpu_times())

    med = {m: tuple(statistics.median(x[i] for x in v) for i in range(4))
           for m, v in results.items()}
    peers = [m for m in PEERS if m in med]
    best = max(peers, key=lambda m: med[m][0]) if peers else None
    print(f'\nmedians of {args.runs} runs, {args.seconds} s iperf3 TCP, '
          f'1 flow, two TCG guests on a {args.wire} wire; selfvirt signal '
          'gap '
          f'{args.signal_gap} us; gso_max_size '
          f'{args.gso_max_size or "default"}; host steal {steal:.1f}%')
    print(f'{"model":>12} {"Mbit/s":>8} {"RTT ms":>7} {"/virtio":>8} '
          f'{"/best peer":>11} {"RTT/e1000":>10} {"probe us":>9} '
          f'{"/e1000":>7} {"cores/Gbit/s":>13}'
          + (f' {"idle core %":>12}' if args.idle else ''))
    for m in models:
        mbps, rtt, cpu, probe = med[m]
        vs_virtio = (f'{mbps / med["virtio-net"][0]:.2f}'
                     if 'virtio-net' in med else '-')
        vs_best = f'{mbps / med[best][0]:.2f}' if best else '-'
        vs_e1000 = f'{rtt / med["e1000"][1]:.2f}' if 'e1000' in med else '-'
        probe_e1000 = (f'{probe / med["e1000"][3]:.2f}' if 'e1000' in med
                       else '-')
        line = (f'{m:>12} {mbps:8.1f} {rtt:7.2f} {vs_virtio:>8} '
                f'{vs_best:>11} {vs_e1000:>10} {probe:9.0f} {probe_e1000:>7} '
                f'{cpu:13.2f}')
        if args.idle:
            line += f' {100 * statistics.median(idle[m]):12.1f}'
        print(line)
    if best:
        print(f'best peer: {best}')
    print_roles(models, med, roles)
    if args.save:
        save(args, started, steal, results, roles)
    return 0


def save(args, started, steal, results, roles):
    """Every run's figures as JSON in args.save, for scripts/bench-table.py
    (the tables in docs/benchmarks.md); @started: (date, commit)."""
    save_results(args.save, started, steal,
                 wire=args.wire, runs=args.runs, seconds=args.seconds,
                 models={m: {'mbps': [r[0] for r in v],
                             'rtt_ms': [r[1] for r in v],
                             'cores_per_gbit': [r[2] for r in v],
                             'probe_us': [r[3] for r in v],
                             'threads': roles[m]}
                         for m, v in results.items()})


def print_roles(models, med, roles):
    """Host cores by thread during iperf3, and per Gbit/s (medians)."""
    print('\nhost cores during iperf3 by QEMU thread, medians (per Gbit/s '
          'in brackets); a vCPU near 1.00 bounds its guest; waiting: '
          'runnable threads without a core')
    print(f'{"model":>12} ' + ' '.join(f'{r:>14}' for r in THREAD_ROLES))
    for m in models:
        gbps = med[m][0] / 1000
        cells = []
        for r in THREAD_ROLES:
            c = statistics.median(x[r] for x in roles[m])
            cells.append(f'{c:5.2f} ({c / gbps:5.2f})')
        print(f'{m:>12} ' + ' '.join(f'{c:>14}' for c in cells))


if __name__ == '__main__':
    sys.exit(main())
