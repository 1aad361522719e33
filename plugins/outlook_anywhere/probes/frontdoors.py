"""The front doors of every node, without credentials (``--auth-certificate``, ``--health``,
``--build``): facts only.

Per node, over one connection reused while the node keeps it open (SNI and ``Host`` the
namespace): the Auth metadata document ``/autodiscover/metadata/json/1``, the listed
``/<vdir>/healthcheck.htm`` pages, and ``GET /owa/`` for its ``X-OWA-Version`` (no redirect
followed).  Every read is bounded by the one deadline and ``transport.http.MAX_BODY``; the
document is parsed strictly (:func:`read_metadata`).  No credentials are sent, so the
certificate is not verified here: the TLS probe judges it.
"""

from __future__ import annotations

import re
import ssl

from ..facts.frontdoors import AuthFacts, AuthKey, FrontDoorFacts, Health
from ..transport import Deadline, client_context, fan_out, unanswered_why, wire_text
from ..transport.http import Connection, HttpError, Response

METADATA_PATH = "/autodiscover/metadata/json/1"
OWA_PATH = "/owa/"
USER_AGENT = "check_outlook_anywhere"
# The deepest nesting read: the metadata document nests four levels (keys[].keyvalue.value).
MAX_DEPTH = 16
# The most keys[] entries read (Exchange publishes one, two during a renewal).
MAX_KEYS = 32
# The metadata document may take at most this share of what is left: a node whose document
# never ends still has its healthcheck pages and build read.
METADATA_SHARE = 0.5
_STRINGS = re.compile(rb'"(?:[^"\\]|\\.)*"')
_BRACKETS = re.compile(rb"[\[\]{}]")


class Asked:
    """What to ask every node."""

    __slots__ = ("auth", "auth_host", "build", "health")

    def __init__(
        self, auth: bool, health: tuple[str, ...], build: bool, auth_host: str | None = None
    ) -> None:
        self.auth = auth  # --auth-certificate
        self.auth_host = auth_host  # the metadata's namespace (None: the host probed)
        self.health = health  # --health: the virtual directories
        self.build = build  # --build


class _Node:
    """One node's connection, opened again when the node closed it."""

    def __init__(self, address: str, port: int, deadline: Deadline, ctx: ssl.SSLContext):
        self.address, self.port, self.deadline, self.ctx = address, port, deadline, ctx
        self.conn: Connection | None = None
        self.sni = ""

    def get(self, path: str, host: str, share: float = 1.0) -> Response:
        """One GET over the node's connection, within ``share`` of what is left of the
        deadline."""
        deadline = self.deadline
        if share < 1.0:
            deadline = Deadline(self.deadline.remaining() * share, reserve=0)
            deadline.at = min(deadline.at, self.deadline.at)
        if self.conn is None or self.conn.closed or self.sni != host:
            self.close()
            self.conn = Connection(self.address, self.port, deadline, self.ctx, host)
            self.sni = host
        self.conn.deadline = deadline
        try:
            return self.conn.request("GET", path, host, [("User-Agent", USER_AGENT)])
        finally:
            self.conn.deadline = self.deadline

    def close(self) -> None:
        if self.conn is not None and not self.conn.closed:
            self.conn.close()


def probe(
    facts: FrontDoorFacts,
    port: int,
    host: str,
    asked: Asked,
    deadline: Deadline,
    ctx: ssl.SSLContext,
) -> FrontDoorFacts:
    """Fill ``facts`` as the answers come (what came before the deadline is kept)."""
    node = _Node(facts.address, port, deadline, ctx)
    try:
        if asked.auth:
            facts.auth = _metadata(node, asked.auth_host or host)
        if asked.health:
            facts.health = []
            for vdir in asked.health:
                facts.health.append(_health(node, host, vdir, facts))
        if asked.build:
            _build(node, host, facts)
    finally:
        node.close()
    return facts


def _metadata(node: _Node, host: str) -> AuthFacts:
    auth = AuthFacts(host)
    try:
        response = node.get(METADATA_PATH, host, METADATA_SHARE)
    except HttpError as exc:
        auth.failure, auth.detail = "http", exc.text
        return auth
    auth.status = f"{response.status} {response.reason}".strip()
    kind = (response.header("Content-Type") or "").lower()
    if response.status == 401:
        auth.failure = "unauthorized"
    elif response.status != 200:
        auth.failure = "status"
    elif "html" in kind or response.body.lstrip()[:1] == b"<":
        auth.failure = "login-page"
    else:
        read_metadata(response.body, auth)
    return auth


def read_metadata(body: bytes, auth: AuthFacts) -> None:
    """The signing certificates of a metadata document into ``auth``, or its failure kind.

    Strict: UTF-8 JSON (stdlib) nested at most :data:`MAX_DEPTH` deep (counted before parsing,
    so deep nesting never reaches the parser's recursion); an object whose ``keys`` is a list;
    only entries with ``usage`` ``signing`` and ``keyvalue.type`` ``x509Certificate`` count.
    The first entry whose base64 or certificate does not read is the failure."""
    import json

    depth = deepest = 0
    for bracket in _BRACKETS.findall(_STRINGS.sub(b"", body)):
        depth += 1 if bracket in b"[{" else -1
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            auth.failure, auth.detail = "too-deep", str(MAX_DEPTH)
            return
    try:
        document = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError, JSONDecodeError, digits
        auth.failure, auth.detail = "not-json", _why(exc)
        return
    keys = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(keys, list):
        auth.failure = "not-metadata"
        return
    for entry in keys[:MAX_KEYS]:
        value = _signing_value(entry)
        if value is None:
            auth.skipped += 1
            continue
        key = _read_key(value, auth)
        if key is None:
            auth.keys.clear()
            return
        auth.keys.append(key)
    if not auth.keys:
        auth.failure = "no-signing-key"


def _why(exc: BaseException) -> str:
    from json import JSONDecodeError

    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8"
    if isinstance(exc, RecursionError):
        return "nested too deep"
    if isinstance(exc, JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    if "digits" in str(exc):  # Python refuses to convert a number of thousands of digits
        return "a number of more than 4300 digits"
    return wire_text(str(exc), 80)


def _signing_value(entry: object) -> str | None:
    if not isinstance(entry, dict) or entry.get("usage") != "signing":
        return None
    keyvalue = entry.get("keyvalue")
    if not isinstance(keyvalue, dict) or keyvalue.get("type") != "x509Certificate":
        return None
    value = keyvalue.get("value")
    return value if isinstance(value, str) else ""


def _read_key(value: str, auth: AuthFacts) -> AuthKey | None:
    import base64
    import binascii

    try:
        der = base64.b64decode(value.encode("ascii"), validate=True)
        if not der:
            raise ValueError("empty")
    except (ValueError, binascii.Error, UnicodeEncodeError):
        auth.failure = "bad-base64"
        return None
    try:
        from cryptography import x509
        from cryptography.x509.oid import NameOID

        cert = x509.load_der_x509_certificate(der)
        cns = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        subject = str(cns[0].value) if cns else cert.subject.rfc4514_string()
        not_before = cert.not_valid_before_utc.timestamp()
        not_after = cert.not_valid_after_utc.timestamp()
    except ImportError:
        raise
    except ValueError:  # what cryptography says of DER it cannot read
        auth.failure, auth.detail = "bad-certificate", "not a DER X.509 certificate"
        return None
    except Exception as exc:  # anything else cryptography refuses: one finding all the same
        auth.failure, auth.detail = "bad-certificate", wire_text(str(exc), 80)
        return None
    from ..facts.certificate import sha1

    return AuthKey(sha1(der).hexdigest().upper(), not_before, not_after, wire_text(subject, 120))


def _health(node: _Node, host: str, vdir: str, facts: FrontDoorFacts) -> Health:
    try:
        response = node.get(f"/{vdir}/healthcheck.htm", host)
    except HttpError as exc:
        return Health(vdir, error=exc.text)
    if response.status == 200 and not facts.server:
        # "200 OK<br/>EX01.contoso.com"
        text = response.body[:512].decode("latin-1")
        if "<br" in text.lower():
            facts.server = wire_text(text.rsplit(">", 1)[-1].strip().replace(" ", ""), 100)
    return Health(vdir, response.status, f"{response.status} {response.reason}".strip())


def _build(node: _Node, host: str, facts: FrontDoorFacts) -> None:
    try:
        response = node.get(OWA_PATH, host)
    except HttpError as exc:
        facts.build_error = exc.text
        return
    facts.build_status = f"{response.status} {response.reason}".strip()
    facts.build = wire_text(response.header("X-OWA-Version") or "", 40)


def probe_all(
    addresses: tuple[str, ...], port: int, host: str, asked: Asked, deadline: Deadline
) -> list[FrontDoorFacts]:
    """Every node concurrently; what a node had not answered by the deadline is said so."""
    ctx = client_context(verify=False)
    started = [FrontDoorFacts(address) for address in addresses]
    outcomes = fan_out(
        started, lambda facts: probe(facts, port, host, asked, deadline, ctx), deadline
    )
    found = []
    for facts, (finished, outcome) in zip(started, outcomes, strict=True):
        if isinstance(outcome, FrontDoorFacts):
            found.append(outcome)
            continue
        if isinstance(outcome, ImportError):
            raise outcome  # a broken installation: said as such by the entry point
        found.append(unanswered(facts, asked, unanswered_why(finished, outcome)))
    return found


def unanswered(partial: FrontDoorFacts, asked: Asked, why: str) -> FrontDoorFacts:
    """What a node answered before the deadline (a copy: its thread may still be reading), the
    rest marked ``why``."""
    facts = FrontDoorFacts(partial.address)
    facts.server = partial.server
    if asked.auth:
        facts.auth = partial.auth
        if facts.auth is None:
            facts.auth = AuthFacts(asked.auth_host or "")
            facts.auth.failure, facts.auth.detail = "http", why
    if asked.health:
        done = list(partial.health or [])
        facts.health = done + [Health(vdir, error=why) for vdir in asked.health[len(done) :]]
    if asked.build:
        facts.build, facts.build_status = partial.build, partial.build_status
        facts.build_error = partial.build_error or ("" if partial.build is not None else why)
    return facts
