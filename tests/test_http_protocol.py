"""The HTTP client against servers that break HTTP/1.1 in each way it can be broken: one canned
answer per case from a real server on loopback, read by ``outlook_anywhere.transport.http``.

Every failure is an ``HttpError`` whose kind says how it failed (the words come from it); every
answer that is merely unusual is read as HTTP/1.1 says.
"""

from __future__ import annotations

import contextlib
import socket
import ssl
import struct
import time
from collections.abc import Iterator

import pytest

from outlook_anywhere.transport import Deadline
from outlook_anywhere.transport import http as httpclient
from outlook_anywhere.transport.http import Connection, HttpError, Response, auth_schemes
from tests.loopback import LoopbackServer

ADDRESS = "127.0.70.1"


class Canned(LoopbackServer):
    """Answers each connection with ``answer`` after reading the request; ``then`` says what
    happens next: "close", "hold" (stay silent until the client leaves) or "reset"."""

    def __init__(self) -> None:
        self.answer = b""
        self.then = "close"
        super().__init__(ADDRESS)

    def serve(self, conn: socket.socket) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(5)
            conn.recv(65536)
            conn.sendall(self.answer)
            if self.then == "reset":
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            elif self.then == "hold":
                while conn.recv(65536):
                    pass

    def get(
        self, answer: bytes, then: str = "close", method: str = "GET", **kw: object
    ) -> Response:
        self.answer, self.then = answer, then
        connection = Connection(ADDRESS, self.port, Deadline(float(kw.pop("seconds", 5))))  # type: ignore[arg-type]
        try:
            return connection.request(method, "/", "canned.contoso.test", **kw)  # type: ignore[arg-type]
        finally:
            connection.close()


@pytest.fixture(scope="module")
def canned() -> Iterator[Canned]:
    server = Canned()
    yield server
    server.listener.close()


OK_HEAD = b"HTTP/1.1 200 OK\r\n"


@pytest.mark.parametrize(
    ("answer", "kind", "words"),
    [
        (b"SSH-2.0-OpenSSH_9.2\r\n", "protocol", "not an HTTP answer: 'SSH-2.0-OpenSSH_9.2'"),
        (b"HTTP/1.1 OK\r\n\r\n", "protocol", "not an HTTP answer"),
        (b"HTTP/2 200\r\n\r\n", "protocol", "not an HTTP answer"),
        (b"HTTP/1.1\r\n\r\n", "protocol", "not an HTTP answer"),
        (OK_HEAD, "closed", "without a full answer"),
        (OK_HEAD + b"Content-Length: 10\r\n\r\n12345", "closed", "in the middle of a body"),
        (OK_HEAD + b"Content-Length: ten\r\n\r\n", "protocol", "invalid Content-Length"),
        (OK_HEAD + b"Content-Length: -1\r\n\r\n", "protocol", "invalid Content-Length"),
        (OK_HEAD + b"Transfer-Encoding: chunked\r\n\r\nzz\r\n", "protocol", "invalid chunked"),
        (OK_HEAD + b"Transfer-Encoding: chunked\r\n\r\n5\r\nab", "closed", "middle of a body"),
    ],
)
def test_broken_answers_are_named(canned: Canned, answer: bytes, kind: str, words: str) -> None:
    with pytest.raises(HttpError) as failed:
        canned.get(answer)
    assert failed.value.kind == kind
    assert words in failed.value.text


def test_a_reset_is_a_network_failure(canned: Canned) -> None:
    with pytest.raises(HttpError) as failed:
        canned.get(OK_HEAD + b"Content-Length: 100\r\n\r\nabc", then="reset")
    assert (failed.value.kind, failed.value.text) in (
        ("network", "connection reset"),
        ("closed", "server closed the connection in the middle of a body"),
    )


def test_silence_ends_at_the_deadline(canned: Canned) -> None:
    started = time.monotonic()
    with pytest.raises(HttpError) as failed:
        canned.get(OK_HEAD + b"Content-Length: 100\r\n\r\nabc", then="hold", seconds=1)
    assert failed.value.kind == "timeout"
    assert time.monotonic() - started < 3  # a hard bound: the deadline, not the server


def test_an_expired_deadline_sends_nothing(canned: Canned) -> None:
    deadline = Deadline(5)
    connection = Connection(ADDRESS, canned.port, deadline)
    deadline.at = time.monotonic() - 1  # the rest of the check used the time up
    with pytest.raises(HttpError) as failed:
        connection.request("GET", "/", "canned.contoso.test")
    assert failed.value.kind == "timeout"
    assert connection.closed


def test_chunked_body_with_extensions_and_trailers(canned: Canned) -> None:
    body = b"4;name=value\r\nWiki\r\n5\r\npedia\r\n0\r\nX-Trailer: yes\r\nX-More: 1\r\n\r\n"
    response = canned.get(OK_HEAD + b"Transfer-Encoding: Chunked\r\n\r\n" + body)
    assert response.body == b"Wikipedia"
    assert response.keep_alive


def test_headers_read_as_http_says(canned: Canned) -> None:
    answer = (
        b"HTTP/1.1 401 Unauthorized\r\n"
        b"WWW-Authenticate: Negotiate, NTLM\r\n"
        b'WWW-Authenticate: Basic realm="a,b=c"\r\n'
        b"WWW-Authenticate: NTLM\r\n"
        b"a line without a colon\r\n"
        b"x-feserver:  EXCH01 \r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    response = canned.get(answer)
    assert (response.status, response.reason) == (401, "Unauthorized")
    assert auth_schemes(response) == ["Negotiate", "NTLM", "Basic"]
    assert response.header("X-FEServer") == "EXCH01"
    assert response.header("Missing") is None
    assert len(response.all("www-authenticate")) == 3
    assert ("a line without a colon", "") not in response.headers


@pytest.mark.parametrize(
    ("answer", "method", "keep_alive"),
    [
        (b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", "GET", False),
        (b"HTTP/1.1 200 OK\r\nConnection: Close\r\nContent-Length: 2\r\n\r\nok", "GET", False),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", "GET", True),
        (b"HTTP/1.1 204 No Content\r\n\r\n", "GET", False),
        (b"HTTP/1.1 304 Not Modified\r\n\r\n", "GET", False),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\n", "HEAD", False),
    ],
)
def test_keep_alive_and_bodies(
    canned: Canned, answer: bytes, method: str, keep_alive: bool
) -> None:
    response = canned.get(answer, method=method)
    assert response.keep_alive is keep_alive
    assert response.body in (b"", b"ok")


def test_status_without_a_reason(canned: Canned) -> None:
    response = canned.get(b"HTTP/1.1 503\r\nContent-Length: 0\r\n\r\n")
    assert (response.status, response.reason) == (503, "")


def test_read_body_false_reads_the_head_only(canned: Canned) -> None:
    response = canned.get(OK_HEAD + b"Content-Length: 5\r\n\r\nhello", read_body=False)
    assert response.status == 200 and response.body == b""


# -- connecting --------------------------------------------------------------------------------


def test_refused() -> None:
    with socket.create_server((ADDRESS, 0)) as probe:
        port = probe.getsockname()[1]
    with pytest.raises(HttpError) as failed:
        Connection(ADDRESS, port, Deadline(2))
    assert failed.value.kind == "refused"


def test_a_silent_tls_server_ends_at_the_deadline() -> None:
    with socket.create_server((ADDRESS, 0)) as silent:
        port = silent.getsockname()[1]
        ctx = ssl.create_default_context()
        started = time.monotonic()
        with pytest.raises(HttpError) as failed:
            Connection(ADDRESS, port, Deadline(1), tls=ctx, server_name="silent.contoso.test")
        assert failed.value.kind == "timeout"
        assert time.monotonic() - started < 3


def test_plain_http_on_a_tls_connection(canned: Canned) -> None:
    canned.answer, canned.then = b"HTTP/1.1 400 Bad Request\r\n\r\n", "close"
    ctx = ssl.create_default_context()
    with pytest.raises(HttpError) as failed:
        Connection(ADDRESS, canned.port, Deadline(2), tls=ctx, server_name="x.contoso.test")
    assert failed.value.kind == "tls"


def test_max_body_is_one_mib() -> None:
    assert httpclient.MAX_BODY == 1024 * 1024
