"""A small HTTP/1.1 client over one socket, bounded in time and size.

Autodiscover and the RPC proxy are attacker-reachable servers: every read here takes its
timeout from the one deadline (a server dripping a byte at a time cannot stretch the check),
and a response is refused once it passes :data:`MAX_BODY` bytes or :data:`MAX_HEADERS`
header lines.  TLS runs over ``transport.TlsChannel``, like the certificate probe, so the
handshake too is bounded by our own socket reads.

Failures are raised as :class:`HttpError` with a sentence an administrator can act on; it never
quotes what the server sent beyond a status line.
"""

from __future__ import annotations

import ssl
import time

from . import READ_SIZE, TRACE, Deadline, ProxyError, TlsChannel, connect, wire_text
from .body import Body, _mib
from .response import MAX_BODY, MAX_HEADERS, MAX_LINE, HttpError, Response


class Connection:
    """One TCP connection, plain or TLS, carrying several requests (NTLM needs that)."""

    def __init__(
        self,
        address: str,
        port: int,
        deadline: Deadline,
        tls: ssl.SSLContext | None = None,
        server_name: str | None = None,
        session: ssl.SSLSession | None = None,
    ) -> None:
        """``session``: the TLS session of an earlier connection to the same node with the same
        context, to resume (the server then sends no certificate, and decoding it again is
        what a further connection costs most); a node that refuses it gets a full handshake."""
        self.address = address
        self.port = port
        self.deadline = deadline
        self.buffer = b""
        self.closed = False
        self._body: Body | None = None  # the streamed body (see ``stream``)
        self._tls: TlsChannel | None = None
        try:
            self.sock = connect(address, port, deadline)
        except ProxyError as exc:  # --proxy: its kind (proxy-refused, proxy-gateway...) kept
            raise HttpError(exc.kind, exc.text) from None
        except ConnectionRefusedError:
            raise HttpError("refused", "connection refused") from None
        except TimeoutError:
            raise HttpError("timeout", "no answer in time (connect)") from None
        except OSError as exc:
            raise HttpError("network", exc.strerror or exc.__class__.__name__) from None
        if tls is None:
            return
        try:
            self._tls = TlsChannel(self.sock, tls, server_name, session)
            self._tls.handshake(deadline)
            resumed = ", session resumed" if self._tls.obj.session_reused else ""
            TRACE(
                address, f"TLS handshake done: {self._tls.obj.version()} ({server_name}){resumed}"
            )
        except ssl.SSLCertVerificationError as exc:
            self.close()
            raise HttpError("untrusted", str(exc.verify_message or exc.reason)) from None
        except ssl.SSLError as exc:
            self.close()
            raise HttpError("tls", f"TLS handshake failed: {exc.reason or exc}") from None
        except TimeoutError:
            self.close()
            raise HttpError("timeout", "no answer in time (TLS handshake)") from None
        except OSError as exc:
            self.close()
            raise HttpError("network", exc.strerror or exc.__class__.__name__) from None

    # -- transport ------------------------------------------------------------------------

    def _send(self, data: bytes) -> None:
        if self._tls is not None:
            self._tls.send(data, self.deadline)
            return
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise TimeoutError()
        self.sock.settimeout(remaining)
        self.sock.sendall(data)

    def _recv(self) -> bytes:
        """Some bytes, or b"" at the end of the stream."""
        if self._tls is not None:
            return self._tls.recv(self.deadline)
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise TimeoutError()
        self.sock.settimeout(remaining)
        return self.sock.recv(READ_SIZE)

    def peer_certificate(self) -> bytes | None:
        """The server's certificate (DER), for NTLM channel binding."""
        return self._tls.peer_der() if self._tls is not None else None

    @property
    def session(self) -> ssl.SSLSession | None:
        """The TLS session to resume on the next connection to this node (TLS 1.3 sends it
        after the handshake: ask once an answer was read)."""
        return self._tls.obj.session if self._tls is not None else None

    def close(self) -> None:
        self.closed = True
        self.sock.close()

    # -- HTTP -----------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        host: str,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        read_body: bool = True,
        length: int | None = None,
        stream: bool = False,
    ) -> Response:
        """Send one request and read its response; raise :class:`HttpError`.

        ``length``: the Content-Length to declare when ``body`` is only the start of the body
        (an RPC IN channel).  ``stream``: read the head only and keep the connection open; the
        body is then read with :meth:`read_some` (an RPC OUT channel, whose body never ends).
        Interim ``1xx`` answers are skipped."""
        started = time.monotonic()
        self.send_request(method, path, host, headers, body, length)
        response: Response | None = None
        try:
            response = self._read_head()
            response.elapsed = time.monotonic() - started
            if stream:
                self._body = Body(self, response)
            elif read_body and method != "HEAD" and response.status not in (204, 304):
                response.body = self._read_body(response)
            else:
                response.keep_alive = False
            response.elapsed = time.monotonic() - started
        except BaseException as exc:
            try:
                self._fail(exc)
            except HttpError as failed:
                failed.response = response
                raise
            raise  # pragma: no cover - _fail raises
        TRACE(self.address, f"HTTP {response.status} {response.reason}".strip())
        if not response.keep_alive and not stream:
            self.close()
        return response

    def send_request(
        self,
        method: str,
        path: str,
        host: str,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        length: int | None = None,
    ) -> None:
        """Send a request without waiting for its response (an RPC IN channel has none until
        it is closed); raise :class:`HttpError`."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {_host_header(host)}"]
        lines += [f"{k}: {v}" for k, v in headers or []]
        lines.append(f"Content-Length: {len(body) if length is None else length}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if TRACE.on:  # the request line and the authentication scheme, never a header's value
            auth = [v.split(" ", 1)[0] for k, v in headers or [] if k.lower() == "authorization"]
            scheme = f", Authorization: {auth[0]} ..." if auth else ""
            TRACE(self.address, f"{method} {path} (Host {host}{scheme})")
        try:
            self._send(head + body)
        except BaseException as exc:
            self._fail(exc)
            raise  # pragma: no cover - _fail raises

    def read_some(self) -> bytes:
        """The next bytes of a streamed body (see ``stream``), de-framed (chunked, Content-Length
        or up to the close), b"" at its end; every read bounded by the connection's deadline;
        raise :class:`HttpError`."""
        try:
            if self._body is None:
                raise HttpError("protocol", "no streamed body")
            data = self._body.read()
            # the framing of a stream is bounded like a whole body's: a hostile OUT channel of
            # 1-byte chunks with long extensions would otherwise cost gigabytes on the wire
            if self._body.wire > 2 * MAX_BODY:
                raise HttpError("too-big", f"streamed body's framing over {2 * MAX_BODY} bytes")
            return data
        except BaseException as exc:
            self._fail(exc)
            raise  # pragma: no cover - _fail raises

    def _fail(self, exc: BaseException) -> None:
        """Close the connection and raise ``exc`` as an :class:`HttpError`."""
        if isinstance(exc, HttpError):
            self.close()
            raise exc
        if isinstance(exc, TimeoutError):
            self.close()
            raise HttpError("timeout", "no answer in time") from None
        if isinstance(exc, ssl.SSLError):
            self.close()
            raise HttpError("tls", f"TLS error: {exc.reason or exc}") from None
        if isinstance(exc, ConnectionResetError):
            self.close()
            raise HttpError("network", "connection reset") from None
        if isinstance(exc, OSError):
            self.close()
            raise HttpError("network", exc.strerror or exc.__class__.__name__) from None
        raise exc

    def _line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            # A line of exactly MAX_LINE bytes may wait here with its "\r" for the "\n".
            if len(self.buffer) > MAX_LINE + 1:
                raise HttpError("protocol", f"a response line longer than {MAX_LINE} bytes")
            chunk = self._recv()
            if not chunk:
                raise HttpError("closed", "server closed the connection without a full answer")
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        if len(line) > MAX_LINE:
            raise HttpError("protocol", f"a response line longer than {MAX_LINE} bytes")
        return line

    def _read_head(self) -> Response:
        """The final response's head: ``1xx`` interim answers are read and skipped (RFC 7231
        6.2), at most :data:`MAX_INTERIM` of them."""
        for _ in range(MAX_INTERIM + 1):
            response, version = self._one_head()
            if not 100 <= response.status < 200 or response.status == 101:
                connection = (response.header("Connection") or "").lower()
                response.keep_alive = version == "HTTP/1.1" and "close" not in connection
                return response
            TRACE(self.address, f"HTTP {response.status} (interim, skipped)")
        raise HttpError("protocol", f"more than {MAX_INTERIM} interim (1xx) answers")

    def _one_head(self) -> tuple[Response, str]:
        status_line = self._line().decode("latin-1")
        parts = status_line.split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
            raise HttpError("protocol", f"not an HTTP answer: '{wire_text(status_line, 40)}'")
        response = Response(int(parts[1]), wire_text(parts[2] if len(parts) > 2 else ""))
        while True:
            line = self._line()
            if not line:
                break
            if len(response.headers) >= MAX_HEADERS:
                raise HttpError("protocol", f"more than {MAX_HEADERS} header lines")
            name, sep, value = line.decode("latin-1").partition(":")
            if sep:
                response.headers.append((name.strip(), value.strip()))
        return response, parts[0]

    def _read_body(self, response: Response) -> bytes:
        """The whole body, at most :data:`MAX_BODY` bytes."""
        body = Body(self, response)
        if body.left is not None and body.left > MAX_BODY and not body.chunked:
            raise HttpError("too-big", f"response body of {body.left} bytes (over {_mib()})")
        parts: list[bytes] = []
        size = 0
        while True:
            data = body.read()
            if not data:
                return b"".join(parts)
            size += len(data)
            # the framing is bounded too: a million 1-byte chunks is no answer either
            if size > MAX_BODY or body.wire > 2 * MAX_BODY:
                raise HttpError("too-big", f"response body over {_mib()}")
            parts.append(data)


# The interim (1xx) answers skipped before a final one at most
MAX_INTERIM = 10


def _host_header(host: str) -> str:
    """The Host header's name as it goes on the wire: an internationalized name in its IDNA
    form, as SNI and DNS carry it (in Latin-1, ü would name another host; Cyrillic could not be
    written at all)."""
    return host if host.isascii() else host.encode("idna").decode("ascii")


def auth_schemes(response: Response) -> list[str]:
    """The scheme names of the WWW-Authenticate headers, in order, each once."""
    from .auth import challenge_schemes

    return challenge_schemes(response.all("WWW-Authenticate"))
