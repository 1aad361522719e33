"""--proxy against the lab's HTTP CONNECT proxies (contrib/lab/endpoints/proxy.py), through the CLI.

Every connection of a check must go through the proxy: the lab proxies record each CONNECT
(target, scheme, user), and connect to the nodes FROM their own address (127.0.204.x), so the
nodes' accept logs and the web sites' request logs show whether any connection went around.
"""

from __future__ import annotations

import base64
import socket
import time
from collections.abc import Iterator
from urllib.parse import quote, quote_plus

import pytest

from contrib.lab import Lab
from contrib.lab.endpoints.proxy import GATEWAY_FAILS, PROXIES
from contrib.lab.identities.accounts import PROXY_PASSWORD, PROXY_USER
from tests.conftest import Outcome, run_plugin

PROXY_ADDRESSES = set(PROXIES.values())
PROXY_ENV = "OUTLOOK_ANYWHERE_PROXY_PASSWORD"


@pytest.fixture(autouse=True)
def fresh(lab: Lab) -> Iterator[None]:
    lab.web.load_zone()
    lab.web.clear()
    lab.proxy.clear()
    lab.nodes.clear_accepted()
    yield


@pytest.fixture(scope="module")
def proxy_password_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("proxy-secret") / "proxy-password"
    path.write_text(PROXY_PASSWORD + "\n")
    path.chmod(0o600)
    return str(path)


def healthy(lab: Lab, *extra: str, env: dict[str, str] | None = None) -> Outcome:
    s = lab.scenario("healthy")
    return run_plugin(
        "-H", s.host,
        "-p", str(lab.port),
        "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file,
        *extra,
        env=env,
    )  # fmt: skip


def via(lab: Lab, name: str) -> list[str]:
    return ["--proxy", lab.proxy.url(name)]


def targets(lab: Lab, port: int, scenario: str = "healthy") -> set[str]:
    return {f"{address}:{port}" for address in lab.scenario(scenario).addresses}


def node_peers(lab: Lab) -> set[str]:
    return {peer for _, peer in lab.nodes.accepted()}


def expires(lab: Lab) -> str:
    return lab.chain("healthy").leaf.not_valid_after_utc.date().isoformat()


def all_well(lab: Lab) -> str:
    return (
        "OUTLOOK_ANYWHERE OK - 3/3 nodes OK: msstd:healthy.contoso.test matches the CN, 300.0"
        f" days left (expires {expires(lab)})"
    )


# -- every connection through the proxy -----------------------------------------------------


def test_without_proxy_the_nodes_see_the_plugin_itself(lab: Lab) -> None:
    """The control: the accept logs tell a direct connection from a tunnelled one."""
    out = healthy(lab)
    assert (out.code, out.status) == (0, all_well(lab))
    assert lab.proxy.seen == []
    accepted = lab.nodes.accepted()
    assert {node for node, _ in accepted} == set(lab.scenario("healthy").addresses)
    assert not node_peers(lab) & PROXY_ADDRESSES


def test_every_node_is_probed_through_the_proxy_by_its_address(lab: Lab) -> None:
    out = healthy(lab, *via(lab, "open"))
    assert (out.code, out.status) == (0, all_well(lab)), out.stdout
    seen = lab.proxy.requests(proxy="open")
    assert len(seen) == 3
    assert {s.method for s in seen} == {"CONNECT"}
    # each node's CONNECT names its address (the proxy does no DNS for nodes)
    assert {s.target for s in seen} == targets(lab, lab.port)
    assert {s.status for s in seen} == {200}
    # and no connection went around the proxy
    accepted = lab.nodes.accepted()
    assert sorted(node for node, _ in accepted) == sorted(lab.scenario("healthy").addresses)
    assert node_peers(lab) == {PROXIES["open"]}
    assert out.long_output[0] == (
        f"proxy {PROXIES['open']}:{lab.proxy.port} -- 3/3 tunnels opened (CONNECT);"
        " no proxy authentication"
    )
    assert out.stderr == ""


def test_basic_proxy_authentication_from_the_password_file(
    lab: Lab, proxy_password_file: str
) -> None:
    out = healthy(
        lab,
        *via(lab, "basic"),
        "--proxy-user", PROXY_USER,
        "--proxy-password-file", proxy_password_file,
    )  # fmt: skip
    assert (out.code, out.status) == (0, all_well(lab)), out.stdout
    opened = lab.proxy.requests(proxy="basic", status=200)
    assert {s.target for s in opened} == targets(lab, lab.port)
    assert {(s.scheme, s.user) for s in opened} == {("Basic", PROXY_USER)}
    assert node_peers(lab) == {PROXIES["basic"]}
    assert f"3/3 tunnels opened (CONNECT); Basic as {PROXY_USER}" in out.long_output[0]


def test_basic_proxy_password_from_the_environment(lab: Lab) -> None:
    out = healthy(
        lab, *via(lab, "basic"), "--proxy-user", PROXY_USER, env={PROXY_ENV: PROXY_PASSWORD}
    )
    assert (out.code, out.status) == (0, all_well(lab)), out.stdout
    assert {s.user for s in lab.proxy.requests(proxy="basic", status=200)} == {PROXY_USER}


def test_ntlm_proxy_authentication_on_one_connection(lab: Lab, proxy_password_file: str) -> None:
    out = healthy(
        lab,
        *via(lab, "ntlm"),
        "--proxy-user", f"LAB\\{PROXY_USER}",
        "--proxy-password-file", proxy_password_file,
    )  # fmt: skip
    assert (out.code, out.status) == (0, all_well(lab)), out.stdout
    opened = lab.proxy.requests(proxy="ntlm", status=200)
    assert {s.target for s in opened} == targets(lab, lab.port)
    assert {s.scheme for s in opened} == {"NTLM"}
    assert {s.user.lower() for s in opened} == {f"lab\\{PROXY_USER}"}
    # each tunnel: the 407 without credentials, the NTLM negotiate leg, the authenticate leg
    for target in targets(lab, lab.port):
        legs = [(s.scheme, s.status) for s in lab.proxy.requests(proxy="ntlm", target=target)]
        assert legs == [("", 407), ("NTLM", 407), ("NTLM", 200)], legs
    assert node_peers(lab) == {PROXIES["ntlm"]}
    assert f"NTLM as LAB\\{PROXY_USER}" in out.long_output[0]


def test_an_ipv6_node_is_tunnelled_by_its_bracketed_address(lab: Lab) -> None:
    assert lab.ipv6, "this host cannot bind ::1; the IPv6 tunnel needs it"
    s = lab.scenario("ipv6")
    out = run_plugin(
        "-H", s.host, "-6", "-p", str(lab.port), "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file, *via(lab, "open"),
    )  # fmt: skip
    assert out.code == 0, out.stdout
    assert [(r.target, r.status) for r in lab.proxy.requests(proxy="open")] == [
        (f"[::1]:{lab.port}", 200)
    ]
    # one connection reached the node: the tunnel (the proxy connects from ::1 there too)
    assert lab.nodes.accepted() == [("::1", "::1")]


def test_negotiate_proxy_authentication(lab: Lab, proxy_password_file: str) -> None:
    out = healthy(
        lab,
        *via(lab, "negotiate"),
        "--proxy-user", f"LAB\\{PROXY_USER}",
        "--proxy-password-file", proxy_password_file,
    )  # fmt: skip
    assert (out.code, out.status) == (0, all_well(lab)), out.stdout
    opened = lab.proxy.requests(proxy="negotiate", status=200)
    assert {s.target for s in opened} == targets(lab, lab.port)
    assert {s.scheme for s in opened} == {"Negotiate"}
    assert node_peers(lab) == {PROXIES["negotiate"]}
    assert f"Negotiate as LAB\\{PROXY_USER}" in out.long_output[0]


# -- the states table -------------------------------------------------------------------------


def test_wrong_proxy_password_is_unknown_after_one_attempt(lab: Lab) -> None:
    out = healthy(lab, *via(lab, "basic"), "--proxy-user", PROXY_USER, env={PROXY_ENV: "wrong-one"})
    name = f"{PROXIES['basic']}:{lab.proxy.port}"
    assert out.code == 3, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE UNKNOWN - proxy {name}: refused the credentials of {PROXY_USER}"
        " (Basic), so nothing is known about the array (+3 more) [0/3 nodes OK]"
    )
    # one failed logon per check, never one per node
    assert len([s for s in lab.proxy.requests(proxy="basic") if s.scheme]) == 1
    assert lab.nodes.accepted() == []
    assert out.long_output[1:] == [
        f"{a} UNKNOWN: not probed: no proxy authentication"
        for a in lab.scenario("healthy").addresses
    ]


def test_a_refusal_is_remembered_by_the_tunnels_of_later_probes(lab: Lab) -> None:
    """--rpc opens a second round of tunnels after the TLS probes: the refusal of the first
    round is their answer, and no more credentials go to the proxy."""
    out = healthy(
        lab, *via(lab, "basic"), "--proxy-user", PROXY_USER, "--rpc",
        env={PROXY_ENV: "wrong-one"},
    )  # fmt: skip
    assert out.code == 3, out.stdout
    assert "refused the credentials of" in out.status
    asked = lab.proxy.requests(proxy="basic")
    assert len([s for s in asked if s.scheme]) == 1
    # at most one bare CONNECT per node of the first round (a later one knows the refusal)
    assert len(asked) <= 1 + len(lab.scenario("healthy").addresses), asked
    assert lab.nodes.accepted() == []


def test_an_ntlm_proxy_that_closes_after_its_407_is_unknown(
    lab: Lab, proxy_password_file: str
) -> None:
    """NTLM authenticates one connection: a proxy that ends it after the challenge cannot be
    logged on to, and the plugin says so instead of trying on a new connection."""
    out = healthy(
        lab, *via(lab, "ntlm-close"), "--proxy-user", PROXY_USER,
        "--proxy-password-file", proxy_password_file,
    )  # fmt: skip
    name = f"{PROXIES['ntlm-close']}:{lab.proxy.port}"
    assert out.code == 3, out.stdout
    assert out.long_output[0].startswith(
        f"proxy {name} UNKNOWN: closed the connection after its 407 (NTLM needs one connection),"
    ), out.long_output[0]
    assert all(not s.scheme for s in lab.proxy.requests(proxy="ntlm-close"))


def test_a_proxy_given_by_name_is_resolved_and_named(lab: Lab) -> None:
    """--proxy http://localhost:PORT: the name through the system resolver, the proxy named as
    given (nothing listens on that port of 127.0.0.1)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    out = healthy(lab, "--proxy", f"http://localhost:{port}", "-t", "3")
    assert out.code == 3, out.stdout
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE UNKNOWN - proxy localhost:{port}: unreachable (Connection refused)"
    ), out.status
    assert lab.nodes.accepted() == []


def test_wrong_ntlm_password_is_unknown(lab: Lab) -> None:
    out = healthy(
        lab, *via(lab, "ntlm"), "--proxy-user", f"LAB\\{PROXY_USER}", env={PROXY_ENV: "nope-nope"}
    )
    assert out.code == 3, out.stdout
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE UNKNOWN - proxy {PROXIES['ntlm']}:{lab.proxy.port}: refused the"
        f" credentials of LAB\\{PROXY_USER} (NTLM), so nothing is known about the array"
    ), out.status


def test_proxy_that_wants_credentials_none_given_is_unknown(lab: Lab) -> None:
    out = healthy(lab, *via(lab, "basic"))
    assert (out.code, out.status) == (
        3,
        f"OUTLOOK_ANYWHERE UNKNOWN - proxy {PROXIES['basic']}:{lab.proxy.port}: wants"
        " authentication (Basic), so nothing is known about the array (+3 more) [0/3 nodes OK]",
    )


@pytest.mark.parametrize(
    ("name", "status"), [("forbidden", "403 Forbidden"), ("not-allowed", "405 Method Not Allowed")]
)
def test_proxy_refusing_connect_is_unknown(lab: Lab, name: str, status: str) -> None:
    out = healthy(lab, *via(lab, name))
    first = f"{lab.scenario('healthy').addresses[0]}:{lab.port}"  # the first node's, always
    assert out.code == 3, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE UNKNOWN - proxy {PROXIES[name]}:{lab.proxy.port}: refused CONNECT to"
        f" {first} ({status}), so nothing is known about the array (+3 more) [0/3 nodes OK]"
    )
    assert lab.nodes.accepted() == []
    assert out.perfdata["nodes_ok"] == "0;;;0;3"


def test_unreachable_proxy_is_unknown(lab: Lab) -> None:
    out = healthy(lab, *via(lab, "nowhere"))
    assert (out.code, out.status) == (
        3,
        f"OUTLOOK_ANYWHERE UNKNOWN - proxy 127.0.204.9:{lab.proxy.port}: unreachable (Connection"
        " refused), so nothing is known about the array (+3 more) [0/3 nodes OK]",
    )
    assert lab.nodes.accepted() == []


def test_bad_gateway_for_one_node_is_critical_for_that_node(lab: Lab) -> None:
    out = healthy(lab, *via(lab, "gateway"))
    assert (out.code, out.status) == (
        2,
        f"OUTLOOK_ANYWHERE CRITICAL - {GATEWAY_FAILS}: unreachable through the proxy"
        " (502 Bad Gateway) [2/3 nodes OK]",
    )
    assert f"{GATEWAY_FAILS} CRITICAL: unreachable through the proxy (502 Bad Gateway)" in (
        out.long_output
    )
    assert out.perfdata["nodes_ok"] == "2;;;0;3"
    others = set(lab.scenario("healthy").addresses) - {GATEWAY_FAILS}
    assert {node for node, _ in lab.nodes.accepted()} == others
    assert node_peers(lab) == {PROXIES["gateway"]}


def test_node_the_proxy_cannot_reach_is_critical(lab: Lab) -> None:
    s = lab.scenario("refused-node")
    out = run_plugin(
        "-H", s.host, "-p", str(lab.port), "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file, *via(lab, "open"),
    )  # fmt: skip
    assert out.code == 2, out.stdout
    assert ": unreachable through the proxy (502 Bad Gateway) [2/3 nodes OK]" in out.status


def test_proxy_that_never_answers_connect_ends_within_the_deadline(lab: Lab) -> None:
    started = time.monotonic()
    out = healthy(lab, *via(lab, "silent"), "-t", "3")
    elapsed = time.monotonic() - started
    assert elapsed < 4.5, elapsed
    assert out.code == 2, out.stdout
    # A tunnel gives up just before the check's deadline; a node whose thread comes later than
    # that is a plain timeout instead, so the exact words of the first node are not asserted.
    first = lab.scenario("healthy").addresses[0]
    assert out.status.startswith(f"OUTLOOK_ANYWHERE CRITICAL - {first}: "), out.status
    assert out.status.endswith(" (+2 more) [0/3 nodes OK]"), out.status
    assert "unreachable through the proxy: no answer to CONNECT within the deadline" in out.stdout
    assert len(lab.proxy.requests(proxy="silent")) == 3
    assert out.stderr == ""


@pytest.mark.parametrize(
    ("name", "code", "says"),
    [
        ("garbage", 3, "gave no HTTP answer to CONNECT (it began 'SSH-2.0-OpenSSH_9.2p1"),
        ("endless", 3, "gave no HTTP answer to CONNECT (a line longer than 8192 bytes)"),
        ("chatty", 3, "sent data after its answer to CONNECT, so nothing is known"),
        ("drip", 2, "unreachable through the proxy: no answer to CONNECT within the deadline"),
        ("crowded", 3, "gave no HTTP answer to CONNECT (more than 100 header lines)"),
    ],
)
def test_a_broken_proxy_gets_one_clear_line_within_the_deadline(
    lab: Lab, name: str, code: int, says: str
) -> None:
    started = time.monotonic()
    out = healthy(lab, *via(lab, name), "-t", "3", "-vvv")
    assert time.monotonic() - started < 4.5
    assert out.code == code, out.stdout
    # (drip: a node's thread later than the tunnel's margin reads as a plain timeout instead)
    assert says in out.stdout.split("\n", 2)[1] if code == 3 else says in out.stdout
    prefix = "UNKNOWN - proxy " if code == 3 else "CRITICAL - 127.0.10."
    assert out.status.startswith(f"OUTLOOK_ANYWHERE {prefix}"), out.status
    assert len(out.status) <= 200 and ";" not in out.status
    assert out.stderr == ""
    assert lab.nodes.accepted() == []


# -- --rpc and --autodiscover through the proxy ---------------------------------------------


def test_rpc_probe_goes_through_the_proxy(lab: Lab) -> None:
    out = run_plugin(
        "-H", "rpc-ok.contoso.test",
        "-p", str(lab.web.port),
        "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file,
        "--rpc",
        *via(lab, "open"),
    )  # fmt: skip
    assert out.code == 0, out.stdout
    assert "rpcproxy.dll 401" in out.status
    addresses = lab.web.addresses("rpc-ok.contoso.test")
    wanted = {f"{a}:{lab.web.port}" for a in addresses}
    seen = lab.proxy.requests(proxy="open")
    assert {s.target for s in seen} == wanted
    # the TLS probe's, and one for RPC_IN_DATA and the health check after it: two per node
    assert len(seen) == 2 * len(addresses)
    requests = lab.web.requests()
    assert {r.method for r in requests} == {"RPC_IN_DATA", "GET"}
    assert {r.peer for r in requests} == {PROXIES["open"]}
    assert {r.sni for r in requests} == {"rpc-ok.contoso.test"}
    assert {r.host for r in requests} == {"rpc-ok.contoso.test"}


def test_rpc_through_a_refusing_proxy_is_unknown(lab: Lab) -> None:
    out = run_plugin(
        "-H", "rpc-ok.contoso.test", "-p", str(lab.web.port), "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file, "--rpc", *via(lab, "forbidden"),
    )  # fmt: skip
    assert out.code == 3, out.stdout
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE UNKNOWN - proxy {PROXIES['forbidden']}:{lab.proxy.port}: refused"
    )
    assert lab.web.requests() == []


@pytest.mark.parametrize("proxy", ["open", "basic", "ntlm"])
def test_autodiscover_and_nodes_go_through_the_proxy(
    lab: Lab, password_file: str, proxy_password_file: str, proxy: str
) -> None:
    credentials = []
    if proxy != "open":
        user = PROXY_USER if proxy == "basic" else f"LAB\\{PROXY_USER}"
        credentials = ["--proxy-user", user, "--proxy-password-file", proxy_password_file]
    out = run_plugin(
        "-p", str(lab.port),
        "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file,
        "--autodiscover", "monitor@contoso.test",
        "--password-file", password_file,
        "--autodiscover-port", str(lab.web.port),
        *via(lab, proxy),
        *credentials,
    )  # fmt: skip
    assert out.code == 0, out.stdout
    assert out.status.startswith("OUTLOOK_ANYWHERE OK - 3/3 nodes OK: "), out.status
    posts = lab.web.requests(method="POST")
    assert posts, "Autodiscover was not asked"
    assert {r.peer for r in lab.web.requests()} == {PROXIES[proxy]}
    # the endpoint's CONNECT named the address the plugin resolved; the nodes' theirs
    site = lab.web.addresses("contoso.test")[0]
    opened = {s.target for s in lab.proxy.requests(proxy=proxy, status=200)}
    assert f"{site}:{lab.web.port}" in opened
    assert targets(lab, lab.port) <= opened
    assert node_peers(lab) == {PROXIES[proxy]}


def test_the_plain_http_step_of_the_lookup_is_tunnelled_too(lab: Lab, password_file: str) -> None:
    """northwind.test answers only at the lookup's plain-HTTP step (a 302 to https)."""
    out = run_plugin(
        "-p", str(lab.port),
        "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file,
        "--autodiscover", "monitor@northwind.test",
        "--password-file", password_file,
        "--autodiscover-port", str(lab.web.port),
        *via(lab, "open"),
    )  # fmt: skip
    assert out.code == 0, out.stdout
    plain = lab.web.requests(tls=False, method="GET")
    assert plain and {r.peer for r in plain} == {PROXIES["open"]}
    assert {r.peer for r in lab.web.requests()} == {PROXIES["open"]}
    http_site = lab.web.addresses("autodiscover.northwind.test")[0]
    assert f"{http_site}:{lab.web.port}" in {s.target for s in lab.proxy.seen}


def test_autodiscover_ntlm_inside_an_ntlm_proxy_tunnel(
    lab: Lab, password_file: str, proxy_password_file: str
) -> None:
    """Two NTLM exchanges on one path: the proxy's on CONNECT, the endpoint's inside TLS."""
    out = run_plugin(
        "-p", str(lab.port),
        "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file,
        "--autodiscover", "monitor@contoso.test",
        "--autodiscover-url", lab.web.url("ntlm.contoso.test"),
        "--password-file", password_file,
        *via(lab, "ntlm"),
        "--proxy-user", f"LAB\\{PROXY_USER}",
        "--proxy-password-file", proxy_password_file,
    )  # fmt: skip
    assert out.code == 0, out.stdout
    authenticated = [r for r in lab.web.requests(method="POST") if r.user]
    assert authenticated and {r.peer for r in authenticated} == {PROXIES["ntlm"]}


def revocation_check(lab: Lab, *extra: str) -> Outcome:
    s = lab.scenario("rev-ok")
    return run_plugin(
        "-H", s.host, "-p", str(lab.port), "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file, "--revocation", *extra,
    )  # fmt: skip


def test_revocation_fetches_go_through_the_proxy(lab: Lab) -> None:
    """CRLs and OCSP over plain HTTP: tunnelled like everything else, to the PKI site's
    address, the Host header still its name."""
    from contrib.lab.endpoints.revocation import PKI_ADDRESS, PKI_HOST

    lab.revocation.clear()
    out = revocation_check(lab, *via(lab, "open"))
    assert out.code == 0, out.stdout
    fetches = lab.revocation.requests()
    assert fetches, "nothing was fetched"
    assert {f.peer for f in fetches} == {PROXIES["open"]}
    assert {f.host.split(":")[0] for f in fetches} == {PKI_HOST}
    pki = f"{PKI_ADDRESS}:{lab.revocation.port}"
    opened = [s for s in lab.proxy.requests(proxy="open") if s.target == pki]
    assert len(opened) == len(fetches)
    assert node_peers(lab) == {PROXIES["open"]}


def test_a_proxy_refusing_the_pki_port_leaves_the_array_judged(lab: Lab) -> None:
    """Squid's default (CONNECT to 443 only, here the array's ports): the nodes are judged, and
    revocation cannot be checked (WARNING naming the URLs), not an UNKNOWN about the array."""
    from contrib.lab.endpoints.revocation import PKI_ADDRESS

    lab.revocation.clear()
    out = revocation_check(lab, *via(lab, "ports"))
    assert out.code == 1, out.stdout
    assert "revocation cannot be checked" in out.status, out.status
    assert "[0/1 nodes OK]" in out.status
    refused = lab.proxy.requests(proxy="ports", status=403)
    assert refused and {s.target for s in refused} == {f"{PKI_ADDRESS}:{lab.revocation.port}"}
    assert lab.revocation.requests() == []
    assert node_peers(lab) == {PROXIES["ports"]}
    # worst first: the WARNING node, then the proxy's own line (it failed nothing itself)
    assert out.long_output[0].startswith("127."), out.stdout
    proxy_lines = [line for line in out.long_output if line.startswith("proxy ")]
    assert len(proxy_lines) == 1
    assert proxy_lines[0].startswith(f"proxy {PROXIES['ports']}:{lab.proxy.port} -- ")


# -- the environment changes nothing --------------------------------------------------------


def bogus_environment(lab: Lab) -> dict[str, str]:
    """Every proxy variable, pointing at a proxy that refuses everything."""
    refusing = lab.proxy.url("forbidden")
    names = ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
    return {**{name: refusing for name in names}, "no_proxy": "", "NO_PROXY": ""}


def test_proxy_variables_in_the_environment_are_ignored(lab: Lab) -> None:
    out = healthy(lab, env=bogus_environment(lab))
    assert (out.code, out.status) == (0, all_well(lab))
    assert lab.proxy.seen == []
    assert not node_peers(lab) & PROXY_ADDRESSES


def test_proxy_variables_do_not_replace_the_proxy_given(lab: Lab) -> None:
    out = healthy(lab, *via(lab, "open"), env=bogus_environment(lab))
    assert (out.code, out.status) == (0, all_well(lab))
    assert {s.proxy for s in lab.proxy.seen} == {"open"}
    assert node_peers(lab) == {PROXIES["open"]}


def test_proxy_variables_are_ignored_by_autodiscover_and_rpc(lab: Lab, password_file: str) -> None:
    out = run_plugin(
        "-p", str(lab.port),
        "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file,
        "--autodiscover", "monitor@contoso.test",
        "--password-file", password_file,
        "--autodiscover-port", str(lab.web.port),
        env=bogus_environment(lab),
    )  # fmt: skip
    assert out.code == 0, out.stdout
    assert lab.proxy.seen == []
    assert lab.web.requests(method="POST")


# -- the password never shows -----------------------------------------------------------------


def _forms(user: str) -> list[str]:
    raw = PROXY_PASSWORD.encode()
    b64 = base64.b64encode(raw).decode()
    basic = base64.b64encode(f"{user}:{PROXY_PASSWORD}".encode()).decode()
    return [
        PROXY_PASSWORD,
        quote(PROXY_PASSWORD, safe=""),
        quote_plus(PROXY_PASSWORD),
        b64,
        b64.rstrip("="),
        basic,
        basic.rstrip("="),
        raw.hex(),
    ]


@pytest.mark.parametrize(
    ("proxy", "user", "right"),
    [
        ("basic", PROXY_USER, True),
        ("basic", PROXY_USER, False),
        ("ntlm", f"LAB\\{PROXY_USER}", True),
        ("ntlm", f"LAB\\{PROXY_USER}", False),
    ],
)
def test_the_proxy_password_never_shows(
    lab: Lab, proxy_password_file: str, proxy: str, user: str, right: bool
) -> None:
    source = ["--proxy-password-file", proxy_password_file] if right else []
    env = None if right else {PROXY_ENV: PROXY_PASSWORD + "-not"}
    out = healthy(lab, *via(lab, proxy), "--proxy-user", user, *source, "-vvv", env=env)
    assert out.code == (0 if right else 3), out.stdout
    assert "trace:" in out.stdout
    assert "CONNECT " in out.stdout
    for form in _forms(user):
        assert form not in out.stdout, form
        assert form not in out.stderr
    assert out.stderr == ""


@pytest.mark.parametrize("proxy", ["basic", "ntlm"])
def test_both_passwords_stay_hidden_when_a_server_echoes_one(
    lab: Lab, password_file: str, proxy_password_file: str, proxy: str
) -> None:
    """Autodiscover's 'echo' mailbox sends the Autodiscover password back in every encoding,
    through a proxy that took the proxy password: the check keeps both secrets."""
    from contrib.lab.identities.accounts import PASSWORD
    from tests.test_autodiscover import secret_forms

    user = PROXY_USER if proxy == "basic" else f"LAB\\{PROXY_USER}"
    out = run_plugin(
        "-p", str(lab.port),
        "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file,
        "--autodiscover", "echo@contoso.test",
        "--autodiscover-url", lab.web.url("contoso.test"),
        "--password-file", password_file,
        *via(lab, proxy),
        "--proxy-user", user,
        "--proxy-password-file", proxy_password_file,
        "-vvv",
    )  # fmt: skip
    assert out.code == 2, out.stdout
    assert "Autodiscover for echo@contoso.test" in out.stdout
    assert "(hidden)" in out.stdout  # the echo was there, and hidden
    assert {s.proxy for s in lab.proxy.requests(status=200)} == {proxy}
    for form in [*secret_forms(PASSWORD, "echo@contoso.test"), *_forms(user)]:
        assert form not in out.stdout, form
    assert out.stderr == ""


def test_trace_names_every_connect_and_the_scheme(lab: Lab, proxy_password_file: str) -> None:
    """Every node's tunnel is traced, and ends authenticated.

    The nodes' tunnels open concurrently: a tunnel that starts before another has learned that
    the proxy wants Basic sends a bare CONNECT first (and meets the 407), one that starts after
    sends the credentials at once.  Which node is which depends on the threads, so each node
    may show either form first; the credentials themselves never show.
    """
    out = healthy(
        lab, *via(lab, "basic"), "--proxy-user", PROXY_USER,
        "--proxy-password-file", proxy_password_file, "-vvv",
    )  # fmt: skip
    assert out.code == 0, out.stdout
    name = f"{PROXIES['basic']}:{lab.proxy.port}"
    bare = [t for t in targets(lab, lab.port) if f"proxy {name}: CONNECT {t}\n" in out.stdout]
    for target in targets(lab, lab.port):
        assert f"proxy {name}: CONNECT {target} (Proxy-Authorization: Basic ...)" in out.stdout
        assert f"{target}: connected through proxy {name}" in out.stdout
    # The first tunnel knows nothing of the proxy yet: it asks bare, and learns from the 407.
    assert bare, out.stdout
    assert f"proxy {name}: 407 Proxy Authentication Required (offers Basic)" in out.stdout
    secret = base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
    assert PROXY_PASSWORD not in out.stdout + out.stderr
    assert secret not in out.stdout + out.stderr


# -- configuration mistakes -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("proxy.example:3128", "is not a proxy URL: expected http://HOST:PORT"),
        ("https://proxy.example:3128", "an https:// proxy is not supported"),
        ("http://proxy.example:3128/path", "has a path: expected http://HOST:PORT"),
        ("http://proxy.example", "has no port: expected http://HOST:PORT"),
        ("socks5://proxy.example:1080", "is not a proxy URL"),
        ("http://proxy.example:99999", "is not a URL"),
        ("", "empty value"),
        ("http://bad_name!:3128", "has no usable host name"),
    ],
)
def test_bad_proxy_values_are_unknown_naming_the_option(lab: Lab, value: str, says: str) -> None:
    out = healthy(lab, "--proxy", value)
    assert out.code == 3, out.stdout
    assert out.status.startswith("OUTLOOK_ANYWHERE UNKNOWN - argument --proxy: "), out.status
    assert says in out.status
    assert lab.nodes.accepted() == []


def test_credentials_in_the_proxy_url_are_refused_unshown(lab: Lab) -> None:
    out = healthy(lab, "--proxy", "http://monitor:hunter22@proxy.example:3128")
    assert out.code == 3
    assert "--proxy" in out.status and "--proxy-password-file" in out.status
    assert "hunter22" not in out.stdout


@pytest.mark.parametrize(
    ("extra", "says"),
    [
        (["--proxy-user", "u"], "--proxy-user needs --proxy http://HOST:PORT"),
        (
            ["--proxy", "http://127.0.204.1:3128", "--proxy-password-file", "/etc/hostname"],
            "--proxy-password-file needs --proxy-user",
        ),
        (
            ["--proxy", "http://127.0.204.1:3128", "--proxy-user", "u"],
            "--proxy-user needs a password: --proxy-password-file FILE or " + PROXY_ENV,
        ),
    ],
)
def test_proxy_options_that_need_another(lab: Lab, extra: list[str], says: str) -> None:
    out = healthy(lab, *extra, env={PROXY_ENV: ""})
    assert (out.code, out.status) == (3, f"OUTLOOK_ANYWHERE UNKNOWN - {says}")


def test_the_default_path_imports_no_proxy_code(lab: Lab) -> None:
    from tests.test_import_hygiene import by_address, imported_by_check

    code, _, modules = imported_by_check(*by_address(lab, "healthy"))
    assert code == 0
    assert not {m for m in modules if m.endswith((".proxy", "facts.proxy"))}
    code, _, modules = imported_by_check(*by_address(lab, "healthy"), *via(lab, "open"))
    assert code == 0
    assert "outlook_anywhere.transport.proxy" in modules


def test_mapi_and_logon_go_through_the_proxy(lab: Lab, password_file: str) -> None:
    """--rpc --mapi --logon: Autodiscover, each node's handshake, the echo, the three virtual
    connections and the PING, every one tunnelled; no node saw the plugin itself."""
    lab.web.load_zone()
    lab.web.clear()
    host = "logon-ok.contoso.test"
    out = run_plugin(
        "-p", str(lab.web.port),
        "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file,
        "--autodiscover", "logon-ok@contoso.test",
        "--autodiscover-url", lab.web.url("autodiscover.contoso.test"),
        "--password-file", password_file,
        "--rpc", "--mapi", "--logon",
        *via(lab, "open"),
    )  # fmt: skip
    assert out.code == 0, out.stdout
    assert out.status.startswith("OUTLOOK_ANYWHERE OK - 3/3 nodes OK: "), out.status
    seen = lab.web.requests()
    assert {r.peer for r in seen} == {PROXIES["open"]}
    nodes = set(lab.web.addresses(host))
    for address in nodes:
        mine = [r for r in seen if r.address == address]
        assert any(r.method == "RPC_OUT_DATA" and r.rts == ["CONN/A1"] for r in mine), address
        assert any(r.path.startswith("/mapi/emsmdb/") and r.method == "POST" for r in mine)
    opened = {s.target for s in lab.proxy.requests(proxy="open", status=200)}
    assert {f"{a}:{lab.web.port}" for a in nodes} <= opened
