"""--proxy against proxies the lab does not have: scripted HTTP CONNECT proxies on 127.77.2.x
that answer the way some real proxies (or broken ones) do, each tunnelling to the lab's
``healthy`` array once it answers 200.  Through the CLI: what the admin reads, and what the
proxy was sent (one credential attempt per check, never one per node).
"""

from __future__ import annotations

import base64
import contextlib
import select
import socket
import struct
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest

from contrib.lab import Lab
from tests.conftest import Outcome, run_plugin
from tests.edge_servers import Listeners

USER = "proxymon"
PASSWORD = "Edge-Proxy-Secret-7"
BASIC = "Basic " + base64.b64encode(f"{USER}:{PASSWORD}".encode()).decode()
ENV = {"OUTLOOK_ANYWHERE_PROXY_PASSWORD": PASSWORD}
ESTABLISHED = b"HTTP/1.1 200 Connection established\r\n\r\n"


def wants(scheme: str, body: bytes = b"", *extra: str) -> bytes:
    """A 407 offering ``scheme``, with ``body`` and its length unless ``extra`` frames it."""
    lines = ["HTTP/1.1 407 Proxy Authentication Required", f"Proxy-Authenticate: {scheme}"]
    lines += list(extra) or [f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


@dataclass
class Connect:
    """One CONNECT request as the proxy received it."""

    proxy: str
    target: str
    authorization: str


class Wire:
    """The proxy's side of one client connection."""

    def __init__(self, conn: socket.socket) -> None:
        self.conn = conn
        self.buffer = b""

    def request(self) -> tuple[str, dict[str, str]] | None:
        while b"\r\n\r\n" not in self.buffer:
            chunk = self.conn.recv(65536)
            if not chunk:
                return None
            self.buffer += chunk
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        return lines[0].split(" ")[1], headers


# What a scripted proxy does with one connection: it reads requests from the wire (each
# recorded) and answers them; it returns the target to tunnel to and the head of the 200 that
# opens the tunnel, or None: the connection ends.
Script = Callable[["Proxies", str, Wire], "tuple[str, bytes] | None"]


class Proxies(Listeners):
    """Scripted proxies, one per address, all on one port."""

    def __init__(self, scripts: dict[str, Script]) -> None:
        self.scripts = scripts
        self.seen: list[Connect] = []
        self.lock = threading.Lock()
        super().__init__(list(scripts))

    def url(self, address: str) -> str:
        return f"http://{address}:{self.port}"

    def asked(self, address: str) -> list[Connect]:
        with self.lock:
            return [c for c in self.seen if c.proxy == address]

    def next(self, address: str, wire: Wire) -> str | None:
        """The next request on ``wire``, recorded; its authorization ("" without)."""
        request = wire.request()
        if request is None:
            return None
        target, headers = request
        authorization = headers.get("proxy-authorization", "")
        with self.lock:
            self.seen.append(Connect(address, target, authorization))
        return authorization

    def serve(self, conn: socket.socket, address: str) -> None:
        with conn, contextlib.suppress(OSError):
            conn.settimeout(10)
            wire = Wire(conn)
            tunnel = self.scripts[address](self, address, wire)
            if tunnel is None:
                return
            host, _, port = tunnel[0].rpartition(":")
            # from the proxy's own address: the nodes' accept logs tell a tunnel apart
            upstream = socket.create_connection((host, int(port)), 10, (address, 0))
            with upstream:
                conn.sendall(tunnel[1])
                _relay(conn, upstream)


def _relay(one: socket.socket, other: socket.socket) -> None:
    def pump(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    back = threading.Thread(target=pump, args=(other, one), daemon=True)
    back.start()
    pump(one, other)
    back.join(10)


# -- the scripts ------------------------------------------------------------------------------


def _tunnel(proxies: Proxies, address: str, head: bytes = ESTABLISHED) -> tuple[str, bytes]:
    return proxies.asked(address)[-1].target, head


def closes(proxies: Proxies, address: str, wire: Wire) -> None:
    proxies.next(address, wire)


def resets(proxies: Proxies, address: str, wire: Wire) -> None:
    proxies.next(address, wire)
    wire.conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def long_status(proxies: Proxies, address: str, wire: Wire) -> None:
    proxies.next(address, wire)
    wire.conn.sendall(b"HTTP/1.1 200 " + b"x" * 9000 + b"\r\n\r\n")


def odd_header(proxies: Proxies, address: str, wire: Wire) -> tuple[str, bytes]:
    """200 with a header line that has no colon (an old proxy's banner line)."""
    proxies.next(address, wire)
    head = b"HTTP/1.1 200 Connection established\r\nSquid proxy 2.7\r\nVia: 1.1 sq\r\n\r\n"
    return _tunnel(proxies, address, head)


def basic_after(refusal: bytes, keep: bool) -> Script:
    """A Basic proxy whose 407 is ``refusal``; ``keep``: the connection stays open for the
    next CONNECT (else it closes, and the client must come back on a new one)."""

    def script(proxies: Proxies, address: str, wire: Wire) -> tuple[str, bytes] | None:
        authorization = proxies.next(address, wire)
        while authorization is not None:
            if authorization == BASIC:
                return _tunnel(proxies, address)
            wire.conn.sendall(refusal)
            if not keep:
                return None
            authorization = proxies.next(address, wire)
        return None

    return script


def ntlm_then(second: bytes | None) -> Script:
    """407 offering NTLM; the NTLM negotiate leg is answered ``second`` (None: never)."""

    def script(proxies: Proxies, address: str, wire: Wire) -> None:
        authorization = proxies.next(address, wire)
        wire.conn.sendall(wants("NTLM"))
        authorization = proxies.next(address, wire)
        if authorization and second is None:
            while wire.conn.recv(65536):  # silent until the client gives up
                pass
        elif authorization and second is not None:
            wire.conn.sendall(second)

    return script


def offers_digest(proxies: Proxies, address: str, wire: Wire) -> None:
    proxies.next(address, wire)
    wire.conn.sendall(wants('Digest realm="proxy", nonce="abc", qop="auth"'))


BIG_PAGE = b"<html>" + b"Access denied. " * 4000 + b"</html>"  # about 60 KB, under 64 KiB
PROXIES: dict[str, Script] = {
    "127.77.2.1": closes,
    "127.77.2.2": resets,
    "127.77.2.3": long_status,
    "127.77.2.4": odd_header,
    "127.77.2.5": basic_after(wants("Basic", b"denied", "Transfer-Encoding: chunked"), False),
    "127.77.2.6": basic_after(wants("Basic", b"", "Connection: close"), False),
    "127.77.2.7": basic_after(wants("Basic", b"", "Content-Length: 100000"), False),
    "127.77.2.8": basic_after(wants("Basic", BIG_PAGE), True),
    "127.77.2.9": offers_digest,
    "127.77.2.10": ntlm_then(wants("NTLM")),
    "127.77.2.11": ntlm_then(wants("NTLM %%not-base64%%")),
    "127.77.2.12": ntlm_then(None),
}


@pytest.fixture(scope="module")
def proxies() -> Iterator[Proxies]:
    running = Proxies(PROXIES)
    yield running
    running.close()


@pytest.fixture(autouse=True)
def fresh(lab: Lab) -> Iterator[None]:
    lab.nodes.clear_accepted()
    yield


def healthy(lab: Lab, proxy: str, *extra: str, env: dict[str, str] | None = None) -> Outcome:
    s = lab.scenario("healthy")
    return run_plugin(
        "-H", s.host, "-p", str(lab.port), "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file, "--proxy", proxy, "-t", "5", *extra, env=env,
    )  # fmt: skip


def nothing_known(lab: Lab, out: Outcome, name: str, why: str) -> None:
    """UNKNOWN about the proxy itself (the first line says why, shortened when long; the
    proxy's line in full), no node judged, none reached."""
    assert out.stderr == "" and "Traceback" not in out.stdout, out.stdout + out.stderr
    assert out.code == 3, out.stdout
    assert out.status.startswith(f"OUTLOOK_ANYWHERE UNKNOWN - proxy {name}: {why[:40]}")
    assert out.status.endswith(", so nothing is known about the array (+3 more) [0/3 nodes OK]"), (
        out.status
    )
    assert out.long_output[0].startswith(
        f"proxy {name} UNKNOWN: {why}, so nothing is known about the array -- 0/3 tunnels"
    ), out.long_output[0]
    assert lab.nodes.accepted() == []


def all_well(lab: Lab, out: Outcome, proxy: str) -> None:
    assert out.stderr == "", out.stderr
    assert out.code == 0, out.stdout
    assert out.status.startswith("OUTLOOK_ANYWHERE OK - 3/3 nodes OK: "), out.status
    assert {peer for _, peer in lab.nodes.accepted()} == {proxy}


# -- proxies that break CONNECT -------------------------------------------------------------


@pytest.mark.parametrize(
    ("proxy", "why"),
    [
        ("127.77.2.1", "closed the connection before answering CONNECT"),
        ("127.77.2.2", "Connection reset by peer before answering CONNECT"),
        ("127.77.2.3", "gave no HTTP answer to CONNECT (a line longer than 8192 bytes)"),
    ],
    ids=["closes", "resets", "long-status-line"],
)
def test_a_proxy_that_gives_no_answer_to_connect_is_unknown_naming_how(
    lab: Lab, proxies: Proxies, proxy: str, why: str
) -> None:
    out = healthy(lab, proxies.url(proxy))
    nothing_known(lab, out, f"{proxy}:{proxies.port}", why)


def test_a_header_line_without_a_colon_is_passed_over(lab: Lab, proxies: Proxies) -> None:
    out = healthy(lab, proxies.url("127.77.2.4"))
    all_well(lab, out, "127.77.2.4")
    assert len(proxies.asked("127.77.2.4")) == 3


def test_a_proxy_name_that_does_not_resolve_is_unknown(lab: Lab) -> None:
    """RFC 6761: no name under .invalid resolves (the system resolver may also take longer
    than the check: then it is said to be so)."""
    out = healthy(lab, "http://proxy.invalid:3128")
    assert out.code == 3, out.stdout
    assert out.status.startswith(
        "OUTLOOK_ANYWHERE UNKNOWN - proxy proxy.invalid:3128: unreachable (no address for"
        " proxy.invalid"
    ), out.status
    assert lab.nodes.accepted() == []


def fill_queue(listener: tuple[str, int]) -> list[socket.socket]:
    """Connections to ``listener`` (which never accepts) until one is left unanswered: its
    queue is then full, and a further SYN is dropped."""
    queued: list[socket.socket] = []
    while len(queued) < 16:
        sock = socket.socket()
        sock.setblocking(False)
        queued.append(sock)
        sock.connect_ex(listener)
        _, writable, _ = select.select([], [sock], [], 1.0)
        if not writable:
            return queued
    raise AssertionError("the listen queue never filled")


def test_a_proxy_that_never_accepts_is_unknown_within_the_deadline(lab: Lab) -> None:
    """A proxy whose listen queue is full (it stopped accepting): the SYN goes unanswered.
    (Only the first line is asserted: a node's thread later than the tunnel's margin, on a
    busy machine, would read as a plain timeout in its own line.)"""
    with socket.create_server(("127.77.2.100", 0), backlog=0) as full:
        port = full.getsockname()[1]
        queued = fill_queue(("127.77.2.100", port))
        try:
            out = healthy(lab, f"http://127.77.2.100:{port}", "-t", "3")
        finally:
            for sock in queued:
                sock.close()
    assert out.stderr == "" and out.code == 3, out.stdout + out.stderr
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE UNKNOWN - proxy 127.77.2.100:{port}: unreachable (no connection within"
        " the deadline), so nothing is known about the array"
    ), out.status
    assert lab.nodes.accepted() == []


# -- authentication, answered as each proxy wants --------------------------------------------


@pytest.mark.parametrize(
    "proxy",
    ["127.77.2.5", "127.77.2.6", "127.77.2.7"],
    ids=["chunked-407", "close-delimited-407", "407-over-64-KiB"],
)
def test_basic_goes_on_a_new_connection_when_the_407_body_has_no_usable_end(
    lab: Lab, proxies: Proxies, proxy: str
) -> None:
    """A 407 whose body is chunked, runs to the close, or is announced larger than a refusal
    page is: the connection cannot carry the next CONNECT, so Basic is sent on a new one."""
    out = healthy(lab, proxies.url(proxy), "--proxy-user", USER, env=ENV)
    all_well(lab, out, proxy)
    asked = proxies.asked(proxy)
    assert len([c for c in asked if c.authorization == BASIC]) == 3, asked
    assert len([c for c in asked if c.authorization not in ("", BASIC)]) == 0, asked
    assert f"3/3 tunnels opened (CONNECT); Basic as {USER}" in out.long_output[0]


def test_a_large_407_page_is_read_to_its_end_and_the_connection_reused(
    lab: Lab, proxies: Proxies
) -> None:
    out = healthy(lab, proxies.url("127.77.2.8"), "--proxy-user", USER, env=ENV)
    all_well(lab, out, "127.77.2.8")
    assert len([c for c in proxies.asked("127.77.2.8") if c.authorization == BASIC]) == 3


def test_a_proxy_offering_only_a_scheme_not_spoken_here_is_unknown(
    lab: Lab, proxies: Proxies
) -> None:
    out = healthy(lab, proxies.url("127.77.2.9"), "--proxy-user", USER, env=ENV)
    nothing_known(
        lab,
        out,
        f"127.77.2.9:{proxies.port}",
        "offers no scheme this plugin speaks (Digest)",
    )
    assert all(c.authorization == "" for c in proxies.asked("127.77.2.9"))


@pytest.mark.parametrize(
    ("proxy", "why"),
    [
        ("127.77.2.10", f"refused the credentials of {USER} (NTLM)"),
        ("127.77.2.11", "sent an unusable NTLM challenge"),
    ],
    ids=["no-challenge", "challenge-not-base64"],
)
def test_an_ntlm_proxy_without_a_usable_challenge_never_gets_the_password(
    lab: Lab, proxies: Proxies, proxy: str, why: str
) -> None:
    """NTLM's first leg (NEGOTIATE_MESSAGE) carries no password; without a challenge to
    answer, no AUTHENTICATE_MESSAGE (type 3, the one a wrong password fails) is ever sent."""
    out = healthy(lab, proxies.url(proxy), "--proxy-user", USER, env=ENV)
    nothing_known(lab, out, f"{proxy}:{proxies.port}", why)
    legs = [ntlm_type(c.authorization) for c in proxies.asked(proxy) if c.authorization]
    assert legs and set(legs) == {1}, legs
    assert PASSWORD not in out.stdout


def ntlm_type(authorization: str) -> int:
    """The MessageType of the NTLM message in a Proxy-Authorization value ([MS-NLMP] 2.2)."""
    scheme, _, token = authorization.partition(" ")
    assert scheme == "NTLM", authorization
    message = base64.b64decode(token)
    assert message[:8] == b"NTLMSSP\x00", message[:8]
    return int.from_bytes(message[8:12], "little")


def test_an_ntlm_proxy_that_stalls_the_logon_holds_one_attempt_to_the_deadline(
    lab: Lab, proxies: Proxies
) -> None:
    """The first tunnel's negotiate leg gets no answer; the other nodes' tunnels wait their
    turn instead of sending credentials too, and every node ends at the deadline.  (A node's
    thread later than the tunnel's margin reads as a plain timeout: the words of each node are
    not asserted, as for the lab's silent proxy.)"""
    out = healthy(lab, proxies.url("127.77.2.12"), "--proxy-user", USER, "-t", "3", env=ENV)
    assert out.code == 2, out.stdout
    assert out.status.endswith("(+2 more) [0/3 nodes OK]"), out.status
    assert "unreachable through the proxy: no answer to CONNECT within the deadline" in out.stdout
    for address in lab.scenario("healthy").addresses:
        assert any(x.startswith(f"{address} CRITICAL: ") for x in out.long_output), out.stdout
    legs = [c for c in proxies.asked("127.77.2.12") if c.authorization]
    assert len(legs) == 1, legs
    assert lab.nodes.accepted() == []


def test_an_ntlm_only_proxy_without_pyspnego_is_unknown_naming_the_module(lab: Lab) -> None:
    """The lab's NTLM proxy offers NTLM and Negotiate, no Basic: without pyspnego nothing can
    answer it, and the check says which module is missing instead of failing per node."""
    import os
    import subprocess
    import sys

    from contrib.lab.endpoints.proxy import PROXIES as LAB_PROXIES
    from tests.conftest import REPO
    from tests.test_logon_kerberos import WITHOUT_GSSAPI

    without_spnego = WITHOUT_GSSAPI.replace('sys.modules["gssapi"]', 'sys.modules["spnego"]')
    assert without_spnego != WITHOUT_GSSAPI
    s = lab.scenario("healthy")
    name = f"{LAB_PROXIES['ntlm']}:{lab.proxy.port}"
    proc = subprocess.run(
        [
            sys.executable, "-c",
            without_spnego.format(script=str(REPO / "check_outlook_anywhere.py"), repo=str(REPO)),
            "-H", s.host, "-p", str(lab.port), "--dns-server", lab.dns_server,
            "--ca-file", lab.ca_file, "--proxy", lab.proxy.url("ntlm"), "--proxy-user", USER,
        ],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
        env={**os.environ, **ENV},
    )  # fmt: skip
    assert proc.stderr == "", proc.stderr
    out = Outcome(proc.returncode, proc.stdout, proc.stderr, 0.0)
    nothing_known(lab, out, name, "accepts only NTLM/Negotiate and pyspnego is not installed")


def test_the_proxy_password_never_shows_in_a_representation() -> None:
    """What a traceback, a debugger or a log of the object shows."""
    from outlook_anywhere.transport.proxy import Proxy

    shown = repr(Proxy("proxy.contoso.test", 3128, USER, PASSWORD))
    assert shown == f"Proxy('proxy.contoso.test:3128', '{USER}')"
