"""An internationalized host name (``-H пример.contoso.test``) on every probe that sends HTTP
without credentials (--rpc, --mapi, --health, --build): the ``Host`` header carries the name in
its IDNA form, as SNI and DNS do, whatever the script of the name.  Through the CLI, against one
TLS node of tests/edge_servers.py on 127.77.40.1 that records the Host header of every request.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from contrib.lab.network.http11 import Request, Response
from tests.conftest import Outcome, run_plugin
from tests.edge_servers import Servers, issue, ok, server_context, write_chain

NODE = "127.77.40.1"
CYRILLIC, CYRILLIC_IDNA = "пример.contoso.test", "xn--e1afmkfd.contoso.test"
LATIN, LATIN_IDNA = "bücher.contoso.test", "xn--bcher-kva.contoso.test"  # ü fits in Latin-1
BUILD = "15.2.1544.14"
PROBES = ("--rpc", "--mapi", "--health", "owa", "--build")


@dataclass
class Node:
    servers: Servers
    root_file: Path
    hosts: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)

    def check(self, host: str) -> Outcome:
        self.hosts.clear()
        return run_plugin(
            "-H", host, "-I", NODE, "-p", str(self.servers.port),
            "--ca-file", str(self.root_file), "-P", f"msstd:{CYRILLIC_IDNA}", *PROBES,
        )  # fmt: skip


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    folder = tmp_path_factory.mktemp("idn-host")
    root = issue("IDN Host Root CA", ca=True)
    servers = Servers(tls=(NODE,))
    servers.contexts[NODE] = server_context(write_chain(folder, "node", issue(CYRILLIC_IDNA, root)))
    root_file = folder / "root.pem"
    root_file.write_bytes(root.pem)
    found = Node(servers, root_file)

    def recorded(answer: Response) -> object:
        def route(request: Request) -> Response:
            found.hosts.append((request.path, request.headers.get("host", "")))
            return answer

        return route

    wants = Response(401, "Unauthorized", [("WWW-Authenticate", "NTLM")], b"")
    page = ok(b"200 OK<br/>EX01.contoso.test", ("Content-Type", "text/html"))
    owa = Response(302, "Found", [("Location", "/owa/auth/logon.aspx"), ("X-OWA-Version", BUILD)])
    for path, answer in [
        ("/rpc/rpcproxy.dll", wants),
        ("/rpc/healthcheck.htm", page),
        ("/mapi/healthcheck.htm", page),
        ("/mapi/emsmdb/", wants),
        ("/owa/healthcheck.htm", page),
        ("/owa/", owa),
    ]:
        servers.route(NODE, path, recorded(answer))  # type: ignore[arg-type]
    yield found
    servers.close()


@pytest.mark.parametrize(("host", "idna"), [(CYRILLIC, CYRILLIC_IDNA), (LATIN, LATIN_IDNA)])
def test_every_request_names_the_host_in_its_idna_form(node: Node, host: str, idna: str) -> None:
    """Cyrillic has no Latin-1 form (the request could not be written at all), ü has one (the
    header would name another host): both go as their A-label."""
    out = node.check(host)
    assert out.code == 0, out.stdout + out.stderr
    assert out.status.startswith("OUTLOOK_ANYWHERE OK - 1/1 nodes OK: "), out.status
    assert sorted(node.hosts) == sorted(
        (path, idna)
        for path in (
            "/rpc/rpcproxy.dll",
            "/rpc/healthcheck.htm",
            "/mapi/healthcheck.htm",
            "/mapi/emsmdb/",
            "/owa/healthcheck.htm",
            "/owa/",
        )
    )
