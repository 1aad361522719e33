"""``--revocation``: the CRLs and OCSP answers for every certificate the nodes send, as Windows
would fetch them.  Facts only (``facts.revocation``); the judgement decides.

For each distinct chain the nodes send, every certificate but the trust anchor is looked up:
its HTTP CRL distribution points (the CRL must be the issuer's and signed by it; the serial is
looked up as an integer) and the OCSP responders of its Authority Information Access (the
response must be signed by the issuer or by a responder certificate the issuer gave the
OCSP-signing purpose, and be about this serial).  ``ldap:`` and ``file:`` URLs are recorded,
never fetched.  When OpenSSL could not build the chain because the server leaves out an
intermediate, the last certificate's AIA ``caIssuers`` URL is fetched, as Windows does.

The node's stapled OCSP response is not read: Python's ``ssl`` module can neither ask for it
(``status_request``) nor return it.

Every fetch is a plain HTTP GET through ``transport.http.Connection`` (so through whatever
``transport.connect`` does), each URL once per check, all of them concurrently, each bounded by
:data:`MAX_FETCH` bytes, :data:`MAX_REDIRECTS` redirects and the one deadline.  This module
and ``cryptography`` are imported only with ``--revocation``.
"""

from __future__ import annotations

import base64
import contextlib
import threading
import time
from urllib.parse import quote, urljoin, urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID

from ..facts import NodeFacts
from ..facts import revocation as r
from ..facts.certificate import CertFacts, dsa_public_key_class, public_key_of
from ..transport import TRACE, Deadline, fan_out, wire_text
from ..transport.http import MAX_BODY, Connection, HttpError
from . import addresses

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# The largest CRL, OCSP response or CA certificate read: the HTTP client's own bound.
MAX_FETCH = MAX_BODY
# Redirects followed for one URL (plain http only).
MAX_REDIRECTS = 3
# URLs of one kind (CRL, OCSP, caIssuers) looked at per certificate.
MAX_URLS = 4
# Fetches of one check (one thread each): an array of many nodes with distinct chains, or a
# hostile one, cannot make it start thousands.
MAX_FETCHES = 64
# OpenSSL verify codes of an incomplete chain: unable to get the issuer's certificate.
_MISSING_ISSUER = (2, 20, 21)
_REDIRECTS = (301, 302, 303, 307, 308)
NO_ANSWER = "no answer within the deadline"


class Settings:
    """How names in URLs are resolved and what the trust anchors are."""

    def __init__(
        self,
        dns_server: tuple[str, int] | None,
        ipv4: bool,
        ipv6: bool,
        ca_file: str | None,
        verify: bool,
    ) -> None:
        self.dns_server = dns_server
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.ca_file = ca_file
        self.verify = verify


class Failed(Exception):
    """A fetch that gave nothing usable: an outcome kind of ``facts.revocation`` and evidence."""

    def __init__(self, outcome: str, detail: str) -> None:
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail


# -- HTTP GET ------------------------------------------------------------------------------------


def fetch(url: str, settings: Settings, deadline: Deadline) -> bytes:
    """The body of a plain HTTP GET of ``url``, following at most :data:`MAX_REDIRECTS` http
    redirects; raises :class:`Failed`."""
    for _ in range(MAX_REDIRECTS + 1):
        parts = urlsplit(url)
        if parts.scheme.lower() != "http":
            raise Failed(r.UNUSABLE, f"redirected to a URL that is not plain http: {url}")
        try:
            host, port = parts.hostname or "", parts.port or 80
        except ValueError:
            raise Failed(r.UNUSABLE, "invalid port in the URL") from None
        if not host:
            raise Failed(r.UNUSABLE, "no host name in the URL")
        found = addresses.resolve(host, deadline, settings.ipv4, settings.ipv6, settings.dns_server)
        if not found.addresses:
            raise Failed(r.UNREACHABLE, f"{host}: no address ({found.failure or 'none'})")
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        authority = host if ":" not in host else f"[{host}]"
        header_host = authority if port == 80 else f"{authority}:{port}"
        try:
            conn = Connection(found.addresses[0], port, deadline)
            try:
                response = conn.request(
                    "GET", path, header_host, [("Connection", "close"), ("Accept", "*/*")]
                )
            finally:
                conn.close()
        except HttpError as exc:
            if exc.kind == "timeout":  # every read is bounded by the one deadline, nothing else
                raise Failed(r.UNREACHABLE, NO_ANSWER) from None
            unusable = exc.kind in ("too-big", "protocol")
            raise Failed(r.UNUSABLE if unusable else r.UNREACHABLE, exc.text) from None
        if response.status in _REDIRECTS:
            location = response.header("Location")
            if not location:
                raise Failed(r.HTTP_ERROR, f"HTTP {response.status} without a Location")
            url = urljoin(url, wire_text(location, 2000, "%", hide=False))
            continue
        if response.status != 200:
            raise Failed(r.HTTP_ERROR, f"HTTP {response.status} {response.reason}".strip())
        return response.body
    raise Failed(r.UNUSABLE, f"more than {MAX_REDIRECTS} redirects")


# -- certificates --------------------------------------------------------------------------------


def _load_cert(der: bytes) -> x509.Certificate | None:
    try:
        return x509.load_der_x509_certificate(der)
    except ValueError:
        return None


def _verify(public_key: Any, signature: bytes, data: bytes, algorithm: Any) -> bool:
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
    return _verify(
        public_key_of(issuer),
        cert.signature,
        cert.tbs_certificate_bytes,
        cert.signature_hash_algorithm,
    )  # pragma: no cover - cryptography before 40


def _urls(cert: x509.Certificate) -> tuple[list[str], list[str], list[str]]:
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


def _http(url: str) -> bool:
    return url[:7].lower() == "http://"


def _seconds(obj: object, name: str) -> float | None:
    """A time of a CRL or OCSP response as POSIX seconds (``*_utc`` where it exists)."""
    value = getattr(obj, f"{name}_utc", None)
    if value is None:
        naive = getattr(obj, name, None)
        if naive is None:
            return None
        import datetime as dt

        value = naive.replace(tzinfo=dt.timezone.utc)
    return float(value.timestamp())


# -- trust anchors (only to judge an intermediate that caIssuers supplied) ------------------------


def _anchors(settings: Settings) -> list[x509.Certificate]:
    import os
    import ssl

    files: list[str] = []
    if settings.ca_file:
        files.append(settings.ca_file)
    else:
        paths = ssl.get_default_verify_paths()
        if paths.cafile:
            files.append(paths.cafile)
        elif paths.capath and os.path.isdir(paths.capath):
            with os.scandir(paths.capath) as entries:
                files += [e.path for e in entries if e.is_file()][:1000]
    found: list[x509.Certificate] = []
    for name in files:
        try:
            with open(name, "rb") as fh:
                data = fh.read(8 * 1024 * 1024)
        except OSError:
            continue
        found += _pem_certs(data)
    return found


def _pem_certs(data: bytes) -> list[x509.Certificate]:
    """Every readable certificate of a PEM bundle (``load_pem_x509_certificates`` is
    cryptography 39+, and refuses a whole bundle for one bad block)."""
    marker = b"-----BEGIN CERTIFICATE-----"
    found = []
    for block in data.split(marker)[1:]:
        try:
            found.append(x509.load_pem_x509_certificate(marker + block))
        except ValueError:
            continue
    return found


def _chains_to_anchor(cert: x509.Certificate, anchors: list[x509.Certificate]) -> bool:
    return any(cert == anchor or issued_by(cert, anchor) for anchor in anchors)


def _parse_issuer_cert(body: bytes) -> list[x509.Certificate]:
    """A caIssuers answer: one DER or PEM certificate, or a PKCS #7 bundle of them."""
    try:
        return [x509.load_der_x509_certificate(body)]
    except ValueError:
        pass
    pem = _pem_certs(body)
    if pem:
        return pem
    try:
        from cryptography.hazmat.primitives.serialization import pkcs7

        return list(pkcs7.load_der_pkcs7_certificates(body))
    except (ValueError, UnsupportedAlgorithm):
        return []


def _supply_missing(
    node: NodeFacts,
    certs: list[x509.Certificate],
    settings: Settings,
    deadline: Deadline,
) -> tuple[str, x509.Certificate, x509.Certificate | None] | None:
    """The intermediate a caIssuers URL of the last certificate supplies, when it completes
    the chain to a trust anchor: (URL, intermediate, anchor)."""
    if not settings.verify or node.trust != "untrusted" or node.trust_code not in _MISSING_ISSUER:
        return None
    last = certs[-1]
    if last.issuer == last.subject:
        return None
    anchors: list[x509.Certificate] | None = None
    for url in _urls(last)[2]:
        if not _http(url):
            continue
        try:
            body = fetch(url, settings, deadline)
        except Failed as exc:
            TRACE(url, f"caIssuers: {exc.outcome}: {exc.detail}")
            continue
        for candidate in _parse_issuer_cert(body):
            if not issued_by(last, candidate):
                continue
            anchors = _anchors(settings) if anchors is None else anchors
            anchor = next((a for a in anchors if issued_by(candidate, a)), None)
            if anchor is not None or candidate in anchors:
                return url, candidate, anchor
    return None


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
    if not _verify(
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


# -- the whole check -----------------------------------------------------------------------------


class _Job:
    """One URL to fetch and the certificates whose answer it is."""

    __slots__ = ("body", "failure", "kind", "url")

    def __init__(self, kind: str, url: str) -> None:
        self.kind = kind
        self.url = url
        self.body: bytes | None = None
        self.failure: Failed | None = None


def _label(facts: CertFacts | None, cert: x509.Certificate) -> str:
    if facts is not None:
        return facts.label()
    cns = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(cns[0].value) if cns else cert.subject.rfc4514_string() or "?"


def check(nodes: list[NodeFacts], settings: Settings, deadline: Deadline) -> r.RevocationFacts:
    """Every distinct chain the nodes sent, looked up."""
    groups: dict[tuple[bytes, ...], list[NodeFacts]] = {}
    for node in nodes:
        if node.chain and not node.failure:
            groups.setdefault(tuple(c.der for c in node.chain), []).append(node)
    chains: list[r.ChainRevocation] = []
    # (chain, cert facts, x509 cert, issuer or None) for every certificate to look up
    todo: list[tuple[r.CertRevocation, x509.Certificate, x509.Certificate | None]] = []
    for members in groups.values():
        chain = r.ChainRevocation(tuple(n.address for n in members))
        chains.append(chain)
        todo += _plan(chain, members[0], settings, deadline)
    jobs: dict[tuple[str, str], _Job] = {}
    wanted: list[tuple[r.CertRevocation, x509.Certificate, x509.Certificate, str, str, str]] = []
    for entry, cert, issuer in todo:
        if issuer is None:
            entry.without_issuer = True
            continue
        crls, responders, _ = _urls(cert)
        for url in crls:
            if not _http(url):
                entry.sources.append(r.Source(r.CRL, url, r.NOT_FETCHED))
                continue
            jobs.setdefault((r.CRL, url), _Job(r.CRL, url))
            wanted.append((entry, cert, issuer, r.CRL, url, url))
        for url in responders:
            if not _http(url):
                entry.sources.append(r.Source(r.OCSP, url, r.NOT_FETCHED))
                continue
            try:
                request = ocsp_url(url, cert, issuer)
            except (ValueError, TypeError, UnsupportedAlgorithm):
                entry.sources.append(r.Source(r.OCSP, url, r.UNUSABLE, "no OCSP request possible"))
                continue
            jobs.setdefault((r.OCSP, request), _Job(r.OCSP, request))
            wanted.append((entry, cert, issuer, r.OCSP, request, url))
    planned = list(jobs.values())
    for job in planned[MAX_FETCHES:]:
        job.failure = Failed(r.UNREACHABLE, f"not fetched: over {MAX_FETCHES} URLs in one check")
    _run(planned[:MAX_FETCHES], settings, deadline)
    for entry, cert, issuer, kind, key, url in wanted:
        job = jobs[(kind, key)]
        entry.sources.append(_answer(job, kind, url, cert, issuer, entry.serial))
    return r.RevocationFacts(chains)


def _plan(
    chain: r.ChainRevocation, node: NodeFacts, settings: Settings, deadline: Deadline
) -> list[tuple[r.CertRevocation, x509.Certificate, x509.Certificate | None]]:
    """Every certificate of the chain but the trust anchor, with its issuer where known."""
    facts: list[CertFacts | None] = list(node.chain)
    certs: list[x509.Certificate] = []
    for sent in node.chain:
        cert = _load_cert(sent.der)
        if cert is None:  # cryptography refuses what OpenSSL read: nothing to look up beyond it
            break
        certs.append(cert)
    if not certs:
        return []
    facts = facts[: len(certs)]
    last = certs[-1]
    if node.trust == "verified" or last.issuer == last.subject:
        checked = len(certs) - 1  # the last one is the trust anchor (or a self-signed root)
    else:
        checked = len(certs)
        supplied = _supply_missing(node, certs, settings, deadline)
        if supplied is not None:
            url, intermediate, anchor = supplied
            chain.supplied, chain.supplied_label = url, _label(None, intermediate)
            certs.append(intermediate)
            facts.append(None)
            if anchor is not None:
                certs.append(anchor)
                facts.append(None)
                checked += 1
    planned = []
    for position in range(checked):
        cert = certs[position]
        issuer = certs[position + 1] if position + 1 < len(certs) else None
        if issuer is not None and not issued_by(cert, issuer):
            issuer = None
        cf = facts[position]
        serial = cert.serial_number
        if cf is not None and cf.serial:
            with contextlib.suppress(ValueError):
                serial = r.serial_number(cf.serial)  # OpenSSL's reading, as an integer
        entry = r.CertRevocation(_label(cf, cert), serial, position)
        chain.certs.append(entry)
        planned.append((entry, cert, issuer))
    return planned


def _run(jobs: list[_Job], settings: Settings, deadline: Deadline) -> None:
    lock = threading.Lock()

    def one(job: _Job) -> None:
        started = time.monotonic()
        try:
            body = fetch(job.url, settings, deadline)
        except Failed as exc:
            with lock:
                job.failure = exc
            TRACE(job.url[:120], f"{job.kind}: {exc.outcome} ({exc.detail})")
            return
        with lock:
            job.body = body
        TRACE(job.url[:120], f"{job.kind}: {len(body)} bytes in {time.monotonic() - started:.3f} s")

    outcomes = fan_out(jobs, one, deadline)
    for job, (finished, outcome) in zip(jobs, outcomes, strict=True):
        if not finished:
            job.failure = Failed(r.UNREACHABLE, NO_ANSWER)
        elif isinstance(outcome, BaseException) and job.failure is None and job.body is None:
            job.failure = Failed(r.UNUSABLE, f"internal error: {outcome.__class__.__name__}")


def _answer(
    job: _Job,
    kind: str,
    url: str,
    cert: x509.Certificate,
    issuer: x509.Certificate,
    serial: int,
) -> r.Source:
    if job.body is None:
        failure = job.failure or Failed(r.UNREACHABLE, NO_ANSWER)
        return r.Source(kind, url, failure.outcome, failure.detail)
    try:
        if kind == r.CRL:
            return read_crl(job.body, issuer, serial, url)
        return read_ocsp(job.body, cert, issuer, serial, url)
    except (ValueError, TypeError, UnsupportedAlgorithm):  # a field cryptography cannot read
        return r.Source(kind, url, r.UNUSABLE, "not readable")
