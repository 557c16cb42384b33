"""Module reload, VIF destroy and board reset while traffic flows."""

import re
import time

from harness import (BOARD_SYSFS as SYSFS, DEVLINK_DEV as DEV, abi_define,
                     guests, ping_ok, vif_netns, vif_ports, vif_window)


def start_traffic(g, seconds=30):
    g.run('ip netns exec v1 iperf3 -s -D')
    g.run('sleep 1')
    # its own session: nothing of the agent's command may stop it
    g.run(f'setsid /usr/bin/ip netns exec v0 iperf3 -c 10.9.1.1 -t {seconds} '
          '< /dev/null > /tmp/bg.out 2>&1 &')
    g.run('sleep 2')


def iperf_running(g):
    return 'iperf3 -c' in g.out('ps')


def test_reset_destroy_and_reload_under_traffic():
    dev = ['-device', 'selfvirt-nic,vifs=4,addr=05.0']
    with guests('lifecycle', [('g0', [dev])]) as (g,):
        vif_netns(g, 2, 1)

        # board reset: interfaces stay in their namespaces and work again
        start_traffic(g)
        g.run(f'echo 1 > {SYSFS}/reset')
        assert 'board reset' in g.out('dmesg | tail -5')
        assert ping_ok(g, 'v0', '10.9.1.1')
        assert iperf_running(g), g.out('cat /tmp/bg.out')

        # unload while the iperf3 client still sends, then load again
        g.run('rmmod selfvirt')
        assert 'selfvirt' not in g.out('cat /proc/modules')
        g.run('killall iperf3; ip netns del v0; ip netns del v1', check=False)
        vif_netns(g, 2, 1)
        assert ping_ok(g, 'v0', '10.9.1.1')

        # destroy the receiving VIF under traffic, then make a new one
        start_traffic(g)
        g.run(f'devlink port del {DEV}/1')
        assert '1' not in vif_ports(g)
        rc, _, _ = g.run(f'devlink port del {DEV}/7', check=False)
        assert rc != 0, 'destroying a VIF that does not exist succeeded'
        g.run(f'devlink port add {DEV} flavour pcisf pfnum 0')
        assert '1' in vif_ports(g)
        stats = g.out('ip netns exec v0 ethtool -S vif')
        assert re.search(r'board_tx_errors: 0', stats), stats
        assert re.search(r'board_win_aborts: 0', stats), stats


def test_concurrent_destroy_and_create():
    """Four devlink callers racing to destroy and then to create VIF 1:
    one wins, none oopses."""
    dev = ['-device', 'selfvirt-nic,vifs=4,addr=05.0']
    add = f'devlink port add {DEV} flavour pcisf pfnum 0 sfnum 1'
    with guests('concurrent-destroy', [('g0', [dev])]) as (g,):
        g.run('modprobe selfvirt vifs=2')
        for _ in range(5):
            g.run(f'for i in 1 2 3 4; do (devlink port del {DEV}/1 &); '
                  'done; sleep 2; '
                  f'for i in 1 2 3 4; do ({add} &); done; sleep 2',
                  timeout=60, check=False)
            assert '1' in vif_ports(g)
        dmesg = g.out('dmesg')
        for bad in ('BUG', 'WARNING', 'Oops', 'general protection'):
            assert bad not in dmesg, dmesg[-3000:]
        assert sorted(vif_ports(g)) == ['0', '1']


def test_power_off_leaves_the_board_quiet():
    """At power-off (and kexec) the driver resets the board and stops its
    bus mastering, so that it writes nothing into the next kernel's memory.
    QEMU keeps the powered-off guest (-no-shutdown) to read the window
    table: VIF 0's window is no longer valid.  Before, it stayed valid, and
    the board went on receiving into it."""
    dev = ['-device', 'selfvirt-nic,vifs=4,addr=05.0']
    with guests('power-off', [('g0', [dev, ['-no-shutdown']])]) as (g,):
        vif_netns(g, 2, 1)
        assert ping_ok(g, 'v0', '10.9.1.1')
        win = vif_window(g, 0)
        valid = abi_define('SELFVIRT_WIN_VALID')

        def window():
            return int(g.hmp(f'xp /1wx {win:#x}').split()[-1], 16)

        assert window() & valid
        start_traffic(g)
        g.run('(sleep 1; poweroff -f) > /dev/null 2>&1 &')
        deadline = time.monotonic() + 60
        while g.vm.qmp('query-status')['return']['status'] != 'shutdown':
            assert time.monotonic() < deadline, 'the guest did not power off'
            time.sleep(0.5)
        assert not window() & valid, hex(window())
