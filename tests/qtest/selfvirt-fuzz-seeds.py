#!/usr/bin/python3
"""Seed inputs for the selfvirt-nic-fuzz target (tests/qtest/selfvirt-fuzz.c).

Each seed is a few well-formed operations that reach a data path, so that
libFuzzer starts from there: VIF 0 sends to VIF 1 through the board's
switch; a frame from the wire reaches VIF 1; VIF 0 sends a TSO frame.

  tests/qtest/selfvirt-fuzz-seeds.py DIR
"""

import os
import struct
import sys

OP_CSR_WRITE, OP_CSR_READ, OP_SDRAM_WRITE, OP_WIRE_FRAME, OP_CREATE_VIF = \
    range(5)
REG_DOORBELL = 0x064
SQ_DESC_OFF = 64
SQ_DATA_OFF_16 = (64 + 16 * 16 + 63) & ~63     # SELFVIRT_SQ_DATA_OFF(16)
TX_CSUM, TX_TSO = 1, 2
MAC = [bytes([0x52, 0x54, 0, 0x12, 0x34, 0x56 + i]) for i in range(4)]


def op(code, arg=0, off=0, val=0, payload=b''):
    return struct.pack('<BBHII', code, len(payload), arg, off, val) + payload


def frame(dst, src, ethertype=0x88b5, body=bytes(50)):
    return dst + src + struct.pack('>H', ethertype) + body


def tcp_frame(dst, src, payload_len):
    ip = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + 20 + payload_len, 0,
                     0x4000, 64, 6, 0, bytes([10, 0, 0, 1]),
                     bytes([10, 0, 0, 2]))
    tcp = struct.pack('>HHIIBBHHH', 1234, 5201, 1, 0, 0x50, 0x18, 512, 0, 0)
    return dst + src + b'\x08\x00' + ip + tcp + bytes(payload_len)


def post(vif_part, f, flags=0, mss=0):
    """SDRAM writes of one frame and descriptor, then tx_prod and doorbell."""
    desc = struct.pack('<IIHHI', 0, len(f), flags, mss, 0)
    ops = []
    for i in range(0, len(f), 255):
        ops.append(op(OP_SDRAM_WRITE, off=vif_part + SQ_DATA_OFF_16 + i,
                      payload=f[i:i + 255]))
    ops.append(op(OP_SDRAM_WRITE, off=vif_part + SQ_DESC_OFF, payload=desc))
    ops.append(op(OP_SDRAM_WRITE, off=vif_part, payload=struct.pack('<I', 1)))
    ops.append(op(OP_CSR_WRITE, off=REG_DOORBELL, val=0))
    return b''.join(ops)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    two_vifs = op(OP_CREATE_VIF, arg=0) + op(OP_CREATE_VIF, arg=1)
    seeds = {
        'vif-to-vif': two_vifs + post(0, frame(MAC[1], MAC[0])),
        'wire-to-vif': two_vifs + op(OP_WIRE_FRAME,
                                     payload=frame(MAC[1], MAC[2])),
        'tso-to-wire': two_vifs + post(0, tcp_frame(b'\x02' * 6, MAC[0],
                                                    3000),
                                       TX_TSO | TX_CSUM, 1000),
    }
    for name, data in seeds.items():
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)


if __name__ == '__main__':
    main()
