"""transport.http.Connection at the edges no lab site plays, in-process over plain sockets on
127.77.7.x: a connection the server resets after the request (a TCP RST, not a close), and a
streamed read asked of a connection that streams nothing."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from outlook_anywhere.transport import Deadline
from outlook_anywhere.transport.http import Connection, HttpError

ADDRESS = "127.77.7.1"


@pytest.fixture
def resetting() -> Iterator[int]:
    """A server that reads a request's head and answers it with a TCP reset."""
    listener = socket.socket()
    listener.bind((ADDRESS, 0))
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            seen = b""
            while b"\r\n\r\n" not in seen:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                seen += chunk
            # SO_LINGER on with a zero timeout: close() sends RST instead of FIN
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    thread.join(10)
    listener.close()


def test_a_connection_reset_after_the_request_is_said_as_such(resetting: int) -> None:
    conn = Connection(ADDRESS, resetting, Deadline(10))
    with pytest.raises(HttpError) as failed:
        conn.request("GET", "/rpc/healthcheck.htm", "mail.contoso.test")
    assert (failed.value.kind, failed.value.text) == ("network", "connection reset")
    assert conn.closed


def test_a_streamed_read_without_a_stream_is_a_protocol_error(resetting: int) -> None:
    conn = Connection(ADDRESS, resetting, Deadline(10))
    with pytest.raises(HttpError) as failed:
        conn.read_some()
    assert (failed.value.kind, failed.value.text) == ("protocol", "no streamed body")
    assert conn.closed
