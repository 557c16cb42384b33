"""A hostile user of an mdev VIF, and random management calls, at once.

selfvirt-mdev-fuzz (tests/guest/selfvirt-mdev-fuzz.c) opens VIF 2 as a
VFIO mediated device and for SELFVIRT_FUZZ_SECONDS (default 30) makes
random region accesses, mmaps, VFIO ioctls, doorbell storms and reopens.
Meanwhile this test makes random devlink, ethtool and sysfs calls with
random values, and VIFs 0 and 1 move a checked transfer and pings.  Any
kernel report fails it (harness.guests), and so does a lost ping, a
corrupted byte, or a VIF the next user cannot use.  `make fuzz-mdev` runs
it for 10 minutes (on the KASAN kernel with SELFVIRT_GUEST_DIR).
"""

import os
import random
import re
import time

from harness import (DEVLINK_DEV, guests, ping_ok, vif_netns, wait_for_file,
                     wait_listening)
from test_mdev import BOARD, create_mdev, vfio

SECONDS = max(1, int(os.environ.get('SELFVIRT_FUZZ_SECONDS', '30')))
SEED = int(os.environ.get('SELFVIRT_FUZZ_SEED', str(random.randrange(1 << 30))))
FUZZED_VIF = 2


def _value(rng):
    """A value a careless or hostile caller might pass."""
    return rng.choice(['0', '1', '-1', '65', '4097', '4294967296',
                       '18446744073709551615', '99999999999999999999999',
                       'x', '', '0x10', str(rng.randrange(1 << 32)),
                       str(rng.randrange(100000))])


def management_call(rng, u):
    """One random call of management's with random values, aimed at the
    fuzzed VIF and at what the board must refuse; none may take VIFs 0
    and 1 down (their traffic is checked)."""
    vif = rng.choice([FUZZED_VIF, 3, 3, 4, 63, 64, 1 << 20])
    mdev = f'/sys/bus/mdev/devices/{u}/selfvirt'
    vif3 = '$(devlink -j port show | grep -o \'"netdev": *"[^"]*"\' | ' \
        'grep -v \'"vif"\' | head -1 | cut -d\'"\' -f4)'
    return rng.choice([
        # VIF 3 comes and goes, with an interface of its own to change
        f'devlink port add {DEVLINK_DEV} flavour pcisf pfnum 0 sfnum 3',
        f'devlink port del {DEVLINK_DEV}/3',
        f'devlink port add {DEVLINK_DEV} flavour pcisf pfnum 0',
        f'devlink port add {DEVLINK_DEV} flavour pcisf pfnum 0 '
        f'sfnum {_value(rng)}',
        f'ethtool -G {vif3} rx {rng.choice(["16", "64", "256", "0", "x"])}',
        f'ethtool -K {vif3} tso {rng.choice(["on", "off"])}',
        f'ip link set {vif3} mtu {rng.choice(["1500", "9000", "68", "70000"])}',
        f'ip link set {vif3} {rng.choice(["up", "down"])}',
        f'devlink port function rate set {DEVLINK_DEV}/{vif} '
        f'tx_max {_value(rng)}mbit',
        f'devlink port function rate set {DEVLINK_DEV}/{vif} '
        f'tx_share {_value(rng)}',
        f'devlink port show {DEVLINK_DEV}/{vif}',
        f'devlink port function set {DEVLINK_DEV}/{vif} '
        f'hw_addr 02:00:00:00:00:{rng.randrange(256):02x}',
        f'devlink port del {DEVLINK_DEV}/{FUZZED_VIF}',
        f'devlink dev param set {DEVLINK_DEV} name irq_id_width '
        f'value {_value(rng)} cmode driverinit',
        f'devlink dev param set {DEVLINK_DEV} name board_mode '
        f'value {rng.choice(["nic", "selfvirt", "x", ""])} cmode driverinit',
        f'devlink dev param set {DEVLINK_DEV} name promiscuous '
        f'value {rng.choice(["true", "false", "2"])} cmode runtime',
        f'devlink dev param show {DEVLINK_DEV}',
        f'devlink health show {DEVLINK_DEV}',
        f'devlink dev info {DEVLINK_DEV}',
        f'echo {_value(rng)} > {mdev}/signal_gap_us',
        f'cat {mdev}/vif {mdev}/mac {mdev}/signals {mdev}/doorbells',
        f'devlink port del {DEVLINK_DEV}/{vif}',
        f'cat {BOARD}/selfvirt/board_stats {BOARD}/selfvirt/vifs',
        f'ip netns exec v{rng.randrange(2)} ethtool -G vif '
        f'rx {rng.choice(["0", "1000000", "x"])}',
        f'ip netns exec v{rng.randrange(2)} ethtool -C vif '
        f'rx-usecs {rng.choice(["-1", "100000000", "x"])}',
        f'ip netns exec v{rng.randrange(2)} ethtool -S vif',
        f'ip netns exec v{rng.randrange(2)} ethtool -k vif',
    ])


def test_mdev_fuzz():
    dev = ['-device', 'selfvirt-nic,vifs=4,addr=05.0']
    with guests('mdev-fuzz', [('g0', [dev])], smp=2) as (g,):
        vif_netns(g, 2, 1)          # VIFs 0 and 1: v0 10.9.0.1, v1 10.9.1.1
        g.run('modprobe vfio_iommu_type1')
        u = create_mdev(g)
        assert int(g.out(f'cat /sys/bus/mdev/devices/{u}/selfvirt/vif')) \
            == FUZZED_VIF

        # (/usr/bin/ip in the shells below: busybox's sh prefers its own ip
        # applet, which has no netns; harness.PRELUDE does the same)
        # VIFs 0 and 1 move a checked transfer at 8 Mbit/s for as long as
        # the fuzzer runs: 16 MiB of random data sent again and again until
        # it has ended (and twice at least), checksummed on the fly (the
        # guest's memory stays flat however long it runs).  The sender
        # counts the copies; a slow guest (KASAN) sends fewer, not late.
        g.run(f'devlink port function rate set {DEVLINK_DEV}/0 tx_max 8mbit')
        g.run('dd if=/dev/urandom of=/tmp/src bs=1M count=16 2>/dev/null')
        g.run('rm -f /tmp/dst.sha /tmp/nc.rc /tmp/nc.copies /tmp/fuzz.rc; '
              'mkfifo /tmp/hold; setsid sh -c '
              '"exec 3<>/tmp/hold; /usr/bin/ip netns exec v1 nc -l -p 5001 <&3 | '
              'sha256sum > /tmp/dst.sha" < /dev/null > /dev/null 2>&1 &')
        wait_listening(g, 'ip netns exec v1')
        g.run('cat > /tmp/copies.sh << "EOF"\n'
              'n=0\n'
              'while [ ! -e /tmp/fuzz.rc ] || [ $n -lt 2 ]; do\n'
              '    cat /tmp/src || exit 1\n'
              '    n=$((n + 1)); echo $n > /tmp/nc.copies\n'
              'done\nEOF')
        g.run('setsid sh -c "sh /tmp/copies.sh | /usr/bin/ip netns exec v0 '
              'nc 10.9.1.1 5001; echo \\$? > /tmp/nc.rc" '
              '< /dev/null > /dev/null 2>&1 &')
        pings = SECONDS * 2
        g.run(f'setsid sh -c "/usr/bin/ip netns exec v1 ping -c {pings} -i 0.5 -W 10 '
              f'10.9.0.1 > /tmp/ping.out 2>&1; touch /tmp/ping.done" '
              '< /dev/null > /dev/null 2>&1 &')

        print(f'fuzzing mdev VIF {FUZZED_VIF} for {SECONDS} s, seed {SEED}')
        g.run(f'setsid sh -c "selfvirt-mdev-fuzz {u} {SECONDS} {SEED} '
              '> /tmp/fuzz.out 2>&1; echo \\$? > /tmp/fuzz.rc" '
              '< /dev/null > /dev/null 2>&1 &')
        rng = random.Random(SEED)
        calls = refused = 0
        end = time.monotonic() + SECONDS
        while time.monotonic() < end:
            rc, _, _ = g.run(management_call(rng, u), check=False)
            calls += 1
            refused += rc != 0
        wait_for_file(g, '/tmp/fuzz.rc', timeout=120)
        out = g.out('cat /tmp/fuzz.out')
        assert g.out('cat /tmp/fuzz.rc').strip() == '0', out
        print(out)
        print(f'management: {calls} calls, {refused} refused')
        took = {k: int(v) for k, v in re.findall(r'^ok_(\w+) (\d+)$', out,
                                                 re.M)}
        # each kind of call reached the driver's real paths, not only errors
        for op in ('read', 'write', 'mmap', 'set_irqs', 'reset',
                   'region_info', 'doorbells'):
            assert took.get(op, 0) > 0, f'no {op} the kernel took:\n{out}'
        assert 0 < refused < calls

        # the other VIFs' traffic went on, intact: every probe answered
        # (busybox's ping may give up on the last one's late answer)
        wait_for_file(g, '/tmp/ping.done', timeout=SECONDS + 60)
        ping = g.out('cat /tmp/ping.out')
        seqs = {int(s) for s in re.findall(r'\bseq=(\d+)', ping)}
        assert set(range(pings - 1)) <= seqs, ping
        # the copy on the way when the fuzzer ended, 16 MiB at 8 Mbit/s
        wait_for_file(g, '/tmp/nc.rc', timeout=300)
        wait_for_file(g, '/tmp/dst.sha', timeout=60)
        assert g.out('cat /tmp/nc.rc').strip() == '0'
        copies = int(g.out('cat /tmp/nc.copies'))
        want = g.out(f'for i in $(seq {copies}); do cat /tmp/src; done | '
                     'sha256sum', timeout=300).split()[0]
        print(f'checked transfer: {copies} x 16 MiB')
        for _ in range(20):         # sha256sum writes once nc has ended
            got = g.out('cat /tmp/dst.sha').split()
            if got:
                break
            time.sleep(0.5)
        assert got and got[0] == want, (got, want)
        g.run(f'devlink port function rate set {DEVLINK_DEV}/0 tx_max 0')
        assert ping_ok(g, 'v0', '10.9.1.1')

        # the fuzzed VIF serves its next user
        out = vfio(g, u, 'ping', '10.9.2.1', '10.9.0.1')
        assert 'ok echo_replies 20 of 20' in out, out
