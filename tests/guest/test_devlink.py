"""devlink: the board as a devlink instance, each VIF as a port.

Covers "devlink dev info", port add/del, the port function (hw_addr, state),
rate tx_max, the driver's parameters with reload, and the "tx" health
reporter of a VIF whose send queue the board halted.
"""

import contextlib
import json
import re
import struct
import time
import uuid

from harness import (BOARD_SYSFS, abi_define, guests, iperf3_mbps, ping_ok,
                     vif_netns, vif_window, wire_pair)

DEV = 'pci/0000:00:05.0'
PCI = '/sys/bus/pci/devices/0000:00:05.0'
BASE_MAC = '52:54:00:5f:00:00'
# user space may write the board's BARs (Debian has IO_STRICT_DEVMEM)
RELAXED = 'iomem=relaxed'


@contextlib.contextmanager
def checked_guests(test_name, specs, append=''):
    """guests(), and no kernel warning in any of them at the end."""
    with guests(test_name, specs, append=append) as started:
        yield started
        for g in started:
            dmesg = g.out('dmesg')
            for bad in ('BUG', 'WARNING', 'Oops', 'general protection',
                        'blocked for more than'):
                assert bad not in dmesg, f'{g}: {bad}\n{dmesg[-3000:]}'


def devlink_json(g, args):
    return json.loads(g.out(f'devlink -j {args}'))


def port(g, index):
    """The devlink port of VIF @index, as "devlink port show" has it."""
    name = f'{DEV}/{index}'
    return devlink_json(g, f'port show {name}')['port'][name]


def ports(g):
    return devlink_json(g, 'port show')['port']


def health(g, index):
    """The "tx" health reporter of VIF @index."""
    out = devlink_json(g, f'health show {DEV}/{index} reporter tx')
    return out['health'][f'{DEV}/{index}'][0]


def param(g, name):
    out = devlink_json(g, f'dev param show {DEV} name {name}')
    return out['param'][DEV][0]['values'][0]['value']


def set_param(g, name, value, cmode):
    g.run(f'devlink dev param set {DEV} name {name} value {value} '
          f'cmode {cmode}')


def fails(g, cmd):
    """Run @cmd, which must fail; return what it said."""
    rc, out, err = g.run(cmd, check=False)
    assert rc != 0, f'`{cmd}` succeeded:\n{out}{err}'
    return out + err


def ping_fails(g, src, dst):
    rc, out, _ = g.run(f'ip netns exec {src} ping -c 2 -W 2 {dst}',
                       timeout=30, check=False)
    return rc != 0 and ' 0 packets received' in out


def to_netns(g, ifname, idx, host):
    """Interface @ifname into namespace v@idx as "vif", 10.9.@idx.@host."""
    ns = f'v{idx}'
    g.run(f'ip netns add {ns}; ip link set {ifname} netns {ns}; '
          f'ip -n {ns} link set {ifname} name vif up; '
          f'ip -n {ns} addr add 10.9.{idx}.{host}/16 dev vif')


def vifs_to_netns(g, host):
    """Every interface VIF into its namespace, as vif_netns() does."""
    lines = g.out(f'cat {BOARD_SYSFS}/vifs')
    for line in lines.splitlines():
        idx, ifname = line.split()
        to_netns(g, ifname, idx, host)
    return len(lines.splitlines())


def bar(g, index):
    """The bus address of BAR @index of the board."""
    line = g.out(f'cat {PCI}/resource').splitlines()[index]
    return int(line.split()[0], 16)


def devmem(g, addr, value=None):
    if value is None:
        return int(g.out(f'devmem {addr:#x} 32'), 16)
    g.run(f'devmem {addr:#x} 32 {value:#x}')
    return value


def guest_pair(vifs=8):
    server, client = wire_pair()
    left = ['-device', f'selfvirt-nic,netdev=wire,vifs={vifs},addr=05.0,'
                       f'mac={BASE_MAC}']
    right = ['-device', f'selfvirt-nic,netdev=wire,vifs={vifs},addr=05.0,'
                        'mac=52:54:00:5f:01:00']
    return [('left', [server, left]), ('right', [client, right])]


def one_guest(vifs=8, extra=''):
    return [('g0', [['-device', f'selfvirt-nic,vifs={vifs},addr=05.0,'
                                f'mac={BASE_MAC}{extra}']])]


def test_dev_info_and_ports():
    with checked_guests('devlink-info', one_guest()) as (g,):
        g.run('modprobe selfvirt vifs=2')
        assert DEV in g.out('devlink dev show')
        info = devlink_json(g, f'dev info {DEV}')['info'][DEV]
        assert info['driver'] == 'selfvirt', info
        assert info['serial_number'] == BASE_MAC, info
        abi = abi_define('SELFVIRT_ABI_VERSION')
        assert info['versions']['fixed']['abi'] == f'{abi >> 16}.{abi & 0xffff}', info
        assert len(ports(g)) == 2
        for i in range(2):
            p = port(g, i)
            assert (p['flavour'], p['pfnum'], p['sfnum']) == ('pcisf', 0, i), p
            link = g.out(f'ip -d link show {p["netdev"]}')
            # the port names the interface, and the interface its port
            assert f'portname pf0sf{i}' in link, link
            assert p['function']['hw_addr'] in link, link
            assert p['function']['state'] == 'active', p


def test_port_add_hw_addr_state_and_del():
    """A VIF made with devlink talks to the other guest; its function
    controls (MAC, state) act on the wire; deleting it removes the netdev."""
    with checked_guests('devlink-ports', guest_pair()) as (a, b):
        a.run('modprobe selfvirt vifs=1')
        vif_netns(b, 4, 2)

        a.run(f'devlink port add {DEV} flavour pcisf pfnum 0 sfnum 3')
        p = port(a, 3)
        assert p['function']['state'] == 'active', p
        to_netns(a, p['netdev'], 3, 1)
        assert ping_ok(a, 'v3', '10.9.3.2')
        out = fails(a, f'devlink port add {DEV} flavour pcisf pfnum 0 sfnum 3')
        assert 'exists' in out, out
        out = fails(a, f'devlink port add {DEV} flavour pcisf pfnum 0 '
                       'sfnum 99')
        assert 'sfnum' in out, out
        # no sfnum: the lowest free slot, whose port the driver makes first
        a.run(f'devlink port add {DEV} flavour pcisf pfnum 0')
        assert sorted(ports(a)) == [f'{DEV}/{i}' for i in (0, 1, 3)], ports(a)
        assert port(a, 1)['function']['state'] == 'active'

        # a MAC of the administrator's, on the board and on the interface
        a.run(f'devlink port function set {DEV}/3 hw_addr 02:00:00:00:03:01')
        link = a.out('ip -n v3 link show vif')
        assert 'link/ether 02:00:00:00:03:01' in link, link
        assert port(a, 3)['function']['hw_addr'] == '02:00:00:00:03:01'
        b.run('ip -n v3 neigh flush all')
        assert ping_ok(a, 'v3', '10.9.3.2')
        out = fails(a, f'devlink port function set {DEV}/3 hw_addr '
                       '01:00:5e:00:00:01')
        assert 'unicast' in out.lower(), out

        # stopped: nothing passes; started: traffic again
        a.run(f'devlink port function set {DEV}/3 state inactive')
        f = port(a, 3)['function']
        assert (f['state'], f['opstate']) == ('inactive', 'detached'), f
        assert ping_fails(a, 'v3', '10.9.3.2')
        assert ping_fails(b, 'v3', '10.9.3.1')
        a.run(f'devlink port function set {DEV}/3 state active')
        f = port(a, 3)['function']
        assert (f['state'], f['opstate']) == ('active', 'attached'), f
        assert ping_ok(a, 'v3', '10.9.3.2', count=3)

        # deleted with its interface
        a.run(f'devlink port del {DEV}/3')
        assert a.run('ip -n v3 link show vif', check=False)[0] != 0
        assert not re.search(r'^3 ', a.out(f'cat {BOARD_SYSFS}/vifs'), re.M)
        fails(a, f'devlink port del {DEV}/3')


def capped_mbps(a, b, what):
    """Mbit/s of a 3-second iperf3 flow from VIF 0 of @a to VIF 0 of @b."""
    b.run('ip netns exec v0 iperf3 -s -D -1')
    time.sleep(1)
    out = a.out('ip netns exec v0 iperf3 -c 10.9.0.2 -t 3', timeout=60)
    mbps = iperf3_mbps(out)
    print(f'{what}: {mbps:.1f} Mbit/s')
    assert mbps > 0, out
    return mbps


def test_rate_tx_max_caps_a_vif():
    with checked_guests('devlink-rate', guest_pair()) as (a, b):
        vif_netns(a, 1, 1)
        vif_netns(b, 1, 2)
        a.run(f'devlink port function rate set {DEV}/0 tx_max 50mbit')
        rate = a.out(f'devlink port function rate show {DEV}/0')
        assert 'tx_max 50Mbit' in rate, rate
        assert 0 < capped_mbps(a, b, 'VIF capped at 50 Mbit/s') < 75

        out = fails(a, f'devlink port function rate set {DEV}/0 '
                       'tx_max 200gbit')
        assert 'limit' in out, out
        # near U64_MAX bytes/s: rounding up to Mbit/s wrapped to no cap
        out = fails(a, f'devlink port function rate set {DEV}/0 '
                       'tx_max 18446744073709500000bps')
        assert 'limit' in out, out

        # a board reset keeps the cap devlink shows
        a.run(f'echo 1 > {PCI}/selfvirt/reset')
        assert 'tx_max 50Mbit' in a.out(f'devlink port function rate show '
                                        f'{DEV}/0')
        assert 0 < capped_mbps(a, b, 'after a board reset') < 75
        out = fails(a, f'devlink port function rate set {DEV}/0 '
                       'tx_share 10mbit')
        assert 'guarantees' in out, out


def test_params_and_reload():
    with checked_guests('devlink-reload', one_guest(), append=RELAXED) as (g,):
        g.run('modprobe selfvirt vifs=4')
        csr = bar(g, 0)

        # NIC mode: one interface, with the board's MAC
        out = fails(g, f'devlink dev param set {DEV} name promiscuous '
                       'value true cmode runtime')
        # Linux 6.1 passes no extack to a parameter's set: no message there
        assert 'NIC mode' in out or 'not supported' in out, out
        set_param(g, 'board_mode', 'nic', 'driverinit')
        g.run(f'devlink dev reload {DEV}')
        assert list(ports(g)) == [f'{DEV}/0'], ports(g)
        assert port(g, 0)['function']['hw_addr'] == BASE_MAC
        assert devmem(g, csr + 0x044) & (1 << 1)    # DEV_STATUS_NIC_MODE
        out = fails(g, f'devlink port add {DEV} flavour pcisf pfnum 0')
        assert 'NIC mode' in out, out

        # promiscuous: the wire port, as the board's DEV_STATUS says
        assert param(g, 'promiscuous') is False
        set_param(g, 'promiscuous', 'true', 'runtime')
        assert param(g, 'promiscuous') is True
        assert devmem(g, csr + 0x044) & (1 << 2)    # DEV_STATUS_PROMISC
        set_param(g, 'promiscuous', 'false', 'runtime')
        assert param(g, 'promiscuous') is False
        assert not devmem(g, csr + 0x044) & (1 << 2)

        # and back to many VIFs
        set_param(g, 'board_mode', 'selfvirt', 'driverinit')
        g.run(f'devlink dev reload {DEV}')
        assert len(ports(g)) == 4, ports(g)
        fails(g, f'devlink dev param set {DEV} name board_mode value '
                 'switch cmode driverinit')

        # a 1-bit identifier: all VIFs signal on one bit, and still work
        width = devmem(g, csr + 0x020) & 0x1f       # IRQ_INFO
        assert param(g, 'irq_id_width') == width
        out = fails(g, f'devlink dev param set {DEV} name irq_id_width value '
                       f'{width + 1} cmode driverinit')
        assert 'irq_id_width' in out, out
        set_param(g, 'irq_id_width', '1', 'driverinit')
        g.run(f'devlink dev reload {DEV}')
        assert param(g, 'irq_id_width') == 1
        assert devmem(g, csr + 0x020) & 0x1f == 1
        assert vifs_to_netns(g, 1) == 4
        assert ping_ok(g, 'v0', '10.9.1.1')
        assert ping_ok(g, 'v2', '10.9.3.1')
        stats = g.out('ip netns exec v3 ethtool -S vif')
        assert int(re.search(r'redundant_polls: (\d+)', stats)[1]) > 0, stats


def test_mdev_vif_is_a_port_and_blocks_reload():
    with checked_guests('devlink-mdev', one_guest()) as (g,):
        g.run('modprobe selfvirt vifs=1; modprobe vfio_iommu_type1')
        u = str(uuid.uuid4())
        g.run(f'echo {u} > {PCI}/mdev_supported_types/selfvirt-vif/create')
        vif = int(g.out(f'cat /sys/bus/mdev/devices/{u}/selfvirt/vif'))
        p = port(g, vif)
        assert p['flavour'] == 'pcisf' and 'netdev' not in p, p
        assert p['function']['hw_addr'] == g.out(
            f'cat /sys/bus/mdev/devices/{u}/selfvirt/mac').strip()
        out = fails(g, f'devlink port del {DEV}/{vif}')
        assert 'mdev' in out, out
        out = fails(g, f'devlink dev reload {DEV}')
        assert 'mdev' in out, out
        g.run(f'echo 1 > /sys/bus/mdev/devices/{u}/remove')
        assert f'{DEV}/{vif}' not in ports(g)
        g.run(f'devlink dev reload {DEV}')
        assert list(ports(g)) == [f'{DEV}/0'], ports(g)


def mdev_type_offered(g):
    return g.run(f'test -d {PCI}/mdev_supported_types/selfvirt-vif',
                 check=False)[0] == 0


def rebind(g):
    """Unbind the board from the driver and bind it again: a remove and a
    probe with the module's parameters."""
    g.run('echo 0000:00:05.0 > /sys/bus/pci/drivers/selfvirt/unbind')
    assert g.run('test -e /sys/class/mdev_bus/0000:00:05.0',
                 check=False)[0] != 0, 'the mdev parent outlived its board'
    g.run('echo 0000:00:05.0 > /sys/bus/pci/drivers/selfvirt/bind')


def test_mdev_type_follows_reloads_and_goes_at_remove():
    """The mdev type is registered by a probe or a reload into selfvirt
    mode and unregistered at remove whatever mode a reload left: a board
    reloaded to NIC mode left it registered over freed memory, and one
    probed in NIC mode and reloaded to selfvirt unregistered one never
    registered."""
    with checked_guests('devlink-mdev-reload', one_guest()) as (g,):
        g.run('modprobe selfvirt vifs=0; modprobe vfio_iommu_type1')
        assert mdev_type_offered(g)
        set_param(g, 'board_mode', 'nic', 'driverinit')
        g.run(f'devlink dev reload {DEV}')
        u = str(uuid.uuid4())
        fails(g, f'echo {u} > {PCI}/mdev_supported_types/selfvirt-vif/create')
        rebind(g)
        assert mdev_type_offered(g)

        g.run('rmmod selfvirt; modprobe selfvirt nic_mode=1')
        assert not mdev_type_offered(g)
        set_param(g, 'board_mode', 'selfvirt', 'driverinit')
        g.run(f'devlink dev reload {DEV}')
        assert mdev_type_offered(g)
        g.run(f'echo {u} > {PCI}/mdev_supported_types/selfvirt-vif/create')
        g.run(f'echo 1 > /sys/bus/mdev/devices/{u}/remove')
        rebind(g)
        assert not mdev_type_offered(g)     # nic_mode=1 again at the probe


def guest_ram(g, gpa, value=None):
    """Read or write a 32-bit word of @g's RAM, through QEMU's mapping of it
    (HMP gpa2hva): what a faulty board's DMA would do."""
    hva = int(re.search(r' is (0x[0-9a-f]+)', g.hmp(f'gpa2hva {gpa:#x}'))[1],
              16)
    with open(f'/proc/{g.vm.get_pid()}/mem', 'r+b') as mem:
        mem.seek(hva)
        if value is None:
            return struct.unpack('<I', mem.read(4))[0]
        mem.write(struct.pack('<I', value))
        return value


def vif_rq(g, index):
    """The bus address of VIF @index's receive queue: its first window."""
    win = vif_window(g, index)
    lo, hi = devmem(g, win), devmem(g, win + 4)
    assert lo & abi_define('SELFVIRT_WIN_VALID'), hex(lo)
    return (hi << 32 | lo) & ~0xff


def test_an_impossible_ring_index_stops_only_its_vif():
    """The board publishes a tx_cons beyond what the driver has posted: the
    driver says so once, stops the VIF with a "tx" health report and polls
    it no more; the VIFs that share its identifier bit move on, and recover
    restarts it.  Before, each poll logged it again and nothing stopped."""
    with checked_guests('ring-index', one_guest(extra=',irq-id-width=1'),
                        append=RELAXED) as (g,):
        vif_netns(g, 3, 1)
        assert ping_ok(g, 'v0', '10.9.1.1')
        assert ping_ok(g, 'v1', '10.9.2.1')
        # VIF 0 sends nothing from here, so the board leaves its tx_cons
        tx_cons = vif_rq(g, 0) + 4
        guest_ram(g, tx_cons, guest_ram(g, tx_cons) + 0x10000)
        # VIF 1's and 2's signals share VIF 0's bit: each polls VIF 0 too
        assert ping_ok(g, 'v1', '10.9.2.1', count=3)
        deadline = time.monotonic() + 30
        while (h := health(g, 0))['error'] < 1:
            assert time.monotonic() < deadline, h
            time.sleep(0.5)
        assert h['state'] == 'error', h
        assert ping_ok(g, 'v1', '10.9.2.1', count=3)
        said = re.findall(r'board reports tx_cons \d+', g.out('dmesg'))
        assert len(said) == 1, said
        assert health(g, 1)['error'] == 0 and health(g, 2)['error'] == 0

        g.run(f'devlink health recover {DEV}/0 reporter tx')
        assert health(g, 0)['state'] == 'healthy', health(g, 0)
        assert ping_ok(g, 'v0', '10.9.1.1', count=3)


def test_health_reports_and_recovers_a_halted_send_queue():
    """A malformed descriptor halts the VIF's send queue on the board: the
    "tx" reporter tells, diagnose shows the descriptor, recover restarts."""
    with checked_guests('devlink-health', one_guest(), append=RELAXED) as (g,):
        vif_netns(g, 2, 1)
        assert ping_ok(g, 'v0', '10.9.1.1')
        reporter = f'{DEV}/0 reporter tx'
        assert health(g, 0)['state'] == 'healthy', health(g, 0)

        # quiet VIF 0, its rings empty: the driver's next descriptor is 0
        g.run('ip -n v0 link set vif down')
        g.run(f'devlink port function set {DEV}/0 state inactive')
        g.run(f'devlink port function set {DEV}/0 state active')
        part = bar(g, 2) + int(re.search(r'VIF 0: .* at SDRAM (0x[0-9a-f]+)',
                                         g.out('dmesg'))[1], 16)
        devmem(g, part + 64, 0)                 # descriptor 0: buf
        devmem(g, part + 68, 0x7fffffff)        # len, far too long
        devmem(g, part + 72, 0)                 # flags, mss
        devmem(g, part + 0, 1)                  # tx_prod
        devmem(g, bar(g, 0) + 0x064, 0)         # DOORBELL: VIF 0
        time.sleep(0.5)
        g.run('ip -n v0 link set vif up')

        deadline = time.monotonic() + 30
        while (h := health(g, 0))['error'] < 1:
            assert time.monotonic() < deadline, h
            g.run('ip netns exec v0 ping -c 1 -W 1 10.9.1.1', check=False)
        assert h['state'] == 'error', h
        diag = g.out(f'devlink health diagnose {reporter}')
        assert 'halted: true' in diag, diag
        assert 'reason: descriptor out of range' in diag, diag
        assert 'index: 0' in diag and 'len: 2147483647' in diag, diag
        assert 'tx_errors: 1' in diag, diag
        assert ping_fails(g, 'v0', '10.9.1.1')

        g.run(f'devlink health recover {reporter}')
        h = health(g, 0)
        assert h['state'] == 'healthy' and h['error'] == 1, h
        assert 'halted: false' in g.out(f'devlink health diagnose {reporter}')
        assert ping_ok(g, 'v0', '10.9.1.1', count=3)
        # the other VIF never noticed
        assert health(g, 1)['error'] == 0, health(g, 1)
