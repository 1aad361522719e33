"""The mechanism of a node's logon (``--auth``) and the Kerberos leg: facts only.

``--auth negotiate`` (the default) logs on with Kerberos where the poller has a Kerberos
credential and the node offers ``Negotiate``, else as before (NTLM, Basic only where it is the
only scheme); ``kerberos``, ``ntlm`` and ``basic`` pin one, and a node that does not offer it is
recorded as such (``Authentication.detail``), never tried with another.

Kerberos is one leg: the token (a service ticket for ``HTTP/<host>``, bound to the certificate
the node presented) goes under ``Negotiate`` with the request itself; a 401 may carry the
node's KRB-ERROR (its code kept: a node that cannot decrypt the ticket, clocks apart), a
success may carry the mutual-authentication token, which must verify.
"""

from __future__ import annotations

import base64
import time

from ..facts import logon as f
from ..transport import auth as httpauth

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)

if TYPE_CHECKING:
    from ..transport.http import Connection, Response

KERBEROS = "Kerberos"  # Authentication.scheme of a Kerberos logon (sent under Negotiate)


def choose(auth: f.Authentication, account: object) -> bool | None:
    """The scheme ``--auth`` and the poller's credential pick from what the node offers; None
    where the default choice applies (negotiate without a Kerberos credential, or a node that
    offers no Negotiate)."""
    mode = getattr(account, "mode", "negotiate")
    kerberos = getattr(account, "kerberos", None) is not None
    offered = {s.lower() for s in auth.offered}
    auth.mode = mode
    if mode in ("negotiate", "kerberos") and kerberos and "negotiate" in offered:
        auth.scheme = KERBEROS
        return True
    if mode == "kerberos":
        auth.detail = "kerberos-not-offered"
        return False
    if mode == "ntlm":
        if not offered & {"ntlm", "negotiate"}:
            auth.detail = "ntlm-not-offered"
            return False
        if not httpauth.has_spnego():
            auth.detail = "ntlm-missing"
            return False
        auth.scheme = "NTLM" if "ntlm" in offered else "Negotiate"
        return True
    if mode == "basic":
        if "basic" not in offered:
            auth.detail = "basic-not-offered"
            return False
        auth.scheme = "Basic"
        return True
    return None


def final_refusal(auth: f.Authentication) -> bool:
    """A Kerberos refusal that a retry without binding cannot change: the node cannot decrypt
    the ticket, or its clock is apart from the KDC's."""
    from ..transport.kerberos import KEY_CODES, SKEW_CODES

    return auth.scheme == KERBEROS and auth.krb_code in (*KEY_CODES, *SKEW_CODES)


def kerberos_leg(
    node: object,
    conn: Connection,
    binding: bytes | None,
    auth: f.Authentication,
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    body: bytes,
    stream: bool,
    length: int | None,
    record: bool,
) -> tuple[Connection, Response | None]:
    """One Kerberos logon on ``conn``.  Raises HttpError, AuthError (``krb-<kind>``: no ticket,
    or ``krb-mutual``: the node's answer token does not verify)."""
    from ..transport import kerberos

    client = getattr(getattr(node, "account", None), "kerberos", None)
    host = str(getattr(node, "host", ""))
    assert isinstance(client, kerberos.Client)
    auth.spn = f"HTTP/{host}"
    try:
        context, token = client.start(host, binding, conn.deadline)
    except kerberos.KerberosError as exc:
        raise httpauth.AuthError(f"krb-{exc.kind}", str(exc)) from None
    final = [*headers, ("Authorization", f"Negotiate {base64.b64encode(token).decode()}")]
    started = time.monotonic()
    if length is not None:
        conn.send_request(method, path, host, final, body, length)
        return conn, None
    response = conn.request(method, path, host, final, body, stream=stream)
    answer = _answer_token(response)
    if response.status == 401:
        if record:
            auth.krb_code = kerberos.krb_error_code(answer) if answer else None
        return conn, response
    if record:
        auth.elapsed = time.monotonic() - started
    if answer and not kerberos.mutual(context, answer):
        raise httpauth.AuthError("krb-mutual", "mutual authentication failed")
    return conn, response


def _answer_token(response: Response) -> bytes:
    """The node's ``Negotiate`` token (b"" without one)."""
    for scheme, rest in httpauth.challenges(response.all("WWW-Authenticate")):
        if scheme.lower() == "negotiate" and rest:
            try:
                return base64.b64decode(rest, validate=True)
            except ValueError:
                return b""
    return b""


def post(
    conn: Connection,
    client: object,
    host: str,
    path: str,
    headers: list[tuple[str, str]],
    body: bytes,
) -> Response:
    """Autodiscover's POST logged on with Kerberos (one leg, bound to ``conn``'s certificate).
    Raises KerberosError: no ticket, a node's KRB-ERROR (``key``, ``skew``), ``mutual``."""
    from ..transport import kerberos

    assert isinstance(client, kerberos.Client)
    binding = httpauth.channel_binding(conn.peer_certificate())
    context, token = client.start(host, binding, conn.deadline)
    final = [*headers, ("Authorization", f"Negotiate {base64.b64encode(token).decode()}")]
    response = conn.request("POST", path, host, final, body)
    answer = _answer_token(response)
    if response.status == 401:
        code = kerberos.krb_error_code(answer) if answer else None
        if code in kerberos.KEY_CODES:
            raise kerberos.KerberosError("key", str(code))
        if code in kerberos.SKEW_CODES:
            raise kerberos.KerberosError("node-skew", str(code))
    elif answer and not kerberos.mutual(context, answer):
        raise kerberos.KerberosError("mutual")
    return response


def pinned_scheme(mode: str, kerberos: bool, offered: list[str]) -> str | None:
    """The scheme of Autodiscover's POST that ``--auth`` and a Kerberos credential choose (None:
    the default choice); ValueError(``<mode>-not-offered``) when the endpoint does not offer it."""
    schemes = {s.lower() for s in offered}
    if kerberos and "negotiate" in schemes and mode in ("negotiate", "kerberos"):
        return KERBEROS
    wanted = {"kerberos": {"negotiate"}, "ntlm": {"ntlm", "negotiate"}, "basic": {"basic"}}
    if mode == "kerberos" or (mode in wanted and not schemes & wanted[mode]):
        raise ValueError(f"{mode}-not-offered")
    if mode == "ntlm":
        return "NTLM" if "ntlm" in schemes else "Negotiate"
    return "Basic" if mode == "basic" else None
