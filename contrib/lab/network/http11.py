"""The lab's HTTP/1.1 server side: read a request from a socket (TLS or plain), bounded, and
write an answer.

A request whose body is larger than :data:`MAX_REQUEST` (an RPC over HTTP IN channel declares
1 GiB) is not read: :attr:`Request.streamed` says so and the body stays in the :class:`Stream`
for the caller to read with :meth:`Stream.take` (or to leave, closing the connection).
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_REQUEST = 256 * 1024


@dataclass
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    length: int = 0  # the Content-Length the client declared
    streamed: bool = False  # the body was too big to read, or waits for 100 Continue: it is
    # still in the stream
    version: str = "HTTP/1.1"  # of the request line


@dataclass
class Response:
    status: int
    reason: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes | Iterable[bytes] = b""
    close: bool = False
    version: str = "HTTP/1.1"  # of the status line ([MS-RPCH] 2.1.2.1.3: a 503 is HTTP/1.0)


class Stream:
    """Reads HTTP requests from a socket (TLS or plain), bounded."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""

    def _fill(self) -> bool:
        chunk = self.sock.recv(65536)
        if not chunk:
            return False
        self.buffer += chunk
        if len(self.buffer) > MAX_REQUEST:
            raise ValueError("request too big")
        return True

    def request(self) -> Request | None:
        while b"\r\n\r\n" not in self.buffer:
            if not self._fill():
                return None
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        method, path, version = [*lines[0].split(" ", 2), "", ""][:3]
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        # A client that sent "Expect: 100-continue" waits for the interim answer before its
        # body (RFC 7231 5.1.1; impacket's RPC client does): its body is left in the stream.
        waits = headers.get("expect", "").lower() == "100-continue" and len(self.buffer) < length
        if length > MAX_REQUEST or waits:
            return Request(method, path, headers, b"", length, streamed=True, version=version)
        while len(self.buffer) < length:
            if not self._fill():
                return None
        body, self.buffer = self.buffer[:length], self.buffer[length:]
        return Request(method, path, headers, body, length, version=version)

    def take(self, n: int) -> bytes | None:
        """The next ``n`` bytes of a streamed body (None when the client closed first)."""
        while len(self.buffer) < n:
            if not self._fill():
                return None
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def drain(self) -> None:
        """Read and forget until the client closes (or the socket's timeout ends the wait)."""
        self.buffer = b""
        while self.sock.recv(65536):
            pass

    def hold(self, seconds: float) -> None:
        """Keep the connection open until the client closes it, or ``seconds`` pass in silence
        (what it sends meanwhile is read and forgotten)."""
        self.sock.settimeout(seconds)
        with contextlib.suppress(OSError):
            self.drain()


def head(
    status: int, reason: str, headers: Iterable[tuple[str, str]], version: str = "HTTP/1.1"
) -> bytes:
    """The status line and headers, the blank line included."""
    lines = [f"{version} {status} {reason}", "Server: Microsoft-IIS/10.0"]
    lines += [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked body (RFC 7230 4.1)."""
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


def send(sock: socket.socket, response: Response) -> None:
    headers = list(response.headers)
    if isinstance(response.body, bytes):
        headers.append(("Content-Length", str(len(response.body))))
        if response.close:
            headers.append(("Connection", "close"))
        sock.sendall(
            head(response.status, response.reason, headers, response.version) + response.body
        )
        return
    headers.append(("Transfer-Encoding", "chunked"))
    sock.sendall(head(response.status, response.reason, headers))
    for part in response.body:
        sock.sendall(chunk(part))
    sock.sendall(b"0\r\n\r\n")
