"""Certificate facts: plain data read from what the server sent.

The fast path reads OpenSSL's own decoding of each certificate (``get_info()`` on the objects of
the handshake's chain: the same dictionary as ``getpeercert()``), so a healthy check never imports
``cryptography`` (about 50 ms).  ``cryptography`` is loaded only to explain a failure: key type
and size and signature hash for a certificate OpenSSL called too weak, and DER that could not be
parsed.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterable

# CPython's own SHA-1 module: ``hashlib`` would first load OpenSSL's ``_hashlib`` (as costly at
# start-up as the handshake itself) to offer algorithms a thumbprint does not need.
try:
    from _sha1 import sha1
except ImportError:  # pragma: no cover - another interpreter, or a CPython built without it
    from hashlib import sha1

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

_MONTHS = {
    m: i
    for i, m in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}


class CertFacts:
    """What one certificate says about itself (a plain class: see ``facts.NodeFacts``)."""

    __slots__ = (
        "cns",
        "der",
        "emails",
        "issuer",
        "not_after",
        "not_before",
        "sans",
        "self_issued",
        "serial",
        "subject",
        "thumbprint",
    )

    def __init__(
        self,
        *,
        cns: tuple[str, ...],
        emails: tuple[str, ...],
        sans: tuple[str, ...],
        issuer: str,
        subject: str,
        serial: str,
        not_before: float,
        not_after: float,
        der: bytes,
        thumbprint: str,
        self_issued: bool,
    ) -> None:
        self.cns = cns  # every Subject CN, in encoded order
        self.emails = emails  # e-mail attributes of the subject: shown, never matched
        self.sans = sans  # SAN DNS names
        self.issuer = issuer  # issuer CN (or the whole issuer when it has no CN)
        self.subject = subject
        self.serial = serial
        self.not_before = not_before  # POSIX seconds
        self.not_after = not_after
        self.der = der  # the certificate as sent: two nodes serve the same one when equal
        # SHA-1, upper-case hex: how Get-ExchangeCertificate names a certificate
        self.thumbprint = thumbprint
        self.self_issued = self_issued

    def __repr__(self) -> str:
        return f"CertFacts({self.subject!r}, thumbprint={self.thumbprint})"

    @property
    def sha256(self) -> str:
        """The SHA-256 fingerprint, upper-case hex; computed when shown (-v)."""
        return fingerprint(self.der)

    def days_left(self, now: float) -> float:
        return (self.not_after - now) / 86400.0

    def label(self) -> str:
        """A short name for the certificate in messages."""
        if self.cns:
            return self.cns[0]
        return self.subject or f"serial {self.serial}"


class Unreadable(ValueError):
    """OpenSSL decoded the certificate, but a field of it makes no sense (a finding, not a bug)."""


def parse_time(text: str) -> float:
    """``Nov 26 02:25:36 2026 GMT`` (OpenSSL's print form, fractional seconds allowed) to POSIX
    seconds, locale-free; a server can send anything here ("Bad time value")."""
    try:
        mon, day, clock, year = text.split()[:4]
        hh, mm, ss = clock.split(":")
        days = epoch_days(int(year), _MONTHS[mon], int(day))
        return float(days * 86400 + int(hh) * 3600 + int(mm) * 60) + float(ss)
    except (ValueError, KeyError):
        raise Unreadable(f"validity date {text[:40]!r} not readable") from None


def epoch_days(year: int, month: int, day: int) -> int:
    """Days from 1970-01-01 to a proleptic Gregorian date (``calendar.timegm`` // 86400, without
    importing ``calendar``, which brings ``locale`` and ``datetime``)."""
    year -= month <= 2
    era = year // 400
    year_of_era = year - era * 400
    day_of_year = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + day - 1
    day_of_era = year_of_era * 365 + year_of_era // 4 - year_of_era // 100 + day_of_year
    return era * 146097 + day_of_era - 719468


def _name_text(rdns: Iterable[Any]) -> str:
    return ", ".join(f"{k}={v}" for rdn in rdns for k, v in rdn)


def _attrs(rdns: Iterable[Any], key: str) -> tuple[str, ...]:
    return tuple(v for rdn in rdns for k, v in rdn if k == key)


def fingerprint(der: bytes) -> str:
    import hashlib

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
        der=der,
        thumbprint=sha1(der).hexdigest().upper(),
        self_issued=subject == issuer,
    )


def iso_date(seconds: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(seconds))


def dsa_public_key_class() -> type[Any]:
    """The class of DSA public keys, named without a warning.

    cryptography 51 deprecates DSA and warns on every use of the public names of its ``dsa``
    module, ``isinstance(key, dsa.DSAPublicKey)`` included, and whenever it reads a DSA key;
    a check must print nothing on stderr, whatever a server's certificate holds.  The module
    keeps a private alias for its own ``isinstance`` checks that does not warn; releases
    before 51 have no alias and no warning either.
    """
    from cryptography.hazmat.primitives.asymmetric import dsa

    quiet = getattr(dsa, "_DSAPublicKey", None)
    return quiet if isinstance(quiet, type) else dsa.DSAPublicKey


def public_key_of(cert: Any) -> Any:
    """``cert.public_key()``, without the warning cryptography 51 gives for a DSA key.

    Only that category is silenced, around this one call.  (``catch_warnings`` swaps the
    process's filter list; when probes in other threads swap it at the same time, what one of
    them restores still holds ``main()``'s own filter, so nothing reaches stderr either way.)
    """
    from cryptography.utils import CryptographyDeprecationWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return cert.public_key()


def describe_strength(der: bytes) -> tuple[str, str]:
    """Key type and size, and signature hash, read with ``cryptography`` (slow import).

    ``cryptography`` is stricter than OpenSSL: what OpenSSL accepted and it refuses (a
    negative serial, an unknown key or signature algorithm, a version field of 1) is "unknown",
    never an exception.
    """
    from cryptography import x509
    from cryptography.exceptions import UnsupportedAlgorithm
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, rsa

    try:
        cert = x509.load_der_x509_certificate(der)
        pub = public_key_of(cert)
        algo = cert.signature_hash_algorithm
    except (ValueError, UnsupportedAlgorithm, x509.InvalidVersion):
        return "unknown key", "unknown"
    if isinstance(pub, rsa.RSAPublicKey):
        key = f"RSA {pub.key_size}"
    elif isinstance(pub, ec.EllipticCurvePublicKey):
        key = f"EC {pub.curve.name}"
    elif isinstance(pub, dsa_public_key_class()):
        key = f"DSA {pub.key_size}"
    elif isinstance(pub, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
        key = type(pub).__name__.replace("PublicKey", "")
    else:
        key = type(pub).__name__
    return key, (algo.name if algo is not None else "none")
