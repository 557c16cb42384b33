"""Management in loops while traffic flows (a guest of 2 vCPUs).

For SELFVIRT_STRESS_SECONDS (60), each of these runs in its own loop, all at once, while
two pairs of VIFs carry iperf3 flows (two streams each) and a ping every
10 ms: ring resizes (ethtool -G), board resets, destroying and creating a
VIF (devlink port del/add), devlink reload, MTU changes and ethtool -K
toggles.  A placer moves every VIF that appears in the initial namespace
(after a reload or a port add) into its namespace vN.

Then the loops stop and every VIF must carry traffic again: a checked
transfer on each pair and pings.  Over that quiet window each VIF's driver
and its board count the same frames, both ways.  Any kernel report (the
harness reads the console) fails the test; under a debug kernel (make
check-kernel-debug) that covers KASAN, lockdep, KCSAN, UBSAN and kmemleak.

A second test resets the board in a tight loop while small send queues
wait for room.
"""

import os
import re

from harness import (BOARD_SYSFS, DEVLINK_DEV as DEV, guests, nc_listen,
                     nc_send, ping_ok, sha256, vif_board_stat, vif_counters,
                     vif_netns, wait_for_file, wait_listening)

# how long the loops run (make check-stress: STRESS_SECONDS)
STRESS_SECONDS = max(10, int(os.environ.get('SELFVIRT_STRESS_SECONDS', '60')))

VIFS = 4                        # pairs v0 -> v1 and v2 -> v3
ROUTE = '/usr/bin/ip'

# Each loop is one line of the guest's sh; `alive` is true until the end.
LOOPS = {
    'rings': 'for s in 64 1024 4 256; do for n in v0 v3; do '
             f'{ROUTE} netns exec $n ethtool -G vif rx $s tx $s; done; '
             'sleep 0.7; done',
    'reset': f'echo 1 > {BOARD_SYSFS}/reset && echo ok; sleep 6',
    'port': f'devlink port del {DEV}/2; sleep 1; devlink port add {DEV} '
            'flavour pcisf pfnum 0 sfnum 2 && echo ok; sleep 3',
    'reload': f'sleep 9; devlink dev reload {DEV} && echo ok',
    'mtu': 'for m in 9000 576 1280 1500; do for n in v1 v2; do '
           f'{ROUTE} -n $n link set vif mtu $m; done; sleep 0.5; done',
    'features': 'for f in tso gso sg tx rx rx-gro-hw gro; do '
                'for s in off on; do for n in v0 v1; do '
                f'{ROUTE} netns exec $n ethtool -K vif $f $s; done; '
                'sleep 0.2; done; done',
    'placer': 'place; sleep 0.5',
    # the traffic: a loop that fails (its VIF gone) waits a second
    'flow01': f'{ROUTE} netns exec v0 timeout 20 iperf3 -c 10.9.1.1 -t 4 -P 2 || sleep 1',
    'flow23': f'{ROUTE} netns exec v2 timeout 20 iperf3 -c 10.9.3.1 -t 4 -P 2 || sleep 1',
    'ping': f'{ROUTE} netns exec v1 ping -q -c 50 -W 1 -i 0.01 10.9.0.1 '
            '|| sleep 1',
}

# every VIF into its namespace vN as "vif", up, 10.9.N.1: from the initial
# namespace (after a reload or a port add), or renamed in vN where an
# earlier place() was cut short
PLACE = f"""
place() {{
    while read -r idx ifname; do
        if {ROUTE} link show "$ifname" > /dev/null 2>&1; then
            {ROUTE} netns add v$idx 2> /dev/null
            {ROUTE} link set "$ifname" netns v$idx || continue
        fi
        [ "$ifname" = vif ] ||
            {ROUTE} -n v$idx link set "$ifname" name vif 2> /dev/null
        {ROUTE} -n v$idx link set vif up &&
        {ROUTE} -n v$idx addr replace 10.9.$idx.1/16 dev vif
    done < {BOARD_SYSFS}/vifs
}}
"""

SCRIPT = """
. /tmp/place.sh
end=$(( $(date +%s) + $1 ))
alive() { [ "$(date +%s)" -lt "$end" ]; }
""" + ''.join(
    f'(while alive; do {body}; done > /tmp/stress-{name}.log 2>&1) &\n'
    for name, body in LOOPS.items()) + 'wait\n'


def counters_at_rest(g, netns):
    """vif_counters() once they stay the same for a second."""
    now = vif_counters(g, netns)
    for _ in range(10):
        g.run('sleep 1')
        now, then = vif_counters(g, netns), now
        if now == then:
            return now
    raise AssertionError(f'{netns}: the counters never rest: {now}')


def checked_transfer(g, src, dst, dst_ip):
    """8 MiB from namespace @src to @dst (nc): the bytes arrive intact."""
    into, done, rc = f'/tmp/dst-{dst}', f'/tmp/done-{dst}', f'/tmp/rc-{src}'
    nc_listen(g, f'{ROUTE} netns exec {dst}', dst=into, done=done)
    wait_listening(g, f'{ROUTE} netns exec {dst}')
    nc_send(g, f'{ROUTE} netns exec {src}', dst_ip, rc=rc)
    wait_for_file(g, rc)
    wait_for_file(g, done)
    assert g.out(f'cat {rc}').strip() == '0'
    assert g.out(f'stat -c %s {into}').strip() == str(8 << 20)
    assert sha256(g, into) == sha256(g, '/tmp/src')


def test_management_loops_under_traffic():
    dev = ['-device', 'selfvirt-nic,vifs=8,addr=05.0']
    with guests('stress', [('g0', [dev])], smp=2) as (g,):
        vif_netns(g, VIFS, 1)
        g.run(f'for n in v1 v3; do {ROUTE} netns exec $n iperf3 -s -D; '
              'done; dd if=/dev/urandom of=/tmp/src bs=1M count=8 2> /dev/null')
        g.run(f'cat > /tmp/place.sh << "EOF"\n{PLACE}EOF')
        g.run(f'cat > /tmp/stress.sh << "EOF"\n{SCRIPT}EOF')
        g.run(f'setsid sh -c "sh /tmp/stress.sh {STRESS_SECONDS}; '
              'touch /tmp/stress.done" < /dev/null > /dev/null 2>&1 &')
        try:
            wait_for_file(g, '/tmp/stress.done', timeout=STRESS_SECONDS + 60)
        except AssertionError:
            # which command hangs, and where in the kernel
            raise AssertionError(g.out(
                'ps -o pid,stat,args; for p in /proc/[0-9]*; do '
                'grep -q "^State:.*D" $p/status 2> /dev/null && '
                '{ cat $p/cmdline; echo; cat $p/stack; }; done; '
                'tail -n 3 /tmp/stress-*.log; dmesg | tail -n 40'))
        flows = g.out('cat /tmp/stress-flow01.log /tmp/stress-flow23.log')
        done = {name: int(g.out(f'grep -c "^ok$" /tmp/stress-{name}.log '
                                '|| true'))
                for name in ('reset', 'port', 'reload')}
        print(f'in {STRESS_SECONDS} s: {len(re.findall("receiver", flows)) // 3}'
              f' iperf3 runs, {done["reset"]} board resets, '
              f'{done["port"]} VIFs destroyed and made again, '
              f'{done["reload"]} reloads')
        assert all(done.values()), done
        # the driver never posted what the board refuses
        dmesg = g.out('dmesg')
        for bad in ('send queue halted', 'board reports'):
            assert bad not in dmesg, dmesg[-3000:]

        # the loops are over: every VIF in its namespace, at rest, works
        g.run('killall iperf3', check=False)
        g.run(f'devlink port add {DEV} flavour pcisf pfnum 0 sfnum 2',
              check=False)
        g.run('. /tmp/place.sh; place')
        assert sorted(g.out(f'cat {BOARD_SYSFS}/vifs').split()[::2]) == \
            [str(n) for n in range(VIFS)]
        for n in range(VIFS):
            g.run(f'{ROUTE} -n v{n} link set vif mtu 1500; '
                  f'{ROUTE} netns exec v{n} ethtool -K vif tso on gso on '
                  'sg on tx on rx on gro on')
        before = {f'v{n}': counters_at_rest(g, f'v{n}') for n in range(VIFS)}
        checked_transfer(g, 'v0', 'v1', '10.9.1.1')
        checked_transfer(g, 'v2', 'v3', '10.9.3.1')
        for n in range(VIFS):
            assert ping_ok(g, f'v{n}', f'10.9.{n ^ 1}.1')

        # over that window, driver and board count the same frames (a
        # last ping makes the driver clean the completions it has not
        # looked at yet)
        for n in range(VIFS):
            ns = f'v{n}'
            for _ in range(3):
                drv, board = vif_counters(g, ns)
                d_drv = [a - b for a, b in zip(drv, before[ns][0])]
                d_board = [a - b for a, b in zip(board, before[ns][1])]
                if d_drv == d_board:
                    break
                assert ping_ok(g, ns, f'10.9.{n ^ 1}.1', count=1)
            assert d_drv == d_board, (ns, d_drv, d_board, g.out(
                f'{ROUTE} netns exec {ns} ethtool -S vif; dmesg | tail -20'))
            assert vif_board_stat(g, ns, 'tx_errors') == 0
            assert vif_board_stat(g, ns, 'win_aborts') == 0


# board resets in a tight loop for this long (make check runs it)
RESET_SECONDS = 40


def test_resets_while_the_send_queue_waits():
    """A board reset while a VIF's send queue waits for room, a NAPI poll
    on the other CPU reaping completions: the poll must not wake the queue
    that quiesce stopped, or a transmit writes the old tx_prod into the
    reset ring (the board halts the queue "at descriptor 0", or the driver
    reads "tx_cons 0" against thousands).  4-slot send queues make them
    wait often; iperf3 flows both ways keep them full."""
    dev = ['-device', 'selfvirt-nic,vifs=4,addr=05.0']
    with guests('stress-resets', [('g0', [dev])], smp=2) as (g,):
        vif_netns(g, 2, 1)
        for n in range(2):
            g.run(f'{ROUTE} netns exec v{n} ethtool -G vif tx 4; '
                  f'{ROUTE} netns exec v{n} iperf3 -s -D')
        flow = ('while [ "$(date +%s)" -lt "$end" ]; do\n'
                f'    {ROUTE} netns exec v{{0}} timeout 20 iperf3 -c '
                '10.9.{1}.1 -t 3 -P 2 > /dev/null 2>&1 || sleep 0.5\n'
                'done &\n')
        g.run('cat > /tmp/resets.sh << "EOF"\n'
              'end=$(( $(date +%s) + $1 )); n=0\n' +
              flow.format(0, 1) + flow.format(1, 0) +
              'while [ "$(date +%s)" -lt "$end" ]; do\n'
              f'    echo 1 > {BOARD_SYSFS}/reset && n=$((n + 1))\n'
              '    sleep 0.$(( $(od -An -N1 -tu1 /dev/urandom) % 5 ))\n'
              'done\n'
              'wait; echo $n > /tmp/resets.n\n'
              'EOF')
        g.run(f'setsid sh -c "sh /tmp/resets.sh {RESET_SECONDS}" '
              '< /dev/null > /dev/null 2>&1 &')
        wait_for_file(g, '/tmp/resets.n', timeout=RESET_SECONDS + 60)
        print(f'{g.out("cat /tmp/resets.n").strip()} board resets under '
              'traffic')
        dmesg = g.out('dmesg')
        for bad in ('send queue halted', 'board reports'):
            assert bad not in dmesg, dmesg[-3000:]
        g.run('killall iperf3', check=False)
        for n in range(2):
            assert ping_ok(g, f'v{n}', f'10.9.{n ^ 1}.1')
