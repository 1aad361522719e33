"""Logging on to every node as Outlook does (``--logon``): facts only.

Per node, concurrently: with ``--rpc``, an authenticated echo of the RPC proxy, then a virtual
connection to each RPC endpoint Outlook uses (6001 mail store, 6002 directory referral, 6004
address book) of the EXCH server Autodiscover published, CONN/C2 on the OUT channel proving the
endpoint answered; with ``--mapi``, an authenticated PING of ``/mapi/emsmdb/``.

Account safety: the caller logs on only after Autodiscover accepted the credentials.  Per node
and protocol the first authentication decides: NTLM and Negotiate always carry the
``tls-server-end-point`` binding of the certificate that node presented; a logon refused with
the binding is retried once without it (to tell Extended Protection apart from a refused
account), and a logon refused twice is never tried again in this check.  The endpoints and the
PING reuse what was accepted.  Nothing changes on the server: an echo, channels that are closed
after CONN/C2, a PING.

Credentials go only over TLS that verifies for the host name (the chain against ``--ca-file``
or the system store), as with Autodiscover.
"""

from __future__ import annotations

import os
import ssl
import time
import uuid

from ..facts import logon as f
from ..transport import TRACE, Deadline, client_context, fan_out, rts, wire_text
from ..transport import auth as httpauth
from ..transport.http import Connection, HttpError, Response, auth_schemes

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
    __slots__ = ("password", "username")

    def __init__(self, username: str, password: str) -> None:
        self.username = username
        self.password = password

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
    ) -> tuple[Connection, Response | None]:
        """The first logon of this node and protocol, with the binding, and the one retry
        without it after a refusal; fills ``auth``.  Returns the connection and the answer to
        the accepted logon (None when none was accepted)."""
        if auth.scheme == "Basic":
            auth.binding_sent = False
            conn, response = self._attempt(conn, None, auth, method, path, headers, body, stream)
            auth.outcome = _outcome(response)
            return conn, response if auth.outcome == f.ACCEPTED else None
        auth.binding_sent = True
        conn, response = self._attempt(conn, True, auth, method, path, headers, body, stream)
        auth.outcome = _outcome(response)
        if auth.outcome == f.ACCEPTED and self.unbound:
            self._unbound(auth, method, path, headers, body)
        if auth.outcome != f.REFUSED:
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


def _choose(auth: f.Authentication) -> bool:
    """Pick the scheme from what the node offers; False (and why) when none can be used.
    Basic only where it is the only scheme offered: NTLM and Negotiate carry the binding."""
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


def logon_rpc(node: _Node, server: str, facts: f.RpcLogon) -> None:
    """The echo, then the endpoints; fills ``facts`` as it goes (a node still busy at the
    deadline is judged on what it did)."""
    auth = facts.auth
    conn: Connection | None = None
    try:
        conn, auth.offered, first = node.offered("RPC_IN_DATA", RPC_PATH, RPC_HEADERS)
        if first is not None and first.status != 401:
            # not asking for credentials at all: the --rpc probe judges that
            auth.detail = f"status-{first.status}"
            facts.echo, facts.status, facts.reason = "status", first.status, first.reason
            return
        if not _choose(auth):
            return
        conn, response = node.authenticate(auth, conn, "RPC_IN_DATA", RPC_PATH, RPC_HEADERS)
    except (HttpError, httpauth.AuthError) as exc:
        _failure(auth, exc)
        return
    finally:
        if conn is not None:
            conn.close()
    _trace_auth(node.address, "RPC", auth)
    if response is None:
        return
    _read_echo(facts, response)
    TRACE(node.address, f"echo: {facts.echo} {facts.echo_detail}".strip())
    if facts.echo != "ok":
        return
    endpoints = [f.Endpoint(port) for port in f.ENDPOINT_PORTS]
    facts.endpoints = endpoints
    fan_out(
        facts.endpoints, lambda endpoint: _virtual_connection(node, auth, server, endpoint),
        node.deadline,
    )  # fmt: skip
    for endpoint in endpoints:
        if not endpoint.outcome:
            endpoint.outcome, endpoint.detail = f.CHANNEL_FAILED, "timeout"
        TRACE(node.address, f"{endpoint.port}: {endpoint.outcome} {', '.join(endpoint.pdus)}")


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
    elif response.status == 503 and "rpc error" in response.reason.lower():
        endpoint.outcome = f.RPC_ERROR
        code = response.reason.lower().split("rpc error", 1)[1].strip(" :")
        endpoint.code = wire_text(code.split(" ", 1)[0], 16)
    else:
        endpoint.outcome = f.HTTP_STATUS
    return False


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


def logon_mapi(node: _Node, path: str, facts: f.MapiLogon) -> None:
    """The authenticated PING; fills ``facts``."""
    auth = facts.auth
    headers = [
        ("User-Agent", "Microsoft Office/16.0 (check_outlook_anywhere)"),
        ("Content-Type", "application/mapi-http"),
        ("X-RequestType", "PING"),
        ("X-RequestId", f"{{{uuid.uuid4()}}}:1"),
        ("X-ClientApplication", CLIENT_APPLICATION),
        ("Connection", "Keep-Alive"),
    ]
    conn: Connection | None = None
    try:
        conn, auth.offered, first = node.offered("POST", path, headers)
        if first is not None and first.status != 401:
            auth.detail = f"status-{first.status}"
            facts.status, facts.reason = first.status, first.reason
            facts.response_code = wire_text(first.header("X-ResponseCode") or "", 16)
            return
        if not _choose(auth):
            return
        conn, response = node.authenticate(auth, conn, "POST", path, headers, stream=True)
    except (HttpError, httpauth.AuthError) as exc:
        _failure(auth, exc)
        return
    finally:
        if conn is not None:
            conn.close()
    _trace_auth(node.address, "MAPI", auth)
    if response is not None:
        facts.status, facts.reason = response.status, response.reason
        facts.response_code = wire_text(response.header("X-ResponseCode") or "", 16)
        facts.elapsed = response.elapsed
        TRACE(node.address, f"PING: X-ResponseCode {facts.response_code or '(none)'}")


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
            logon_mapi(nodes[i], path, facts.mapi[i])

    outcomes = fan_out(work, run, deadline)
    for (kind, i), (finished, outcome) in zip(work, outcomes, strict=True):
        target = (facts.rpc if kind == "rpc" else facts.mapi) or []
        item = target[i]
        if isinstance(outcome, BaseException):
            item.auth.detail = "internal"
            item.auth.outcome = item.auth.outcome or f.FAILED
        elif not finished and not item.auth.outcome:
            item.auth.outcome, item.auth.detail = f.FAILED, "timeout"
        elif not finished and isinstance(item, f.RpcLogon):
            for endpoint in item.endpoints:  # still waiting at the deadline
                if not endpoint.outcome:
                    endpoint.outcome, endpoint.detail = f.CHANNEL_FAILED, "timeout"
