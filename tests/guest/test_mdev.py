"""A VIF handed out as a VFIO mediated device, used from user space.

selfvirt-vfio (tests/guest/selfvirt-vfio.c) opens the mdev as a VM's QEMU
would, maps its send queue (the board's SDRAM) and its read-only receive
queue, and talks to an interface VIF in a namespace through the board's
switch.  No L2 VM: the same path, without the nested guest's boot.
"""

import re
import uuid

import pytest

from harness import DEVLINK_DEV, board_stat, guests, ping_ok, vif_netns

BOARD = '/sys/bus/pci/devices/0000:00:05.0'
TYPE = f'{BOARD}/mdev_supported_types/selfvirt-vif'


def available(g):
    return int(g.out(f'cat {TYPE}/available_instances'))


def create_mdev(g):
    u = str(uuid.uuid4())
    g.run(f'echo {u} > {TYPE}/create')
    return u


def mdev_attr(g, u, name):
    """A number from mdev @u's sysfs (vif, signals, doorbells, refused)."""
    return int(g.out(f'cat /sys/bus/mdev/devices/{u}/selfvirt/{name}'))


def vfio(g, u, *args, timeout=120):
    rc, out, err = g.run(f'selfvirt-vfio {u} {" ".join(args)}', timeout=timeout,
                         check=False)
    assert rc == 0 and 'failures 0' in out, out + err
    return out


@pytest.mark.parametrize('irq_mode', ['identifier', 'msix'])
def test_mdev_vif_from_user_space(irq_mode):
    dev = ['-device', f'selfvirt-nic,vifs=4,addr=05.0,irq-mode={irq_mode}']
    with guests(f'mdev-{irq_mode}', [('g0', [dev])]) as (g,):
        vif_netns(g, 2, 1)
        g.run('modprobe vfio_iommu_type1')
        assert g.out(f'cat {TYPE}/device_api').strip() == 'vfio-pci'
        assert 'one VIF of the board' in g.out(f'cat {TYPE}/description')
        assert available(g) == 2

        u = create_mdev(g)
        assert available(g) == 1
        vif = mdev_attr(g, u, 'vif')
        assert vif == 2, vif
        # the mdev's VIF is a VM's: the board's own controls leave it alone
        rc, _, _ = g.run(f'devlink port del pci/0000:00:05.0/{vif}', check=False)
        assert rc != 0
        rc, _, _ = g.run(f'echo 1 > {BOARD}/selfvirt/reset', check=False)
        assert rc != 0

        rung = board_stat(g, 'doorbells')
        out = vfio(g, u, 'ping', '10.9.2.1', '10.9.0.1')
        assert 'ok echo_replies 20 of 20' in out, out
        assert 'ok echo_after_reset' in out, out
        signals = mdev_attr(g, u, 'signals')
        doorbells = mdev_attr(g, u, 'doorbells')
        rung = board_stat(g, 'doorbells') - rung
        print(f'{irq_mode}: 22 exchanges, {signals} signals forwarded, '
              f'{doorbells} doorbells trapped, {rung} rung on the board')
        assert signals > 0
        # rung through the mmap'ed doorbell page, none through this kernel
        assert 'doorbell page' in out, out
        assert doorbells == 0 and rung > 0, (doorbells, rung)

        # the board's signal moderation for the VM: management's to set
        attr = f'/sys/bus/mdev/devices/{u}/selfvirt/signal_gap_us'
        g.run(f'echo 200 > {attr}')
        assert g.out(f'cat {attr}').strip() == '200'
        rc, _, _ = g.run(f'echo 10001 > {attr}', check=False)
        assert rc != 0 and g.out(f'cat {attr}').strip() == '200'
        out = vfio(g, u, 'ping', '10.9.2.1', '10.9.0.1')
        assert 'ok echo_replies 20 of 20' in out, out
        g.run(f'echo 0 > {attr}')
        assert ping_ok(g, 'v0', '10.9.1.1')
        # echoes over 12 s: v0's kernel checks its neighbour with unicast
        # ARP after 5 s, and stops answering a VM that does not reply
        out = vfio(g, u, 'ping', '10.9.2.1', '10.9.0.1', '12')
        assert 'ok echo_replies 20 of 20' in out, out

        # the experiment kit's mailbox ping-pong and stream between two
        # mdevs (Figs. 5, 9, 10): every word back, every frame in order
        u2 = create_mdev(g)
        for host in ('poll', 'irq'):
            out = vfio(g, u, 'pingpong', u2, host, '0.3')
            assert re.search(r'^ok pingpong_words (\d+) of \1 intact', out,
                             re.M), out
            assert re.search(r'^pingpong_hist \d', out, re.M), out
        out = vfio(g, u, 'bandwidth', u2, '4')
        assert 'ok stream_frames 2796 of 2796, in order' in out, out
        assert mdev_attr(g, u2, 'signals') > 0      # the irq ping-pong's
        # management's cap on the VM's VIF outlives the VM's resets (every
        # open binds the VIF anew, and the board forgot the cap)
        g.run(f'devlink port function rate set {DEVLINK_DEV}/{vif} '
              'tx_max 8mbit')
        out = vfio(g, u, 'bandwidth', u2, '2')
        capped = float(re.search(r'^board_sdram_to_host_mibs ([\d.]+)', out,
                                 re.M)[1])
        g.run(f'devlink port function rate set {DEVLINK_DEV}/{vif} tx_max 0')
        assert capped < 1.5, out                    # 8 Mbit/s: 0.95 MiB/s
        g.run(f'echo 1 > /sys/bus/mdev/devices/{u2}/remove')

        # a hostile user hurts only its own VIF
        bad_before = board_stat(g, 'bad_desc')
        out = vfio(g, u, 'hostile')
        assert 'ok rq_mmap_writable refused' in out, out
        assert board_stat(g, 'bad_desc') > bad_before
        assert ping_ok(g, 'v0', '10.9.1.1')
        assert ping_ok(g, 'v1', '10.9.0.1')
        # the next user gets a clean VIF
        out = vfio(g, u, 'ping', '10.9.2.1', '10.9.0.1')
        assert 'ok echo_replies 20 of 20' in out, out

        # removal gives the slot back; a new mdev takes it and works
        g.run(f'echo 1 > /sys/bus/mdev/devices/{u}/remove')
        assert available(g) == 2
        assert 'mdev released' in g.out('dmesg | tail -5')
        # Debian's mdevctl knows the type and makes the next one
        types = g.out('mdevctl types')
        assert 'selfvirt-vif' in types and 'Available instances: 2' in types, types
        u2 = str(uuid.uuid4())
        g.run(f'mdevctl start -u {u2} -p 0000:00:05.0 -t selfvirt-vif')
        assert u2 in g.out('mdevctl list')
        out = vfio(g, u2, 'ping', '10.9.2.1', '10.9.0.1')
        assert 'ok echo_replies 20 of 20' in out, out
        stats = g.out('ip netns exec v0 ethtool -S vif')
        assert re.search(r'board_tx_errors: 0', stats), stats
        # module unload removes the mdev and its VIF with it
        g.run('rmmod selfvirt')
        assert 'selfvirt' not in g.out('cat /proc/modules')
