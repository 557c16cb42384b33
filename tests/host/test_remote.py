"""tests/guest/remote.py: the control connection of a run over two hosts,
served in a thread on the loopback with stand-ins for the guests."""

import contextlib
import os
import socket
import sys
import threading

import pytest

from load_script import TOP

sys.path.insert(0, os.path.join(TOP, 'tests', 'guest'))
import remote                                   # noqa: E402

KEY = b'0123456789abcdef-test'


class Board:
    def __init__(self, name):
        self.name = name
        self.frames = 0

    def send(self, n):
        self.frames += n
        return self.frames


class Host:
    """The served root: makes objects, takes them back, fails on request."""

    def __init__(self):
        self.boards = []

    def board(self, name):
        self.boards.append(Board(name))
        return self.boards[-1]

    def names(self, boards):
        return [b.name for b in boards]

    def fail(self):
        raise ValueError('asked to fail')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


@pytest.fixture
def served():
    """(port, the served Host, the server thread)."""
    port, host = free_port(), Host()
    thread = threading.Thread(target=remote.serve, args=(port, host, KEY),
                              daemon=True)
    thread.start()
    yield port, host, thread
    thread.join(timeout=10)


def test_calls_objects_and_errors_cross(served):
    port, host, thread = served
    with contextlib.closing(remote.Link('127.0.0.1', port, KEY)) as link:
        root = link.root()
        board = root.board('left')
        assert isinstance(board, remote.Remote)
        assert remote.host_of(board) is not None
        assert board.name == 'left'
        assert board.send(3) == 3 and board.send(4) == 7
        # objects go back as themselves, in lists too
        again = root.board('right')
        assert root.names([board, again]) == ['left', 'right']
        assert host.boards[0].frames == 7
        assert not hasattr(board, 'no_such_thing')
        with pytest.raises(remote.RemoteError, match='asked to fail'):
            root.fail()
        assert board.send(1) == 8     # the connection goes on after both
    thread.join(timeout=10)
    assert not thread.is_alive()      # served until the left hung up


def test_a_wrong_key_is_turned_away(served):
    port, _, thread = served
    with pytest.raises(remote.AuthenticationError):
        remote.Link('127.0.0.1', port, b'not-the-key-at-all', timeout=5)
    assert thread.is_alive()          # still waiting for the right key
    with contextlib.closing(remote.Link('127.0.0.1', port, KEY)) as link:
        assert link.root().board('b').name == 'b'


def test_a_call_cut_short_breaks_the_link(served, monkeypatch):
    port, _, _ = served
    with contextlib.closing(remote.Link('127.0.0.1', port, KEY)) as link:
        board = link.root().board('x')

        def interrupted():
            raise KeyboardInterrupt
        monkeypatch.setattr(link.conn, 'recv', interrupted)
        with pytest.raises(KeyboardInterrupt):
            board.send(1)
        # its answer may still come: no later call may read it as its own
        with pytest.raises(remote.RemoteError, match='broke earlier'):
            board.send(1)


def test_the_key_is_required(monkeypatch):
    monkeypatch.setenv(remote.KEY_ENV, 'short')
    with pytest.raises(ValueError, match='16 characters'):
        remote.peer_key()
    monkeypatch.setenv(remote.KEY_ENV, 'x' * 16)
    assert remote.peer_key() == b'x' * 16
