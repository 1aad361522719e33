"""HTTP CONNECT proxies of the lab, for ``--proxy``: real proxies on 127.0.204.x, one port.

Each address is a proxy with its own manners (:data:`PROXIES`): one that tunnels without
authentication, one that wants Basic, one that wants NTLM/Negotiate and one Negotiate alone
(pyspnego's acceptor, the users in the lab's NTLM user file), one that refuses every CONNECT
(403), one that refuses it with 405, one that answers 502 for one node address
(:data:`GATEWAY_FAILS`) and tunnels to the others, one that tunnels to the array's ports only
(403 for a CRL on another port, as Squid's ``SSL_ports``), one that accepts connections and never
answers, and broken ones (:data:`HOSTILE`: an SSH banner, an endless header line, a 200 dripped
a byte at a time, bytes after the 200).
:data:`NOWHERE` has nothing listening on the proxy port (an unreachable proxy).

A tunnel's outbound connection is made FROM the proxy's own address, so a lab node sees the
proxy, not the plugin, as its peer: comparing the nodes' accept logs
(:meth:`contrib.lab.network.nodes.NodeArray.accepted`) and the web sites' (``Seen.peer``) with
:attr:`LabProxy.seen` tells whether any connection of a check went around the proxy.

Every request is recorded in :attr:`LabProxy.seen`: which proxy, from which peer, the CONNECT
target, the scheme and user of its Proxy-Authorization, the status answered.
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import selectors
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from ..identities.accounts import (
    PROXY_PASSWORD,
    PROXY_USER,
    PROXY_USERS,
    write_ntlm_users,
)
from ..network.addresses import check_loopback
from ..network.listening import ListeningSite

GATEWAY_FAILS = "127.0.10.2"
"""The node address the ``gateway`` proxy answers 502 Bad Gateway for (a ``healthy`` node)."""
NOWHERE = "127.0.204.9"
"""A proxy address where nothing listens."""

MAX_HEAD = 16 * 1024
READ_TIMEOUT = 10.0
IDLE_TIMEOUT = 10.0


def _at(n: int) -> str:
    return f"127.0.204.{n}"


PROXIES = {
    "open": _at(1),
    "basic": _at(2),
    "ntlm": _at(3),
    "forbidden": _at(4),
    "gateway": _at(5),
    "silent": _at(6),
    "not-allowed": _at(7),
    "negotiate": _at(8),  # offers Negotiate alone (NTLM tokens inside, as Windows sends them)
    "ports": _at(14),  # CONNECT to the array's ports only (Squid's SSL_ports): 403 for others
    "ntlm-close": _at(15),  # NTLM, but its 407 closes the connection the handshake needs
    "markup": _at(17),  # refuses every CONNECT with HTML in its reason phrase
    # hostile or broken proxies: they must cost a check no more than its deadline
    "garbage": _at(10),  # answers CONNECT with an SSH banner
    "endless": _at(11),  # a header line that never ends
    "drip": _at(12),  # the 200 one byte every 0.3 s
    "chatty": _at(13),  # 200, then bytes of its own before the client spoke
    "crowded": _at(16),  # 200 with 1,000 header lines
}
HOSTILE = ("garbage", "endless", "drip", "chatty", "crowded")
_NAMES = {address: name for name, address in PROXIES.items()}


@dataclass
class ProxySeen:
    """One request as a lab proxy received it."""

    proxy: str  # the proxy's name in PROXIES
    peer: str  # the client's address
    method: str
    target: str  # the request target: host:port for CONNECT
    scheme: str  # of Proxy-Authorization, "" without
    user: str  # the user Basic or NTLM authenticated (or tried)
    status: int = 0  # what the proxy answered (0: nothing)


class LabProxy(ListeningSite[ProxySeen]):
    """The lab's proxies; see the module docstring."""

    thread_name = "lab-proxy"

    def __init__(self, ntlm_file: Path, port: int = 0) -> None:
        super().__init__(port)
        self.ntlm_file = Path(ntlm_file)
        self.allowed_ports: set[int] = set()
        """The ports the ``ports`` proxy tunnels to (the lab sets its node and web ports)."""

    # -- life cycle -------------------------------------------------------------------------

    def start(self) -> None:
        if self._running:
            return
        # pyspnego's NTLM acceptor reads its users from NTLM_USER_FILE, which the lab's web
        # sites set (contrib/lab/endpoints/web.py): the proxy user joins them.
        write_ntlm_users(self.ntlm_file, PROXY_USERS, PROXY_PASSWORD, append=True)
        self._bind([check_loopback(a) for a in PROXIES.values()], [check_loopback(NOWHERE)])
        self._listen()

    # -- facts ------------------------------------------------------------------------------

    def url(self, name: str) -> str:
        """The ``--proxy`` value of one lab proxy (``nowhere``: nothing listens there)."""
        address = NOWHERE if name == "nowhere" else PROXIES[name]
        return f"http://{address}:{self.port}"

    def describe(self) -> dict[str, object]:
        return {
            "port": self.port,
            "proxies": {name: self.url(name) for name in (*PROXIES, "nowhere")},
            "user": PROXY_USER,
            "password": PROXY_PASSWORD,
            "gateway_fails": GATEWAY_FAILS,
        }

    # -- serving ----------------------------------------------------------------------------

    def _serve(self, conn: socket.socket, address: str, peer: str) -> None:
        name = _NAMES[address]
        state: dict[str, object] = {}
        conn.settimeout(READ_TIMEOUT)
        buffer = b""
        while self._running:
            while b"\r\n\r\n" not in buffer:
                chunk = conn.recv(4096)
                if not chunk:
                    return
                buffer += chunk
                if len(buffer) > MAX_HEAD:
                    return
            head, buffer = buffer.split(b"\r\n\r\n", 1)
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = [*lines[0].split(" ", 2), "", ""][:3]
            headers = {}
            for line in lines[1:]:
                key, _, value = line.partition(":")
                headers[key.strip().lower()] = value.strip()
            authorization = headers.get("proxy-authorization", "")
            seen = ProxySeen(name, peer, method, target, authorization.partition(" ")[0], "")
            with self._lock:
                self.seen.append(seen)
            if name == "silent":
                while conn.recv(4096):
                    pass
                return
            if name in HOSTILE:
                _hostile(conn, name, seen)
                return
            if not self._answer(conn, name, seen, authorization, state):
                return

    def _answer(
        self,
        conn: socket.socket,
        name: str,
        seen: ProxySeen,
        authorization: str,
        state: dict[str, object],
    ) -> bool:
        """Answer one request; True when the connection carries on (another request)."""
        if seen.method != "CONNECT":
            return _reply(conn, seen, 405, "Method Not Allowed", close=True)
        if name == "forbidden":
            return _reply(conn, seen, 403, "Forbidden", close=True)
        if name == "not-allowed":
            return _reply(conn, seen, 405, "Method Not Allowed", close=True)
        if name == "markup":
            from .hostile_servers import MARKUP_REASON

            return _reply(conn, seen, 403, MARKUP_REASON, close=True)
        if name in ("basic", "ntlm", "negotiate", "ntlm-close"):
            challenge = self._authenticate(name, seen, authorization, state)
            if challenge is not None:
                headers = [("Proxy-Authenticate", c) for c in challenge]
                # ntlm-close: NTLM authenticates a connection, and this proxy ends it at once
                close = name == "ntlm-close"
                return _reply(conn, seen, 407, "Proxy Authentication Required", headers, close)
        host, _, port_text = seen.target.rpartition(":")
        host = host.strip("[]")
        try:
            address = check_loopback(str(ipaddress.ip_address(host)))
            port = int(port_text)
        except ValueError:  # by name, or not on loopback: the lab goes nowhere else
            return _reply(conn, seen, 403, "Forbidden", close=True)
        if name == "ports" and port not in self.allowed_ports:
            return _reply(conn, seen, 403, "Forbidden", close=True)
        if name == "gateway" and address == GATEWAY_FAILS:
            return _reply(conn, seen, 502, "Bad Gateway", close=True)
        try:
            source = (PROXIES[name], 0) if ":" not in address else None
            upstream = socket.create_connection((address, port), 5.0, source_address=source)
        except TimeoutError:
            return _reply(conn, seen, 504, "Gateway Timeout", close=True)
        except OSError:
            return _reply(conn, seen, 502, "Bad Gateway", close=True)
        self._track(upstream)
        try:
            _reply(conn, seen, 200, "Connection established", keep=True)
            _relay(conn, upstream)
        finally:
            self._forget(upstream)
            upstream.close()
        return False

    def _authenticate(
        self, name: str, seen: ProxySeen, authorization: str, state: dict[str, object]
    ) -> list[str] | None:
        """None when the request is authenticated, else the challenges of a 407."""
        scheme, _, token = authorization.partition(" ")
        if name == "basic":
            if scheme.lower() == "basic":
                try:
                    user, _, password = base64.b64decode(token).decode().partition(":")
                except (ValueError, UnicodeDecodeError):
                    return ['Basic realm="lab proxy"']
                seen.user = user
                if user == PROXY_USER and password == PROXY_PASSWORD:
                    return None
            return ['Basic realm="lab proxy"']
        offered = ["Negotiate"] if name == "negotiate" else ["Negotiate", "NTLM"]
        if scheme.lower() not in (o.lower() for o in offered):
            return offered
        import spnego

        server = state.get("ntlm")
        if server is None:
            server = state["ntlm"] = spnego.server(protocol="ntlm")
        try:
            answer = server.step(base64.b64decode(token))  # type: ignore[attr-defined]
        except Exception:  # wrong password, unknown user, garbage: all a 407
            state.pop("ntlm", None)
            return offered
        if server.complete:  # type: ignore[attr-defined]
            state.pop("ntlm", None)
            seen.user = str(server.client_principal or "")  # type: ignore[attr-defined]
            return None
        return [f"{scheme} {base64.b64encode(answer or b'').decode()}"]


def _reply(
    conn: socket.socket,
    seen: ProxySeen,
    status: int,
    reason: str,
    headers: list[tuple[str, str]] | None = None,
    close: bool = False,
    keep: bool = False,
) -> bool:
    seen.status = status
    lines = [f"HTTP/1.1 {status} {reason}", "Server: lab-proxy"]
    lines += [f"{k}: {v}" for k, v in headers or []]
    body = b"" if keep else f"<html><body>{status} {reason}</body></html>".encode()
    if not keep:
        lines.append(f"Content-Length: {len(body)}")
    if close:
        lines.append("Connection: close")
    conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
    return not close


def _hostile(conn: socket.socket, name: str, seen: ProxySeen) -> None:
    """The broken proxies' answers to CONNECT (see :data:`PROXIES`)."""
    seen.status = 200 if name in ("drip", "chatty", "crowded") else 0
    if name == "garbage":
        conn.sendall(b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n")
    elif name == "endless":
        conn.sendall(b"HTTP/1.1 200 Connection established\r\nX-Padding: ")
        for _ in range(1024):  # 1 MiB of one header line, then the client has long gone
            conn.sendall(b"a" * 1024)
    elif name == "drip":
        for byte in b"HTTP/1.1 200 Connection established\r\n\r\n":
            conn.sendall(bytes([byte]))
            time.sleep(0.3)
    elif name == "chatty":
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\nHello from the proxy\r\n")
    elif name == "crowded":
        filler = b"".join(b"X-Filler-%d: x\r\n" % i for i in range(1000))
        conn.sendall(b"HTTP/1.1 200 Connection established\r\n" + filler + b"\r\n")
    with contextlib.suppress(OSError):
        while conn.recv(4096):
            pass


def _relay(client: socket.socket, upstream: socket.socket) -> None:
    """Copy bytes both ways until one side closes or both are idle for IDLE_TIMEOUT."""
    with selectors.DefaultSelector() as sel:
        sel.register(client, selectors.EVENT_READ, upstream)
        sel.register(upstream, selectors.EVENT_READ, client)
        while True:
            events = sel.select(IDLE_TIMEOUT)
            if not events:
                return
            for key, _ in events:
                source = key.fileobj
                assert isinstance(source, socket.socket)
                try:
                    data = source.recv(65536)
                except OSError:
                    return
                if not data:
                    with contextlib.suppress(OSError):
                        key.data.shutdown(socket.SHUT_WR)
                    return
                key.data.sendall(data)
