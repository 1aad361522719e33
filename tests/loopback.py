"""A TCP server on a loopback address for the tests of the HTTP client: a listener on a free
port, each connection served by :meth:`LoopbackServer.serve` in a thread of its own."""

from __future__ import annotations

import socket
import threading


class LoopbackServer:
    def __init__(self, address: str) -> None:
        self.listener = socket.create_server((address, 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,), daemon=True).start()

    def serve(self, conn: socket.socket) -> None:
        raise NotImplementedError
