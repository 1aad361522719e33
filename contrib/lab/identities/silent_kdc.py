"""A "KDC" that never answers, for the clients' timeouts (tests/lab/test_kdc.py measures how long
MIT Kerberos keeps trying one)."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from ..network.addresses import check_loopback, free_port
from .kdc import DEFAULT_ADDRESS, endpoint


class SilentKdc:
    """A "KDC" that never answers: UDP datagrams are read and dropped, TCP connections are
    accepted and left hanging.  It is what a client meets behind a firewall that drops packets
    (a closed port, by contrast, is refused at once)."""

    def __init__(self, address: str = DEFAULT_ADDRESS) -> None:
        self.address = check_loopback(address)
        self.port = 0
        self._udp: socket.socket | None = None
        self._tcp: socket.socket | None = None
        self._conns: list[socket.socket] = []
        self._thread: threading.Thread | None = None
        self._running = False
        self.datagrams = 0
        """Requests received over UDP (a client that tried it)."""
        self.connections = 0
        """Connections accepted over TCP."""
        self.arrivals: list[tuple[float, str]] = []
        """(seconds since :meth:`start`, ``udp`` or ``tcp``) of every request and connection:
        the client's schedule of retries."""
        self._started = 0.0

    @property
    def kdc(self) -> str:
        return endpoint(self.address, self.port)

    def start(self) -> SilentKdc:
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        self.port = free_port(self.address)
        self._udp = socket.socket(family, socket.SOCK_DGRAM)
        self._tcp = socket.socket(family, socket.SOCK_STREAM)
        self._udp.bind((self.address, self.port))
        self._tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._tcp.bind((self.address, self.port))
        self._tcp.listen(16)
        self._udp.settimeout(0.1)
        self._tcp.settimeout(0.1)
        self._running = True
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._loop, name="lab-kdc-silent", daemon=True)
        self._thread.start()
        return self

    def _loop(self) -> None:
        assert self._udp is not None and self._tcp is not None
        while self._running:
            with contextlib.suppress(OSError):
                self._udp.recv(65535)
                self.datagrams += 1
                self.arrivals.append((time.monotonic() - self._started, "udp"))
            with contextlib.suppress(OSError):
                conn, _ = self._tcp.accept()
                self._conns.append(conn)
                self.connections += 1
                self.arrivals.append((time.monotonic() - self._started, "tcp"))

    def stop(self) -> None:
        self._running = False
        if self._thread is not None:
            self._thread.join(2.0)
        for sock in (*self._conns, self._udp, self._tcp):
            if sock is not None:
                sock.close()
        self._conns.clear()
        self._udp = self._tcp = None

    def __enter__(self) -> SilentKdc:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
