"""Soak and leaks: many runs in a row against nodes that flap, nothing left open afterwards, and
every read bounded by a named constant (each tested at its limit).

The 300 consecutive runs are processes of their own, forked by tests/plugin_runner.py from an
interpreter that has already imported the plugin (so they fit in the default suite);
``OUTLOOK_ANYWHERE_LONG=1`` makes them 1,000 cold starts of ``check_outlook_anywhere.py``.
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from contrib.lab import Lab
from contrib.lab.identities.hostile_certificates import HostilePKI
from outlook_anywhere import transport
from outlook_anywhere.autodiscover import document as autodiscover_xml
from outlook_anywhere.transport import Deadline
from outlook_anywhere.transport import http as httpclient
from tests.conftest import REPO, Outcome, run_plugin

LONG = os.environ.get("OUTLOOK_ANYWHERE_LONG") == "1"
RUNS = 1000 if LONG else 300
SEED = int(os.environ.get("OUTLOOK_ANYWHERE_SOAK_SEED", "6"))
TIMEOUT = 1.0  # -t of every soak run: a silent node costs the whole of it
SILENT = r"TLS handshake not finished within the deadline"
NODES = ["127.0.64.1", "127.0.64.2", "127.0.64.3"]
CERTS = ("a", "b", "wrong")  # the states in which a node serves a certificate
HOST = "soak.contoso.test"


# -- 300 consecutive runs against flapping nodes ---------------------------------------------


class ForkRunner:
    """tests/plugin_runner.py in fork mode: one forked process per run."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(REPO / "tests" / "plugin_runner.py"), "fork"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def __call__(self, *args: str) -> Outcome:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(args) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        return Outcome(answer["code"], answer["stdout"], answer["stderr"], answer["elapsed"])

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(10)


@dataclass
class Flapping:
    lab: Lab
    chains: dict[str, object]
    state: dict[str, str]

    def set(self, address: str, state: str) -> None:
        """a / b: the certificate of the renewal or the one before; wrong: another name;
        refuse: the node is down (its listener closed); silent: accepts, never answers."""
        behaviour = "tls" if state in ("a", "b", "wrong") else state
        chain = self.chains[state] if behaviour == "tls" else None
        self.lab.set_node(address, behaviour, chain)  # type: ignore[arg-type]
        self.state[address] = state


@pytest.fixture(scope="module")
def flapping(lab: Lab) -> Iterator[Flapping]:
    pki = HostilePKI(lab.pki)
    chains: dict[str, object] = {
        "a": pki.leaf("soak-a", HOST),
        "b": pki.leaf("soak-b", HOST),  # same name and dates, another certificate
        "wrong": pki.leaf("soak-wrong", "legacy.contoso.test"),
    }
    array = Flapping(lab, chains, {})
    for address in NODES:
        array.set(address, "a")
    lab.dns.set_records(HOST, "A", NODES)
    yield array
    lab.reset()


def expected_code(state: dict[str, str]) -> int:
    if any(s in ("wrong", "refuse", "silent") for s in state.values()):
        return 2
    return 1 if len(set(state.values())) > 1 else 0


def odd_ones_out(state: dict[str, str]) -> set[str]:
    """The nodes named for serving another certificate: all but the largest group of nodes
    serving the same one (on a tie, the group of the first address that serves one)."""
    serving = [(address, state[address]) for address in NODES if state[address] in CERTS]
    groups: dict[str, list[str]] = {}
    for address, cert in serving:
        groups.setdefault(cert, []).append(address)
    if len(groups) < 2:
        return set()
    first = serving[0][1]
    majority = max(groups, key=lambda cert: (len(groups[cert]), cert == first))
    return {address for address, cert in serving if cert != majority}


def check_run(out: Outcome, state: dict[str, str]) -> None:
    """The run told the truth about the state the lab was in, in time, in one clean line."""
    assert out.stderr == "", out.stderr
    assert out.code == expected_code(state), out.stdout
    states = ("OK", "WARNING", "CRITICAL", "UNKNOWN")
    assert out.first_line.startswith(f"OUTLOOK_ANYWHERE {states[out.code]} - "), out.stdout
    assert out.elapsed < TIMEOUT + 1.0, f"{out.elapsed:.2f} s"
    lines = out.long_output
    minority = odd_ones_out(state)
    # worst first: CRITICAL nodes, then the WARNING minority, then OK, each in address order
    worst = {"wrong": 2, "refuse": 2, "silent": 2}
    rank = {a: worst.get(state[a], 1 if a in minority else 0) for a in NODES}
    order = sorted(NODES, key=lambda address: -rank[address])
    assert [line.split()[0] for line in lines[: len(NODES)]] == order, out.stdout
    for address, line in zip(order, lines, strict=False):
        kind = state[address]
        if kind in ("a", "b") and address in minority:
            assert line.startswith(f"{address} WARNING: certificates differ"), line
        elif kind in ("a", "b"):
            assert line.startswith(f"{address} OK -- CN {HOST}"), line
        elif kind == "wrong":
            assert line.startswith(
                f"{address} CRITICAL: Mutual Authentication could not be established"
            ), line
        elif kind == "refuse":
            assert line.startswith(f"{address} CRITICAL: connection refused"), line
        else:
            assert re.match(f"{re.escape(address)} CRITICAL: {SILENT}", line), line
    served = {s for s in state.values() if s in CERTS}
    assert ("certificates differ" in out.stdout) == (len(served) > 1), out.stdout


def test_consecutive_runs_against_flapping_nodes(lab: Lab, flapping: Flapping) -> None:
    rng = random.Random(SEED)
    runner = None if LONG else ForkRunner()
    args = ["-H", HOST, "-p", str(lab.port), "--dns-server", lab.dns_server]
    args += ["--ca-file", lab.ca_file, "-t", f"{TIMEOUT:g}"]
    seen: dict[int, int] = {}
    try:
        for number in range(RUNS):
            # One node changes between two runs: restarts, certificate swaps, outages, and
            # (never for long: it costs the whole deadline) a node gone silent.
            address = rng.choice(NODES)
            if "silent" in flapping.state.values():
                address = next(a for a, s in flapping.state.items() if s == "silent")
                new = "a"  # back after a restart
            else:
                weights = {"a": 40, "b": 25, "wrong": 8, "refuse": 22, "silent": 5}
                new = rng.choices(list(weights), list(weights.values()))[0]
            flapping.set(address, new)
            out = runner(*args) if runner is not None else run_plugin(*args)
            try:
                check_run(out, flapping.state)
            except AssertionError as exc:
                raise AssertionError(f"run {number + 1}, lab {flapping.state}: {exc}") from None
            seen[out.code] = seen.get(out.code, 0) + 1
    finally:
        if runner is not None:
            runner.close()
    assert set(seen) == {0, 1, 2}, seen  # the lab went through all three states


# -- 1,000 checks in one process ---------------------------------------------------------------


def leak_report(lab: Lab, count: int, *args: str) -> dict[str, dict[str, int]]:
    proc = subprocess.run(
        [sys.executable, str(REPO / "tests" / "plugin_runner.py"), "leaks", str(count), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_a_thousand_checks_leak_no_socket_thread_or_memory(lab: Lab) -> None:
    # Nodes that answer: a healthy one, a refusing one, an untrusted one and a weak one (two
    # handshakes and cryptography), so every probe thread ends with its check.
    nodes = [lab.scenario(s).addresses[0] for s in ("single", "refused", "untrusted", "weak-sha1")]
    args = ["-H", "single.contoso.test", "-p", str(lab.port), "--ca-file", lab.ca_file]
    for address in nodes:
        args += ["-I", address]
    report = leak_report(lab, 1000, *args)
    assert report["codes"] == {"2": 1000}, report
    before, warm, after = report["before"], report["warm"], report["after"]
    assert after["fds"] == before["fds"], report
    assert after["threads"] == before["threads"], report
    assert after["rss_kib"] - warm["rss_kib"] < 16 * 1024, report


# -- bounded reads, each at its limit ----------------------------------------------------------


@pytest.fixture(scope="module")
def chains_at_the_limit(lab: Lab) -> Iterator[dict[int, str]]:
    """Nodes serving chains of MAX_CHAIN and MAX_CHAIN + 1 certificates (root included)."""
    pki = HostilePKI(lab.pki)
    nodes = {}
    for offset, length in enumerate((transport.MAX_CHAIN, transport.MAX_CHAIN + 1)):
        address = f"127.0.65.{offset + 1}"
        chain = pki.long_chain(f"chain-{length}", "limit.contoso.test", length)
        assert len(chain.certs) == length
        lab.set_node(address, "tls", chain)
        nodes[length] = address
    yield nodes
    lab.reset()


@pytest.mark.parametrize("extra", [0, 1])
def test_certificate_chain_is_read_up_to_max_chain(
    lab: Lab, chains_at_the_limit: dict[int, str], extra: int
) -> None:
    address = chains_at_the_limit[transport.MAX_CHAIN + extra]
    out = run_plugin(
        "-H", "limit.contoso.test", "-I", address, "-p", str(lab.port), "--ca-file", lab.ca_file,
        "-v",
    )  # fmt: skip
    assert out.code == 0 and out.stderr == "", out.stdout
    shown = [line for line in out.long_output if line.startswith("  [")]
    assert len(shown) == transport.MAX_CHAIN  # all of them at the limit, no more beyond it
    assert "Contoso Lab Root CA" in shown[-1] or extra == 1


class CannedHTTP:
    """A plain HTTP server on loopback answering every request with ``response``."""

    def __init__(self) -> None:
        self.response = b""
        self.listener = socket.create_server(("127.0.65.10", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            with conn:
                try:
                    conn.recv(65536)
                    conn.sendall(self.response)
                except OSError:
                    pass

    def get(self, response: bytes) -> httpclient.Response:
        self.response = response
        connection = httpclient.Connection("127.0.65.10", self.port, Deadline(5))
        try:
            return connection.request("GET", "/", "limit.contoso.test")
        finally:
            connection.close()


@pytest.fixture(scope="module")
def http() -> Iterator[CannedHTTP]:
    server = CannedHTTP()
    yield server
    server.listener.close()


def _chunked(size: int) -> bytes:
    chunk = 65536
    parts = [b"x" * min(chunk, size - at) for at in range(0, size, chunk)]
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


@pytest.mark.parametrize("framing", ["content-length", "chunked", "until-close"])
def test_http_body_is_read_up_to_max_body(http: CannedHTTP, framing: str) -> None:
    limit = httpclient.MAX_BODY

    def response(size: int) -> bytes:
        if framing == "content-length":
            return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % size + b"x" * size
        if framing == "chunked":
            return b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + _chunked(size)
        return b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + b"x" * size

    assert len(http.get(response(limit)).body) == limit
    with pytest.raises(httpclient.HttpError) as refused:
        http.get(response(limit + 1))
    assert refused.value.kind == "too-big"


def test_http_header_lines_are_read_up_to_max_headers(http: CannedHTTP) -> None:
    def response(count: int) -> bytes:
        headers = b"".join(b"X-H%d: v\r\n" % n for n in range(count))
        return b"HTTP/1.1 200 OK\r\n" + headers + b"Content-Length: 0\r\n\r\n"

    assert len(http.get(response(httpclient.MAX_HEADERS - 1)).headers) == httpclient.MAX_HEADERS
    with pytest.raises(httpclient.HttpError, match=f"more than {httpclient.MAX_HEADERS} header"):
        http.get(response(httpclient.MAX_HEADERS))


def test_http_line_is_read_up_to_max_line(http: CannedHTTP) -> None:
    def response(length: int) -> bytes:
        name = b"X-Long: "
        return (
            b"HTTP/1.1 200 OK\r\n" + name + b"v" * (length - len(name)) + b"\r\n"
            b"Content-Length: 0\r\n\r\n"
        )

    assert http.get(response(httpclient.MAX_LINE)).header("X-Long")
    with pytest.raises(httpclient.HttpError, match="line longer than"):
        http.get(response(httpclient.MAX_LINE + 1))


def test_autodiscover_values_are_cut_at_max_value() -> None:
    from contrib.lab.endpoints.autodiscover import _redirect

    limit = autodiscover_xml.MAX_VALUE
    for size, kept in ((limit, limit), (limit + 1, limit)):
        address = "m" * (size - len("@contoso.test")) + "@contoso.test"
        document = autodiscover_xml.parse(_redirect("redirectAddr", address))
        assert len(document.redirect_addr) == kept
