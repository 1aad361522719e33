"""MAPI over HTTP of the lab's Exchange front ends ([MS-OXCMAPIHTTP]): the mailbox logon of
``/mapi/emsmdb/?MailboxId=<exchange_server(host)>`` (Connect, PING and Disconnect), its sessions
and their cookies, each answer in the PROCESSING/DONE framing (see :mod:`.exchange`).
"""

from __future__ import annotations

import socket
import struct
import threading
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from ..network.http11 import Request, Response, Stream, chunk, head
from .logon_hosts import HOLD, LogonHost, exchange_server, legacy_dn

if TYPE_CHECKING:
    from .site import Seen, Site

# Connect's answer: MaxPollingInterval, MaxRetryCount, RetryDelay ([MS-OXCMAPIHTTP] 2.2.4.1.2)
POLLING = (900000, 6, 10000)
DN_PREFIX = "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"
ERROR_WRONG_SERVER = 0x00000478
ERROR_UNKNOWN_USER = 0x000003EB
# Every request MUST carry X-RequestType and X-RequestId (2.2.2.1, 2.2.3.3.1, 2.2.3.3.2) and
# X-ClientInfo (2.2.3.3.4); without one, the answer is X-ResponseCode 7, Missing Header
# (2.2.3.3.3)
REQUIRED_HEADERS = ("x-requesttype", "x-requestid", "x-clientinfo")


@dataclass
class Session:
    """One MAPI over HTTP session a Connect opened: who, and what happened in it."""

    address: str  # the node
    context: str  # the MapiContext cookie
    user_dn: str
    pings: int = 0
    closed: bool = False  # a Disconnect ended it
    # every X-ClientInfo its requests carried: one client's session keeps one (2.2.3.3.4)
    client_info: set[str] = field(default_factory=set)


class Mapi:
    """The MAPI over HTTP requests of every ``exchange`` site, and the sessions they opened."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sessions: dict[str, Session] = {}  # by MapiContext, every one opened

    def opened(self) -> list[Session]:
        """Every MAPI session opened since the last :meth:`clear`, in order."""
        with self._lock:
            return list(self.sessions.values())

    def clear(self) -> None:
        with self._lock:
            self.sessions.clear()

    def answer(
        self,
        host: LogonHost,
        site: Site,
        request: Request,
        seen: Seen,
        query: str,
        sock: socket.socket,
        stream: Stream,
        fe: list[tuple[str, str]],
    ) -> Response | None:
        """Connect, PING and Disconnect ([MS-OXCMAPIHTTP] 2.2.4.1, 2.2.6.3, 2.2.4.3), each
        answered 200 in the PROCESSING/DONE framing with the final X-ResponseCode after DONE
        (2.2.2.2, example 4.2), the strict reading: no client gets the code in the head only."""
        if request.streamed:
            return Response(413, "Request Entity Too Large", fe, b"", close=True)
        mailbox = parse_qs(query).get("MailboxId", [""])[0]
        if mailbox.lower() != exchange_server(host.host).lower():
            return Response(404, "Not Found", fe, b"")
        kind = request.headers.get("x-requesttype", "")
        cookies = _cookies(request.headers.get("cookie", ""))
        body, set_cookies = b"", []
        if request.method.upper() != "POST":
            code = "2"  # invalid verb
        elif not all(request.headers.get(h) for h in REQUIRED_HEADERS):
            code = "7"  # missing header
        elif kind.upper() == "CONNECT":
            code, body, set_cookies = self._connect(host, site, request, seen)
        elif kind.upper() not in ("PING", "DISCONNECT"):
            code = "5"  # invalid request type (the lab plays these three)
        elif "MapiContext" not in cookies:
            code = "13"  # missing cookie: PING and Disconnect belong to a session
        else:
            with self._lock:
                session = self.sessions.get(cookies["MapiContext"])
                alive = session is not None and not session.closed
                if session is not None:
                    session.client_info.add(request.headers.get("x-clientinfo", ""))
                if alive and session is not None and kind.upper() == "DISCONNECT":
                    session.closed = True
                elif alive and session is not None:
                    session.pings += 1
            seen.session = cookies["MapiContext"]
            if not alive:
                code = "10"  # session not found
            elif kind.upper() == "DISCONNECT":
                code, body = "0", struct.pack("<III", 0, 0, 0)
            elif host.name == "logon-ping-error":
                code = "10"
            elif site.stalls:
                stream.hold(HOLD)  # the PING is never answered
                return None
            else:
                code = "0"
        # the head's code; the final one follows DONE. logon-mapi-no-code sends neither: an
        # answer without the code every answer MUST carry (2.2.2.2, 2.2.3.3.3)
        coded = host.name != "logon-mapi-no-code"
        headers = [
            ("Content-Type", "application/mapi-http"),
            ("X-RequestType", kind or "PING"),
            ("X-RequestId", request.headers.get("x-requestid", "")),
            *([("X-ResponseCode", "0")] if coded else []),
            ("X-ServerApplication", "Exchange/15.02.1544.004"),
            *[("Set-Cookie", f"{name}={value}; path=/mapi/emsmdb") for name, value in set_cookies],
            *fe,
        ]
        if host.name == "logon-connect-stall" and set_cookies:
            # the session is open (its cookies are in the head, 2.2.4.1), the answer never
            # comes: a server that stalls in the middle of Connect
            chunked = [*headers, ("Transfer-Encoding", "chunked")]
            sock.sendall(head(200, "OK", chunked) + chunk(b"PROCESSING\r\n"))
            stream.hold(HOLD)
            return None
        final = f"X-ResponseCode: {code}\r\n" if coded else ""
        meta = f"PROCESSING\r\nDONE\r\n{final}X-ElapsedTime: 1\r\n\r\n"
        if request.version == "HTTP/1.0":  # no chunked coding for an HTTP/1.0 client
            return Response(200, "OK", headers, meta.encode() + body)
        return Response(200, "OK", headers, [b"PROCESSING\r\n", meta[12:].encode() + body])

    def _connect(
        self, host: LogonHost, site: Site, request: Request, seen: Seen
    ) -> tuple[str, bytes, list[tuple[str, str]]]:
        """Connect: the UserDn must be the mailbox's LegacyDN (ecUnknownUser otherwise); a
        session with its MapiContext and MapiSequence cookies."""
        user_dn, nul, rest = request.body.partition(b"\x00")
        if not nul or len(rest) < 20:
            return "12", b"", []  # invalid request body
        if host.name == "logon-mailbox-moved":
            return "0", struct.pack("<IIII", 0, ERROR_WRONG_SERVER, 0, 0), []
        if user_dn.decode("ascii", "replace").lower() != legacy_dn(host.host).lower():
            return "0", struct.pack("<IIII", 0, ERROR_UNKNOWN_USER, 0, 0), []
        context = uuid.uuid4().hex
        with self._lock:
            session = Session(site.address, context, user_dn.decode("ascii"))
            session.client_info.add(request.headers.get("x-clientinfo", ""))
            self.sessions[context] = session
        seen.session = context
        cookies = [("MapiContext", context), ("MapiSequence", uuid.uuid4().hex)]
        if host.name == "logon-mapi-garbage":  # a session, and no StatusCode to read
            return "0", b"\x00\xff\x13", cookies
        body = (
            struct.pack("<IIIII", 0, 0, *POLLING)
            + DN_PREFIX.encode()
            + b"\x00"
            + host.name.encode("utf-16-le")
            + b"\x00\x00"
            + struct.pack("<I", 0)
        )
        return "0", body, cookies


def _cookies(header: str) -> dict[str, str]:
    jar = {}
    for pair in header.split(";"):
        name, sep, value = pair.strip().partition("=")
        if sep:
            jar[name] = value
    return jar
