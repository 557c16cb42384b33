"""More than two hosts: four guests, each with its own board, on one
Ethernet segment made by QEMU's own backend (-netdev dgram on a multicast
group over the host's loopback), every VIF reaching every other."""

import os
import socket
import struct

import pytest

from harness import (check_transfer, guests, nc_listen, nc_send, vif_netns,
                     wait_listening)

GUESTS = 4
VIFS = 2                        # per guest: 8 VIFs on the segment
GROUP = '230.0.5.1'             # administratively scoped, host-local here
NS1 = '/usr/bin/ip netns exec v1'   # not busybox's ip, which has no netns


def multicast_on_loopback(port):
    """Can this host deliver multicast over lo (what the backend needs)?"""
    recv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    send = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        recv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        recv.bind(('', port))
        recv.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP,
                        struct.pack('4s4s', socket.inet_aton(GROUP),
                                    socket.inet_aton('127.0.0.1')))
        send.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF,
                        socket.inet_aton('127.0.0.1'))
        send.sendto(b'probe', (GROUP, port))
        recv.settimeout(1)
        return recv.recv(16) == b'probe'
    except OSError:
        return False
    finally:
        recv.close()
        send.close()


def segment_specs(port):
    """Four guests, board N with base MAC 52:54:00:5e:0N:00, one segment."""
    wire = ['-netdev', f'dgram,id=wire,remote.type=inet,remote.host={GROUP},'
                       f'remote.port={port},local.type=inet,'
                       'local.host=127.0.0.1,local.port=0']
    return [(f'g{n}', [wire, ['-device', f'selfvirt-nic,netdev=wire,'
                                         f'vifs={VIFS},addr=05.0,'
                                         f'mac=52:54:00:5e:0{n}:00']])
            for n in range(GUESTS)]


def test_four_guests_on_one_segment():
    port = 20000 + os.getpid() % 20000      # concurrent runs: own groups
    if not multicast_on_loopback(port):
        pytest.skip('this host delivers no multicast over lo: the dgram '
                    'backend cannot join its group')
    with guests('segment', segment_specs(port)) as gs:
        # VIF i of guest n: namespace vi, address 10.9.i.(n+1)
        for n, g in enumerate(gs):
            vif_netns(g, VIFS, n + 1)
        addrs = [f'10.9.{i}.{n + 1}' for n in range(GUESTS)
                 for i in range(VIFS)]
        for n, g in enumerate(gs):
            for i in range(VIFS):
                own = f'10.9.{i}.{n + 1}'
                script = '; '.join(
                    f'ping -c 1 -W 5 {a} >/dev/null 2>&1 || echo miss {a}'
                    for a in addrs if a != own)
                out = g.out(f'ip netns exec v{i} sh -c "{script}"',
                            timeout=300)
                assert 'miss' not in out, f'{g} v{i} ({own}):\n{out}'
        # bytes across the segment, checked end to end: g0's VIF 1 to g3's
        src, dst = gs[0], gs[GUESTS - 1]
        src.run('dd if=/dev/urandom of=/tmp/src bs=1M count=8 2>/dev/null')
        nc_listen(dst, NS1)
        wait_listening(dst, NS1)
        nc_send(src, NS1, f'10.9.1.{GUESTS}')
        check_transfer(src, dst)
