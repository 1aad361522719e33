"""Hostile servers for the lab: what a half-broken network or an impostor answers on port 443.

Two kinds of hostility, on loopback like the rest of the lab:

* node behaviours (registered in :data:`contrib.lab.network.nodes.EXTRA_BEHAVIOURS`, so
  ``lab.set_node(address, "drip")`` works): silent after the ClientHello, a TLS answer dripped
  one byte a second, a fatal TLS alert, an HTTP answer on the TLS port, TLS 1.0 or 1.1 only;
* certificates the scenario table cannot describe, issued by the lab's CAs on demand: a chain
  of 50 certificates, a 1 MiB certificate, IDN and IP-address CNs, an empty SAN extension, an
  unknown critical extension.

:func:`install` puts every :data:`HOSTILE` scenario on its own loopback address (127.0.60.x,
and 127.0.61.x for the 16-node array) with an A record in the lab DNS; ``lab.reset()`` removes
them again.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import ssl
import struct
import time
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from .identities.pki import ORG, LabPKI
from .network import nodes
from .network.nodes import AFTER_HANDSHAKE_TIMEOUT, HANDSHAKE_TIMEOUT, NodeConfig, read_client_hello
from .network.tls import Chain

if TYPE_CHECKING:
    from . import Lab

DOMAIN = "contoso.test"
DRIP_INTERVAL = 1.0
"""Seconds between two bytes of a dripping server."""
LONG_CHAIN = 50
"""Certificates served by the ``long-chain`` node: leaf, 48 intermediates and the root."""
HUGE_EXTENSION = 1024 * 1024
"""Bytes of filler in the ``huge-cert`` certificate (an unknown, non-critical extension)."""
HTTP_ANSWER = (
    b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/html; charset=us-ascii\r\n"
    b"Server: Microsoft-HTTPAPI/2.0\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
)
"""What http.sys answers when a ClientHello reaches a plain HTTP binding."""
_PRIVATE_OID = x509.ObjectIdentifier("1.3.6.1.4.1.55555.1.1")
IP_CN = "127.0.60.12"
"""The ``ip-cn`` node's address, which is also its certificate's CN."""
HOMOGRAPH = "m\u0430il.contoso.test"
"""``mail.contoso.test`` with a Cyrillic a: looks the same, is another name."""
BEACON = "http://127.0.0.9:9999"
"""Where the markup of the ``markup`` certificate and web answer points: a browser that renders
it as HTML asks this address (a loopback one, where a test may listen)."""
MARKUP_CN = f'<img src="{BEACON}/b.png">'
MARKUP_SANS = (f'<a href="{BEACON}/renew">renew</a>', "a&amp;b.contoso.test", "<b>bold</b>")
"""The ``markup`` certificate's names: an image, a link, an entity and bold text."""
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


# -- certificates ----------------------------------------------------------------------------


def _name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, ORG),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


class HostilePKI:
    """Issues the odd certificates with the lab's keys, in ``<workdir>/hostile``."""

    def __init__(self, pki: LabPKI) -> None:
        assert pki.root is not None and pki.issuing is not None, "start the lab first"
        self.pki = pki
        self.dir = pki.workdir / "hostile"
        self.key = pki.keys["leaf"]
        self.now = pki.now

    def _days(self, days: float) -> dt.datetime:
        return self.now + dt.timedelta(days=days)

    def _builder(self, subject: x509.Name, issuer: x509.Name, public: rsa.RSAPublicKey) -> object:
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(self._days(-30))
            .not_valid_after(self._days(300))
        )

    def leaf(
        self,
        ident: str,
        cn: str,
        sans: list[x509.GeneralName] | None = None,
        extra: list[tuple[x509.ExtensionType, bool]] = (),  # type: ignore[assignment]
        issuer: tuple[x509.Certificate, rsa.RSAPrivateKey] | None = None,
        above: tuple[x509.Certificate, ...] | None = None,
    ) -> Chain:
        """A leaf for ``cn``; ``sans`` None means a SAN with the CN as its one DNS name."""
        issuer_cert, issuer_key = issuer or (self.pki.issuing, self.pki.keys["issuing"])
        assert issuer_cert is not None
        builder = (
            self._builder(_name(cn), issuer_cert.subject, self.key.public_key())  # type: ignore[attr-defined]
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        )
        if sans is None:
            sans = [x509.DNSName(cn)]
        if sans:
            builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        for ext, critical in extra:
            builder = builder.add_extension(ext, critical=critical)
        leaf = builder.sign(issuer_key, hashes.SHA256())
        return self._write(ident, (leaf, *(above if above is not None else (issuer_cert,))))

    def long_chain(self, ident: str, cn: str, length: int = LONG_CHAIN) -> Chain:
        """Root -> ``length - 2`` intermediates -> leaf, all served (root included)."""
        root, root_key = self.pki.root, self.pki.keys["root"]
        assert root is not None
        key = self.pki.keys["issuing"]  # one key for every intermediate; only names differ
        issuer, issuer_key = root, root_key
        served: list[x509.Certificate] = [root]
        for depth in range(1, length - 1):
            ca = (
                self._builder(
                    _name(f"Contoso Lab Intermediate {depth:02d}"), issuer.subject, key.public_key()
                )  # type: ignore[attr-defined]
                .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                .sign(issuer_key, hashes.SHA256())
            )
            served.insert(0, ca)
            issuer, issuer_key = ca, key
        return self.leaf(ident, cn, issuer=(issuer, issuer_key), above=tuple(served))

    def _write(self, ident: str, certs: tuple[x509.Certificate, ...]) -> Chain:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{ident}.pem"
        path.write_bytes(b"".join(c.public_bytes(serialization.Encoding.PEM) for c in certs))
        return Chain(ident, certs, path, self.pki.key_files["leaf"])


def _h(name: str) -> str:
    return f"{name}.{DOMAIN}"


def issue(pki: LabPKI) -> dict[str, Chain]:
    """Every hostile certificate, by id."""
    h = HostilePKI(pki)
    idn = "mäil.contoso.test"
    idn_ascii = idn.encode("idna").decode()
    empty_san = x509.UnrecognizedExtension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x30\x00")
    return {
        "hostile": h.leaf("hostile", _h("hostile")),
        "long-chain": h.long_chain("long-chain", _h("long-chain")),
        "huge-cert": h.leaf(
            "huge-cert",
            _h("huge-cert"),
            extra=[(x509.UnrecognizedExtension(_PRIVATE_OID, _octets(HUGE_EXTENSION)), False)],
        ),
        # The CN in Unicode (UTF8String), the SAN in its IDNA form, as a CA issues them.
        "idn-unicode": h.leaf("idn-unicode", idn, sans=[x509.DNSName(idn_ascii)]),
        "idn-punycode": h.leaf("idn-punycode", idn_ascii),
        "idn-homograph": h.leaf(
            "idn-homograph", HOMOGRAPH, sans=[x509.DNSName(HOMOGRAPH.encode("idna").decode())]
        ),
        "ip-cn": h.leaf("ip-cn", IP_CN, sans=[]),
        "empty-san": h.leaf("empty-san", _h("empty-san"), sans=[], extra=[(empty_san, False)]),
        "markup": h.leaf("markup", MARKUP_CN, sans=[x509.DNSName(name) for name in MARKUP_SANS]),
        "critical-ext": h.leaf(
            "critical-ext",
            _h("critical-ext"),
            extra=[(x509.UnrecognizedExtension(_PRIVATE_OID, b"\x05\x00"), True)],
        ),
    }


def _octets(size: int) -> bytes:
    """A DER OCTET STRING of ``size`` bytes."""
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return b"\x04" + bytes([0x80 | len(raw)]) + raw + b"\x00" * size


# -- scenarios -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hostile:
    """One hostile host name: its nodes' addresses, behaviours and certificate."""

    name: str
    behaviours: tuple[str, ...]  # one per node
    cert: str = "hostile"
    description: str = ""
    block: int = 60  # the nodes live on 127.0.<block>.x

    @property
    def host(self) -> str:
        return _h(self.name)


def _one(name: str, behaviour: str, cert: str, description: str) -> Hostile:
    return Hostile(name, (behaviour,), cert, description)


HOSTILE: tuple[Hostile, ...] = (
    _one("hello-silent", "hello-silent", "hostile", "reads the ClientHello, then says nothing"),
    _one("drip", "drip", "hostile", "a real TLS answer, one byte a second"),
    _one("alert", "alert", "hostile", "answers the ClientHello with a handshake_failure alert"),
    _one("http-on-tls", "http", "hostile", "an HTTP 400 answer on the TLS port"),
    _one("tls10", "tls1.0", "tls10", "speaks TLS 1.0 only"),
    _one("tls11", "tls1.1", "tls11", "speaks TLS 1.1 only"),
    _one("long-chain", "tls", "long-chain", f"serves a chain of {LONG_CHAIN} certificates"),
    _one("huge-cert", "tls", "huge-cert", "a certificate of over 1 MiB"),
    _one("idn-unicode", "tls", "idn-unicode", "CN mäil.contoso.test in Unicode"),
    _one("idn-punycode", "tls", "idn-punycode", "CN xn--mil-qla.contoso.test (IDNA form)"),
    _one("idn-homograph", "tls", "idn-homograph", "CN with a Cyrillic a in 'mail'"),
    _one("ip-cn", "tls", "ip-cn", "an IP address as the CN, no SAN"),
    _one("empty-san", "tls", "empty-san", "a SAN extension with no names"),
    _one("critical-ext", "tls", "critical-ext", "an unknown critical extension"),
    _one("version-alert", "version-alert", "hostile", "a protocol_version alert to any hello"),
    _one("markup", "tls", "markup", "HTML in the CN and the SANs: an image, a link, an entity"),
    Hostile(
        "sixteen",
        ("tls", "silent") * 8,
        "sixteen",
        "16 nodes, the even-numbered 8 accept and never answer",
        block=61,
    ),
)
BY_NAME = {h.name: h for h in HOSTILE}


def addresses(hostile: Hostile) -> list[str]:
    if hostile.block != 60:
        return [f"127.0.{hostile.block}.{i}" for i in range(1, len(hostile.behaviours) + 1)]
    index = [h.name for h in HOSTILE if h.block == 60].index(hostile.name)
    return [f"127.0.60.{index + 1}"]


WEB_KINDS = ("endless", "big-body", "401-loop", "markup")


def web_target(kind: str) -> tuple[str, str]:
    """The host name and address of the node giving the ``kind`` web answer."""
    return f"web-{kind}.{DOMAIN}", f"127.0.66.{WEB_KINDS.index(kind) + 1}"


def install(lab: Lab) -> dict[str, Chain]:
    """Issue the certificates and start every hostile node; returns the chains by id."""
    chains = issue(lab.pki)
    h = HostilePKI(lab.pki)
    chains["sixteen"] = h.leaf("sixteen", _h("sixteen"))
    chains["tls10"] = h.leaf("tls10", _h("tls10"))
    chains["tls11"] = h.leaf("tls11", _h("tls11"))
    assert addresses(BY_NAME["ip-cn"]) == [IP_CN]
    for kind in WEB_KINDS:
        host, address = web_target(kind)
        chains[host] = h.leaf(host, host)
        lab.set_node(address, "tls", chains[host], on_tls=web_answer(kind))
        lab.dns.set_records(host, "A", [address])
    for hostile in HOSTILE:
        addrs = addresses(hostile)
        for address, behaviour in zip(addrs, hostile.behaviours, strict=True):
            lab.set_node(address, behaviour, chains[hostile.cert])
        lab.dns.set_records(hostile.host, "A", addrs)
    return chains
