"""The hostile-input matrix: one row per thing a server can put into what the newest features
read, each row run as the plugin's own process and held to the contract of tests/contract.py
(one clean status line of the right state, in time), with the state an admin should get and a
pattern its words must contain.

* chunked HTTP framing (a size that is not hex, negative, huge; extensions, trailers, a body
  that never ends or is cut mid-chunk, Content-Length beside chunked) of Autodiscover's answer,
  of --mapi's and --rpc's healthcheck, of a MAPI logon's Connect and of an RPC logon's echo and
  OUT channel;
* MAPI over HTTP's meta-tags ([MS-OXCMAPIHTTP] 2.2.2.2: PROCESSING, PENDING, DONE before the
  body) and X-ResponseCode (2.2.3.3.3) of Connect and PING;
* the Kerberos token (``WWW-Authenticate: Negotiate``) an Autodiscover front end or a node
  answers a ticket with;
* the Auth metadata document of ``--auth-certificate`` and the healthcheck page of ``--health``.

What the lab or another test already plays is not repeated here (tests/test_autodiscover.py,
tests/test_frontdoors.py, tests/test_kerberos_edges.py; tests/test_http_body.py reads the same
framings in-process).  Every server is a TLS server of tests/edge_servers.py on 127.77.200.x:
one Autodiscover endpoint, named in the lab's DNS, whose answer depends on the mailbox asked for
(each row has its own), and one node per row (``-H`` the nodes' name, ``-I`` the row's node).
The answers no HTTP library would write are written as bytes through the connection's TLS.
"""

from __future__ import annotations

import base64
import json
import re
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from contrib.lab import Lab
from contrib.lab.endpoints import rts as lab_rts
from contrib.lab.network.http11 import Request, Response, chunk
from tests.conftest import Outcome, run_plugin
from tests.contract import CRITICAL, OK, assert_contract
from tests.edge_servers import (
    Issued,
    Route,
    Servers,
    issue,
    ok,
    raw,
    tapped_context,
    write_chain,
)
from tests.test_kerberos_edges import gss_wrapped, krb_error, settings

DEADLINE = 3.0  # -t of every row
HOST = "hostile-node.contoso.test"  # every node's name (its certificate's CN)
ENDPOINT = "hostile-autodiscover.contoso.test"
ENDPOINT_ADDRESS = "127.77.200.1"
FIRST_NODE = 10  # 127.77.200.10 is the first row's node
PATH = "/autodiscover/autodiscover.xml"
BASIC = ("WWW-Authenticate", 'Basic realm="hostile"')
RPC_SERVER = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0@contoso.com"  # the mailbox's EXCH Server


# The settings every Autodiscover row publishes when its answer reads: the nodes' name as the
# Outlook Anywhere and MAPI server, a MAPI URL (of which the logon reads the path) and LegacyDN
# (what a MAPI logon needs), and the mailbox's EXCH Server (what an RPC logon needs)
EXCH = f"<Protocol><Type>EXCH</Type><Server>{RPC_SERVER}</Server></Protocol>".encode()
SETTINGS = settings(HOST, 443).replace(b"</Action>", b"</Action>" + EXCH)
CHUNKED = "Transfer-Encoding: chunked"
CLOSE = "Connection: close"
END = b"0\r\n\r\n"


def head(*headers: str) -> bytes:
    """The status line "200 OK" and these headers (each "Name: value"), the blank line
    included."""
    return ("HTTP/1.1 200 OK\r\n" + "".join(f"{h}\r\n" for h in headers) + "\r\n").encode()


@dataclass(frozen=True)
class Row:
    id: str
    state: int
    pattern: str  # a regular expression searched in the first line (``long``: in all output)
    options: tuple[str, ...] = ()  # the plugin's options beside the target's
    routes: dict[str, Route] = field(default_factory=dict)  # the node's answers, by path
    # what the endpoint answers the row's mailbox (None: the settings, after the logon); a
    # row with either asks Autodiscover (--logon reads the mailbox's settings)
    autodiscover: Route | None = None
    kerberos: bool = False  # Autodiscover and the logon with a ticket of the test's KDC
    long: bool = False

    @property
    def asks_autodiscover(self) -> bool:
        return self.autodiscover is not None or "--logon" in self.options


def xml(*pieces: bytes, headers: tuple[str, ...] = (CHUNKED, CLOSE)) -> Route:
    """An Autodiscover answer (200, XML) of ``headers`` and the body ``pieces``."""
    return raw(head("Content-Type: text/xml; charset=utf-8", *headers) + b"".join(pieces))


def ad(row_id: str, state: int, pattern: str, answer: Route) -> Row:
    """An Autodiscover row: the endpoint answers the row's mailbox, credentials or not."""
    return Row(row_id, state, pattern, autodiscover=answer)


def not_answered(why: str) -> str:
    """The first line of an Autodiscover row whose endpoint's answer could not be read."""
    return rf"Autodiscover for \S+@contoso\.test: no endpoint answered \(last: {why}\)"


DOC = chunk(SETTINGS)
READ = (
    r"1/1 nodes OK: msstd:hostile-node\.contoso\.test matches the CN, .* as Autodiscover publishes"
)
INVALID = "invalid chunked encoding"
MIDDLE = "server closed the connection in the middle of a body"
AD_LATE = r"Autodiscover for \S+@contoso\.test: no answer in time"
AD_ROWS = [
    # -- chunked framing of Autodiscover's answer ---------------------------------------------
    ad("autodiscover chunk size not hex", CRITICAL, not_answered(INVALID),
       xml(b"zz\r\n", DOC, END)),
    ad("autodiscover negative chunk size", CRITICAL, not_answered(INVALID),
       xml(b"-5\r\nabcde\r\n", END)),
    ad("autodiscover chunk size of 17 hex digits", CRITICAL, not_answered(INVALID),
       xml(b"1" * 17 + b"\r\n", END)),
    ad("autodiscover chunk size 2**64-1, then the close", CRITICAL, not_answered(MIDDLE),
       xml(b"ffffffffffffffff\r\n", SETTINGS)),
    ad("autodiscover chunk without its CRLF", CRITICAL, not_answered(INVALID),
       xml(DOC[:-2], END)),
    ad("autodiscover cut mid-chunk, then the close", CRITICAL, not_answered(MIDDLE),
       xml(DOC[:200])),
    ad("autodiscover cut mid-chunk, the connection held", CRITICAL, AD_LATE,
       raw(head(CHUNKED) + DOC[:200], hold=8)),
    ad("autodiscover chunked body that never ends", CRITICAL, AD_LATE,
       raw(head(CHUNKED) + chunk(SETTINGS[:100]), repeat=chunk(b" "), hold=8)),
    ad("autodiscover chunk extensions", OK, READ,
       xml(b'%x;name="a;b";x\r\n' % len(SETTINGS), SETTINGS, b"\r\n", END)),
    ad("autodiscover chunked trailers", OK, READ,
       xml(DOC, b"0\r\nX-Trailer: 1\r\nX-Other: <b>\r\n\r\n")),
    # chunked wins over a Content-Length (RFC 7230 3.3.3)
    ad("autodiscover Content-Length beside chunked", OK, READ,
       xml(DOC, END, headers=(CHUNKED, "Content-Length: 5", CLOSE))),
]  # fmt: skip


# -- chunked framing of --mapi's and --rpc's answers --------------------------------------------

HEALTHY = ok(b"200 OK<br/>EX01.contoso.test", ("Content-Type", "text/html"))
WANTS_BASIC = Response(401, "Unauthorized", [BASIC, ("WWW-Authenticate", "NTLM")], b"")
WANTS_NEGOTIATE = Response(401, "Unauthorized", [("WWW-Authenticate", "Negotiate")], b"")


def probe_row(row_id: str, kind: str, state: int, pattern: str, health: Route) -> Row:
    """A --mapi or --rpc row: the node's healthcheck answers as ``health`` says, the rest as a
    healthy node does (401 offering Basic and NTLM without credentials)."""
    routes = {
        f"/{kind}/healthcheck.htm": health,
        "/mapi/emsmdb/": lambda _: WANTS_BASIC,
        "/rpc/rpcproxy.dll": lambda _: WANTS_BASIC,
    }
    return Row(row_id, state, pattern, (f"--{kind}",), routes)


def page(*pieces: bytes) -> Route:
    """A chunked healthcheck page of the body ``pieces``, then the close."""
    return raw(head("Content-Type: text/html", CHUNKED, CLOSE) + b"".join(pieces))


PAGE = chunk(b"200 OK<br/>EX01.contoso.test")
NODE = r"127\.77\.200\.\d+"
# the node's own read or the check's deadline, whichever ends first (the same instant)
NO_ANSWER = r"no answer (in time|within the deadline)"
RPC_OK = r"1/1 nodes OK: .*, rpcproxy\.dll 401 \(Basic, NTLM\)"
PROBE_ROWS = [
    probe_row("mapi healthcheck chunk size not hex", "mapi", CRITICAL,
              rf"{NODE}: MAPI over HTTP: {INVALID}", page(b"zz\r\n", PAGE, END)),
    probe_row("mapi healthcheck cut mid-chunk", "mapi", CRITICAL,
              rf"{NODE}: MAPI over HTTP: {MIDDLE}", page(PAGE[:12])),
    probe_row("mapi healthcheck chunked, never ends", "mapi", CRITICAL,
              rf"{NODE}: MAPI over HTTP: {NO_ANSWER}",
              raw(head(CHUNKED) + PAGE, repeat=chunk(b"."), hold=8)),
    probe_row("mapi healthcheck chunk extensions and trailers", "mapi", OK,
              r"1/1 nodes OK: .*, MAPI over HTTP answers",
              page(b"1c;a=1\r\n200 OK<br/>EX01.contoso.test\r\n0;z\r\nX-T: 1\r\n\r\n")),
    # the RPC proxy's healthcheck only names the server: unread, it takes nothing from the node
    probe_row("rpc healthcheck chunk size not hex", "rpc", OK, RPC_OK,
              page(b"zz\r\n", PAGE, END)),
    probe_row("rpc healthcheck chunked, never ends", "rpc", OK, RPC_OK,
              raw(head(CHUNKED) + PAGE, repeat=chunk(b"."), hold=8)),
]  # fmt: skip


# -- MAPI over HTTP: a logon's Connect and PING, their framing and X-ResponseCode ------------

COOKIES = (
    "Set-Cookie: MapiContext=c0ffee; path=/mapi/emsmdb",
    "Set-Cookie: MapiSequence=1; path=/mapi/emsmdb",
)
# Connect's answer (2.2.4.1.2): StatusCode, ErrorCode, the polling figures, DnPrefix,
# DisplayName, an empty auxiliary buffer
CONNECTED = (
    struct.pack("<IIIII", 0, 0, 900000, 6, 10000)
    + b"/o=Contoso\x00"
    + "EX01".encode("utf-16-le")
    + b"\x00\x00"
    + struct.pack("<I", 0)
)
META = b"PROCESSING\r\nDONE\r\nX-ResponseCode: 0\r\nX-ElapsedTime: 1\r\n\r\n"
MAPI_HEAD = ("Content-Type: application/mapi-http", "X-ResponseCode: 0")


def mapi_answer(body: bytes, *headers: str, code: str | None = "0") -> Route:
    """A MAPI answer of ``body`` with a Content-Length, X-ResponseCode ``code`` in its head."""
    coded = (f"X-ResponseCode: {code}",) if code is not None else ()
    length = f"Content-Length: {len(body)}"
    return raw(head("Content-Type: application/mapi-http", *coded, *headers, length, CLOSE) + body)


def connect_chunked(*pieces: bytes) -> Route:
    """Connect's answer, chunked: its head sets the session's cookies."""
    return raw(head(*MAPI_HEAD, *COOKIES, CHUNKED, CLOSE) + b"".join(pieces))


CONNECT_OK = mapi_answer(META + CONNECTED, *COOKIES)
PING_OK = mapi_answer(META)


def logon_row(
    row_id: str, state: int, pattern: str, connect: Route = CONNECT_OK, ping: Route = PING_OK
) -> Row:
    """A MAPI logon row (Basic): the node answers Connect and PING as given, Disconnect as a
    healthy node does."""

    def emsmdb(request: Request) -> Response | bytes | None:
        if "authorization" not in request.headers:
            return WANTS_BASIC
        kind = request.headers.get("x-requesttype", "").lower()
        return {"connect": connect, "ping": ping}.get(kind, PING_OK)(request)

    routes = {"/mapi/healthcheck.htm": lambda _: HEALTHY, "/mapi/emsmdb/": emsmdb}
    return Row(row_id, state, pattern, MAPI_LOGON, routes)


MAPI_LOGON = ("--auth", "basic", "--mapi", "--logon")
LOGGED_ON = r"1/1 nodes OK: .*, logged on: mailbox logon"
REFUSED = rf"{NODE}: mailbox logon refused: Connect answered"
BODY = META + CONNECTED
LOGON_ROWS = [
    logon_row("connect chunk size not hex", CRITICAL,
              rf"{NODE}: MAPI Connect failed: an invalid HTTP answer",
              connect_chunked(b"zz\r\n", chunk(BODY), END)),
    logon_row("connect cut mid-chunk", CRITICAL,
              rf"{NODE}: MAPI Connect failed: the server closed the connection during the logon",
              connect_chunked(chunk(BODY)[:30])),
    logon_row("connect chunk extensions and trailers", OK, LOGGED_ON,
              connect_chunked(b'%x;x="y"\r\n' % len(BODY), BODY, b"\r\n0\r\nX-T: 1\r\n\r\n")),
    # -- the meta-tags ([MS-OXCMAPIHTTP] 2.2.2.2) --
    logon_row("connect without meta-tags", OK, LOGGED_ON, mapi_answer(CONNECTED, *COOKIES)),
    logon_row("connect with a garbled meta-tag", CRITICAL,
              f"{REFUSED} without StatusCode and ErrorCode",
              mapi_answer(b"PROCESSING\r\nPEND\x00ING\r\n" + META[12:] + CONNECTED, *COOKIES)),
    logon_row("connect PENDING for ever", CRITICAL,
              rf"{NODE}: MAPI logon cut off by the deadline during Connect",
              raw(head(*MAPI_HEAD, *COOKIES, CHUNKED) + chunk(b"PROCESSING\r\n"),
                  repeat=chunk(b"PENDING\r\n"), every=0.1, hold=8)),
    # the body read as header lines: its codes are not found
    logon_row("connect DONE without headers", CRITICAL,
              f"{REFUSED} without StatusCode and ErrorCode",
              mapi_answer(b"PROCESSING\r\nDONE\r\n" + CONNECTED, *COOKIES)),
    logon_row("connect meta-tag line of 2 MB", CRITICAL,
              rf"{NODE}: MAPI Connect failed: an answer too big",
              mapi_answer(b"PROCESSING" + b"G" * 2_000_000 + b"\r\n" + META[12:] + CONNECTED,
                          *COOKIES)),
    # -- X-ResponseCode ([MS-OXCMAPIHTTP] 2.2.3.3.3) --
    logon_row("connect X-ResponseCode only in the head", OK, LOGGED_ON,
              mapi_answer(b"PROCESSING\r\nDONE\r\n\r\n" + CONNECTED, *COOKIES)),
    logon_row("connect X-ResponseCode not a number, with markup", CRITICAL,
              rf"{REFUSED} X-ResponseCode zero\\x3cb\\x3e",
              mapi_answer(META.replace(b": 0", b": zero<b>&") + CONNECTED, *COOKIES,
                          code="zero<b>&")),
    logon_row("connect X-ResponseCode of 8000 digits", CRITICAL,
              rf"{REFUSED} X-ResponseCode 9{{16}} \[",
              mapi_answer(META.replace(b": 0", b": " + b"9" * 8000) + CONNECTED, *COOKIES,
                          code="9" * 8000)),
    logon_row("ping X-ResponseCode with an escape sequence", CRITICAL,
              rf"{NODE}: MAPI PING answered X-ResponseCode \?\[31m0 \[",
              ping=mapi_answer(META.replace(b": 0", b": \x1b[31m0"), code="\x1b[31m0")),
    logon_row("ping without X-ResponseCode", CRITICAL,
              rf"{NODE}: MAPI PING answered 200 OK without X-ResponseCode",
              ping=mapi_answer(b"PROCESSING\r\nDONE\r\n\r\n", code=None)),
]  # fmt: skip


# -- RPC over HTTP: a logon's echo and OUT channels, their chunked framing --------------------

RPC = "/rpc/rpcproxy.dll"
OUT_HEAD = head("Content-Type: application/rpc", CHUNKED)
HELD = raw(hold=8)  # the IN channel: open, silent, until the client closes it
ECHOED = raw(head("Content-Type: application/rpc", CHUNKED, CLOSE) + chunk(lab_rts.echo()) + END)
REACHED = raw(OUT_HEAD + chunk(lab_rts.conn_a3()) + chunk(lab_rts.conn_c2()), hold=8)


def rpc_logon_row(
    row_id: str, state: int, pattern: str, echo: Route = ECHOED, out: Route = REACHED
) -> Row:
    """An RPC logon row (Basic): the echo and the mail store's OUT channel (both on the 6001
    path) answer as given, the other endpoints' OUT channels send CONN/A3 and CONN/C2."""

    def port(out: Route) -> Route:
        def answer(request: Request) -> Response | bytes | None:
            if "authorization" not in request.headers:
                return WANTS_BASIC
            if request.method == "RPC_OUT_DATA":
                return out(request)
            return HELD(request) if request.streamed else echo(request)

        return answer

    routes = {
        "/rpc/healthcheck.htm": lambda _: HEALTHY,
        RPC: lambda _: WANTS_BASIC,
        f"{RPC}?{RPC_SERVER}:6001": port(out),
        f"{RPC}?{RPC_SERVER}:6002": port(REACHED),
        f"{RPC}?{RPC_SERVER}:6004": port(REACHED),
    }
    return Row(row_id, state, pattern, ("--auth", "basic", "--rpc", "--logon"), routes)


A3 = chunk(lab_rts.conn_a3())
C2 = lab_rts.conn_c2()
ECHO_HEAD = head("Content-Type: application/rpc", CHUNKED, CLOSE)
RPC_FAILED = rf"{NODE}: RPC logon failed \(Basic\): "
NO_C2 = rf"{NODE}: endpoint 6001 mail store did not answer through the RPC proxy \("
ENDPOINTS_OK = r"1/1 nodes OK: .*, logged on: echo, 6001/6002/6004"
RPC_LOGON_ROWS = [
    rpc_logon_row("rpc echo chunk size not hex", CRITICAL,
                  f"{RPC_FAILED}an invalid HTTP answer", echo=raw(ECHO_HEAD + b"zz\r\n" + END)),
    rpc_logon_row("rpc echo cut mid-chunk", CRITICAL,
                  f"{RPC_FAILED}the server closed the connection during the logon",
                  echo=raw(ECHO_HEAD + chunk(lab_rts.echo())[:10])),
    rpc_logon_row("rpc OUT channel chunk extensions and trailers", OK, ENDPOINTS_OK,
                  out=raw(OUT_HEAD + b"1c;x=1\r\n" + lab_rts.conn_a3() + b"\r\n" + chunk(C2)
                          + b"0\r\nX-T: 1\r\n\r\n")),
    # a chunk's data is read as it comes: a size no body reaches holds whole PDUs all the same
    rpc_logon_row("rpc OUT channel one chunk of 2**64-1 bytes", OK, ENDPOINTS_OK,
                  out=raw(OUT_HEAD + b"ffffffffffffffff\r\n" + lab_rts.conn_a3() + C2, hold=8)),
    rpc_logon_row("rpc OUT channel chunk size not hex after CONN/A3", CRITICAL,
                  rf"{NO_C2}an invalid HTTP answer before CONN/C2\)",
                  out=raw(OUT_HEAD + A3 + b"zz\r\n", hold=8)),
    rpc_logon_row("rpc OUT channel negative chunk size", CRITICAL,
                  rf"{NO_C2}an invalid HTTP answer before CONN/C2\)",
                  out=raw(OUT_HEAD + A3 + b"-10\r\n", hold=8)),
    rpc_logon_row("rpc OUT channel cut mid-chunk", CRITICAL,
                  rf"{NO_C2}the proxy closed the OUT channel before CONN/C2, only CONN/A3\)",
                  out=raw(OUT_HEAD + A3 + chunk(C2)[:20])),
    rpc_logon_row("rpc OUT channel padding chunks for ever", CRITICAL,
                  rf"{NO_C2}no CONN/C2 within the deadline, only CONN/A3",
                  out=raw(OUT_HEAD + A3, repeat=chunk(lab_rts.padding(16)), hold=8)),
]  # fmt: skip


# -- the Auth metadata document (--auth-certificate) and the healthcheck pages (--health) ----


def signing_key(value: object) -> dict[str, object]:
    return {"usage": "signing", "keyvalue": {"type": "x509Certificate", "value": value}}


def metadata_row(row_id: str, state: int, pattern: str, value: object) -> Row:
    """An --auth-certificate row: the document is ``value`` as JSON (bytes: as they are)."""
    body = value if isinstance(value, bytes) else json.dumps(value).encode()
    return auth_row(
        row_id, state, pattern, lambda _: ok(body, ("Content-Type", "application/json"))
    )


def auth_row(row_id: str, state: int, pattern: str, route: Route, long: bool = False) -> Row:
    return Row(row_id, state, pattern, ("--auth-certificate",), {METADATA: route}, long=long)


def health_row(row_id: str, state: int, pattern: str, route: Route) -> Row:
    return Row(row_id, state, pattern, ("--health", "mapi"), {"/mapi/healthcheck.htm": route})


def der_of(issued: Issued, size: int | None = None) -> dict[str, object]:
    """``keys`` of one signing key: ``issued``'s certificate (its first ``size`` bytes)."""
    return {"keys": [signing_key(base64.b64encode(issued.der[:size]).decode())]}


METADATA = "/autodiscover/metadata/json/1"
MARKUP_CN = issue("Microsoft Exchange <b>Auth</b> & \x1b[31mCertificate")
PEM_TEXT = base64.b64encode(MARKUP_CN.pem).decode()
NONE_PUBLISHED = ", no node publishes the Exchange Auth certificate"
NO_PARSE = r"publishes a signing key whose certificate does not parse \(not a DER X\.509"
NOT_METADATA = f"Auth metadata is JSON without a keys\\[\\] list{NONE_PUBLISHED}"
HEALTH_OK = r"1/1 nodes OK: .*, 1/1 healthcheck\.htm OK"
DOOR_ROWS = [
    metadata_row("metadata not UTF-8", CRITICAL,
                 rf"{NODE}: Auth metadata is not JSON \(not UTF-8\){NONE_PUBLISHED}",
                 b'{"keys": ["\xff\xfe"]}'),
    metadata_row("metadata a JSON string", CRITICAL, NOT_METADATA, "keys"),
    metadata_row("metadata without keys", CRITICAL, NOT_METADATA, {"id": "_x"}),
    metadata_row("metadata keys a string", CRITICAL, NOT_METADATA, {"keys": "signing"}),
    metadata_row("metadata keyvalue a list", CRITICAL,
                 rf"Auth metadata publishes no x509Certificate signing key{NONE_PUBLISHED}",
                 {"keys": [{"usage": "signing", "keyvalue": []}]}),
    metadata_row("metadata certificate value a number", CRITICAL,
                 r"Auth metadata publishes a signing key whose certificate is not valid base64",
                 {"keys": [signing_key(12345)]}),
    metadata_row("metadata certificate base64 of PEM", CRITICAL, NO_PARSE,
                 {"keys": [signing_key(PEM_TEXT)]}),
    metadata_row("metadata certificate cut short", CRITICAL, NO_PARSE, der_of(MARKUP_CN, 200)),
    metadata_row("metadata certificate a DER INTEGER", CRITICAL, NO_PARSE,
                 {"keys": [signing_key(base64.b64encode(b"\x02\x01\x00").decode())]}),
    auth_row("metadata certificate CN with markup and an escape sequence", OK,
             r"Auth certificate Microsoft Exchange \\x3cb\\x3eAuth\\x3c/b\\x3e \\x26"
             r" \?\[31mCertificate, \d+\.\d days left",
             lambda _: ok(json.dumps(der_of(MARKUP_CN)).encode()), long=True),
    auth_row("metadata chunk size not hex", CRITICAL,
             rf"{NODE}: Auth metadata not read: {INVALID}{NONE_PUBLISHED}",
             raw(head(CHUNKED, CLOSE) + b"zz\r\n" + END)),
    # the page's status decides; what follows "<br/>" is shown only as a name, cleaned
    health_row("health binary body", OK, HEALTH_OK,
               lambda _: ok(b"200 OK<br/>\x00\x1b[2J\xff\xfeEX01\x7f")),
    health_row("health markup body", OK, HEALTH_OK,
               lambda _: ok(b"200 OK<br/>EX01<script>alert('&')</script")),
    health_row("health server name of 10000 characters", OK, HEALTH_OK,
               lambda _: ok(b"200 OK<br/>" + b"E" * 10000)),
    health_row("health a login page", OK, HEALTH_OK,
               lambda _: ok(b"<html><body><form>Sign in</form></body></html>")),
    health_row("health chunked, never ends", CRITICAL,
               rf"{NODE}: mapi is down: /mapi/healthcheck\.htm not read: {NO_ANSWER}",
               raw(head(CHUNKED) + chunk(b"200 OK"), repeat=chunk(b"."), hold=8)),
    health_row("health negative chunk size", CRITICAL,
               rf"{NODE}: mapi is down: /mapi/healthcheck\.htm not read: {INVALID}",
               raw(head(CHUNKED, CLOSE) + b"-1\r\n" + END)),
]  # fmt: skip

ROWS: list[Row] = [*AD_ROWS, *PROBE_ROWS, *LOGON_ROWS, *RPC_LOGON_ROWS, *DOOR_ROWS]


# -- the Kerberos token an Autodiscover front end answers a ticket with -----------------------


def refused(*values: str) -> Route:
    """A 401 carrying these WWW-Authenticate values."""
    offers = [("WWW-Authenticate", v) for v in values]
    return lambda _: Response(401, "Unauthorized", offers, b"")


def token(data: bytes) -> str:
    return "Negotiate " + base64.b64encode(data).decode()


def kerberos_row(row_id: str, pattern: str, answer: Route) -> Row:
    """The endpoint answers the row's ticket as given."""
    pattern = rf"Autodiscover for \S+@contoso\.test: {pattern}"
    return Row(row_id, CRITICAL, pattern, autodiscover=answer, kerberos=True)


def kerberos_node_row(row_id: str, pattern: str, answer: Route) -> Row:
    """Autodiscover accepts the row's ticket; the node answers the MAPI logon's as given."""

    def emsmdb(request: Request) -> Response | bytes | None:
        if not request.headers.get("authorization", "").startswith("Negotiate "):
            return WANTS_NEGOTIATE
        return answer(request)

    routes = {"/mapi/healthcheck.htm": lambda _: HEALTHY, "/mapi/emsmdb/": emsmdb}
    pattern = rf"{NODE}: MAPI logon {pattern}"
    return Row(row_id, CRITICAL, pattern, ("--mapi", "--logon"), routes, kerberos=True)


SKEW = gss_wrapped(krb_error(37))
SKEWED = r"clock skew between the node and the KDC \(code 37\)"
# a token that does not read is a refusal like any other (tests/test_kerberos_edges.py)
WRONG = r"wrong user name or password \(HTTP 401\)"
NODE_REFUSED = r"refused \(Kerberos\) although Autodiscover accepted the credentials"
KERBEROS_ROWS = [
    kerberos_row("negotiate token cut short", WRONG, refused(token(SKEW[:-12]))),
    kerberos_row("negotiate token base64 without its padding", SKEWED,
                 refused(token(SKEW).rstrip("="))),
    kerberos_row("negotiate token base64 with a stray character", WRONG,
                 refused(token(SKEW)[:30] + "*" + token(SKEW)[30:])),
    kerberos_row("negotiate token of 4 KiB of noise", WRONG,
                 refused(token(bytes(range(256)) * 16))),
    kerberos_row("negotiate token of megabytes",
                 r"no endpoint answered \(last: a response line longer than 8192 bytes\)",
                 refused(token(b"\x60" * 1_500_000))),
    kerberos_row("negotiate token with markup", WRONG, refused("Negotiate <b>&amp;</b>")),
    kerberos_row("two negotiate tokens, the first read", SKEWED,
                 refused(token(SKEW), token(gss_wrapped(krb_error(41))))),
    kerberos_row("negotiate token a KRB-ERROR of an unknown code", WRONG,
                 refused(token(gss_wrapped(krb_error(999999))))),
    kerberos_row("negotiate token a KRB-ERROR in a 200",
                 r"the node's Kerberos mutual-authentication token does not verify",
                 lambda _: Response(200, "OK", [("WWW-Authenticate", token(SKEW))], SETTINGS)),
    # -- what a node answers the MAPI logon's ticket --
    kerberos_node_row("node negotiate token of megabytes",
                      r"failed \(Kerberos\): an invalid HTTP answer",
                      refused(token(b"\x60" * 1_500_000))),
    kerberos_node_row("node negotiate token not base64", NODE_REFUSED,
                      refused("Negotiate %%<b>%%")),
    kerberos_node_row("node negotiate token cut short", NODE_REFUSED, refused(token(SKEW[:-12]))),
    kerberos_node_row("node negotiate KRB-ERROR in a 200",
                      r"\(Kerberos\): the node's Kerberos mutual-authentication token does not"
                      r" verify",
                      lambda _: Response(200, "OK", [("WWW-Authenticate", token(SKEW))], b"")),
]  # fmt: skip
ALL_ROWS = [*ROWS, *KERBEROS_ROWS]


# -- the servers ------------------------------------------------------------------------------


def mailbox(row: Row) -> str:
    """The row's own mailbox: what the endpoint answers depends on it."""
    return f"{re.sub(r'[^a-z0-9]+', '-', row.id.lower()).strip('-')[:40]}@contoso.test"


SETTINGS_ANSWER = ok(SETTINGS, ("Content-Type", "text/xml; charset=utf-8"))


def endpoint(rows: list[Row]) -> Route:
    """The Autodiscover endpoint, by mailbox: a row's answer, credentials or not; a Kerberos
    row's answer, or the settings, after a Negotiate token; the settings after Basic
    credentials."""
    by_mailbox = {mailbox(row).split("@")[0]: row for row in rows if row.asks_autodiscover}
    assert len(by_mailbox) == sum(row.asks_autodiscover for row in rows), "a mailbox twice"

    def answer(request: Request) -> Response | bytes | None:
        found = re.search(rb"<EMailAddress>([^@<]+)@", request.body)
        row = by_mailbox[found.group(1).decode() if found else ""]
        authorization = request.headers.get("authorization", "")
        if row.kerberos and not authorization.startswith("Negotiate "):
            return WANTS_NEGOTIATE
        if row.autodiscover is not None:
            return row.autodiscover(request)
        if not row.kerberos and not authorization.startswith("Basic "):
            return Response(401, "Unauthorized", [BASIC], b"")
        return SETTINGS_ANSWER

    return answer


@dataclass
class World:
    lab: Lab
    servers: Servers
    root_file: Path
    password_file: str
    nodes: dict[str, str]  # the node of each row, by row id
    kdc_env: dict[str, str] = field(default_factory=dict)
    kdc_args: tuple[str, ...] = ()

    def run(self, row: Row) -> Outcome:
        port = str(self.servers.port)
        args = ["-H", HOST, "-I", self.nodes[row.id], "-p", port, "--ca-file", str(self.root_file)]
        args += ["--dns-server", self.lab.dns_server, "-t", f"{DEADLINE:g}", *row.options]
        if row.asks_autodiscover:
            url = f"https://{ENDPOINT}:{port}{PATH}"
            args += ["--autodiscover", mailbox(row), "--autodiscover-url", url]
            args += self.kdc_args if row.kerberos else ["--password-file", self.password_file]
        return run_plugin(*args, env=self.kdc_env if row.kerberos else None)


@pytest.fixture(scope="module")
def world(
    lab: Lab, password_file: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("hostile-inputs")
    root = issue("Hostile Inputs Root CA", ca=True)
    nodes = {row.id: f"127.77.200.{FIRST_NODE + i}" for i, row in enumerate(ALL_ROWS)}
    servers = Servers(tls=(ENDPOINT_ADDRESS, *nodes.values()))
    node_context = tapped_context(write_chain(folder, "node", issue(HOST, root)))
    servers.contexts[ENDPOINT_ADDRESS] = tapped_context(
        write_chain(folder, "endpoint", issue(ENDPOINT, root))
    )
    servers.route(ENDPOINT_ADDRESS, PATH, endpoint(ALL_ROWS))
    for row in ALL_ROWS:
        servers.contexts[nodes[row.id]] = node_context
        for path, route in row.routes.items():
            servers.route(nodes[row.id], path, route)
    lab.dns.set_records(ENDPOINT, "A", [ENDPOINT_ADDRESS])
    root_file = folder / "root.pem"
    root_file.write_bytes(root.pem)
    yield World(lab, servers, root_file, password_file, nodes)
    servers.close()
    lab.dns.set_records(ENDPOINT, "A", [])


def check(world: World, row: Row) -> None:
    out = world.run(row)
    assert_contract(out, DEADLINE)
    assert out.code == row.state, out.stdout
    where = out.stdout if row.long else out.status
    assert re.search(row.pattern, where), f"{row.pattern!r} not in {where!r}"


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_hostile_inputs(world: World, row: Row) -> None:
    check(world, row)


@pytest.fixture(scope="module")
def realm(world: World, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    """The world with a KDC of its own: the poller gets real tickets for the endpoint and the
    nodes, which answer them as a row says (they never read a ticket)."""
    from importlib.util import find_spec

    from contrib.lab.identities.kdc import Kdc, missing_programs
    from tests.test_logon_kerberos import missing

    absent = missing_programs() + ([] if find_spec("gssapi") else ["python-gssapi"])
    if absent:
        missing("Kerberos against the lab's KDC needs " + ", ".join(absent))
    with Kdc(tmp_path_factory.mktemp("hostile-kdc"), hosts=[ENDPOINT, HOST]) as kdc:
        world.kdc_env = kdc.env
        world.kdc_args = ("--username", kdc.user, "--keytab", str(kdc.user_keytab))
        yield world


@pytest.mark.parametrize("row", KERBEROS_ROWS, ids=[row.id for row in KERBEROS_ROWS])
def test_hostile_kerberos_tokens(realm: World, row: Row) -> None:
    check(realm, row)
