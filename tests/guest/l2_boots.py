#!/usr/bin/python3
"""How reliably L2 VMs boot under KVM in an L1 guest on this host's TCG.

Boots rounds of --batch plain L2 VMs at once (no selfvirt device, no
traffic: nothing of the project's but the images) in one L1 of --l1-smp
vCPUs, and counts the L2 VMs that do not come up: their QEMU exits
while they boot (under -no-reboot, an L2 VM that resets) or they do not
answer; and whether the L1 itself survives.  Exits 1 when one did not.

  tests/guest/l2_boots.py [--l1-smp N] [--batch N] [--rounds N]

docs/testing.md, "L2 VMs and the L1's vCPUs", has what it found.
"""

import argparse
import sys

from harness import GuestError, Nested, guests, run_started

L2_MEM_MIB = 256


def one_round(l1, rnd, batch):
    """Boot @batch L2 VMs at once; the names of those that did not come
    up."""
    vms = [Nested(f'boot{rnd}-{i}', l1, slot=i) for i in range(batch)]
    lost = []
    try:
        for vm in vms:
            vm.launch()
        for vm in vms:
            try:
                vm.wait_ready(300)
            except (GuestError, TimeoutError) as err:
                print(f'round {rnd + 1}: {vm.name} did not come up: {err!r}',
                      flush=True)
                lost.append(vm.name)
    finally:
        for vm in vms:
            vm.shutdown_and_wait()
    return lost


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--l1-smp', type=int, default=2)
    ap.add_argument('--batch', type=int, default=4,
                    help='L2 VMs booted at once')
    ap.add_argument('--rounds', type=int, default=6)
    args = ap.parse_args()
    if not 1 <= args.l1_smp <= 8 or not 1 <= args.batch <= 16 or \
            args.rounds < 1:
        ap.error('--l1-smp must be 1..8, --batch 1..16, --rounds at least 1')
    started = run_started()
    l1_mem = f'{1024 + args.batch * (L2_MEM_MIB + 32)}M'
    lost = []
    with guests('l2-boots', [('l1', [])], nested=('l1',),
                nested_smp=args.l1_smp, nested_mem=l1_mem,
                l2_agents=args.batch) as (l1,):
        l1.run('modprobe kvm_amd')
        rounds, l1_lost = 0, ''
        for rnd in range(args.rounds):
            try:
                lost += one_round(l1, rnd, args.batch)
            except Exception as err:    # the L1 gone: its agent or QEMU
                l1_lost = (f'; then the L1 itself went down in round '
                           f'{rnd + 1} ({type(err).__name__}: {err})')
                break
            rounds += 1
    print(f'{started[0]}, code of {started[1]}: L1 of {args.l1_smp} vCPUs, '
          f'{rounds} rounds of {args.batch} L2 VMs booted at once: '
          f'{len(lost)} of {rounds * args.batch} did not come up{l1_lost}')
    return 1 if lost or l1_lost else 0


if __name__ == '__main__':
    sys.exit(main())
