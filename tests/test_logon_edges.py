"""The logon probes against nodes the lab does not play, each a TLS server of
tests/edge_servers.py on 127.77.9.x whose answers a test scripts: an echo or a MAPI endpoint
that asks for no credentials, an echo answered 500 or with a PDU that is no echo, OUT channels
that refuse, answer 404, send an RTS fault, garbage or close before CONN/C2, an NTLM node that
answers the first leg without a challenge or closes the connection with its challenge.  The
probes are called in-process (facts only), and what they found is put in the words an admin
reads.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from nagiosplugin.state import Critical

from contrib.lab.endpoints import rts as lab_rts
from contrib.lab.network.http11 import Request, Response
from outlook_anywhere.check.words import phrase
from outlook_anywhere.facts import logon as f
from outlook_anywhere.judgement import findings as k
from outlook_anywhere.judgement.findings import Finding
from outlook_anywhere.probes.logon import Account
from outlook_anywhere.probes.logon_mapi import logon_mapi, mailbox_id
from outlook_anywhere.probes.logon_node import Node
from outlook_anywhere.probes.logon_rpc import logon_rpc
from outlook_anywhere.transport import Deadline, client_context
from tests.edge_servers import Servers, issue, server_context, status, write_chain

HOST = "logon-edge.contoso.test"
SERVER = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0@contoso.com"
NODES = {
    "anonymous": "127.77.9.1",  # echo and MAPI answer without asking for credentials
    "echo-500": "127.77.9.2",  # the logged-on echo answers 500
    "echo-other": "127.77.9.3",  # the echo answers CONN/A3 instead of an echo
    "channels": "127.77.9.4",  # 6001 refused, 6002 404, 6004 an RTS fault
    "streams": "127.77.9.5",  # 6001 closes after A3, 6002 garbage, 6004 C2
    "no-challenge": "127.77.9.6",  # NTLM: the first leg is answered 200
    "closes": "127.77.9.7",  # NTLM: the challenge comes with Connection: close
}
BASIC = [("WWW-Authenticate", 'Basic realm="logon-edge"')]


def basic(then: Response) -> object:
    """A route that asks for Basic credentials, and answers ``then`` to a logon."""

    def answer(request: Request) -> Response:
        if "authorization" not in request.headers:
            return Response(401, "Unauthorized", BASIC, b"")
        return then

    return answer


def echo_or(echo: object, out: object) -> object:
    """The 6001 path's route: the echo (RPC_IN_DATA with a small body) shares it with the
    mail store's channels."""

    def answer(request: Request) -> Response:
        chosen = out if request.method == "RPC_OUT_DATA" or request.streamed else echo
        return chosen(request)  # type: ignore[operator]

    return answer


def out_channel(*parts: bytes) -> Response:
    """A 200 to the OUT channel whose body streams ``parts``, then ends."""
    return Response(200, "Success", [("Content-Type", "application/rpc")], list(parts))


def fault(code: int) -> bytes:
    """An RPC fault PDU carrying ``code`` (C706 12.6.4.7)."""
    body = struct.pack("<IHBBI", 0, 0, 0, 0, code) + b"\0" * 4
    length = lab_rts.HEADER_SIZE + len(body)
    return lab_rts.HEADER.pack(5, 0, 3, 3, b"\x10\0\0\0", length, 0, 0) + body


@dataclass
class Nodes:
    servers: Servers
    root_file: Path

    def node(self, name: str, seconds: float = 6.0) -> Node:
        ctx = client_context(verify=True, ca_file=str(self.root_file), check_hostname=True)
        account = Account("monitor@contoso.test", "s3cret-Edge")
        return Node(NODES[name], self.servers.port, HOST, account, ctx, Deadline(seconds))

    def rpc(self, name: str) -> f.RpcLogon:
        facts = f.RpcLogon(NODES[name])
        logon_rpc(self.node(name), SERVER, facts)
        return facts


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    folder = tmp_path_factory.mktemp("logon-edge")
    root = issue("Edge Logon Root CA", ca=True)
    servers = Servers(tls=tuple(NODES.values()))
    context = server_context(write_chain(folder, "node", issue(HOST, root)))
    for address in NODES.values():
        servers.contexts[address] = context
    rpc = "/rpc/rpcproxy.dll"
    echo = f"{rpc}?{SERVER}:6001"
    echoed = out_channel(lab_rts.echo())
    route = servers.route
    route(NODES["anonymous"], echo, lambda _: status(403, "Forbidden"))
    route(NODES["anonymous"], "/mapi/emsmdb/", lambda _: status(200, "OK"))
    route(NODES["echo-500"], echo, basic(status(500, "Internal Server Error")))
    route(NODES["echo-other"], echo, basic(out_channel(lab_rts.conn_a3())))
    channels = NODES["channels"]
    refused = Response(401, "Unauthorized", BASIC, b"")
    route(channels, echo, echo_or(basic(echoed), lambda _: refused))
    route(channels, f"{rpc}?{SERVER}:6002", basic(status(404, "Not Found")))
    route(channels, f"{rpc}?{SERVER}:6004", basic(out_channel(lab_rts.conn_a3(), fault(0x6BE))))
    streams = NODES["streams"]
    route(streams, echo, echo_or(basic(echoed), basic(out_channel(lab_rts.conn_a3()))))
    route(streams, f"{rpc}?{SERVER}:6002", basic(out_channel(b"\xff" * 64)))
    route(streams, f"{rpc}?{SERVER}:6004", basic(out_channel(lab_rts.conn_a3(), lab_rts.conn_c2())))
    ntlm = [("WWW-Authenticate", "NTLM")]
    route(NODES["no-challenge"], echo, lambda r: status(401, "Unauthorized", *ntlm)
          if "authorization" not in r.headers else status(200, "OK"))  # fmt: skip
    route(NODES["closes"], echo, lambda _: status(401, "Unauthorized", *ntlm))
    route(NODES["closes"], "/mapi/emsmdb/", lambda r: status(401, "Unauthorized", *ntlm)
          if "authorization" not in r.headers
          else status(401, "Unauthorized", ("WWW-Authenticate", "NTLM"), close=True))  # fmt: skip
    root_file = folder / "root.pem"
    root_file.write_bytes(root.pem)
    yield Nodes(servers, root_file)
    servers.close()


def said(kind: str, **evidence: object) -> str:
    return phrase(Finding(kind, Critical, None, evidence))  # type: ignore[arg-type]


def test_an_echo_that_asks_for_no_credentials_is_left_to_the_rpc_probe(nodes: Nodes) -> None:
    """A 403 to the anonymous echo: no logon is tried (no credentials go to a node that does
    not ask for them), and the echo's status is what is said."""
    facts = nodes.rpc("anonymous")
    assert (facts.echo, facts.status, facts.auth.detail) == ("status", 403, "status-403")
    assert facts.auth.scheme == "" and facts.endpoints == []
    assert nodes.servers.requests(NODES["anonymous"]).count(f"/rpc/rpcproxy.dll?{SERVER}:6001") == 1
    assert said(k.ECHO_FAILED, status="403 Forbidden") == "RPC echo answered 403 Forbidden"


def test_a_mapi_endpoint_that_asks_for_no_credentials_opens_no_session(nodes: Nodes) -> None:
    """A 200 to the anonymous request: no Connect is sent, so no session is opened."""
    facts = f.MapiLogon(NODES["anonymous"])
    path = f"/mapi/emsmdb/?MailboxId={SERVER}"
    logon_mapi(nodes.node("anonymous"), path, facts, "/o=Contoso/cn=monitor", Deadline(6))
    assert (facts.request, facts.status, facts.auth.detail) == ("PING", 200, "status-200")
    assert not facts.session and not facts.logged_on and facts.step == ""


def test_an_echo_answered_500_after_the_logon_tries_no_endpoint(nodes: Nodes) -> None:
    facts = nodes.rpc("echo-500")
    assert facts.auth.outcome == f.ACCEPTED and facts.auth.scheme == "Basic"
    assert (facts.echo, facts.status, facts.reason) == ("status", 500, "Internal Server Error")
    assert facts.endpoints == []


def test_an_echo_answered_with_another_pdu_names_that_pdu(nodes: Nodes) -> None:
    facts = nodes.rpc("echo-other")
    assert (facts.echo, facts.echo_detail) == ("garbage", "CONN/A3")
    assert facts.endpoints == []
    assert said(k.ECHO_FAILED, detail=facts.echo_detail) == (
        "RPC echo answered 200 with a CONN/A3 PDU instead of an RTS echo"
    )


def endpoints(facts: f.RpcLogon) -> dict[int, f.Endpoint]:
    return {e.port: e for e in facts.endpoints}


def test_out_channels_refused_not_found_and_faulted_each_say_so(nodes: Nodes) -> None:
    facts = nodes.rpc("channels")
    assert facts.echo == "ok"
    found = endpoints(facts)
    assert (found[6001].outcome, found[6001].status) == (f.CHANNEL_REFUSED, 401)
    assert (found[6002].outcome, found[6002].status) == (f.HTTP_STATUS, 404)
    assert (found[6004].outcome, found[6004].code) == (f.RTS_FAULT, "6be")
    assert found[6004].pdus == ("CONN/A3", "fault")
    assert said(k.ENDPOINT_FAILED, port=6001, outcome="refused") == (
        "endpoint 6001 mail store: the channel's logon was refused"
    )
    assert said(k.ENDPOINT_FAILED, port=6002, outcome="http", status="404 Not Found") == (
        "endpoint 6002 directory referral: the OUT channel answered 404 Not Found"
    )


def test_out_channels_closed_garbled_and_answered_each_say_so(nodes: Nodes) -> None:
    facts = nodes.rpc("streams")
    found = endpoints(facts)
    assert (found[6001].outcome, found[6001].detail) == (f.NO_C2, "closed")
    assert found[6001].pdus == ("CONN/A3",)
    assert (found[6002].outcome, found[6002].detail) == (f.GARBAGE, "not-rts")
    assert found[6004].outcome == f.REACHED
    closed = said(k.ENDPOINT_FAILED, port=6001, outcome="no-c2", detail="closed", pdus=["CONN/A3"])
    assert closed == (
        "endpoint 6001 mail store did not answer through the RPC proxy (the proxy closed the OUT"
        " channel before CONN/C2, only CONN/A3)"
    )


def test_an_ntlm_first_leg_answered_without_a_challenge_is_a_failed_logon(nodes: Nodes) -> None:
    pytest.importorskip("spnego")
    facts = nodes.rpc("no-challenge")
    assert (facts.auth.scheme, facts.auth.outcome) == ("NTLM", f.FAILED)
    assert facts.auth.detail == "no-challenge" and facts.echo == ""
    assert said(k.LOGON_FAILED, protocol="RPC", scheme="NTLM", detail="no-challenge") == (
        "RPC logon failed (NTLM): no NTLM/Negotiate challenge in the 401"
    )


def test_a_challenge_on_a_closing_connection_is_a_failed_logon(nodes: Nodes) -> None:
    """NTLM authenticates a connection: a challenge with Connection: close cannot be answered,
    and no session was opened (nothing to disconnect)."""
    pytest.importorskip("spnego")
    facts = f.MapiLogon(NODES["closes"])
    path = f"/mapi/emsmdb/?MailboxId={SERVER}"
    logon_mapi(nodes.node("closes"), path, facts, "/o=Contoso/cn=monitor", Deadline(6))
    assert (facts.auth.outcome, facts.auth.detail) == (f.FAILED, "closed")
    assert not facts.session and facts.cut_off == ""
    assert "Disconnect" not in nodes.servers.requests(NODES["closes"])


def test_a_mail_store_url_that_does_not_parse_has_no_mailbox_id() -> None:
    assert mailbox_id("https://[mail.contoso.com/mapi/emsmdb/?MailboxId=x") == ""
    assert mailbox_id(f"https://mail.contoso.com/mapi/emsmdb/?MailboxId={SERVER}") == SERVER
