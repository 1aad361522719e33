"""--rpc against the lab's RPC proxy nodes (contrib/lab/web.py), through the CLI."""

from __future__ import annotations

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


@pytest.mark.parametrize(
    ("host", "code", "prefix"),
    [
        (
            "rpc-ok",
            0,
            "OUTLOOK_ANYWHERE OK - 2/2 nodes OK: msstd:rpc-ok.contoso.test matches CN"
            " rpc-ok.contoso.test",
        ),
        (
            "rpc-anonymous",
            1,
            "OUTLOOK_ANYWHERE WARNING - 127.0.201.4: rpcproxy.dll answered 200 without"
            " authentication (anonymous access enabled)",
        ),
        (
            "rpc-missing",
            2,
            "OUTLOOK_ANYWHERE CRITICAL - 127.0.201.5: rpcproxy.dll answered 404 Not Found: the RPC"
            " proxy is not installed",
        ),
        (
            "rpc-forbidden",
            2,
            "OUTLOOK_ANYWHERE CRITICAL - 127.0.201.6: rpcproxy.dll answered 403 Forbidden",
        ),
        (
            "rpc-redirect",
            2,
            "OUTLOOK_ANYWHERE CRITICAL - 127.0.201.7: rpcproxy.dll answered 302 Found: unexpected"
            " redirect to https://rpc-redirect.contoso.test/owa/",
        ),
        (
            "rpc-error",
            2,
            "OUTLOOK_ANYWHERE CRITICAL - 127.0.201.8: rpcproxy.dll answered 503 RPC Error: 6ba",
        ),
    ],
)
def test_rpc_variants(lab: Lab, host: str, code: int, prefix: str) -> None:
    out = rpc(lab, host)
    assert out.stderr == ""
    assert out.first_line.startswith(prefix), out.stdout
    assert out.code == code


def test_healthy_lists_schemes_and_labels_each_node(lab: Lab) -> None:
    out = rpc(lab, "rpc-ok")
    assert "rpcproxy.dll 401 (Negotiate, NTLM, Basic)" in out.status
    lines = [line for line in out.long_output if " rpc OK -- " in line]
    assert lines == [
        "127.0.201.1 rpc OK -- rpcproxy.dll 401 Unauthorized; schemes Negotiate, NTLM, Basic;"
        " server EX01.contoso.test; X-FEServer EX01; " + lines[0].rsplit("; ", 1)[1],
        "127.0.201.2 rpc OK -- rpcproxy.dll 401 Unauthorized; schemes Negotiate, NTLM, Basic;"
        " server EX02.contoso.test; X-FEServer EX02; " + lines[1].rsplit("; ", 1)[1],
    ]
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


def test_missing_expected_scheme_is_warning(lab: Lab) -> None:
    out = rpc(lab, "rpc-basic", "--expect-auth", "Negotiate,NTLM")
    assert out.code == 1
    assert out.first_line.startswith(
        "OUTLOOK_ANYWHERE WARNING - 127.0.201.3: rpcproxy.dll does not offer Negotiate, NTLM"
        " (offers Basic)"
    )


def test_silent_proxy_is_critical_within_the_deadline(lab: Lab) -> None:
    out = rpc(lab, "rpc-silent", "-t", "3")
    assert out.stderr == ""
    assert out.code == 2
    assert out.first_line.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - 127.0.201.9: rpcproxy.dll: no answer"
    )
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
