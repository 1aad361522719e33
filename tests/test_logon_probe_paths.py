"""The logon probes on the paths no lab node walks, each node a TLS server of
tests/edge_servers.py on 127.77.12.x that speaks NTLM as a test scripts it (a real
CHALLENGE_MESSAGE, pyspnego's AUTHENTICATE read for its channel binding): a challenge that is
no NTLM message, the retry without binding closed or stalled, the logon without binding that
``--extended-protection require`` asks about closed, a Connect accepted on the retry whose body
never ends, a kept connection that forgets its logon, a Disconnect that fails, a node that
offers only Digest or refuses connections.  The probes are called in-process (facts only), and
what the judgement makes of the facts is put in the words an admin reads; the fan-out over the
nodes is run to its deadline, and the plugin as a process without pyspnego meets a node that
offers Basic beside NTLM.
"""

from __future__ import annotations

import base64
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from contrib.lab import Lab
from contrib.lab.endpoints import rts as lab_rts
from contrib.lab.identities.ntlm import carries_binding, ntlm_message_type
from contrib.lab.network.http11 import Request, Response
from outlook_anywhere.check.words import phrase
from outlook_anywhere.facts import logon as f
from outlook_anywhere.judgement.logon import judge_mapi_logon, judge_rpc_logon
from outlook_anywhere.probes.logon import Account, logon_all
from outlook_anywhere.probes.logon_mapi import logon_mapi
from outlook_anywhere.probes.logon_node import Node
from outlook_anywhere.probes.logon_rpc import logon_rpc
from outlook_anywhere.transport import Deadline, client_context
from tests.conftest import run_plugin
from tests.edge_servers import Route, Servers, issue, server_context, status, write_chain

HOST = "logon-paths.contoso.test"
SERVER = "5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d@contoso.com"
USER_DN = "/o=Contoso/ou=Exchange Administrative Group/cn=Recipients/cn=monitor"
MAPI_PATH = f"/mapi/emsmdb/?MailboxId={SERVER}"
ECHO_PATH = f"/rpc/rpcproxy.dll?{SERVER}:6001"
NODES = {
    "bad-challenge": "127.77.12.1",  # NTLM: the challenge is no NTLM message
    "retry-closes": "127.77.12.2",  # NTLM: bound logon refused, the retry's connection closed
    "unbound-closes": "127.77.12.3",  # NTLM: bound logon accepted, the unbound one closed
    "digest": "127.77.12.4",  # offers Digest alone
    "refuses": "127.77.12.5",  # nothing listens
    "head-only": "127.77.12.6",  # NTLM: bound Connect refused, the retry's Connect body cut
    "forgets": "127.77.12.7",  # NTLM: a PING on the logged-on connection answered 401
    "disconnect-closes": "127.77.12.8",  # Basic: the PING closes, Disconnect is not answered
    "ping-stalls": "127.77.12.9",  # Basic: the PING never answered, Disconnect not answered
    "retry-stalls": "127.77.12.10",  # NTLM: bound logon refused, the retry never answered
    "ntlm-or-basic": "127.77.12.11",  # offers NTLM and Basic
    "channel-bad-challenge": "127.77.12.12",  # NTLM: the echo logged on, 6002's challenge garbled
}
PASSWORD = "s3cret-Paths"
PUBLISHED = "logon-ok.contoso.test"
COOKIES = [("Set-Cookie", "MapiContext=ctx-1; path=/mapi/"), ("Set-Cookie", "MapiSequence=1")]


def ntlm_challenge() -> bytes:
    """A CHALLENGE_MESSAGE ([MS-NLMP] 2.2.1.2): Unicode, NTLMv2 with extended session security,
    the target's names and a timestamp in its AV pairs."""

    def pair(av_id: int, value: bytes) -> bytes:
        return struct.pack("<HH", av_id, len(value)) + value

    target = "CONTOSO".encode("utf-16-le")
    info = pair(2, target) + pair(1, "EX01".encode("utf-16-le")) + pair(7, bytes(8)) + pair(0, b"")
    # UNICODE, REQUEST_TARGET, NTLM, ALWAYS_SIGN, TARGET_TYPE_DOMAIN, EXTENDED_SESSIONSECURITY,
    # TARGET_INFO, 128, 56
    flags = 0x1 | 0x4 | 0x200 | 0x8000 | 0x10000 | 0x80000 | 0x800000 | 0x20000000 | 0x80000000
    payload = 48
    return (
        b"NTLMSSP\x00"
        + struct.pack("<I", 2)
        + struct.pack("<HHI", len(target), len(target), payload)
        + struct.pack("<I", flags)
        + bytes.fromhex("0123456789abcdef")  # ServerChallenge
        + bytes(8)
        + struct.pack("<HHI", len(info), len(info), payload + len(target))
        + target
        + info
    )


Final = Callable[[Request, bool], Response | None]


def ntlm(
    final: Final, challenge: bytes | None = None, keeps: bool = True
) -> Callable[[Request], Response | None]:
    """A route that logs on with NTLM: 401 offering NTLM to a request without credentials, the
    challenge to a NEGOTIATE_MESSAGE, and ``final(request, bound)`` to an AUTHENTICATE_MESSAGE
    (``bound``: it carries a channel binding).  NTLM authenticates a connection: with ``keeps``,
    a connection's later requests are answered as its logon was (each connection is served by
    a thread of its own)."""
    offer = ("WWW-Authenticate", "NTLM")
    sent = base64.b64encode(challenge or ntlm_challenge()).decode()
    connection = threading.local()

    def answer(request: Request) -> Response | None:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme != "NTLM":
            if keeps and getattr(connection, "bound", None) is not None:
                return final(request, connection.bound)
            return status(401, "Unauthorized", offer)
        token = base64.b64decode(value)
        if ntlm_message_type(token) == 1:
            return status(401, "Unauthorized", ("WWW-Authenticate", f"NTLM {sent}"))
        bound = carries_binding(token)
        answered = final(request, bound)
        if answered is not None and answered.status != 401:
            connection.bound = bound
        return answered

    return answer


def basic(final: Callable[[Request], Response | None]) -> Callable[[Request], Response | None]:
    """A route that asks for Basic credentials, and answers ``final`` to a logon."""

    def answer(request: Request) -> Response | None:
        if not request.headers.get("authorization", "").startswith("Basic "):
            return status(401, "Unauthorized", ("WWW-Authenticate", 'Basic realm="paths"'))
        return final(request)

    return answer


def mapi_answer(*headers: tuple[str, str], close: bool = False) -> Response:
    """A MAPI answer of X-ResponseCode 0 whose body is StatusCode 0, ErrorCode 0."""
    code = ("X-ResponseCode", "0")
    body = struct.pack("<II", 0, 0)
    return Response(200, "OK", [code, *headers], body, close=close)


def mailbox(request: Request) -> Response | None:
    """Connect opens a session (its cookies), PING and Disconnect answer in it."""
    kind = request.headers.get("x-requesttype", "")
    return mapi_answer(*COOKIES) if kind == "Connect" else mapi_answer()


def never_answered(seconds: float) -> Callable[..., None]:
    def answer(*_: object) -> None:
        time.sleep(seconds)  # the client gives up first; then the connection just ends

    return answer


def head_only(request: Request, bound: bool) -> Response | None:
    """The bound Connect refused; the unbound one answered 200 and its session's cookies, then a
    body cut after its first chunk."""
    if bound:
        return status(401, "Unauthorized", ("WWW-Authenticate", "NTLM"))

    def cut() -> Iterator[bytes]:
        yield b"PROCESSING\r\n"
        raise OSError("the body ends here")

    if request.headers.get("x-requesttype") == "Connect":
        return Response(200, "OK", [("X-ResponseCode", "0"), *COOKIES], cut())
    return mapi_answer()


@dataclass
class Nodes:
    servers: Servers
    root_file: Path
    seen: dict[str, list[tuple[str, str]]]  # address: (X-RequestType, Authorization)

    def node(self, name: str, seconds: float = 6.0, unbound: bool = False) -> Node:
        ctx = client_context(verify=True, ca_file=str(self.root_file), check_hostname=True)
        account = Account("monitor@contoso.test", PASSWORD, mode="negotiate")
        deadline = Deadline(seconds)
        return Node(NODES[name], self.servers.port, HOST, account, ctx, deadline, unbound)

    def rpc(self, name: str, unbound: bool = False) -> f.RpcLogon:
        facts = f.RpcLogon(NODES[name])
        logon_rpc(self.node(name, unbound=unbound), SERVER, facts)
        return facts

    def mapi(self, name: str, seconds: float = 6.0, check: float = 6.0) -> f.MapiLogon:
        """The MAPI logon with Connect and PING to ``seconds``, Disconnect to ``check``."""
        facts = f.MapiLogon(NODES[name])
        logon_mapi(self.node(name, seconds), MAPI_PATH, facts, USER_DN, Deadline(check))
        return facts


def logged(log: list[tuple[str, str]], route: Callable[[Request], Response | None]) -> Route:
    """``route``, each request's X-RequestType and Authorization scheme kept in ``log``."""

    def answer(request: Request) -> Response | None:
        scheme = request.headers.get("authorization", "").partition(" ")[0]
        log.append((request.headers.get("x-requesttype", ""), scheme))
        return route(request)

    return answer


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    folder = tmp_path_factory.mktemp("logon-paths")
    root = issue("Logon Paths Root CA", ca=True)
    refused = (NODES["refuses"],)
    listening = tuple(a for a in NODES.values() if a not in refused)
    servers = Servers(tls=listening, refuse=refused)
    context = server_context(write_chain(folder, "node", issue(HOST, root)))
    for address in listening:
        servers.contexts[address] = context
    route = servers.route
    log: dict[str, list[tuple[str, str]]] = {a: [] for a in listening}

    def mapi(name: str, answer: Callable[[Request], Response | None]) -> None:
        route(NODES[name], "/mapi/emsmdb/", logged(log[NODES[name]], answer))

    refusal = status(401, "Unauthorized", ("WWW-Authenticate", "NTLM"))
    # no AUTHENTICATE_MESSAGE comes: there is no challenge to answer
    route(NODES["bad-challenge"], ECHO_PATH, ntlm(lambda *_: None, challenge=b"NTLMSSP"))
    route(NODES["retry-closes"], ECHO_PATH, ntlm(lambda _, bound: refusal if bound else None))
    mapi("unbound-closes", ntlm(lambda r, bound: mailbox(r) if bound else None))
    digest = ("WWW-Authenticate", 'Digest realm="paths", nonce="6e6f6e6365", qop="auth"')
    route(NODES["digest"], ECHO_PATH, lambda _: status(401, "Unauthorized", digest))
    mapi("head-only", ntlm(head_only))
    echoed = Response(200, "Success", [("Content-Type", "application/rpc")], lab_rts.echo())
    address = NODES["channel-bad-challenge"]
    route(address, ECHO_PATH, ntlm(lambda *_: echoed))
    route(address, ECHO_PATH.replace(":6001", ":6002"), ntlm(lambda *_: None, challenge=b"NTLMSSP"))

    # a logged-on connection forgets its logon after each answer
    mapi("forgets", ntlm(lambda r, _: mailbox(r), keeps=False))

    def closes_then_silent(request: Request) -> Response | None:
        kind = request.headers.get("x-requesttype", "")
        if kind == "Disconnect":
            return None
        return mapi_answer(close=True) if kind == "PING" else mailbox(request)

    mapi("disconnect-closes", basic(closes_then_silent))

    def stalls(request: Request) -> Response | None:
        kind = request.headers.get("x-requesttype", "")
        if kind == "PING":
            return never_answered(4)()
        return None if kind == "Disconnect" else mailbox(request)

    mapi("ping-stalls", basic(stalls))
    route(NODES["retry-stalls"], ECHO_PATH, ntlm(
        lambda _, bound: refusal if bound else never_answered(8)()
    ))  # fmt: skip
    # the name the lab's Autodiscover publishes for logon-ok@contoso.test (msstd: matches)
    published = write_chain(folder, "published", issue(PUBLISHED, root))
    servers.contexts[NODES["ntlm-or-basic"]] = server_context(published)
    both = [("WWW-Authenticate", "NTLM"), ("WWW-Authenticate", 'Basic realm="paths"')]
    offers_both = logged(log[NODES["ntlm-or-basic"]], lambda _: status(401, "Unauthorized", *both))
    route(NODES["ntlm-or-basic"], "/", offers_both)
    root_file = folder / "root.pem"
    root_file.write_bytes(root.pem)
    yield Nodes(servers, root_file, log)
    servers.close()


def words_rpc(facts: f.RpcLogon) -> list[str]:
    return [phrase(found) for found in judge_rpc_logon(facts, "accept")]


def words_mapi(facts: f.MapiLogon) -> list[str]:
    return [phrase(found) for found in judge_mapi_logon(facts, "accept")]


# -- the NTLM exchange ----------------------------------------------------------------------


def test_a_challenge_that_is_no_ntlm_message_is_an_invalid_challenge(nodes: Nodes) -> None:
    """pyspnego cannot read a token too short for a message type: a challenge the server got
    wrong, said as such, and no AUTHENTICATE_MESSAGE (the leg a password fails) is sent."""
    pytest.importorskip("spnego")
    facts = nodes.rpc("bad-challenge")
    assert (facts.auth.scheme, facts.auth.outcome) == ("NTLM", f.FAILED)
    assert (facts.auth.detail, facts.echo, facts.cut_off) == ("bad-challenge", "", "")
    assert words_rpc(facts) == ["RPC logon failed (NTLM): an invalid NTLM/Negotiate challenge"]
    assert nodes.servers.requests(NODES["bad-challenge"]) == [ECHO_PATH] * 2


@pytest.mark.parametrize(
    "token",
    [b"NTLMSSP", b"NTLMSSP\x00" + struct.pack("<I", 9) + bytes(40)],
    ids=["too-short-for-a-type", "type-9"],
)
def test_a_token_pyspnego_cannot_read_as_a_challenge_is_a_bad_challenge(token: bytes) -> None:
    pytest.importorskip("spnego")
    from outlook_anywhere.transport.auth import AuthError, Handshake

    handshake = Handshake("NTLM", "monitor@contoso.test", PASSWORD, HOST)
    handshake.first()
    with pytest.raises(AuthError) as failed:
        handshake.next([f"NTLM {base64.b64encode(token).decode()}"])
    assert failed.value.kind == "bad-challenge"


def test_a_retry_whose_connection_closes_keeps_the_refusal_and_fails_the_retry(
    nodes: Nodes,
) -> None:
    """The bound logon refused (a verdict), the retry without binding closed before one: the
    refusal stays, the retry is what failed."""
    pytest.importorskip("spnego")
    facts = nodes.rpc("retry-closes")
    auth = facts.auth
    assert (auth.scheme, auth.binding_sent, auth.outcome) == ("NTLM", True, f.REFUSED)
    assert (auth.retry_outcome, auth.detail) == (f.FAILED, "closed")
    assert (facts.echo, facts.endpoints, facts.cut_off, facts.step) == ("", [], "", "")


def test_require_records_a_logon_without_binding_that_got_no_answer_as_failed(
    nodes: Nodes,
) -> None:
    """--extended-protection require asks whether the node also takes the logon without
    binding; a node that closes the connection instead answered neither way."""
    pytest.importorskip("spnego")
    facts = f.MapiLogon(NODES["unbound-closes"])
    node = nodes.node("unbound-closes", unbound=True)
    logon_mapi(node, MAPI_PATH, facts, USER_DN, Deadline(6))
    auth = facts.auth
    assert (auth.outcome, auth.retry_outcome, auth.unbound_outcome) == (
        f.ACCEPTED,
        "",
        f.FAILED,
    )
    assert facts.logged_on and facts.disconnected
    # the question was a PING, never a second Connect (a second session)
    kinds = [kind for kind, scheme in nodes.seen[NODES["unbound-closes"]] if scheme]
    assert kinds == ["Connect", "Connect", "PING", "PING"]  # two legs each
    assert words_mapi(facts) == []


def test_a_node_that_offers_only_digest_is_not_logged_on(nodes: Nodes) -> None:
    facts = nodes.rpc("digest")
    assert (facts.auth.offered, facts.auth.scheme) == (["Digest"], "")
    assert (facts.auth.outcome, facts.auth.detail, facts.step) == ("", "no-scheme", "")
    assert nodes.servers.requests(NODES["digest"]) == [ECHO_PATH]
    assert words_rpc(facts) == ["RPC offers no scheme Outlook logs on with (offers Digest)"]


# -- the MAPI session -----------------------------------------------------------------------


def test_a_node_that_refuses_the_connection_has_no_mapi_logon(nodes: Nodes) -> None:
    facts = nodes.mapi("refuses")
    assert (facts.auth.outcome, facts.auth.detail) == (f.FAILED, "refused")
    assert (facts.session, facts.step, facts.cut_off, facts.request) == (False, "", "", "")


def test_a_connect_accepted_on_the_retry_whose_body_is_cut_is_disconnected_unbound(
    nodes: Nodes,
) -> None:
    """The retry without binding got Connect's head (200 and the session's cookies, 2.2.4.1)
    and no body: the retry was accepted, a session opened, and Disconnect closes it logged on
    the way that was accepted, without binding."""
    pytest.importorskip("spnego")
    facts = nodes.mapi("head-only")
    auth = facts.auth
    assert (auth.outcome, auth.retry_outcome) == (f.REFUSED, f.ACCEPTED)
    assert facts.session and facts.disconnected
    assert (facts.request, facts.error, facts.cut_off, facts.step) == ("Connect", "closed", "", "")
    assert facts.status_code is None and not facts.logged_on
    seen = nodes.seen[NODES["head-only"]]
    assert [kind for kind, scheme in seen if scheme] == ["Connect"] * 4 + ["Disconnect"] * 2


def test_a_kept_connection_that_forgets_its_logon_is_logged_on_again(nodes: Nodes) -> None:
    """NTLM authenticates a connection: the PING and Disconnect go on the logged-on one, and
    where the node answers 401 there, on a new connection logged on with the binding."""
    pytest.importorskip("spnego")
    facts = nodes.mapi("forgets")
    assert facts.auth.with_binding and facts.logged_on
    assert (facts.request, facts.status, facts.response_code) == ("PING", 200, "0")
    assert facts.disconnected and (facts.step, facts.cut_off, facts.error) == ("", "", "")
    assert nodes.seen[NODES["forgets"]] == [
        ("PING", ""),  # what the node offers
        ("Connect", "NTLM"),
        ("Connect", "NTLM"),
        ("PING", ""),  # 401 on the logged-on connection
        ("PING", "NTLM"),
        ("PING", "NTLM"),
        ("Disconnect", ""),  # 401 again
        ("Disconnect", "NTLM"),
        ("Disconnect", "NTLM"),
    ]
    assert words_mapi(facts) == []


def test_a_disconnect_the_node_does_not_answer_leaves_the_session_open(nodes: Nodes) -> None:
    """Basic logs on every connection: the PING's answer closed its connection, Disconnect goes
    on a new one, which the node closes without an answer."""
    facts = nodes.mapi("disconnect-closes")
    assert (facts.auth.scheme, facts.auth.outcome) == ("Basic", f.ACCEPTED)
    assert facts.logged_on and facts.session
    assert (facts.request, facts.status, facts.response_code) == ("PING", 200, "0")
    assert not facts.disconnected
    assert (facts.step, facts.cut_off, facts.error) == ("", "", "")
    kinds = [kind for kind, _ in nodes.seen[NODES["disconnect-closes"]]]
    assert kinds == ["PING", "Connect", "PING", "Disconnect"]


def test_a_ping_cut_off_by_the_deadline_is_said_also_when_disconnect_fails(
    nodes: Nodes,
) -> None:
    """The PING never answered within the logon's deadline: cut off during the PING, and the
    Disconnect that follows, unanswered, does not hide that step."""
    facts = nodes.mapi("ping-stalls", seconds=1.5, check=4.0)
    assert facts.auth.outcome == f.ACCEPTED and facts.logged_on and facts.session
    assert (facts.request, facts.error, facts.cut_off, facts.step) == (
        "PING",
        "timeout",
        "PING",
        "",
    )
    assert not facts.disconnected
    kinds = [kind for kind, _ in nodes.seen[NODES["ping-stalls"]]]
    assert kinds == ["PING", "Connect", "PING", "Disconnect"]
    assert words_mapi(facts) == [
        "MAPI logon cut off by the deadline during the PING in its session"
    ]


# -- the fan-out at the deadline --------------------------------------------------------------


def test_a_retry_still_waiting_at_the_deadline_is_a_cut_off_never_a_refusal(
    nodes: Nodes,
) -> None:
    """The bound logon refused, the retry without binding never answered: at the deadline the
    retry failed (no answer in time) and the logon was cut off during the echo; the refusal
    alone would say the account was refused, which no answer said."""
    pytest.importorskip("spnego")
    address = NODES["retry-stalls"]
    facts = f.LogonFacts(server=SERVER, mailbox=SERVER, legacy_dn=USER_DN)
    account = Account("monitor@contoso.test", PASSWORD, mode="negotiate")
    logon_all(
        (address,), nodes.servers.port, HOST, account, facts, rpc=True, mapi=False,
        ca_file=str(nodes.root_file), deadline=Deadline(2.5),
    )  # fmt: skip
    [rpc] = facts.rpc or []
    assert (rpc.auth.binding_sent, rpc.auth.outcome) == (True, f.REFUSED)
    assert (rpc.auth.retry_outcome, rpc.auth.detail) == (f.FAILED, "timeout")
    assert (rpc.cut_off, rpc.endpoints, facts.mapi) == ("echo", [], None)
    assert words_rpc(rpc) == ["RPC logon cut off by the deadline during the echo"]


# -- the plugin without pyspnego ---------------------------------------------------------------


def test_without_pyspnego_a_node_offering_basic_beside_ntlm_never_gets_basic(
    nodes: Nodes, lab: Lab, password_file: str, tmp_path: Path
) -> None:
    """Basic binds nothing: where a node offers NTLM, the logon is NTLM or none, also when
    this poller cannot speak NTLM (a module named spnego that cannot be imported stands for a
    missing pyspnego).  The lab's Autodiscover, which offers Basic, accepts the credentials."""
    shim = tmp_path / "no-spnego"
    shim.mkdir()
    (shim / "spnego.py").write_text("raise ImportError('pyspnego is not installed')\n")
    ca_file = tmp_path / "ca.pem"
    ca_file.write_bytes(Path(lab.ca_file).read_bytes() + nodes.root_file.read_bytes())
    address = NODES["ntlm-or-basic"]
    out = run_plugin(
        "-H", PUBLISHED, "-I", address, "-p", str(nodes.servers.port),
        "--dns-server", lab.dns_server, "--ca-file", str(ca_file),
        "--autodiscover", "logon-ok@contoso.test",
        "--autodiscover-url", lab.web.url("autodiscover.contoso.test"),
        "--password-file", password_file, "--rpc", "--logon",
        env={"PYTHONPATH": str(shim)},
    )  # fmt: skip
    assert out.stderr == "", out.stderr
    assert out.code == 3, out.stdout
    assert out.status == (
        "OUTLOOK_ANYWHERE UNKNOWN - Python module pyspnego is not installed (RPC accepts only"
        " NTLM/Negotiate) [1/1 nodes OK]"
    ), out.stdout
    line = next(x for x in out.long_output if x.startswith(f"{address} "))
    assert line.startswith(f"{address} OK -- ") and "schemes NTLM, Basic" in line, line
    # asked what it offers (the RPC probe: the proxy, its healthcheck; the logon: the echo),
    # never sent credentials
    paths = nodes.servers.requests(address)
    assert paths[:2] == ["/rpc/rpcproxy.dll", "/rpc/healthcheck.htm"], paths
    assert len(paths) == 3 and paths[2].endswith(":6001"), paths
    assert nodes.seen[address] == [("", "")] * 3


# -- the RPC logon's paths the others do not take ---------------------------------------------


def test_an_rpc_logon_to_a_node_that_refuses_the_connection_failed_before_any_scheme(
    nodes: Nodes,
) -> None:
    rpc = nodes.rpc("refuses")
    assert (rpc.auth.outcome, rpc.auth.detail, rpc.auth.scheme) == (f.FAILED, "refused", "")
    assert (rpc.echo, rpc.endpoints) == ("", [])


def test_a_channel_whose_challenge_is_no_ntlm_message_fails_that_channel_alone(
    nodes: Nodes,
) -> None:
    """The echo logged on with NTLM; the channel to 6002 got a challenge pyspnego cannot read:
    that endpoint failed on it (bad-challenge), the logon itself stands."""
    pytest.importorskip("spnego")
    rpc = nodes.rpc("channel-bad-challenge")
    assert (rpc.echo, rpc.auth.outcome, rpc.auth.scheme) == ("ok", f.ACCEPTED, "NTLM")
    [channel] = [e for e in rpc.endpoints if e.port == 6002]
    assert (channel.outcome, channel.detail) == (f.CHANNEL_FAILED, "bad-challenge")
