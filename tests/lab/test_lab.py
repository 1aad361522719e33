"""Tests of the lab itself (contrib/lab), with real sockets on loopback."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dns.exception
import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from contrib.lab import Lab  # noqa: E402
from contrib.lab.network.nodes import BANNER  # noqa: E402
from contrib.lab.network.tls import server_name  # noqa: E402
from contrib.lab.scenarios import SCENARIOS, node_configs  # noqa: E402


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with Lab(tmp_path_factory.mktemp("lab")) as running:
        yield running


def connect(lab: Lab, address: str, timeout: float = 3.0) -> socket.socket:
    return socket.create_connection((address, lab.port), timeout=timeout)


def handshake(
    lab: Lab, address: str, sni: str | None, cafile: str | None = None, verify: bool = True
) -> x509.Certificate:
    """TLS handshake with ``address``; return the leaf the node served."""
    ctx = ssl.create_default_context(cafile=cafile or lab.ca_file)
    ctx.check_hostname = False
    if not verify:
        ctx.verify_mode = ssl.CERT_NONE
    with connect(lab, address) as raw, ctx.wrap_socket(raw, server_hostname=sni) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def cns(cert: x509.Certificate) -> list[str]:
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]


def days_left(cert: x509.Certificate) -> float:
    left = cert.not_valid_after_utc - dt.datetime.now(dt.timezone.utc)
    return left.total_seconds() / 86400


def query(lab: Lab, name: str, rdtype: str, tcp: bool = False) -> dns.message.Message:
    q = dns.message.make_query(name, rdtype)
    port = int(lab.dns_server.rsplit(":", 1)[1])
    send = dns.query.tcp if tcp else dns.query.udp
    return send(q, "127.0.0.53", port=port, timeout=2.0)


def answers(msg: dns.message.Message, rdtype: str) -> list[str]:
    wanted = dns.rdatatype.from_text(rdtype)
    return sorted(rd.to_text() for rrset in msg.answer if rrset.rdtype == wanted for rd in rrset)


# -- the table ---------------------------------------------------------------------------------


def test_table_addresses_are_loopback_and_disjoint() -> None:
    configs = node_configs()  # raises on conflicting behaviours
    assert "127.0.0.53" not in configs
    seen: dict[str, str] = {}
    for s in SCENARIOS:
        assert s.host == "localhost" or s.host.endswith(".contoso.test")
        assert s.principal.startswith("msstd:")
        for address in s.addresses:
            assert address.startswith("127.") or address == "::1"
            if s.name not in ("cname", "localhost", "ipv6"):
                assert seen.setdefault(address, s.name) == s.name, address


def test_describe(lab: Lab) -> None:
    info = lab.describe()
    assert info["port"] == lab.port > 0
    assert info["dns_server"] == f"127.0.0.53:{lab.dns.port}"
    assert Path(info["ca_file"]).read_text().count("BEGIN CERTIFICATE") == 1
    assert info["scenarios"]["healthy"]["addresses"] == ["127.0.10.1", "127.0.10.2", "127.0.10.3"]
    assert lab.scenario("healthy").principal == "msstd:healthy.contoso.test"
    with pytest.raises(KeyError):
        lab.scenario("nope")


# -- TLS nodes ---------------------------------------------------------------------------------


def test_healthy_nodes_serve_one_trusted_certificate(lab: Lab) -> None:
    s = lab.scenario("healthy")
    certs = [handshake(lab, a, s.host) for a in s.addresses]
    assert len(certs) == 3
    assert cns(certs[0]) == ["healthy.contoso.test"]
    assert len({c.serial_number for c in certs}) == 1
    san = certs[0].extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == [
        "healthy.contoso.test",
        "autodiscover.contoso.test",
    ]
    assert 299.9 < days_left(certs[0]) <= 300
    assert cns(handshake(lab, s.addresses[0], None)) == ["healthy.contoso.test"]  # no SNI


def test_stale_node_serves_the_previous_certificate(lab: Lab) -> None:
    s = lab.scenario("stale")
    new, also_new, old = (handshake(lab, a, s.host) for a in s.addresses)
    assert new.serial_number == also_new.serial_number != old.serial_number
    assert cns(old) == cns(new) == [s.host]
    assert 19.9 < days_left(old) <= 20
    assert 299.9 < days_left(new) <= 300


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("expired", "certificate has expired"),
        ("not-yet-valid", "not yet valid"),
        ("self-signed", "self-signed certificate"),
        ("untrusted", "self-signed certificate in certificate chain"),
        ("missing-intermediate", "unable to get local issuer certificate"),
        ("expired-intermediate", "certificate has expired"),
        ("weak-sha1", "too weak"),
        ("weak-rsa1024", "too weak"),
    ],
)
def test_untrustworthy_chains_fail_verification(lab: Lab, name: str, reason: str) -> None:
    s = lab.scenario(name)
    with pytest.raises(ssl.SSLCertVerificationError, match=reason):
        handshake(lab, s.addresses[0], s.host)
    assert s.host in cns(handshake(lab, s.addresses[0], s.host, verify=False))


def test_chains_served(lab: Lab) -> None:
    assert len(lab.chain("healthy").certs) == 2
    assert len(lab.chain("missing-intermediate").certs) == 1
    assert len(lab.chain("root-in-chain").certs) == 3
    s = lab.scenario("root-in-chain")
    assert cns(handshake(lab, s.addresses[0], s.host)) == [s.host]
    s = lab.scenario("untrusted")
    cert = handshake(lab, s.addresses[0], s.host, cafile=lab.rogue_ca_file)
    assert cert.issuer.rfc4514_string() == "CN=Rogue Root CA,O=Rogue"


def test_expiry_scenarios(lab: Lab) -> None:
    expected = {"expiring-warn": 20, "expiring-crit": 7, "expired": -2}
    for name, days in expected.items():
        s = lab.scenario(name)
        cert = handshake(lab, s.addresses[0], s.host, verify=False)
        assert days - 0.1 < days_left(cert) <= days
    s = lab.scenario("expired-node")
    lefts = [days_left(handshake(lab, a, s.host, verify=False)) for a in s.addresses]
    assert lefts[0] > 299 and lefts[2] > 299 and -3.1 < lefts[1] <= -3


def test_subject_oddities(lab: Lab) -> None:
    def leaf(name: str) -> x509.Certificate:
        s = lab.scenario(name)
        return handshake(lab, s.addresses[0], s.host)

    nul = leaf("nul-cn")
    assert cns(nul) == ["nul-cn.contoso.test\x00.evil.test"]
    assert b"nul-cn.contoso.test\x00.evil.test" in nul.subject.public_bytes()
    assert cns(leaf("multi-cn")) == ["multi-cn.contoso.test", "other.contoso.test"]
    email = leaf("email-subject").subject
    assert email.get_attributes_for_oid(NameOID.EMAIL_ADDRESS)[0].value == "exchange@contoso.test"
    assert len(leaf("no-subject").subject) == 0
    assert cns(leaf("wildcard")) == ["*.contoso.test"]
    assert cns(leaf("cn-mismatch")) == ["owa.contoso.test"]
    assert cns(leaf("san-only")) == ["exchange01.contoso.test"]
    legacy = handshake(
        lab, lab.scenario("wrong-cn-node").addresses[2], "wrong-cn-node.contoso.test"
    )
    assert cns(legacy) == ["legacy.contoso.test"]
    sha1 = handshake(lab, lab.scenario("weak-sha1").addresses[0], None, verify=False)
    assert sha1.signature_hash_algorithm is not None
    assert sha1.signature_hash_algorithm.name == "sha1"
    weak = handshake(lab, lab.scenario("weak-rsa1024").addresses[0], None, verify=False)
    assert weak.public_key().key_size == 1024  # type: ignore[union-attr]


def test_refused(lab: Lab) -> None:
    for address in (
        lab.scenario("refused").addresses[0],
        lab.scenario("refused-node").addresses[2],
    ):
        with pytest.raises(ConnectionRefusedError):
            connect(lab, address)


def test_silent_times_out(lab: Lab) -> None:
    with connect(lab, lab.scenario("silent").addresses[0], timeout=0.3) as sock:
        sock.sendall(b"\x16\x03\x01\x00\x00")
        with pytest.raises(TimeoutError):
            sock.recv(1)


def test_banner(lab: Lab) -> None:
    with connect(lab, lab.scenario("banner").addresses[0]) as sock:
        data = b""
        while chunk := sock.recv(1024):
            data += chunk
    assert data == BANNER == b"220 mail.contoso.test ESMTP ready\r\n"
    with pytest.raises(ssl.SSLError):
        handshake(lab, lab.scenario("banner").addresses[0], "banner.contoso.test")


def test_reset(lab: Lab) -> None:
    with pytest.raises(ConnectionResetError):
        handshake(lab, lab.scenario("reset").addresses[0], "reset.contoso.test")


def test_malformed_certificate(lab: Lab) -> None:
    s = lab.scenario("malformed")
    with pytest.raises(ssl.SSLError) as info:
        handshake(lab, s.addresses[0], s.host, verify=False)
    assert not isinstance(info.value, ssl.SSLCertVerificationError)
    assert "ASN1" in str(info.value)


def test_strict_sni(lab: Lab) -> None:
    s = lab.scenario("sni-strict")
    assert cns(handshake(lab, s.addresses[0], s.host.upper())) == [s.host]
    for sni in ("other.contoso.test", None):
        with pytest.raises(ssl.SSLError, match="UNRECOGNIZED_NAME"):
            handshake(lab, s.addresses[0], sni)


def test_ipv6_and_localhost_share_the_v6_node(lab: Lab) -> None:
    assert lab.scenario("ipv6").addresses == ["::1"]
    if not lab.ipv6:
        if os.environ.get("CI"):  # CI's machines have ::1: its absence there is a failure
            pytest.fail("no IPv6 on loopback")
        pytest.skip("no IPv6 on loopback")
    assert cns(handshake(lab, "::1", "ipv6.contoso.test")) == ["ipv6.contoso.test"]
    assert cns(handshake(lab, "::1", "localhost")) == ["localhost"]
    assert cns(handshake(lab, "127.0.0.1", "localhost")) == ["localhost"]


def test_set_node_flips_behaviour(lab: Lab) -> None:
    address = "127.0.99.1"
    lab.set_node(address, "tls", "single")
    assert cns(handshake(lab, address, None)) == ["single.contoso.test"]
    lab.set_node(address, "refuse")
    with pytest.raises(ConnectionRefusedError):
        connect(lab, address)
    lab.set_node(address, "tls")  # listens again, keeps its chain
    assert cns(handshake(lab, address, None)) == ["single.contoso.test"]
    lab.set_node(address, chain="expired")
    assert days_left(handshake(lab, address, None, verify=False)) < 0
    lab.set_node(address, "banner")
    with connect(lab, address) as sock:
        assert sock.recv(100) == BANNER

    def hello(tls: ssl.SSLSocket) -> None:
        tls.sendall(b"hello " + (server_name(tls) or "").encode())

    lab.set_node(address, "tls", "single", on_tls=hello)
    ctx = ssl.create_default_context(cafile=lab.ca_file)
    with (
        connect(lab, address) as raw,
        ctx.wrap_socket(raw, server_hostname="single.contoso.test") as tls,
    ):
        assert tls.recv(100) == b"hello single.contoso.test"

    healthy = lab.scenario("healthy").addresses[0]
    try:
        lab.set_node(healthy, "refuse")
        with pytest.raises(ConnectionRefusedError):
            connect(lab, healthy)
    finally:
        lab.reset()
    assert cns(handshake(lab, healthy, "healthy.contoso.test")) == ["healthy.contoso.test"]
    with pytest.raises(ConnectionRefusedError):
        connect(lab, address)  # reset() removed the node added outside the table
    with pytest.raises(ValueError, match="loopback"):
        lab.set_node("192.0.2.1", "tls", "single")


# -- DNS ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("tcp", [False, True], ids=["udp", "tcp"])
def test_dns(lab: Lab, tcp: bool) -> None:
    healthy = query(lab, "healthy.contoso.test", "A", tcp)
    assert healthy.rcode() == dns.rcode.NOERROR
    assert healthy.flags & dns.flags.AA
    assert answers(healthy, "A") == lab.scenario("healthy").addresses
    assert answers(query(lab, "HEALTHY.Contoso.Test.", "A", tcp), "A") == answers(healthy, "A")
    assert query(lab, "nope.contoso.test", "A", tcp).rcode() == dns.rcode.NXDOMAIN
    nodata = query(lab, "healthy.contoso.test", "AAAA", tcp)
    assert nodata.rcode() == dns.rcode.NOERROR and not nodata.answer
    assert query(lab, "servfail.contoso.test", "A", tcp).rcode() == dns.rcode.SERVFAIL
    assert answers(query(lab, "ipv6.contoso.test", "AAAA", tcp), "AAAA") == ["::1"]
    assert not query(lab, "ipv6.contoso.test", "A", tcp).answer
    cname = query(lab, "cname.contoso.test", "A", tcp)
    assert answers(cname, "CNAME") == ["cname-hop.contoso.test.", "healthy.contoso.test."]
    assert answers(cname, "A") == answers(healthy, "A")


def test_dns_timeout(lab: Lab) -> None:
    port = int(lab.dns_server.rsplit(":", 1)[1])
    q = dns.message.make_query("timeout.contoso.test", "A")
    with pytest.raises(dns.exception.Timeout):
        dns.query.udp(q, "127.0.0.53", port=port, timeout=0.3)


def test_dns_many_is_truncated_over_udp(lab: Lab) -> None:
    udp = query(lab, "many.contoso.test", "A")
    assert udp.flags & dns.flags.TC
    many = answers(query(lab, "many.contoso.test", "A", tcp=True), "A")
    assert len(many) == 64
    assert set(many) == {f"127.0.9.{i}" for i in range(1, 65)}


def test_dns_set_records(lab: Lab) -> None:
    srv = "_autodiscover._tcp.contoso.test"
    lab.dns.set_records(srv, "SRV", ["0 0 443 single.contoso.test."])
    lab.dns.set_records("flip.contoso.test", "A", ["127.0.99.2"])
    try:
        assert answers(query(lab, srv, "SRV"), "SRV") == ["0 0 443 single.contoso.test."]
        assert answers(query(lab, "flip.contoso.test", "A", True), "A") == ["127.0.99.2"]
        lab.dns.set_records("flip.contoso.test", "A", [])
        assert query(lab, "flip.contoso.test", "A").rcode() == dns.rcode.NXDOMAIN
    finally:
        lab.reset()
    assert query(lab, srv, "SRV").rcode() == dns.rcode.NXDOMAIN


# -- life cycle --------------------------------------------------------------------------------


def test_restart_reuses_keys_and_stops_promptly(lab: Lab) -> None:
    workdir = lab.pki.workdir
    keys = {p.name: p.read_bytes() for p in (workdir / "keys").iterdir()}
    second_dir = workdir.parent / "second"
    shutil.copytree(workdir / "keys", second_dir / "keys")
    started = time.monotonic()
    second = Lab(second_dir).start()
    try:
        assert time.monotonic() - started < 2.0
        assert second.port != lab.port
        assert {p.name: p.read_bytes() for p in (second_dir / "keys").iterdir()} == keys
        silent = connect(second, second.scenario("silent").addresses[0])
    finally:
        started = time.monotonic()
        second.stop()
        stopped_in = time.monotonic() - started
    with silent:
        silent.settimeout(1.0)
        assert silent.recv(1) == b""  # closed by stop(), not left hanging
    assert stopped_in < 1.0
    with pytest.raises(ConnectionRefusedError):
        connect(second, second.scenario("healthy").addresses[0])


def test_cli_serve(lab: Lab, tmp_path: Path) -> None:
    shutil.copytree(lab.pki.workdir / "keys", tmp_path / "keys")
    ready = tmp_path / "ready.json"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "contrib.lab",
            "serve",
            "--dir",
            str(tmp_path),
            "--ready-file",
            str(ready),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        info = json.loads(line)
        assert json.loads(ready.read_text()) == info
        healthy = info["scenarios"]["healthy"]
        ctx = ssl.create_default_context(cafile=info["ca_file"])
        with (
            socket.create_connection((healthy["addresses"][0], info["port"]), timeout=3) as raw,
            ctx.wrap_socket(raw, server_hostname=healthy["host"]) as tls,
        ):
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=5)
        assert proc.returncode == 0, err
        assert err == ""
        assert not ready.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
