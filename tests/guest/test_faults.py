"""Faults under traffic: a transfer of known content survives each one.

Each case sends 8 MiB of random data from VIF 0 of one guest to VIF 0 of
the other (busybox nc), slowed by the sending VIF's rate limit so that the
transfer lasts a few seconds, injects a fault in the middle, and checks
that the receiver got exactly the sender's bytes (sha256) and that the
boards refused and aborted nothing.
"""

import time

import pytest

from harness import (BOARD_SYSFS, check_transfer, guests, nc_listen, nc_send,
                     ping_ok, sha256, start_transfer, vif_board_stat,
                     vif_counters, vif_netns, wait_for_file, wait_listening)
from test_traffic import guest_pair

RATE_MBPS = 30          # 8 MiB take about 2.2 s
NS = '/usr/bin/ip netns exec v0'
DST = '10.9.0.2'


def inject(fault, a, b):
    if fault == 'link-down':
        a.vm.qmp('set_link', name='wire', up=False)
        time.sleep(1)
        a.vm.qmp('set_link', name='wire', up=True)
    elif fault == 'stop-cont':
        b.vm.qmp('stop')
        time.sleep(1)
        b.vm.qmp('cont')
    elif fault == 'reset-sender':
        a.run(f'echo 1 > {BOARD_SYSFS}/reset')
    elif fault == 'reset-receiver':
        b.run(f'echo 1 > {BOARD_SYSFS}/reset')
    else:
        raise ValueError(fault)


@pytest.mark.parametrize('fault', ['link-down', 'stop-cont', 'reset-sender',
                                   'reset-receiver'])
def test_transfer_survives(fault):
    with guests(f'fault-{fault}', guest_pair()) as (a, b):
        vif_netns(a, 1, 1)
        vif_netns(b, 1, 2)
        start_transfer(a, b, NS, DST, RATE_MBPS)
        inject(fault, a, b)
        check_transfer(a, b)
        # and traffic goes on; neither board refused or aborted a frame
        out = a.out(f'{NS} ping -c 2 -W 3 10.9.0.2', timeout=30)
        assert '2 packets received' in out, out
        for g in (a, b):
            assert vif_board_stat(g, 'v0', 'tx_errors') == 0
            assert vif_board_stat(g, 'v0', 'win_aborts') == 0


def test_reload_then_transfer():
    """Unload the receiver's driver mid-transfer: a new transfer is intact."""
    with guests('fault-reload', guest_pair()) as (a, b):
        vif_netns(a, 1, 1)
        vif_netns(b, 1, 2)
        start_transfer(a, b, NS, DST, RATE_MBPS)
        b.run('rmmod selfvirt; killall nc; ip netns del v0', check=False)
        vif_netns(b, 1, 2)
        wait_for_file(a, '/tmp/nc.rc', timeout=120)     # reset by the new VIF's host
        nc_listen(b, NS)
        time.sleep(0.5)
        nc_send(a, NS, DST)
        wait_for_file(b, '/tmp/nc.done')
        assert sha256(b, '/tmp/dst') == sha256(a, '/tmp/src')
        assert vif_board_stat(a, 'v0', 'tx_errors') == 0


def test_peer_killed_and_restarted():
    """The receiver's QEMU is killed mid-transfer (SIGKILL) and the guest
    booted again: the sender's VIF carries on, a new transfer is intact,
    and the sender's driver and board agree on every frame (none stuck)."""
    with guests('fault-peer-killed', guest_pair()) as (a, b):
        vif_netns(a, 1, 1)
        vif_netns(b, 1, 2)
        start_transfer(a, b, NS, DST, RATE_MBPS)
        b.kill_and_restart()
        vif_netns(b, 1, 2)
        # the old transfer's peer is gone for good; its exit status lands
        # in /tmp/nc.rc, which must be there before the next transfer's
        a.run('killall nc', check=False)
        wait_for_file(a, '/tmp/nc.rc', timeout=30)
        out = a.out(f'{NS} ping -c 2 -W 3 {DST}', timeout=30)
        assert '2 packets received' in out, out
        nc_listen(b, NS)
        wait_listening(b, NS)
        nc_send(a, NS, DST)
        check_transfer(a, b)
        # nothing stuck in the sender's queues: its driver and board count
        # the same frames (a ping's answer makes the driver clean the send
        # completions it has not looked at yet)
        for _ in range(3):
            assert ping_ok(a, 'v0', DST, count=1)
            drv, board = vif_counters(a, 'v0')
            if drv == board:
                break
        assert drv == board, (drv, board)
        assert vif_board_stat(a, 'v0', 'tx_errors') == 0
        assert vif_board_stat(a, 'v0', 'rx_drops') == 0
