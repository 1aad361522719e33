"""The lab's Exchange front ends (contrib/lab/endpoints/exchange.py) through a small real client:
raw sockets, ssl and pyspnego's NTLM initiator on loopback, not the plugin.

The client computes ``tls-server-end-point`` itself from the certificate it received and reads
the RTS PDUs with its own ``struct`` layout, so these tests hold the lab to the protocol, not to
its own helpers.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import select
import socket
import ssl
import struct
import threading
import xml.etree.ElementTree as ET
from collections.abc import Iterator

import dns.message
import dns.query
import pytest
import spnego
from spnego.channel_bindings import GssChannelBindings

from contrib.lab import Lab
from contrib.lab.endpoints.logon_hosts import exchange_server
from contrib.lab.identities.accounts import PASSWORD

ONE_GIB = 1073741824
RTS_HEADER = struct.Struct("<BBBB4sHHI")


@pytest.fixture(autouse=True)
def fresh_web(lab: Lab) -> Iterator[None]:
    lab.web.load_zone()
    lab.web.clear()
    yield


def end_point_hash(der: bytes) -> bytes:
    """RFC 5929 4.1, computed here: the certificate's signature hash, SHA-256 for MD5/SHA-1."""
    from cryptography import x509

    name = x509.load_der_x509_certificate(der).signature_hash_algorithm.name  # type: ignore[union-attr]
    return hashlib.new("sha256" if name in ("md5", "sha1") else name, der).digest()


class Reply:
    def __init__(self, status: int, reason: str, headers: list[tuple[str, str]], body: bytes):
        self.status, self.reason, self.headers, self.body = status, reason, headers, body
        self.version = "HTTP/1.1"

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]


class Client:
    """One TLS connection to one node, speaking HTTP/1.1 by hand."""

    def __init__(self, lab: Lab, host: str, node: int = 1) -> None:
        self.host = host
        self.address = lab.web.addresses(host)[node - 1]
        context = ssl.create_default_context(cafile=lab.ca_file)
        raw = socket.create_connection((self.address, lab.web.port), timeout=10)
        self.sock = context.wrap_socket(raw, server_hostname=host)
        self.buffer = b""
        self.chunk_left: int | None = None  # de-chunking a streamed body: bytes of this chunk
        der = self.sock.getpeercert(binary_form=True)
        assert der
        self.binding = b"tls-server-end-point:" + end_point_hash(der)

    def close(self) -> None:
        self.sock.close()

    def send(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        body: bytes = b"",
        version: str = "HTTP/1.1",
    ) -> None:
        lines = [f"{method} {path} {version}", f"Host: {self.host}"]
        lines += [f"{k}: {v}" for k, v in headers.items()]
        if "Content-Length" not in headers:
            lines.append(f"Content-Length: {len(body)}")
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def raw(self, n: int) -> bytes:
        while len(self.buffer) < n:
            chunk = self.sock.recv(65536)
            assert chunk, "the lab closed the connection"
            self.buffer += chunk
        data, self.buffer = self.buffer[:n], self.buffer[n:]
        return data

    def line(self) -> bytes:
        while b"\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, "the lab closed the connection"
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\r\n", 1)
        return line

    def read(self, n: int) -> bytes:
        """``n`` bytes of the body; de-chunked after a chunked head read without its body."""
        if self.chunk_left is None:
            return self.raw(n)
        data = b""
        while len(data) < n:
            if self.chunk_left == 0:
                self.chunk_left = int(self.line().split(b";")[0], 16)
                assert self.chunk_left, "the chunked body ended"
            part = self.raw(min(n - len(data), self.chunk_left))
            self.chunk_left -= len(part)
            data += part
            if self.chunk_left == 0:
                assert self.line() == b""
        return data

    def chunked_body(self) -> bytes:
        body = b""
        while size := int(self.line().split(b";")[0], 16):
            body += self.raw(size)
            assert self.line() == b""
        while self.line():
            pass
        return body

    def reply(self, body: bool = True) -> Reply:
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.sock.recv(65536)
            assert chunk, "the lab closed the connection"
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        version, status, reason = lines[0].split(" ", 2)
        headers = [(k.strip(), v.strip()) for k, _, v in (h.partition(":") for h in lines[1:])]
        reply = Reply(int(status), reason, headers, b"")
        reply.version = version
        chunked = reply.header("Transfer-Encoding").lower() == "chunked"
        if chunked and body:
            reply.body = self.chunked_body()
        elif chunked:
            self.chunk_left = 0
        length = int(reply.header("Content-Length") or 0)
        if body and not chunked and length < ONE_GIB:
            reply.body = self.raw(length)
        return reply

    def logon(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        *,
        bind: bytes | bool | None = True,
        user: str = "logon-ok@contoso.test",
        scheme: str = "NTLM",
        read_body: bool = True,
        version: str = "HTTP/1.1",
    ) -> Reply:
        self.start(
            method, path, headers, body, bind=bind, user=user, scheme=scheme, version=version
        )
        return self.reply(body=read_body)

    def start(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        *,
        bind: bytes | bool | None = True,
        user: str = "logon-ok@contoso.test",
        scheme: str = "NTLM",
        version: str = "HTTP/1.1",
    ) -> None:
        """NTLM: the NEGOTIATE with Content-Length 0, then the AUTHENTICATE with the request
        (no answer read). ``bind``: True the binding of the certificate received, None none,
        else the given application data."""
        data = self.binding if bind is True else (bind or None)
        bindings = GssChannelBindings(application_data=data) if data else None
        ntlm = spnego.client(
            user, PASSWORD, hostname=self.host, service="HTTP", channel_bindings=bindings,
            protocol="ntlm",
        )  # fmt: skip
        negotiate = base64.b64encode(ntlm.step()).decode()
        first = {**(headers or {}), "Authorization": f"{scheme} {negotiate}", "Content-Length": "0"}
        self.send(method, path, first, version=version)
        challenge = self.reply()
        assert challenge.status == 401, challenge.status
        token = next(
            v.split(" ", 1)[1] for v in challenge.all("WWW-Authenticate") if v.startswith(scheme)
        )
        answer = base64.b64encode(ntlm.step(base64.b64decode(token))).decode()
        final = {**(headers or {}), "Authorization": f"{scheme} {answer}"}
        self.send(method, path, final, body, version=version)


@pytest.fixture
def connect(lab: Lab) -> Iterator[object]:
    opened: list[Client] = []

    def make(host: str, node: int = 1) -> Client:
        client = Client(lab, host, node)
        opened.append(client)
        return client

    yield make
    for client in opened:
        client.close()


def rts(flags: int, commands: list[tuple[int, bytes]]) -> bytes:
    """An RTS PDU laid out by hand (MS-RPCH 2.2.3.6.1)."""
    body = struct.pack("<HH", flags, len(commands))
    body += b"".join(struct.pack("<I", t) + payload for t, payload in commands)
    return RTS_HEADER.pack(5, 0, 20, 3, b"\x10\0\0\0", 16 + len(body), 0, 0) + body


def conn_a1(connection: bytes) -> bytes:
    u32 = struct.Struct("<I").pack
    return rts(0, [(6, u32(1)), (3, connection), (3, os.urandom(16)), (0, u32(65536))])


def conn_b1(connection: bytes) -> bytes:
    u32 = struct.Struct("<I").pack
    commands = [(6, u32(1)), (3, connection), (3, os.urandom(16)), (4, u32(0x40000000))]
    return rts(0, [*commands, (5, u32(300000)), (12, os.urandom(16))])


def read_pdu(client: Client) -> tuple[int, list[int], bytes]:
    """Flags, command types and the bytes of the next RTS PDU on an OUT channel."""
    header = client.read(16)
    vers, minor, ptype, pfc, drep, length, auth, call = RTS_HEADER.unpack(header)
    assert (vers, minor, ptype, pfc, drep, auth, call) == (5, 0, 20, 3, b"\x10\0\0\0", 0, 0)
    pdu = header + client.read(length - 16)
    flags, count = struct.unpack_from("<HH", pdu, 16)
    types, offset = [], 20
    for _ in range(count):
        (kind,) = struct.unpack_from("<I", pdu, offset)
        types.append(kind)
        offset += 4 + {0: 4, 2: 4, 6: 4}.get(kind, 0)
        if kind == 8:
            offset += 4 + struct.unpack_from("<I", pdu, offset)[0]
    return flags, types, pdu


# -- DNS and certificates ---------------------------------------------------------------------


def test_hosts_resolve_to_their_nodes(lab: Lab) -> None:
    address, port = lab.dns_server.rsplit(":", 1)
    query = dns.message.make_query("logon-ok.contoso.test", "A")
    answer = dns.query.udp(query, address, port=int(port), timeout=5)
    found = sorted(r.address for rrset in answer.answer for r in rrset)
    assert found == ["127.0.202.1", "127.0.202.2", "127.0.202.3"]
    assert lab.web.addresses("logon-mapi-down.contoso.test") == ["127.0.202.18"]


# -- authentication and Extended Protection ---------------------------------------------------


WRONG_BINDING = b"tls-server-end-point:" + bytes(32)


def echo_path(host: str) -> str:
    """The echo's URL, with the ?<server>:<port> query every client sends ([MS-RPCH] 2.2.2)."""
    return f"/rpc/rpcproxy.dll?{exchange_server(host)}:6001"


@pytest.mark.parametrize(
    ("host", "node", "bind", "status"),
    [
        ("logon-ok.contoso.test", 1, True, 200),
        ("logon-ok.contoso.test", 3, True, 200),
        ("logon-ok.contoso.test", 2, None, 401),
        ("logon-ok.contoso.test", 1, WRONG_BINDING, 401),
        ("logon-ep-broken.contoso.test", 1, True, 200),
        ("logon-ep-broken.contoso.test", 1, None, 401),
        ("logon-ep-broken.contoso.test", 2, True, 401),
        ("logon-ep-broken.contoso.test", 2, None, 200),
        ("logon-ep-off.contoso.test", 1, True, 200),
        ("logon-ep-off.contoso.test", 1, None, 200),
        ("logon-refuse.contoso.test", 2, True, 200),
        ("logon-refuse.contoso.test", 3, True, 401),
        ("logon-refuse.contoso.test", 3, None, 401),
        ("logon-ep-accept.contoso.test", 1, True, 200),
        ("logon-ep-accept.contoso.test", 2, None, 200),
        ("logon-ep-accept.contoso.test", 1, WRONG_BINDING, 401),
        ("logon-ok-sha384.contoso.test", 1, True, 200),
        ("logon-ok-sha512.contoso.test", 2, True, 200),
        ("logon-ok-sha512.contoso.test", 1, WRONG_BINDING, 401),
        ("logon-ep-accept-sha512.contoso.test", 1, True, 200),
    ],
    ids=lambda v: (
        {True: "binding", None: "no-binding", WRONG_BINDING: "wrong-binding"}.get(v)
        if isinstance(v, (bool, bytes, type(None)))
        else None
    ),
)
def test_extended_protection(
    lab: Lab, connect: object, host: str, node: int, bind: object, status: int
) -> None:
    client = connect(host, node)  # type: ignore[operator]
    reply = client.logon("RPC_IN_DATA", echo_path(host), bind=bind)
    assert reply.status == status
    seen = lab.web.requests(address=client.address, path=echo_path(host))
    assert [(s.auth, s.outcome, s.binding) for s in seen] == [
        ("NTLM", "challenged", None),
        ("NTLM", "accepted" if status == 200 else "refused", bind is not None),
    ]
    if status == 401:
        offered = reply.all("WWW-Authenticate")
        assert offered == ["Negotiate", "NTLM"]


def test_wrong_password_is_refused(lab: Lab, connect: object) -> None:
    client = connect("logon-ep-off.contoso.test")  # type: ignore[operator]
    ntlm = spnego.client("logon-ok@contoso.test", "wrong", protocol="ntlm")
    client.send(
        "RPC_IN_DATA",
        "/rpc/rpcproxy.dll",
        {"Authorization": "NTLM " + base64.b64encode(ntlm.step()).decode()},
    )
    token = client.reply().header("WWW-Authenticate").split(" ", 1)[1]
    final = base64.b64encode(ntlm.step(base64.b64decode(token))).decode()
    client.send("RPC_IN_DATA", "/rpc/rpcproxy.dll", {"Authorization": f"NTLM {final}"})
    assert client.reply().status == 401
    assert [s.outcome for s in lab.web.requests(address=client.address)] == [
        "challenged",
        "refused",
    ]


def test_negotiate_and_the_authenticated_connection(lab: Lab, connect: object) -> None:
    client = connect("logon-ok.contoso.test", 2)  # type: ignore[operator]
    echo = echo_path("logon-ok.contoso.test")
    assert client.logon("RPC_OUT_DATA", echo, scheme="Negotiate").status == 200
    client.send("RPC_IN_DATA", echo, {})  # NTLM authenticated the connection
    assert client.reply().status == 200
    seen = lab.web.requests(address=client.address)
    assert [(s.auth, s.outcome, s.user) for s in seen][1:] == [
        ("Negotiate", "accepted", "logon-ok@contoso.test"),
        ("", "", "logon-ok@contoso.test"),
    ]


def test_basic_only(lab: Lab, connect: object) -> None:
    client = connect("logon-basic.contoso.test")  # type: ignore[operator]
    echo = echo_path("logon-basic.contoso.test")
    client.send("RPC_IN_DATA", echo, {})
    reply = client.reply()
    assert (reply.status, reply.all("WWW-Authenticate")) == (
        401,
        ['Basic realm="logon-basic.contoso.test"'],
    )
    basic = base64.b64encode(f"logon-basic@contoso.test:{PASSWORD}".encode()).decode()
    client.send("RPC_IN_DATA", echo, {"Authorization": f"Basic {basic}"})
    assert client.reply().status == 200
    assert [(s.auth, s.outcome) for s in lab.web.requests(address=client.address)] == [
        ("", ""),
        ("Basic", "accepted"),
    ]


def test_ntlm_loop_never_accepts(lab: Lab, connect: object) -> None:
    client = connect("logon-ntlm-loop.contoso.test")  # type: ignore[operator]
    ntlm = spnego.client("logon-ok@contoso.test", PASSWORD, protocol="ntlm")
    client.send(
        "RPC_IN_DATA",
        "/rpc/rpcproxy.dll",
        {"Authorization": "NTLM " + base64.b64encode(ntlm.step()).decode()},
    )
    first = client.reply()
    token = first.header("WWW-Authenticate").split(" ", 1)[1]
    final = base64.b64encode(ntlm.step(base64.b64decode(token))).decode()
    client.send("RPC_IN_DATA", "/rpc/rpcproxy.dll", {"Authorization": f"NTLM {final}"})
    second = client.reply()
    assert (first.status, second.status) == (401, 401)
    again = second.header("WWW-Authenticate")
    assert again.startswith("NTLM ") and again != first.header("WWW-Authenticate")
    assert base64.b64decode(again.split(" ", 1)[1])[8:12] == b"\x02\0\0\0"  # a CHALLENGE
    assert [s.outcome for s in lab.web.requests(address=client.address)] == [
        "challenged",
        "refused",
    ]


# -- RPC over HTTP v2 -------------------------------------------------------------------------


def test_echo(connect: object) -> None:
    client = connect("logon-ok.contoso.test")  # type: ignore[operator]
    reply = client.logon("RPC_IN_DATA", echo_path("logon-ok.contoso.test"))
    assert (reply.status, reply.reason, reply.header("Content-Type")) == (
        200,
        "Success",
        "application/rpc",
    )
    assert reply.body == bytes.fromhex("0500140310000000140000000000000040000000")


def test_an_echo_without_the_server_query_is_refused(connect: object) -> None:
    client = connect("logon-ok.contoso.test")  # type: ignore[operator]
    reply = client.logon("RPC_IN_DATA", "/rpc/rpcproxy.dll")
    assert reply.status == 400


def test_an_echo_refused_once_logged_on(lab: Lab, connect: object) -> None:
    client = connect("logon-echo-403.contoso.test")  # type: ignore[operator]
    reply = client.logon("RPC_IN_DATA", echo_path("logon-echo-403.contoso.test"))
    assert (reply.status, reply.reason) == (403, "Forbidden")
    assert reply.body[:1] != b"\x05"  # an error page, no RTS
    [accepted] = lab.web.requests(address=client.address, outcome="accepted")
    assert accepted.status == 403


def test_garbage_echo(connect: object) -> None:
    client = connect("logon-rts-garbage.contoso.test")  # type: ignore[operator]
    reply = client.logon("RPC_OUT_DATA", echo_path("logon-rts-garbage.contoso.test"))
    assert reply.status == 200 and len(reply.body) == 20 and reply.body[0] != 5


def open_channels(
    connect: object, host: str, port: int, node: int = 1, version: str = "HTTP/1.1"
) -> tuple[Client, Reply, Client]:
    """An OUT channel (CONN/A1) and an IN channel (CONN/B1 at the start of a 1 GiB body)."""
    cookie = os.urandom(16)
    path = f"/rpc/rpcproxy.dll?{exchange_server(host)}:{port}"
    out = connect(host, node)  # type: ignore[operator]
    a1 = conn_a1(cookie)
    assert len(a1) == 76
    answer = out.logon("RPC_OUT_DATA", path, body=a1, read_body=False, version=version)
    inbound = connect(host, node)  # type: ignore[operator]
    b1 = conn_b1(cookie)
    assert len(b1) == 104
    inbound.start("RPC_IN_DATA", path, {"Content-Length": str(ONE_GIB)}, b1)
    return out, answer, inbound


@pytest.mark.parametrize("port", [6001, 6002, 6004])
def test_endpoints_answer_a3_then_c2(lab: Lab, connect: object, port: int) -> None:
    host = "logon-ok.contoso.test"
    out, answer, _in_channel = open_channels(connect, host, port, node=2)
    assert (answer.status, answer.reason) == (200, "Success")
    # an HTTP/1.1 client gets the OUT channel chunked, as from Exchange 2013+
    assert answer.header("Transfer-Encoding") == "chunked"
    assert answer.header("Content-Length") == ""
    assert answer.header("Content-Type") == "application/rpc"
    flags, types, a3 = read_pdu(out)
    assert (flags, types, len(a3)) == (0, [2], 28)
    flags, types, c2 = read_pdu(out)
    assert (flags, types, len(c2)) == (0, [6, 0, 2], 44)
    assert struct.unpack_from("<I", c2, 24)[0] == 1  # Version 1
    address = out.address
    path = f"/rpc/rpcproxy.dll?{exchange_server(host)}:{port}"
    seen = [(s.method, s.outcome, s.binding, s.rts) for s in lab.web.requests(address=address)]
    assert seen == [
        ("RPC_OUT_DATA", "challenged", None, []),
        ("RPC_OUT_DATA", "accepted", True, ["CONN/A1"]),
        ("RPC_IN_DATA", "challenged", None, []),
        ("RPC_IN_DATA", "accepted", True, ["CONN/B1"]),
    ]
    assert {s.path for s in lab.web.requests(address=address)} == {path}
    assert lab.web.requests(address=address, method="RPC_OUT_DATA")[1].sent == [
        "CONN/A3",
        "CONN/C2",
    ]


def test_an_http_1_0_client_gets_the_out_channel_raw(connect: object) -> None:
    out, answer, _in_channel = open_channels(
        connect, "logon-ok.contoso.test", 6001, version="HTTP/1.0"
    )
    assert answer.status == 200
    assert (answer.header("Content-Length"), answer.header("Transfer-Encoding")) == (
        str(ONE_GIB), ""
    )  # fmt: skip
    assert out.chunk_left is None
    assert read_pdu(out)[1] == [2] and read_pdu(out)[1] == [6, 0, 2]


def test_each_pdu_of_the_out_channel_is_a_chunk(connect: object) -> None:
    out, _answer, _in_channel = open_channels(connect, "logon-ok.contoso.test", 6002)
    assert out.line() == b"1c"  # CONN/A3, 28 bytes
    assert len(out.raw(28)) == 28 and out.line() == b""
    assert out.line() == b"2c"  # CONN/C2, 44 bytes


def wait_for(lab: Lab, **match: object) -> None:
    """Until the lab logged such a request (bounded by the number of looks, not by a clock)."""
    for _ in range(500):
        if lab.web.requests(**match):
            return
        threading.Event().wait(0.01)
    raise AssertionError(f"the lab logged no request {match}")


def test_no_c2_endpoint(lab: Lab, connect: object) -> None:
    host = "logon-no-c2.contoso.test"
    silent, answer, _in_6004 = open_channels(connect, host, 6004)
    assert answer.status == 200 and read_pdu(silent)[1] == [2]
    wait_for(
        lab,
        method="RPC_IN_DATA",
        rts=["CONN/B1"],
        path=f"/rpc/rpcproxy.dll?{exchange_server(host)}:6004",
    )
    # Another endpoint of the same node, opened after: its C2 comes at once.
    out, answer, _in_6001 = open_channels(connect, host, 6001)
    assert read_pdu(out)[1] == [2] and read_pdu(out)[1] == [6, 0, 2]
    out_6004 = lab.web.requests(method="RPC_OUT_DATA", rts=["CONN/A1"])[0]
    assert out_6004.path.endswith(":6004") and out_6004.sent == ["CONN/A3"]
    assert not select.select([silent.sock], [], [], 0)[0] and not silent.sock.pending()


def test_in_channel_without_authentication_ends_with_the_401(lab: Lab, connect: object) -> None:
    host = "logon-ok.contoso.test"
    client = connect(host)  # type: ignore[operator]
    path = f"/rpc/rpcproxy.dll?{exchange_server(host)}:6001"
    client.send("RPC_IN_DATA", path, {"Content-Length": str(ONE_GIB)}, conn_b1(os.urandom(16)))
    reply = client.reply()
    assert reply.status == 401 and reply.header("Connection") == "close"
    assert client.sock.recv(1) == b""


def test_endpoint_503(lab: Lab, connect: object) -> None:
    host = "logon-503.contoso.test"
    out = connect(host)  # type: ignore[operator]
    path = f"/rpc/rpcproxy.dll?{exchange_server(host)}:6002"
    reply = out.logon("RPC_OUT_DATA", path, body=conn_a1(os.urandom(16)))
    # [MS-RPCH] 2.1.2.1.3: HTTP/1.0, the code in hex, the optional EEInfo
    assert (reply.version, reply.status) == ("HTTP/1.0", 503)
    assert re.fullmatch(r"RPC Error: 6ba, EEInfo: [A-Za-z0-9+/]+=*", reply.reason), reply.reason
    out, answer, _ = open_channels(connect, host, 6001)
    assert answer.status == 200
    assert read_pdu(out)[1] == [2] and read_pdu(out)[1] == [6, 0, 2]


def test_unknown_server_is_503(connect: object) -> None:
    out = connect("logon-ok.contoso.test")  # type: ignore[operator]
    path = "/rpc/rpcproxy.dll?ex01.contoso.test:6001"
    reply = out.logon("RPC_OUT_DATA", path, body=conn_a1(os.urandom(16)))
    assert (reply.status, reply.reason.split(",")[0]) == (503, "RPC Error: 6ba")


def test_endless_out_channel_never_sends_c2(connect: object) -> None:
    out, answer, _ = open_channels(connect, "logon-endless-out.contoso.test", 6001)
    assert answer.status == 200
    seen = [read_pdu(out)[1] for _ in range(64)]
    assert seen[0] == [2] and all(types == [8] for types in seen[1:])


def test_garbage_out_channel(connect: object) -> None:
    host = "logon-rts-garbage.contoso.test"
    out = connect(host)  # type: ignore[operator]
    path = f"/rpc/rpcproxy.dll?{exchange_server(host)}:6001"
    answer = out.logon("RPC_OUT_DATA", path, body=conn_a1(os.urandom(16)), read_body=False)
    assert answer.status == 200
    assert out.read(16)[:1] != b"\x05"


# -- MAPI over HTTP ---------------------------------------------------------------------------


def mapi_headers(kind: str, n: int = 1, info: bool = True) -> dict[str, str]:
    headers = {
        "Content-Type": "application/mapi-http",
        "X-RequestType": kind,
        "X-RequestId": f"{{E2EA6C1C-E61B-49E9-9CFB-38184F907552}}:{n}",
        "X-ClientApplication": "Outlook/16.0.17928.20114",
    }
    if info:
        headers["X-ClientInfo"] = "{0D5C9C5A-3D4B-4F4A-9C64-0A8F4C3B2A11}:1"
    return headers


def framed(reply: Reply) -> tuple[dict[str, str], bytes]:
    """[MS-OXCMAPIHTTP] 2.2.2.2, read here: meta-tags up to DONE, headers, the binary body."""
    tags, _, rest = reply.body.partition(b"DONE\r\n")
    assert set(tags.split(b"\r\n")) <= {b"PROCESSING", b"PENDING", b""}, tags
    head, _, body = rest.partition(b"\r\n\r\n")
    pairs = (line.split(": ", 1) for line in head.decode().split("\r\n"))
    return {k.lower(): v for k, v in pairs}, body


def connect_body(host: str) -> bytes:
    from contrib.lab.endpoints.logon_hosts import legacy_dn

    return legacy_dn(host).encode() + b"\0" + struct.pack("<IIIII", 0, 1252, 0x409, 0x409, 0)


@pytest.mark.parametrize(
    ("host", "health", "code"),
    [
        ("logon-ok.contoso.test", 200, "0"),
        ("logon-ping-error.contoso.test", 200, "10"),
        ("logon-mapi-down.contoso.test", 503, "0"),
    ],
)
def test_mapi_session(lab: Lab, connect: object, host: str, health: int, code: str) -> None:
    client = connect(host)  # type: ignore[operator]
    client.send("GET", "/mapi/healthcheck.htm", {})
    assert client.reply().status == health
    client = connect(host)  # type: ignore[operator]
    path = f"/mapi/emsmdb/?MailboxId={exchange_server(host)}"
    client.send("POST", path, {"Content-Type": "application/mapi-http"})
    refused = client.reply()
    assert (refused.status, refused.all("WWW-Authenticate")) == (401, ["Negotiate", "NTLM"])
    reply = client.logon("POST", path, mapi_headers("Connect"), connect_body(host))
    assert (reply.status, reply.header("Transfer-Encoding")) == (200, "chunked")
    assert reply.header("X-RequestId") == mapi_headers("Connect")["X-RequestId"]
    headers, body = framed(reply)
    assert headers["x-responsecode"] == "0"
    status, error = struct.unpack_from("<II", body)
    assert (status, error) == (0, 0)
    jar = dict(c.split(";")[0].split("=", 1) for c in reply.all("Set-Cookie"))
    assert set(jar) == {"MapiContext", "MapiSequence"}
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    client.send("POST", path, {**mapi_headers("PING", 2), "Cookie": cookie})
    assert framed(client.reply())[0]["x-responsecode"] == code
    client.send("POST", path, {**mapi_headers("Disconnect", 3), "Cookie": cookie}, bytes(4))
    headers, body = framed(client.reply())
    assert headers["x-responsecode"] == "0" and struct.unpack_from("<II", body) == (0, 0)
    [session] = lab.web.front.opened()
    assert (session.address, session.closed, session.pings) == (client.address, True, 1)
    types = [s.request_type for s in lab.web.requests(address=client.address) if s.session]
    assert types == ["Connect", "PING", "Disconnect"]


@pytest.mark.parametrize(
    ("kind", "cookie", "info", "code"),
    [
        ("PING", "", True, "13"),  # no session: missing cookie
        ("PING", "MapiContext=0123", True, "10"),  # session not found
        ("Disconnect", "", True, "13"),
        ("PING", "", False, "7"),  # X-ClientInfo missing
        ("Connect", "", False, "7"),
        ("Execute", "", True, "5"),
    ],
)
def test_mapi_strictness(
    lab: Lab, connect: object, kind: str, cookie: str, info: bool, code: str
) -> None:
    host = "logon-ok.contoso.test"
    client = connect(host)  # type: ignore[operator]
    headers = {**mapi_headers(kind, info=info), **({"Cookie": cookie} if cookie else {})}
    path = f"/mapi/emsmdb/?MailboxId={exchange_server(host)}"
    reply = client.logon("POST", path, headers, connect_body(host) if kind == "Connect" else b"")
    assert reply.status == 200
    assert framed(reply)[0]["x-responsecode"] == code
    assert lab.web.front.opened() == []


@pytest.mark.parametrize("kind", ["Connect", "PING"])
@pytest.mark.parametrize("missing", ["X-RequestType", "X-RequestId"])
def test_a_mapi_request_without_a_required_header_is_missing_header(
    lab: Lab, connect: object, kind: str, missing: str
) -> None:
    """[MS-OXCMAPIHTTP] 2.2.2.1: every request MUST carry X-RequestType and X-RequestId; the
    answer to one without is X-ResponseCode 7, Missing Header (2.2.3.3.3), and no session
    (X-ClientInfo's rows are test_mapi_strictness's)."""
    host = "logon-ok.contoso.test"
    client = connect(host)  # type: ignore[operator]
    headers = mapi_headers(kind)
    del headers[missing]
    path = f"/mapi/emsmdb/?MailboxId={exchange_server(host)}"
    reply = client.logon("POST", path, headers, connect_body(host) if kind == "Connect" else b"")
    assert reply.status == 200
    assert framed(reply)[0]["x-responsecode"] == "7"
    assert reply.all("Set-Cookie") == [] and lab.web.front.opened() == []


def test_mapi_answers_without_x_responsecode(lab: Lab, connect: object) -> None:
    host = "logon-mapi-no-code.contoso.test"
    client = connect(host)  # type: ignore[operator]
    path = f"/mapi/emsmdb/?MailboxId={exchange_server(host)}"
    reply = client.logon("POST", path, mapi_headers("Connect"), connect_body(host))
    assert reply.status == 200 and reply.all("X-ResponseCode") == []
    headers, body = framed(reply)
    assert "x-responsecode" not in headers and struct.unpack_from("<II", body) == (0, 0)
    [session] = lab.web.front.opened()  # the logon worked: only the code is missing
    assert session.address == client.address


@pytest.mark.parametrize(
    ("host", "user_dn", "error"),
    [
        ("logon-ok.contoso.test", "/o=Contoso/cn=Recipients/cn=nobody", 0x3EB),
        ("logon-mailbox-moved.contoso.test", "", 0x478),
    ],
)
def test_connect_refused(lab: Lab, connect: object, host: str, user_dn: str, error: int) -> None:
    client = connect(host)  # type: ignore[operator]
    path = f"/mapi/emsmdb/?MailboxId={exchange_server(host)}"
    body = connect_body(host)
    if user_dn:
        body = user_dn.encode() + body[body.index(b"\0") :]
    reply = client.logon("POST", path, mapi_headers("Connect"), body)
    headers, answer = framed(reply)
    assert headers["x-responsecode"] == "0"
    assert struct.unpack_from("<II", answer) == (0, error)
    assert reply.all("Set-Cookie") == [] and lab.web.front.opened() == []


# -- Autodiscover -----------------------------------------------------------------------------


def autodiscover(connect: object, lab: Lab, mailbox: str, capability: bool) -> ET.Element:
    client = connect("autodiscover.contoso.test")  # type: ignore[operator]
    request = (
        '<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/'
        'exchange/autodiscover/outlook/requestschema/2006"><Request>'
        f"<EMailAddress>{mailbox}</EMailAddress><AcceptableResponseSchema>http://schemas."
        "microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"
        "</AcceptableResponseSchema></Request></Autodiscover>"
    ).encode()
    basic = base64.b64encode(f"{mailbox}:{PASSWORD}".encode()).decode()
    headers = {"Content-Type": "text/xml", "Authorization": f"Basic {basic}"}
    if capability:
        headers["X-MapiHttpCapability"] = "1"
    client.send("POST", "/autodiscover/autodiscover.xml", headers, request)
    reply = client.reply()
    assert reply.status == 200
    seen = lab.web.requests(mailbox=mailbox)[-1]
    assert seen.mapi_capability is capability
    return ET.fromstring(reply.body)


@pytest.mark.parametrize("capability", [False, True])
def test_autodiscover_mailbox(lab: Lab, connect: object, capability: bool) -> None:
    host = "logon-ok.contoso.test"
    root = autodiscover(connect, lab, "logon-ok@contoso.test", capability)
    ns = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"
    protocols = {(p.findtext(f"{ns}Type") or p.get("Type")): p for p in root.iter(f"{ns}Protocol")}
    server = exchange_server(host)
    assert server.endswith("@contoso.test") and len(server.split("@")[0]) == 36
    # [MS-OXDSCLI] 3.2.5.1: asked with X-MapiHttpCapability, never EXCH or EXPR
    wanted = {"mapiHttp", "EXHTTP", "WEB"} if capability else {"EXCH", "EXPR", "EXHTTP", "WEB"}
    assert set(protocols) == wanted
    if not capability:
        assert protocols["EXCH"].findtext(f"{ns}Server") == server
    for kind in ("EXPR", "EXHTTP") if not capability else ("EXHTTP",):
        assert protocols[kind].findtext(f"{ns}Server") == host
        assert protocols[kind].findtext(f"{ns}CertPrincipalName") == f"msstd:{host}"
        assert protocols[kind].findtext(f"{ns}AuthPackage") == "Ntlm"
    assert root.findtext(f".//{ns}User/{ns}LegacyDN") == (
        "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=logon-ok"
    )
    if capability:
        store = protocols["mapiHttp"].findtext(f"{ns}MailStore/{ns}ExternalUrl")
        assert store == f"https://{host}:{lab.web.port}/mapi/emsmdb/?MailboxId={server}"


# -- the lab's RTS encoder against the layout of MS-RPCH 2.2.3.6 ------------------------------


def test_rts_encoder_layout() -> None:
    from contrib.lab.endpoints import rts as lab_rts

    connection, channel, group = bytes(range(16)), bytes(range(16, 32)), bytes(range(32, 48))
    header = "0500140310000000"  # version 5.0, rts, first|last; little-endian
    assert lab_rts.echo().hex() == header + "140000000000000040000000"
    assert lab_rts.conn_a3().hex() == (header + "1c000000000000000000010002000000c0d40100")
    assert lab_rts.conn_c2().hex() == (
        header + "2c00" "0000" "00000000" "0000" "0300"
        "06000000" "01000000" "00000000" "00000100" "02000000" "c0d40100"
    )  # fmt: skip
    assert lab_rts.conn_a1(connection, channel).hex() == (
        header + "4c00" "0000" "00000000" "0000" "0400" "06000000" "01000000"
        "03000000" + connection.hex() + "03000000" + channel.hex() + "00000000" "00000100"
    )  # fmt: skip
    assert lab_rts.conn_b1(connection, channel, group).hex() == (
        header + "6800" "0000" "00000000" "0000" "0600" "06000000" "01000000"
        "03000000" + connection.hex() + "03000000" + channel.hex()
        + "04000000" "00000040" "05000000" "e0930400" "0c000000" + group.hex()
    )  # fmt: skip
    parsed = lab_rts.parse(lab_rts.conn_b1(connection, channel, group))
    assert parsed.name == "CONN/B1" and parsed.values(lab_rts.COOKIE) == [connection, channel]
    assert lab_rts.parse(lab_rts.padding(100)).name == "RTS"
    for broken in (b"", b"\xff" * 20, lab_rts.conn_a3()[:-1], lab_rts.conn_a3() + b"\0"):
        with pytest.raises(lab_rts.RtsError):
            lab_rts.parse(broken)


def test_autodiscover_basic_mailbox(lab: Lab, connect: object) -> None:
    root = autodiscover(connect, lab, "logon-basic@contoso.test", True)
    ns = "{http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a}"
    packages = {p.findtext(f"{ns}AuthPackage") for p in root.iter(f"{ns}Protocol")}
    assert packages == {"Basic", None}  # EXHTTP; mapiHttp and WEB
    assert lab.web.describe()["exchange_servers"]["logon-basic.contoso.test"] == exchange_server(  # type: ignore[index]
        "logon-basic.contoso.test"
    )


@pytest.mark.parametrize(
    ("bind", "status"),
    [(True, 200), (None, 401), (WRONG_BINDING, 401)],
    ids=["binding", "no-binding", "wrong-binding"],
)
def test_autodiscover_with_extended_protection_require(
    lab: Lab, connect: object, bind: object, status: int
) -> None:
    host = "ntlm-ep.contoso.test"
    client = connect(host)  # type: ignore[operator]
    request = (
        b"<Autodiscover><Request><EMailAddress>monitor@contoso.test</EMailAddress>"
        b"</Request></Autodiscover>"
    )
    headers = {"Content-Type": "text/xml"}
    reply = client.logon(
        "POST", "/autodiscover/autodiscover.xml", headers, request, bind=bind,
        user="monitor@contoso.test",
    )  # fmt: skip
    assert reply.status == status
    seen = lab.web.requests(address=client.address)
    assert [(s.outcome, s.binding) for s in seen] == [
        ("challenged", None),
        ("accepted" if status == 200 else "refused", bind is not None),
    ]
