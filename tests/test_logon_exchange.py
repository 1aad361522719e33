"""--logon against front ends that behave as Exchange 2013-SE does
(contrib/lab/endpoints/exchange.py): certificates signed with SHA-256, SHA-384 and SHA-512 under
Extended Protection Require and Accept, the mailbox logon (Connect, PING, Disconnect) asserted from
the lab's log of sessions, a node that stalls mid-logon, and a Connect the server refuses."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from contrib.lab import Lab
from tests.test_logon import addresses, consistent, logon, node_line


@pytest.fixture(autouse=True)
def fresh_web(lab: Lab) -> Iterator[None]:
    lab.web.load_zone()
    lab.web.clear()
    yield


HEALTHY = [
    ("logon-ok", "sha256", "require"),
    ("logon-ok-sha384", "sha384", "require"),
    ("logon-ok-sha512", "sha512", "require"),
    ("logon-ep-accept", "sha256", "accept"),
    ("logon-ep-accept-sha384", "sha384", "accept"),
    ("logon-ep-accept-sha512", "sha512", "accept"),
]
OPTIONS = [("--rpc", "--logon"), ("--mapi", "--logon"), ("--rpc", "--mapi", "--logon")]


def all_sessions_closed(lab: Lab, host: str) -> None:
    """Every MAPI session the lab saw opened on ``host``'s nodes was disconnected, one per
    node."""
    sessions = lab.web.front.opened()
    assert sorted(s.address for s in sessions) == sorted(addresses(lab, host)), sessions
    assert all(s.closed for s in sessions), sessions
    # one X-ClientInfo for the whole session, Connect to Disconnect (2.2.3.3.4), a random
    # GUID as Outlook sends it, {8-4-4-4-12} in capitals, version 4
    assert all(len(s.client_info) == 1 for s in sessions), sessions
    guid = r"\{[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}\}(:\d+)?"
    infos = [info for s in sessions for info in s.client_info]
    assert all(re.fullmatch(guid, info) for info in infos), infos
    assert len(set(infos)) == len(infos), infos  # each node's session its own


@pytest.mark.parametrize("options", OPTIONS, ids=lambda o: " ".join(o))
@pytest.mark.parametrize(("host", "digest", "protection"), HEALTHY, ids=lambda v: str(v))
def test_a_healthy_array_is_ok_whatever_its_certificate_is_signed_with(
    lab: Lab, password_file: str, host: str, digest: str, protection: str, options: tuple[str]
) -> None:
    site = lab.web.site(f"{host}.contoso.test")
    assert site.protection == protection
    leaf = lab.pki.chains[site.cert_id].certs[0]
    assert leaf.signature_hash_algorithm is not None
    assert leaf.signature_hash_algorithm.name == digest
    out = logon(lab, password_file, host, options=options)
    consistent(out)
    assert out.code == 0, out.stdout
    assert "TLS-offloading" not in out.stdout
    protocols = [p for p, o in (("RPC", "--rpc"), ("MAPI", "--mapi")) if o in options]
    for address in addresses(lab, host):
        line = node_line(out, address)
        for protocol in protocols:
            assert f"{protocol} logon NTLM, Extended Protection: binding accepted" in line, line
    # every logon carried the binding of the certificate the node presented, and none was
    # refused: no retry without it
    done = [s for s in lab.web.requests(host=f"{host}.contoso.test") if s.outcome]
    assert done and not [s for s in done if s.outcome == "refused"]
    assert all(s.binding is True for s in done if s.outcome == "accepted")
    if "--mapi" in options:
        assert "mailbox_logon_time" in out.perfdata
        all_sessions_closed(lab, host)
    else:
        assert lab.web.front.opened() == []


def test_require_finds_that_accept_takes_a_logon_without_binding(
    lab: Lab, password_file: str
) -> None:
    out = logon(lab, password_file, "logon-ep-accept-sha384", "--extended-protection", "require")
    consistent(out)
    first = addresses(lab, "logon-ep-accept-sha384")[0]
    assert out.code == 1, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE WARNING - {first}: RPC logon accepted without channel binding:"
        " Extended Protection not enforced (+3 more) [0/2 nodes OK]"
    )
    # the question without binding is a PING, never a second session
    all_sessions_closed(lab, "logon-ep-accept-sha384")


def test_a_node_that_stalls_mid_logon_is_critical_naming_the_step(
    lab: Lab, password_file: str
) -> None:
    # -t 6: Connect and the PING end 1 s before the deadline, Disconnect has that second
    out = logon(lab, password_file, "logon-stall", "-t", "6")
    consistent(out)
    second = addresses(lab, "logon-stall")[1]
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {second}: RPC logon cut off by the deadline during the"
        " echo (+1 more) [2/3 nodes OK]"
    )
    line = node_line(out, second)
    assert line.startswith(f"{second} CRITICAL: RPC logon cut off"), line
    assert "MAPI logon cut off by the deadline during the PING in its session" in line
    for other in (a for a in addresses(lab, "logon-stall") if a != second):
        assert node_line(out, other).startswith(f"{other} OK -- ")
    assert out.elapsed < 7.5, out.elapsed  # a hard bound: the deadline, not the server
    # the stalled node's session too was disconnected, on the deadline path
    all_sessions_closed(lab, "logon-stall")
    [stalled] = [s for s in lab.web.front.opened() if s.address == second]
    assert stalled.pings == 1


def test_a_connect_cut_off_after_its_session_opened_is_disconnected(
    lab: Lab, password_file: str
) -> None:
    """The session's cookies come in Connect's head (2.2.4.1); the body never ends: the session
    is open all the same, and the plugin closes it before the deadline."""
    node = addresses(lab, "logon-connect-stall")[0]
    out = logon(lab, password_file, "logon-connect-stall", "-t", "6", options=("--mapi", "--logon"))
    consistent(out)
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {node}: MAPI logon cut off by the deadline during Connect"
        " [0/1 nodes OK]"
    )
    all_sessions_closed(lab, "logon-connect-stall")


@pytest.mark.parametrize("options", OPTIONS[1:], ids=lambda o: " ".join(o))
def test_a_single_node_that_stalls_is_never_ok(
    lab: Lab, password_file: str, options: tuple[str]
) -> None:
    second = addresses(lab, "logon-stall")[1]
    out = logon(lab, password_file, "logon-stall", "-t", "6", "-I", second, options=options)
    consistent(out)
    assert out.code == 2, out.stdout
    assert re.fullmatch(
        rf"OUTLOOK_ANYWHERE CRITICAL - {re.escape(second)}: (RPC logon cut off by the deadline"
        r" during the echo \(\+1 more\)|MAPI logon cut off by the deadline during the PING in"
        r" its session) \[0/1 nodes OK\]",
        out.status,
    ), out.status
    assert "not tried" not in out.stdout
    [session] = lab.web.front.opened()
    assert session.closed


def test_a_refused_connect_names_the_error(lab: Lab, password_file: str) -> None:
    out = logon(lab, password_file, "logon-mailbox-moved", options=("--mapi", "--logon"))
    consistent(out)
    [address] = addresses(lab, "logon-mailbox-moved")
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {address}: mailbox logon refused: Connect answered"
        " ErrorCode 0x478 (wrong server: the mailbox is not on this server (moved?))"
        " [0/1 nodes OK]"
    )
    assert "mailbox logon (Connect)" not in out.stdout
    assert "mailbox_logon_time" not in out.perfdata
    assert lab.web.front.opened() == []
    # Connect once, and neither PING nor Disconnect without a session
    kinds = [s.request_type for s in lab.web.requests(address=address) if s.outcome == "accepted"]
    assert kinds == ["Connect"]


def test_a_connect_answered_without_x_responsecode_is_no_mailbox_logon(
    lab: Lab, password_file: str
) -> None:
    """Every MAPI answer carries X-ResponseCode ([MS-OXCMAPIHTTP] 2.2.2.2, 2.2.3.3.3): a 200
    without one says nothing about the logon, and is never read as 0 (success)."""
    out = logon(lab, password_file, "logon-mapi-no-code", options=("--mapi", "--logon"))
    consistent(out)
    [address] = addresses(lab, "logon-mapi-no-code")
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {address}: mailbox logon refused: Connect answered without"
        " X-ResponseCode [0/1 nodes OK]"
    )


def test_a_connect_answered_with_garbage_is_one_clear_line_and_its_session_is_closed(
    lab: Lab, password_file: str
) -> None:
    out = logon(lab, password_file, "logon-mapi-garbage", options=("--mapi", "--logon"))
    consistent(out)
    [address] = addresses(lab, "logon-mapi-garbage")
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {address}: mailbox logon refused: Connect answered without"
        " StatusCode and ErrorCode [0/1 nodes OK]"
    )
    assert "Traceback" not in out.stdout
    # the server set session cookies: the session is disconnected although Connect failed
    [session] = lab.web.front.opened()
    assert session.closed and session.pings == 0
    assert node_line(out, address).endswith("Disconnect answered")
