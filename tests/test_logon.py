"""--mapi and --logon through the CLI against the lab's logon hosts
(contrib/lab/endpoints/logon_hosts.py): every row of the logon states table, what the nodes saw (the
lab's request log: channel bindings, RTS PDUs, outcomes), what it costs the account, and the hostile
servers (RTS garbage, an endless OUT channel, an NTLM challenge that never ends), each one clear
line within the deadline."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from contrib.lab import Lab
from tests.conftest import Outcome, run_plugin

ENDPOINT = "autodiscover.contoso.test"
PORTS = (6001, 6002, 6004)


@pytest.fixture(autouse=True)
def fresh_web(lab: Lab) -> Iterator[None]:
    lab.web.load_zone()
    lab.web.clear()
    yield


def logon(lab: Lab, password_file: str, host: str, *extra: str, options: tuple[str, ...] = (
    "--rpc", "--mapi", "--logon"
)) -> Outcome:  # fmt: skip
    """The check of the logon host ``host`` (its first label), through its Autodiscover
    mailbox."""
    return run_plugin(
        "-p", str(lab.web.port),
        "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file,
        "--autodiscover", f"{host}@contoso.test",
        "--autodiscover-url", lab.web.url(ENDPOINT),
        "--password-file", password_file,
        *options,
        *extra,
    )  # fmt: skip


def consistent(out: Outcome) -> None:
    """One clean first line: at most 200 characters, no ';', [k/n nodes OK] is nodes_ok."""
    assert out.stderr == "", out.stderr
    assert "Traceback" not in out.stdout
    assert len(out.status) <= 200 and ";" not in out.status, out.status
    counted = re.search(r"\[(\d+)/(\d+) nodes OK\]$", out.status) or re.match(
        r"OUTLOOK_ANYWHERE OK - (\d+)/(\d+) nodes OK: ", out.status
    )
    assert counted, out.status
    ok, nodes = counted.groups()
    assert out.perfdata["nodes_ok"] == f"{ok};;;0;{nodes}", out.first_line


def addresses(lab: Lab, host: str) -> list[str]:
    return lab.web.addresses(f"{host}.contoso.test")


def server(host: str) -> str:
    from contrib.lab.endpoints.logon_hosts import exchange_server

    return exchange_server(f"{host}.contoso.test")


def node_line(out: Outcome, address: str) -> str:
    return next(line for line in out.long_output if line.startswith(f"{address} "))


# -- the states table ---------------------------------------------------------------------------


def test_all_well_logs_on_to_every_node(lab: Lab, password_file: str) -> None:
    out = logon(lab, password_file, "logon-ok")
    consistent(out)
    assert out.code == 0, out.stdout
    assert out.status.startswith(
        "OUTLOOK_ANYWHERE OK - 3/3 nodes OK: msstd:logon-ok.contoso.test matches the CN"
    )
    assert out.status.endswith(
        ", as Autodiscover publishes, logged on: echo, 6001/6002/6004, mailbox logon"
    )
    for label in ("logon_time", "rpc_endpoint_time", "mapi_time", "mailbox_logon_time"):
        assert re.fullmatch(r"\d+\.\d+s;;;0", out.perfdata[label]), out.first_line
    for address in addresses(lab, "logon-ok"):
        line = node_line(out, address)
        assert line.startswith(f"{address} OK -- "), line
        assert "RPC logon NTLM, Extended Protection: binding accepted" in line
        assert "echo OK" in line
        assert re.search(
            r"CONN/C2 from 6001 mail store \d+ ms, 6002 directory referral \d+ ms,"
            r" 6004 address book \d+ ms",
            line,
        ), line
        assert "MAPI logon NTLM, Extended Protection: binding accepted" in line
        assert re.search(r"mailbox logon \(Connect\) in \d+ ms", line), line
        assert "PING 200 X-ResponseCode 0 (success)" in line
        assert line.endswith("Disconnect answered"), line


def test_every_node_sees_the_echo_and_three_virtual_connections_with_bindings(
    lab: Lab, password_file: str
) -> None:
    out = logon(lab, password_file, "logon-ok")
    assert out.code == 0, out.stdout
    # RPC and MAPI: once without X-MapiHttpCapability (EXCH, EXPR), once with it (mapiHttp)
    asked = lab.web.requests(host=ENDPOINT, outcome="accepted")
    assert [a.mapi_capability for a in asked] == [False, True]
    exch = server("logon-ok")
    for address in addresses(lab, "logon-ok"):
        seen = lab.web.requests(host="logon-ok.contoso.test", address=address)
        authenticated = [s for s in seen if s.auth]
        # NTLM/Negotiate always with the binding of the certificate this node presented
        assert authenticated and all(s.binding is not False for s in authenticated)
        assert not [s for s in authenticated if s.outcome == "refused"]
        # the echo carries the ?<server>:<port> query, like the channels ([MS-RPCH] 2.2.2)
        echo = [
            s for s in seen
            if s.method == "RPC_IN_DATA" and s.path == f"/rpc/rpcproxy.dll?{exch}:6001"
            and s.outcome == "accepted" and not s.rts
        ]  # fmt: skip
        assert len(echo) == 1 and echo[0].binding is True
        for port in PORTS:
            path = f"/rpc/rpcproxy.dll?{exch}:{port}"
            out_channel = [s for s in seen if s.method == "RPC_OUT_DATA" and s.path == path]
            in_channel = [
                s for s in seen if s.method == "RPC_IN_DATA" and s.path == path and s.rts
            ]  # fmt: skip
            assert [s.rts for s in out_channel if s.outcome == "accepted"] == [["CONN/A1"]]
            assert [s.rts for s in in_channel if s.outcome == "accepted"] == [["CONN/B1"]]
            done = [s for s in out_channel + in_channel if s.outcome in ("accepted", "refused")]
            assert all(s.binding is True for s in done)
        connect = [
            s for s in seen if s.method == "POST" and s.path.startswith("/mapi/emsmdb/") and s.auth
        ]
        assert [s.binding for s in connect if s.outcome == "accepted"] == [True]
        assert connect and all(exch in s.path for s in connect)
        # the mailbox logon: Connect, a PING in its session, Disconnect, each once
        mapi = [s for s in seen if s.path.startswith("/mapi/emsmdb/") and s.session]
        assert [s.request_type for s in mapi] == ["Connect", "PING", "Disconnect"]
        assert len({s.session for s in mapi}) == 1
    sessions = lab.web.front.opened()
    assert sorted(s.address for s in sessions) == sorted(addresses(lab, "logon-ok"))
    assert all(s.closed and s.pings == 1 for s in sessions), sessions


@pytest.mark.parametrize(
    ("options", "done", "capability"),
    [
        (("--rpc", "--logon"), "echo, 6001/6002/6004", False),
        (("--mapi", "--logon"), "mailbox logon", True),
    ],
)
def test_one_protocol_at_a_time(
    lab: Lab, password_file: str, options: tuple[str, ...], done: str, capability: bool
) -> None:
    out = logon(lab, password_file, "logon-ok", options=options)
    consistent(out)
    assert out.code == 0, out.stdout
    assert out.status.endswith(f", as Autodiscover publishes, logged on: {done}"), out.status
    [asked] = lab.web.requests(host=ENDPOINT, outcome="accepted")
    assert asked.mapi_capability is capability
    protocol = "/mapi/" if "--mapi" in options else "/rpc/"
    other = "/rpc/" if protocol == "/mapi/" else "/mapi/"
    nodes = lab.web.requests(host="logon-ok.contoso.test")
    assert [s for s in nodes if s.auth and s.path.startswith(protocol)]
    assert not [s for s in nodes if s.path.startswith(other)]


def test_no_credentials_reach_a_node_without_logon(lab: Lab, password_file: str) -> None:
    out = logon(lab, password_file, "logon-ok", options=("--rpc", "--mapi"))
    consistent(out)
    assert out.code == 0, out.stdout
    nodes = lab.web.requests(host="logon-ok.contoso.test")
    assert nodes, "the --rpc and --mapi probes reach every node"
    assert [s for s in nodes if s.auth or s.authorization] == []
    assert "logon_time" not in out.perfdata and "mapi_time" in out.perfdata


def test_a_node_that_binds_another_certificate_is_named(lab: Lab, password_file: str) -> None:
    out = logon(lab, password_file, "logon-ep-broken")
    consistent(out)
    second = addresses(lab, "logon-ep-broken")[1]
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {second}: RPC logon refused with binding, accepted"
        " without: the node binds another certificate than it presents (a TLS-offloading"
        " device?) (+1 more) [2/3 nodes OK]"
    )
    line = node_line(out, second)
    assert "Outlook on current Windows prompts for credentials" in line
    assert "MAPI logon refused with channel binding, accepted without" in line
    # one refusal with the binding and one logon without it, per protocol, and no more
    seen = lab.web.requests(host="logon-ep-broken.contoso.test", address=second)
    for protocol in ("/rpc/", "/mapi/"):
        mine = [s for s in seen if s.path.startswith(protocol) and s.outcome != "challenged"]
        refused = [s for s in mine if s.outcome == "refused"]
        assert [s.binding for s in refused] == [True], protocol
        assert all(s.binding is False for s in mine if s.outcome == "accepted")


def test_extended_protection_off_and_require(lab: Lab, password_file: str) -> None:
    out = logon(lab, password_file, "logon-ep-off")
    consistent(out)
    assert out.code == 0, out.stdout
    out = logon(lab, password_file, "logon-ep-off", "--extended-protection", "require")
    consistent(out)
    [address] = addresses(lab, "logon-ep-off")
    assert out.code == 1, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE WARNING - {address}: RPC logon accepted without channel binding:"
        " Extended Protection not enforced (+1 more) [0/1 nodes OK]"
    )
    broken = logon(lab, password_file, "logon-ep-broken", "--extended-protection", "off")
    consistent(broken)
    assert broken.code == 0, broken.stdout


def test_require_is_met_where_extended_protection_is_on(lab: Lab, password_file: str) -> None:
    out = logon(lab, password_file, "logon-ok", "--extended-protection", "require")
    consistent(out)
    assert out.code == 0, out.stdout
    refused = lab.web.requests(host="logon-ok.contoso.test", outcome="refused")
    # the one logon without binding per node and protocol, refused as it should be
    assert sorted((s.address, s.path.split("/")[1]) for s in refused) == sorted(
        (a, p) for a in addresses(lab, "logon-ok") for p in ("mapi", "rpc")
    )
    assert all(s.binding is False for s in refused)


def test_an_account_refused_on_one_node_is_named(lab: Lab, password_file: str) -> None:
    out = logon(lab, password_file, "logon-refuse")
    consistent(out)
    third = addresses(lab, "logon-refuse")[2]
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {third}: RPC logon refused (NTLM) although Autodiscover"
        " accepted the credentials (+1 more) [2/3 nodes OK]"
    )
    # with the binding and once without it, per protocol: never more
    refused = lab.web.requests(host="logon-refuse.contoso.test", address=third, outcome="refused")
    assert sorted((s.path.split("/")[1], s.binding) for s in refused) == [
        ("mapi", False), ("mapi", True), ("rpc", False), ("rpc", True),
    ]  # fmt: skip
    # and no channel is opened on a node that refused the echo's logon
    assert not [s for s in lab.web.requests(address=third) if s.method == "RPC_OUT_DATA"]


def test_an_endpoint_answering_503_is_named_with_its_code(lab: Lab, password_file: str) -> None:
    out = logon(lab, password_file, "logon-503")
    consistent(out)
    [address] = addresses(lab, "logon-503")
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {address}: endpoint 6002 directory referral: RPC Error"
        " 6ba (the RPC server is unavailable) [0/1 nodes OK]"
    )
    assert "CONN/C2 from 6001 mail store" in node_line(out, address)


def test_an_echo_refused_with_403_is_named_with_its_status(lab: Lab, password_file: str) -> None:
    """The logon is accepted, the echo refused all the same ([MS-RPCH] 2.1.2.1.5): its status
    is what the admin reads, never a 200 without RTS."""
    out = logon(lab, password_file, "logon-echo-403", options=("--rpc", "--logon"))
    consistent(out)
    [address] = addresses(lab, "logon-echo-403")
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {address}: RPC echo answered 403 Forbidden [0/1 nodes OK]"
    )


def test_an_endpoint_without_c2_ends_within_the_deadline(lab: Lab, password_file: str) -> None:
    out = logon(lab, password_file, "logon-no-c2", "-t", "3")
    consistent(out)
    [address] = addresses(lab, "logon-no-c2")
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {address}: endpoint 6004 address book did not answer"
        " through the RPC proxy (no CONN/C2 within the deadline, only CONN/A3) [0/1 nodes OK]"
    )
    assert out.elapsed < 4.5, out.elapsed


def test_a_ping_error_says_what_the_code_means(lab: Lab, password_file: str) -> None:
    out = logon(lab, password_file, "logon-ping-error")
    consistent(out)
    [address] = addresses(lab, "logon-ping-error")
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {address}: MAPI PING answered X-ResponseCode 10 (session"
        " not found) [0/1 nodes OK]"
    )


def test_a_mapi_health_check_that_is_down(lab: Lab, password_file: str) -> None:
    out = logon(lab, password_file, "logon-mapi-down", options=("--mapi",))
    consistent(out)
    [address] = addresses(lab, "logon-mapi-down")
    assert out.code == 2, out.stdout
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE CRITICAL - {address}: MAPI healthcheck.htm answered 503"
    )


def test_the_mapi_probe_asks_without_credentials_as_a_connect(lab: Lab, password_file: str) -> None:
    """--mapi's POST to /mapi/emsmdb/ carries the X-RequestType a MAPI request MUST carry
    ([MS-OXCMAPIHTTP] 2.2.2.1, 2.2.3.3.1), Connect's, though the node answers 401 before it
    looks at it."""
    out = logon(lab, password_file, "logon-ok", options=("--mapi",))
    consistent(out)
    assert out.code == 0, out.stdout
    assert out.status.startswith("OUTLOOK_ANYWHERE OK - 3/3 nodes OK: "), out.status
    asked = lab.web.requests(host="logon-ok.contoso.test", method="POST", path="/mapi/emsmdb/")
    assert sorted(s.address for s in asked) == sorted(addresses(lab, "logon-ok"))
    assert [(s.auth, s.status, s.request_type) for s in asked] == [("", 401, "Connect")] * 3


def test_expect_auth_applies_to_mapi(lab: Lab, password_file: str) -> None:
    out = logon(lab, password_file, "logon-ok", "--expect-auth", "Basic", options=("--mapi",))
    consistent(out)
    first = addresses(lab, "logon-ok")[0]
    assert out.code == 1, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE WARNING - {first}: /mapi/emsmdb/ does not offer Basic (offers"
        " Negotiate, NTLM) (+2 more) [0/3 nodes OK]"
    )


def test_basic_only(lab: Lab, password_file: str) -> None:
    out = logon(lab, password_file, "logon-basic")
    consistent(out)
    [address] = addresses(lab, "logon-basic")
    assert out.code == 0, out.stdout
    assert "RPC logon Basic accepted (no channel binding)" in node_line(out, address)
    out = logon(lab, password_file, "logon-basic", "--extended-protection", "require")
    consistent(out)
    assert out.code == 1, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE WARNING - {address}: RPC offers only Basic: no channel binding"
        " (Extended Protection) (+1 more) [0/1 nodes OK]"
    )


# -- the account ----------------------------------------------------------------------------------


def test_a_wrong_password_costs_one_autodiscover_failure_and_no_node_logon(
    lab: Lab, tmp_path: Path
) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password\n")
    wrong.chmod(0o600)
    out = logon(lab, str(wrong), "logon-ok")
    assert (out.stderr, out.code) == ("", 2), out.stdout
    assert out.status == (
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for logon-ok@contoso.test: wrong user name or"
        " password (HTTP 401)"
    )
    assert "Logon not tried: Autodiscover did not accept the credentials" in out.long_output
    refused = [s for s in lab.web.requests(outcome="refused")]
    assert [s.host for s in refused] == [ENDPOINT]
    assert [s for s in lab.web.requests(host="logon-ok.contoso.test") if s.auth] == []


def test_the_trace_never_holds_the_password(lab: Lab, password_file: str) -> None:
    from contrib.lab.identities.accounts import PASSWORD

    out = logon(lab, password_file, "logon-ep-broken", "-vvv")
    consistent(out)
    assert PASSWORD not in out.stdout
    assert "RPC logon (NTLM) with binding refused, without binding accepted" in out.stdout
    assert "6001: reached CONN/A3, CONN/C2" in out.stdout


# -- hostile servers ------------------------------------------------------------------------------


def test_rts_garbage(lab: Lab, password_file: str) -> None:
    out = logon(lab, password_file, "logon-rts-garbage", "-t", "5", options=("--rpc", "--logon"))
    consistent(out)
    [address] = addresses(lab, "logon-rts-garbage")
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {address}: RPC echo answered 200 with not RTS instead of"
        " an RTS echo [0/1 nodes OK]"
    )
    assert out.elapsed < 6.5


def test_an_endless_out_channel(lab: Lab, password_file: str) -> None:
    out = logon(lab, password_file, "logon-endless-out", "-t", "3", options=("--rpc", "--logon"))
    consistent(out)
    [address] = addresses(lab, "logon-endless-out")
    assert out.code == 2, out.stdout
    assert re.fullmatch(
        f"OUTLOOK_ANYWHERE CRITICAL - {re.escape(address)}: endpoint 6001 mail store did not"
        r" answer through the RPC proxy \(no CONN/C2 (in 256 KiB of RTS PDUs|within the"
        r" deadline), only CONN/A3, other\) \(\+2 more\) \[0/1 nodes OK\]",
        out.status,
    ), out.status
    assert out.elapsed < 4.5, out.elapsed


def test_an_ntlm_challenge_that_never_ends(lab: Lab, password_file: str) -> None:
    out = logon(lab, password_file, "logon-ntlm-loop", "-t", "3", options=("--rpc", "--logon"))
    consistent(out)
    [address] = addresses(lab, "logon-ntlm-loop")
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {address}: RPC logon refused (NTLM) although Autodiscover"
        " accepted the credentials [0/1 nodes OK]"
    )
    assert out.elapsed < 4.5, out.elapsed
    # two legs with the binding, two without: never a third round
    legs = lab.web.requests(host="logon-ntlm-loop.contoso.test", address=address)
    assert len([s for s in legs if s.auth]) <= 4


# -- the command line ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (["-H", "mail.contoso.test", "--rpc", "--logon"],
         "OUTLOOK_ANYWHERE UNKNOWN - --logon needs --autodiscover EMAIL (its credentials are"
         " logged on with)"),
        (["--autodiscover", "a@contoso.test", "--logon"],
         "OUTLOOK_ANYWHERE UNKNOWN - --logon needs --rpc or --mapi (what to log on to)"),
        (["-H", "mail.contoso.test", "--rpc", "--extended-protection", "require"],
         "OUTLOOK_ANYWHERE UNKNOWN - --extended-protection needs --logon"),
        (["-H", "mail.contoso.test", "--expect-auth", "NTLM"],
         "OUTLOOK_ANYWHERE UNKNOWN - --expect-auth needs --rpc or --mapi"),
        (["--autodiscover", "a@contoso.test", "--rpc", "--logon", "--extended-protection", "on"],
         "OUTLOOK_ANYWHERE UNKNOWN - argument --extended-protection: 'on' is not one of off,"
         " accept, require"),
    ],
)  # fmt: skip
def test_misuse_is_unknown_naming_the_option(args: list[str], status: str) -> None:
    out = run_plugin(*args, env={"OUTLOOK_ANYWHERE_PASSWORD": "x"})
    assert (out.code, out.stdout.strip(), out.stderr) == (3, status, "")
