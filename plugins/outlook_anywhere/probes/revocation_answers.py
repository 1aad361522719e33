"""What a CRL or an OCSP answer says about one certificate, and the fields of a certificate the
revocation lookups need (its URLs, its issuer's signature).  No I/O: ``probes.revocation``
fetches, this module reads what was fetched, into ``facts.revocation.Source`` records.

A CRL must be the issuer's and signed by it, its serial looked up as an integer; an OCSP
response must be signed by the issuer or by a responder certificate the issuer gave the
OCSP-signing purpose, and be about this serial.  Imported only with ``--revocation``.
"""

from __future__ import annotations

import base64
from urllib.parse import quote

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from ..facts import revocation as r
from ..facts.certificate import dsa_public_key_class, public_key_of

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# URLs of one kind (CRL, OCSP, caIssuers) looked at per certificate.
MAX_URLS = 4


# -- certificates --------------------------------------------------------------------------------


def load_cert(der: bytes) -> x509.Certificate | None:
    try:
        return x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion):  # a v2 certificate: InvalidVersion, no ValueError
        return None


def verify_signature(public_key: Any, signature: bytes, data: bytes, algorithm: Any) -> bool:
    """Whether ``signature`` over ``data`` verifies with ``public_key``."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa

    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(public_key, dsa_public_key_class()):
            public_key.verify(signature, data, algorithm)
        elif isinstance(public_key, (ed25519.Ed25519PublicKey, ed448.Ed448PublicKey)):
            public_key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether ``issuer`` is the issuer's name and its key signed ``cert``."""
    if cert.issuer != issuer.subject:
        return False
    check = getattr(cert, "verify_directly_issued_by", None)
    if check is not None:  # cryptography 40+: every signature algorithm, RSA-PSS included
        try:
            check(issuer)
        except (InvalidSignature, ValueError, TypeError, UnsupportedAlgorithm):
            return False
        return True
    return verify_signature(
        public_key_of(issuer),
        cert.signature,
        cert.tbs_certificate_bytes,
        cert.signature_hash_algorithm,
    )  # pragma: no cover - cryptography before 40


def urls(cert: x509.Certificate) -> tuple[list[str], list[str], list[str]]:
    """CRL distribution points, OCSP responders and caIssuers URLs, as written."""
    crls: list[str] = []
    with _ignored_extension():
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
        for point in points:
            for name in point.full_name or ():
                if isinstance(name, x509.UniformResourceIdentifier):
                    crls.append(name.value)
    responders: list[str] = []
    issuers: list[str] = []
    with _ignored_extension():
        access = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
        for item in access:
            if not isinstance(item.access_location, x509.UniformResourceIdentifier):
                continue
            if item.access_method == AuthorityInformationAccessOID.OCSP:
                responders.append(item.access_location.value)
            elif item.access_method == AuthorityInformationAccessOID.CA_ISSUERS:
                issuers.append(item.access_location.value)
    return crls[:MAX_URLS], responders[:MAX_URLS], issuers[:MAX_URLS]


class _ignored_extension:
    """An absent or undecodable extension is no URL."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, exc: object, tb: object) -> bool:
        return kind is not None and issubclass(kind, (x509.ExtensionNotFound, ValueError))  # type: ignore[arg-type]


def is_http(url: str) -> bool:
    return url[:7].lower() == "http://"


_OLD_CRYPTOGRAPHY = object()


def _seconds(obj: object, name: str) -> float | None:
    """A time of a CRL or OCSP response as POSIX seconds (``*_utc`` where it exists)."""
    value: Any = getattr(obj, f"{name}_utc", _OLD_CRYPTOGRAPHY)
    if value is None:  # not in the answer (a CRL or OCSP response without nextUpdate)
        return None
    if value is _OLD_CRYPTOGRAPHY:  # before cryptography 42: naive datetimes in UTC
        naive = getattr(obj, name, None)
        if naive is None:
            return None
        import datetime as dt

        value = naive.replace(tzinfo=dt.timezone.utc)
    return float(value.timestamp())


# -- CRL and OCSP --------------------------------------------------------------------------------


def read_crl(body: bytes, issuer: x509.Certificate, serial: int, url: str) -> r.Source:
    """What one CRL says about ``serial``: from its issuer, signed by it, looked up as an
    integer."""
    source = r.Source(r.CRL, url)
    try:
        if body.lstrip()[:10] == b"-----BEGIN":
            crl = x509.load_pem_x509_crl(body)
        else:
            crl = x509.load_der_x509_crl(body)
    except ValueError:
        source.outcome, source.detail = r.UNUSABLE, "not a CRL"
        return source
    if crl.issuer != issuer.subject:
        source.outcome, source.detail = r.UNUSABLE, "a CRL of another issuer"
        return source
    try:
        valid = crl.is_signature_valid(public_key_of(issuer))
    except (UnsupportedAlgorithm, ValueError, TypeError):
        valid = False
    if not valid:
        source.outcome, source.detail = r.BAD_SIGNATURE, "CRL signature does not verify"
        return source
    source.this_update = _seconds(crl, "last_update")
    source.next_update = _seconds(crl, "next_update")
    entry = crl.get_revoked_certificate_by_serial_number(serial)
    if entry is None or not r.listed(serial, (entry.serial_number,)):
        source.outcome = r.GOOD
        return source
    source.outcome = r.REVOKED
    source.revoked_at = _seconds(entry, "revocation_date")
    with _ignored_extension():
        source.reason = entry.extensions.get_extension_for_class(x509.CRLReason).value.reason.name
    return source


def ocsp_url(base: str, cert: x509.Certificate, issuer: x509.Certificate) -> str:
    """The GET form of an OCSP request (RFC 6960 appendix A): the DER request, base64 and
    URL-encoded, after the responder's URL."""
    request = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA1()).build()
    der = request.public_bytes(serialization.Encoding.DER)
    encoded = quote(base64.b64encode(der).decode("ascii"), safe="")
    return base.rstrip("/") + "/" + encoded


def _key_hash(cert: x509.Certificate) -> bytes:
    return x509.SubjectKeyIdentifier.from_public_key(public_key_of(cert)).digest


def _responder(response: Any, issuer: x509.Certificate) -> x509.Certificate | None:
    """The certificate that signed ``response``: the issuer, or a responder certificate the
    issuer issued with the OCSP-signing purpose."""

    def named(cert: x509.Certificate) -> bool:
        if response.responder_name is not None:
            return bool(response.responder_name == cert.subject)
        return bool(response.responder_key_hash == _key_hash(cert))

    if named(issuer):
        return issuer
    for cert in response.certificates:
        if not named(cert) or not issued_by(cert, issuer):
            continue
        try:
            usage = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except (x509.ExtensionNotFound, ValueError):
            continue
        if ExtendedKeyUsageOID.OCSP_SIGNING in usage:
            return cert
    return None


def read_ocsp(
    body: bytes, cert: x509.Certificate, issuer: x509.Certificate, serial: int, url: str
) -> r.Source:
    """What one OCSP response says about ``serial``, once its signature is the issuer's or its
    delegated responder's."""
    source = r.Source(r.OCSP, url)
    try:
        response = ocsp.load_der_ocsp_response(body)
    except ValueError:
        source.outcome, source.detail = r.UNUSABLE, "not an OCSP response"
        return source
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        source.outcome = r.UNUSABLE
        source.detail = f"responder status {response.response_status.name.lower()}"
        return source
    signer = _responder(response, issuer)
    if signer is None:
        source.outcome = r.BAD_SIGNATURE
        source.detail = "signed by neither the issuer nor a responder it delegated"
        return source
    if not verify_signature(
        public_key_of(signer),
        response.signature,
        response.tbs_response_bytes,
        response.signature_hash_algorithm,
    ):
        source.outcome, source.detail = r.BAD_SIGNATURE, "OCSP signature does not verify"
        return source
    single = _single_response(response, issuer, serial)
    if single is None:
        source.outcome, source.detail = r.UNUSABLE, "the response is about another certificate"
        return source
    source.this_update = _seconds(single, "this_update")
    source.next_update = _seconds(single, "next_update")
    status = single.certificate_status
    if status == ocsp.OCSPCertStatus.GOOD:
        source.outcome = r.GOOD
    elif status == ocsp.OCSPCertStatus.REVOKED:
        source.outcome = r.REVOKED
        source.revoked_at = _seconds(single, "revocation_time")
        reason = single.revocation_reason
        source.reason = reason.name if reason is not None else ""
    else:
        source.outcome = r.UNKNOWN
    return source


def _single_response(response: Any, issuer: x509.Certificate, serial: int) -> Any:
    singles = getattr(response, "responses", None)
    for single in singles if singles is not None else (response,):
        if not r.listed(serial, (single.serial_number,)):
            continue
        digest = hashes.Hash(single.hash_algorithm)
        digest.update(issuer.subject.public_bytes())
        if digest.finalize() == single.issuer_name_hash:
            return single
    return None
