"""MAPI over HTTP mailbox logon of one node (``--logon`` with ``--mapi``): facts only.

``Connect`` with the mailbox's LegacyDN, a ``PING`` in the session it opened, ``Disconnect``.
The only server state the plugin touches is that session, and it is always disconnected: the
caller gives Connect and PING a deadline a little earlier than the check's, which leaves
Disconnect its time on the deadline path too.
"""

from __future__ import annotations

import os
import time

from ..facts import logon as f
from ..transport import TRACE, Deadline, mapihttp, wire_text
from ..transport import auth as httpauth
from ..transport.http import Connection, HttpError, Response
from .logon_node import Node, choose, cut_off, failure, trace_auth

EMSMDB_PATH = "/mapi/emsmdb/"
CLIENT_APPLICATION = "Outlook/16.0.17928.20114 (check_outlook_anywhere)"


def _random_guid() -> str:
    """A random (version 4) GUID in braces and capitals, as Outlook's X-ClientInfo carries it:
    what ``uuid.uuid4()`` makes, without the uuid module, which imports ``platform`` (a
    tenth of a Kerberos logon's start-up)."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4 (RFC 9562 5.4)
    raw[8] = (raw[8] & 0x3F) | 0x80  # the variant of RFC 9562
    h = raw.hex().upper()
    return f"{{{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}}}"


class _Mapi:
    """The headers of one client's MAPI requests ([MS-OXCMAPIHTTP] 2.2.3.3): X-ClientInfo on
    every one (MUST, 2.2.3.3.4), X-RequestId counting up, the session's cookies."""

    def __init__(self) -> None:
        self.client = _random_guid()
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


def logon_mapi(node: Node, path: str, facts: f.MapiLogon, user_dn: str, deadline: Deadline) -> None:
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
        if not choose(auth, node.account):
            facts.step = ""
            return
        probe = (mapi.headers("PING"), b"")  # never a second session to ask about the binding
        conn, response = node.authenticate(
            auth, conn, "POST", path, mapi.headers("Connect"),
            mapihttp.connect_body(user_dn), probe=probe,
        )  # fmt: skip
        trace_auth(node.address, "MAPI", auth)
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
            failure(auth, exc)  # the logon itself got no verdict
        else:  # a step of the session got no answer
            facts.request, facts.error = facts.step, exc.kind
        cut_off(facts, exc)
    finally:
        if mapi.jar:
            _disconnect(node, auth, conn, path, mapi, facts, deadline)
        elif conn is not None:
            conn.close()


def _disconnect(
    node: Node,
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
        if facts.cut_off:  # the step the deadline cut stays the one said; none is under way
            facts.step = ""
        else:
            cut_off(facts, exc)
    finally:
        if conn is not None:
            conn.close()


def _mapi_request(
    node: Node,
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
    if conn is not None:  # Basic logs on every request anew, on a connection of its own
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
