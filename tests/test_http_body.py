"""The HTTP body reader (``transport.body.Body``) against a real server on loopback: every framing
Exchange front ends use (Content-Length, chunked with extensions and trailers, a PDU split
across chunks or several in one, up to the close), interim ``1xx`` answers skipped, and hostile
chunk sizes refused or bounded in memory and time; the bytes the framing took counted exactly,
and the words of each failure.  Each case is one canned answer, sent in the pieces given (a
pause between them, so the client reads them apart)."""

from __future__ import annotations

import contextlib
import socket
import time
import tracemalloc
from collections.abc import Iterator

import pytest

from outlook_anywhere.transport import Deadline, rts
from outlook_anywhere.transport.http import MAX_BODY, Connection, HttpError
from tests.loopback import LoopbackServer

ADDRESS = "127.0.71.1"


class Pieces(LoopbackServer):
    """Answers each connection with ``pieces``, each sent on its own, then closes (or holds the
    connection open until the client leaves, ``hold``)."""

    def __init__(self) -> None:
        self.pieces: list[bytes] = []
        self.hold = False
        super().__init__(ADDRESS)

    def serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(10)
            conn.recv(65536)
            for piece in self.pieces:
                conn.sendall(piece)
                time.sleep(0.02)
            if self.hold:
                while conn.recv(65536):
                    pass

    def connect(self, *pieces: bytes, hold: bool = False, seconds: float = 5) -> Connection:
        self.pieces, self.hold = list(pieces), hold
        return Connection(ADDRESS, self.port, Deadline(seconds))


@pytest.fixture(scope="module")
def server() -> Iterator[Pieces]:
    pieces = Pieces()
    yield pieces
    pieces.listener.close()


def get(server: Pieces, *pieces: bytes, seconds: float = 5) -> bytes:
    conn = server.connect(*pieces, seconds=seconds)
    try:
        return conn.request("GET", "/", "body.contoso.test").body
    finally:
        conn.close()


def stream(server: Pieces, *pieces: bytes, hold: bool = False, seconds: float = 5) -> list[bytes]:
    """What ``read_some`` hands back, read to the end of the body."""
    conn = server.connect(*pieces, hold=hold, seconds=seconds)
    try:
        response = conn.request(
            "RPC_OUT_DATA", "/rpc/rpcproxy.dll", "body.contoso.test", stream=True
        )
        assert response.status == 200
        parts = []
        while data := conn.read_some():
            parts.append(data)
        return parts
    finally:
        conn.close()


def until_c2(server: Pieces, *pieces: bytes) -> list[str]:
    """The PDUs of an OUT channel that stays open, read up to CONN/C2."""
    conn = server.connect(*pieces, hold=True)
    try:
        conn.request("RPC_OUT_DATA", "/rpc/rpcproxy.dll", "body.contoso.test", stream=True)
        reader = rts.Reader()
        found: list[str] = []
        while rts.CONN_C2 not in found:
            found += [p.name for p in reader.feed(conn.read_some())]
        return found
    finally:
        conn.close()


CHUNKED = b"HTTP/1.1 200 Success\r\nTransfer-Encoding: chunked\r\n\r\n"
A3 = rts.rts_pdu(0, [bytes.fromhex("02000000c0d40100")])
C2 = rts.rts_pdu(0, [bytes.fromhex("0600000001000000"), bytes.fromhex("0000000000000100"),
                     bytes.fromhex("02000000c0d40100")])  # fmt: skip


def chunk(data: bytes, extension: bytes = b"") -> bytes:
    return f"{len(data):x}".encode() + extension + b"\r\n" + data + b"\r\n"


def names(parts: list[bytes]) -> list[str]:
    reader = rts.Reader()
    found = [p.name for part in parts for p in reader.feed(part)]
    assert not reader.failure and not reader.truncated()
    return found


# -- framings -------------------------------------------------------------------------------------


def test_content_length_body(server: Pieces) -> None:
    assert get(server, b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", b"lo") == b"hello"


def test_chunked_with_extensions_and_trailers(server: Pieces) -> None:
    body = chunk(b"Wiki", b';name="a;b"') + chunk(b"pedia", b" ; x=1") + b"0;end\r\nX-T: 1\r\n\r\n"
    assert get(server, CHUNKED + body) == b"Wikipedia"


def test_a_pdu_split_across_chunks_and_reads(server: Pieces) -> None:
    pdus = A3 + C2
    body = chunk(pdus[:5]) + chunk(pdus[5:40]) + chunk(pdus[40:])
    pieces = [CHUNKED + body[:3], body[3:9], body[9:31], body[31:]]
    assert until_c2(server, *pieces) == ["CONN/A3", "CONN/C2"]


def test_several_pdus_in_one_chunk(server: Pieces) -> None:
    parts = stream(server, CHUNKED + chunk(A3 + C2) + b"0\r\n\r\n")
    assert names(parts) == ["CONN/A3", "CONN/C2"]


def test_chunked_stream_ends_with_the_last_chunk(server: Pieces) -> None:
    parts = stream(server, CHUNKED + chunk(A3), b"0\r\n\r\n", hold=True)
    assert b"".join(parts) == A3


def test_a_raw_stream_with_a_huge_content_length(server: Pieces) -> None:
    head = b"HTTP/1.1 200 Success\r\nContent-Length: 1073741824\r\n\r\n"
    assert until_c2(server, head + A3, C2) == ["CONN/A3", "CONN/C2"]


def test_close_delimited(server: Pieces) -> None:
    conn = server.connect(b"HTTP/1.0 200 OK\r\n\r\nto the ", b"end")
    try:
        response = conn.request("GET", "/", "body.contoso.test")
        assert (response.body, response.keep_alive) == (b"to the end", False)
    finally:
        conn.close()


@pytest.mark.parametrize("interim", [b"HTTP/1.1 100 Continue\r\n\r\n",
                                     b"HTTP/1.1 102 Processing\r\nX-A: 1\r\n\r\n" * 3])  # fmt: skip
def test_interim_answers_are_skipped(server: Pieces, interim: bytes) -> None:
    conn = server.connect(interim, b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\nno")
    try:
        response = conn.request("GET", "/", "body.contoso.test")
        assert (response.status, response.body) == (401, b"no")
    finally:
        conn.close()


def test_endless_interim_answers_are_refused(server: Pieces) -> None:
    with pytest.raises(HttpError) as failed:
        get(server, b"HTTP/1.1 100 Continue\r\n\r\n" * 50)
    assert (failed.value.kind, failed.value.text) == (
        "protocol", "more than 10 interim (1xx) answers"
    )  # fmt: skip


# -- hostile chunk sizes -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "size",
    [b"zz", b"+5", b"0x5", b"1_0", b"-1", b"", b"1" * 17, b" ", b"X", b"g", b"X5X"],
    ids=repr,
)
def test_invalid_chunk_sizes_are_refused(server: Pieces, size: bytes) -> None:
    with pytest.raises(HttpError) as failed:
        get(server, CHUNKED + size + b"\r\nhello\r\n0\r\n\r\n")
    assert (failed.value.kind, failed.value.text) == ("protocol", "invalid chunked encoding")


def test_a_chunk_without_its_separator_is_refused(server: Pieces) -> None:
    with pytest.raises(HttpError) as failed:
        get(server, CHUNKED + b"2\r\nhello\r\n0\r\n\r\n")
    assert (failed.value.kind, failed.value.text) == ("protocol", "invalid chunked encoding")


def test_a_huge_chunk_size_allocates_nothing(server: Pieces) -> None:
    tracemalloc.start()
    try:
        with pytest.raises(HttpError) as failed:
            get(server, CHUNKED + b"ffffffffffffffff\r\n" + b"x" * 1000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert failed.value.kind == "closed"
    assert peak < 4 * 1024 * 1024, peak


def test_a_body_of_max_body_in_chunks_is_read(server: Pieces) -> None:
    data = b"x" * 65536
    body = chunk(data) * (MAX_BODY // len(data)) + b"0\r\n\r\n"
    assert len(get(server, CHUNKED + body)) == MAX_BODY


def test_a_huge_chunk_is_refused_at_the_body_limit(server: Pieces) -> None:
    data = b"x" * 65536
    with pytest.raises(HttpError) as failed:
        get(server, CHUNKED + b"ffffffff\r\n", *[data] * 20)
    assert (failed.value.kind, failed.value.text) == ("too-big", "response body over 1 MiB")


def test_a_chunk_size_line_without_end_is_refused(server: Pieces) -> None:
    with pytest.raises(HttpError) as failed:
        get(server, CHUNKED + b"1" + b" " * 20000)
    assert failed.value.kind == "protocol"


def test_endless_trailers_are_refused(server: Pieces) -> None:
    with pytest.raises(HttpError) as failed:
        get(server, CHUNKED + b"0\r\n" + b"X-T: 1\r\n" * 200 + b"\r\n")
    assert (failed.value.kind, failed.value.text) == ("protocol", "more than 100 trailer lines")


def test_a_million_tiny_chunks_end_at_the_body_limit_in_time(server: Pieces) -> None:
    """The framing is bounded too: 1-byte chunks stop after 2 MiB on the wire."""
    many = chunk(b"x") * (2 * MAX_BODY // 6 + 1000)
    started = time.monotonic()
    with pytest.raises(HttpError) as failed:
        get(server, CHUNKED + many[: len(many) // 2], many[len(many) // 2 :], seconds=20)
    assert failed.value.kind == "too-big"
    assert time.monotonic() - started < 15  # a hard bound, far above the normal second


def test_a_stream_of_tiny_chunks_with_long_extensions_ends_at_the_framing_limit(
    server: Pieces,
) -> None:
    """An OUT channel is read as a stream: its framing is bounded like a whole body's (2 MiB on
    the wire), however few bytes of data it carries."""
    padded = chunk(b"x", b";" + b"e" * 4000) * (2 * MAX_BODY // 4000 + 50)
    with pytest.raises(HttpError) as failed:
        stream(server, CHUNKED + padded, hold=True, seconds=20)
    assert failed.value.kind == "too-big"


def test_a_stalled_chunked_stream_ends_at_the_deadline(server: Pieces) -> None:
    started = time.monotonic()
    with pytest.raises(HttpError) as failed:
        stream(server, CHUNKED + b"10\r\nonly", hold=True, seconds=1)
    assert failed.value.kind == "timeout"
    assert time.monotonic() - started < 3


# -- the edges: the framing counted, codings, Content-Length, the words of each failure ------------


def streamed(server: Pieces, *pieces: bytes) -> tuple[bytes, int]:
    """A streamed body read to its end, and the bytes the reader counted on the wire."""
    conn = server.connect(*pieces)
    try:
        conn.request("RPC_OUT_DATA", "/rpc/rpcproxy.dll", "body.contoso.test", stream=True)
        data = b""
        while part := conn.read_some():
            data += part
        assert conn._body is not None
        return data, conn._body.wire
    finally:
        conn.close()


def test_the_framing_of_a_chunked_body_is_counted_exactly(server: Pieces) -> None:
    body = chunk(b"hello", b";ext=1") + chunk(b"world") + b"0\r\nX-Trailer: 1\r\n\r\n"
    assert streamed(server, CHUNKED + body[:9], body[9:]) == (b"helloworld", len(body))


def test_a_content_length_body_is_counted_as_its_bytes(server: Pieces) -> None:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n"
    assert streamed(server, head + b"hello", b"world") == (b"helloworld", 10)


def test_a_close_delimited_body_is_counted_as_its_bytes(server: Pieces) -> None:
    assert streamed(server, b"HTTP/1.0 200 OK\r\n\r\nhello", b"world") == (b"helloworld", 10)


def test_chunked_as_the_last_of_several_codings(server: Pieces) -> None:
    head = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
    assert get(server, head + chunk(b"hello") + b"0\r\n\r\n") == b"hello"


def test_a_content_length_repeated_in_one_header_is_one_length(server: Pieces) -> None:
    assert get(server, b"HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello") == b"hello"


def test_a_content_length_of_19_digits_is_read_as_a_number(server: Pieces) -> None:
    with pytest.raises(HttpError) as failed:
        get(server, b"HTTP/1.1 200 OK\r\nContent-Length: " + b"1" * 19 + b"\r\n\r\nx")
    assert failed.value.kind == "too-big"


@pytest.mark.parametrize("length", [b"1" * 20, b"5, 6", b"x"], ids=["20-digits", "two", "x"])
def test_a_content_length_that_is_no_length_is_refused(server: Pieces, length: bytes) -> None:
    with pytest.raises(HttpError) as failed:
        get(server, b"HTTP/1.1 200 OK\r\nContent-Length: " + length + b"\r\n\r\nx")
    assert (failed.value.kind, failed.value.text) == ("protocol", "invalid Content-Length")


def test_a_body_cut_short_says_so(server: Pieces) -> None:
    with pytest.raises(HttpError) as failed:
        get(server, b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nhello")
    assert (failed.value.kind, failed.value.text) == (
        "closed",
        "server closed the connection in the middle of a body",
    )


def test_a_chunk_size_line_of_max_line_bytes_is_read(server: Pieces) -> None:
    """8192 bytes, extensions included, is the longest line; it may arrive before its end."""
    line = b"5;" + b"e" * 8190
    assert get(server, CHUNKED + line, b"\r\nhello\r\n0\r\n\r\n") == b"hello"


def test_a_chunk_size_line_past_max_line_says_so(server: Pieces) -> None:
    with pytest.raises(HttpError) as failed:
        get(server, CHUNKED + b"5;" + b"e" * 9000)
    assert (failed.value.kind, failed.value.text) == (
        "protocol",
        "a response line longer than 8192 bytes",
    )


def test_100_trailer_lines_are_read_101_refused(server: Pieces) -> None:
    body = chunk(b"hello") + b"0\r\n"
    assert get(server, CHUNKED + body + b"X-T: 1\r\n" * 100 + b"\r\n") == b"hello"
    with pytest.raises(HttpError) as failed:
        get(server, CHUNKED + body + b"X-T: 1\r\n" * 101 + b"\r\n")
    assert (failed.value.kind, failed.value.text) == ("protocol", "more than 100 trailer lines")
