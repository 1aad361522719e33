"""The body of one HTTP response as it arrives, whatever its framing (RFC 7230 3.3.3):
:class:`Body`, the one reader ``transport.http``'s connection reads whole bodies (bounded by
:data:`~outlook_anywhere.transport.response.MAX_BODY`) and streams (an RPC OUT channel) through.
"""

from __future__ import annotations

from .response import MAX_BODY, MAX_HEADERS, MAX_LINE, HttpError

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Protocol

    from .response import Response

    class Source(Protocol):
        """What :class:`Body` reads through: ``transport.http.Connection``, named here so that
        this module does not import the module that imports it."""

        buffer: bytes

        def _recv(self) -> bytes: ...

        def _line(self) -> bytes: ...


# The hex digits of a chunk size (16: sizes up to 2**64 - 1; more is an attack, not a body)
MAX_CHUNK_DIGITS = 16
_HEX = frozenset(b"0123456789abcdefABCDEF")


class Body:
    """The body of one response as it arrives, whatever its framing (RFC 7230 3.3.3): chunked
    (extensions ignored, trailers skipped), ``Content-Length``, or up to the connection's close.
    :meth:`read` hands back the next de-framed bytes, b"" at the end.  A chunk's declared size
    is only counted down, never allocated, so a hostile size costs no memory; every buffer is
    parsed once (no copy per chunk), and :attr:`wire` counts the bytes read with their framing,
    so that a limit on it bounds the time a stream of tiny chunks costs.  Every read is bounded
    by the connection's deadline; raises :class:`HttpError`."""

    __slots__ = ("chunked", "conn", "done", "left", "response", "separator", "wire")

    def __init__(self, conn: Source, response: Response) -> None:
        self.conn = conn
        self.response = response
        self.done = False
        self.wire = 0
        self.separator = False  # the CRLF after a chunk's data is still to come
        encoding = (response.header("Transfer-Encoding") or "").lower()
        # chunked must be the last coding; it wins over a Content-Length (RFC 7230 3.3.3)
        self.chunked = encoding.rsplit(",", 1)[-1].strip() == "chunked"
        self.left: int | None = 0  # bytes left of this chunk or body; None: up to the close
        if self.chunked:
            return
        length_text = response.header("Content-Length")
        if length_text is None or encoding:
            self.left = None
            response.keep_alive = False
            return
        values = {v.strip() for v in length_text.split(",")}  # "5, 5" is one length
        value = values.pop() if len(values) == 1 else ""
        if not value.isdigit() or not value.isascii() or len(value) > 19:
            raise HttpError("protocol", "invalid Content-Length")
        self.left = int(value)
        self.done = self.left == 0

    def read(self) -> bytes:
        conn = self.conn
        while not self.done:
            if self.chunked:
                data = self._chunks()
                if data or self.done:
                    return data
            elif conn.buffer:
                if self.left is None:
                    data, conn.buffer = conn.buffer, b""
                else:
                    data, conn.buffer = conn.buffer[: self.left], conn.buffer[self.left :]
                    self.left -= len(data)
                    self.done = self.left == 0
                self.wire += len(data)
                return data
            more = conn._recv()
            if not more:
                if self.left is None:  # close-delimited: this is the end
                    self.done = True
                    return b""
                raise HttpError("closed", "server closed the connection in the middle of a body")
            conn.buffer += more
        return b""

    def _chunks(self) -> bytes:
        """The data of every chunk the buffer holds, parsed in one pass."""
        conn = self.conn
        buf, at, parts = conn.buffer, 0, []
        assert self.left is not None
        while True:
            if self.left:
                part = buf[at : at + self.left]
                parts.append(part)
                at += len(part)
                self.left -= len(part)
                if self.left:
                    break
                self.separator = True
            if self.separator:
                if len(buf) - at < 2:
                    break
                if buf[at : at + 2] != b"\r\n":
                    raise HttpError("protocol", "invalid chunked encoding")
                at += 2
                self.separator = False
            end = buf.find(b"\r\n", at)
            if end < 0:
                if len(buf) - at > MAX_LINE:
                    raise HttpError("protocol", f"a response line longer than {MAX_LINE} bytes")
                break
            self.left = _chunk_size(buf[at:end])
            at = end + 2
            if self.left == 0:
                conn.buffer = buf[at:]
                self.wire += at
                self._trailers()
                self.done = True
                return b"".join(parts)
        conn.buffer = buf[at:]
        self.wire += at
        return b"".join(parts)

    def _trailers(self) -> None:
        for _ in range(MAX_HEADERS + 1):
            line = self.conn._line()
            self.wire += len(line) + 2
            if not line:
                return
        raise HttpError("protocol", f"more than {MAX_HEADERS} trailer lines")


def _chunk_size(line: bytes) -> int:
    """A chunk-size line's size (RFC 7230 4.1: hex digits, then extensions, ignored)."""
    size_text = line.split(b";", 1)[0].strip(b" \t")
    if len(line) > MAX_LINE or not size_text or len(size_text) > MAX_CHUNK_DIGITS:
        raise HttpError("protocol", "invalid chunked encoding")
    if not set(size_text) <= _HEX:  # int() would take "+5", "0x5" and "1_0"
        raise HttpError("protocol", "invalid chunked encoding")
    return int(size_text, 16)


def _mib() -> str:
    return f"{MAX_BODY // (1024 * 1024)} MiB"
