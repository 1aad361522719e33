"""The TLS probe: TCP connect and a TLS handshake with SNI, nothing else sent.

One probe per address, all concurrent, all bounded by the one deadline.  Everything learned is
returned as a :class:`NodeFacts`, including how it failed ("connection refused after 1 ms");
the probe never decides a state.

The handshake runs over memory BIOs: the probe does its own socket reads, so it can bound the
whole handshake (a server dripping one byte a second cannot stretch it), show the first bytes of
a server that does not speak TLS, and keep the certificate chain the server sent even when
OpenSSL rejected it (it stays on the connection object after a failed verification).

Chain validation is OpenSSL's, with host name checking off (the principal rules are this
plugin's own) and time checks off (dates are judged per certificate, so an expired certificate
says "expired", not "untrusted").  OpenSSL's security level stays at the distribution's default:
a SHA-1 signature or a short key fails verification there, and only then is a second handshake
at security level 0 made to tell "weak" from "untrusted".
"""

from __future__ import annotations

import contextlib
import os
import re
import socket
import ssl
import threading
import time

from .certificate import CertFacts, Unreadable, describe_strength, from_info
from .deadline import Deadline

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

# X509_V_FLAG_NO_CHECK_TIME: validity dates are judged by the plugin, per certificate.
_NO_CHECK_TIME = 0x200000
# OpenSSL verify codes for "too weak for the security level".
_WEAK_CODES = {66: "key too short", 67: "CA key too short", 68: "signature hash too weak"}
_READ_SIZE = 16384
# The longest certificate chain read from a server.
MAX_CHAIN = 20


class NodeFacts:
    """All one address told us.

    Plain classes here and in the other modules of the default path: importing ``dataclasses``
    (and ``inspect`` with it) would cost more start-up time than a whole handshake."""

    def __init__(self, address: str, port: int, phase: str = "connect") -> None:
        self.address = address
        self.port = port
        self.phase = phase  # how far the probe got: connect, handshake, done
        self.connect_time: float | None = None
        self.handshake_time: float | None = None
        self.tls_version = ""
        self.cipher = ""
        # How the probe failed before a certificate could be judged, as a kind: refused, reset,
        # timeout, closed, not-tls, tls-alert, tls-failed, network, unparsable, internal; ""
        # when a certificate was seen.  ``detail`` is its evidence (OpenSSL's reason in words,
        # the first bytes of a server that is not TLS, the system's error text).
        self.failure = ""
        self.detail = ""
        self.leaf: CertFacts | None = None
        # the verified chain (leaf first) or, if unverified, the chain as served
        self.chain: tuple[CertFacts, ...] = ()
        self.served_count = 0  # certificates the server itself sent
        self.trust = "unchecked"  # verified | untrusted | unchecked
        self.trust_code = 0  # OpenSSL's verify code when untrusted
        self.trust_message = ""  # OpenSSL's verify message
        # (position in the chain, key, signature hash), read only when OpenSSL called the
        # chain too weak for its security level; the judgement decides what is weak
        self.strengths: tuple[tuple[int, str, str], ...] = ()
        self.only_protocol = ""  # the old TLS version the server spoke when it refused ours

    def __repr__(self) -> str:
        return f"NodeFacts({self.__dict__!r})"

    @property
    def total_time(self) -> float | None:
        if self.connect_time is None:
            return None
        return self.connect_time + (self.handshake_time or 0.0)


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
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        if legacy:
            # Old protocols and weak signatures, only to tell the admin what the server has.
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
        if not self.verify:
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.verify_flags |= _NO_CHECK_TIME
        if self.ca_file:
            ctx.load_verify_locations(cafile=self.ca_file)
        else:
            paths = ssl.get_default_verify_paths()
            # A hashed directory (Debian's /etc/ssl/certs) is read lazily, one file per issuer
            # looked up; the bundle file would be parsed whole on every run.  Where the
            # directory has no hash links (RHEL's /etc/pki/tls/certs), only the bundle works.
            if (
                paths.capath
                and not os.environ.get(paths.openssl_cafile_env)
                and _is_hashed_dir(paths.capath)
            ):
                ctx.load_verify_locations(capath=paths.capath)
            else:
                ctx.set_default_verify_paths()
        return ctx


def _is_hashed_dir(path: str) -> bool:
    """True when ``path`` holds OpenSSL's subject-hash links (``c_rehash``): ``3513523f.0``."""
    hash_name = re.compile(r"[0-9a-f]{8}\.\d+")  # compiled here: only this path needs it
    try:
        with os.scandir(path) as entries:
            return any(hash_name.fullmatch(entry.name) for entry in entries)
    except OSError:
        return False


class _Handshake:
    """One handshake over memory BIOs on a connected socket."""

    def __init__(self, sock: socket.socket, ctx: ssl.SSLContext, sni: str | None) -> None:
        self.sock = sock
        self.incoming = ssl.MemoryBIO()
        self.outgoing = ssl.MemoryBIO()
        # An ASCII name goes as bytes: a str would load the idna codec, for nothing.
        name = sni.encode("ascii") if sni is not None and sni.isascii() else sni
        self.obj = ctx.wrap_bio(self.incoming, self.outgoing, server_hostname=name)
        self.first_bytes = b""

    def run(self, deadline: Deadline) -> None:
        """Complete the handshake or raise (ssl.SSLError, OSError, TimeoutError)."""
        while True:
            try:
                self.obj.do_handshake()
                self._flush(deadline)
                return
            except ssl.SSLWantReadError:
                self._flush(deadline)
                self._read(deadline)
            except ssl.SSLError:
                with contextlib.suppress(OSError):  # let the server see our alert, if it is there
                    self._flush(deadline)
                raise

    def _flush(self, deadline: Deadline) -> None:
        data = self.outgoing.read()
        if data:
            self.sock.settimeout(max(deadline.remaining(), 0.001))
            self.sock.sendall(data)

    def _read(self, deadline: Deadline) -> None:
        remaining = deadline.remaining()
        if remaining <= 0:
            raise TimeoutError()
        self.sock.settimeout(remaining)
        chunk = self.sock.recv(_READ_SIZE)
        if len(self.first_bytes) < 64:
            self.first_bytes += chunk[: 64 - len(self.first_bytes)]
        if chunk:
            self.incoming.write(chunk)
        else:
            self.incoming.write_eof()

    def chain(self, verified: bool) -> list[Any]:
        sslobj = self.obj._sslobj  # type: ignore[attr-defined]
        getter = sslobj.get_verified_chain if verified else sslobj.get_unverified_chain
        return list(getter() or [])[:MAX_CHAIN]


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


def _facts_of(chain: list[Any]) -> tuple[CertFacts, ...]:
    facts = []
    for cert in chain:
        der = cert.public_bytes(ssl._ssl.ENCODING_DER)  # type: ignore[attr-defined]
        facts.append(from_info(_info(cert), der))
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
    if isinstance(exc, ConnectionRefusedError):
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
    else:
        _fail(facts, "internal", exc.__class__.__name__)


_PROTOCOL_REASONS = ("UNSUPPORTED_PROTOCOL", "NO_PROTOCOLS_AVAILABLE", "ALERT_PROTOCOL_VERSION")
# OpenSSL could not decode the certificate message ("[SSL] ASN1 lib" on OpenSSL 3).
_PARSE_REASONS = ("ASN1", "X509_LIB", "CERTIFICATE_PARSE")


def _connect(facts: NodeFacts, deadline: Deadline) -> socket.socket:
    family = socket.AF_INET6 if ":" in facts.address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.settimeout(max(deadline.remaining(), 0.001))
        started = time.monotonic()
        sock.connect((facts.address, facts.port))
        facts.connect_time = time.monotonic() - started
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock
    except BaseException:
        sock.close()
        raise


def _handshake_once(
    facts: NodeFacts, store: TrustStore, sni: str | None, deadline: Deadline, legacy: bool
) -> _Handshake:
    sock = _connect(facts, deadline)
    facts.phase = "handshake"
    hs = _Handshake(sock, store.context(legacy), sni)
    started = time.monotonic()
    try:
        hs.run(deadline)
    except BaseException as exc:
        exc.handshake = hs  # type: ignore[attr-defined]  # the chain and first bytes stay readable
        raise
    finally:
        facts.handshake_time = time.monotonic() - started
        sock.close()
    return hs


def _record_success(facts: NodeFacts, hs: _Handshake, verified: bool) -> None:
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
            raise
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
        facts.tls_version = ""
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
    threads = []
    for facts in nodes:
        worker = threading.Thread(
            target=_guarded_probe, args=(facts, sni, store, deadline), daemon=True
        )
        worker.start()
        threads.append(worker)
    for worker in threads:
        worker.join(deadline.remaining())
    for facts, worker in zip(nodes, threads, strict=True):
        if worker.is_alive():
            snapshot = NodeFacts(facts.address, facts.port, phase=facts.phase)
            snapshot.connect_time = facts.connect_time
            _fail(snapshot, "timeout")
            nodes[nodes.index(facts)] = snapshot
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
        _fail(facts, "broken", exc.name or str(exc))
    except BaseException as exc:  # a bug: report it on the node instead of on stderr
        _fail(facts, "internal", f"{exc.__class__.__name__}: {exc}")
