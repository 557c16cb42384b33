#!/usr/bin/python3
"""The selfvirt demo: two guests, each with a selfvirt-nic, wired back to back.

Each guest loads the driver with VIFS VIFs and moves every VIF into its own
network namespace (the paper's guest domains); VIF i of the left guest then
pings and runs iperf3 against VIF i of the right guest, through both boards'
switches and the stream netdev between them.
"""

import re
import sys
import time

from harness import guests, wire_pair

VIFS = 2
SECONDS = 5


def setup(g, host):
    g.run(f'modprobe selfvirt vifs={VIFS}')
    lines = g.out('cat /sys/bus/pci/devices/0000:00:05.0/selfvirt/vifs')
    for idx, ifname in (line.split() for line in lines.splitlines()):
        g.run(f'ip netns add v{idx}; ip link set {ifname} netns v{idx}; '
              f'ip -n v{idx} link set {ifname} name vif up; '
              f'ip -n v{idx} addr add 10.9.{idx}.{host}/16 dev vif')


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
        setup(a, 1)
        setup(b, 2)
        rows = []
        for i in range(VIFS):
            out = a.out(f'ip netns exec v{i} ping -c 5 -i 0.2 10.9.{i}.2',
                        timeout=30)
            rtt = re.search(r'= [\d.]+/([\d.]+)/', out)
            b.run(f'ip netns exec v{i} iperf3 -s -D -1')
            out = a.out(f'ip netns exec v{i} iperf3 -c 10.9.{i}.2 '
                        f'-t {SECONDS}', timeout=SECONDS + 30)
            rate = re.search(r'([\d.]+ [KMG]bits/sec).*receiver', out)
            rows.append((i, rtt[1] if rtt else '-', rate[1] if rate else '-'))
        print('\n  VIF  ping RTT avg (ms)  iperf3 TCP (left -> right, '
              f'{SECONDS} s)')
        for i, rtt, rate in rows:
            print(f'  {i:>3}  {rtt:>17}  {rate}')
    print(f'\ndemo: done in {time.monotonic() - t0:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
