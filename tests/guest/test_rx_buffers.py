"""Posted receive buffers (rx_pool.c): frames reach the stack in the pages
the board filled; when the stack holds too many of them the driver copies,
as it always does with rx_copy=1 (the paper's driver).  Data is checked
end to end in each case."""

import re
import time

from harness import (guests, nc_listen, sha256, vif_netns, vif_stat,
                     wait_for_file, wait_listening)

DEV = ['-device', 'selfvirt-nic,vifs=4,addr=05.0']
V0 = '/usr/bin/ip netns exec v0'   # not busybox's ip (setsid)
V1 = '/usr/bin/ip netns exec v1'
# a reader's socket holds at most 256 KiB (about 64 pages, fewer than the
# spare ones), however slowly it reads (a debug kernel): its frames can go
# in place; the stuck one's holds 4 MiB
READER_RMEM = '4096 131072 262144'
HOLDING_RMEM = '4096 4194304 8388608'


def transfer(g, blocks=128):
    """@blocks of 64 KiB from v0 to v1 (nc), the same sha256 at both ends."""
    g.run(f'dd if=/dev/urandom of=/tmp/src bs=64k count={blocks} 2>/dev/null')
    nc_listen(g, V1)
    wait_listening(g, V1)
    g.run(f'{V0} nc 10.9.1.1 5001 < /tmp/src', timeout=120)
    wait_for_file(g, '/tmp/nc.done', timeout=60)
    assert sha256(g, '/tmp/dst') == sha256(g, '/tmp/src')


def counts(g):
    return vif_stat(g, 'v1', 'rx_in_place'), vif_stat(g, 'v1', 'rx_copied')


def set_rmem(g, rmem):
    """v1's TCP receive buffer sizes (min, initial, max) for new sockets."""
    g.run(f'{V1} sh -c "echo {rmem} > /proc/sys/net/ipv4/tcp_rmem"')


def hold_pages(g):
    """A TCP flow into v1 whose reader never reads: its socket keeps the
    pages the frames came in, up to a receive buffer of 4 MiB (more than
    the spare pages: about 1 MiB of frames at a page each)."""
    set_rmem(g, HOLDING_RMEM)
    g.run(f'rm -f /tmp/stuck*; mkfifo /tmp/stuck.in /tmp/stuck; '
          f'setsid {V1} sh -c "exec 3<>/tmp/stuck.in 4<>/tmp/stuck; '
          'echo \\$\\$ > /tmp/stuck.pid; exec nc -l -p 5002 <&3 >&4" '
          '< /dev/null > /dev/null 2>&1 &')
    wait_listening(g, V1, port=5002)
    set_rmem(g, READER_RMEM)        # the listener's 4 MiB stays its own
    g.run(f'setsid {V0} sh -c "echo \\$\\$ > /tmp/stuck-tx.pid; '
          'exec nc 10.9.1.1 5002 < /dev/zero" > /dev/null 2>&1 &')


def release_pages(g):
    """End hold_pages()'s flow: its socket's pages go back to the pool."""
    g.run('kill $(cat /tmp/stuck.pid /tmp/stuck-tx.pid)')


def test_frames_reach_the_stack_in_their_buffers_or_copied_when_held():
    with guests('rx-buffers', [('g0', [DEV])]) as (g,):
        vif_netns(g, 2, 1)
        set_rmem(g, READER_RMEM)
        assert 'posted buffers' in g.out('dmesg | grep "VIF 1:"')
        transfer(g)
        # a few copied where nc had yet to read what the spare pages held
        in_place, copied = counts(g)
        assert in_place > 100 and copied < in_place / 10, (in_place, copied)

        # the stuck socket takes the spare pages; then frames are copied,
        # and the ring never waits for the stack
        hold_pages(g)
        deadline = time.monotonic() + 60
        while counts(g)[1] == copied:
            assert time.monotonic() < deadline, counts(g)
            time.sleep(1)
        assert vif_stat(g, 'v1', 'rx_pages_held') > 200
        transfer(g)
        assert counts(g)[1] > copied + 100, counts(g)

        # a larger ring needs pages the stack may still hold: granted or
        # refused, the VIF goes on
        g.run(f'{V1} ethtool -G vif rx 16')
        rc, _, err = g.run(f'{V1} ethtool -G vif rx 256', check=False)
        assert rc == 0 or 'holds too many receive buffers' in err, err

        # the pages come back once the reader goes
        release_pages(g)
        time.sleep(2)
        assert vif_stat(g, 'v1', 'rx_pages_held') < 64
        g.run(f'{V1} ethtool -G vif rx 256')
        in_place = counts(g)[0]
        transfer(g)
        assert counts(g)[0] > in_place + 100, counts(g)
        assert vif_stat(g, 'v1', 'rx_dropped') == 0


def test_rx_copy_keeps_the_papers_copy():
    with guests('rx-copy', [('g0', [DEV])]) as (g,):
        vif_netns(g, 2, 1, 'rx_copy=1')
        assert 'copied' in g.out('dmesg | grep "VIF 1:"')
        transfer(g, blocks=32)
        in_place, copied = counts(g)
        assert in_place == 0 and copied > 100, (in_place, copied)
        out = g.out(f'{V1} ethtool -S vif')
        assert re.search(r'^\s*rx_dropped: 0$', out, re.M), out
