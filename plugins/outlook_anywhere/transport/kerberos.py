"""Kerberos for Negotiate (``--auth``, ``--keytab``): python-gssapi over MIT Kerberos, an
optional dependency imported only when a Kerberos credential is used.

One :class:`Client` per check: its credential is acquired once (a keytab, a ticket cache the
monitoring user holds, or the password), always into a ``MEMORY:`` cache of this process, so
that no ticket cache is written anywhere.  Each logon is a new security context for
``HTTP/<host>`` (the host in the URL: the namespace, never a node's address) with the
``tls-server-end-point`` channel binding, mutual authentication asked for; its one token goes
under ``Negotiate`` as a raw Kerberos token (what IIS accepts, and what keeps MIT's error codes
stable: through SPNEGO they are renumbered per process).

MIT Kerberos 1.20 has no setting for how long it waits for a KDC (a KDC that never answers
costs the better part of a minute): every call that may reach the KDC runs to the check's
deadline in a worker thread (:func:`..transport.call_before`), abandoned when it comes.

No sentence here: :class:`KerberosError` carries a kind (check.words says it).
"""

from __future__ import annotations

import os
import threading

from . import Deadline, Unfinished, call_before

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any

PACKAGE = "gssapi"
KRB5_OID = "1.2.840.113554.1.2.2"

# MIT's minor codes: ERROR_TABLE_BASE_krb5 + the protocol's number, or MIT's own codes
_KRB5_BASE = 0x96C73A00
_BY_MINOR = {
    _KRB5_BASE + 6: "client-unknown",  # KDC_ERR_C_PRINCIPAL_UNKNOWN
    _KRB5_BASE + 7: "spn-unknown",  # KDC_ERR_S_PRINCIPAL_UNKNOWN
    _KRB5_BASE + 18: "client-revoked",  # KDC_ERR_CLIENT_REVOKED (locked, disabled)
    _KRB5_BASE + 23: "password-expired",  # KDC_ERR_KEY_EXPIRED
    _KRB5_BASE + 24: "preauth-failed",  # KDC_ERR_PREAUTH_FAILED: stale keytab, wrong password
    _KRB5_BASE + 37: "skew",  # KRB_AP_ERR_SKEW
    _KRB5_BASE + 154: "no-kdc",  # KRB5_REALM_UNKNOWN
    _KRB5_BASE + 156: "kdc-unreachable",  # KRB5_KDC_UNREACH
}
# The error-code of a KRB-ERROR a node answers with (RFC 4120 7.5.9)
KEY_CODES = (31, 41, 44)  # BAD_INTEGRITY (MIT), MODIFIED (Windows), BADKEYVER: not its key
SKEW_CODES = (33, 37)  # TKT_NYV, SKEW: the node's clock and the KDC's are apart
BINDING_CODE = 60  # KRB_ERR_GENERIC: MIT's acceptor refusing the channel bindings

AUTH_MODES = ("negotiate", "kerberos", "ntlm", "basic")


class KerberosError(Exception):
    """No token: ``kind`` one of missing (python-gssapi), kdc-unreachable, no-kdc,
    client-unknown, client-revoked, password-expired, preauth-failed, spn-unknown, skew,
    no-credential, failed."""

    def __init__(self, kind: str, text: str = "") -> None:
        super().__init__(text or kind)
        self.kind = kind


def available() -> bool:
    from .optional import importable

    return importable("gssapi")


def source(username: str, password: str, keytab: str | None, mode: str) -> str:
    """Where the Kerberos credential comes from: keytab, ccache, password, or "" (none, NTLM
    then).  A password makes one only with ``--auth kerberos`` or a ``user@REALM`` name (the
    realm in capitals, as Kerberos writes it)."""
    if mode in ("ntlm", "basic"):
        return ""
    if keytab or os.environ.get("KRB5_CLIENT_KTNAME"):
        return "keytab"
    if os.environ.get("KRB5CCNAME"):
        return "ccache"
    user, at, realm = username.rpartition("@")
    capitals = realm.isupper() and bool(realm.strip(".-_0123456789"))
    if password and at and user and (mode == "kerberos" or capitals):
        return "password"
    return ""


def principal(username: str) -> str:
    """``user@REALM`` from ``--username`` or the mailbox address (the realm in capitals)."""
    user, at, realm = username.rpartition("@")
    return f"{user}@{realm.upper()}" if at else username


class Client:
    """The check's Kerberos initiator (thread-safe): the credential once, a context per logon."""

    def __init__(self, username: str, password: str, keytab: str | None, origin: str) -> None:
        self.username = username
        self.password = password
        self.keytab = keytab or os.environ.get("KRB5_CLIENT_KTNAME", "")
        self.origin = origin  # keytab, ccache, password
        self._creds: Any = None
        self._error: KerberosError | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:  # never the password
        return f"Client({self.username!r}, {self.origin!r}, ...)"

    def credentials(self, deadline: Deadline) -> Any:
        """The credential, acquired at the first call (to the deadline); its failure is kept
        and raised again: a wrong password costs one failed pre-authentication per check."""
        with self._lock:
            if self._creds is None and self._error is None:
                try:
                    self._creds = _bounded(deadline, self._acquire)
                except KerberosError as exc:
                    self._error = exc
            if self._error is not None:
                raise self._error
            return self._creds

    def _acquire(self) -> Any:
        import gssapi
        import gssapi.raw

        mech = gssapi.OID.from_int_seq(KRB5_OID)
        memory = f"MEMORY:check_outlook_anywhere-{os.urandom(8).hex()}"
        name = None
        if "@" in self.username:
            name = gssapi.Name(principal(self.username), gssapi.NameType.kerberos_principal)
        if self.origin == "password":
            assert name is not None
            acquired = gssapi.raw.acquire_cred_with_password(
                name, self.password.encode(), usage="initiate", mechs=[mech]
            )
            return gssapi.Credentials(base=acquired.creds)
        if self.origin == "keytab":
            store: dict[bytes | str, bytes | str] = {
                "client_keytab": self.keytab,
                "ccache": memory,
            }
            creds = gssapi.Credentials(name=name, usage="initiate", mechs=[mech], store=store)
            creds.lifetime  # noqa: B018 - the ticket is asked for now, not at the first logon
            return creds
        # the user's ticket cache, copied into memory: the service tickets stay in this process
        held = gssapi.Credentials(
            usage="initiate", mechs=[mech], store={"ccache": os.environ["KRB5CCNAME"]}
        )
        held.lifetime  # noqa: B018 - an expired or absent cache fails here
        gssapi.raw.store_cred_into(
            {"ccache": memory}, held, usage="initiate", mech=mech, overwrite=True,
            set_default=False,
        )  # fmt: skip
        return gssapi.Credentials(usage="initiate", mechs=[mech], store={"ccache": memory})

    def start(self, host: str, binding: bytes | None, deadline: Deadline) -> tuple[Any, bytes]:
        """A new context for ``HTTP/<host>`` and its first (and only) token."""
        creds = self.credentials(deadline)

        def step() -> tuple[Any, bytes]:
            import gssapi
            from gssapi.raw import ChannelBindings

            bindings = ChannelBindings(application_data=binding) if binding else None
            flags = gssapi.RequirementFlag
            context = gssapi.SecurityContext(
                name=gssapi.Name(f"HTTP@{host}", gssapi.NameType.hostbased_service),
                creds=creds,
                usage="initiate",
                mech=gssapi.OID.from_int_seq(KRB5_OID),
                flags=flags.mutual_authentication | flags.out_of_sequence_detection,
                channel_bindings=bindings,
            )
            return context, context.step() or b""

        return _bounded(deadline, step)


def mutual(context: Any, token: bytes) -> bool:
    """The server's answer token completes the context: mutual authentication verified."""
    import gssapi.exceptions

    try:
        context.step(token)
        return bool(context.complete)
    except gssapi.exceptions.GSSError:
        return False


def _bounded(deadline: Deadline, func: Any) -> Any:
    """``func`` to the deadline; GSSAPI's failures as :class:`KerberosError`."""
    import gssapi.exceptions

    def call() -> Any:
        try:
            return func()
        except gssapi.exceptions.GSSError as exc:
            raise KerberosError(_kind(exc), _message(exc)) from None
        except (OSError, ValueError, TypeError) as exc:
            raise KerberosError("failed", exc.__class__.__name__) from None

    try:
        return call_before(deadline, call)
    except Unfinished:
        raise KerberosError("kdc-unreachable", "no answer within the deadline") from None


def _kind(exc: Any) -> str:
    minor = getattr(exc, "min_code", 0) or 0
    found = _BY_MINOR.get(minor)
    if found:
        return found
    if getattr(exc, "maj_code", 0) in (7 << 16, 11 << 16):  # GSS_S_NO_CRED, _CREDENTIALS_EXPIRED
        return "no-credential"
    return "failed"


def _message(exc: Any) -> str:
    from . import wire_text

    try:
        text = exc.gen_message()
    except Exception:  # pragma: no cover - python-gssapi's own message failing
        text = exc.__class__.__name__
    return wire_text(" ".join(str(text).split()), 160)


def krb_error_code(token: bytes) -> int | None:
    """``error-code`` of the KRB-ERROR ([APPLICATION 30]) inside a GSS token a node answered,
    None when it carries none."""
    start = token.find(b"\x7e")
    while start != -1:
        try:
            _tag, body, _end = _der(token, start)
            tag, fields, _end = _der(body, 0)
            at = 0
            while tag == 0x30 and at < len(fields):
                field, value, at = _der(fields, at)
                if field == 0xA6:  # error-code [6] Int32
                    return int.from_bytes(_der(value, 0)[1], "big", signed=True)
        except IndexError:
            pass
        start = token.find(b"\x7e", start + 1)
    return None


def _der(data: bytes, at: int) -> tuple[int, bytes, int]:
    tag, length = data[at], data[at + 1]
    at += 2
    if length & 0x80:
        count = length & 0x7F
        if count == 0 or count > 4 or at + count > len(data):
            raise IndexError("bad DER length")
        length = int.from_bytes(data[at : at + count], "big")
        at += count
    if at + length > len(data):
        raise IndexError("DER element cut short")
    return tag, data[at : at + length], at + length
