"""Kerberos for the lab's front ends: one node's acceptor, over python-gssapi and MIT Kerberos.

A node accepts ``Authorization: Negotiate <token>`` with its own keytab (one of
:class:`contrib.lab.identities.kdc.Kdc`'s: the current key, another key, the previous key version),
the way an Exchange node holds the Alternate Service Account's key.  The keytab and the replay cache
are given through GSSAPI's credential store, not the process environment, so that nodes with
different keys serve from one process; python-gssapi is imported when a node first accepts, so
the rest of the lab runs without it.

Extended Protection, as the lab's NTLM nodes play it:

- ``off``: no channel bindings are checked;
- ``on``: a token bound to another certificate is refused (``GSS_S_BAD_BINDINGS``), a token
  without bindings is accepted (IIS "Accept");
- ``require``: a token without bindings is refused as well.  MIT's acceptor accepts an unbound
  token even when given bindings, and says so only by leaving out the channel-bound flag: the
  node checks that flag.

What the node answers is what MIT's acceptor gives: a mutual-authentication token (AP-REP) when
it accepts, and when it refuses a ticket a KRB-ERROR token whose ``error-code``
(:func:`krb_error_code`) a client can read (31 ``KRB_AP_ERR_BAD_INTEGRITY`` for another key --
Windows says 41, ``KRB_AP_ERR_MODIFIED`` --, 44 ``KRB_AP_ERR_BADKEYVER`` for another key version,
33/37 for clocks apart, 60 ``KRB_ERR_GENERIC`` for other bindings).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

KERBEROS_OID = "1.2.840.113554.1.2.2"
SPNEGO_OID = "1.3.6.1.5.5.2"
PROTECTIONS = ("off", "on", "require")

_OIDS = {
    bytes.fromhex("2a864886f712010202"): "kerberos",  # 1.2.840.113554.1.2.2
    bytes.fromhex("2b0601050502"): "spnego",  # 1.3.6.1.5.5.2
}


def token_kind(token: bytes) -> str:
    """``ntlm``, ``kerberos`` (a raw Kerberos GSS token), ``spnego`` (a NegTokenInit or
    NegTokenResp) or ``unknown``: how a Negotiate token starts tells which mechanism sent it."""
    if token.startswith(b"NTLMSSP\x00"):
        return "ntlm"
    if token[:1] == b"\xa1":
        return "spnego"
    if token[:1] == b"\x60":
        try:
            _tag, body, _end = _der(token, 0)
            tag, value, _end = _der(body, 0)
        except IndexError:
            return "unknown"
        if tag == 0x06:
            return _OIDS.get(value, "unknown")
    return "unknown"


def _der(data: bytes, i: int) -> tuple[int, bytes, int]:
    """One DER element at ``i``: tag, contents, the index after it (IndexError if cut short)."""
    tag, length = data[i], data[i + 1]
    i += 2
    if length & 0x80:
        n = length & 0x7F
        if n == 0 or n > 4 or i + n > len(data):
            raise IndexError("bad DER length")
        length = int.from_bytes(data[i : i + n], "big")
        i += n
    if i + length > len(data):
        raise IndexError("DER element cut short")
    return tag, data[i : i + length], i + length


def krb_error_code(token: bytes) -> int | None:
    """``error-code`` of the KRB-ERROR ([APPLICATION 30]) inside a GSS or SPNEGO token, or None
    when the token carries none."""
    start = token.find(b"\x7e")
    while start != -1:
        try:
            _tag, body, _end = _der(token, start)
            tag, fields, _end = _der(body, 0)
            i = 0
            while tag == 0x30 and i < len(fields):
                field, value, i = _der(fields, i)
                if field == 0xA6:  # error-code [6] Int32
                    return int.from_bytes(_der(value, 0)[1], "big", signed=True)
        except IndexError:
            pass
        start = token.find(b"\x7e", start + 1)
    return None


@dataclass(frozen=True)
class Acceptance:
    """What one node made of one token."""

    accepted: bool
    answer: bytes | None
    """The token to send back (``WWW-Authenticate: Negotiate <answer>``): the mutual
    authentication token when accepted, MIT's KRB-ERROR when a ticket was refused."""
    principal: str | None = None
    """The client (``monitor@CONTOSO.TEST``) when accepted."""
    mechanism: str = "unknown"
    """:func:`token_kind` of the token."""
    channel_bound: bool = False
    reason: str = ""
    """Why it was refused, in MIT's words (for the lab's log and its tests, not for clients)."""


class KerberosAcceptor:
    """One node's acceptor: ``keytab`` and its own replay cache file ``rcache``.

    Each :meth:`accept` is a whole exchange (Kerberos needs one round trip); it is thread-safe.
    """

    def __init__(
        self,
        keytab: str | os.PathLike[str],
        rcache: str | os.PathLike[str],
        protection: str = "off",
    ) -> None:
        if protection not in PROTECTIONS:
            raise ValueError(f"unknown protection {protection!r}; one of {PROTECTIONS}")
        self.keytab = Path(keytab)
        self.rcache = Path(rcache)
        self.protection = protection
        self._creds: Any = None
        self._lock = threading.Lock()

    def _credentials(self) -> Any:
        import gssapi

        with self._lock:
            if self._creds is None:
                self._creds = gssapi.Credentials(
                    usage="accept",
                    store={"keytab": str(self.keytab), "rcache": f"file2:{self.rcache}"},
                )
            return self._creds

    def accept(self, token: bytes, application_data: bytes | None = None) -> Acceptance:
        """Accept ``token`` bound (unless protection is off) to ``application_data``,
        ``tls-server-end-point:`` and the hash of the certificate this node presents."""
        import gssapi
        from gssapi.raw import ChannelBindings

        kind = token_kind(token)
        if kind not in ("kerberos", "spnego"):
            return Acceptance(False, None, mechanism=kind, reason=f"not a Kerberos token ({kind})")
        bindings = None
        if self.protection != "off" and application_data is not None:
            bindings = ChannelBindings(application_data=application_data)
        context = gssapi.SecurityContext(
            creds=self._credentials(), usage="accept", channel_bindings=bindings
        )
        answer: bytes | None = None
        try:
            answer = context.step(token)  # an error token is returned, the error raised next
            complete = context.complete
            flags = context.actual_flags if complete else set()
        except gssapi.exceptions.GSSError as exc:
            answer = answer or getattr(exc, "token", None)
            return Acceptance(False, answer, mechanism=kind, reason=str(exc).strip())
        except Exception as exc:  # garbage that GSSAPI refuses to parse
            return Acceptance(False, None, mechanism=kind, reason=str(exc).strip())
        if not complete:
            # Kerberos is done in one leg: a SPNEGO exchange that wants more (another
            # mechanism's NegTokenInit) is not Kerberos.
            return Acceptance(False, None, mechanism=kind, reason="SPNEGO wants another leg")
        bound = gssapi.RequirementFlag.channel_bound in flags
        if self.protection == "require" and not bound:
            return Acceptance(
                False, None, mechanism=kind, reason="Extended Protection: the token is unbound"
            )
        return Acceptance(
            True,
            answer,
            principal=str(context.initiator_name),
            mechanism=kind,
            channel_bound=bound,
        )
