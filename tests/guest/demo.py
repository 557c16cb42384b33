#!/usr/bin/python3
"""The selfvirt demo: two guests, each with a selfvirt-nic, wired back to back.

Boots both guests (TCG here, KVM where it works), loads the driver in each
and prints what the driver reports of the board.
"""

import sys
import time

from harness import guests, wire_pair

VIFS = 4


def main():
    server, client = wire_pair()
    dev = ['-device', f'selfvirt-nic,netdev=wire,vifs={VIFS},addr=05.0']
    left_dev = [dev[0], dev[1] + ',mac=52:54:00:5f:00:00']
    right_dev = [dev[0], dev[1] + ',mac=52:54:00:5f:01:00']
    t0 = time.monotonic()
    print(f'demo: booting two guests with selfvirt-nic,vifs={VIFS} on a '
          'stream netdev ...', flush=True)
    with guests('demo', [('left', [server, left_dev]),
                         ('right', [client, right_dev])]) as pair:
        print(f'demo: both guests up after {time.monotonic() - t0:.0f} s',
              flush=True)
        for g in pair:
            g.run('modprobe selfvirt')
            line = [ln for ln in g.out('dmesg').splitlines()
                    if 'selfvirt' in ln and 'board:' in ln]
            print(f'{g.name:>6}: {line[-1].split("] ", 1)[-1] if line else "no board"}')
    print(f'demo: done in {time.monotonic() - t0:.0f} s')
    return 0


if __name__ == '__main__':
    sys.exit(main())
