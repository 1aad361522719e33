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

import contextlib
import threading
import time
from urllib.parse import urljoin, urlsplit

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from ..facts import NodeFacts
from ..facts import revocation as r
from ..facts.certificate import CertFacts
from ..transport import TRACE, Deadline, fan_out, wire_text
from ..transport.http import MAX_BODY, Connection, HttpError
from . import addresses
from .revocation_answers import (
    is_http,
    issued_by,
    load_cert,
    ocsp_url,
    read_crl,
    read_ocsp,
    urls,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    pass

# The largest CRL, OCSP response or CA certificate read: the HTTP client's own bound.
MAX_FETCH = MAX_BODY
# Redirects followed for one URL (plain http only).
MAX_REDIRECTS = 3
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
        except (ValueError, x509.InvalidVersion):
            continue
    return found


def _chains_to_anchor(cert: x509.Certificate, anchors: list[x509.Certificate]) -> bool:
    return any(cert == anchor or issued_by(cert, anchor) for anchor in anchors)


def _parse_issuer_cert(body: bytes) -> list[x509.Certificate]:
    """A caIssuers answer: one DER or PEM certificate, or a PKCS #7 bundle of them."""
    try:
        return [x509.load_der_x509_certificate(body)]
    except (ValueError, x509.InvalidVersion):
        pass
    pem = _pem_certs(body)
    if pem:
        return pem
    try:
        from cryptography.hazmat.primitives.serialization import pkcs7

        return list(pkcs7.load_der_pkcs7_certificates(body))
    except (ValueError, UnsupportedAlgorithm, x509.InvalidVersion):
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
    for url in urls(last)[2]:
        if not is_http(url):
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
        crls, responders, _ = urls(cert)
        for url in crls:
            if not is_http(url):
                entry.sources.append(r.Source(r.CRL, url, r.NOT_FETCHED))
                continue
            jobs.setdefault((r.CRL, url), _Job(r.CRL, url))
            wanted.append((entry, cert, issuer, r.CRL, url, url))
        for url in responders:
            if not is_http(url):
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
        cert = load_cert(sent.der)
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
