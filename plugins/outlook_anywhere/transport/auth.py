"""HTTP authentication as Outlook does it: Basic, NTLM and Negotiate (through ``pyspnego``, an
optional dependency), NTLM and Negotiate always with a ``tls-server-end-point`` channel binding
computed from the certificate the server presented (what Extended Protection checks).

No I/O here: a :class:`Handshake` turns 401 challenges into ``Authorization`` header values; the
caller sends them on one connection.
"""

from __future__ import annotations

import base64
import threading


class AuthError(Exception):
    """The exchange cannot go on; ``kind``: ntlm-missing, ntlm-start, bad-challenge."""

    def __init__(self, kind: str, text: str) -> None:
        super().__init__(text)
        self.kind = kind


def choose(offered: list[str], spnego_available: bool | None = None) -> str | None:
    """The scheme to answer a 401 with: NTLM, then Negotiate (the password never leaves the
    poller), then Basic; None when nothing offered is spoken here.  Raises
    :class:`AuthError` (ntlm-missing) when only NTLM/Negotiate is offered without pyspnego."""
    schemes = {s.lower() for s in offered}
    for name in ("NTLM", "Negotiate"):
        if name.lower() in schemes:
            if spnego_available is None:  # only now: importing pyspnego costs a Basic logon 90 ms
                spnego_available = has_spnego()
            if spnego_available:
                return name
            if "basic" not in schemes:
                raise AuthError("ntlm-missing", "pyspnego is not installed")
    return "Basic" if "basic" in schemes else None


def challenges(values: list[str]) -> list[tuple[str, str]]:
    """The challenges of WWW-Authenticate or Proxy-Authenticate header values, in order, as
    (scheme, the rest: a token68 or the auth-params as sent), per RFC 7235 4.1: one header may
    list several challenges, separated by commas that are not inside a quoted string and not
    between the auth-params of one challenge."""
    found: list[tuple[str, str]] = []
    for value in values:
        for item in _split_commas(value):
            item = item.strip()
            if not item:
                continue
            token, _, rest = item.partition(" ")
            if "=" in token or '"' in token:  # an auth-param of the challenge before
                if found:
                    scheme, before = found[-1]
                    found[-1] = (scheme, f"{before}, {item}" if before else item)
                continue
            found.append((token, rest.strip()))
    return found


def _split_commas(value: str) -> list[str]:
    """``value`` split at the commas outside quoted strings (a backslash escapes inside)."""
    items, start, quoted, escaped = [], 0, False, False
    for at, ch in enumerate(value):
        if escaped:
            escaped = False
        elif quoted and ch == "\\":
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "," and not quoted:
            items.append(value[start:at])
            start = at + 1
    items.append(value[start:])
    return items


def challenge_schemes(values: list[str]) -> list[str]:
    """The scheme names of WWW-Authenticate or Proxy-Authenticate header values, in order, each
    once (see :func:`challenges`)."""
    from . import wire_text

    found: list[str] = []
    for scheme, _ in challenges(values):
        name = wire_text(scheme, 40)
        if name not in found:
            found.append(name)
    return found


_hashes: dict[str, str] = {}
_hashes_lock = threading.Lock()


def ntlm_hashes(password: str) -> str:
    """The password as pyspnego's ``LM:NT`` hash form, the hashes derived once per check: pyspnego
    derives both from a password for every context (MD4 and DES in pure Python), and a logon
    opens a context per connection, seven per node over RPC.  The LM hash is all zeros: only
    NTLMv1 would use it, and pyspnego speaks NTLMv2.  The form is pyspnego's own; a pyspnego
    without it gets the password."""
    with _hashes_lock:
        if password not in _hashes:
            try:
                from spnego._ntlm_raw.crypto import ntowfv1
            except ImportError:  # pragma: no cover - another pyspnego
                _hashes[password] = password
            else:
                _hashes[password] = "0" * 32 + ":" + ntowfv1(password).hex()
        return _hashes[password]


def has_spnego() -> bool:
    from .optional import importable

    return importable("spnego")


def channel_binding(peer_der: bytes | None) -> bytes | None:
    """RFC 5929 ``tls-server-end-point`` application data for the certificate: every
    authenticated request (Autodiscover, the logons, MAPI) binds with this, so that all of them
    match what the server computes for its own certificate."""
    if not peer_der:
        return None
    return b"tls-server-end-point:" + end_point_hash(peer_der)


# The signature algorithms' hashes by the DER of their OID (RFC 5929 4.1); MD5, SHA-1, EdDSA
# and whatever is not listed here are hashed with SHA-256
_RSA = "2a864886f70d0101"  # 1.2.840.113549.1.1
_ECDSA = "2a8648ce3d0403"  # 1.2.840.10045.4.3
_NIST = "608648016503040"  # 2.16.840.1.101.3.4: .2.x hash algorithms, .3.x DSA with them
_SIGNATURE_HASHES = {
    bytes.fromhex(oid): name
    for oid, name in (
        (_RSA + "0e", "sha224"), (_RSA + "0b", "sha256"), (_RSA + "0c", "sha384"),
        (_RSA + "0d", "sha512"), (_ECDSA + "01", "sha224"), (_ECDSA + "02", "sha256"),
        (_ECDSA + "03", "sha384"), (_ECDSA + "04", "sha512"), (_NIST + "301", "sha224"),
        (_NIST + "302", "sha256"), (_NIST + "303", "sha384"), (_NIST + "304", "sha512"),
        (_NIST + "201", "sha256"), (_NIST + "202", "sha384"), (_NIST + "203", "sha512"),
        (_NIST + "204", "sha224"),
    )
}  # fmt: skip
_RSASSA_PSS = bytes.fromhex(_RSA + "0a")


def end_point_hash(der: bytes) -> bytes:
    """The certificate hashed per RFC 5929 4.1: with the hash function of its signature
    algorithm (SHA-384 for a SHA-384-signed certificate, SHA-512 likewise; RSASSA-PSS: its
    hashAlgorithm), SHA-256 where that is MD5 or SHA-1, where the algorithm has no single hash
    (EdDSA), or where the DER cannot be read: the most a client can do.  Read from the DER
    here: importing ``cryptography`` would cost more than the whole logon."""
    try:
        name = _signature_hash(der)
    except (IndexError, ValueError):
        name = "sha256"
    import hashlib  # here: its OpenSSL backend costs a Basic logon, which binds nothing

    return hashlib.new(name, der).digest()


def _signature_hash(der: bytes) -> str:
    """Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, signatureValue }."""
    certificate, _ = _tlv(der, 0, 0x30)
    _, at = _tlv(der, certificate, 0x30)  # tbsCertificate, skipped
    algorithm, _ = _tlv(der, at, 0x30)
    oid, after = _tlv(der, algorithm, 0x06)
    found = der[oid:after]
    if found == _RSASSA_PSS:  # RSASSA-PSS-params: [0] hashAlgorithm, SHA-1 by default
        params, _ = _tlv(der, after, 0x30)
        if der[params] != 0xA0:
            return "sha256"
        inner, _ = _tlv(der, params, 0xA0)
        hash_id, _ = _tlv(der, inner, 0x30)
        oid, end = _tlv(der, hash_id, 0x06)
        found = der[oid:end]
    return _SIGNATURE_HASHES.get(found, "sha256")


def _tlv(der: bytes, at: int, tag: int) -> tuple[int, int]:
    """Where the content of the DER element at ``at`` (of type ``tag``) starts and where the
    element ends; ValueError for another type or a length past the data."""
    if der[at] != tag:
        raise ValueError("unexpected DER type")
    length, at = der[at + 1], at + 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4:
            raise ValueError("DER length")
        length, at = int.from_bytes(der[at : at + count], "big"), at + count
    if at + length > len(der):
        raise ValueError("DER length past the data")
    return at, at + length


parse_challenges = challenges  # Handshake.next has a parameter of that name


class Handshake:
    """One authentication on one connection: :meth:`first` then, for NTLM/Negotiate, :meth:`next`
    with the server's challenge."""

    def __init__(
        self,
        scheme: str,
        username: str,
        password: str,
        host: str,
        binding: bytes | None = None,
    ) -> None:
        self.scheme = scheme
        self.username = username
        self.password = password
        self.host = host
        self.binding = binding
        self._client: object = None

    def first(self) -> str:
        if self.scheme == "Basic":
            basic = base64.b64encode(f"{self.username}:{self.password}".encode()).decode()
            return f"Basic {basic}"
        import spnego
        import spnego.exceptions

        bindings = None
        if self.binding is not None:
            from spnego.channel_bindings import GssChannelBindings

            bindings = GssChannelBindings(application_data=self.binding)
        try:
            client = spnego.client(
                self.username,
                ntlm_hashes(self.password),
                hostname=self.host,
                service="HTTP",
                channel_bindings=bindings,
                protocol="ntlm",
            )
            token = client.step()
        except spnego.exceptions.SpnegoError as exc:
            raise AuthError(
                "ntlm-start", f"NTLM could not start ({exc.__class__.__name__})"
            ) from None
        self._client = client
        return f"{self.scheme} {base64.b64encode(token or b'').decode()}"

    def next(self, challenges: list[str]) -> str | None:
        """The answer to the server's challenge; None when it sent none for this scheme."""
        import struct

        import spnego.exceptions

        wanted = self.scheme.lower()
        challenge = next(
            (rest for scheme, rest in parse_challenges(challenges) if scheme.lower() == wanted), ""
        )
        if not challenge or self._client is None:
            return None
        try:
            step = self._client.step  # type: ignore[attr-defined]
            token = step(base64.b64decode(challenge, validate=True))
        # pyspnego reads a token that is no CHALLENGE_MESSAGE with struct and a registry of
        # message types: too short, it raises struct.error; another type, KeyError
        except (ValueError, LookupError, struct.error, spnego.exceptions.SpnegoError):
            raise AuthError("bad-challenge", f"invalid {self.scheme} challenge") from None
        return f"{self.scheme} {base64.b64encode(token or b'').decode()}"
