"""A Graphite plaintext receiver on loopback: what Icinga 2's GraphiteWriter really sends."""

from __future__ import annotations

import socket
import threading
from types import TracebackType


class GraphiteReceiver:
    """Accepts connections on 127.0.0.1 and keeps every ``path value timestamp`` line."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._server.getsockname()[1])
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._stopping = False
        self._connections = 0

    def __enter__(self) -> GraphiteReceiver:
        thread = threading.Thread(target=self._accept, name="graphite-accept", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stopping = True
        self._server.close()

    def connected(self) -> bool | None:
        """True once a writer has connected (None until then, for polling)."""
        return True if self._connections else None

    def metrics(self, prefix: str) -> dict[str, str]:
        """The latest value of every metric path under ``prefix``, without the prefix."""
        found: dict[str, str] = {}
        with self._lock:
            lines = list(self._lines)
        for line in lines:
            fields = line.split()
            if len(fields) == 3 and fields[0].startswith(prefix):
                found[fields[0][len(prefix) :]] = fields[1]
        return found

    def _accept(self) -> None:
        while not self._stopping:
            try:
                conn, _ = self._server.accept()
            except OSError:
                return
            self._connections += 1
            thread = threading.Thread(target=self._read, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _read(self, conn: socket.socket) -> None:
        pending = b""
        with conn:
            while True:
                try:
                    chunk = conn.recv(65536)
                except OSError:
                    return
                if not chunk:
                    return
                pending += chunk
                *complete, pending = pending.split(b"\n")
                with self._lock:
                    self._lines.extend(line.decode(errors="replace") for line in complete)
