"""An Exchange front end in the lab: RPC over HTTP v2 and MAPI over HTTP behind a real logon,
as strict as Exchange 2013-SE where the specifications leave a choice (each place names its
section).

The hosts of :data:`LOGON_HOSTS` (``logon-*.contoso.test``, on 127.0.202.x, the web side's port)
play Client Access nodes the way Outlook meets them:

* Authentication on the HTTP layer: ``WWW-Authenticate: Negotiate`` and ``NTLM`` (pyspnego's
  acceptor, the lab account of :mod:`contrib.lab.endpoints.web`), or ``Basic`` alone on
  ``logon-basic``. With Extended Protection on (Require, or Accept on ``logon-ep-accept*``: a
  binding must be right when sent, none is taken too), an NTLM AUTHENTICATE's channel binding must
  equal ``tls-server-end-point`` of the certificate the node presents (:func:`tls_server_end_point`,
  RFC 5929 4.1: the certificate's signature hash; the hosts' certificates are signed with SHA-256,
  SHA-384 or SHA-512, :attr:`LogonHost.digest`); ``logon-ep-broken``'s second node binds another
  certificate (a TLS-offloading device): it refuses the real binding and accepts a logon without
  one. NTLM is connection-based: once a connection authenticated, its next requests need no
  ``Authorization`` header.
* ``/rpc/rpcproxy.dll?<server>:<port>`` ([MS-RPCH] 2.2.2: the query MUST be there, the echo's
  too; without it: 400): an echo (``RPC_IN_DATA``/``RPC_OUT_DATA`` with Content-Length 0..16)
  is answered ``200 Success`` with an RTS echo PDU. ``RPC_OUT_DATA`` carrying CONN/A1 opens an
  OUT channel: ``200 Success``, chunked to an HTTP/1.1 client (each PDU one chunk, as Exchange
  2013+ does), raw under Content-Length 1 GiB to an HTTP/1.0 one; CONN/A3, and CONN/C2 once the
  IN channel with the same virtual connection cookie (an ``RPC_IN_DATA`` to the same
  ``<server>:<port>`` whose body starts with CONN/B1) arrived. Both channels stay open until
  the client closes them. A 401 to a request whose 1 GiB body was not read ends the
  connection, so an IN channel sends its NTLM NEGOTIATE with Content-Length 0 first (as Outlook
  does) and CONN/B1 with the AUTHENTICATE. ``<server>`` must be the host's
  :func:`exchange_server` value and ``<port>`` one of 6001, 6002, 6004; anything else, and 6002
  on ``logon-503``, is answered ``HTTP/1.0 503 RPC Error: 6ba, EEInfo: <base64>`` (2.1.2.1.3).
* ``/mapi/healthcheck.htm`` (no logon), ``/mapi/emsmdb/`` and ``/mapi/nspi/``: 401 without
  credentials; authenticated, ``POST ...?MailboxId=<exchange_server(host)>`` plays a mailbox
  logon ([MS-OXCMAPIHTTP]): ``Connect`` (the UserDn must be the mailbox's :func:`legacy_dn`,
  else ErrorCode ecUnknownUser; ``logon-mailbox-moved`` answers ecWrongServer) opens a
  session with the ``MapiContext`` and ``MapiSequence`` cookies; ``PING`` and ``Disconnect``
  need that session (``X-ResponseCode`` 13 without the cookie, 10 for a session not found);
  every request needs ``X-ClientInfo`` (2.2.3.3.4; 7 without it). Answers are 200 in the
  PROCESSING/DONE framing with the final ``X-ResponseCode`` after DONE (2.2.2.2), chunked to
  HTTP/1.1 clients. :meth:`Front.opened` lists every session opened and whether it was closed.
  ``logon-ping-error`` answers a PING 10; a MailboxId of another mailbox is a 404.
* ``logon-stall``'s node 2, once logged on, answers neither the echo nor a PING.
* ``logon-connect-stall`` sends Connect's head (the session's cookies) and ``PROCESSING``, then
  nothing more.

The Autodiscover mailbox ``<first label>@contoso.test`` of each host publishes it
(:func:`protocols`): EXCH, EXPR, EXHTTP and WEB, or, asked with ``X-MapiHttpCapability: 1``,
mapiHttp, EXHTTP and WEB only ([MS-OXDSCLI] 3.2.5.1); ``User/LegacyDN`` in both.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import select
import socket
import struct
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, unquote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization

from ..network.http11 import Request, Response, Stream, chunk, head
from . import rts

if TYPE_CHECKING:
    from .site import Seen, Site

DOMAIN = "contoso.test"
PORTS = (6001, 6002, 6004)
"""Mail store (EMSMDB), directory referral, address book (NSPI)."""
ONE_GIB = 1 << 30
HOLD = 300.0
"""How long an open channel waits for its client at most (seconds)."""
BINDING = 0x000A  # MsvAvChannelBindings ([MS-NLMP] 2.2.2.1)


@dataclass(frozen=True)
class LogonHost:
    """One front-end host name: its nodes and how they behave."""

    name: str  # the first label, and the Autodiscover mailbox's local part
    nodes: int
    description: str
    # the signature hash of the certificate every node presents: Extended Protection binds to
    # a hash of it that differs with each (RFC 5929 4.1)
    digest: str = "sha256"

    @property
    def host(self) -> str:
        return f"{self.name}.{DOMAIN}"

    def schemes(self) -> tuple[str, ...]:
        if self.name.startswith("logon-krb"):
            return ("Negotiate",)  # Kerberos only: NTLM off, as Exchange SE CU1 plans it
        if self.name == "logon-ntlm-only":
            return ("NTLM",)
        return ("Basic",) if self.name == "logon-basic" else ("Negotiate", "NTLM")

    def kerberos(self, node: int) -> str:
        """The keytab node ``node`` accepts Kerberos with (contrib.lab.identities.kdc): current
        (the ASA's key), foreign (another key, same key version: a node with a stale ASA
        credential), stale (the key of the previous version: the ASA's password reset, this node
        not updated); "" where the node speaks no Kerberos."""
        if not self.name.startswith("logon-krb"):
            return ""
        if self.name == "logon-krb-stale" and node > 1:
            return "foreign" if node == 2 else "stale"
        return "current"

    def protection(self, node: int) -> str:
        """Extended Protection of node ``node`` (1-based): require, accept (a binding must be
        right when sent; none is accepted too), other-certificate or off."""
        if self.name in ("logon-ep-off", "logon-basic"):
            return "off"
        if self.name.startswith("logon-ep-accept"):
            return "accept"
        if self.name in ("logon-ep-broken", "logon-krb-offload") and node == 2:
            return "other-certificate"
        return "require"

    def refuses(self, node: int) -> bool:
        return self.name == "logon-refuse" and node == 3

    def stalls(self, node: int) -> bool:
        """Node 2 of logon-stall answers nothing once logged on: neither the echo nor the PING
        in the session its Connect opened."""
        return self.name == "logon-stall" and node == 2


LOGON_HOSTS: tuple[LogonHost, ...] = (
    LogonHost("logon-ok", 3, "EP on, echo, 6001/6002/6004 answer A3 then C2, mailbox logon"),
    LogonHost(
        "logon-ep-broken",
        3,
        "like logon-ok, node 2 binds another certificate than it presents",
        "sha384",
    ),
    LogonHost("logon-ep-off", 1, "EP off: a logon with or without binding is accepted"),
    LogonHost("logon-503", 1, "endpoint 6002 answers 503 RPC Error: 6ba", "sha512"),
    LogonHost("logon-no-c2", 1, "endpoint 6004: A3, then silence (never C2)"),
    LogonHost("logon-refuse", 3, "node 3 refuses the account (always 401)", "sha512"),
    LogonHost("logon-ping-error", 1, "MAPI PING answers X-ResponseCode 10", "sha384"),
    LogonHost("logon-basic", 1, "Basic only (no binding possible)"),
    LogonHost("logon-rts-garbage", 1, "hostile: echo and OUT channel answer random non-RTS bytes"),
    LogonHost("logon-endless-out", 1, "hostile: the OUT channel streams padding PDUs forever"),
    LogonHost("logon-ntlm-loop", 1, "hostile: every NTLM leg gets a fresh challenge, never OK"),
    LogonHost("logon-mapi-down", 1, "/mapi/healthcheck.htm answers 503"),
    LogonHost("logon-ok-sha384", 2, "like logon-ok, certificate signed SHA-384", "sha384"),
    LogonHost("logon-ok-sha512", 2, "like logon-ok, certificate signed SHA-512", "sha512"),
    LogonHost("logon-ep-accept", 2, "EP Accept: a binding must be right, none is accepted too"),
    LogonHost(
        "logon-ep-accept-sha384", 2, "like logon-ep-accept, certificate signed SHA-384", "sha384"
    ),
    LogonHost(
        "logon-ep-accept-sha512", 2, "like logon-ep-accept, certificate signed SHA-512", "sha512"
    ),
    LogonHost(
        "logon-stall",
        3,
        "node 2 stalls once logged on: no echo, no PING in its session",
        "sha384",
    ),
    LogonHost("logon-mailbox-moved", 1, "MAPI Connect answers ErrorCode 0x478 (wrong server)"),
    LogonHost(
        "logon-mapi-garbage",
        1,
        "hostile: Connect sets session cookies and answers 3 bytes of garbage for its body",
    ),
    LogonHost(
        "logon-connect-stall",
        1,
        "Connect opens a session (cookies in the head), sends PROCESSING, then stalls",
    ),
    # Kerberos (contrib.lab.identities.kdc, contrib.lab.identities.kerberos): Negotiate with
    # Kerberos only, NTLM refused, Extended Protection Require with Kerberos channel bindings
    LogonHost("logon-krb", 3, "Kerberos only (NTLM refused), EP Require"),
    LogonHost("logon-krb-stale", 3, "Kerberos only, node 2 another key, node 3 the previous one"),
    LogonHost("logon-krb-nospn", 1, "Kerberos only, and the KDC has no HTTP/<host>"),
    LogonHost("logon-krb-offload", 2, "Kerberos only, node 2 binds another certificate", "sha384"),
    LogonHost("logon-ntlm-only", 1, "NTLM only (no Negotiate: no Kerberos)"),
)
KERBEROS_SPNS = tuple(h.host for h in LOGON_HOSTS if h.kerberos(1) and h.name != "logon-krb-nospn")
"""The hosts whose ``HTTP/<host>`` the lab's KDC knows (Kdc(hosts=...))."""
BY_HOST = {h.host: h for h in LOGON_HOSTS}
MAILBOXES = {h.name: f"settings for {h.host}: {h.description}" for h in LOGON_HOSTS}


def exchange_server(host: str) -> str:
    """The EXCH ``Server`` Autodiscover publishes for ``host``'s mailbox, ``<GUID>@contoso.test``:
    the ``<server>`` of ``/rpc/rpcproxy.dll?<server>:<port>`` and the MAPI ``MailboxId``."""
    return f"{uuid.uuid5(uuid.NAMESPACE_DNS, host.lower())}@{DOMAIN}"


def legacy_dn(host: str) -> str:
    """The mailbox's LegacyDN, Autodiscover's ``User/LegacyDN``: the ``UserDn`` of a Connect."""
    name = host.split(".", 1)[0]
    return f"/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn={name}"


def protocols(host: str, port: int, mapi_capability: bool) -> str:
    """The Autodiscover ``Protocol`` blocks of ``host``'s mailbox.  Asked with
    ``X-MapiHttpCapability: 1``: mapiHttp, EXHTTP and WEB, never EXCH or EXPR ([MS-OXDSCLI]
    3.2.5.1, "MUST NOT"; example 4.4); asked without it: EXCH, EXPR, EXHTTP and WEB."""
    package = "Basic" if host == "logon-basic." + DOMAIN else "Ntlm"
    proxy = (
        f"<Server>{host}</Server><SSL>On</SSL><AuthPackage>{package}</AuthPackage>"
        f"<CertPrincipalName>msstd:{host}</CertPrincipalName>"
    )
    server = exchange_server(host)
    exhttp = f'<Protocol Type="EXHTTP"><Type>EXHTTP</Type>{proxy}</Protocol>'
    web = "<Protocol><Type>WEB</Type></Protocol>"
    blocks = [
        f"<Protocol><Type>EXCH</Type><Server>{server}</Server>"
        f"<ServerDN>/o=Contoso/ou=Exchange Administrative Group/cn=Configuration/cn=Servers/"
        f"cn={server}</ServerDN><AuthPackage>Anonymous</AuthPackage></Protocol>",
        f"<Protocol><Type>EXPR</Type>{proxy}</Protocol>",
        exhttp,
        web,
    ]
    if mapi_capability:
        blocks = [exhttp, web]
        base = f"https://{host}:{port}/mapi"
        store = f"{base}/emsmdb/?MailboxId={server}"
        book = f"{base}/nspi/?MailboxId={server}"
        blocks.insert(
            0,
            '<Protocol Type="mapiHttp" Version="1">'
            f"<MailStore><InternalUrl>{store}</InternalUrl><ExternalUrl>{store}</ExternalUrl>"
            f"</MailStore><AddressBook><InternalUrl>{book}</InternalUrl>"
            f"<ExternalUrl>{book}</ExternalUrl></AddressBook></Protocol>",
        )
    return "".join(blocks)


def tls_server_end_point(cert: x509.Certificate) -> bytes:
    """RFC 5929 channel-binding application data of ``cert``: the certificate's signature hash
    (SHA-256 in place of MD5 and SHA-1) of its DER form, after ``tls-server-end-point:``."""
    algorithm = cert.signature_hash_algorithm
    if algorithm is None or algorithm.name in ("md5", "sha1"):
        algorithm = hashes.SHA256()
    digest = hashes.Hash(algorithm)
    digest.update(cert.public_bytes(serialization.Encoding.DER))
    return b"tls-server-end-point:" + digest.finalize()


def ntlm_message_type(token: bytes) -> int:
    """1 NEGOTIATE, 2 CHALLENGE, 3 AUTHENTICATE; 0 when ``token`` is no NTLM message."""
    if len(token) < 12 or not token.startswith(b"NTLMSSP\x00"):
        return 0
    return int(struct.unpack_from("<I", token, 8)[0])


def carries_binding(token: bytes) -> bool:
    """Whether an NTLM AUTHENTICATE carries a non-zero MsvAvChannelBindings in its NTLMv2
    response ([MS-NLMP] 2.2.1.3, 2.2.2.7): the lab's own reading, not the acceptor's."""
    if ntlm_message_type(token) != 3 or len(token) < 28:
        return False
    length, _max, offset = struct.unpack_from("<HHI", token, 20)
    response = token[offset : offset + length]
    pos = 16 + 28  # NTProofStr, then the fixed part of NTLMv2_CLIENT_CHALLENGE
    while pos + 4 <= len(response):
        av_id, av_len = struct.unpack_from("<HH", response, pos)
        pos += 4
        if av_id == 0:  # MsvAvEOL
            break
        value = response[pos : pos + av_len]
        pos += av_len
        if av_id == BINDING:
            return any(value)
    return False


def _field(token: bytes, at: int) -> bytes:
    length, _max, offset = struct.unpack_from("<HHI", token, at)
    return token[offset : offset + length]


def ntlmv2_user(
    token: bytes,
    challenge: bytes,
    password: str,
    accounts: set[tuple[str, str]],
    binding: bytes | None,
) -> str | None:
    """The lab's own check of an NTLMv2 AUTHENTICATE ([MS-NLMP] 3.3.2), over the response's
    bytes as sent, as Windows checks it: the user ("DOMAIN\\user" or the UPN) whose password
    gives its NTProofStr, or None.  pyspnego's acceptor re-lays the client's AV pairs out before
    hashing them and so refuses clients (impacket's) that lay them out otherwise; the lab uses
    this where pyspnego refused.  ``binding``: the application data the MsvAvChannelBindings
    must hash to (all zeros is taken, as pyspnego does)."""
    from spnego._ntlm_raw.crypto import hmac_md5, ntowfv1, ntowfv2
    from spnego.channel_bindings import GssChannelBindings

    if ntlm_message_type(token) != 3 or len(token) < 64 or len(challenge) < 32:
        return None
    try:
        response = _field(token, 20)
        domain = _field(token, 28).decode("utf-16-le")
        user = _field(token, 36).decode("utf-16-le")
    except (struct.error, UnicodeDecodeError):
        return None
    if len(response) <= 24 or (domain.lower(), user.lower()) not in accounts:
        return None
    key = ntowfv2(user, ntowfv1(password), domain)
    if hmac_md5(key, challenge[24:32] + response[16:]) != response[:16]:
        return None
    if binding is not None:
        wanted = hashlib.md5(GssChannelBindings(application_data=binding).pack()).digest()
        sent = _av_pair(response, BINDING)
        if sent not in (wanted, bytes(16)):
            return None
    return f"{domain}\\{user}" if domain else user


def _av_pair(response: bytes, wanted: int) -> bytes | None:
    pos = 16 + 28  # NTProofStr, then the fixed part of NTLMv2_CLIENT_CHALLENGE
    while pos + 4 <= len(response):
        av_id, av_len = struct.unpack_from("<HH", response, pos)
        pos += 4
        if av_id == 0:
            return None
        if av_id == wanted:
            return response[pos : pos + av_len]
        pos += av_len
    return None


def fresh_challenge() -> bytes:
    """An NTLM CHALLENGE from a new acceptor (the NTLM-loop host's answer to every leg)."""
    import spnego

    negotiate = spnego.client("loop", "loop", protocol="ntlm").step()
    return spnego.server(protocol="ntlm").step(negotiate) or b""


Authenticate = Callable[["Site", Request, "Seen", dict[str, object]], "str | Response"]


class Channels:
    """The virtual connections: which CONN/B1 arrived, by virtual connection cookie."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._arrived: dict[bytes, tuple[threading.Event, list[str]]] = {}

    def _entry(self, cookie: bytes) -> tuple[threading.Event, list[str]]:
        with self._lock:
            if len(self._arrived) > 4096:  # channels whose partner never came
                self._arrived.clear()
            return self._arrived.setdefault(cookie, (threading.Event(), []))

    def in_channel(self, cookie: bytes, target: str) -> None:
        event, targets = self._entry(cookie)
        targets.append(target)
        event.set()

    def waiter(self, cookie: bytes) -> tuple[threading.Event, list[str]]:
        return self._entry(cookie)

    def forget(self, cookie: bytes) -> None:
        with self._lock:
            self._arrived.pop(cookie, None)


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


# An RPC extended error (EEInfo) as a front end appends it to "RPC Error: 6ba" ([MS-RPCH]
# 2.1.2.1.3, [MS-EERR]): the lab's is opaque bytes, only its form matters to a client.
EEINFO = "AAAAAAEAAAACAAAAAQAAAAAAAAA="
# Connect's answer: MaxPollingInterval, MaxRetryCount, RetryDelay ([MS-OXCMAPIHTTP] 2.2.4.1.2)
POLLING = (900000, 6, 10000)
DN_PREFIX = "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)"
ERROR_WRONG_SERVER = 0x00000478
ERROR_UNKNOWN_USER = 0x000003EB


class Front:
    """The request handling of every ``exchange`` site (see the module docstring)."""

    def __init__(self, authenticate: Authenticate, running: Callable[[], bool]) -> None:
        self.authenticate = authenticate
        self.running = running
        self.channels = Channels()
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
        site: Site,
        request: Request,
        seen: Seen,
        state: dict[str, object],
        sock: socket.socket,
        stream: Stream,
    ) -> Response | None:
        """The response, or None when the connection was served to its end here."""
        host = BY_HOST[site.host]
        path, _, query = request.path.partition("?")
        path = path.lower()
        fe = [("X-FEServer", site.label.split(".")[0])] if site.label else []
        if path == "/mapi/healthcheck.htm" and request.method.upper() == "GET":
            if host.name == "logon-mapi-down":
                return Response(503, "Service Unavailable", fe, b"", close=True)
            return Response(200, "OK", fe, f"200 OK<br/>{site.label}".encode())
        if path == "/rpc/healthcheck.htm" and request.method.upper() == "GET":
            return Response(200, "OK", fe, f"200 OK<br/>{site.label}".encode())
        if path in ("/mapi/emsmdb", "/mapi/emsmdb/", "/mapi/nspi", "/mapi/nspi/"):
            return self._authenticated(site, request, seen, state, fe) or self._mapi(
                host, site, request, seen, query, sock, stream, fe
            )
        if path == "/rpc/rpcproxy.dll":
            if request.length > 16 and not request.streamed:
                pdu = _first_pdu(request, stream)
                seen.rts = [pdu.name if pdu else "invalid"]
            refused = self._authenticated(site, request, seen, state, fe)
            if refused is not None:
                return refused
            if request.streamed and request.headers.get("expect", "").lower() == "100-continue":
                sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")  # logged on: now the body
            return self._rpc(host, site, request, seen, query, sock, stream, fe)
        return Response(404, "Not Found", fe, b"", close=request.streamed)

    def _authenticated(
        self,
        site: Site,
        request: Request,
        seen: Seen,
        state: dict[str, object],
        fe: list[tuple[str, str]],
    ) -> Response | None:
        """None when the request may go on, else the 401 to send."""
        user = self.authenticate(site, request, seen, state)
        if isinstance(user, Response):
            user.headers += fe
            # A body that was not read cannot be skipped: the connection ends with the 401.
            user.close = user.close or request.streamed
            return user
        return None

    # -- MAPI over HTTP -------------------------------------------------------------------

    def _mapi(
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
        seen.request_type = kind
        cookies = _cookies(request.headers.get("cookie", ""))
        body, set_cookies = b"", []
        if request.method.upper() != "POST":
            code = "2"  # invalid verb
        elif not kind or not request.headers.get("x-clientinfo"):
            code = "7"  # missing header: X-ClientInfo MUST be on every request (2.2.3.3.4)
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
                _hold(sock, stream)  # the PING is never answered
                return None
            else:
                code = "0"
        headers = [
            ("Content-Type", "application/mapi-http"),
            ("X-RequestType", kind or "PING"),
            ("X-RequestId", request.headers.get("x-requestid", "")),
            ("X-ResponseCode", "0"),  # the head's code; the final one follows DONE
            ("X-ServerApplication", "Exchange/15.02.1544.004"),
            *[("Set-Cookie", f"{name}={value}; path=/mapi/emsmdb") for name, value in set_cookies],
            *fe,
        ]
        if host.name == "logon-connect-stall" and set_cookies:
            # the session is open (its cookies are in the head, 2.2.4.1), the answer never
            # comes: a server that stalls in the middle of Connect
            chunked = [*headers, ("Transfer-Encoding", "chunked")]
            sock.sendall(head(200, "OK", chunked) + chunk(b"PROCESSING\r\n"))
            _hold(sock, stream)
            return None
        meta = f"PROCESSING\r\nDONE\r\nX-ResponseCode: {code}\r\nX-ElapsedTime: 1\r\n\r\n"
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

    # -- RPC over HTTP v2 -----------------------------------------------------------------

    def _rpc(
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
        method = request.method.upper()
        if method not in ("RPC_IN_DATA", "RPC_OUT_DATA"):
            return Response(405, "Method Not Allowed", fe, b"", close=request.streamed)
        application = [("Content-Type", "application/rpc"), *fe]
        server, colon, port_text = unquote(query).rpartition(":")
        if not colon:  # the ?<server>:<port> query MUST be there, echo included (2.2.2)
            return Response(400, "Bad Request", fe, b"", close=True)
        known = server.lower() == exchange_server(host.host).lower() and port_text in {
            str(p) for p in PORTS
        }
        # 2.1.2.1.3: the proxy's error is "HTTP/1.0 503 RPC Error: <hex>", here with the
        # optional ", EEInfo: <base64>" that Exchange appends
        error = Response(
            503, f"RPC Error: 6ba, EEInfo: {EEINFO}", fe, b"", close=True, version="HTTP/1.0"
        )
        if not request.streamed and request.length <= 16:  # an echo (MS-RPCH 2.1.2.1.5)
            if not known:
                return error
            if site.stalls:
                _hold(sock, stream)  # logged on, and then nothing
                return None
            body = _garbage(20) if host.name == "logon-rts-garbage" else rts.echo()
            return Response(200, "Success", application, body)
        first = _first_pdu(request, stream)
        if first is None:
            seen.rts = ["invalid"]
            return Response(400, "Bad Request", fe, b"", close=True)
        seen.rts = [first.name]
        if not known or (host.name == "logon-503" and port_text == "6002"):
            return error
        target = f"{server.lower()}:{port_text}"
        if method == "RPC_IN_DATA":
            if first.name == "CONN/B1":
                self.channels.in_channel(first.values(rts.COOKIE)[0], target)
            _hold(sock, stream)
            return None
        if first.name != "CONN/A1":
            return Response(400, "Bad Request", fe, b"", close=True)
        seen.status = 200
        # Exchange 2013+ streams the OUT channel to an HTTP/1.1 client chunked (what
        # sensepost/ruler reads and impacket de-chunks); an HTTP/1.0 client gets the raw
        # stream under a Content-Length of 1 GiB
        chunked = request.version != "HTTP/1.0"
        framing = ("Transfer-Encoding", "chunked") if chunked else ("Content-Length", str(ONE_GIB))
        sock.sendall(head(200, "Success", [*application, framing]))
        out = _Out(sock, chunked)
        self._out_channel(host, first, target, port_text, seen, out, stream)
        return None

    def _out_channel(
        self,
        host: LogonHost,
        a1: rts.Pdu,
        target: str,
        port: str,
        seen: Seen,
        out: _Out,
        stream: Stream,
    ) -> None:
        sock = out.sock
        if host.name == "logon-rts-garbage":
            seen.sent.append("garbage")
            out.send(_garbage(64))
            _hold(sock, stream)
            return
        seen.sent.append("CONN/A3")
        out.send(rts.conn_a3())
        if host.name == "logon-endless-out":
            block = rts.padding(4096 - 28) * 4
            seen.sent.append("padding")
            while self.running():
                out.send(block)
                time.sleep(0.01)
            return
        if host.name == "logon-no-c2" and port == "6004":
            _hold(sock, stream)
            return
        cookie = a1.values(rts.COOKIE)[0]
        event, targets = self.channels.waiter(cookie)
        try:
            ends = time.monotonic() + HOLD
            while not event.wait(0.25):
                if not self.running() or time.monotonic() > ends or _closed(sock):
                    return
            if target in targets:
                seen.sent.append("CONN/C2")
                out.send(rts.conn_c2())
        finally:
            self.channels.forget(cookie)
        _hold(sock, stream)


class _Out:
    """The OUT channel's body: each write one chunk, or raw bytes for an HTTP/1.0 client."""

    def __init__(self, sock: socket.socket, chunked: bool) -> None:
        self.sock = sock
        self.chunked = chunked

    def send(self, data: bytes) -> None:
        self.sock.sendall(chunk(data) if self.chunked else data)


def _cookies(header: str) -> dict[str, str]:
    jar = {}
    for pair in header.split(";"):
        name, sep, value = pair.strip().partition("=")
        if sep:
            jar[name] = value
    return jar


def _first_pdu(request: Request, stream: Stream) -> rts.Pdu | None:
    """The RTS PDU a channel's body starts with (read from the stream when it is streamed)."""
    try:
        if not request.streamed:
            return rts.parse(request.body[: rts.frag_length(request.body[:16])])
        header = stream.take(rts.HEADER_SIZE)
        if header is None:
            return None
        rest = stream.take(rts.frag_length(header) - rts.HEADER_SIZE)
        return None if rest is None else rts.parse(header + rest)
    except rts.RtsError:
        return None


def _closed(sock: socket.socket) -> bool:
    """Whether the client closed a channel it sends nothing more on (read without waiting)."""
    if not select.select([sock], [], [], 0)[0]:
        return False
    sock.settimeout(0.05)
    try:
        return not sock.recv(65536)
    except TimeoutError:
        return False
    finally:
        sock.settimeout(HOLD)


def _hold(sock: socket.socket, stream: Stream) -> None:
    """Keep a channel open until the client closes it (or :data:`HOLD` passes in silence)."""
    sock.settimeout(HOLD)
    with contextlib.suppress(OSError):
        stream.drain()


def _garbage(size: int) -> bytes:
    """Random bytes that are no RTS PDU (the first byte is no DCE/RPC version 5)."""
    data = bytes(random.Random(size).getrandbits(8) for _ in range(size))
    return b"\xff" + data[1:]
