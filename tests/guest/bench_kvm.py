#!/usr/bin/python3
"""Benchmark: the board under KVM against QEMU's NICs, on a tap bridge.

This host has no usable KVM, so the bench runs one level down, as
test_kvm.py does: an L1 guest (the nested image) loads kvm_amd and puts
two tap devices in a Linux bridge; for each model, two L2 VMs with
``-accel kvm`` and that NIC, one on each tap, ping each other, run psapp's
probes and one iperf3 TCP flow.  Models are interleaved round by round.
Medians are printed with their ratios to virtio-net without vhost, and
L1's cores per Gbit/s by thread of the two L2 QEMUs (vCPUs, the board's
engines, vhost's workers, the rest) and in all of L1, with the host's
steal time.  Every figure is bounded by L1's vCPUs, which TCG runs on
this host's cores: L1 has one by default, for with two its L2 VMs
sometimes reset (docs/testing.md).

  tests/guest/bench_kvm.py [--runs N] [--seconds S] [--models M,...]
      [--l1-smp N] [--save FILE]
"""

import argparse
import itertools
import statistics
import sys
import time

from harness import (L2_AGENTS_MAX, Nested, boot_l2, guests, run_started,
                     host_cpu_times, iperf3_mbps, ping_rtts, save_results,
                     steal_percent)
from bench import probe_client, probe_server

MODELS = {
    # name: (device, guest module and parameters, tap netdev options)
    'selfvirt': ('selfvirt-nic,vifs=4', 'selfvirt vifs=1', ''),
    'selfvirt-msix': ('selfvirt-nic,vifs=4,irq-mode=msix', 'selfvirt vifs=1',
                      ''),
    'virtio-net': ('virtio-net-pci,romfile=', 'virtio_net', ',vhost=off'),
    'virtio-net-vhost': ('virtio-net-pci,romfile=', 'virtio_net',
                         ',vhost=on'),
    'igb': ('igb,romfile=', 'igb', ''),
    'e1000e': ('e1000e,romfile=', 'e1000e', ''),
}
ROLES = ('tx vCPU', 'rx vCPU', 'engines', 'vhost', 'rest', 'L1')
SPARE_BOOTS = 8       # L2 VMs booted again, over the whole run


def l1_prepare(l1):
    """KVM, vhost-net and a bridge br0 with tap0 and tap1 in L1."""
    l1.run('modprobe kvm_amd; modprobe tun; modprobe vhost_net; '
           'modprobe bridge; ip link add br0 type bridge; ip link set br0 up; '
           'for i in 0 1; do ip tuntap add dev tap$i mode tap; '
           'ip link set tap$i master br0 up; done')


def l2_vm(l1, model, side, slot):
    """An L2 VM with NIC @model on tap@side, agent port @slot."""
    dev, _, tap_opts = MODELS[model]
    return Nested(f'bench{side}', l1, [
        ['-name', f'bench{side},debug-threads=on'],     # threads by role
        ['-netdev', f'tap,id=wire,ifname=tap{side},script=no,downscript=no'
                    + tap_opts],
        ['-device', f'{dev},netdev=wire,mac=52:54:00:5f:0{side}:00']],
        slot=slot)


def l2_up(vm, model, host):
    vm.run(f'modprobe {MODELS[model][1]}; '
           'for i in $(seq 50); do [ -e /sys/class/net/eth0 ] && break; '
           'sleep 0.1; done; ip link set eth0 up; '
           f'ip addr add 10.9.0.{host}/24 dev eth0')


def l1_cpu(l1, vms):
    """CPU seconds so far, by role, of the sender's and the receiver's QEMU
    in L1 (each thread's schedstat), and L1's busy seconds in all."""
    t = dict.fromkeys(ROLES, 0.0)
    for side, vm in enumerate(vms):
        out = l1.out(f'for d in /proc/$(cat /tmp/{vm.name}.pid)/task/*; do '
                     'echo "$(cut -d" " -f1 $d/schedstat)|$(cat $d/comm)"; '
                     'done')
        for line in out.splitlines():
            ns, _, comm = line.partition('|')
            if comm.startswith('CPU '):
                role = ('tx vCPU', 'rx vCPU')[side]
            elif comm.startswith('svme'):
                role = 'engines'
            elif comm.startswith('vhost'):
                role = 'vhost'
            else:
                role = 'rest'
            t[role] += int(ns) / 1e9
    stat = [int(x) for x in l1.out('head -1 /proc/stat').split()[1:]]
    t['L1'] = (sum(stat[:8]) - stat[3] - stat[4]) / 100    # USER_HZ
    return t


def measure(l1, vms, model, seconds):
    """ping's median RTT, psapp's, iperf3's Mbit/s and L1's cores by role."""
    a, b = vms
    a.run('ping -c 3 -W 3 10.9.0.2', timeout=30)      # ARP, and the path up
    rtt = statistics.median(ping_rtts(a.out('ping -c 20 -i 0.2 10.9.0.2',
                                            timeout=60)))
    probe_server(b, '', model)
    time.sleep(0.5)
    try:
        probe = probe_client(a, '', model,
                             b.out('cat /sys/class/net/eth0/address').strip())
    finally:
        b.run('pkill psapp', check=False)
    b.run('iperf3 -s -D -1')
    time.sleep(0.5)
    cpu0, t0 = l1_cpu(l1, vms), time.monotonic()
    mbps = iperf3_mbps(a.out(f'iperf3 -c 10.9.0.2 -t {seconds}',
                             timeout=seconds + 60))
    cpu1, elapsed = l1_cpu(l1, vms), time.monotonic() - t0
    return mbps, rtt, probe, {r: (cpu1[r] - cpu0[r]) / elapsed for r in ROLES}


def one_run(l1, model, seconds, slots):
    """Boot a pair for @model, one VM after the other (each once more if it
    did not come up: TCG's emulated SVM, not the NIC), and measure it."""
    vms = []
    try:
        for side in (0, 1):
            vms.append(boot_l2(lambda: l2_vm(l1, model, side, next(slots))))
            l2_up(vms[-1], model, side + 1)
        return measure(l1, vms, model, seconds)
    finally:
        for vm in vms:
            vm.shutdown_and_wait()


def print_table(models, med, roles, runs, seconds, steal, l1_smp):
    base = med.get('virtio-net')
    print(f'\nmedians of {runs} runs, {seconds} s iperf3 TCP, 1 flow, two L2 '
          f'VMs under KVM in an L1 of {l1_smp} vCPU(s), on taps in a bridge; '
          f'host steal {steal:.1f}%')
    print(f'{"model":>16} {"Mbit/s":>8} {"/virtio":>8} {"RTT ms":>7} '
          f'{"RTT/virtio":>10} {"probe us":>9}')
    for m in models:
        mbps, rtt, probe = med[m]
        print(f'{m:>16} {mbps:8.1f} '
              f'{f"{mbps / base[0]:.2f}" if base else "-":>8} {rtt:7.2f} '
              f'{f"{rtt / base[1]:.2f}" if base else "-":>10} {probe:9.0f}')
    print("\nL1's cores during iperf3 by thread of the L2 QEMUs, and all of "
          'L1, medians (per Gbit/s in brackets)')
    print(f'{"model":>16} ' + ' '.join(f'{r:>14}' for r in ROLES))
    for m in models:
        gbps = med[m][0] / 1000
        cells = [statistics.median(x[r] for x in roles[m]) for r in ROLES]
        print(f'{m:>16} ' + ' '.join(f'{f"{c:5.2f} ({c / gbps:5.2f})":>14}'
                                     for c in cells))


def save(path, args, started, steal, results, roles):
    """Every run's figures as JSON, for scripts/bench-table.py."""
    save_results(path, started, steal, wire='tap',
                 setting=f'two L2 VMs under KVM on taps in a bridge in an L1 '
                         f'of {args.l1_smp} vCPU(s)',
                 rtt_ref='virtio-net', cores="L1's cores", roles=list(ROLES),
                 runs=args.runs, seconds=args.seconds,
                 models={m: {'mbps': [r[0] for r in v],
                             'rtt_ms': [r[1] for r in v],
                             'probe_us': [r[2] for r in v],
                             'cores_per_gbit': [t['L1'] / (r[0] / 1000)
                                                for r, t in zip(v, roles[m])],
                             'threads': roles[m]}
                         for m, v in results.items()})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--runs', type=int, default=3)
    ap.add_argument('--seconds', type=int, default=5)
    ap.add_argument('--models', default=','.join(MODELS))
    ap.add_argument('--l1-smp', type=int, default=1, choices=(1, 2))
    ap.add_argument('--save', metavar='FILE',
                    help="every run's figures as JSON (scripts/bench-table.py)")
    args = ap.parse_args()
    models = args.models.split(',')
    for m in models:
        if m not in MODELS:
            ap.error(f"unknown model '{m}'; choose from {', '.join(MODELS)}")
    if args.runs < 1 or args.seconds < 1:
        ap.error('--runs and --seconds must be at least 1')
    # an agent port per L2 VM booted, and a few for boots tried again
    agents = 2 * args.runs * len(models) + SPARE_BOOTS
    if agents > L2_AGENTS_MAX:
        ap.error(f'{args.runs} runs of {len(models)} models boot '
                 f'{agents - SPARE_BOOTS} L2 VMs, more than the '
                 f'{L2_AGENTS_MAX - SPARE_BOOTS} L1 can take')

    started = run_started()
    host0 = host_cpu_times()
    results = {m: [] for m in models}
    roles = {m: [] for m in models}
    slots = itertools.count()         # an agent port is not reused
    with guests('bench-kvm', [('l1', [])], nested=('l1',), l2_agents=agents,
                nested_smp=args.l1_smp) as (l1,):
        l1_prepare(l1)
        for r in range(args.runs):
            for m in models:
                mbps, rtt, probe, cores = one_run(l1, m, args.seconds, slots)
                results[m].append((mbps, rtt, probe))
                roles[m].append(cores)
                print(f'round {r + 1}/{args.runs} {m:>16}: {mbps:7.1f} '
                      f'Mbit/s RTT {rtt:.2f} ms, probe {probe:.0f} us, L1 '
                      f'{cores["L1"]:.2f} cores', flush=True)
    steal = steal_percent(host0, host_cpu_times())
    med = {m: tuple(statistics.median(x[i] for x in v) for i in range(3))
           for m, v in results.items()}
    print_table(models, med, roles, args.runs, args.seconds, steal,
                args.l1_smp)
    if args.save:
        save(args.save, args, started, steal, results, roles)
    return 0


if __name__ == '__main__':
    sys.exit(main())
