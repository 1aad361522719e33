"""HTTP authentication as Outlook does it: Basic, NTLM and Negotiate (through ``pyspnego``, an
optional dependency), NTLM and Negotiate always with a ``tls-server-end-point`` channel binding
computed from the certificate the server presented (what Extended Protection checks).

No I/O here: a :class:`Handshake` turns 401 challenges into ``Authorization`` header values; the
caller sends them on one connection.
"""

from __future__ import annotations

import base64
import hashlib


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


def challenge_schemes(values: list[str]) -> list[str]:
    """The scheme names of WWW-Authenticate or Proxy-Authenticate header values, in order, each
    once: one header may list several challenges ("Negotiate, NTLM", comma-separated tokens that
    are not auth-params)."""
    from . import wire_text

    found: list[str] = []
    for value in values:
        for item in value.split(","):
            token = item.strip().split(" ", 1)[0]
            if token and "=" not in token and token not in found:
                found.append(wire_text(token, 40))
    return found


def has_spnego() -> bool:
    try:
        import spnego  # noqa: F401
    except ImportError:
        return False
    return True


def channel_binding(peer_der: bytes | None) -> bytes | None:
    """RFC 5929 ``tls-server-end-point`` application data for the certificate (SHA-256)."""
    if not peer_der:
        return None
    return b"tls-server-end-point:" + hashlib.sha256(peer_der).digest()


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
                self.password,
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
        import spnego.exceptions

        prefix = self.scheme.lower() + " "
        challenge = next(
            (v.split(" ", 1)[1].strip() for v in challenges if v.lower().startswith(prefix)), ""
        )
        if not challenge or self._client is None:
            return None
        try:
            step = self._client.step  # type: ignore[attr-defined]
            token = step(base64.b64decode(challenge, validate=True))
        except (ValueError, spnego.exceptions.SpnegoError):
            raise AuthError("bad-challenge", f"invalid {self.scheme} challenge") from None
        return f"{self.scheme} {base64.b64encode(token or b'').decode()}"
