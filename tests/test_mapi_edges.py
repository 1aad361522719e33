"""--mapi against nodes the lab does not play: one that closes the connection after its
healthcheck answer, one whose healthcheck never answers, one that sends a TLS record no TLS
stack made, one whose status line never ends.  Through the CLI, each node a TLS server of
tests/edge_servers.py on 127.77.5.x.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from contrib.lab.network.http11 import Request, Response
from tests.conftest import Outcome, run_plugin
from tests.edge_servers import Servers, issue, ok, server_context, write_chain

HOST = "mapi-edge.contoso.test"
NODES = {
    "closes": "127.77.5.1",  # Connection: close on its healthcheck answer
    "silent": "127.77.5.2",  # the healthcheck never answers
    "forged": "127.77.5.3",  # a forged TLS record instead of the emsmdb answer
    "endless": "127.77.5.4",  # a status line that never ends
}
# An application-data record of TLS 1.2/1.3 whose content no key encrypted: its
# authentication tag cannot verify
FORGED_RECORD = b"\x17\x03\x03\x00\x20" + bytes(range(32))


def wants_credentials(_: Request) -> Response:
    offers = [("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", "NTLM")]
    return Response(401, "Unauthorized", offers, b"")


def never(_: Request) -> None:
    time.sleep(8)  # the client gives up first; then the connection just ends


@dataclass
class Nodes:
    servers: Servers
    root_file: Path

    def check(self, node: str, *extra: str) -> Outcome:
        return run_plugin(
            "-H", HOST, "-I", NODES[node], "-p", str(self.servers.port),
            "--ca-file", str(self.root_file), "--mapi", *extra,
        )  # fmt: skip

    def line(self, out: Outcome, node: str) -> str:
        [line] = [x for x in out.long_output if x.startswith(f"{NODES[node]} ")]
        return line


@pytest.fixture(scope="module")
def nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Nodes]:
    folder = tmp_path_factory.mktemp("mapi-edge")
    root = issue("Edge MAPI Root CA", ca=True)
    servers = Servers(tls=tuple(NODES.values()))
    context = server_context(write_chain(folder, "node", issue(HOST, root)))
    healthy = ok(b"200 OK<br/>EX01.contoso.test", ("Content-Type", "text/html"))
    for address in NODES.values():
        servers.contexts[address] = context
        servers.route(address, "/mapi/healthcheck.htm", lambda _: healthy)
        servers.route(address, "/mapi/emsmdb/", wants_credentials)
    closing = Response(200, "OK", [], b"200 OK<br/>EX01.contoso.test", close=True)
    servers.route(NODES["closes"], "/mapi/healthcheck.htm", lambda _: closing)
    servers.route(NODES["silent"], "/mapi/healthcheck.htm", never)
    servers.route(NODES["forged"], "/mapi/emsmdb/", lambda _: FORGED_RECORD)
    endless = Response(200, "O" * 20000, [], b"")  # one TLS record holds 16 KiB of it
    servers.route(NODES["endless"], "/mapi/healthcheck.htm", lambda _: endless)
    root_file = folder / "root.pem"
    root_file.write_bytes(root.pem)
    yield Nodes(servers, root_file)
    servers.close()


def clean(out: Outcome) -> None:
    assert out.stderr == "" and "Traceback" not in out.stdout, out.stdout + out.stderr
    assert "internal error" not in out.stdout, out.stdout
    assert len(out.status) <= 200 and ";" not in out.status, out.status


def test_a_node_that_closes_after_its_healthcheck_is_asked_again_on_a_new_connection(
    nodes: Nodes,
) -> None:
    """Connection: close on the healthcheck answer (as some load balancers do): the emsmdb
    probe goes on a connection of its own, and the node answers as a healthy one."""
    out = nodes.check("closes")
    clean(out)
    assert out.code == 0, out.stdout
    assert out.status.startswith("OUTLOOK_ANYWHERE OK - 1/1 nodes OK: "), out.status
    line = nodes.line(out, "closes")
    assert "healthcheck.htm 200; /mapi/emsmdb/ 401 Unauthorized; schemes Negotiate, NTLM" in line
    assert nodes.servers.requests(NODES["closes"]) == ["/mapi/healthcheck.htm", "/mapi/emsmdb/"]
    assert nodes.servers.connections[NODES["closes"]] == 3  # the TLS probe's, and two


def test_a_node_that_never_answers_is_critical_within_the_deadline(nodes: Nodes) -> None:
    """Whether the node's own read or the check's deadline ends it first, it did not answer."""
    out = nodes.check("silent", "-t", "3")
    clean(out)
    assert out.code == 2, out.stdout
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE CRITICAL - {NODES['silent']}: MAPI over HTTP: no answer "
    ), out.status
    assert out.status.endswith("[0/1 nodes OK]"), out.status


def test_a_forged_tls_record_is_a_tls_failure_of_that_node(nodes: Nodes) -> None:
    """A record whose authentication tag does not verify (a middlebox writing into the
    stream): OpenSSL's reason, not a closed connection or an internal error."""
    out = nodes.check("forged")
    clean(out)
    assert out.code == 2, out.stdout
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE CRITICAL - {NODES['forged']}: MAPI over HTTP: TLS error: "
    ), out.status
    assert "RECORD_MAC" in out.status, out.status
    assert "healthcheck.htm 200" in nodes.line(out, "forged")


def test_a_status_line_that_never_ends_is_refused(nodes: Nodes) -> None:
    out = nodes.check("endless")
    clean(out)
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {NODES['endless']}: MAPI over HTTP: a response line"
        " longer than 8192 bytes [0/1 nodes OK]"
    )
