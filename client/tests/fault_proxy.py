"""A TCP proxy on loopback that can lose a response or play an outage: real sockets, real failures.

In front of gunicorn it forwards a request and then closes the client's connection without its
response (the server did the work; the client cannot know). In front of moto's DynamoDB it can cut
every connection and refuse new ones until resumed, so the app meets a real outage and answers 503.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections.abc import Iterator

LOOPBACK = "127.0.0.1"
CHUNK = 65536


class FaultProxy:
    """Forwards loopback TCP connections to ``upstream``; faults are switched on by the test."""

    def __init__(self, upstream_port: int) -> None:
        self._upstream = (LOOPBACK, upstream_port)
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._suspended = False
        self._drop_prefix: bytes | None = None
        self.dropped = threading.Event()
        self._closing = False
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def drop_next_response(self, request_prefix: bytes) -> None:
        """The next request starting with ``request_prefix`` reaches upstream; its response never returns."""
        with self._lock:
            self._drop_prefix = request_prefix
            self.dropped.clear()

    def suspend(self) -> None:
        """An outage: every open connection is cut, and new ones are reset as soon as accepted."""
        with self._lock:
            self._suspended = True
            connections, self._open = self._open, set()
        for connection in connections:
            _reset(connection)

    def resume(self) -> None:
        """The outage is over."""
        with self._lock:
            self._suspended = False

    def stop_listening(self) -> None:
        """Connections to the port are refused (nothing listens) until ``listen``."""
        _close(self._listener)

    def listen(self) -> None:
        """Listen on the same port again."""
        self._listener = socket.create_server((LOOPBACK, self.port))
        threading.Thread(target=self._accept, args=(self._listener,), daemon=True).start()

    def close(self) -> None:
        self._closing = True
        self.suspend()
        _close(self._listener)

    def _accept(self, listener: socket.socket) -> None:
        while not self._closing:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with self._lock:
            suspended = self._suspended
        if suspended:
            _reset(client)
            return
        try:
            upstream = socket.create_connection(self._upstream, timeout=10)
            first = client.recv(CHUNK)
        except OSError:
            _reset(client)
            return
        with self._lock:
            drop = self._drop_prefix is not None and first.startswith(self._drop_prefix)
            if drop:
                self._drop_prefix = None
            self._open |= {client, upstream}
        upstream.settimeout(None)
        with contextlib.suppress(OSError):
            upstream.sendall(first)  # before the pump starts: the rest of the request must follow it
        threading.Thread(target=_pump, args=(client, upstream), daemon=True).start()
        # Upstream to client, or (dropping) upstream to nowhere: the request was served all the same.
        _pump(upstream, None if drop else client)
        if drop:
            self.dropped.set()
        for connection in (client, upstream):
            if drop:
                _reset(connection)
            else:
                _close(connection)
        with self._lock:
            self._open -= {client, upstream}


def _pump(source: socket.socket, sink: socket.socket | None) -> None:
    with contextlib.suppress(OSError):
        while chunk := source.recv(CHUNK):
            if sink is not None:
                sink.sendall(chunk)
    if sink is not None:
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)


def _close(connection: socket.socket) -> None:
    # shutdown first: close() alone leaves the connection open while a pump thread is blocked reading it.
    with contextlib.suppress(OSError):
        connection.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        connection.close()


def _reset(connection: socket.socket) -> None:
    # SO_LINGER 0: cut the line as a crashed peer or a middlebox would, whatever is still unsent.
    with contextlib.suppress(OSError):
        connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    _close(connection)


@contextlib.contextmanager
def fault_proxy(upstream_port: int) -> Iterator[FaultProxy]:
    """A proxy to ``upstream_port`` for the duration of the block."""
    proxy = FaultProxy(upstream_port)
    try:
        yield proxy
    finally:
        proxy.close()
