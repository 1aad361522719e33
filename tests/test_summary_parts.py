"""The first line and the long output (``check.words.summary``) with every optional part of a
check, in-process and exact: the all-well line with the RPC proxy, the logon, MAPI, revocation
and the front doors each added in its place (and left out where another part says it), the
proxy's line with all its failures, the missing module's line of its own, and where the long
output says that no logon was tried."""

from __future__ import annotations

from outlook_anywhere.facts import revocation as r
from outlook_anywhere.facts.frontdoors import FrontDoorFacts, Health
from outlook_anywhere.facts.http import AutodiscoverFacts, RpcFacts
from outlook_anywhere.facts.logon import Authentication, LogonFacts, MapiProbe
from outlook_anywhere.facts.proxy import ProxyFacts, Tunnel
from tests.test_frontdoor_rules import doors_policy
from tests.test_logon_rules import ping
from tests.test_logon_rules import rpc as rpc_logon
from tests.test_words import cert, node, policy, words

A, B = "10.0.0.1", "10.0.0.2"
LEAF = cert()
ALL_WELL = (
    "OUTLOOK_ANYWHERE OK - {n}/{n} nodes OK: msstd:mail.contoso.com matches the CN, 300.0 days"
    " left (expires 2027-11-11)"
)
ONE, TWO = ALL_WELL.format(n=1), ALL_WELL.format(n=2)
RPCS = [
    RpcFacts(A, 401, "Unauthorized", ["Negotiate", "NTLM"]),
    RpcFacts(B, 401, "Unauthorized", ["NTLM", "Basic", "X" * 21]),
]
NODE_LINE = (
    "{a} OK -- CN mail.contoso.com; SAN mail.contoso.com; 300.0 days left (2027-11-11); issuer"
    " Contoso CA; thumbprint 6C6561662D31; TLSv1.3; 3 ms"
)


def logon(*, rpc: bool = False, mapi: bool = False, skipped: str = "") -> LogonFacts:
    facts = LogonFacts(skipped=skipped)
    facts.rpc = [rpc_logon(A)] if rpc else None
    facts.mapi = [ping(A)] if mapi else None
    return facts


def test_the_rpc_proxys_schemes_when_no_logon_says_more() -> None:
    _, line, _ = words([node(A, LEAF), node(B, LEAF)], rpc=RPCS)
    assert line == TWO + f", rpcproxy.dll 401 (Negotiate, NTLM, Basic, {'X' * 17}...)"
    both = LogonFacts()
    both.rpc = [rpc_logon(A), rpc_logon(B)]
    _, line, _ = words([node(A, LEAF), node(B, LEAF)], rpc=RPCS, logon=both)
    assert line == TWO + ", logged on: echo, 6001/6002/6004"


def test_what_the_logon_did() -> None:
    assert words([node(A, LEAF)], logon=logon(rpc=True, mapi=True))[1] == (
        ONE + ", logged on: echo, 6001/6002/6004, mailbox logon"
    )
    assert words([node(A, LEAF)], rpc=RPCS[:1], logon=logon(mapi=True))[1] == (
        ONE + ", rpcproxy.dll 401 (Negotiate, NTLM), logged on: mailbox logon"
    )
    assert words([node(A, LEAF)], rpc=RPCS[:1], logon=logon(skipped="no-node"))[1] == (
        ONE + ", rpcproxy.dll 401 (Negotiate, NTLM)"
    )


def test_mapi_answers_unless_the_logon_says_more() -> None:
    probe = MapiProbe(A)
    probe.status, probe.schemes = 401, ["Negotiate", "NTLM"]
    assert words([node(A, LEAF)], mapi=[probe])[1] == ONE + ", MAPI over HTTP answers"
    assert words([node(A, LEAF)], mapi=[probe], logon=logon(mapi=True))[1] == (
        ONE + ", logged on: mailbox logon"
    )


def test_revocation_and_front_doors_on_the_all_well_line() -> None:
    chain = r.ChainRevocation((A,))
    entry = r.CertRevocation("mail.contoso.com", 1, 0)
    entry.sources.append(r.Source(r.CRL, "http://pki/ca.crl", r.GOOD))
    chain.certs.append(entry)
    revocation = r.RevocationFacts([chain])
    assert words([node(A, LEAF)], revocation=revocation)[1] == (
        ONE + ", not revoked (1 certificate checked)"
    )
    door = FrontDoorFacts(A)
    door.health = [Health("owa", 200)]
    pol = policy(frontdoors=doors_policy())
    assert words([node(A, LEAF)], pol, frontdoors=[door])[1] == ONE + ", 1/1 healthcheck.htm OK"
    assert words([node(A, LEAF)], pol, frontdoors=[door], revocation=revocation)[1] == (
        ONE + ", not revoked (1 certificate checked), 1/1 healthcheck.htm OK"
    )


def test_the_proxy_line_says_all_its_failures() -> None:
    proxy = ProxyFacts("10.0.5.1:8080", "monitor")
    proxy.tunnels += [
        Tunnel(f"{A}:443", "", "proxy-unreachable", "unreachable (Connection refused)"),
        Tunnel(f"{B}:443", "407", "proxy-auth", "refused the credentials"),
    ]
    _, line, long = words([node(A, LEAF), node(B, LEAF)], proxy=proxy)
    assert line == (
        "OUTLOOK_ANYWHERE UNKNOWN - proxy 10.0.5.1:8080: unreachable (Connection refused), so"
        " nothing is known about the array (+1 more) [2/2 nodes OK]"
    )
    assert long == [
        "proxy 10.0.5.1:8080 UNKNOWN: unreachable (Connection refused), so nothing is known"
        " about the array; refused the credentials, so nothing is known about the array --"
        " 0/2 tunnels opened (CONNECT); no proxy authentication",
        NODE_LINE.format(a=A),
        NODE_LINE.format(a=B),
    ]


def test_a_missing_module_is_a_line_of_its_own_before_the_nodes() -> None:
    facts = LogonFacts()
    facts.rpc = [
        rpc_logon(A, Authentication("", ["Negotiate"], False, "", "", "ntlm-missing")),
        rpc_logon(B, Authentication("", ["NTLM"], False, "", "", "ntlm-missing")),
    ]
    _, line, long = words([node(A, LEAF), node(B, LEAF)], logon=facts)
    said = "Python module pyspnego is not installed (RPC on 2 nodes accept only NTLM/Negotiate)"
    assert line == f"OUTLOOK_ANYWHERE UNKNOWN - {said} [2/2 nodes OK]"
    assert len(long) == 3
    assert long[0].startswith(f"UNKNOWN: {said}: ")
    assert long[1].startswith(NODE_LINE.format(a=A) + "; echo OK")
    assert long[2].startswith(NODE_LINE.format(a=B) + "; echo OK")


def test_no_logon_tried_is_said_under_autodiscover_or_on_its_own() -> None:
    autodiscover = AutodiscoverFacts("monitor@contoso.com", "monitor@contoso.com")
    autodiscover.error_kind, autodiscover.error = "unauthorized", "401 Unauthorized"
    _, _, long = words(
        [node(A, LEAF)], autodiscover=autodiscover, logon=logon(skipped="autodiscover")
    )
    assert long == [
        "Autodiscover CRITICAL: Autodiscover for monitor@contoso.com: wrong credentials"
        " (401 Unauthorized) -- Autodiscover monitor@contoso.com; 0 ms",
        "Logon not tried: Autodiscover did not accept the credentials",
        NODE_LINE.format(a=A),
    ]
    _, line, long = words([node(A, LEAF)], logon=logon(skipped="autodiscover"))
    assert line == ONE
    assert long == [
        "Logon not tried: Autodiscover did not accept the credentials",
        NODE_LINE.format(a=A),
    ]


def test_a_node_line_says_every_part_and_the_chains_it_sent_first() -> None:
    probe = MapiProbe(A)
    probe.status, probe.reason, probe.schemes = 401, "Unauthorized", ["NTLM"]
    door = FrontDoorFacts(A)
    door.health = [Health("owa", 200)]
    shared = r.ChainRevocation((B, A))
    entry = r.CertRevocation("mail.contoso.com", 1, 0)
    entry.sources.append(r.Source(r.CRL, "http://pki/ca.crl", r.GOOD))
    shared.certs.append(entry)
    own = r.ChainRevocation((B,))
    own.certs.append(r.CertRevocation("other", 2, 0))
    _, _, long = words(
        [node(A, LEAF), node(B, LEAF)],
        policy(frontdoors=doors_policy()),
        mapi=[probe],
        frontdoors=[door],
        logon=logon(rpc=True),
        revocation=r.RevocationFacts([shared, own]),
    )
    none = (
        "certificate other has no HTTP CRL distribution point and no OCSP URL: clients outside"
        " the domain cannot check revocation"
    )
    assert long == [
        f"10.0.0.2 WARNING: {none} -- " + NODE_LINE.format(a=B).split(" -- ", 1)[1],
        "  revocation: the chain of 10.0.0.2, 10.0.0.1; mail.contoso.com: CRL http://pki/ca.crl"
        " good",
        "  revocation: other: no source",
        NODE_LINE.format(a=A) + "; /mapi/emsmdb/ 401 Unauthorized; schemes NTLM;"
        " healthcheck.htm 200 for 1/1 (owa); RPC logon NTLM, Extended Protection: binding"
        " accepted; echo OK; CONN/C2 from 6001 mail store 10 ms, 6002 directory referral 10 ms,"
        " 6004 address book 10 ms",
    ]
