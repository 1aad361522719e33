"""One node's authenticated HTTP for the logons (``--logon``): facts only.

:class:`Node` is a node's address, the host it is reached by, the account and the deadline;
it asks what a node offers, logs on (Basic in one request, NTLM/Negotiate in two legs, Kerberos
in one through :mod:`.negotiate`) with the ``tls-server-end-point`` binding of the certificate
the node presented, retries once without it after a refusal, and opens further connections
logged on the way the node accepted.  The RPC (:mod:`.logon_rpc`) and MAPI (:mod:`.logon_mapi`)
logons share it, and the helpers below that record how an authentication ended.
"""

from __future__ import annotations

import ssl
import time

from ..facts import logon as f
from ..transport import TRACE, Deadline
from ..transport import auth as httpauth
from ..transport.http import Connection, HttpError, Response, auth_schemes
from . import negotiate


class Account:
    __slots__ = ("kerberos", "mode", "password", "username")

    def __init__(
        self, username: str, password: str, mode: str = "negotiate", kerberos: object = None
    ) -> None:
        self.username = username
        self.password = password
        self.mode = mode  # --auth
        self.kerberos = kerberos  # a transport.kerberos.Client when a credential is at hand

    def __repr__(self) -> str:  # never the password
        return f"Account({self.username!r}, ...)"


class Node:
    """One node's logons: its address, the host it is reached by, the account, the deadline."""

    def __init__(
        self,
        address: str,
        port: int,
        host: str,
        account: Account,
        ctx: ssl.SSLContext,
        deadline: Deadline,
        unbound: bool = False,
    ) -> None:
        self.unbound = unbound  # --extended-protection require: also try without binding
        self.address = address
        self.port = port
        self.host = host
        self.account = account
        self.ctx = ctx
        self.deadline = deadline
        self._earlier: Connection | None = None

    def connect(self, deadline: Deadline | None = None) -> Connection:
        """A connection to the node, resuming the TLS session of the one before: the node then
        sends no certificate, and decoding and verifying it again is most of what a further
        connection costs (a logon over RPC opens seven per node).  The session is the node's
        own, and keeps its certificate for the channel binding.  (Sharing one session between
        the RPC and MAPI logons of a node, which connect side by side, counted more
        instructions, not fewer.)"""
        earlier = self._earlier.session if self._earlier is not None else None
        conn = Connection(
            self.address, self.port, deadline or self.deadline, self.ctx, self.host, earlier
        )
        self._earlier = conn
        return conn

    # -- one authentication -----------------------------------------------------------------

    def offered(
        self, method: str, path: str, headers: list[tuple[str, str]]
    ) -> tuple[Connection | None, list[str], Response | None]:
        """The schemes of an anonymous request's 401, and the connection, still open when the
        server keeps it."""
        conn = self.connect()
        response = conn.request(method, path, self.host, headers)
        return (None if conn.closed else conn), auth_schemes(response), response

    def authenticate(
        self,
        auth: f.Authentication,
        conn: Connection | None,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        body: bytes = b"",
        stream: bool = False,
        probe: tuple[list[tuple[str, str]], bytes] | None = None,
    ) -> tuple[Connection, Response | None]:
        """The first logon of this node and protocol, with the binding, and the one retry
        without it after a refusal; fills ``auth``.  Returns the connection and the answer to
        the accepted logon (None when none was accepted).  ``probe``: the headers and body of
        the request that asks whether the node also takes a logon without binding, when the
        logon's own request must not be sent twice (a MAPI Connect opens a session)."""
        if auth.scheme == "Basic":
            auth.binding_sent = False
            conn, response = self._attempt(conn, None, auth, method, path, headers, body, stream)
            auth.outcome = _outcome(response)
            return conn, response if auth.outcome == f.ACCEPTED else None
        auth.binding_sent = True
        conn, response = self._attempt(conn, True, auth, method, path, headers, body, stream)
        auth.outcome = _outcome(response)
        if auth.outcome == f.ACCEPTED and self.unbound:
            self._unbound(auth, method, path, *(probe or (headers, body)))
        if auth.outcome != f.REFUSED or negotiate.final_refusal(auth):
            return conn, response if auth.outcome == f.ACCEPTED else None
        conn.close()
        TRACE(self.address, "logon refused with channel binding: once more without it")
        conn, response = self._attempt(None, False, auth, method, path, headers, body, stream)
        auth.retry_outcome = _outcome(response)
        return conn, response if auth.retry_outcome == f.ACCEPTED else None

    def _unbound(
        self,
        auth: f.Authentication,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        body: bytes,
    ) -> None:
        """Would the node also accept the logon without binding?  (Its answer, not read
        further, on a connection of its own.)"""
        conn = None
        try:
            conn, response = self._attempt(
                None, False, auth, method, path, headers, body, True, record=False
            )
            auth.unbound_outcome = _outcome(response)
        except (HttpError, httpauth.AuthError):
            auth.unbound_outcome = f.FAILED
        finally:
            if conn is not None:
                conn.close()

    def channel(
        self,
        auth: f.Authentication,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        body: bytes = b"",
        stream: bool = False,
        length: int | None = None,
        deadline: Deadline | None = None,
    ) -> tuple[Connection, Response | None]:
        """A further connection logged on the way the node accepted (an RPC channel); no
        retry.  ``length`` set: the final request is sent and no answer is read."""
        binding = auth.with_binding
        conn = self.connect(deadline)
        conn, response = self._attempt(
            conn, binding, auth, method, path, headers, body, stream, length, record=False
        )
        return conn, response

    def _attempt(
        self,
        conn: Connection | None,
        binding: bool | None,
        auth: f.Authentication,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        body: bytes,
        stream: bool,
        length: int | None = None,
        record: bool = True,
    ) -> tuple[Connection, Response | None]:
        """One authentication on one connection: Basic in one request, NTLM/Negotiate in two
        legs (the first with an empty body).  Returns the answer to the last leg, None when a
        ``length`` was declared (nothing is read).  Raises HttpError, AuthError."""
        if conn is None or conn.closed:
            conn = self.connect(conn.deadline if conn is not None else None)
        try:
            return self._legs(
                conn, binding, auth, method, path, headers, body, stream, length, record
            )
        except httpauth.AuthError:
            conn.close()  # an HttpError closed it already
            raise

    def _legs(
        self,
        conn: Connection,
        binding: bool | None,
        auth: f.Authentication,
        method: str,
        path: str,
        headers: list[tuple[str, str]],
        body: bytes,
        stream: bool,
        length: int | None,
        record: bool,
    ) -> tuple[Connection, Response | None]:
        token = None
        if binding:
            token = httpauth.channel_binding(conn.peer_certificate())
        if auth.scheme == negotiate.KERBEROS:
            return negotiate.kerberos_leg(
                self, conn, token, auth, method, path, headers, body, stream, length, record
            )
        handshake = httpauth.Handshake(
            auth.scheme, self.account.username, self.account.password, self.host, token
        )
        started = time.monotonic()
        header = handshake.first()
        if auth.scheme != "Basic":
            challenge = conn.request(
                method, path, self.host, [*headers, ("Authorization", header)], b""
            )
            if challenge.status != 401:
                raise httpauth.AuthError("no-challenge", f"HTTP {challenge.status}")
            if conn.closed:
                raise httpauth.AuthError("closed", "connection closed during the logon")
            answer = handshake.next(challenge.all("WWW-Authenticate"))
            if answer is None:
                raise httpauth.AuthError("no-challenge", "HTTP 401 without a challenge")
            header = answer
        final = [*headers, ("Authorization", header)]
        if length is not None:
            conn.send_request(method, path, self.host, final, body, length)
            return conn, None
        response = conn.request(method, path, self.host, final, body, stream=stream)
        if record and response.status != 401:
            auth.elapsed = time.monotonic() - started
        return conn, response


def _outcome(response: Response | None) -> str:
    if response is None:
        return f.FAILED
    return f.REFUSED if response.status == 401 else f.ACCEPTED


def choose(auth: f.Authentication, account: Account) -> bool:
    """Pick the scheme from what the node offers; False (and why) when none can be used.
    Basic only where it is the only scheme offered: NTLM and Negotiate carry the binding."""
    decided = negotiate.choose(auth, account)
    if decided is not None:
        return decided
    try:
        scheme = httpauth.choose(auth.offered)
    except httpauth.AuthError:
        auth.detail = "ntlm-missing"
        return False
    if scheme is None:
        auth.detail = "no-scheme"
        return False
    if scheme == "Basic" and any(s.lower() in ("ntlm", "negotiate") for s in auth.offered):
        auth.detail = "ntlm-missing"
        return False
    auth.scheme = scheme
    return True


def failure(auth: f.Authentication, exc: Exception) -> None:
    """An authentication that got no verdict from the server."""
    if auth.binding_sent and auth.outcome == f.REFUSED:
        auth.retry_outcome = f.FAILED
    else:
        auth.outcome = f.FAILED
    if isinstance(exc, HttpError):
        auth.detail = exc.kind  # timeout, untrusted (credentials not sent), tls, closed...
    elif isinstance(exc, httpauth.AuthError):
        auth.detail = exc.kind
    else:
        auth.detail = "internal"


def cut_off(facts: f.RpcLogon | f.MapiLogon, exc: Exception) -> None:
    """The deadline ended the step under way (another failure is no cut-off)."""
    if isinstance(exc, HttpError) and exc.kind == "timeout":
        facts.cut_off = facts.step
    facts.step = ""


def trace_auth(address: str, protocol: str, auth: f.Authentication) -> None:
    if TRACE.on:
        binding = "with" if auth.binding_sent else "without"
        retry = f", without binding {auth.retry_outcome}" if auth.retry_outcome else ""
        TRACE(address, f"{protocol} logon ({auth.scheme}) {binding} binding {auth.outcome}{retry}")
