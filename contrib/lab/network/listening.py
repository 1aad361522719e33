"""A listening site of the lab: loopback addresses sharing one port, an accept thread for each
address and a daemon thread for each connection.

The web sites, the front doors, the proxies and the revocation site are such sites: each binds
its addresses (:meth:`ListeningSite._bind`), starts accepting (:meth:`ListeningSite._listen`),
serves every connection in its own :meth:`ListeningSite._serve` and keeps a log of the
requests it received (:meth:`ListeningSite.requests`), which the tests assert on.
:meth:`ListeningSite.stop` closes the listeners and shuts every connection still open down at
once, so that a stopped site leaves no client hanging.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import threading
from collections.abc import Iterable, Iterator
from typing import Generic, TypeVar

from .addresses import bind_shared_port

Record = TypeVar("Record")


class ListeningSite(Generic[Record]):
    """The listeners, open connections and request log of one site; a subclass serves each
    connection and records what it received in :attr:`seen`."""

    thread_name = "lab-site"
    """The accept threads are ``<thread_name>-<address>``, the connection threads
    ``<thread_name>-conn``."""
    backlog = 64

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self._lock = threading.Lock()
        self._listeners: dict[str, socket.socket] = {}  # bound, and accepting once listening
        self._conns: set[socket.socket] = set()
        self._running = False
        self.seen: list[Record] = []

    def requests(self, **match: object) -> list[Record]:
        """The requests seen whose fields equal ``match`` (e.g. ``host="contoso.test"``)."""
        with self._lock:
            return [s for s in self.seen if all(getattr(s, k) == v for k, v in match.items())]

    def clear(self) -> None:
        """Forget the requests seen."""
        with self._lock:
            self.seen.clear()

    def _bind(
        self, listen: Iterable[str], probe: Iterable[str] = (), port: int | None = None
    ) -> None:
        """Bind the ``listen`` addresses to one port free on all of them (``port``, by default
        the site's own; 0: any), making sure nothing listens on the ``probe`` addresses."""
        chosen = self.port if port is None else port
        self.port, self._listeners = bind_shared_port(listen, probe, chosen)

    def _listen(self) -> None:
        """Accept connections on every bound address, each served in a thread of its own."""
        self._running = True
        for address, sock in self._listeners.items():
            sock.listen(self.backlog)
            threading.Thread(
                target=self._accept,
                args=(sock, address),
                name=f"{self.thread_name}-{address}",
                daemon=True,
            ).start()

    def stop(self) -> None:
        self._running = False
        for sock in self._listeners.values():
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        self._listeners = {}
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                # the plain socket's shutdown, under a TLS socket too: at once, no close_notify
                socket.socket.shutdown(conn, socket.SHUT_RDWR)

    def _serve(self, conn: socket.socket, address: str, peer: str) -> None:
        """Serve one connection that ``peer`` opened to ``address`` (closed afterwards)."""
        raise NotImplementedError

    def _track(self, sock: socket.socket) -> None:
        """Count ``sock`` among the open connections :meth:`stop` shuts down."""
        with self._lock:
            self._conns.add(sock)

    def _forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._conns.discard(sock)

    @contextlib.contextmanager
    def _tls(self, conn: socket.socket, context: ssl.SSLContext) -> Iterator[ssl.SSLSocket]:
        """``conn`` after the server side of a TLS handshake, open while the block runs."""
        sock = context.wrap_socket(conn, server_side=True)
        self._track(sock)
        try:
            yield sock
        finally:
            self._forget(sock)
            with contextlib.suppress(OSError):
                sock.close()

    def _accept(self, listener: socket.socket, address: str) -> None:
        while self._running:
            try:
                conn, peer = listener.accept()
            except OSError:
                return
            self._track(conn)
            threading.Thread(
                target=self._run,
                args=(conn, address, str(peer[0])),
                name=f"{self.thread_name}-conn",
                daemon=True,
            ).start()

    def _run(self, conn: socket.socket, address: str, peer: str) -> None:
        try:
            self._serve(conn, address, peer)
        except (OSError, ValueError):  # the client left, or sent what the site cannot read
            pass
        finally:
            self._forget(conn)
            with contextlib.suppress(OSError):
                conn.close()
