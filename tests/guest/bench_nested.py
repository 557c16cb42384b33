#!/usr/bin/python3
"""Benchmark: the paper's central experiment, L2 VMs with direct access.

Two L1 guests on a stream netdev, each with a selfvirt-nic.  L1 ``a``
runs n L2 VMs (KVM on TCG's emulated SVM) in one of two shapes:

  direct    each L2 VM has a VIF of a's board of its own (an mdev,
            vfio-pci): frames go from L2 to the board with no L1 software
            on the way
  bridged   a's board in plain NIC mode, bridged in L1 with the tap of each
            L2 VM's virtio-net (QEMU's backend in L1; the build has no
            vhost): the driver-domain path

L2 VM i pings and runs one iperf3 TCP flow to namespace VIF i of L1 ``b``
across the wire (the paper's n,n:1x1), all n together.  Shapes are
interleaved round by round; medians are printed: the sum of the n flows,
the mean of the VMs' median RTTs, and on the direct path the L1 traps per
L2 frame (trapped doorbells and forwarded signals), with the host's steal
time.

  tests/guest/bench_nested.py [--runs N] [--seconds S] [--vms 1,2,4]
      [--board PROPS] [--signal-gap US] [--no-tso] [--save FILE]

--save writes every run's figures as JSON, from which
scripts/bench-table.py makes docs/benchmarks.md's table.
"""

import argparse
import contextlib
import json
import re
import statistics
import sys
import time

from harness import (L2_AGENTS_MAX, Nested, abi_define, board_stat, guests,
                     host_cpu_times, ping_rtts, quote, run_started,
                     save_results, steal_percent, vif_netns, wire_pair)
from test_mdev import create_mdev, mdev_attr
from remote import host_of


# The L2 VMs' memory: enough for the L2 image (build-l2.sh) to boot, load
# the module and move checked files, eight at once (test_vms_at_scale.py)
L2_MEM = '128M'


# Seconds to wait for L2 VMs booted at once in one L1: eight took 174 s
# (test_vms_at_scale.py)
L2_BOOT_S = 120
L2_BOOT_EACH_S = 40


def mib(size):
    """A QEMU memory size ('128M', '2G') in MiB."""
    units = {'M': 1, 'G': 1024}
    if not size or size[-1] not in units or not size[:-1].isdigit():
        raise ValueError(f"'{size}' is not a size like 128M or 2G")
    return int(size[:-1]) * units[size[-1]]


def l1_mem(vms, l2_mem=L2_MEM):
    """The memory of an L1 that runs @vms L2 VMs of @l2_mem each: 1 GiB
    for itself, and each L2 VM's memory and 32 MiB for its QEMU in L1
    (an L2 VM of 128 MiB took 166 MiB of L1, vms_at_scale.py)."""
    return f'{1024 + vms * (mib(l2_mem) + 32)}M'


def peer(i):
    """The address of L2 VM @i's peer: namespace or L2 VM v@i of L1 b."""
    return f'10.9.{i}.2'


def l2_addr(i, side=0):
    """The address of L2 VM @i in L1 a (@side 0) or L1 b (1)."""
    return f'10.9.{i}.{3 - side}'


def l1_prepare(a, shape, gap_us=0):
    """a's board for @shape: the module with mdev VIFs (direct), or in
    plain NIC mode under a bridge br0 (bridged), the signal gap @gap_us on
    the L1 NIC of the bridged path."""
    a.run('rmmod selfvirt 2>/dev/null; ip link del br0 2>/dev/null; '
          'for t in $(ls /sys/class/net | grep ^tap); do '
          'ip tuntap del $t mode tap; done', check=False)
    if shape == 'direct':
        a.run('modprobe selfvirt vifs=0; modprobe vfio_iommu_type1')
        return
    a.run('modprobe selfvirt nic_mode=1; modprobe tun; modprobe vhost_net; '
          'modprobe bridge; ip link add br0 type bridge; '
          'ip link set eth0 master br0; ip link set eth0 up; '
          f'ip link set br0 up; ethtool -C eth0 rx-usecs {gap_us}')


def l2_device(a, shape, i, gap_us=0, side=0):
    """The devices of L2 VM @i for @shape in L1 @a, and its mdev (direct:
    a VIF of its own, the board's signal gap @gap_us on it) or None.  The
    bridged VMs' virtio-net is served by vhost-net in L1's kernel
    ('bridged'), the paper's netback, or by QEMU in L1 ('bridged-user');
    @side numbers the L1 (0 for a, 1 for b), whose bridged VMs need MACs
    of their own on the wire."""
    if shape == 'direct':
        u = create_mdev(a)
        a.run(f'echo {gap_us} > /sys/bus/mdev/devices/{u}/selfvirt/'
              'signal_gap_us')
        return [['-device', f'vfio-pci,sysfsdev=/sys/bus/mdev/devices/{u}']], u
    a.run(f'ip tuntap add tap{i} mode tap; ip link set tap{i} master br0; '
          f'ip link set tap{i} up')
    vhost = 'on' if shape == 'bridged' else 'off'
    return [['-netdev', f'tap,id=n0,ifname=tap{i},script=no,downscript=no,'
                        f'vhost={vhost}',
             '-device', f'virtio-net-pci,netdev=n0,romfile=,'
                        f'mac=52:54:00:c{side}:00:{i:02x}']], None


def l2_frames(l2):
    out = l2.out('cat /sys/class/net/eth0/statistics/rx_packets '
                 '/sys/class/net/eth0/statistics/tx_packets')
    return sum(int(x) for x in out.split())


def wire_frames(a):
    """Frames a's board put on and took off the wire: MTU-sized, after its
    TSO cut (with n L2 VMs on the direct path, only theirs)."""
    return board_stat(a, 'wire_rx_frames') + board_stat(a, 'wire_tx_frames')


def l2_doorbells(l2s):
    """Doorbells the L2 VMs' drivers rang (on their doorbell pages)."""
    return sum(int(re.search(r'doorbells: (\d+)', l2.out('ethtool -S eth0'))[1])
               for l2 in l2s)


def traps(a, uuids):
    """(trapped doorbells, forwarded signals) of the mdevs so far."""
    return (sum(mdev_attr(a, u, 'doorbells') for u in uuids),
            sum(mdev_attr(a, u, 'signals') for u in uuids))


def in_background(l2s, cmd_of, timeout):
    """cmd_of(i) in every L2 VM i at once; each one's output."""
    for i, l2 in enumerate(l2s):
        l2.run(f'rm -f /tmp/bg.out /tmp/bg.done; setsid sh -c '
               f'{quote(cmd_of(i) + " > /tmp/bg.out 2>&1; touch /tmp/bg.done")}'
               ' < /dev/null > /dev/null 2>&1 &')
    deadline = time.monotonic() + timeout
    outs = []
    for l2 in l2s:
        while l2.run('test -e /tmp/bg.done', check=False)[0]:
            if time.monotonic() > deadline:
                raise TimeoutError(f'{l2}: no end of the command')
            time.sleep(1)
        outs.append(l2.out('cat /tmp/bg.out'))
    return outs


def l2_up(l2, addr, direct, tso=True, timeout=300):
    """L2 VM @l2 booted (within @timeout s), its interface up as @addr
    (with TSO or not)."""
    l2.wait_ready(timeout)
    l2_iface(l2, addr, direct, tso)


def l2_iface(l2, addr, direct, tso=True, timeout=60):
    """L2 VM @l2's interface up as @addr (with TSO or not), each step
    within @timeout s."""
    l2.run('modprobe selfvirt' if direct else 'modprobe virtio_net',
           timeout=timeout)
    l2.run('for i in $(seq 50); do [ -e /sys/class/net/eth0 ] && break; '
           'sleep 0.1; done; ip link set eth0 up; '
           f'ip addr add {addr}/16 dev eth0', timeout=timeout)
    if not tso:
        l2.run('ethtool -K eth0 tso off gso off', timeout=timeout)


class Fleet:
    """L1 @l1's L2 VMs for @shape, grown a few at a time: VM i up as
    l2_addr(i, @side).  Each VM has slot i of L1's agent ports."""

    def __init__(self, l1, shape, rnd, side=0, gap_us=0, tso=True,
                 mem=L2_MEM):
        self.l1, self.shape, self.side = l1, shape, side
        self.name = f'l2-{l1}-{shape}-{rnd}'
        self.gap_us, self.tso, self.mem = gap_us, tso, mem
        self.l2s, self.uuids = [], []
        l1_prepare(l1, shape, gap_us)

    def launch(self, vms):
        """Launch VMs up to @vms in all, at once; return the new ones."""
        new = []
        for i in range(len(self.l2s), vms):
            devs, uuid = l2_device(self.l1, self.shape, i, self.gap_us,
                                   self.side)
            self.uuids += [uuid] if uuid else []
            l2 = Nested(f'{self.name}-{i}', self.l1, devs, mem=self.mem,
                        slot=i)
            self.l2s.append(l2)
            new.append(l2)
            l2.launch()
        return new

    def up(self, new):
        """Wait for the VMs @new launched and bring their interfaces up.
        They boot at once on L1's one vCPU: give them time in proportion,
        and set their interfaces up once all have booted, when L1's vCPU
        is no longer busy with the others' boots."""
        timeout = L2_BOOT_S + L2_BOOT_EACH_S * len(new)
        for l2 in new:
            l2.wait_ready(timeout)
        for l2 in new:
            i = self.l2s.index(l2)
            l2_iface(l2, l2_addr(i, self.side), self.shape == 'direct',
                     self.tso, timeout=timeout)

    def down(self):
        """Shut the VMs down and remove their mdevs."""
        l2_down(self.l1, self.l2s, self.uuids)


def grow(group, vms):
    """Every Fleet of @group grown to @vms VMs, all launched at once; then
    VM i of the first pings peer(i) for each new i."""
    new = [f.launch(vms) for f in group]
    for f, added in zip(group, new):
        f.up(added)
    for l2 in new[0]:
        i = group[0].l2s.index(l2)
        l2.run(f'ping -c 3 -W 5 {peer(i)}', timeout=60)


def l2_down(a, l2s, uuids):
    """Shut L1 @a's L2 VMs down and remove their mdevs."""
    for l2 in l2s:
        l2.shutdown()
    for u in uuids:
        a.run(f'echo 1 > /sys/bus/mdev/devices/{u}/remove', check=False,
              timeout=60)


@contextlib.contextmanager
def fleets(l1s, shape, rnd, vms=0, gap_us=0, tso=True, mem=L2_MEM):
    """A Fleet in each L1 of @l1s (the first the clients, 10.9.i.3; the
    second, if any, the servers, 10.9.i.2), grown to @vms; always shuts
    them down and removes the mdevs.  An L1 on another host
    (remote.Remote) gets its Fleet made there."""
    made = []
    try:
        for side, l1 in enumerate(l1s):
            there = host_of(l1)
            make = there.fleet if there else Fleet
            made.append(make(l1, shape, rnd, side, gap_us, tso, mem))
        if vms:
            grow(made, vms)
        yield made
    finally:
        for f in made:
            f.down()


@contextlib.contextmanager
def l2_vms(a, shape, rnd, vms=1, gap_us=0, tso=True, mem=L2_MEM):
    """@vms L2 VMs for @shape in L1 @a, VM i up as 10.9.i.3 and its peer
    10.9.i.2 answering; yields (the VMs, the mdevs)."""
    with fleets((a,), shape, rnd, vms, gap_us, tso, mem) as (f,):
        yield f.l2s, f.uuids


@contextlib.contextmanager
def l2_pairs(a, b, shape, rnd, vms=1, gap_us=0, tso=True, mem=L2_MEM):
    """The paper's n,n:1x1 with VMs on both hosts: @vms L2 VMs in L1 @a
    (10.9.i.3) and as many in L1 @b (10.9.i.2), each pair on its own VIF
    of each board (direct) or behind each L1's bridge; all booted at once;
    yields (a's VMs, b's VMs, a's mdevs, b's mdevs) once every pair
    answers a ping."""
    with fleets((a, b), shape, rnd, vms, gap_us, tso, mem) as (fa, fb):
        yield fa.l2s, fb.l2s, fa.uuids, fb.uuids


def one_run(a, shape, seconds, rnd, vms=1, gap_us=0, tso=True):
    """(Mbit/s of the n flows summed, mean of the VMs' median RTT in ms,
    L1 traps per L2 frame, (trapped doorbells, signals, doorbells straight
    to the board, L1 traps per wire frame) per frame) for @vms VMs."""
    with l2_vms(a, shape, rnd, vms, gap_us, tso) as (l2s, uuids):
        outs = in_background(l2s, lambda i: f'ping -c 20 -i 0.2 {peer(i)}', 120)
        rtt = statistics.mean(statistics.median(ping_rtts(o)) for o in outs)
        frames0 = sum(l2_frames(l2) for l2 in l2s)
        traps0 = traps(a, uuids)
        rung0 = l2_doorbells(l2s) if uuids else 0
        wire0 = wire_frames(a)
        outs = in_background(l2s, lambda i: f'iperf3 -J -c {peer(i)} '
                             f'-t {seconds}', seconds + 120)
        mbps = sum(json.loads(o)['end']['sum_received']['bits_per_second']
                   for o in outs) / 1e6
        frames = sum(l2_frames(l2) for l2 in l2s) - frames0
        if not uuids or not frames:
            return mbps, rtt, None, None
        bells, signals = (x - y for x, y in zip(traps(a, uuids), traps0))
        rung = l2_doorbells(l2s) - rung0
        wire = wire_frames(a) - wire0
        return mbps, rtt, (bells + signals) / frames, \
            (bells / frames, signals / frames, rung / frames,
             (bells + signals) / wire)


def save(args, started, steal, results):
    """Every run's figures as JSON in args.save, for scripts/bench-table.py;
    @started: (date, commit)."""
    setting = (f'signal gap {args.signal_gap} us, TSO in L2 '
               f'{"off" if args.no_tso else "on"}'
               + (f', board {args.board}' if args.board else ''))
    save_results(args.save, started, steal, bench='nested', runs=args.runs,
                 seconds=args.seconds, setting=setting,
                 points=[{'vms': n, 'shape': shape,
                          'mbps': [r[0] for r in runs],
                          'rtt_ms': [r[1] for r in runs],
                          'traps_per_l2_packet': [r[2] for r in runs],
                          'traps_per_wire_frame': [r[3][3] if r[3] else None
                                                   for r in runs]}
                         for (n, shape), runs in results.items()])


def vm_counts(text):
    try:
        vms = sorted({int(x) for x in text.split(',')})
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a list of VM counts")
    if vms[0] < 1 or vms[-1] > L2_AGENTS_MAX:
        raise argparse.ArgumentTypeError(f'VM counts must be 1..'
                                         f'{L2_AGENTS_MAX}')
    return vms


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--seconds', type=int, default=5)
    ap.add_argument('--vms', type=vm_counts, default=[1],
                    help=f'L2 VMs at once, e.g. 1,2,4 (at most {L2_AGENTS_MAX})')
    ap.add_argument('--board', default='',
                    help='more selfvirt-nic properties, e.g. poll-us=200')
    ap.add_argument('--signal-gap', type=int, default=0, metavar='US',
                    help='the board\'s signal gap (ATTR_SIGNAL_GAP) on the '
                    'L2 VMs\' VIFs, and on the L1 NIC of the bridged path')
    ap.add_argument('--no-tso', action='store_true',
                    help='TSO and GSO off in the L2 VMs: every frame an '
                    'Ethernet frame, as in the paper')
    ap.add_argument('--save', metavar='FILE',
                    help='every run\'s figures as JSON (scripts/bench-table.py)')
    args = ap.parse_args()
    if args.runs < 1 or args.seconds < 1:
        ap.error('--runs and --seconds must be at least 1')
    gap_max = abi_define('SELFVIRT_SIGNAL_GAP_MAX_US')
    if not 0 <= args.signal_gap <= gap_max:
        ap.error(f'--signal-gap must be 0..{gap_max} us')

    server, client = wire_pair('bench-nested')
    board = f'selfvirt-nic,vifs={max(max(args.vms), 8)},addr=05.0,' \
        'netdev=wire,' \
        f'{args.board + "," if args.board else ""}mac=52:54:00:5f:0'
    results = {(n, s): [] for n in args.vms for s in ('direct', 'bridged')}
    started = run_started()
    cpu0 = host_cpu_times()
    with guests('bench-nested', [('a', [server, ['-device', board + '0:00']]),
                                 ('b', [client, ['-device', board + '1:00']])],
                nested=('a',), nested_mem=l1_mem(max(args.vms)),
                l2_agents=max(args.vms)) as (a, b):
        a.run('modprobe kvm_amd')
        vif_netns(b, max(args.vms), 2)        # namespaces v0.., peers
        b.run('; '.join(f'ip netns exec v{i} iperf3 -s -D'
                        for i in range(max(args.vms))))
        for r in range(args.runs):
            for (n, shape), runs in results.items():
                res = one_run(a, shape, args.seconds, r, n, args.signal_gap,
                              not args.no_tso)
                runs.append(res)
                extra = f', {res[2]:.3f} L1 traps per L2 frame ' \
                    f'({res[3][0]:.3f} doorbells, {res[3][1]:.3f} signals; ' \
                    f'{res[3][2]:.3f} doorbells to the board; ' \
                    f'{res[3][3]:.3f} L1 traps per wire frame)' \
                    if res[2] is not None else ''
                print(f'round {r + 1}/{args.runs} {n} VM(s) {shape:>8}: '
                      f'{res[0]:7.1f} Mbit/s RTT {res[1]:.2f} ms{extra}',
                      flush=True)
    steal = steal_percent(cpu0, host_cpu_times())
    if args.save:
        save(args, started, steal, results)

    def median(runs, of):
        vals = [y for y in map(of, runs) if y is not None]
        return statistics.median(vals) if vals else None

    # Mbit/s, RTT, L1 traps per L2 frame, per wire frame
    med = {k: [median(v, lambda x: x[0]), median(v, lambda x: x[1]),
               median(v, lambda x: x[2]),
               median(v, lambda x: x[3][3] if x[3] else None)]
           for k, v in results.items()}
    print(f'\nmedians of {args.runs} runs, {args.seconds} s iperf3 TCP, one '
          'flow per L2 VM, L2 VM i -> namespace i of the other L1 across the '
          f'wire; signal gap {args.signal_gap} us; TSO in L2 '
          f'{"off" if args.no_tso else "on"}; host steal {steal:.1f}%')
    print(f'{"VMs":>3} {"L2 path":>8} {"Mbit/s":>8} {"RTT ms":>7} '
          f'{"traps/L2 frame":>15} {"traps/wire frame":>17}')
    for (n, s), (mbps, rtt, per_frame, per_wire) in med.items():
        pf = f'{per_frame:.3f}' if per_frame is not None else '-'
        pw = f'{per_wire:.3f}' if per_wire is not None else '-'
        print(f'{n:>3} {s:>8} {mbps:8.1f} {rtt:7.2f} {pf:>15} {pw:>17}')
    for n in args.vms:
        d, b_ = med[(n, 'direct')], med[(n, 'bridged')]
        print(f'{n} VM(s): direct / bridged: throughput {d[0] / b_[0]:.2f}x, '
              f'RTT {d[1] / b_[1]:.2f}x (the paper: >= 1.5x, <= 0.5x)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
