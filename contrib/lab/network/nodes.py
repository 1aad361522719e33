"""TLS node servers of the lab: one loopback address each, all on one shared port.

A node has a *behaviour* (see :data:`BEHAVIOURS`) and, for TLS, the chains it serves: a default
chain and optional per-SNI chains.  Everything here is real sockets on loopback addresses.
One accept thread per listening socket, one daemon thread per connection; :meth:`NodeArray.stop`
closes listeners and open connections promptly.

Behaviour and chains can be changed while the lab runs (:meth:`NodeArray.set_node`); a change
applies to connections accepted afterwards.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import ssl
import struct
import threading
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from cryptography.hazmat.primitives.serialization import Encoding

from .addresses import address_usable, bind_shared_port, bind_tcp, check_loopback
from .tls import Chain, remember_server_name

BEHAVIOURS = ("tls", "refuse", "silent", "banner", "reset", "malformed", "legacy")
ExtraBehaviour = Callable[["_Conn", "NodeConfig"], None]
EXTRA_BEHAVIOURS: dict[str, ExtraBehaviour] = {}
"""More behaviours by name, served from the accepted connection
(contrib/lab/endpoints/hostile_servers.py adds its own here); each handler gets the node's
configuration, and the chain when it has one."""
BANNER = b"220 mail.contoso.test ESMTP ready\r\n"

HANDSHAKE_TIMEOUT = 10.0
"""Seconds a node waits for a client during the TLS handshake."""
AFTER_HANDSHAKE_TIMEOUT = 2.0
"""Seconds a node keeps reading after the handshake before it closes the connection."""

TLSHandler = Callable[[ssl.SSLSocket], None]
"""Called with the connected socket after a successful handshake (e.g. an HTTP responder).
The node closes the socket when the handler returns; :func:`.tls.server_name` gives the SNI."""


@dataclass(frozen=True)
class NodeConfig:
    """How one node behaves.  ``sni`` keys are lower-case host names."""

    behaviour: str = "tls"
    chain: Chain | None = None
    sni: Mapping[str, Chain] = field(default_factory=dict)
    strict_sni: bool = False
    on_tls: TLSHandler | None = None

    def __post_init__(self) -> None:
        if self.behaviour not in BEHAVIOURS and self.behaviour not in EXTRA_BEHAVIOURS:
            known = (*BEHAVIOURS, *EXTRA_BEHAVIOURS)
            raise ValueError(f"unknown behaviour {self.behaviour!r}; one of {known}")
        object.__setattr__(self, "sni", {k.lower().rstrip("."): v for k, v in self.sni.items()})
        if self.behaviour in ("tls", "malformed", "legacy") and self.default_chain is None:
            raise ValueError(f"behaviour {self.behaviour!r} needs a chain")

    @property
    def default_chain(self) -> Chain | None:
        if self.chain is not None:
            return self.chain
        return next(iter(self.sni.values()), None)


class _FrontContext:
    """The context a node's connections start with; SNI switches to the named chain."""

    def __init__(self, config: NodeConfig) -> None:
        default = config.default_chain
        assert default is not None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.maximum_version = ssl.TLSVersion.TLSv1_3
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.load_cert_chain(str(default.cert_file), str(default.key_file))
        sni = dict(config.sni)
        strict = config.strict_sni

        def pick(sslobj: ssl.SSLObject, name: str | None, _ctx: ssl.SSLContext) -> int | None:
            remember_server_name(sslobj, name, _ctx)
            chain = sni.get(name.lower().rstrip(".")) if name else None
            if chain is None:
                return ssl.ALERT_DESCRIPTION_UNRECOGNIZED_NAME if strict else None
            try:
                sslobj.context = chain.server_context()
            except Exception:  # never let a callback error escape into OpenSSL
                return ssl.ALERT_DESCRIPTION_INTERNAL_ERROR
            return None

        ctx.sni_callback = pick
        self.context = ctx


class _Conn:
    """A connection being served; ``sock`` is replaced by the SSL socket after wrapping."""

    __slots__ = ("sock",)

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            # The plain socket method: no TLS close_notify from a foreign thread.
            socket.socket.shutdown(self.sock, socket.SHUT_RDWR)


class _Listener:
    def __init__(self, sock: socket.socket, node: Node) -> None:
        self.sock = sock
        self.node = node
        self._wake_r, self._wake_w = os.pipe()
        self.closed = False
        sock.listen(128)
        self.thread = threading.Thread(
            target=self._loop, name=f"lab-accept-{node.address}", daemon=True
        )
        self.thread.start()

    def _loop(self) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(self.sock, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while not self.closed:
                events = sel.select()
                if self.closed or any(key.fd == self._wake_r for key, _ in events):
                    break
                try:
                    conn, _peer = self.sock.accept()
                except OSError:
                    continue
                self.node._spawn(conn)

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        os.write(self._wake_w, b"x")
        if self.thread is not threading.current_thread():
            self.thread.join(2.0)
        self.sock.close()
        os.close(self._wake_r)
        os.close(self._wake_w)


class Node:
    """One loopback address on the shared port."""

    def __init__(self, address: str, port: int, config: NodeConfig) -> None:
        self.address = check_loopback(address)
        self.port = port
        self._config = config
        self._front: _FrontContext | None = None
        self._lock = threading.Lock()
        self._listener: _Listener | None = None
        self._conns: set[_Conn] = set()
        self._stopped = False
        self.accepted: list[str] = []
        """The peer address of every connection accepted (who connected: the plugin, or a
        lab proxy on 127.0.204.x that tunnelled for it)."""

    @property
    def config(self) -> NodeConfig:
        return self._config

    @property
    def listening(self) -> bool:
        return self._listener is not None

    def start(self, sock: socket.socket | None = None) -> None:
        """Start serving; ``sock`` is a socket already bound to the node's address."""
        with self._lock:
            self._stopped = False
            self._apply(sock)

    def configure(self, config: NodeConfig) -> None:
        """Switch to ``config`` for connections accepted from now on."""
        with self._lock:
            self._config = config
            self._front = None
            if not self._stopped:
                self._apply(None)

    def _apply(self, sock: socket.socket | None) -> None:
        want = self._config.behaviour != "refuse"
        if want and self._listener is None:
            self._listener = _Listener(sock or bind_tcp(self.address, self.port), self)
        elif sock is not None:
            sock.close()
        if not want and self._listener is not None:
            self._listener.close()
            self._listener = None

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            listener, self._listener = self._listener, None
            conns = list(self._conns)
        if listener is not None:
            listener.close()
        for conn in conns:
            conn.abort()

    def _front_context(self, config: NodeConfig) -> ssl.SSLContext:
        with self._lock:
            if self._front is None or config is not self._config:
                front = _FrontContext(config)
                if config is self._config:
                    self._front = front
                return front.context
            return self._front.context

    # -- connections ------------------------------------------------------------------------

    def _spawn(self, sock: socket.socket) -> None:
        conn = _Conn(sock)
        config = self._config
        with contextlib.suppress(OSError):
            peer = sock.getpeername()[0]
            with self._lock:
                self.accepted.append(peer)
        with self._lock:
            if self._stopped:
                sock.close()
                return
            self._conns.add(conn)
        threading.Thread(
            target=self._serve, args=(conn, config), name=f"lab-conn-{self.address}", daemon=True
        ).start()

    def _serve(self, conn: _Conn, config: NodeConfig) -> None:
        try:
            extra = EXTRA_BEHAVIOURS.get(config.behaviour)
            if extra is not None:
                extra(conn, config)
            else:
                getattr(self, "_serve_" + config.behaviour)(conn, config)
        except (OSError, ValueError):
            pass  # the client went away, timed out or failed the handshake
        finally:
            with self._lock:
                self._conns.discard(conn)
            with contextlib.suppress(OSError):
                conn.sock.close()

    def _serve_tls(self, conn: _Conn, config: NodeConfig) -> None:
        ctx = self._front_context(config)
        conn.sock.settimeout(HANDSHAKE_TIMEOUT)
        ssock = ctx.wrap_socket(conn.sock, server_side=True, do_handshake_on_connect=False)
        conn.sock = ssock
        if self._stopped:
            return
        ssock.do_handshake()
        if config.on_tls is not None:
            config.on_tls(ssock)
            return
        ssock.settimeout(AFTER_HANDSHAKE_TIMEOUT)
        with contextlib.suppress(OSError, ssl.SSLError):
            while ssock.recv(65536):
                pass

    def _serve_legacy(self, conn: _Conn, config: NodeConfig) -> None:
        # An old Windows server that never got TLS 1.1 or 1.2: TLS 1.0 only, its default chain.
        chain = config.default_chain
        assert chain is not None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with warnings.catch_warnings():  # deprecated: that is the point of this node
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        ctx.load_cert_chain(str(chain.cert_file), str(chain.key_file))
        conn.sock.settimeout(HANDSHAKE_TIMEOUT)
        ssock = ctx.wrap_socket(conn.sock, server_side=True, do_handshake_on_connect=False)
        conn.sock = ssock
        ssock.do_handshake()
        ssock.settimeout(AFTER_HANDSHAKE_TIMEOUT)
        with contextlib.suppress(OSError, ssl.SSLError):
            while ssock.recv(65536):
                pass

    def _serve_silent(self, conn: _Conn, config: NodeConfig) -> None:
        conn.sock.settimeout(None)
        while conn.sock.recv(65536):
            pass

    def _serve_banner(self, conn: _Conn, config: NodeConfig) -> None:
        conn.sock.settimeout(AFTER_HANDSHAKE_TIMEOUT)
        conn.sock.sendall(BANNER)
        # Half-close and drain what the client sent (its ClientHello) so that it gets the
        # banner and a FIN, not a reset for unread data.
        conn.sock.shutdown(socket.SHUT_WR)
        while conn.sock.recv(65536):
            pass

    def _serve_reset(self, conn: _Conn, config: NodeConfig) -> None:
        conn.sock.settimeout(HANDSHAKE_TIMEOUT)
        with contextlib.suppress(OSError, ValueError):
            read_client_hello(conn.sock)
        conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.sock.close()

    def _serve_malformed(self, conn: _Conn, config: NodeConfig) -> None:
        # OpenSSL will not load a certificate it cannot parse, so this behaviour speaks
        # TLS 1.2 by hand: ServerHello, then a Certificate message whose only entry is the
        # leaf's DER with the tbsCertificate SEQUENCE tag (byte 4) changed to a SET tag.  The
        # outer structure and all lengths stay intact; parsing the inside fails.  OpenSSL
        # clients abort with a bad_certificate alert; Python's ssl (OpenSSL 3.0) raises
        # ssl.SSLError "[SSL] ASN1 lib (_ssl.c:...)" (library "SSL", no reason code), not a
        # verification error, whatever the client's verify mode.  A client that offers only
        # TLS 1.3 gets a protocol_version alert instead.
        chain = config.default_chain
        assert chain is not None
        sock = conn.sock
        sock.settimeout(HANDSHAKE_TIMEOUT)
        hello = parse_client_hello(read_client_hello(sock))
        if 0x0303 not in hello["versions"]:
            sock.sendall(_record(21, b"\x02\x46"))  # fatal protocol_version
            return
        suite = next((s for s in _TLS12_SUITES if s in hello["suites"]), None)
        if suite is None:
            sock.sendall(_record(21, b"\x02\x28"))  # fatal handshake_failure
            return
        exts = b"\xff\x01\x00\x01\x00"  # renegotiation_info, empty (RFC 5746)
        if 0x0017 in hello["extensions"]:
            exts += b"\x00\x17\x00\x00"  # extended_master_secret
        server_hello = (
            b"\x03\x03"
            + os.urandom(32)
            + b"\x00"  # no session id
            + struct.pack("!H", suite)
            + b"\x00"  # no compression
            + struct.pack("!H", len(exts))
            + exts
        )
        der = bytearray(chain.leaf.public_bytes(Encoding.DER))
        der[4] = 0x31  # tbsCertificate: SEQUENCE -> SET
        entry = _u24(len(der)) + bytes(der)
        certificate = _u24(len(entry)) + entry
        sock.sendall(_record(22, _handshake(2, server_hello) + _handshake(11, certificate)))
        sock.settimeout(AFTER_HANDSHAKE_TIMEOUT)
        with contextlib.suppress(OSError):
            while sock.recv(65536):
                pass


# -- a little TLS by hand (malformed and reset behaviours) -------------------------------------

# ECDHE-RSA and RSA suites a TLS 1.2 OpenSSL client offers by default.
_TLS12_SUITES = (0xC02F, 0xC030, 0xCCA8, 0xC027, 0xC028, 0xC013, 0xC014, 0x009C, 0x009D, 0x002F)


def _u24(n: int) -> bytes:
    return n.to_bytes(3, "big")


def _handshake(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + _u24(len(body)) + body


def _record(kind: int, payload: bytes) -> bytes:
    return bytes([kind]) + b"\x03\x03" + struct.pack("!H", len(payload)) + payload


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("peer closed during the ClientHello")
        buf += chunk
    return buf


def read_client_hello(sock: socket.socket) -> bytes:
    """Read one TLS handshake message (the ClientHello) from ``sock``; return its body."""
    data = b""
    need: int | None = None
    while need is None or len(data) < need:
        header = _recv_exact(sock, 5)
        if header[0] != 22:
            raise ValueError("not a TLS handshake record")
        data += _recv_exact(sock, struct.unpack("!H", header[3:5])[0])
        if need is None and len(data) >= 4:
            if data[0] != 1:
                raise ValueError("not a ClientHello")
            need = 4 + int.from_bytes(data[1:4], "big")
    return data[4:need]


def parse_client_hello(body: bytes) -> dict[str, Any]:
    """The parts of a ClientHello the malformed node needs: suites, extensions, versions."""
    pos = 2 + 32
    pos += 1 + body[pos]
    n = struct.unpack("!H", body[pos : pos + 2])[0]
    suites = {struct.unpack("!H", body[i : i + 2])[0] for i in range(pos + 2, pos + 2 + n, 2)}
    pos += 2 + n
    pos += 1 + body[pos]
    extensions: dict[int, bytes] = {}
    if pos + 2 <= len(body):
        end = pos + 2 + struct.unpack("!H", body[pos : pos + 2])[0]
        pos += 2
        while pos + 4 <= end:
            kind, size = struct.unpack("!HH", body[pos : pos + 4])
            extensions[kind] = body[pos + 4 : pos + 4 + size]
            pos += 4 + size
    versions = {struct.unpack("!H", body[0:2])[0]}
    if 0x002B in extensions:  # supported_versions
        sv = extensions[0x002B]
        versions = {struct.unpack("!H", sv[i : i + 2])[0] for i in range(1, 1 + sv[0], 2)}
    return {"suites": suites, "extensions": extensions, "versions": versions}


# -- the array ---------------------------------------------------------------------------------


class NodeArray:
    """All nodes of the lab on one shared port."""

    def __init__(self, port: int = 0) -> None:
        self.port = port
        self.nodes: dict[str, Node] = {}
        self.unavailable: set[str] = set()
        """Addresses of the table this host cannot bind (typically ::1 without IPv6)."""
        self._lock = threading.Lock()

    def start(self, configs: Mapping[str, NodeConfig]) -> None:
        configs = {check_loopback(a): c for a, c in configs.items()}
        self.unavailable = {a for a in configs if ":" in a and not address_usable(a)}
        configs = {a: c for a, c in configs.items() if a not in self.unavailable}
        listen = [a for a, c in configs.items() if c.behaviour != "refuse"]
        probe = [a for a, c in configs.items() if c.behaviour == "refuse"]
        self.port, socks = bind_shared_port(listen, probe, self.port)
        try:
            for address, config in configs.items():
                node = Node(address, self.port, config)
                self.nodes[address] = node
                node.start(socks.pop(address, None))
        except BaseException:
            for sock in socks.values():
                sock.close()
            self.stop()
            raise

    def set_node(
        self,
        address: str,
        behaviour: str | None = None,
        chain: Chain | None = None,
        *,
        sni: Mapping[str, Chain] | None = None,
        strict_sni: bool | None = None,
        on_tls: TLSHandler | None = None,
    ) -> Node:
        """Change one node (created if the address has none yet); None leaves a field as is."""
        address = check_loopback(address)
        changes: dict[str, Any] = {}
        if behaviour is not None:
            changes["behaviour"] = behaviour
        if chain is not None:
            changes["chain"] = chain
        if sni is not None:
            changes["sni"] = sni
        if strict_sni is not None:
            changes["strict_sni"] = strict_sni
        if on_tls is not None:
            changes["on_tls"] = on_tls
        with self._lock:
            node = self.nodes.get(address)
            if node is None:
                node = Node(address, self.port, NodeConfig(**changes))
                node.start()
                self.nodes[address] = node
            else:
                node.configure(replace(node.config, **changes))
        return node

    def accepted(self) -> list[tuple[str, str]]:
        """(node address, peer address) of every connection the nodes accepted."""
        with self._lock:
            nodes = list(self.nodes.values())
        return [(node.address, peer) for node in nodes for peer in list(node.accepted)]

    def clear_accepted(self) -> None:
        with self._lock:
            nodes = list(self.nodes.values())
        for node in nodes:
            node.accepted.clear()

    def remove(self, address: str) -> None:
        """Stop the node on ``address`` and forget it."""
        with self._lock:
            node = self.nodes.pop(check_loopback(address), None)
        if node is not None:
            node.stop()

    def stop(self) -> None:
        with self._lock:
            nodes = list(self.nodes.values())
        threads = [threading.Thread(target=n.stop, daemon=True) for n in nodes]
        for t in threads:
            t.start()
        for t in threads:
            t.join(3.0)
