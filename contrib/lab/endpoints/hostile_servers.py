"""Hostile servers of the lab: what a half-broken network or an impostor answers on port 443.

* node behaviours (registered in :data:`contrib.lab.network.nodes.EXTRA_BEHAVIOURS` when this
  module is imported, so ``lab.set_node(address, "drip")`` works): silent after the
  ClientHello, a TLS answer dripped one byte a second, a fatal TLS alert, an HTTP answer on the
  TLS port, TLS 1.0 or 1.1 only, a certificate of any bytes (:data:`SERVED_DER`);
* web answers after the handshake (:func:`web_answer`): a body that never ends, a 50 MB body,
  a 401 that never ends, HTML in the status line and headers.

Which hosts and addresses play them is :mod:`contrib.lab.hostile`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import ssl
import struct
import time
import warnings

from ..identities.hostile_certificates import BEACON, MARKUP_CN, MARKUP_SANS
from ..network import nodes
from ..network.nodes import (
    AFTER_HANDSHAKE_TIMEOUT,
    HANDSHAKE_TIMEOUT,
    NodeConfig,
    read_client_hello,
)

DRIP_INTERVAL = 1.0
"""Seconds between two bytes of a dripping server."""
HTTP_ANSWER = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html; charset=us-ascii\r\n"
    b"Server: Microsoft-HTTPAPI/2.0\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
)
"""What http.sys answers when a ClientHello reaches a plain HTTP binding."""
MARKUP_REASON = f'<a href="{BEACON}/renew">Forbidden</a> &amp; <b>bold</b>'
"""The reason phrase of the ``markup`` web answer (and of the ``markup`` proxy)."""


# -- behaviours ------------------------------------------------------------------------------


def _drain(sock: object) -> None:
    """Read until the client leaves (or the node's patience ends)."""
    with contextlib.suppress(OSError):
        while sock.recv(65536):  # type: ignore[attr-defined]
            pass


def _hello_silent(conn: nodes._Conn, config: NodeConfig) -> None:
    # A wedged TLS terminator: the connection is accepted and the ClientHello read, then nothing.
    conn.sock.settimeout(None)
    read_client_hello(conn.sock)
    _drain(conn.sock)


def _drip(conn: nodes._Conn, config: NodeConfig) -> None:
    # A genuine server's first flight (ServerHello, certificate...), one byte a second: each read
    # of the client returns data, so only a deadline over the whole handshake ends it.
    chain = config.default_chain
    assert chain is not None
    sock = conn.sock
    sock.settimeout(HANDSHAKE_TIMEOUT)
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = chain.server_context().wrap_bio(incoming, outgoing, server_side=True)
    flight = b""
    while not flight:
        data = sock.recv(65536)
        if not data:
            return
        incoming.write(data)
        with contextlib.suppress(ssl.SSLWantReadError):
            tls.do_handshake()
        flight = outgoing.read()
    for byte in flight:
        sock.sendall(bytes([byte]))
        time.sleep(DRIP_INTERVAL)


def _alert(conn: nodes._Conn, config: NodeConfig) -> None:
    # A server with no cipher suite or protocol in common: a fatal handshake_failure alert.
    conn.sock.settimeout(HANDSHAKE_TIMEOUT)
    read_client_hello(conn.sock)
    conn.sock.sendall(b"\x15\x03\x03\x00\x02\x02\x28")
    _drain(conn.sock)


def _version_alert(conn: nodes._Conn, config: NodeConfig) -> None:
    # A TLS terminator that speaks no protocol version the client offers, old ones included:
    # every ClientHello gets a fatal protocol_version alert.
    conn.sock.settimeout(HANDSHAKE_TIMEOUT)
    read_client_hello(conn.sock)
    conn.sock.sendall(b"\x15\x03\x01\x00\x02\x02\x46")
    _drain(conn.sock)


def _http(conn: nodes._Conn, config: NodeConfig) -> None:
    # The TLS port bound to a plain HTTP site: the ClientHello is a bad request.
    conn.sock.settimeout(HANDSHAKE_TIMEOUT)
    conn.sock.recv(65536)
    conn.sock.sendall(HTTP_ANSWER)
    conn.sock.shutdown(2)


def _old_tls(version: ssl.TLSVersion) -> nodes.ExtraBehaviour:
    def serve(conn: nodes._Conn, config: NodeConfig) -> None:
        # An old Windows server that never got TLS 1.2: only this one protocol version.
        chain = config.default_chain
        assert chain is not None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with warnings.catch_warnings():  # deprecated: that is the point of this node
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = version
            ctx.maximum_version = version
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.load_cert_chain(str(chain.cert_file), str(chain.key_file))
        conn.sock.settimeout(HANDSHAKE_TIMEOUT)
        ssock = ctx.wrap_socket(conn.sock, server_side=True, do_handshake_on_connect=False)
        conn.sock = ssock
        ssock.do_handshake()
        ssock.settimeout(AFTER_HANDSHAKE_TIMEOUT)
        _drain(ssock)

    return serve


SERVED_DER: dict[str, bytes] = {}
"""What a ``der`` node sends as its certificate, by node address (any bytes: for fuzzing)."""


def _der(conn: nodes._Conn, config: NodeConfig) -> None:
    # TLS 1.2 by hand, like the malformed behaviour: ServerHello, then a Certificate message
    # whose one entry is SERVED_DER[address], then the end of the stream.
    sock = conn.sock
    sock.settimeout(HANDSHAKE_TIMEOUT)
    address = sock.getsockname()[0]
    hello = nodes.parse_client_hello(read_client_hello(sock))
    suite = next((s for s in nodes._TLS12_SUITES if s in hello["suites"]), 0x002F)
    exts = b"\xff\x01\x00\x01\x00"
    server_hello = (
        b"\x03\x03" + os.urandom(32) + b"\x00" + struct.pack("!HBH", suite, 0, len(exts)) + exts
    )
    der = SERVED_DER.get(address, b"")
    entry = nodes._u24(len(der)) + der
    message = nodes._handshake(2, server_hello) + nodes._handshake(
        11, nodes._u24(len(entry)) + entry
    )
    sock.sendall(nodes._record(22, message))
    sock.shutdown(socket.SHUT_WR)
    _drain(sock)


BEHAVIOURS: dict[str, nodes.ExtraBehaviour] = {
    "der": _der,
    "hello-silent": _hello_silent,
    "drip": _drip,
    "alert": _alert,
    "version-alert": _version_alert,
    "http": _http,
    "tls1.0": _old_tls(ssl.TLSVersion.TLSv1),
    "tls1.1": _old_tls(ssl.TLSVersion.TLSv1_1),
}
nodes.EXTRA_BEHAVIOURS.update(BEHAVIOURS)


# -- web answers (Autodiscover and the RPC proxy; served after the handshake, see on_tls) -----

WEB_MARKER = b"LAB-HOSTILE-BODY"
"""Filler of every hostile body: it must never show up in the plugin's output."""
BIG_BODY = 50 * 1000 * 1000
"""Bytes announced (and sent, if the client keeps reading) by the ``big-body`` answer."""
WEB_REQUESTS: dict[str, int] = {}
"""Requests received per web answer kind, to show that a client gave up."""


def _read_request(sock: ssl.SSLSocket, buffer: bytes) -> bytes | None:
    """Read one request (head and Content-Length body); return what follows it, None at EOF."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk or len(buffer) > 256 * 1024:
            return None
        buffer += chunk
    head, rest = buffer.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length" and value.strip().isdigit():
            length = int(value)
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return rest[length:]


def web_answer(kind: str) -> nodes.TLSHandler:
    """An on_tls handler answering every request the hostile way ``kind`` says:
    ``endless``: a chunked body that never ends; ``big-body``: Content-Length of 50 MB, sent;
    ``401-loop``: 401 with Basic and NTLM offered, whatever the credentials, forever;
    ``markup``: 403 with HTML in the reason phrase and the headers, to every request."""

    def serve(sock: ssl.SSLSocket) -> None:
        sock.settimeout(HANDSHAKE_TIMEOUT)
        buffer: bytes | None = b""
        with contextlib.suppress(OSError):
            while True:
                buffer = _read_request(sock, buffer or b"")
                if buffer is None:
                    return
                WEB_REQUESTS[kind] = WEB_REQUESTS.get(kind, 0) + 1
                if kind == "markup":  # markup in the status line and in every header shown
                    sock.sendall(
                        f"HTTP/1.1 403 {MARKUP_REASON}\r\nServer: {MARKUP_CN}\r\n"
                        f"X-FEServer: {MARKUP_SANS[0]}\r\nWWW-Authenticate: {MARKUP_SANS[2]}\r\n"
                        "Content-Length: 0\r\n\r\n".encode("latin-1")
                    )
                    continue
                if kind == "401-loop":
                    sock.sendall(
                        b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="x"\r\n'
                        b"WWW-Authenticate: NTLM\r\nContent-Length: 0\r\n\r\n"
                    )
                    continue
                filler = WEB_MARKER * 4096
                if kind == "endless":
                    sock.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                    chunk = b"%x\r\n%s\r\n" % (len(filler), filler)
                    while True:
                        sock.sendall(chunk)
                sock.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % BIG_BODY)
                for _ in range(0, BIG_BODY, len(filler)):
                    sock.sendall(filler)
                return

    return serve
