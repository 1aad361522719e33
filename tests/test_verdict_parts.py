"""``judgement.verdict.judge`` over the optional parts of a check, in-process: every part's
findings are added to the others' (never in their place), a node whose missing intermediate
the AIA caIssuers URL supplies is not CRITICAL for its chain, the proxy's failures are named
before every other finding of their state, and a protocol down on every node makes every node
a failing one.  The parts' own rows are held by their rules' tests; these hold how the verdict
puts them together."""

from __future__ import annotations

from nagiosplugin.state import Critical, Unknown, Warn

from outlook_anywhere.facts import CheckFacts, NodeFacts
from outlook_anywhere.facts import revocation as r
from outlook_anywhere.facts.frontdoors import FrontDoorFacts, Health
from outlook_anywhere.facts.http import AutodiscoverFacts
from outlook_anywhere.facts.logon import LogonFacts, MapiProbe
from outlook_anywhere.facts.proxy import ProxyFacts, Tunnel
from outlook_anywhere.judgement import findings as k
from outlook_anywhere.judgement.verdict import Verdict, judge
from tests.test_frontdoor_rules import doors_policy
from tests.test_logon_rules import auth, ping
from tests.test_words import NOW, cert, node, policy

A, B = "10.0.0.1", "10.0.0.2"
GOOD = cert()
OLD = cert(days=5)  # inside -c 14: CRITICAL
UNTRUSTED = {"trust": "untrusted", "trust_code": 20, "trust_message": "unable to get issuer"}


def verdict(nodes: list[NodeFacts], **parts: object) -> Verdict:
    pol = parts.pop("pol", None) or policy()
    facts = CheckFacts(NOW, "mail.contoso.com", None, nodes)
    for name, value in parts.items():
        setattr(facts, name, value)
    return judge(facts, pol)  # type: ignore[arg-type]


def kinds(found: Verdict) -> list[tuple[str, object, str | None]]:
    return [(f.kind, f.state, f.node) for f in found.findings]


def test_a_mapi_finding_is_added_to_the_nodes() -> None:
    probe = MapiProbe(B)
    probe.health, probe.health_reason = 503, "Service Unavailable"
    probe.status, probe.schemes = 401, ["Negotiate", "NTLM"]
    found = verdict([node(A, OLD), node(B, GOOD)], mapi=[probe])
    assert kinds(found) == [(k.EXPIRES_SOON, Critical, A), (k.MAPI_HEALTH, Critical, B)]
    assert found.nodes_ok == 0


def test_a_logon_finding_is_added_to_the_nodes_and_mapis() -> None:
    probe = MapiProbe(B)
    probe.health, probe.health_reason = 503, "Service Unavailable"
    probe.status, probe.schemes = 401, ["Negotiate", "NTLM"]
    logon = LogonFacts()
    logon.mapi = [ping(B, auth("refused"))]
    found = verdict([node(A, OLD), node(B, GOOD)], mapi=[probe], logon=logon)
    assert kinds(found) == [
        (k.EXPIRES_SOON, Critical, A),
        (k.MAPI_HEALTH, Critical, B),
        (k.LOGON_REFUSED, Critical, B),
    ]
    alone = verdict([node(A, OLD), node(B, GOOD)], logon=logon)
    assert kinds(alone) == [(k.EXPIRES_SOON, Critical, A), (k.LOGON_REFUSED, Critical, B)]


def test_a_supplied_intermediate_is_no_untrusted_chain_for_its_nodes() -> None:
    chain = r.ChainRevocation((A,))
    chain.supplied, chain.supplied_label = "http://pki/ca.cer", "Contoso CA"
    entry = r.CertRevocation("mail.contoso.com", 1, 0)
    entry.sources.append(r.Source(r.CRL, "http://pki/ca.crl", r.GOOD))
    chain.certs.append(entry)
    nodes = [node(A, GOOD, **UNTRUSTED), node(B, GOOD, **UNTRUSTED), node("10.0.0.3", OLD)]
    found = verdict(nodes, revocation=r.RevocationFacts([chain]))
    assert kinds(found) == [
        (k.UNTRUSTED, Critical, B),
        (k.EXPIRES_SOON, Critical, "10.0.0.3"),
        (k.INTERMEDIATE_SUPPLIED, Warn, A),
    ]


def test_front_door_findings_are_added_to_the_nodes() -> None:
    doors = [FrontDoorFacts(A), FrontDoorFacts(B)]
    doors[1].health = [Health("owa", 503, "503 Service Unavailable")]
    found = verdict(
        [node(A, OLD), node(B, GOOD)], frontdoors=doors, pol=policy(frontdoors=doors_policy())
    )
    assert kinds(found) == [(k.EXPIRES_SOON, Critical, A), (k.HEALTH_DOWN, Critical, B)]


def test_a_protocol_down_on_every_node_fails_every_node() -> None:
    doors = [FrontDoorFacts(A), FrontDoorFacts(B)]
    for door in doors:
        door.health = [Health("owa", 503, "503 Service Unavailable")]
    found = verdict(
        [node(A, GOOD), node(B, GOOD)], frontdoors=doors, pol=policy(frontdoors=doors_policy())
    )
    assert kinds(found) == [(k.HEALTH_DOWN_EVERYWHERE, Critical, None)]
    assert (found.nodes, found.nodes_ok) == (2, 0)


def test_the_proxys_failures_come_before_every_other_of_their_state() -> None:
    autodiscover = AutodiscoverFacts("monitor@contoso.com", "monitor@contoso.com")
    autodiscover.error_kind, autodiscover.error = "ntlm-missing", "pyspnego is not installed"
    proxy = ProxyFacts("10.0.5.1:8080", "monitor")
    proxy.tunnels += [
        Tunnel(f"{A}:443", "", "proxy-unreachable", "unreachable (Connection refused)"),
        Tunnel(f"{B}:443", "407", "proxy-auth", "refused the credentials"),
        Tunnel(f"{B}:443", "403", "proxy-refused", "refused CONNECT (403 Forbidden)"),
    ]
    failed = NodeFacts(A, 443)
    failed.failure, failed.detail = "proxy-unreachable", "unreachable"
    found = verdict([failed], autodiscover=autodiscover, proxy=proxy)
    assert [(kind, state) for kind, state, _ in kinds(found)][:4] == [
        (k.PROXY_UNREACHABLE, Unknown),
        (k.PROXY_AUTH, Unknown),
        (k.PROXY_REFUSED, Unknown),
        (k.AUTODISCOVER_FAILED, Unknown),
    ]
