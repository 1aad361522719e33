"""Real servers for the edge cases the lab does not play, on 127.77.0.0/16 (no other test uses
that range): a small PKI made with ``cryptography`` (its own root, CAs and leaves carrying
whatever revocation URLs a test needs), TLS nodes sharing one port that serve a chain each and
answer HTTP as a test scripts it, and a plain HTTP site (a PKI site, a CRL distribution point).

Each server records what it was asked, so a test can assert what the plugin fetched.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import AuthorityInformationAccessOID, NameOID

from contrib.lab.network.addresses import bind_shared_port
from contrib.lab.network.http11 import Request, Response, Stream, send

NOW = dt.datetime.now(dt.timezone.utc)
READ_TIMEOUT = 10.0

# What a route answers: a Response; None to close the connection without a word; or bytes,
# written as they are on the TCP connection (under TLS too: a record no TLS stack made), before
# the connection is closed.
Route = Callable[[Request], Response | bytes | None]


def name(cn: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Contoso Edge"),
            x509.NameAttribute(NameOID.COMMON_NAME, cn),
        ]
    )


@dataclass
class Issued:
    """A certificate and its private key."""

    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)


def issue(
    cn: str,
    issuer: Issued | None = None,
    *,
    ca: bool = False,
    cdp: tuple[str, ...] = (),
    ocsp: tuple[str, ...] = (),
    ca_issuers: tuple[str, ...] = (),
    key: ec.EllipticCurvePrivateKey | None = None,
) -> Issued:
    """A certificate for ``cn`` (a CA with ``ca``), signed by ``issuer`` (None: self-signed),
    carrying the CRL distribution points and AIA URLs given."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    signer = issuer.key if issuer is not None else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(name(cn))
        .issuer_name(issuer.cert.subject if issuer is not None else name(cn))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - dt.timedelta(days=30))
        .not_valid_after(NOW + dt.timedelta(days=1000 if ca else 300))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(cn)]), critical=False
        )
    if cdp:
        points = [
            x509.DistributionPoint([x509.UniformResourceIdentifier(u)], None, None, None)
            for u in cdp
        ]
        builder = builder.add_extension(x509.CRLDistributionPoints(points), critical=False)
    access = [
        x509.AccessDescription(
            AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(u)
        )
        for u in ocsp
    ] + [
        x509.AccessDescription(
            AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(u)
        )
        for u in ca_issuers
    ]
    if access:
        builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
    return Issued(builder.sign(signer, hashes.SHA256()), key)


def crl_of(issuer: Issued, next_update_days: float = 7.0) -> bytes:
    """An empty CRL of ``issuer``, signed by it (DER)."""
    crl = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(NOW - dt.timedelta(hours=1))
        .next_update(NOW + dt.timedelta(days=next_update_days))
        .sign(issuer.key, hashes.SHA256())
    )
    return crl.public_bytes(serialization.Encoding.DER)


def write_chain(folder: Path, label: str, leaf: Issued, *above: x509.Certificate) -> Path:
    """The PEM files a TLS server loads (the chain it sends, and the leaf's key); the chain's."""
    folder.mkdir(parents=True, exist_ok=True)
    chain = folder / f"{label}.pem"
    chain.write_bytes(
        leaf.pem + b"".join(c.public_bytes(serialization.Encoding.PEM) for c in above)
    )
    write_key(chain.with_suffix(".key"), leaf)
    return chain


def write_key(path: Path, issued: Issued) -> None:
    path.write_bytes(
        issued.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


def server_context(chain: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(chain), str(chain.with_suffix(".key")))
    return ctx


def ok(body: bytes, *headers: tuple[str, str]) -> Response:
    return Response(200, "OK", list(headers), body)


def status(code: int, reason: str, *headers: tuple[str, str], close: bool = False) -> Response:
    return Response(code, reason, list(headers), b"", close=close)


class Listeners:
    """Listeners on loopback addresses sharing one port, each connection served by
    :meth:`serve` in a thread of its own; ``refuse``: addresses where nothing listens on that
    port.  A subclass sets what :meth:`serve` needs before calling ``__init__``."""

    def __init__(self, listen: list[str], refuse: tuple[str, ...] = ()) -> None:
        self.port, socks = bind_shared_port(listen, refuse)
        self._listeners = list(socks.values())
        for address, sock in socks.items():
            sock.listen(64)
            threading.Thread(target=self._accept, args=(sock, address), daemon=True).start()

    def serve(self, conn: socket.socket, address: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        for sock in self._listeners:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _accept(self, listener: socket.socket, address: str) -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn, address), daemon=True).start()


class Servers(Listeners):
    """Plain HTTP, or TLS with the context set for the address; requests answered by the
    routes (by path, else by the longest matching prefix ending in "/"; 404 otherwise)."""

    def __init__(
        self, tls: tuple[str, ...] = (), plain: tuple[str, ...] = (), refuse: tuple[str, ...] = ()
    ) -> None:
        self.contexts: dict[str, ssl.SSLContext] = {}
        self.routes: dict[tuple[str, str], Route] = {}
        self.seen: list[tuple[str, str, str]] = []  # (address, method, path)
        self.connections: dict[str, int] = {}
        self._lock = threading.Lock()
        self._tls = set(tls)
        super().__init__([*tls, *plain], refuse)

    def route(self, address: str, path: str, answer: Route) -> None:
        self.routes[(address, path)] = answer

    def requests(self, address: str | None = None) -> list[str]:
        with self._lock:
            return [p for a, _, p in self.seen if address in (None, a)]

    def _answer(self, address: str, request: Request) -> Response | bytes | None:
        path = request.path
        found = self.routes.get((address, path))
        if found is None:
            prefixes = [p for a, p in self.routes if a == address and p.endswith("/")]
            longest = max((p for p in prefixes if path.startswith(p)), key=len, default=None)
            found = self.routes.get((address, longest)) if longest else None
        return found(request) if found is not None else status(404, "Not Found")

    def serve(self, conn: socket.socket, address: str) -> None:
        with self._lock:
            self.connections[address] = self.connections.get(address, 0) + 1
        sock: socket.socket = conn
        try:
            conn.settimeout(READ_TIMEOUT)
            if address in self._tls:
                sock = self.contexts[address].wrap_socket(conn, server_side=True)
            stream = Stream(sock)
            while True:
                request = stream.request()
                if request is None:
                    return
                with self._lock:
                    self.seen.append((address, request.method, request.path))
                response = self._answer(address, request)
                if response is None:
                    return
                if isinstance(response, bytes):
                    with socket.socket(fileno=os.dup(sock.fileno())) as raw:
                        raw.sendall(response)
                    return
                send(sock, response)
                if response.close or request.headers.get("connection", "").lower() == "close":
                    return
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                sock.close()


def der(tag: int, body: bytes) -> bytes:
    """One DER element (tag, length in its short or long form, content)."""
    size = len(body)
    if size < 0x80:
        return bytes([tag, size]) + body
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + body


def resigned(cert: x509.Certificate, issuer: Issued, old: bytes, new: bytes) -> bytes:
    """``cert`` (ECDSA with SHA-256) with ``old`` replaced by ``new`` in what is signed, signed
    again by ``issuer``: a certificate no builder would make, with a valid signature (DER)."""
    tbs = cert.tbs_certificate_bytes
    assert tbs.count(old) == 1
    tbs = tbs.replace(old, new)
    signature = issuer.key.sign(tbs, ec.ECDSA(hashes.SHA256()))
    algorithm = der(0x30, bytes.fromhex("06082a8648ce3d040302"))  # ecdsa-with-SHA256
    return der(0x30, tbs + algorithm + der(0x03, b"\x00" + signature))


# -- answers written as they are through the connection's TLS -----------------------------------
# A route that answers bytes writes them on the TCP connection, under TLS too; these write them
# through the TLS of the connection: an HTTP answer no HTTP library would frame (a chunk size
# that is not hex, a body that never ends), which the client reads as the server's.

_serving = threading.local()  # the TLS connection each serving thread made


class TappedContext(ssl.SSLContext):
    """A server context that keeps, per serving thread, the TLS connection it wrapped, for the
    routes of :func:`raw` to write on."""

    def wrap_socket(  # type: ignore[override]
        self, sock: socket.socket, server_side: bool = False
    ) -> ssl.SSLSocket:
        wrapped = super().wrap_socket(sock, server_side=server_side)
        _serving.sock = wrapped
        return wrapped


def tapped_context(chain: Path) -> TappedContext:
    """:func:`server_context` for routes of :func:`raw`."""
    ctx = TappedContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(chain), str(chain.with_suffix(".key")))
    return ctx


def raw(*pieces: bytes, repeat: bytes = b"", every: float = 0.05, hold: float = 0.0) -> Route:
    """A route (on a :func:`tapped_context` address) writing ``pieces`` through the TLS as they
    are, then ``repeat`` every ``every`` seconds for ``hold`` seconds (without ``repeat``:
    silent for ``hold`` seconds), then closing the connection."""

    def answer(_: Request) -> None:
        import time  # only here: the rest of this module is appended to, not reordered

        sock: ssl.SSLSocket = _serving.sock
        with contextlib.suppress(OSError):
            for piece in pieces:
                sock.sendall(piece)
            end = time.monotonic() + hold
            while time.monotonic() < end:
                if repeat:
                    sock.sendall(repeat)
                time.sleep(every if repeat else 0.05)
        return None

    return answer
