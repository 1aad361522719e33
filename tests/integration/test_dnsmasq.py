"""``--dns-server`` against Debian's dnsmasq: a DNS server the plugin did not grow up with.

The lab's own DNS server is built on dnspython, like the plugin's resolver; dnsmasq answers
the same names from its own code, so a shared misunderstanding of the protocol cannot hide.
"""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator

import pytest

from contrib.lab import Lab
from tests.conftest import run_plugin

from .conftest import require_program

pytestmark = pytest.mark.integration

LISTEN = "127.0.0.54"
SCENARIOS = ("healthy", "wrong-cn-node", "ipv6")


def _free_udp_and_tcp_port() -> int:
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind((LISTEN, 0))
            port = udp.getsockname()[1]
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind((LISTEN, port))
                except OSError:
                    continue
                return port


@pytest.fixture(scope="module")
def dnsmasq(lab: Lab) -> Iterator[str]:
    program = require_program("dnsmasq")
    port = _free_udp_and_tcp_port()
    records = [
        f"--host-record={lab.scenario(name).host},{address}"
        for name in SCENARIOS
        for address in lab.scenario(name).addresses
    ]
    proc = subprocess.Popen(
        [program, "--keep-in-foreground", "--conf-file=/dev/null", f"--listen-address={LISTEN}",
         f"--port={port}", "--bind-interfaces", "--no-resolv", "--no-hosts",
         "--local=/contoso.test/", "--user=root", "--log-facility=-", *records],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 10
        while True:  # ready when it answers over TCP
            try:
                socket.create_connection((LISTEN, port), timeout=0.2).close()
                break
            except OSError:
                assert proc.poll() is None, (
                    f"dnsmasq exited: {proc.stderr.read() if proc.stderr else ''}"
                )
                assert time.monotonic() < deadline, "dnsmasq did not start listening"
                time.sleep(0.05)
        yield f"{LISTEN}:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _check(lab: Lab, dns_server: str, host: str, *extra: str) -> tuple[int, str]:
    out = run_plugin("-H", host, "-p", str(lab.port), "--dns-server", dns_server,
                     "--ca-file", lab.ca_file, *extra)  # fmt: skip
    assert out.stderr == ""
    return out.code, out.status


def test_every_address_dnsmasq_gives_is_checked(lab: Lab, dnsmasq: str) -> None:
    code, status = _check(lab, dnsmasq, "healthy.contoso.test")
    assert code == 0, status
    assert status.startswith("OUTLOOK_ANYWHERE OK - "), status


def test_a_bad_node_behind_dnsmasq_is_named(lab: Lab, dnsmasq: str) -> None:
    code, status = _check(lab, dnsmasq, "wrong-cn-node.contoso.test")
    assert code == 2
    assert status.startswith("OUTLOOK_ANYWHERE CRITICAL - "), status
    assert "127.0.14.3" in status, status


def test_aaaa_from_dnsmasq(lab: Lab, dnsmasq: str) -> None:
    if not lab.ipv6:
        pytest.fail("the lab has no ::1 node on this host")
    code, status = _check(lab, dnsmasq, "ipv6.contoso.test", "-6")
    assert code == 0, status


def test_nxdomain_from_dnsmasq(lab: Lab, dnsmasq: str) -> None:
    code, status = _check(lab, dnsmasq, "nowhere.contoso.test")
    assert code == 2
    assert status.startswith("OUTLOOK_ANYWHERE CRITICAL - nowhere.contoso.test"), status
    assert "NXDOMAIN" in status and dnsmasq in status, status
