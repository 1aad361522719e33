"""Bounded memory, asserted by structure: a response body is refused as soon as it passes
``MAX_BODY``, not after it has been read whole.

A lab node answers the Autodiscover POST with a body one chunk longer than MAX_BODY (chunked,
delimited by the close of the connection, or announced by Content-Length), then holds the
connection open without sending the rest.  A client that counts as it reads refuses the body
at once and closes the connection; one that reads the whole body before checking its size
waits for the rest until its deadline.  The server watches for the client's close, with a hard
limit of its own well inside the plugin's deadline.
"""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from contrib.lab import Lab
from contrib.lab.endpoints import hostile_servers
from contrib.lab.identities.hostile_certificates import HostilePKI
from outlook_anywhere.transport.http import MAX_BODY
from tests.conftest import run_with_peak_memory

CHUNK = 64 * 1024
DEADLINE = 8.0  # -t of the plugin
PATIENCE = 4.0  # how long the server waits for the client's close after the last byte sent
FRAMINGS = ("chunked", "until-close", "content-length")


@dataclass
class Stalling:
    """An on_tls handler: one answer of MAX_BODY + CHUNK bytes (or only its announcement),
    then silence; records what it sent and whether the client went away in time."""

    framing: str
    sent: int = 0
    requests: int = 0
    closed_in_time: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)

    def __call__(self, sock: ssl.SSLSocket) -> None:
        try:
            self._serve(sock)
        finally:
            self.done.set()

    def _serve(self, sock: ssl.SSLSocket) -> None:
        sock.settimeout(10)
        if hostile_servers._read_request(sock, b"") is None:
            return
        self.requests += 1
        total = MAX_BODY + CHUNK
        if self.framing == "chunked":
            sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            piece = b"%x\r\n%s\r\n" % (CHUNK, b"x" * CHUNK)
        elif self.framing == "until-close":
            sock.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
            piece = b"x" * CHUNK
        else:  # announce one byte more than MAX_BODY; send none of it
            sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % (MAX_BODY + 1))
            piece, total = b"", 0
        with contextlib.suppress(OSError):
            while self.sent < total:
                sock.sendall(piece)
                self.sent += CHUNK
        # Now hold the connection: the client must close it without waiting for more.
        sock.settimeout(PATIENCE)
        try:
            while sock.recv(65536):
                pass
        except TimeoutError:
            return  # still open after PATIENCE: the client is waiting for the rest
        except OSError:
            pass  # reset or an unclean TLS end: the client went away
        self.closed_in_time.set()


@pytest.fixture(scope="module")
def stalling(lab: Lab) -> Iterator[dict[str, tuple[str, Stalling]]]:
    pki = HostilePKI(lab.pki)
    servers = {}
    for number, framing in enumerate(FRAMINGS, start=1):
        host, address = f"stall-{framing}.contoso.test", f"127.0.68.{number}"
        handler = Stalling(framing)
        lab.set_node(address, "tls", pki.leaf(host, host), on_tls=handler)
        lab.dns.set_records(host, "A", [address])
        servers[framing] = (host, handler)
    yield servers
    lab.reset()


@pytest.mark.parametrize("framing", FRAMINGS)
def test_body_over_max_body_is_refused_before_it_ends(
    lab: Lab, stalling: dict[str, tuple[str, Stalling]], password_file: str, framing: str
) -> None:
    host, server = stalling[framing]
    url = f"https://{host}:{lab.port}/autodiscover/autodiscover.xml"
    out, peak_kib = run_with_peak_memory(
        "--autodiscover", "monitor@contoso.test", "--autodiscover-url", url,
        "--password-file", password_file, "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file, "-p", str(lab.port), "-t", f"{DEADLINE:g}",
    )  # fmt: skip
    assert server.done.wait(PATIENCE + 2), "the server never finished its answer"
    assert out.stderr == "", out.stderr
    assert out.code == 2, out.stdout
    assert out.first_line.startswith("OUTLOOK_ANYWHERE CRITICAL"), out.stdout
    # the decisive evidence: the size limit, not a timeout waiting for the rest
    assert "over 1 MiB" in out.stdout, out.stdout
    assert "no answer in time" not in out.stdout, out.stdout
    assert server.requests == 1  # one POST without credentials; its answer ends the lookup
    # structurally: the client closed the connection right after MAX_BODY + one chunk at most
    assert server.sent <= MAX_BODY + CHUNK
    assert server.closed_in_time.is_set(), "the client waited for the rest of the body"
    assert 0 < peak_kib < 64 * 1024, f"{peak_kib} KiB"
