"""Certificate facts: plain data read from what the server sent.

The fast path reads OpenSSL's own decoding of each certificate (``get_info()`` on the objects of
the handshake's chain: the same dictionary as ``getpeercert()``), so a healthy check never imports
``cryptography`` (about 50 ms).  ``cryptography`` is loaded only to explain a failure: key type
and size and signature hash for a certificate OpenSSL called too weak, and DER that could not be
parsed.
"""

from __future__ import annotations

import calendar
import hashlib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

_MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}


@dataclass(frozen=True)
class CertFacts:
    """What one certificate says about itself."""

    cns: tuple[str, ...]  # every Subject CN, in encoded order
    emails: tuple[str, ...]  # e-mail attributes of the subject: shown, never matched
    sans: tuple[str, ...]  # SAN DNS names
    issuer: str  # issuer CN (or the whole issuer when it has no CN)
    subject: str
    serial: str
    not_before: float  # POSIX seconds
    not_after: float
    sha256: str  # fingerprint, upper-case hex
    thumbprint: str  # SHA-1, upper-case hex: how Get-ExchangeCertificate names a certificate
    self_issued: bool

    def days_left(self, now: float) -> float:
        return (self.not_after - now) / 86400.0

    def label(self) -> str:
        """A short name for the certificate in messages."""
        if self.cns:
            return self.cns[0]
        return self.subject or f"serial {self.serial}"


def parse_time(text: str) -> float:
    """``Nov 26 02:25:36 2026 GMT`` (OpenSSL's print form) to POSIX seconds, locale-free."""
    parts = text.split()
    mon, day, clock, year = parts[0], parts[1], parts[2], parts[3]
    hh, mm, ss = (int(x) for x in clock.split(":"))
    return float(calendar.timegm((int(year), _MONTHS[mon], int(day), hh, mm, ss, 0, 0, 0)))


def _name_text(rdns: Iterable[Any]) -> str:
    return ", ".join(f"{k}={v}" for rdn in rdns for k, v in rdn)


def _attrs(rdns: Iterable[Any], key: str) -> tuple[str, ...]:
    return tuple(v for rdn in rdns for k, v in rdn if k == key)


def fingerprint(der: bytes) -> str:
    return hashlib.sha256(der).hexdigest().upper()


def from_info(info: dict[str, Any], der: bytes) -> CertFacts:
    """Facts from OpenSSL's decoded form (``getpeercert()`` / ``Certificate.get_info()``)."""
    subject = info.get("subject", ())
    issuer = info.get("issuer", ())
    issuer_cns = _attrs(issuer, "commonName")
    return CertFacts(
        cns=_attrs(subject, "commonName"),
        emails=_attrs(subject, "emailAddress"),
        sans=tuple(v for k, v in info.get("subjectAltName", ()) if k == "DNS"),
        issuer=issuer_cns[0] if issuer_cns else _name_text(issuer),
        subject=_name_text(subject),
        serial=info.get("serialNumber", ""),
        not_before=parse_time(info["notBefore"]),
        not_after=parse_time(info["notAfter"]),
        sha256=fingerprint(der),
        thumbprint=hashlib.sha1(der).hexdigest().upper(),
        self_issued=subject == issuer,
    )


def iso_date(seconds: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(seconds))


def describe_strength(der: bytes) -> tuple[str, str]:
    """Key type and size, and signature hash, read with ``cryptography`` (slow import)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

    cert = x509.load_der_x509_certificate(der)
    pub = cert.public_key()
    if isinstance(pub, rsa.RSAPublicKey):
        key = f"RSA {pub.key_size}"
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        key = f"EC {pub.curve.name}"
    elif isinstance(pub, dsa.DSAPublicKey):
        key = f"DSA {pub.key_size}"
    elif isinstance(pub, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        key = type(pub).__name__.replace("PublicKey", "")
    else:
        key = type(pub).__name__
    algo = cert.signature_hash_algorithm
    return key, (algo.name if algo is not None else "none")
