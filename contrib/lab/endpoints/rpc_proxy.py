"""The RPC proxy of the lab (RPC over HTTP v2, [MS-RPCH]): the ``rpc-*`` nodes' fixed answers to
``RPC_IN_DATA /rpc/rpcproxy.dll`` (:func:`rpc_site_answer`), and the Exchange front ends' echo
and virtual connections (:class:`RpcProxy`, see :mod:`.exchange`): OUT and IN channels paired by
their cookie, CONN/A3 and CONN/C2 (the PDUs of :mod:`.rts`).
"""

from __future__ import annotations

import random
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import unquote

from ..network.http11 import Request, Response, Stream, chunk, head
from . import rts
from .logon_hosts import HOLD, LogonHost, exchange_server

if TYPE_CHECKING:
    from .site import Seen, Site

PORTS = (6001, 6002, 6004)
"""Mail store (EMSMDB), directory referral, address book (NSPI)."""
ONE_GIB = 1 << 30
# An RPC extended error (EEInfo) as a front end appends it to "RPC Error: 6ba" ([MS-RPCH]
# 2.1.2.1.3, [MS-EERR]): the lab's is opaque bytes, only its form matters to a client.
EEINFO = "AAAAAAEAAAACAAAAAQAAAAAAAAA="
# IIS's answer to a request without credentials: its 401 page, the connection kept open (NTLM
# and Negotiate authenticate the connection, [MS-NTHT] 2.1: the client's next leg comes on it)
IIS_401 = b"<html><head><title>401 - Unauthorized</title></head><body>401 - Unauthorized: Access is denied due to invalid credentials.</body></html>"  # noqa: E501
IIS_PAGE = [("Content-Type", "text/html")]


def rpc_site_answer(site: Site, request: Request) -> Response | None:
    """The fixed answer of an ``rpc`` site (its :attr:`.site.Site.rpc` behaviour); None: none
    at all (``silent``)."""
    fe = [("X-FEServer", site.label.split(".")[0])] if site.label else []
    if request.path.lower() == "/rpc/healthcheck.htm":
        if not site.label:
            return Response(404, "Not Found")
        return Response(200, "OK", fe, f"200 OK<br/>{site.label}".encode())
    behaviour = site.rpc
    if behaviour == "silent":
        return None
    if behaviour == "401":
        auth = [
            ("WWW-Authenticate", "Negotiate"),
            ("WWW-Authenticate", "NTLM"),
            ("WWW-Authenticate", f'Basic realm="{site.host}"'),
        ]
        return Response(401, "Unauthorized", auth + fe + IIS_PAGE, IIS_401)
    if behaviour == "401-basic":
        basic = [("WWW-Authenticate", 'Basic realm="rpc"')]
        return Response(401, "Unauthorized", basic + IIS_PAGE, IIS_401)
    if behaviour == "200":
        return Response(200, "Success", [("Content-Type", "application/rpc")], b"", True)
    if behaviour == "404":
        return Response(404, "Not Found", [], b"", close=True)
    if behaviour == "403":
        return Response(403, "Forbidden", [], b"", close=True)
    if behaviour == "302":
        where = [("Location", f"https://{site.host}/owa/")]
        return Response(302, "Found", where, b"", close=True)
    return Response(503, "RPC Error: 6ba", [], b"", close=True)


class Channels:
    """The virtual connections: which CONN/B1 arrived, by virtual connection cookie."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._arrived: dict[bytes, tuple[threading.Event, list[str]]] = {}

    def _entry(self, cookie: bytes) -> tuple[threading.Event, list[str]]:
        with self._lock:
            if len(self._arrived) > 4096:  # channels whose partner never came
                self._arrived.clear()
            return self._arrived.setdefault(cookie, (threading.Event(), []))

    def in_channel(self, cookie: bytes, target: str) -> None:
        event, targets = self._entry(cookie)
        targets.append(target)
        event.set()

    def waiter(self, cookie: bytes) -> tuple[threading.Event, list[str]]:
        return self._entry(cookie)

    def forget(self, cookie: bytes) -> None:
        with self._lock:
            self._arrived.pop(cookie, None)


class RpcProxy:
    """RPC over HTTP v2 on every ``exchange`` site: the echo and the virtual connections."""

    def __init__(self, running: Callable[[], bool]) -> None:
        self.running = running
        self.channels = Channels()

    def answer(
        self,
        host: LogonHost,
        site: Site,
        request: Request,
        seen: Seen,
        query: str,
        sock: socket.socket,
        stream: Stream,
        fe: list[tuple[str, str]],
    ) -> Response | None:
        method = request.method.upper()
        if method not in ("RPC_IN_DATA", "RPC_OUT_DATA"):
            return Response(405, "Method Not Allowed", fe, b"", close=request.streamed)
        application = [("Content-Type", "application/rpc"), *fe]
        server, colon, port_text = unquote(query).rpartition(":")
        if not colon:  # the ?<server>:<port> query MUST be there, echo included (2.2.2)
            return Response(400, "Bad Request", fe, b"", close=True)
        known = server.lower() == exchange_server(host.host).lower() and port_text in {
            str(p) for p in PORTS
        }
        # 2.1.2.1.3: the proxy's error is "HTTP/1.0 503 RPC Error: <hex>", here with the
        # optional ", EEInfo: <base64>" that Exchange appends
        error = Response(
            503, f"RPC Error: 6ba, EEInfo: {EEINFO}", fe, b"", close=True, version="HTTP/1.0"
        )
        if not request.streamed and request.length <= 16:  # an echo (MS-RPCH 2.1.2.1.5)
            if not known:
                return error
            if site.stalls:
                stream.hold(HOLD)  # logged on, and then nothing
                return None
            if host.name == "logon-echo-403":  # logged on, and refused all the same (IIS's page)
                page = [("Content-Type", "text/html"), *fe]
                return Response(403, "Forbidden", page, b"403 - Forbidden: Access is denied.")
            body = _garbage(20) if host.name == "logon-rts-garbage" else rts.echo()
            return Response(200, "Success", application, body)
        first = first_pdu(request, stream)
        if first is None:
            seen.rts = ["invalid"]
            return Response(400, "Bad Request", fe, b"", close=True)
        seen.rts = [first.name]
        if not known or (host.name == "logon-503" and port_text == "6002"):
            return error
        target = f"{server.lower()}:{port_text}"
        if method == "RPC_IN_DATA":
            if first.name == "CONN/B1":
                self.channels.in_channel(first.values(rts.COOKIE)[0], target)
            stream.hold(HOLD)
            return None
        if first.name != "CONN/A1":
            return Response(400, "Bad Request", fe, b"", close=True)
        seen.status = 200
        # Exchange 2013+ streams the OUT channel to an HTTP/1.1 client chunked (what
        # sensepost/ruler reads and impacket de-chunks); an HTTP/1.0 client gets the raw
        # stream under a Content-Length of 1 GiB
        chunked = request.version != "HTTP/1.0"
        framing = ("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(ONE_GIB))
        sock.sendall(head(200, "Success", [*application, framing]))
        out = _Out(sock, chunked)
        self._out_channel(host, first, target, port_text, seen, out, stream)
        return None

    def _out_channel(
        self,
        host: LogonHost,
        a1: rts.Pdu,
        target: str,
        port: str,
        seen: Seen,
        out: _Out,
        stream: Stream,
    ) -> None:
        sock = out.sock
        if host.name == "logon-rts-garbage":
            seen.sent.append("garbage")
            out.send(_garbage(64))
            stream.hold(HOLD)
            return
        seen.sent.append("CONN/A3")
        out.send(rts.conn_a3())
        if host.name == "logon-endless-out":
            block = rts.padding(4096 - 28) * 4
            seen.sent.append("padding")
            while self.running():
                out.send(block)
                time.sleep(0.01)
            return
        if host.name == "logon-no-c2" and port == "6004":
            stream.hold(HOLD)
            return
        cookie = a1.values(rts.COOKIE)[0]
        event, targets = self.channels.waiter(cookie)
        try:
            ends = time.monotonic() + HOLD
            while not event.wait(0.25):
                if not self.running() or time.monotonic() > ends or _closed(sock):
                    return
            if target in targets:
                seen.sent.append("CONN/C2")
                out.send(rts.conn_c2())
        finally:
            self.channels.forget(cookie)
        stream.hold(HOLD)


class _Out:
    """The OUT channel's body: each write one chunk, or raw bytes for an HTTP/1.0 client."""

    def __init__(self, sock: socket.socket, chunked: bool) -> None:
        self.sock = sock
        self.chunked = chunked

    def send(self, data: bytes) -> None:
        self.sock.sendall(chunk(data) if self.chunked else data)


def first_pdu(request: Request, stream: Stream) -> rts.Pdu | None:
    """The RTS PDU a channel's body starts with (read from the stream when it is streamed)."""
    try:
        if not request.streamed:
            return rts.parse(request.body[: rts.frag_length(request.body[:16])])
        header = stream.take(rts.HEADER_SIZE)
        if header is None:
            return None
        rest = stream.take(rts.frag_length(header) - rts.HEADER_SIZE)
        return None if rest is None else rts.parse(header + rest)
    except rts.RtsError:
        return None


def _closed(sock: socket.socket) -> bool:
    """Whether the client closed a channel it sends nothing more on (read without waiting)."""
    if not select.select([sock], [], [], 0)[0]:
        return False
    sock.settimeout(0.05)
    try:
        return not sock.recv(65536)
    except TimeoutError:
        return False
    finally:
        sock.settimeout(HOLD)


def _garbage(size: int) -> bytes:
    """Random bytes that are no RTS PDU (the first byte is no DCE/RPC version 5)."""
    data = bytes(random.Random(size).getrandbits(8) for _ in range(size))
    return b"\xff" + data[1:]
