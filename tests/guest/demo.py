#!/usr/bin/python3
"""The selfvirt demo: two guests, each with a selfvirt-nic, wired back to back.

Each guest loads the driver with VIFS VIFs and moves every VIF into its own
network namespace (the paper's guest domains); VIF i of the left guest then
pings and runs iperf3 against VIF i of the right guest, through both boards'
switches and the wire between them.

  tests/guest/demo.py [--seconds S] [--wire stream|tap]

Two hosts (the way to scale out): the same tool on each machine, each
booting one guest, joined over IP by a TCP stream (--wire inet: the right
side listens on PORT) or UDP (--wire dgram: both sides use PORT):

  right$ tests/guest/demo.py --role right --peer LEFT_HOST:PORT [--wire inet]
  left$  tests/guest/demo.py --role left --peer RIGHT_HOST:PORT [--wire inet]

The right side serves (iperf3, ping) until the left side says it is done,
over the wire itself.
"""

import argparse
import statistics
import sys
import time

from harness import (add_wire_args, check_wire_args, guests, iperf3_mbps,
                     nc_listen, nc_send, ping_rtts, remote_end, vif_netns,
                     wait_for_file, wire)

VIFS = 2
DEV = 'selfvirt-nic,netdev=wire,vifs=8,addr=05.0'
MACS = {'left': '52:54:00:5f:00:00', 'right': '52:54:00:5f:01:00'}
BYE_PORT = 5010         # the left side's "done", to VIF 0 of the right
SERVE_S = 1800          # the right side waits at most this long


def nic(role):
    return ['-device', f'{DEV},mac={MACS[role]}']


def measure(a, seconds, retries=1):
    """Ping and iperf3 from each VIF of guest @a to the right's VIF;
    @retries: attempts (the right side may still be starting)."""
    rows = []
    for i in range(VIFS):
        ping = f'ip netns exec v{i} ping -i 0.2 10.9.{i}.2'
        a.run(f'for t in $(seq {retries}); do {ping} -c 1 -W 1 && exit 0; '
              'done; exit 1', timeout=2 * retries + 30)
        a.run(f'{ping} -c 3 -W 3', timeout=30)     # ARP, first wake-ups
        rtts = ping_rtts(a.out(f'{ping} -c 10', timeout=30))
        iperf = f'ip netns exec v{i} iperf3 -c 10.9.{i}.2 -t {seconds}'
        out = a.out(f'for t in $(seq {retries}); do {iperf} && exit 0; '
                    'sleep 1; done; exit 1',
                    timeout=retries * (seconds + 10) + 30)
        rows.append((i, statistics.median(rtts), iperf3_mbps(out)))
    print('\n  VIF  ping RTT median (ms, warm)  iperf3 TCP (left -> '
          f'right, {seconds} s)')
    for i, rtt, mbps in rows:
        print(f'  {i:>3}  {rtt:>26.3f}  {mbps:.0f} Mbit/s')
    return rows


def local(args, t0):
    """Both guests on this host."""
    print(f'demo: booting two guests with {DEV.split(",addr")[0]} on a '
          f'{args.wire} wire ...', flush=True)
    with wire(args.wire) as w, \
            guests('demo', [('left', [w.ends[0], nic('left')]),
                            ('right', [w.ends[1], nic('right')])],
                   wrapper=w.wrapper) as (a, b):
        print(f'demo: both guests up after {time.monotonic() - t0:.0f} s; '
              f'{VIFS} VIFs each, one per network namespace', flush=True)
        vif_netns(a, VIFS, 1)
        vif_netns(b, VIFS, 2)
        for i in range(VIFS):
            b.run(f'ip netns exec v{i} iperf3 -s -D')
        measure(a, args.seconds)


def remote(args, t0):
    """This host's guest only; the other side's runs on --peer."""
    end = remote_end(args.wire, args.role, args.peer)
    print(f'demo: booting the {args.role} guest, {args.wire} wire to '
          f'{args.peer[0]} port {args.peer[1]} ...', flush=True)
    with guests(f'demo-{args.role}', [(args.role, [end, nic(args.role)])]) \
            as (g,):
        vif_netns(g, VIFS, 1 if args.role == 'left' else 2)
        ns0 = '/usr/bin/ip netns exec v0'   # not busybox's (setsid)
        if args.role == 'right':
            for i in range(VIFS):
                g.run(f'ip netns exec v{i} iperf3 -s -D')
            nc_listen(g, ns0, port=BYE_PORT, dst='/tmp/bye',
                      done='/tmp/bye.done')
            print(f'demo: serving after {time.monotonic() - t0:.0f} s, '
                  'until the left side is done', flush=True)
            wait_for_file(g, '/tmp/bye.done', timeout=SERVE_S)
            return
        measure(g, args.seconds, retries=120)
        g.run('echo done > /tmp/bye')
        nc_send(g, ns0, '10.9.0.2', path='/tmp/bye', port=BYE_PORT,
                rc='/tmp/bye.rc')
        wait_for_file(g, '/tmp/bye.rc', timeout=60)
        if g.out('cat /tmp/bye.rc').strip() != '0':
            sys.exit('demo: could not tell the right side that we are done')


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--seconds', type=int, default=5,
                    help='each iperf3 run (default 5)')
    add_wire_args(ap)
    args = ap.parse_args()
    if args.seconds < 1:
        ap.error('--seconds must be at least 1')
    check_wire_args(ap, args)
    t0 = time.monotonic()
    (remote if args.role else local)(args, t0)
    print(f'\ndemo: done in {time.monotonic() - t0:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
