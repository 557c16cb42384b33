"""The other host of a two-host run: its guests used from this one.

The right side (serve) keeps its own guests, L2 VMs and fleets, and answers
calls on them over one connection of multiprocessing.connection: pickled
messages, after each side has proved the shared key (SELFVIRT_PEER_KEY) by
HMAC.  The key keeps others from connecting; the messages after it are
neither signed nor encrypted, so the two hosts need a network they trust
(or an SSH tunnel for the control port).  On the left, a Remote stands for
one object there: attribute reads and method calls go over, and objects
that come back are Remotes again.  Code written for two local guests runs
unchanged with one of them on another machine.

The control connection is the peer's wire port plus CONTROL_PORT_OFFSET,
TCP over IPv4 (multiprocessing's); the wire itself (inet or dgram) is the
guests' own.  TCP keepalives end a connection whose peer has gone without
a word within about two minutes.
"""

import os
import socket
import threading
import time
import traceback
from multiprocessing import AuthenticationError
from multiprocessing.connection import Client, Listener

from harness import GuestError

CONTROL_PORT_OFFSET = 1
KEY_ENV = 'SELFVIRT_PEER_KEY'
CONNECT_S = 600         # how long the left side looks for the right one
KEEPALIVE = ((socket.TCP_KEEPIDLE, 60), (socket.TCP_KEEPINTVL, 10),
             (socket.TCP_KEEPCNT, 6))
PLAIN = (bool, int, float, str, bytes, type(None))


class RemoteError(GuestError):
    """A call that raised on the other host; its traceback there."""


def peer_key():
    """The shared secret of both sides, from the environment; ValueError
    saying how to set it."""
    key = os.environ.get(KEY_ENV, '')
    if len(key) < 16:
        raise ValueError(f'both hosts need the same secret of 16 characters '
                         f'or more in {KEY_ENV} (e.g. from "openssl rand '
                         '-hex 16"): the control connection runs commands '
                         'in the guests')
    return key.encode()


def _keepalive(conn):
    """TCP keepalives on @conn's socket: a peer gone silent ends it."""
    sock = socket.fromfd(conn.fileno(), socket.AF_INET, socket.SOCK_STREAM)
    with sock:                  # a duplicate: closing it keeps conn's
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for option, value in KEEPALIVE:
            sock.setsockopt(socket.IPPROTO_TCP, option, value)


class _Handle:
    """An object kept on the other side, by number."""

    def __init__(self, number):
        self.number = number


def _walk(value, leaf):
    """@value with @leaf applied to each thing in it that is not a list, a
    tuple or a dict (what crosses: arguments, results)."""
    if isinstance(value, (list, tuple)):
        return type(value)(_walk(v, leaf) for v in value)
    if isinstance(value, dict):
        return {k: _walk(v, leaf) for k, v in value.items()}
    return leaf(value)


class _Exports:
    """The serving side's objects, numbered as they go out."""

    def __init__(self, root):
        self.objects = {0: root}
        self.numbers = {id(root): 0}

    def out(self, value):
        """@value as it crosses: objects by number."""
        return _walk(value, self._export)

    def into(self, value):
        """What crossed as @value, the numbers made objects again."""
        return _walk(value, lambda v: self.objects[v.number]
                     if isinstance(v, _Handle) else v)

    def _export(self, value):
        if isinstance(value, PLAIN):
            return value
        number = self.numbers.get(id(value))
        if number is None:
            number = len(self.objects)
            self.objects[number] = value
            self.numbers[id(value)] = number
        return _Handle(number)


def _answer(exports, request):
    """What one request (op, number, name, args, kwargs) gets back."""
    op, number, name, args, kwargs = request
    obj = exports.objects[number]
    if op == 'getattr':
        value = getattr(obj, name)
        if callable(value) and not isinstance(value, type):
            return ('method', None)
        return ('value', exports.out(value))
    if op == 'call':
        method = getattr(obj, name)
        result = method(*exports.into(args), **exports.into(kwargs))
        return ('value', exports.out(result))
    raise ValueError(f'no operation {op!r}')


def _accept(listener):
    """The first connection that proves the key; others are turned away."""
    while True:
        try:
            return listener.accept()
        except (AuthenticationError, EOFError, OSError) as err:
            print(f'remote: a connection turned away: {err!r}', flush=True)


def serve(port, root, key):
    """Answer one left side's calls on @root (object 0) until it hangs up
    or goes silent."""
    with Listener(('', port), authkey=key) as listener:
        print(f'remote: waiting for the left side on port {port}', flush=True)
        with _accept(listener) as conn:
            _keepalive(conn)
            print(f'remote: left side {listener.last_accepted[0]} '
                  'connected', flush=True)
            exports = _Exports(root)
            while True:
                try:
                    request = conn.recv()
                except (EOFError, OSError):
                    return
                try:
                    answer = _answer(exports, request)
                except AttributeError as err:
                    answer = ('noattr', str(err))
                except Exception:   # the left side's error, not ours
                    answer = ('raise', traceback.format_exc())
                conn.send(answer)


class Link:
    """The left side's connection to the right; one call at a time (with
    contextlib.closing, closed at the end)."""

    def __init__(self, host, port, key, timeout=CONNECT_S):
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.conn = Client((host, port), authkey=key)
                break
            except OSError:         # not up yet, or not reachable yet
                if time.monotonic() > deadline:
                    raise GuestError(f'no right side on {host} port {port} '
                                     f'after {timeout} s')
                time.sleep(1)
        _keepalive(self.conn)
        self.peer = f'{host}:{port}'
        self.lock = threading.Lock()
        self.broken = None

    def request(self, op, number, name, args=(), kwargs=None):
        with self.lock:
            if self.broken:
                raise RemoteError(f'the link to {self.peer} broke earlier: '
                                  f'{self.broken}')
            try:
                self.conn.send((op, number, name, self._out(args),
                                self._out(kwargs or {})))
                kind, value = self.conn.recv()
            except BaseException as err:
                # a reply may still be on its way: never read it as the
                # answer to a later call
                self.broken = repr(err)
                self.conn.close()
                raise
        if kind == 'raise':
            raise RemoteError(f'on {self.peer}:\n{value}')
        if kind == 'noattr':
            raise AttributeError(value)
        return kind, self._into(value)

    def root(self):
        return Remote(self, 0)

    def close(self):
        self.conn.close()       # closing twice is harmless

    def _out(self, value):
        return _walk(value, lambda v: _Handle(v._number)
                     if isinstance(v, Remote) else v)

    def _into(self, value):
        return _walk(value, lambda v: Remote(self, v.number)
                     if isinstance(v, _Handle) else v)


class Remote:
    """An object on the other host: its attributes and methods, through
    the Link."""

    def __init__(self, link, number):
        self._link = link
        self._number = number

    def __getattr__(self, name):
        if name.startswith('_'):
            raise AttributeError(name)
        kind, value = self._link.request('getattr', self._number, name)
        if kind == 'method':
            return lambda *a, **kw: self._link.request(
                'call', self._number, name, a, kw)[1]
        return value

    def __str__(self):
        return f'{self._link.peer}#{self._number}'


def host_of(obj):
    """The right side's root object if @obj lives there, else None."""
    return obj._link.root() if isinstance(obj, Remote) else None
