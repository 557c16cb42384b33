#!/usr/bin/python3
"""Benchmark: the paper's central experiment, an L2 VM with direct access.

Two L1 guests on a stream netdev, each with a selfvirt-nic.  L1 ``a``
runs one L2 VM (KVM on TCG's emulated SVM) in one of two shapes:

  direct    the L2 VM has a VIF of a's board of its own (an mdev, vfio-pci):
            frames go from L2 to the board with no L1 software on the way
  bridged   a's board in plain NIC mode, bridged in L1 with the tap of the
            L2 VM's virtio-net (QEMU's backend in L1; the build has no vhost):
            the driver-domain path

The L2 VM pings and runs one iperf3 TCP flow to a namespace VIF of L1
``b`` across the wire.  Shapes are interleaved round by round; medians are
printed, with L1 traps per L2 frame on the direct path (trapped doorbells
and forwarded signals) and the host's steal time.

  tests/guest/bench_nested.py [--runs N] [--seconds S] [--board PROPS]
"""

import argparse
import json
import statistics
import sys
import uuid

from harness import Nested, guests, ping_rtts, vif_netns, wire_pair
from test_mdev import TYPE, mdev_attr

PEER = '10.9.0.2'


def host_cpu():
    """(busy + idle, steal) jiffies of this host, from /proc/stat."""
    with open('/proc/stat', encoding='ascii') as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v), v[7]


def l1_setup(a, shape):
    """a's board for @shape; return the L2 devices and the mdev or None."""
    a.run('rmmod selfvirt 2>/dev/null; ip link del br0 2>/dev/null; '
          'ip tuntap del tap0 mode tap 2>/dev/null', check=False)
    if shape == 'direct':
        a.run('modprobe selfvirt vifs=0; modprobe vfio_iommu_type1')
        u = str(uuid.uuid4())
        a.run(f'echo {u} > {TYPE}/create')
        return [['-device', f'vfio-pci,sysfsdev=/sys/bus/mdev/devices/{u}']], u
    a.run('modprobe selfvirt nic_mode=1; modprobe tun; '
          'modprobe bridge; ip link add br0 type bridge; '
          'ip link set eth0 master br0; ip tuntap add tap0 mode tap; '
          'ip link set tap0 master br0; ip link set eth0 up; '
          'ip link set tap0 up; ip link set br0 up')
    return [['-netdev', 'tap,id=n0,ifname=tap0,script=no,downscript=no',
             '-device', 'virtio-net-pci,netdev=n0,romfile=']], None


def l2_frames(l2):
    out = l2.out('cat /sys/class/net/eth0/statistics/rx_packets '
                 '/sys/class/net/eth0/statistics/tx_packets')
    return sum(int(x) for x in out.split())


def traps(a, u):
    """(trapped doorbells, forwarded signals) of mdev @u so far."""
    return mdev_attr(a, u, 'doorbells'), mdev_attr(a, u, 'signals')


def one_run(a, shape, seconds, n):
    devices, u = l1_setup(a, shape)
    l2 = Nested(f'l2-{shape}-{n}', a, devices)
    l2.launch()
    try:
        l2.wait_ready()
        l2.run('modprobe selfvirt' if u else 'modprobe virtio_net')
        l2.run('for i in $(seq 50); do [ -e /sys/class/net/eth0 ] && break; '
               'sleep 0.1; done; ip link set eth0 up; '
               'ip addr add 10.9.1.3/16 dev eth0')
        l2.run(f'ping -c 3 -W 5 {PEER}', timeout=60)        # warm ARP
        out = l2.out(f'ping -c 20 -i 0.2 {PEER}', timeout=60)
        rtt = statistics.median(ping_rtts(out))
        frames0, traps0 = l2_frames(l2), traps(a, u) if u else (0, 0)
        out = l2.out(f'iperf3 -J -c {PEER} -t {seconds}', timeout=seconds + 90)
        mbps = json.loads(out)['end']['sum_received']['bits_per_second'] / 1e6
        frames = l2_frames(l2) - frames0
        if not u or not frames:
            return mbps, rtt, None, None
        bells, signals = (x - y for x, y in zip(traps(a, u), traps0))
        return mbps, rtt, (bells + signals) / frames, (bells / frames, signals / frames)
    finally:
        l2.shutdown()
        if u:
            a.run(f'echo 1 > /sys/bus/mdev/devices/{u}/remove', check=False,
                  timeout=60)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--seconds', type=int, default=5)
    ap.add_argument('--board', default='',
                    help='more selfvirt-nic properties, e.g. poll-us=200')
    args = ap.parse_args()
    if args.runs < 1 or args.seconds < 1:
        ap.error('--runs and --seconds must be at least 1')

    server, client = wire_pair('bench-nested')
    board = f'selfvirt-nic,vifs=4,addr=05.0,netdev=wire,' \
        f'{args.board + "," if args.board else ""}mac=52:54:00:5f:0'
    results = {'direct': [], 'bridged': []}
    cpu0 = host_cpu()
    with guests('bench-nested', [('a', [server, ['-device', board + '0:00']]),
                                 ('b', [client, ['-device', board + '1:00']])],
                nested=('a',)) as (a, b):
        a.run('modprobe kvm_amd')
        vif_netns(b, 1, 2)        # namespace v0, PEER
        b.run('ip netns exec v0 iperf3 -s -D')
        for r in range(args.runs):
            for shape in results:
                res = one_run(a, shape, args.seconds, r)
                results[shape].append(res)
                extra = f', {res[2]:.3f} L1 traps per L2 frame ' \
                    f'({res[3][0]:.3f} doorbells, {res[3][1]:.3f} signals)' \
                    if res[2] is not None else ''
                print(f'round {r + 1}/{args.runs} {shape:>8}: {res[0]:7.1f} '
                      f'Mbit/s RTT {res[1]:.2f} ms{extra}', flush=True)
    total, steal = (x - y for x, y in zip(host_cpu(), cpu0))

    med = {s: [statistics.median(x[i] for x in v) if v[0][i] is not None
               else None for i in range(3)] for s, v in results.items()}
    print(f'\nmedians of {args.runs} runs, {args.seconds} s iperf3 TCP, 1 flow, '
          'L2 -> the other L1 across the wire; '
          f'host steal {100 * steal / max(total, 1):.1f}%')
    print(f'{"L2 path":>8} {"Mbit/s":>8} {"RTT ms":>7} {"traps/frame":>12}')
    for s, (mbps, rtt, per_frame) in med.items():
        pf = f'{per_frame:.3f}' if per_frame is not None else '-'
        print(f'{s:>8} {mbps:8.1f} {rtt:7.2f} {pf:>12}')
    d, b_ = med['direct'], med['bridged']
    print(f'direct / bridged: throughput {d[0] / b_[0]:.2f}x, '
          f'RTT {d[1] / b_[1]:.2f}x (the paper: >= 1.5x, <= 0.5x)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
