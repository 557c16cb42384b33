#!/usr/bin/env python3
"""Count the frames that cross a network interface, by size, until SIGINT.

Usage: frame_sizes.py IFNAME

It prints "bound" once it watches, and at the end {"frames": N,
"largest": BYTES, "over_1514": N} as JSON: a GSO frame that a tap takes or
gives whole is larger than an Ethernet frame.  The harness runs it inside
a tap wire's network namespace (harness.frame_sizes).
"""

import json
import signal
import socket
import sys

ETH_P_ALL = 0x0003


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                         socket.htons(ETH_P_ALL))
    try:
        sock.bind((sys.argv[1], 0))
    except OSError as e:
        sys.exit(f'frame_sizes.py: {sys.argv[1]}: {e.strerror}')
    print('bound', flush=True)      # the harness waits for this line
    sock.settimeout(0.2)
    stop = []
    signal.signal(signal.SIGINT, lambda *_: stop.append(True))
    frames = largest = over = 0
    buf = bytearray(64)
    while not stop:
        try:
            # MSG_TRUNC: the frame's whole length, whatever the buffer
            n = sock.recv_into(buf, len(buf), socket.MSG_TRUNC)
        except (socket.timeout, InterruptedError):
            continue
        frames += 1
        largest = max(largest, n)
        over += n > 1514
    print(json.dumps({'frames': frames, 'largest': largest,
                      'over_1514': over}))


if __name__ == '__main__':
    main()
