"""The TLS probe: TCP connect and a TLS handshake with SNI, nothing else sent.

One probe per address, all concurrent, all bounded by the one deadline.  Everything learned is
returned as a :class:`NodeFacts`, including how it failed ("connection refused after 1 ms");
the probe never decides a state.

The handshake runs over ``transport.TlsChannel`` (memory BIOs, every read bounded by the
deadline), which keeps the certificate chain the server sent even when OpenSSL rejected it.

Chain validation is OpenSSL's, with host name checking off (the principal rules are this
plugin's own) and time checks off (dates are judged per certificate, so an expired certificate
says "expired", not "untrusted").  OpenSSL's security level stays at the distribution's default:
a SHA-1 signature or a short key fails verification there, and only then is a second handshake
at security level 0 made to tell "weak" from "untrusted".
"""

from __future__ import annotations

import re
import socket
import ssl
import time

from ..facts import NodeFacts
from ..facts.certificate import CertFacts, Unreadable, describe_strength, from_info
from ..transport import (
    TRACE,
    Deadline,
    ProxyError,
    TlsChannel,
    client_context,
    connect,
    fan_out,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

# OpenSSL verify codes for "too weak for the security level".
_WEAK_CODES = {66: "key too short", 67: "CA key too short", 68: "signature hash too weak"}


class TrustStore:
    def __init__(self, ca_file: str | None = None, verify: bool = True) -> None:
        self.ca_file = ca_file
        self.verify = verify
        self.contexts: dict[str, ssl.SSLContext] = {}

    def context(self, legacy: bool = False) -> ssl.SSLContext:
        """One context per kind for all nodes (loading trust anchors is the costly part)."""
        key = "legacy" if legacy else "default"
        if key not in self.contexts:
            self.contexts[key] = self._make(legacy)
        return self.contexts[key]

    def _make(self, legacy: bool) -> ssl.SSLContext:
        return client_context(verify=self.verify, ca_file=self.ca_file, legacy=legacy)


def _is_tls_record(data: bytes) -> bool:
    return not data or data[0] in (0x14, 0x15, 0x16, 0x17, 0x18)


def _words(exc: ssl.SSLError) -> str:
    """OpenSSL's reason code in words: TLSV1_ALERT_UNRECOGNIZED_NAME -> TLS alert unrecognized
    name."""
    reason = str(getattr(exc, "reason", "") or "")
    alert = re.match(r"(?:SSLV3|TLSV1|TLSV13)_(?:ALERT_)?(.+)", reason)
    if alert:  # the server said no: TLSV1_ALERT_PROTOCOL_VERSION, TLSV1_UNRECOGNIZED_NAME
        return "server sent TLS alert: " + alert.group(1).replace("_", " ").lower()
    if reason:
        return reason.replace("_", " ").lower()
    text = str(exc.args[-1] if exc.args else exc)
    return re.sub(r"^\[\w+\] | \(_ssl\.c:\d+\)$", "", text)


def _info(cert: Any) -> dict[str, Any]:
    """OpenSSL's decoding of one certificate of the chain."""
    try:
        return cert.get_info()
    except ValueError:  # UnicodeDecodeError: a name in it is not valid UTF-8 (a DNS name of 0x80)
        raise Unreadable("a name in it is not valid text") from None


# Certificates already read in this check, by their DER: the nodes of an array send the same
# issuing CAs (and mostly the same leaf), each read once.
_READ: dict[bytes, CertFacts] = {}


def _facts_of(chain: list[Any]) -> tuple[CertFacts, ...]:
    facts = []
    for cert in chain:
        der = cert.public_bytes(ssl._ssl.ENCODING_DER)  # type: ignore[attr-defined]
        known = _READ.get(der)
        if known is None:
            if len(_READ) > 256:  # a caller checking many arrays in one process
                _READ.clear()
            known = _READ[der] = from_info(_info(cert), der)
        facts.append(known)
    return tuple(facts)


def _untrusted(facts: NodeFacts, code: int, message: str) -> None:
    facts.trust = "untrusted"
    facts.trust_code = code
    facts.trust_message = message or ""


def _fail(facts: NodeFacts, kind: str, detail: str = "") -> None:
    facts.failure = kind
    facts.detail = detail


def _classify(exc: BaseException, facts: NodeFacts, first_bytes: bytes) -> None:
    """The failure's kind and evidence; ``facts.phase`` says when it happened."""
    if isinstance(exc, ProxyError):  # --proxy: the proxy's answer to CONNECT, as its kind
        _fail(facts, exc.kind, exc.status or exc.detail)
    elif isinstance(exc, ConnectionRefusedError):
        _fail(facts, "refused")
    elif isinstance(exc, ConnectionResetError):
        _fail(facts, "reset")
    elif isinstance(exc, (TimeoutError, socket.timeout)):
        _fail(facts, "timeout")
    elif isinstance(exc, ssl.SSLError):
        if not _is_tls_record(first_bytes):
            _fail(facts, "not-tls", first_bytes.split(b"\n", 1)[0][:40].decode("latin-1"))
        elif isinstance(exc, (ssl.SSLEOFError, ssl.SSLZeroReturnError)):
            _fail(facts, "closed")
        else:
            words = _words(exc)
            alert = words.startswith("server sent TLS alert: ")
            _fail(facts, "tls-alert" if alert else "tls-failed", words.split(": ", 1)[-1])
    elif isinstance(exc, OSError):
        _fail(facts, "network", exc.strerror or exc.__class__.__name__)
    else:  # pragma: no cover - every caller passes an OSError or an ssl.SSLError
        _fail(facts, "internal", exc.__class__.__name__)


_PROTOCOL_REASONS = ("UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE", "ALERT_PROTOCOL_VERSION")
# OpenSSL could not decode the certificate message ("[SSL] ASN1 lib" on OpenSSL 3).
_PARSE_REASONS = ("ASN1", "X509_LIB", "CERTIFICATE_PARSE")


def _handshake_once(
    facts: NodeFacts, store: TrustStore, sni: str | None, deadline: Deadline, legacy: bool
) -> TlsChannel:
    started = time.monotonic()
    sock = connect(facts.address, facts.port, deadline)
    facts.connect_time = time.monotonic() - started
    facts.phase = "handshake"
    hs = TlsChannel(sock, store.context(legacy), sni)
    started = time.monotonic()
    try:
        hs.handshake(deadline)
        TRACE(facts.address, f"TLS handshake done: {hs.obj.version()}{' (legacy)' * legacy}")
    except BaseException as exc:
        exc.handshake = hs  # type: ignore[attr-defined]  # the chain and first bytes stay readable
        TRACE(facts.address, f"TLS handshake failed: {exc.__class__.__name__}")
        raise
    finally:
        facts.handshake_time = time.monotonic() - started
        sock.close()
    return hs


def _record_success(facts: NodeFacts, hs: TlsChannel, verified: bool) -> None:
    facts.tls_version = hs.obj.version() or ""
    facts.cipher = (hs.obj.cipher() or ("",))[0]
    facts.chain = _facts_of(hs.chain(verified))
    facts.leaf = facts.chain[0] if facts.chain else None
    facts.trust = "verified" if verified else "unchecked"
    facts.phase = "done"


def _probe_into(facts: NodeFacts, sni: str | None, store: TrustStore, deadline: Deadline) -> None:
    """Connect, handshake, read the chain; never raises for anything the network does."""
    try:
        hs = _handshake_once(facts, store, sni, deadline, legacy=False)
        _record_success(facts, hs, verified=store.verify)
    except ssl.SSLCertVerificationError as exc:
        _after_verify_failure(facts, exc, store, sni, deadline)
    except ssl.SSLError as exc:
        reason = str(getattr(exc, "reason", "") or "") + " " + str(exc)
        if any(r in reason for r in _PROTOCOL_REASONS):
            _legacy_protocol(facts, exc, store, sni, deadline)
        elif any(r in reason for r in _PARSE_REASONS):
            _fail(facts, "unparsable", f"OpenSSL: {_words(exc)}")
            facts.phase = "done"
        else:
            _classify(exc, facts, _first_bytes(exc))
    except Exception as exc:  # network failures are facts; a bug still reaches the Resource
        if not isinstance(exc, OSError):
            raise  # pragma: no cover - only a bug gets here (_guarded_probe reports it)
        _classify(exc, facts, _first_bytes(exc))


def _first_bytes(exc: BaseException) -> bytes:
    hs = getattr(exc, "handshake", None)
    return hs.first_bytes if hs is not None else b""


def _after_verify_failure(
    facts: NodeFacts,
    exc: ssl.SSLCertVerificationError,
    store: TrustStore,
    sni: str | None,
    deadline: Deadline,
) -> None:
    hs = exc.handshake  # type: ignore[attr-defined]
    served = _facts_of(hs.chain(verified=False))
    facts.chain = served
    facts.served_count = len(served)
    facts.leaf = served[0] if served else None
    facts.cipher = (hs.obj.cipher() or ("",))[0]
    facts.phase = "done"
    code = exc.verify_code
    if code not in _WEAK_CODES:
        _untrusted(facts, code, exc.verify_message)
        return
    facts.strengths = _strengths(hs.chain(verified=False))
    # Weak but perhaps otherwise sound: verify again at security level 0.
    try:
        again = _handshake_once(NodeFacts(facts.address, facts.port), store, sni, deadline, True)
        _record_success(facts, again, verified=True)
    except ssl.SSLCertVerificationError as exc2:
        _untrusted(facts, exc2.verify_code, exc2.verify_message)
    except (OSError, ssl.SSLError):
        _untrusted(facts, code, _WEAK_CODES[code])


def _strengths(chain: list[Any]) -> tuple[tuple[int, str, str], ...]:
    """Key and signature hash of every certificate served (``cryptography``: this path only)."""
    found = []
    for position, cert in enumerate(chain):
        der = cert.public_bytes(ssl._ssl.ENCODING_DER)  # type: ignore[attr-defined]
        key, digest = describe_strength(der)
        found.append((position, key, digest))
    return tuple(found)


def _legacy_protocol(
    facts: NodeFacts, exc: ssl.SSLError, store: TrustStore, sni: str | None, deadline: Deadline
) -> None:
    """The server refused every protocol we offer by default: find out what it speaks."""
    retry = NodeFacts(facts.address, facts.port)
    _probe_legacy(retry, store, sni, deadline)
    if retry.leaf is None:
        _classify(exc, facts, b"")
        return
    retry.only_protocol = retry.tls_version or "an old TLS version"
    facts.__dict__.update(retry.__dict__)


def _probe_legacy(facts: NodeFacts, store: TrustStore, sni: str | None, deadline: Deadline) -> None:
    try:
        hs = _handshake_once(facts, store, sni, deadline, legacy=True)
        _record_success(facts, hs, verified=store.verify)
    except ssl.SSLCertVerificationError as exc:
        hs = exc.handshake  # type: ignore[attr-defined]
        facts.chain = _facts_of(hs.chain(verified=False))
        facts.served_count = len(facts.chain)
        facts.leaf = facts.chain[0] if facts.chain else None
        facts.tls_version = hs.obj.version() or ""
        _untrusted(facts, exc.verify_code, exc.verify_message)
    except (OSError, ssl.SSLError) as exc:
        _classify(exc, facts, _first_bytes(exc))


def probe_all(
    addresses: tuple[str, ...], port: int, sni: str | None, store: TrustStore, deadline: Deadline
) -> list[NodeFacts]:
    """Probe every address concurrently; whatever has not finished at the deadline is reported
    as timed out in the phase it was in."""
    nodes = [NodeFacts(address, port) for address in addresses]
    store.context()  # build the shared context once, before the threads
    outcomes = fan_out(nodes, lambda facts: _guarded_probe(facts, sni, store, deadline), deadline)
    for index, (finished, _) in enumerate(outcomes):
        if not finished:
            facts = nodes[index]
            snapshot = NodeFacts(facts.address, facts.port, phase=facts.phase)
            snapshot.connect_time = facts.connect_time
            _fail(snapshot, "timeout")
            nodes[index] = snapshot
    return nodes


def _guarded_probe(
    facts: NodeFacts, sni: str | None, store: TrustStore, deadline: Deadline
) -> None:
    try:
        _probe_into(facts, sni, store, deadline)
    except Unreadable as exc:  # the server's certificate, not a bug
        _fail(facts, "unparsable", str(exc))
        facts.phase = "done"
    except ImportError as exc:  # cryptography, loaded to explain a weak chain, is broken
        # the module that failed; a package that raises ImportError itself names none: the
        # one import of this path is cryptography's (describe_strength)
        _fail(facts, "broken", exc.name or "cryptography")
    except BaseException as exc:  # pragma: no cover - a bug: reported on the node, not on stderr
        _fail(facts, "internal", f"{exc.__class__.__name__}: {exc}")
