"""Smoke test: the driver binds the board, reports it and unloads."""

from harness import guests


def test_driver_binds_and_unloads():
    dev = ['-device', 'selfvirt-nic,vifs=32,addr=05.0']
    with guests('smoke', [('g0', [dev])]) as (g,):
        g.run('modprobe selfvirt')
        sysfs = '/sys/bus/pci/drivers/selfvirt/0000:00:05.0/selfvirt'
        assert g.out(f'cat {sysfs}/max_vifs').strip() == '32'
        # VIFs are made, destroyed and capped with devlink only
        assert sorted(g.out(f'ls {sysfs}').split()) == \
            ['board_stats', 'caps', 'irqs', 'max_vifs', 'reset', 'vifs']
        dmesg = g.out('dmesg')
        assert 'selfvirt 0000:00:05.0: board: 32 VIFs, 8 micro-engines x 8 ' \
               'contexts, 256 MiB SDRAM, 64 windows, 16-bit identifier ' \
               '(identifier)' in dmesg, dmesg[-2000:]
        g.run('rmmod selfvirt')
        assert 'selfvirt' not in g.out('cat /proc/modules')
        assert 'selfvirt 0000:00:05.0: removed' in g.out('dmesg')
