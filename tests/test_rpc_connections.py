"""--rpc's connections to a node: the health check follows RPC_IN_DATA on its connection when
the 401 leaves it open (as IIS does), and on a new one, resuming the TLS session, when the
server closes it (said or not) or sends more than a 401 page.  Through the
CLI, each node a TLS server of tests/edge_servers.py on 127.77.6.x."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from contrib.lab.network.http11 import Response
from tests.conftest import Outcome, run_plugin
from tests.edge_servers import Servers, issue, ok, server_context, write_chain

HOST = "rpc-edge.contoso.test"
NODES = {
    "keeps": "127.77.6.1",  # a 401 page, the connection kept (IIS)
    "chunked": "127.77.6.2",  # the same page chunked
    "closes": "127.77.6.3",  # Connection: close on the 401
    "http10": "127.77.6.4",  # an HTTP/1.0 answer, whose connection ends with it
    "drops": "127.77.6.5",  # the connection kept in words, closed at the next request
    "long": "127.77.6.6",  # a 401 page longer than the probe reads to keep the connection
}
OFFERS = [("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", "NTLM")]
PAGE = b"401 - Unauthorized: Access is denied due to invalid credentials."
HEALTH = b"200 OK<br/>EX01.contoso.test"


@dataclass
class Nodes:
    servers: Servers
    root_file: Path

    def check(self, node: str) -> Outcome:
        return run_plugin(
            "-H", HOST, "-I", NODES[node], "-p", str(self.servers.port),
            "--ca-file", str(self.root_file), "--rpc", "-vvv",
        )  # fmt: skip


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    folder = tmp_path_factory.mktemp("rpc-edge")
    root = issue("Edge RPC Root CA", ca=True)
    servers = Servers(tls=tuple(NODES.values()))
    context = server_context(write_chain(folder, "node", issue(HOST, root)))
    answers = {
        "keeps": Response(401, "Unauthorized", OFFERS, PAGE),
        "chunked": Response(401, "Unauthorized", OFFERS, [PAGE[:20], PAGE[20:]]),
        "closes": Response(401, "Unauthorized", OFFERS, PAGE, close=True),
        "http10": Response(401, "Unauthorized", OFFERS, PAGE, version="HTTP/1.0"),
        "drops": Response(401, "Unauthorized", OFFERS, PAGE),
        "long": Response(401, "Unauthorized", OFFERS, PAGE * 400),
    }
    asked: list[str] = []

    def health(address: str) -> Response | None:
        asked.append(address)
        if address == NODES["drops"] and asked.count(address) == 1:
            return None  # the connection closed, without an answer
        return ok(HEALTH)

    for name, address in NODES.items():
        servers.contexts[address] = context
        servers.route(address, "/rpc/rpcproxy.dll", lambda _, answer=answers[name]: answer)
        servers.route(address, "/rpc/healthcheck.htm", lambda _, at=address: health(at))
    root_file = folder / "root.pem"
    root_file.write_bytes(root.pem)
    yield Nodes(servers, root_file)
    servers.close()


def handshakes(out: Outcome, address: str) -> list[str]:
    lines = [re.sub(r"^\s*[\d.]+ ms\s+", "", line) for line in out.stdout.splitlines()]
    return [line for line in lines if line.startswith(f"{address}: TLS handshake done")]


@pytest.mark.parametrize("node", ["keeps", "chunked"])
def test_the_health_check_follows_the_401_on_its_connection(nodes: Nodes, node: str) -> None:
    address = NODES[node]
    out = nodes.check(node)
    assert out.code == 0, out.stdout
    assert "EX01.contoso.test" in out.stdout
    assert nodes.servers.requests(address) == ["/rpc/rpcproxy.dll", "/rpc/healthcheck.htm"]
    # the TLS probe's connection, then one for both requests
    assert handshakes(out, address) == [
        f"{address}: TLS handshake done: TLSv1.3",
        f"{address}: TLS handshake done: TLSv1.3 ({HOST})",
    ], out.stdout


@pytest.mark.parametrize("node", ["closes", "http10", "drops", "long"])
def test_a_401_that_ends_the_connection_sends_the_health_check_on_a_new_one(
    nodes: Nodes, node: str
) -> None:
    address = NODES[node]
    out = nodes.check(node)
    assert out.code == 0, out.stdout
    assert "EX01.contoso.test" in out.stdout  # the health check's server name
    assert nodes.servers.requests(address)[-1] == "/rpc/healthcheck.htm"
    assert handshakes(out, address)[1:] == [
        f"{address}: TLS handshake done: TLSv1.3 ({HOST})",
        f"{address}: TLS handshake done: TLSv1.3 ({HOST}), session resumed",
    ], out.stdout
