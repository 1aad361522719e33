"""--rpc against the lab's RPC proxy nodes (contrib/lab/endpoints/rpc_proxy.py), through the CLI."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from contrib.lab import Lab
from tests.conftest import Outcome, run_plugin


@pytest.fixture(autouse=True)
def fresh_web(lab: Lab) -> Iterator[None]:
    lab.web.load_zone()
    lab.web.clear()
    yield


def rpc(lab: Lab, host: str, *extra: str) -> Outcome:
    return run_plugin(
        "-H", f"{host}.contoso.test",
        "-p", str(lab.web.port),
        "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file,
        "--rpc",
        *extra,
    )  # fmt: skip


def expires(lab: Lab, host: str) -> str:
    return lab.chain(f"web-{host}.contoso.test").leaf.not_valid_after_utc.date().isoformat()


def thumbprint(lab: Lab, host: str) -> str:
    from cryptography.hazmat.primitives import hashes

    leaf = lab.chain(f"web-{host}.contoso.test").leaf
    return leaf.fingerprint(hashes.SHA1()).hex().upper()


def consistent(out: Outcome) -> None:
    """At most 200 characters and no ';' before the perfdata; [k/n nodes OK] is nodes_ok."""
    assert out.stderr == ""
    assert len(out.status) <= 200 and ";" not in out.status, out.status
    counted = re.search(r"\[(\d+)/(\d+) nodes OK\]$", out.status) or re.match(
        r"OUTLOOK_ANYWHERE OK - (\d+)/(\d+) nodes OK: ", out.status
    )
    assert counted, out.status
    ok, nodes = counted.groups()
    assert out.perfdata["nodes_ok"] == f"{ok};;;0;{nodes}", out.first_line


@pytest.mark.parametrize(
    ("host", "code", "status"),
    [
        ("rpc-ok", 0, None),
        (
            "rpc-anonymous",
            1,
            "OUTLOOK_ANYWHERE WARNING - 127.0.201.4: rpcproxy.dll answered 200 without"
            " authentication (anonymous access enabled) [0/1 nodes OK]",
        ),
        (
            "rpc-missing",
            2,
            "OUTLOOK_ANYWHERE CRITICAL - 127.0.201.5: rpcproxy.dll answered 404 Not Found: the RPC"
            " proxy is not installed [0/1 nodes OK]",
        ),
        (
            "rpc-forbidden",
            2,
            "OUTLOOK_ANYWHERE CRITICAL - 127.0.201.6: rpcproxy.dll answered 403 Forbidden: access"
            " forbidden [0/1 nodes OK]",
        ),
        (
            "rpc-redirect",
            2,
            "OUTLOOK_ANYWHERE CRITICAL - 127.0.201.7: rpcproxy.dll answered 302 Found: unexpected"
            " redirect to https://rpc-redirect.contoso.test/owa/ [0/1 nodes OK]",
        ),
        (
            "rpc-error",
            2,
            "OUTLOOK_ANYWHERE CRITICAL - 127.0.201.8: rpcproxy.dll answered 503 RPC Error: 6ba"
            " (RPC proxy failure) [0/1 nodes OK]",
        ),
    ],
)
def test_rpc_variants(lab: Lab, host: str, code: int, status: str | None) -> None:
    out = rpc(lab, host)
    consistent(out)
    # A node whose certificate is fine but whose RPC proxy is not is no OK node.
    assert out.status == (
        status
        or "OUTLOOK_ANYWHERE OK - 2/2 nodes OK: msstd:rpc-ok.contoso.test matches the CN, 300.0"
        f" days left (expires {expires(lab, 'rpc-ok')}), rpcproxy.dll 401 (Negotiate, NTLM,"
        " Basic)"
    ), out.stdout
    assert out.code == code


def test_healthy_lists_schemes_and_labels_each_node(lab: Lab) -> None:
    out = rpc(lab, "rpc-ok")
    assert "rpcproxy.dll 401 (Negotiate, NTLM, Basic)" in out.status
    # one line per node: its certificate, then what its RPC proxy answered
    served = (
        f"CN rpc-ok.contoso.test; SAN rpc-ok.contoso.test; 300.0 days left"
        f" ({expires(lab, 'rpc-ok')}); issuer Contoso Lab Issuing CA; thumbprint"
        f" {thumbprint(lab, 'rpc-ok')}; TLSv1.3; "
    )
    assert len(out.long_output) == 2
    for line, (address, label) in zip(
        out.long_output, [("127.0.201.1", "EX01"), ("127.0.201.2", "EX02")], strict=True
    ):
        assert re.fullmatch(
            re.escape(f"{address} OK -- {served}")
            + r"\d+ ms"
            + re.escape(
                "; rpcproxy.dll 401 Unauthorized; schemes Negotiate, NTLM, Basic; server"
                f" {label}.contoso.test; X-FEServer {label}; "
            )
            + r"\d+ ms",
            line,
        ), line
    assert out.perfdata["rpc_time"].split(";")[0].endswith("s")


def test_the_probe_is_unauthenticated_msrpc(lab: Lab) -> None:
    rpc(lab, "rpc-ok")
    probes = [s for s in lab.web.seen if s.method == "RPC_IN_DATA"]
    assert len(probes) == 2
    assert all(s.path == "/rpc/rpcproxy.dll" and s.authorization == "" for s in probes)
    assert {s.sni for s in probes} == {"rpc-ok.contoso.test"}


def test_expected_schemes_present(lab: Lab) -> None:
    out = rpc(lab, "rpc-ok", "--expect-auth", "negotiate,NTLM")
    assert out.code == 0, out.stdout
    consistent(out)
    assert out.status.startswith("OUTLOOK_ANYWHERE OK - 2/2 nodes OK: "), out.status


def test_missing_expected_scheme_is_warning(lab: Lab) -> None:
    out = rpc(lab, "rpc-basic", "--expect-auth", "Negotiate,NTLM")
    consistent(out)
    assert out.code == 1
    assert out.status == (
        "OUTLOOK_ANYWHERE WARNING - 127.0.201.3: rpcproxy.dll does not offer Negotiate, NTLM"
        " (offers Basic) [0/1 nodes OK]"
    )


def test_silent_proxy_is_critical_within_the_deadline(lab: Lab) -> None:
    out = rpc(lab, "rpc-silent", "-t", "3")
    consistent(out)
    assert out.code == 2
    assert out.status == (
        "OUTLOOK_ANYWHERE CRITICAL - 127.0.201.9: rpcproxy.dll no answer within the deadline"
        " [0/1 nodes OK]"
    )
    assert "rpc_time" not in out.perfdata  # not measured: left out, never U
    assert out.elapsed < 4.5


def test_no_http_request_without_rpc(lab: Lab) -> None:
    out = run_plugin(
        "-H", "rpc-ok.contoso.test",
        "-p", str(lab.web.port),
        "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file,
    )  # fmt: skip
    assert out.code == 0
    assert lab.web.seen == []


def test_the_healthcheck_follows_the_rpc_request_on_its_connection(lab: Lab) -> None:
    """The lab's RPC proxy keeps the connection open after its 401, as IIS does: the health
    check goes on it (tests/test_rpc_connections.py: on a new one, resuming the TLS session,
    where the server ends it); the TLS probe's own connection, with another context, is apart."""
    out = rpc(lab, "rpc-ok", "-vvv")
    assert out.code == 0, out.stdout
    address = lab.web.addresses("rpc-ok.contoso.test")[0]
    handshakes = [re.sub(r"^\s*[\d.]+ ms\s+", "", line) for line in out.stdout.splitlines()]
    handshakes = [h for h in handshakes if h.startswith(f"{address}: TLS handshake done")]
    assert handshakes == [
        f"{address}: TLS handshake done: TLSv1.3",
        f"{address}: TLS handshake done: TLSv1.3 (rpc-ok.contoso.test)",
    ], out.stdout
