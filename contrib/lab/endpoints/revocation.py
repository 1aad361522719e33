"""The lab's PKI site: CRLs, an OCSP responder and the Revocation CA's certificate over plain
HTTP, as an AD CS web enrollment / IIS CDP publishes them.

``pki.contoso.test`` (127.0.203.1, a port of its own) answers every URL the ``rev-``
certificates carry; ``down.pki.contoso.test`` (127.0.203.2) has nothing listening.  Every
request is recorded in :attr:`RevocationSite.seen`, with the serials an OCSP request asks about
and the bytes sent, so tests can assert what was fetched (nothing without ``--revocation``, never
the trust anchor's status) and that an endless CRL was cut off.

Paths:

* ``/root.crl``: the root's CRL (the Revoked CA is on it); ``/rev.crl``: the Revocation CA's CRL
  (``rev-crl-revoked`` and ``rev-mixed-revoked`` are on it, and the serials 0x0A0B, 0xA0 and
  0x0A00, never 0x0A); ``/rev-revoked-ca.crl``: the Revoked CA's (empty) CRL;
  ``/lapsed.crl`` (nextUpdate two days ago), ``/expiring.crl`` (nextUpdate in 5 hours),
  ``/badsig.crl`` (signed with another key), ``/garbage.crl`` (not a CRL),
  ``/huge.crl`` (50 MiB announced and sent), ``/endless.crl`` (streams until the client goes),
  ``/silent.crl`` (never answers), ``/redirect/<path>`` (302 to ``/<path>``).
* ``/ocsp/root/<request>``: the root's responder (signs itself); ``/ocsp/rev/<request>``: the
  Revocation CA's delegated responder (``rev-ocsp-revoked`` and ``rev-crl-revoked`` are revoked);
  ``/ocsp/garbage/...`` (not an OCSP response), ``/ocsp/badsig/...`` (signed with another key),
  ``/ocsp/unknown/...`` (the responder answers unknown), ``/ocsp/stale/...`` (a good answer past
  its nextUpdate).
* ``/ca/rev-ca.cer``: the Revocation CA (DER), for the AIA caIssuers URL.
"""

from __future__ import annotations

import base64
import datetime as dt
import socket
import time
from dataclasses import dataclass
from urllib.parse import unquote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp

from ..identities.pki import LabPKI
from ..network.dns import LabDNS
from ..network.http11 import Response as _Response
from ..network.http11 import Stream as _Stream
from ..network.http11 import send as _send
from ..network.listening import ListeningSite

PKI_HOST = "pki.contoso.test"
PKI_ADDRESS = "127.0.203.1"
DOWN_HOST = "down.pki.contoso.test"
DOWN_ADDRESS = "127.0.203.2"
HUGE = 50 * 1024 * 1024
# What the endless CRL sends at most (it stops when the client goes, long before).
ENDLESS_LIMIT = 1024 * 1024 * 1024
CHUNK = 64 * 1024
SILENT_SECONDS = 30.0

# The chains whose leaf the Revocation CA's CRL lists, and the ones its OCSP responder calls
# revoked.
REVOKED_BY_CRL = ("rev-crl-revoked", "rev-mixed-revoked")
REVOKED_BY_OCSP = ("rev-crl-revoked", "rev-ocsp-revoked")
# Serials on the CRL that a text comparison would confuse with the short serial 0x0A.
NEAR_SHORT_SERIAL = (0x0A0B, 0xA0, 0x0A00)


@dataclass
class Fetch:
    """One request the PKI site received."""

    address: str
    path: str
    host: str
    serials: tuple[int, ...] = ()  # what an OCSP request asked about
    sent: int = 0  # body bytes sent
    peer: str = ""  # who connected: the plugin, or a lab proxy (127.0.204.x) for it


class RevocationSite(ListeningSite[Fetch]):
    thread_name = "lab-pki"

    def __init__(self, pki: LabPKI, dns: LabDNS) -> None:
        super().__init__()
        self.pki = pki
        self.dns = dns
        self._crls: dict[str, bytes] = {}

    # -- life cycle ---------------------------------------------------------------------------

    def bind(self) -> None:
        """Bind the site (before the certificates are issued: their URLs carry the port)."""
        if self._listeners:
            return
        self._bind([PKI_ADDRESS], [DOWN_ADDRESS], port=0)
        base = f"http://{PKI_HOST}:{self.port}"
        self.pki.urls = {"pki": base, "down": f"http://{DOWN_HOST}:{self.port}"}

    def start(self) -> None:
        if self._running:
            return
        self.bind()
        self._crls = self._make_crls()
        self._listen()
        self.load_zone()

    def load_zone(self) -> None:
        if self._running:
            self.dns.set_records(PKI_HOST, "A", [PKI_ADDRESS])
            self.dns.set_records(DOWN_HOST, "A", [DOWN_ADDRESS])

    def describe(self) -> dict[str, object]:
        return {"host": PKI_HOST, "address": PKI_ADDRESS, "port": self.port}

    # -- what it serves -----------------------------------------------------------------------

    def _serial(self, chain: str) -> int:
        return self.pki.chains[chain].leaf.serial_number

    def _crl(
        self,
        issuer: x509.Certificate,
        key: object,
        revoked: list[tuple[int, x509.ReasonFlags]],
        this_update: float = -1.0,
        next_update: float = 7.0,
    ) -> bytes:
        now = self.pki.now
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(issuer.subject)
            .last_update(now + dt.timedelta(days=this_update))
            .next_update(now + dt.timedelta(days=next_update))
        )
        for serial, reason in revoked:
            entry = (
                x509.RevokedCertificateBuilder()
                .serial_number(serial)
                .revocation_date(now - dt.timedelta(days=3))
                .add_extension(x509.CRLReason(reason), critical=False)
                .build()
            )
            builder = builder.add_revoked_certificate(entry)
        crl = builder.sign(key, hashes.SHA256())  # type: ignore[arg-type]
        return crl.public_bytes(serialization.Encoding.DER)

    def _make_crls(self) -> dict[str, bytes]:
        pki = self.pki
        assert pki.root and pki.rev_ca and pki.rev_revoked_ca
        keys = pki.keys
        flags = x509.ReasonFlags
        rev_revoked = [(self._serial(c), flags.key_compromise) for c in REVOKED_BY_CRL]
        rev_revoked += [(s, flags.superseded) for s in NEAR_SHORT_SERIAL]
        return {
            "/root.crl": self._crl(
                pki.root, keys["root"], [(pki.rev_revoked_ca.serial_number, flags.ca_compromise)]
            ),
            "/rev.crl": self._crl(pki.rev_ca, keys["rev"], rev_revoked),
            "/rev-revoked-ca.crl": self._crl(pki.rev_revoked_ca, keys["rev"], []),
            "/lapsed.crl": self._crl(pki.rev_ca, keys["rev"], [], -10.0, -2.0),
            "/expiring.crl": self._crl(pki.rev_ca, keys["rev"], [], -7.0, 5.0 / 24.0),
            "/badsig.crl": self._crl(pki.rev_ca, keys["rogue"], []),
            "/garbage.crl": b"<html><body>This is not a CRL.</body></html>\n" * 20,
            "/ca/rev-ca.cer": pki.rev_ca.public_bytes(serialization.Encoding.DER),
        }

    def _ocsp(self, mode: str, encoded: str) -> tuple[bytes, tuple[int, ...]]:
        pki = self.pki
        assert pki.root and pki.rev_ca and pki.rev_revoked_ca and pki.ocsp_responder
        try:
            request = ocsp.load_der_ocsp_request(base64.b64decode(unquote(encoded)))
        except ValueError:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.MALFORMED_REQUEST
            ).public_bytes(serialization.Encoding.DER), ()
        serial = request.serial_number
        if mode == "garbage":
            return b"this is no OCSP response\n", (serial,)
        certs = {c.serial_number: c for chain in pki.chains.values() for c in chain.certs}
        certs.update({c.serial_number: c for c in (pki.rev_ca, pki.rev_revoked_ca)})
        subject = certs.get(serial)
        if subject is None or subject.issuer == subject.subject:
            return ocsp.OCSPResponseBuilder.build_unsuccessful(
                ocsp.OCSPResponseStatus.UNAUTHORIZED
            ).public_bytes(serialization.Encoding.DER), (serial,)
        if mode == "root":
            issuer, signer, key = pki.root, pki.root, pki.keys["root"]
            revoked = serial == pki.rev_revoked_ca.serial_number
        else:
            issuer, signer, key = pki.rev_ca, pki.ocsp_responder, pki.keys["leaf"]
            revoked = serial in {self._serial(c) for c in REVOKED_BY_OCSP}
            if mode == "badsig":  # the issuer's own response, its signature then damaged
                signer, key, revoked = pki.rev_ca, pki.keys["rev"], False
        now = dt.datetime.now(dt.timezone.utc)
        status = ocsp.OCSPCertStatus.REVOKED if revoked else ocsp.OCSPCertStatus.GOOD
        if mode == "unknown":  # RFC 6960 §2.2: the responder does not know the certificate
            status = ocsp.OCSPCertStatus.UNKNOWN
        # stale: a good answer past its nextUpdate (RFC 5019 §4: a client must not use it)
        this_update, next_update = (3, -1) if mode == "stale" else (1 / 24, 1)
        builder = ocsp.OCSPResponseBuilder().add_response(
            cert=subject,
            issuer=issuer,
            algorithm=hashes.SHA1(),
            cert_status=status,
            this_update=now - dt.timedelta(days=this_update),
            next_update=now + dt.timedelta(days=next_update),
            revocation_time=now - dt.timedelta(days=2) if revoked else None,
            revocation_reason=x509.ReasonFlags.key_compromise if revoked else None,
        )
        builder = builder.responder_id(ocsp.OCSPResponderEncoding.HASH, signer)
        if signer is pki.ocsp_responder:
            builder = builder.certificates([signer])
        response = builder.sign(key, hashes.SHA256())  # type: ignore[arg-type]
        der = response.public_bytes(serialization.Encoding.DER)
        if mode == "badsig":  # no certificates follow: the last byte is the signature's
            der = der[:-1] + bytes([der[-1] ^ 0x01])
        return der, (serial,)

    # -- serving ------------------------------------------------------------------------------

    def _serve(self, conn: socket.socket, address: str, peer: str) -> None:
        conn.settimeout(SILENT_SECONDS)
        request = _Stream(conn).request()
        if request is None:
            return
        fetch = Fetch(PKI_ADDRESS, request.path, request.headers.get("host", ""), peer=peer)
        with self._lock:
            self.seen.append(fetch)
        self._answer(conn, request.path, fetch)

    def _answer(self, conn: socket.socket, path: str, fetch: Fetch) -> None:
        if path.startswith("/redirect/"):
            location = f"http://{PKI_HOST}:{self.port}/{path[len('/redirect/') :]}"
            _send(conn, _Response(302, "Found", [("Location", location)], close=True))
            return
        if path in self._crls:
            body = self._crls[path]
            kind = "application/pkix-cert" if path.endswith(".cer") else "application/pkix-crl"
            fetch.sent = len(body)
            _send(conn, _Response(200, "OK", [("Content-Type", kind)], body, close=True))
            return
        if path.startswith("/ocsp/") and path.count("/") >= 3:
            _, _, mode, encoded = path.split("/", 3)
            body, serials = self._ocsp(mode, encoded)
            fetch.serials, fetch.sent = serials, len(body)
            headers = [("Content-Type", "application/ocsp-response")]
            _send(conn, _Response(200, "OK", headers, body, close=True))
            return
        if path in ("/huge.crl", "/endless.crl"):
            self._stream(conn, fetch, HUGE if path == "/huge.crl" else None)
            return
        if path == "/silent.crl":
            deadline = time.monotonic() + SILENT_SECONDS
            while self._running and time.monotonic() < deadline and conn.recv(1024):
                pass
            return
        _send(conn, _Response(404, "Not Found", close=True))

    def _stream(self, conn: socket.socket, fetch: Fetch, length: int | None) -> None:
        """A CRL body of ``length`` bytes announced (or none: until the client goes)."""
        head = "HTTP/1.1 200 OK\r\nContent-Type: application/pkix-crl\r\n"
        head += f"Content-Length: {length}\r\n" if length is not None else "Connection: close\r\n"
        conn.sendall((head + "\r\n").encode())
        chunk = b"\x30" * CHUNK
        limit = length if length is not None else ENDLESS_LIMIT
        while self._running and fetch.sent < limit:
            conn.sendall(chunk)
            with self._lock:
                fetch.sent += len(chunk)
