"""Logging on to every node as Outlook does (``--logon``): facts only.

Per node, concurrently: with ``--rpc``, an authenticated echo of the RPC proxy, then a virtual
connection to each RPC endpoint Outlook uses (6001 mail store, 6002 directory referral, 6004
address book) of the EXCH server Autodiscover published, CONN/C2 on the OUT channel proving the
endpoint answered; the echo and the channels carry the ``?<server>:<port>`` query.  With
``--mapi``, a mailbox logon over MAPI/HTTP: ``Connect`` with the mailbox's LegacyDN, a ``PING``
in the session it opened, ``Disconnect``.

Account safety: the caller logs on only after Autodiscover accepted the credentials.  Per node
and protocol the first authentication decides: NTLM and Negotiate always carry the
``tls-server-end-point`` binding of the certificate that node presented; a logon refused with
the binding is retried once without it (to tell Extended Protection apart from a refused
account), and a logon refused twice is never tried again in this check.  The endpoints, the
PING and Disconnect reuse what was accepted.  The only server state touched is the MAPI session
the plugin opens itself, and it is always disconnected: Connect and PING work to a deadline a
little earlier than the check's, which leaves Disconnect its time on the deadline path too.

A node still at work when the deadline comes is recorded with the step it was in
(``cut_off``), never as not tried.

Credentials go only over TLS that verifies for the host name (the chain against ``--ca-file``
or the system store), as with Autodiscover.
"""

from __future__ import annotations

import os
import ssl
import time
import uuid

from ..facts import logon as f
from ..transport import TRACE, Deadline, client_context, fan_out, mapihttp, rts, wire_text
from ..transport import auth as httpauth
from ..transport.http import Connection, HttpError, Response, auth_schemes
from . import negotiate

RPC_PATH = "/rpc/rpcproxy.dll"
EMSMDB_PATH = "/mapi/emsmdb/"
RPC_HEADERS = [
    ("User-Agent", "MSRPC"),
    ("Accept", "application/rpc"),
    ("Cache-Control", "no-cache"),
    ("Connection", "Keep-Alive"),
]
CLIENT_APPLICATION = "Outlook/16.0.17928.20114 (check_outlook_anywhere)"
# A stream ends this long before the deadline, so that what it read is judged ("no CONN/C2")
# rather than lost with a thread still waiting.
STREAM_MARGIN = 0.15
# RTS bytes read on an OUT channel before CONN/C2 at most (the proxy sends 72)
MAX_OUT_BYTES = 256 * 1024
# Names of the PDUs kept as evidence
MAX_PDU_NAMES = 6
# Characters of an EXCH Server value put in a URL as it is
_SERVER_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_@{}")


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


def usable_server(server: str) -> bool:
    """An EXCH Server value fit for ``?<server>:<port>`` and ``?MailboxId=`` as it is."""
    return bool(server) and len(server) <= 255 and set(server) <= _SERVER_CHARS


class _Node:
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

    def connect(self, deadline: Deadline | None = None) -> Connection:
        return Connection(self.address, self.port, deadline or self.deadline, self.ctx, self.host)

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


def _choose(auth: f.Authentication, account: Account) -> bool:
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


def _failure(auth: f.Authentication, exc: Exception) -> None:
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


# -- RPC over HTTP --------------------------------------------------------------------------


def echo_path(server: str) -> str:
    """The echo's URL: like a channel's, with the ``?<server>:<port>`` query ([MS-RPCH]
    2.1.2.1.5, 2.2.2: it MUST be present; every client sends it)."""
    return f"{RPC_PATH}?{server}:{f.ENDPOINT_PORTS[0]}"


def logon_rpc(node: _Node, server: str, facts: f.RpcLogon) -> None:
    """The echo, then the endpoints; fills ``facts`` as it goes (a node still busy at the
    deadline is judged on what it did, and on the step it was in)."""
    auth = facts.auth
    conn: Connection | None = None
    path = echo_path(server)
    facts.step = f.STEP_ECHO
    try:
        conn, auth.offered, first = node.offered("RPC_IN_DATA", path, RPC_HEADERS)
        if first is not None and first.status != 401:
            # not asking for credentials at all: the --rpc probe judges that
            auth.detail = f"status-{first.status}"
            facts.echo, facts.status, facts.reason = "status", first.status, first.reason
            return
        if not _choose(auth, node.account):
            facts.step = ""
            return
        conn, response = node.authenticate(auth, conn, "RPC_IN_DATA", path, RPC_HEADERS)
    except (HttpError, httpauth.AuthError) as exc:
        _failure(auth, exc)
        _cut_off(facts, exc)
        return
    finally:
        if conn is not None:
            conn.close()
    _trace_auth(node.address, "RPC", auth)
    if response is None:
        facts.step = ""
        return
    _read_echo(facts, response)
    TRACE(node.address, f"echo: {facts.echo} {facts.echo_detail}".strip())
    if facts.echo != "ok":
        facts.step = ""
        return
    endpoints = [f.Endpoint(port) for port in f.ENDPOINT_PORTS]
    facts.endpoints = endpoints
    facts.step = f.STEP_CHANNELS
    fan_out(
        facts.endpoints, lambda endpoint: _virtual_connection(node, auth, server, endpoint),
        node.deadline,
    )  # fmt: skip
    for endpoint in endpoints:
        if not endpoint.outcome:
            endpoint.outcome, endpoint.detail = f.CHANNEL_FAILED, "timeout"
        TRACE(node.address, f"{endpoint.port}: {endpoint.outcome} {', '.join(endpoint.pdus)}")
    facts.step = ""  # each endpoint that did not answer in time says so itself


def _cut_off(facts: f.RpcLogon | f.MapiLogon, exc: Exception) -> None:
    """The deadline ended the step under way (another failure is no cut-off)."""
    if isinstance(exc, HttpError) and exc.kind == "timeout":
        facts.cut_off = facts.step
    facts.step = ""


def _trace_auth(address: str, protocol: str, auth: f.Authentication) -> None:
    if TRACE.on:
        binding = "with" if auth.binding_sent else "without"
        retry = f", without binding {auth.retry_outcome}" if auth.retry_outcome else ""
        TRACE(address, f"{protocol} logon ({auth.scheme}) {binding} binding {auth.outcome}{retry}")


def _read_echo(facts: f.RpcLogon, response: Response) -> None:
    facts.status, facts.reason = response.status, response.reason
    if response.status != 200:
        facts.echo = "status"
        return
    reader = rts.Reader(limit=4096)
    pdus = reader.feed(response.body)
    if reader.failure or not pdus:
        facts.echo, facts.echo_detail = "garbage", reader.failure or "empty"
    elif pdus[0].name != rts.ECHO:
        facts.echo, facts.echo_detail = "garbage", pdus[0].name
    else:
        facts.echo = "ok"


def _virtual_connection(
    node: _Node, auth: f.Authentication, server: str, endpoint: f.Endpoint
) -> None:
    """The OUT channel with CONN/A1, the IN channel with CONN/B1, CONN/A3 and CONN/C2 read on
    the OUT channel; both channels closed when C2 came or the deadline is near."""
    path = f"{RPC_PATH}?{server}:{endpoint.port}"
    stream_deadline = Deadline(node.deadline.seconds, reserve=0)
    stream_deadline.at = node.deadline.at - STREAM_MARGIN
    connection, group = os.urandom(16), os.urandom(16)  # virtual connection, association
    out_conn: Connection | None = None
    in_conn: Connection | None = None
    try:
        a1 = rts.conn_a1(connection, os.urandom(16))
        started = time.monotonic()
        out_conn, response = node.channel(
            auth, "RPC_OUT_DATA", path, RPC_HEADERS, a1, stream=True, deadline=stream_deadline
        )
        assert response is not None
        if not _channel_answer(endpoint, response):
            return
        b1 = rts.conn_b1(connection, os.urandom(16), group)
        in_conn, _ = node.channel(
            auth, "RPC_IN_DATA", path, RPC_HEADERS, b1, length=rts.IN_CHANNEL_LENGTH,
            deadline=stream_deadline,
        )  # fmt: skip
        _read_out_channel(endpoint, out_conn, started)
    except HttpError as exc:
        if not endpoint.outcome:
            endpoint.outcome, endpoint.detail = f.CHANNEL_FAILED, exc.kind
    except httpauth.AuthError as exc:
        endpoint.outcome, endpoint.detail = f.CHANNEL_FAILED, exc.kind
    finally:
        for channel in (in_conn, out_conn):
            if channel is not None:
                channel.close()


def _channel_answer(endpoint: f.Endpoint, response: Response) -> bool:
    """The OUT channel's HTTP answer; True when its stream of PDUs follows."""
    endpoint.status, endpoint.reason = response.status, response.reason
    if response.status == 200:
        return True
    if response.status == 401:
        endpoint.outcome = f.CHANNEL_REFUSED
    elif response.status == 503 and rpc_error_code(response.reason) is not None:
        endpoint.outcome = f.RPC_ERROR
        endpoint.code = rpc_error_code(response.reason) or ""
    else:
        endpoint.outcome = f.HTTP_STATUS
    return False


def rpc_error_code(reason: str) -> str | None:
    """The hex code of a ``503 RPC Error: <hex>[, EEInfo: <base64>]`` reason ([MS-RPCH]
    2.1.2.1.3), EEInfo dropped; None when the reason is not one."""
    import re

    found = re.match(r"\s*RPC Error\s*:?\s*([0-9A-Fa-f]{1,8})\b", reason, re.IGNORECASE)
    return found.group(1).lower() if found else None


def _read_out_channel(endpoint: f.Endpoint, conn: Connection, started: float) -> None:
    reader = rts.Reader(limit=MAX_OUT_BYTES)
    names: list[str] = []
    endpoint.outcome = f.NO_C2  # until C2 comes
    while True:
        try:
            data = conn.read_some()
        except HttpError as exc:
            endpoint.detail = "timeout" if exc.kind == "timeout" else exc.kind
            break
        if not data:
            endpoint.detail = "closed"
            break
        for pdu in reader.feed(data):
            if len(names) < MAX_PDU_NAMES and pdu.name not in names:
                names.append(pdu.name)
            if pdu.name == rts.CONN_C2:
                endpoint.outcome, endpoint.elapsed = f.REACHED, time.monotonic() - started
            elif pdu.name == rts.FAULT:
                endpoint.outcome = f.RTS_FAULT
                endpoint.code = f"{pdu.status:x}" if pdu.status is not None else ""
            if endpoint.outcome != f.NO_C2:
                endpoint.pdus = tuple(names)
                return
        if reader.failure:
            if reader.failure == "too-long":
                endpoint.detail = "too-long"
            else:
                endpoint.outcome, endpoint.detail = f.GARBAGE, reader.failure
            break
    endpoint.pdus = tuple(names)


# -- MAPI over HTTP ---------------------------------------------------------------------------

# Disconnect's share of the deadline: Connect and PING stop this much earlier, so that a
# session opened is closed on the deadline path too (at most 1 s, a fifth of a short -t)
DISCONNECT_RESERVE = 1.0


class _Mapi:
    """The headers of one client's MAPI requests ([MS-OXCMAPIHTTP] 2.2.3.3): X-ClientInfo on
    every one (MUST, 2.2.3.3.4), X-RequestId counting up, the session's cookies."""

    def __init__(self) -> None:
        self.client = f"{{{str(uuid.uuid4()).upper()}}}"
        self.count = 0
        self.jar: dict[str, str] = {}

    def headers(self, kind: str) -> list[tuple[str, str]]:
        self.count += 1
        headers = [
            ("User-Agent", "Microsoft Office/16.0 (check_outlook_anywhere)"),
            ("Content-Type", "application/mapi-http"),
            ("X-RequestType", kind),
            ("X-RequestId", f"{self.client}:{self.count}"),
            # one value for the session ([MS-OXCMAPIHTTP] 2.2.3.3.4: the counter moves with a
            # new Session Context, and each _Mapi is one session)
            ("X-ClientInfo", f"{self.client}:1"),
            ("X-ClientApplication", CLIENT_APPLICATION),
            ("Connection", "Keep-Alive"),
        ]
        if self.jar:
            headers.append(("Cookie", mapihttp.cookie_header(self.jar)))
        return headers

    def keep(self, response: Response) -> None:
        """The cookies the answer sets (Connect: MapiContext, MapiSequence; later ones update)."""
        self.jar.update(mapihttp.cookies(response.all("Set-Cookie")))


def _read_mapi(facts: f.MapiLogon, kind: str, response: Response) -> mapihttp.Framed:
    facts.request, facts.status, facts.reason = kind, response.status, response.reason
    framed = mapihttp.unframe(response.body)
    # the final X-ResponseCode is after DONE in a framed body (2.2.2.2), else in the head
    code = framed.headers.get("x-responsecode") or response.header("X-ResponseCode") or ""
    facts.response_code = wire_text(code, 16)
    return framed


def logon_mapi(
    node: _Node, path: str, facts: f.MapiLogon, user_dn: str, deadline: Deadline
) -> None:
    """The mailbox logon: Connect (the logon's request), a PING in its session, Disconnect;
    fills ``facts``.  ``node`` works to an earlier deadline than ``deadline``, the check's:
    a session opened is disconnected before the check ends, whatever happened."""
    auth = facts.auth
    mapi = _Mapi()
    conn: Connection | None = None
    facts.step = f.STEP_CONNECT
    try:
        conn, auth.offered, first = node.offered("POST", path, mapi.headers("PING"))
        if first is not None and first.status != 401:
            auth.detail = f"status-{first.status}"
            _read_mapi(facts, "PING", first)
            facts.step = ""
            return
        if not _choose(auth, node.account):
            facts.step = ""
            return
        probe = (mapi.headers("PING"), b"")  # never a second session to ask about the binding
        conn, response = node.authenticate(
            auth, conn, "POST", path, mapi.headers("Connect"),
            mapihttp.connect_body(user_dn), probe=probe,
        )  # fmt: skip
        _trace_auth(node.address, "MAPI", auth)
        if response is None:
            facts.step = ""
            return
        # the accepted logon's legs up to Connect's answer: neither a logon refused before it
        # nor the question whether the node takes one without binding (its own connection)
        facts.connect_elapsed = auth.elapsed
        mapi.keep(response)
        facts.session = bool(mapi.jar)
        framed = _read_mapi(facts, "Connect", response)
        if response.status == 200 and facts.response_code == "0":
            facts.status_code, facts.error_code = mapihttp.status_and_error(framed.body)
        TRACE(
            node.address, f"Connect: StatusCode {facts.status_code}, ErrorCode {facts.error_code}"
        )
        if not facts.logged_on:
            facts.step = ""
            return
        facts.step = f.STEP_PING
        started = time.monotonic()
        conn, response = _mapi_request(node, auth, conn, path, mapi.headers("PING"), b"")
        facts.elapsed = time.monotonic() - started
        mapi.keep(response)
        _read_mapi(facts, "PING", response)
        TRACE(node.address, f"PING: X-ResponseCode {facts.response_code or '(none)'}")
        facts.step = ""
    except (HttpError, httpauth.AuthError) as exc:
        head = exc.response if isinstance(exc, HttpError) else None
        if facts.step == f.STEP_CONNECT and head is not None and head.status == 200:
            # Connect's head came, its body did not: the logon was accepted and the head's
            # cookies opened a session, which the Disconnect below closes, logged on the same
            # way (2.2.4.1: the cookies are in the head)
            if auth.outcome == f.REFUSED:
                auth.retry_outcome = f.ACCEPTED
            else:
                auth.outcome = f.ACCEPTED
            mapi.keep(head)
            facts.session = bool(mapi.jar)
        if facts.step == f.STEP_CONNECT and not auth.accepted:
            _failure(auth, exc)  # the logon itself got no verdict
        else:  # a step of the session got no answer
            facts.request, facts.error = facts.step, exc.kind
        _cut_off(facts, exc)
    finally:
        if mapi.jar:
            _disconnect(node, auth, conn, path, mapi, facts, deadline)
        elif conn is not None:
            conn.close()


def _disconnect(
    node: _Node,
    auth: f.Authentication,
    conn: Connection | None,
    path: str,
    mapi: _Mapi,
    facts: f.MapiLogon,
    deadline: Deadline,
) -> None:
    """Disconnect the session Connect opened (2.2.4.3), with the rest of the check's time."""
    step, facts.step = facts.step, f.STEP_DISCONNECT
    try:
        if conn is not None and conn.closed:
            conn = None
        if conn is not None:
            conn.deadline = deadline
        conn, response = _mapi_request(
            node, auth, conn, path, mapi.headers("Disconnect"), mapihttp.disconnect_body(),
            deadline,
        )  # fmt: skip
        facts.disconnected = response.status == 200
        TRACE(node.address, f"Disconnect: HTTP {response.status}")
        facts.step = step
    except (HttpError, httpauth.AuthError) as exc:
        if not facts.cut_off:
            _cut_off(facts, exc)
    finally:
        if conn is not None:
            conn.close()


def _mapi_request(
    node: _Node,
    auth: f.Authentication,
    conn: Connection | None,
    path: str,
    headers: list[tuple[str, str]],
    body: bytes,
    deadline: Deadline | None = None,
) -> tuple[Connection, Response]:
    """One request of the session: on the logged-on connection while the server keeps it (NTLM
    authenticates a connection), else on a new one logged on the way the node accepted."""
    if conn is not None and not conn.closed and auth.scheme != "Basic":
        response = conn.request("POST", path, node.host, headers, body)
        if response.status != 401:
            return conn, response
        conn.close()
    conn, answer = node.channel(auth, "POST", path, headers, body, deadline=deadline)
    if answer is None:  # pragma: no cover - channel reads an answer without a length
        raise HttpError("protocol", "no answer")
    return conn, answer


def mailbox_id(url: str) -> str:
    """The MailboxId of a published MailStore URL ("" without one)."""
    from urllib.parse import parse_qs, urlsplit

    try:
        query = urlsplit(url).query
    except ValueError:
        return ""
    return parse_qs(query).get("MailboxId", [""])[0]


def mapi_path(mailbox: str, url: str) -> str:
    """The path of the PING: the published MailStore URL's, else ``/mapi/emsmdb/?MailboxId=``."""
    if url.lower().startswith("https://"):
        rest = url.split("/", 3)
        path = "/" + rest[3] if len(rest) > 3 else ""
        if path.lower().startswith(EMSMDB_PATH) and all(32 < ord(c) < 127 for c in path):
            return path
    return f"{EMSMDB_PATH}?MailboxId={mailbox}"


# -- every node ---------------------------------------------------------------------------------


def logon_all(
    addresses: tuple[str, ...],
    port: int,
    host: str,
    account: Account,
    facts: f.LogonFacts,
    rpc: bool,
    mapi: bool,
    ca_file: str | None,
    deadline: Deadline,
    mapi_url: str = "",
    unbound: bool = False,
) -> None:
    """Every node concurrently, RPC and MAPI side by side on each; fills ``facts``."""
    ctx = client_context(verify=True, ca_file=ca_file, check_hostname=True)
    path = mapi_path(facts.mailbox, mapi_url)
    nodes = [_Node(a, port, host, account, ctx, deadline, unbound) for a in addresses]
    # Connect and PING end before the check does: a session opened is then disconnected
    session = Deadline(deadline.seconds, reserve=0)
    session.at = deadline.at - min(DISCONNECT_RESERVE, deadline.seconds / 5)
    mapi_nodes = [_Node(a, port, host, account, ctx, session, unbound) for a in addresses]
    if rpc:
        facts.rpc = [f.RpcLogon(a) for a in addresses]
    if mapi:
        facts.mapi = [f.MapiLogon(a) for a in addresses]
    work: list[tuple[str, int]] = []
    for i in range(len(nodes)):
        work += [("rpc", i)] if rpc else []
        work += [("mapi", i)] if mapi else []

    def run(item: tuple[str, int]) -> None:
        kind, i = item
        if kind == "rpc":
            assert facts.rpc is not None
            logon_rpc(nodes[i], facts.server, facts.rpc[i])
        else:
            assert facts.mapi is not None
            logon_mapi(mapi_nodes[i], path, facts.mapi[i], facts.legacy_dn, deadline)

    outcomes = fan_out(work, run, deadline)
    for (kind, i), (finished, outcome) in zip(work, outcomes, strict=True):
        target = (facts.rpc if kind == "rpc" else facts.mapi) or []
        item = target[i]
        if isinstance(outcome, BaseException):
            item.auth.detail = "internal"
            item.auth.outcome = item.auth.outcome or f.FAILED
            continue
        if not finished and not item.cut_off:  # still at work: never "not tried", never OK
            item.cut_off = item.step or (f.STEP_ECHO if kind == "rpc" else f.STEP_CONNECT)
        if not finished and not item.auth.outcome:
            item.auth.outcome, item.auth.detail = f.FAILED, "timeout"
        elif not finished and isinstance(item, f.RpcLogon):
            for endpoint in item.endpoints:  # still waiting at the deadline
                if not endpoint.outcome:
                    endpoint.outcome, endpoint.detail = f.CHANNEL_FAILED, "timeout"
