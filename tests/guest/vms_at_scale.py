#!/usr/bin/python3
"""The design card's scenario: n L2 VMs a side, each on a VIF of its own.

Two L1 guests on a stream netdev, each with a ``selfvirt-nic,vifs=N``
board; each L1 hands a VIF of its board to each of n L2 VMs (an mdev,
vfio-pci, KVM on TCG's emulated SVM) and boots them all at once.  L2 VM i
of L1 ``a`` (10.9.i.3) pings and runs iperf3 to L2 VM i of L1 ``b``
(10.9.i.2), all n flows at once (the paper's n,n:1x1); then every pair
exchanges a file both ways at once, checked by sha256.  It prints each
flow's result, the bring-up time, and the memory an L2 VM and an L1 take.

  tests/guest/vms_at_scale.py [--vms N] [--seconds S] [--l2-mem SIZE]
      [--l1-mem SIZE]
"""

import argparse
import json
import statistics
import sys
import time

import bench_nested
from harness import L2_AGENTS_MAX, guests, host_cpu_times, ping_rtts, \
    steal_percent, wire_pair
from test_vms_at_scale import exchange_files


def rss_mib(pid_of):
    """Resident memory in MiB of the process whose /proc is @pid_of."""
    with open(f'/proc/{pid_of}/status', encoding='utf-8') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f'no VmRSS for {pid_of}')


def l2_rss_mib(l1, l2s):
    """Resident memory in MiB of each L2 VM's QEMU process in @l1."""
    out = l1.out('for n in ' + ' '.join(l2.name for l2 in l2s) + '; do '
                 'grep VmRSS /proc/$(cat /tmp/$n.pid)/status; done')
    return [int(line.split()[1]) / 1024 for line in out.splitlines()]


def l1_used_mib(l1):
    """Memory in MiB that @l1's kernel counts as used (total - available)."""
    info = dict(line.split(':') for line in
                l1.out('cat /proc/meminfo').splitlines())
    return (int(info['MemTotal'].split()[0]) -
            int(info['MemAvailable'].split()[0])) / 1024


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--vms', type=int, default=32,
                    help=f'L2 VMs a side, 1..{L2_AGENTS_MAX}')
    ap.add_argument('--seconds', type=int, default=10,
                    help='seconds of iperf3 a flow')
    ap.add_argument('--l2-mem', default=bench_nested.L2_MEM,
                    help='memory of an L2 VM')
    ap.add_argument('--l1-mem', default=None,
                    help='memory of an L1 (default: 1 GiB, and an L2 '
                    'VM\'s memory and 32 MiB a VM)')
    args = ap.parse_args()
    if not 1 <= args.vms <= L2_AGENTS_MAX:
        ap.error(f'--vms must be 1..{L2_AGENTS_MAX}')
    if args.seconds < 1:
        ap.error('--seconds must be at least 1')
    n = args.vms
    l1_mem = args.l1_mem or bench_nested.l1_mem(n, args.l2_mem)

    server, client = wire_pair('vms-at-scale')
    board = f'selfvirt-nic,vifs={max(n, 1)},addr=05.0,netdev=wire,' \
        'mac=52:54:00:5f:0'
    cpu0 = host_cpu_times()
    t0 = time.monotonic()
    with guests('vms-at-scale', [('a', [server, ['-device', board + '0:00']]),
                                 ('b', [client, ['-device', board + '1:00']])],
                nested=('a', 'b'), nested_mem=l1_mem, l2_agents=n) as (a, b):
        print(f'vms-at-scale: both L1s up in {time.monotonic() - t0:.0f} s '
              f'({l1_mem} each)', flush=True)
        for l1 in (a, b):
            l1.run('modprobe kvm_amd')
        t1 = time.monotonic()
        with bench_nested.l2_pairs(a, b, 'direct', 0, n, mem=args.l2_mem) \
                as (clients, servers, _, _):
            up = time.monotonic() - t1
            print(f'vms-at-scale: {2 * n} L2 VMs ({args.l2_mem} each) booted '
                  f'at once, all pairs answering, in {up:.0f} s', flush=True)
            rss = l2_rss_mib(a, clients) + l2_rss_mib(b, servers)
            l1_rss = [rss_mib(g.vm.get_pid()) for g in (a, b)]
            l1_used = [l1_used_mib(g) for g in (a, b)]
            for s in servers:
                s.run('iperf3 -s -D')
            outs = bench_nested.in_background(
                clients, lambda i: f'ping -c 10 -i 0.5 {bench_nested.peer(i)}',
                300)
            rtts = [statistics.median(ping_rtts(o)) for o in outs]
            outs = bench_nested.in_background(
                clients, lambda i: f'iperf3 -J -c {bench_nested.peer(i)} '
                f'-t {args.seconds}', args.seconds + 600)
            mbps = [json.loads(o)['end']['sum_received']['bits_per_second'] / 1e6
                    for o in outs]
            print(f'\n{"flow":>4} {"from":>16} {"to":>16} {"RTT ms":>7} '
                  f'{"Mbit/s":>7}')
            for i in range(n):
                print(f'{i:>4} {bench_nested.l2_addr(i):>16} '
                      f'{bench_nested.peer(i):>16} {rtts[i]:7.2f} '
                      f'{mbps[i]:7.1f}')
            t2 = time.monotonic()
            exchange_files(clients, [(s, '') for s in servers])
            print(f'\nvms-at-scale: {2 * n} files of 1 MiB exchanged at once '
                  f'and checked by sha256 in {time.monotonic() - t2:.0f} s')
    steal = steal_percent(cpu0, host_cpu_times())
    print(f'vms-at-scale: {n} pairs: {sum(mbps):.0f} Mbit/s in all, mean RTT '
          f'{statistics.mean(rtts):.2f} ms; bring-up {up:.0f} s; L2 VM QEMU '
          f'RSS in L1 median {statistics.median(rss):.0f} MiB (max '
          f'{max(rss):.0f}); L1 used {l1_used[0]:.0f} / {l1_used[1]:.0f} MiB, '
          f'L1 QEMU RSS on this host {l1_rss[0]:.0f} / {l1_rss[1]:.0f} MiB; '
          f'host steal {steal:.1f}%; {time.monotonic() - t0:.0f} s in all')
    return 0


if __name__ == '__main__':
    sys.exit(main())
