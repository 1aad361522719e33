"""Nodes are probed concurrently, and the deadline holds whatever the nodes do."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator

import pytest

from contrib.lab import Lab
from tests.conftest import run_plugin

SLOW_NODES = ["127.0.50.1", "127.0.50.2", "127.0.50.3"]
DELAY = 1.2  # seconds each node waits before answering the ClientHello


class SlowNodes:
    """TLS nodes that wait DELAY seconds after accepting before they handshake."""

    def __init__(self, lab: Lab) -> None:
        chain = lab.chain("single")
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(chain.cert_file, chain.key_file)
        self.listeners = []
        first = socket.create_server((SLOW_NODES[0], 0))
        self.port = first.getsockname()[1]
        self.listeners.append(first)
        for address in SLOW_NODES[1:]:
            self.listeners.append(socket.create_server((address, self.port)))
        self.stopping = threading.Event()
        for listener in self.listeners:
            threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        time.sleep(DELAY)
        try:
            with self.ctx.wrap_socket(conn, server_side=True) as tls:
                tls.settimeout(2)
                tls.recv(1)
        except OSError:
            pass

    def close(self) -> None:
        self.stopping.set()
        for listener in self.listeners:
            listener.close()


@pytest.fixture(scope="module")
def slow_nodes(lab: Lab) -> Iterator[SlowNodes]:
    nodes = SlowNodes(lab)
    yield nodes
    nodes.close()


def test_three_slow_nodes_fit_in_a_deadline_that_one_after_another_would_not(
    lab: Lab, slow_nodes: SlowNodes
) -> None:
    # One after another would need 3 x 1.2 s; the deadline leaves 2.75 s of network time.
    args = [
        "-H",
        "single.contoso.test",
        "-p",
        str(slow_nodes.port),
        "-t",
        "3",
        "--ca-file",
        lab.ca_file,
    ]
    for address in SLOW_NODES:
        args += ["-I", address]
    out = run_plugin(*args)
    assert out.code == 0, out.stdout
    expires = lab.chain("single").leaf.not_valid_after_utc.date().isoformat()
    assert out.status == (
        "OUTLOOK_ANYWHERE OK - 3/3 nodes OK: msstd:single.contoso.test matches the CN, 300.0 days"
        f" left (expires {expires})"
    ), out.stdout
    assert out.perfdata["nodes_ok"] == "3;;;0;3"
    assert [line.split()[:2] for line in out.long_output] == [[a, "OK"] for a in SLOW_NODES]


def test_every_silent_node_is_named_within_the_deadline(lab: Lab) -> None:
    silent = lab.scenario("silent").addresses[0]
    healthy = lab.scenario("single").addresses[0]
    out = run_plugin(
        "-H",
        "single.contoso.test",
        "-p",
        str(lab.port),
        "-t",
        "2",
        "--ca-file",
        lab.ca_file,
        "-I",
        healthy,
        "-I",
        silent,
    )
    assert out.code == 2
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {silent}: TLS handshake not finished within the deadline"
        " [1/2 nodes OK]"
    ), out.stdout
    assert out.perfdata["nodes"] == "2;;;0" and out.perfdata["nodes_ok"] == "1;;;0;2"
    # worst first
    assert out.long_output[0].startswith(
        f"{silent} CRITICAL: TLS handshake not finished within the deadline"
    )
    assert out.long_output[1].startswith(f"{healthy} OK -- CN single.contoso.test; ")
    assert len(out.long_output) == 2
    assert out.elapsed < 3.2  # hard deadline
    assert out.stderr == ""
