#!/usr/bin/python3
"""The selfvirt demo: two guests, each with a selfvirt-nic, wired back to back.

Each guest loads the driver with VIFS VIFs and moves every VIF into its own
network namespace (the paper's guest domains); VIF i of the left guest then
pings and runs iperf3 against VIF i of the right guest, through both boards'
switches and the stream netdev between them.
"""

import statistics
import sys
import time

from harness import guests, iperf3_mbps, ping_rtts, vif_netns, wire_pair

VIFS = 2
SECONDS = 5


def main():
    server, client = wire_pair()
    dev = 'selfvirt-nic,netdev=wire,vifs=8,addr=05.0'
    t0 = time.monotonic()
    print(f'demo: booting two guests with {dev.split(",addr")[0]} on a '
          'stream netdev ...', flush=True)
    with guests('demo', [
            ('left', [server, ['-device', dev + ',mac=52:54:00:5f:00:00']]),
            ('right', [client, ['-device', dev + ',mac=52:54:00:5f:01:00']]),
    ]) as (a, b):
        print(f'demo: both guests up after {time.monotonic() - t0:.0f} s; '
              f'{VIFS} VIFs each, one per network namespace', flush=True)
        vif_netns(a, VIFS, 1)
        vif_netns(b, VIFS, 2)
        rows = []
        for i in range(VIFS):
            ping = f'ip netns exec v{i} ping -i 0.2 10.9.{i}.2'
            a.run(f'{ping} -c 3 -W 3', timeout=30)     # ARP, first wake-ups
            rtts = ping_rtts(a.out(f'{ping} -c 10', timeout=30))
            b.run(f'ip netns exec v{i} iperf3 -s -D -1')
            out = a.out(f'ip netns exec v{i} iperf3 -c 10.9.{i}.2 '
                        f'-t {SECONDS}', timeout=SECONDS + 30)
            rows.append((i, statistics.median(rtts), iperf3_mbps(out)))
        print('\n  VIF  ping RTT median (ms, warm)  iperf3 TCP (left -> '
              f'right, {SECONDS} s)')
        for i, rtt, mbps in rows:
            print(f'  {i:>3}  {rtt:>26.3f}  {mbps:.0f} Mbit/s')
    print(f'\ndemo: done in {time.monotonic() - t0:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
