"""The board under real KVM, and its KVM fast paths.

This host has no usable KVM, so the test goes one level down: L1's KVM
(on TCG's emulated SVM) runs the project's QEMU with ``-accel kvm``, two
L2 VMs with a selfvirt-nic each, their ports joined by a unix stream in L1.
Under KVM a VIF's doorbell is an ioeventfd (property ``ioeventfd``) and the
board's MSI and MSI-X messages are irqfds (``irqfd``) that the engines set
without the BQL.  Each set-up moves ping, psapp's probes, a file checked
by sha256 and iperf3; the board's counters show which path rang and
signalled.  Exits to QEMU (KVM's mmio_exits, L1's debugfs) and BQL
acquisitions (QEMU's sync-profile) per frame are printed for each, with
this host's steal time.

L2 VMs on TCG's emulated SVM are not always reliable: with two L1 vCPUs
they sometimes reset (their QEMU, with -no-reboot, exits with status 0 and
no kernel message), stopped during boot, or stopped answering in the
middle of the traffic, with the fast paths on or off: 7 of 20 set-ups
did.  So L1 has one vCPU, and the two L2 VMs boot one after the other;
an L2 VM that does not come up is booted once more (said in the output).
Then 24 of 24 set-ups passed, none booted again (docs/testing.md).  In
make check; ``make check-kvm`` runs it alone.
"""

import contextlib
import itertools
import re
import time

from harness import (BOARD_SYSFS, L2_BOOT_ATTEMPTS, Nested, abi_define,
                     board_stat, boot_l2, guests, host_cpu_times,
                     iperf3_mbps, steal_percent)
from test_nested import send_file

WIRE = '/tmp/kvm-wire.sock'
KVM_DEBUGFS = '/sys/kernel/debug/kvm'
IRQ_ID = abi_define('SELFVIRT_REG_IRQ_ID')    # then IRQ_MASK, IRQ_PENDING


class L2Board(Nested):
    """An L2 VM in L1 @l1 with a selfvirt-nic on the wire, driven through
    its agent, and its QEMU's human monitor on a pipe."""

    def __init__(self, l1, side, irq_mode, ioeventfd, irqfd, slot):
        name = f'kvm{side}'
        self.mon = f'/tmp/{name}.mon'
        net = f'stream,id=wire,addr.type=unix,addr.path={WIRE},' + \
              ('server=on' if side == 0 else 'server=off,reconnect-ms=200')
        dev = (f'selfvirt-nic,netdev=wire,vifs=4,addr=05.0,'
               f'irq-mode={irq_mode},mac=52:54:00:5f:0{side}:00'
               f',ioeventfd={ioeventfd},irqfd={irqfd}')
        l1.run(f'rm -f {self.mon}.in {self.mon}.out; '
               f'mkfifo {self.mon}.in {self.mon}.out; '
               f'setsid sh -c "cat {self.mon}.out > {self.mon}.log" '
               '< /dev/null > /dev/null 2>&1 &')
        super().__init__(name, l1, [
            ['-netdev', net], ['-device', dev],
            ['-chardev', f'pipe,id=mon0,path={self.mon}'],
            ['-mon', 'chardev=mon0,mode=readline']], slot=slot)

    def hmp(self, cmd):
        """Run monitor command @cmd; return what it printed."""
        before = len(self.l1.out(f'cat {self.mon}.log'))
        self.l1.run(f'echo "{cmd}" > {self.mon}.in')
        deadline = time.monotonic() + 30
        while True:
            out = self.l1.out(f'cat {self.mon}.log')[before:]
            if out.rstrip().endswith('(qemu)'):
                return out
            assert time.monotonic() < deadline, f'{self.name}: {cmd}: {out}'
            time.sleep(0.3)

    def bql_count(self):
        """The BQL's acquisitions since sync-profile was reset."""
        out = self.hmp('info sync-profile 10000')
        return sum(int(line.split()[-2]) for line in out.splitlines()
                   if line.startswith('BQL mutex'))

    def exits(self):
        """KVM's exits of this VM's vCPUs to QEMU for MMIO, and all."""
        pid = self.l1.out(f'cat /tmp/{self.name}.pid').strip()
        d = self.l1.out(f'ls -d {KVM_DEBUGFS}/{pid}-*').split()[0]
        return (int(self.l1.out(f'cat {d}/mmio_exits')),
                int(self.l1.out(f'cat {d}/exits')))


def traffic(a, b):
    """ping, psapp, a file each way checked by sha256, and iperf3."""
    out = a.out('ping -c 3 -W 3 10.9.0.2', timeout=30)
    assert '3 packets received' in out, out
    mac = b.out('cat /sys/class/net/eth0/address').strip()
    b.run('setsid psapp server eth0 -t 60 < /dev/null > /dev/null 2>&1 &')
    time.sleep(0.5)
    out = a.out(f'psapp client eth0 {mac} -n 20 -w 20', timeout=60)
    b.run('pkill psapp', check=False)
    m = re.search(r'received (\d+) lost (\d+) median_us ([\d.]+)', out)
    assert m and int(m[1]) == 20, out
    send_file(a, '', b, '', '10.9.0.2', blocks=64)
    send_file(b, '', a, '', '10.9.0.1', blocks=64)
    b.run('iperf3 -s -D -1')
    time.sleep(0.5)
    return float(m[3]), iperf3_mbps(a.out('iperf3 -c 10.9.0.2 -t 3',
                                          timeout=60))


def boot(l1, slots, side, irq_mode, ioeventfd, irqfd):
    """One L2 board, booted (once more if its VM did not come up: TCG's
    emulated SVM, not the board, above) with the driver loaded."""
    e = boot_l2(lambda: L2Board(l1, side, irq_mode, ioeventfd, irqfd,
                                next(slots)))
    e.run('modprobe selfvirt vifs=1; ip link set eth0 up; '
          f'ip addr add 10.9.0.{side + 1}/24 dev eth0')
    e.bar0 = int(e.out('cat /sys/bus/pci/devices/0000:00:05.0/'
                       'resource').split()[0], 16)
    return e


def one_setup(l1, slots, irq_mode, ioeventfd='on', irqfd='on'):
    """Two L2 boards, one booted after the other (an agent port each from
    @slots: a port is not reused); traffic; the path's counters; exits and
    BQL."""
    ends = [boot(l1, slots, 0, irq_mode, ioeventfd, irqfd)]
    try:
        ends.append(boot(l1, slots, 1, irq_mode, ioeventfd, irqfd))
        a, b = ends
        before = [(e.exits(), board_stat(e, 'wire_tx_frames') +
                   board_stat(e, 'wire_rx_frames')) for e in ends]
        for e in ends:
            e.hmp('sync-profile reset')
            e.hmp('sync-profile on')
        host = host_cpu_times()
        rtt_us, mbps = traffic(a, b)
        steal = steal_percent(host, host_cpu_times())
        for e, ((mmio0, exits0), frames0) in zip(ends, before):
            bql = e.bql_count()
            e.hmp('sync-profile off')
            mmio, exits = e.exits()
            frames = board_stat(e, 'wire_tx_frames') + \
                board_stat(e, 'wire_rx_frames') - frames0
            print(f'{irq_mode} ioeventfd={ioeventfd} irqfd={irqfd} '
                  f'{e.name}: {frames} frames; per frame '
                  f'{(mmio - mmio0) / frames:.3f} MMIO exits to QEMU, '
                  f'{(exits - exits0) / frames:.3f} exits, '
                  f'{bql / frames:.2f} BQL acquisitions; '
                  f'psapp {rtt_us:.0f} us, iperf3 {mbps:.0f} Mbit/s; '
                  f'steal {steal:.1f}%')
            eventfds = board_stat(e, 'doorbell_eventfds')
            irqfds = board_stat(e, 'irqfds')
            assert (eventfds > 0) == (ioeventfd == 'on'), eventfds
            assert (irqfds > 0) == (irqfd == 'on'), irqfds
            if irqfd == 'off' or irq_mode == 'msix':
                # MSI-X by irqfd alone; the identifier's BQL path sends
                # only after a clear that left bits pending
                assert (board_stat(e, 'irqs') > 0) == (irqfd == 'off')
    except Exception:
        # what each side's QEMU, guest and board were doing
        for e in ends:
            with contextlib.suppress(Exception):
                print(f'--- {e.name} QEMU:', e.hmp('info status'),
                      e.hmp(f'xp /3wx {e.bar0 + IRQ_ID:#x}'))
            print(f'--- {e.name}:', e.l1.out(
                f'cat /tmp/{e.name}.qemu.log; tail -20 /tmp/{e.name}.console; '
                'dmesg | tail -20'))
            with contextlib.suppress(Exception):
                print(e.run(
                    f'cat {BOARD_SYSFS}/board_stats; ethtool -S eth0; '
                    'grep -E "selfvirt|LOC" /proc/interrupts; '
                    'dmesg | tail -5', timeout=20, check=False)[1])
        raise
    finally:
        for e in ends:
            e.shutdown_and_wait()


def test_two_l2_vms_under_kvm_move_traffic_with_and_without_fast_paths():
    slots = itertools.count()
    with guests('kvm', [('l1', [])], nested=('l1',),
                l2_agents=3 * 2 * L2_BOOT_ATTEMPTS) as (l1,):
        l1.run('modprobe kvm_amd')
        one_setup(l1, slots, 'identifier')
        one_setup(l1, slots, 'msix')
        one_setup(l1, slots, 'identifier', ioeventfd='off', irqfd='off')
