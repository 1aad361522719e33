"""--auth-certificate, --health and --build against front doors the lab does not play: a
healthcheck page without the server's name, an /owa/ that closes or never answers, a signing
certificate cryptography refuses, and a poller without cryptography.  Through the CLI, each
node a TLS server of tests/edge_servers.py on 127.77.3.x answering as the test scripts it.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from contrib.lab.network.http11 import Request, Response
from tests.conftest import Outcome, run_plugin
from tests.edge_servers import (
    Issued,
    Servers,
    issue,
    ok,
    resigned,
    server_context,
    write_chain,
)

HOST = "fd-edge.contoso.test"
NODES = {
    "plain": "127.77.3.1",  # healthcheck without <br>, /owa/ closes without a word
    "v2-auth": "127.77.3.2",  # the metadata's signing certificate is a version 2 one
    "slow-owa": "127.77.3.3",  # /owa/ never answers
}
V3, V2 = b"\xa0\x03\x02\x01\x02", b"\xa0\x03\x02\x01\x01"  # a certificate's version field
ALL = ("--auth-certificate", "--health", "EWS,mapi", "--build")


def metadata(der: bytes) -> bytes:
    """The Auth metadata document publishing ``der`` as its signing certificate."""
    key = {
        "usage": "signing",
        "keyinfo": {"x5t": "x"},
        "keyvalue": {"type": "x509Certificate", "value": base64.b64encode(der).decode()},
    }
    return json.dumps({"id": "_edge", "keys": [key]}).encode()


def healthy_page(_: Request) -> Response:
    return ok(b"200 OK", ("Content-Type", "text/html"))


def owa(_: Request) -> Response:
    return Response(302, "Found", [("Location", "/owa/auth/logon.aspx"), ("X-OWA-Version", BUILD)])


def never(_: Request) -> None:
    time.sleep(8)  # the client gives up first; then the connection just ends


BUILD = "15.2.1544.14"


@dataclass
class Doors:
    servers: Servers
    root: Issued
    auth: Issued
    root_file: Path

    def check(self, node: str, *extra: str, timeout: str = "10") -> Outcome:
        return run_plugin(
            "-H", HOST, "-I", NODES[node], "-p", str(self.servers.port),
            "--ca-file", str(self.root_file), "-t", timeout, *extra,
        )  # fmt: skip


@pytest.fixture(scope="module")
def doors(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Doors]:
    folder = tmp_path_factory.mktemp("edge-doors")
    root = issue("Edge Doors Root CA", ca=True)
    auth = issue("Microsoft Exchange Server Auth Certificate", ca=False)
    leaf = issue(HOST, root)
    servers = Servers(tls=tuple(NODES.values()))
    context = server_context(write_chain(folder, "node", leaf))
    document = metadata(auth.der)
    odd_document = metadata(resigned(auth.cert, auth, V3, V2))
    for node, address in NODES.items():
        servers.contexts[address] = context
        served = odd_document if node == "v2-auth" else document
        servers.route(address, "/autodiscover/metadata/json/1", lambda _, d=served: ok(d))
        servers.route(address, "/ews/healthcheck.htm", healthy_page)
        servers.route(address, "/mapi/healthcheck.htm", healthy_page)
        servers.route(address, "/owa/", owa)
    servers.route(NODES["plain"], "/owa/", lambda _: None)
    servers.route(NODES["slow-owa"], "/owa/", never)
    root_file = folder / "root.pem"
    root_file.write_bytes(root.pem)
    yield Doors(servers, root, auth, root_file)
    servers.close()


def clean(out: Outcome) -> None:
    assert out.stderr == "" and "Traceback" not in out.stdout, out.stdout + out.stderr
    assert "internal error" not in out.stdout, out.stdout
    assert len(out.status) <= 200 and ";" not in out.status, out.status


def test_a_healthcheck_without_the_server_name_and_an_owa_that_hangs_up(doors: Doors) -> None:
    """healthcheck.htm answers 200 with no "<br/>EXnn" (a load balancer's own page, or an
    older build): healthy, and no server name made up.  /owa/ ends the connection without an
    answer: the build is not read, said so, and the rest of the node's answers stand."""
    out = doors.check("plain", *ALL)
    clean(out)
    assert out.code == 1, out.stdout
    address = NODES["plain"]
    assert out.status == (
        f"OUTLOOK_ANYWHERE WARNING - {address}: build not read: GET /owa/ not read: server"
        " closed the connection without a full answer [0/1 nodes OK]"
    )
    [line] = [x for x in out.long_output if x.startswith(f"{address} ")]
    assert "healthcheck.htm 200 for 2/2 (ews, mapi)" in line, line
    assert "; server " not in line, line
    assert doors.servers.requests(address)[-1] == "/owa/"


def test_a_signing_certificate_cryptography_refuses_is_named_with_its_reason(
    doors: Doors,
) -> None:
    """A version 2 certificate (cryptography's InvalidVersion, no ValueError) is one more
    certificate that does not parse, not an internal error; the only node, so no node
    publishes the Auth certificate (CRITICAL)."""
    out = doors.check("v2-auth", "--auth-certificate")
    clean(out)
    assert out.code == 2, out.stdout
    address = NODES["v2-auth"]
    assert out.long_output[0].startswith(
        f"{address} CRITICAL: Auth metadata publishes a signing key whose certificate does not"
        " parse (1 is not a valid X509 version), no node publishes the Exchange Auth certificate"
        " -- "
    ), out.long_output[0]


def test_what_a_node_answered_before_the_deadline_is_kept(doors: Doors) -> None:
    """/owa/ never answers: the build is not read (whether its own read or the check's
    deadline ends it first), and the metadata and health read before it are judged."""
    out = doors.check("slow-owa", *ALL, timeout="3")
    clean(out)
    assert out.code == 1, out.stdout
    address = NODES["slow-owa"]
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE WARNING - {address}: build not read: GET /owa/ not read: no answer"
    ), out.status
    [line] = [x for x in out.long_output if x.startswith(f"{address} ")]
    assert "healthcheck.htm 200 for 2/2 (ews, mapi)" in line, line
    assert "Auth certificate" in line and "days left" in line, line


WITHOUT_CRYPTOGRAPHY = """
import sys
sys.modules["cryptography"] = None
sys.path.insert(0, {repo!r})
import check_outlook_anywhere
text, code = check_outlook_anywhere.run(sys.argv[1:])
sys.stdout.write(text)
sys.exit(code)
"""


def test_the_auth_certificate_without_cryptography_is_a_broken_installation(
    doors: Doors,
) -> None:
    """cryptography reads the signing certificate: a poller without it gets one UNKNOWN naming
    the module, not a failure per node."""
    import os
    import subprocess
    import sys

    from tests.conftest import REPO

    proc = subprocess.run(
        [
            sys.executable, "-c", WITHOUT_CRYPTOGRAPHY.format(repo=str(REPO)),
            "-H", HOST, "-I", NODES["plain"], "-p", str(doors.servers.port),
            "--ca-file", str(doors.root_file), "--auth-certificate",
        ],
        capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, env=dict(os.environ),
    )  # fmt: skip
    assert proc.stderr == "", proc.stderr
    assert (proc.returncode, proc.stdout) == (
        3,
        "OUTLOOK_ANYWHERE UNKNOWN - broken installation: Python module cryptography is not"
        " installed\n",
    )
