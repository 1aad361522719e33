"""The --proxy rows of the states table and their words, in-process and exact: the judgement of
the proxy's facts (judgement/proxy.py) and the sentences made of it (check/words.py), each
expectation taken from README's States table and "Proxy" section."""

from __future__ import annotations

import pytest
from nagiosplugin.state import Critical, Ok, Unknown

from outlook_anywhere import output
from outlook_anywhere.check.words import headline, long_output, phrase, subject
from outlook_anywhere.facts import CheckFacts, NodeFacts
from outlook_anywhere.facts.proxy import ProxyFacts, Tunnel
from outlook_anywhere.judgement import findings as k
from outlook_anywhere.judgement.findings import Finding
from outlook_anywhere.judgement.proxy import judge_proxy, judge_tunnel
from outlook_anywhere.judgement.verdict import judge
from tests.test_words import NOW, cert, node, policy

A, B = "10.0.0.1", "10.0.0.2"
PROXY = "10.0.5.1:8080"


def proxy_facts(*tunnels: Tunnel, user: str = "") -> ProxyFacts:
    facts = ProxyFacts(PROXY, user)
    facts.tunnels.extend(tunnels)
    return facts


def failed(address: str, kind: str, detail: str = "") -> NodeFacts:
    facts = NodeFacts(address, 443)
    facts.failure, facts.detail = kind, detail
    return facts


def check(nodes: list[NodeFacts], proxy: ProxyFacts) -> CheckFacts:
    return CheckFacts(NOW, "mail.contoso.com", None, nodes, proxy=proxy)


# -- judgement --------------------------------------------------------------------------------


def test_tunnels_that_opened_are_no_finding() -> None:
    facts = proxy_facts(Tunnel(f"{A}:443", "200 Connection established"))
    assert judge_proxy(facts) == []


def test_the_proxys_own_failures_are_unknown_once_per_kind() -> None:
    facts = proxy_facts(
        Tunnel(f"{B}:443", "403 Forbidden", "proxy-refused", "refused CONNECT (403 Forbidden)"),
        Tunnel(f"{A}:443", "403 Forbidden", "proxy-refused", "refused CONNECT (403 Forbidden)"),
        Tunnel(f"{B}:443", "", "proxy-unreachable", "unreachable (Connection refused)"),
        user="monitor",
    )
    found = judge_proxy(facts, [(A, 443), (B, 443)])
    assert [(f.kind, f.state, f.node) for f in found] == [
        (k.PROXY_UNREACHABLE, Unknown, None),
        (k.PROXY_REFUSED, Unknown, None),
    ]
    # the first node's tunnel is named, whichever the proxy refused first
    assert found[1].evidence == {
        "proxy": PROXY,
        "target": f"{A}:443",
        "status": "403 Forbidden",
        "detail": "refused CONNECT (403 Forbidden)",
        "scheme": "",
        "user": "monitor",
        "count": 2,
    }


def test_a_refused_connect_to_another_port_leaves_the_array_judged() -> None:
    """A proxy that allows CONNECT to 443 only, asked for a CRL on port 80: the array was
    reached, and the fetch's own finding says what the proxy refused."""
    crl = Tunnel("192.0.2.80:80", "403 Forbidden", "proxy-refused", "refused CONNECT (403)")
    opened = Tunnel(f"{A}:443", "200 Connection established")
    assert judge_proxy(proxy_facts(opened, crl), [(A, 443)]) == []
    # nothing opened at all: the proxy refuses everything, whatever the port
    found = judge_proxy(proxy_facts(crl), [])
    assert [(f.kind, f.evidence["target"]) for f in found] == [(k.PROXY_REFUSED, "192.0.2.80:80")]


def test_unreachable_and_refused_credentials_whatever_the_tunnel_was_for() -> None:
    opened = Tunnel(f"{A}:443", "200 Connection established")
    auth = Tunnel("192.0.2.80:80", "407 Proxy Authentication Required", "proxy-auth", "x")
    found = judge_proxy(proxy_facts(opened, auth), [(A, 443)])
    assert [(f.kind, f.state) for f in found] == [(k.PROXY_AUTH, Unknown)]


def test_an_ipv6_node_is_matched_by_its_bracketed_target() -> None:
    opened = Tunnel(f"{A}:443", "200 Connection established")
    refused = Tunnel("[2001:db8::1]:443", "403 Forbidden", "proxy-refused")
    found = judge_proxy(proxy_facts(opened, refused), [(A, 443), ("2001:db8::1", 443)])
    assert [f.evidence["target"] for f in found] == ["[2001:db8::1]:443"]


def test_a_gateway_error_or_no_answer_is_critical_for_that_node_only() -> None:
    facts = proxy_facts(
        Tunnel(f"{A}:443", "502 Bad Gateway", "proxy-gateway", "answered 502 Bad Gateway"),
        Tunnel(f"{B}:443", "", "proxy-timeout", "no answer to CONNECT within the deadline"),
    )
    assert judge_proxy(facts) == []
    gateway = judge_tunnel(failed(A, "proxy-gateway", "502 Bad Gateway"))
    assert (gateway.kind, gateway.state, gateway.node) == (k.PROXY_GATEWAY, Critical, A)
    timeout = judge_tunnel(failed(B, "proxy-timeout", "no answer"))
    assert (timeout.kind, timeout.state, timeout.node) == (k.PROXY_TIMEOUT, Critical, B)


def test_a_node_behind_a_failed_proxy_is_not_probed_and_not_ok() -> None:
    blocked = judge_tunnel(failed(A, "proxy-refused", "403 Forbidden"))
    assert (blocked.kind, blocked.state, blocked.node) == (k.PROXY_BLOCKED, Unknown, A)
    assert blocked.evidence == {"status": "403 Forbidden", "failure": "proxy-refused"}


def test_the_proxy_finding_comes_first_and_no_node_counts_as_ok() -> None:
    tunnels = [Tunnel(f"{a}:443", "403 Forbidden", "proxy-refused") for a in (A, B)]
    facts = check(
        [failed(A, "proxy-refused", "403 Forbidden"), failed(B, "proxy-refused", "403 Forbidden")],
        proxy_facts(*tunnels),
    )
    verdict = judge(facts, policy())
    assert verdict.state == Unknown
    assert [(f.kind, f.node) for f in verdict.findings] == [
        (k.PROXY_REFUSED, None),
        (k.PROXY_BLOCKED, A),
        (k.PROXY_BLOCKED, B),
    ]
    assert (verdict.nodes, verdict.nodes_ok) == (2, 0)


def test_one_node_the_proxy_cannot_reach_leaves_the_others_ok() -> None:
    tunnels = [
        Tunnel(f"{A}:443", "200 Connection established"),
        Tunnel(f"{B}:443", "502 Bad Gateway", "proxy-gateway"),
    ]
    nodes = [node(A, cert()), failed(B, "proxy-gateway", "502 Bad Gateway")]
    facts = check(nodes, proxy_facts(*tunnels))
    verdict = judge(facts, policy())
    assert verdict.state == Critical
    assert [(f.kind, f.node) for f in verdict.findings] == [(k.PROXY_GATEWAY, B)]
    assert (verdict.nodes, verdict.nodes_ok) == (2, 1)


# -- words ------------------------------------------------------------------------------------


def test_the_first_line_names_the_proxy_and_says_nothing_is_known() -> None:
    facts = check(
        [failed(A, "proxy-refused", "403 Forbidden")],
        proxy_facts(Tunnel(f"{A}:443", "403 Forbidden", "proxy-refused")),
    )
    verdict = judge(facts, policy())
    assert headline(verdict, facts, policy(), 170) == (
        f"proxy {PROXY}: refused CONNECT to {A}:443 (403 Forbidden), so nothing is known about"
        " the array (+1 more) [0/1 nodes OK]"
    )
    assert subject(verdict.findings[0]) == f"proxy {PROXY}"
    assert long_output(verdict, facts, 0) == [
        f"proxy {PROXY} UNKNOWN: refused CONNECT to {A}:443 (403 Forbidden), so nothing is known"
        " about the array -- 0/1 tunnels opened (CONNECT); no proxy authentication",
        f"{A} UNKNOWN: not probed: the proxy refused CONNECT (403 Forbidden)",
    ]


def test_each_kind_in_words() -> None:
    def say(kind: str, **evidence: object) -> str:
        return phrase(Finding(kind, Unknown, None, {"proxy": PROXY, **evidence}))

    known = ", so nothing is known about the array"
    assert say(k.PROXY_UNREACHABLE, detail="unreachable (Connection refused)") == (
        "unreachable (Connection refused)" + known
    )
    assert say(k.PROXY_UNREACHABLE, detail="gave no HTTP answer to CONNECT (x)") == (
        "gave no HTTP answer to CONNECT (x)" + known
    )
    assert say(k.PROXY_AUTH, detail="wants authentication (Basic)") == (
        "wants authentication (Basic)" + known
    )
    assert say(k.PROXY_AUTH, detail="refused the credentials of monitor (NTLM)") == (
        "refused the credentials of monitor (NTLM)" + known
    )
    assert say(k.PROXY_REFUSED, target="10.0.0.1:443", status="405 Method Not Allowed") == (
        "refused CONNECT to 10.0.0.1:443 (405 Method Not Allowed)" + known
    )
    assert say(k.PROXY_GATEWAY, status="504 Gateway Timeout") == (
        "unreachable through the proxy (504 Gateway Timeout)"
    )
    assert say(k.PROXY_TIMEOUT, status="") == (
        "unreachable through the proxy: no answer to CONNECT within the deadline"
    )
    assert say(k.PROXY_BLOCKED, failure="proxy-auth") == "not probed: no proxy authentication"
    assert say(k.PROXY_BLOCKED, failure="proxy-unreachable") == (
        "not probed: no tunnel through the proxy"
    )


def test_the_proxy_line_says_what_the_check_authenticated_with() -> None:
    facts = check(
        [node(A, cert())],
        proxy_facts(Tunnel(f"{A}:443", "200 Connection established", scheme="NTLM"), user="C\\m"),
    )
    verdict = judge(facts, policy())
    assert verdict.state == Ok
    assert long_output(verdict, facts, 0)[0] == (
        f"proxy {PROXY} -- 1/1 tunnels opened (CONNECT); NTLM as C\\m"
    )


def test_what_a_proxy_sent_is_shown_without_the_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(output, "SECRETS", ["S3cret-pw"])
    evidence = {"proxy": PROXY, "target": f"{A}:443", "status": "403 S3cret-pw"}
    text = phrase(Finding(k.PROXY_REFUSED, Unknown, None, evidence))
    assert text == f"refused CONNECT to {A}:443 (403 (hidden)), so nothing is known about the array"


def test_a_refused_connect_counts_for_a_node_only_once_a_tunnel_opened() -> None:
    """Once the proxy opened a tunnel, a refused CONNECT is a finding only when it was a node's
    (by address and port, IPv6 in brackets), not another port's."""
    refused = "refused CONNECT (403 Forbidden)"
    facts = proxy_facts(
        Tunnel(f"{A}:443", "200 Connection established"),
        Tunnel("pki.contoso.com:80", "403 Forbidden", "proxy-refused", refused),
        Tunnel("[2001:db8::2]:443", "403 Forbidden", "proxy-refused", refused),
    )
    found = judge_proxy(facts, [(A, 443), ("2001:db8::2", 443)])
    assert [(f.kind, f.evidence["target"], f.evidence["count"]) for f in found] == [
        (k.PROXY_REFUSED, "[2001:db8::2]:443", 1)
    ]
    ipv4 = proxy_facts(
        Tunnel("[2001:db8::2]:443", "200 Connection established"),
        Tunnel(f"{B}:443", "403 Forbidden", "proxy-refused", refused),
    )
    found = judge_proxy(ipv4, [(B, 443), ("2001:db8::2", 443)])
    assert [(f.kind, f.evidence["target"]) for f in found] == [(k.PROXY_REFUSED, f"{B}:443")]


@pytest.mark.parametrize(
    ("kind", "evidence", "words"),
    [
        (k.PROXY_AUTH, {"detail": ""}, "wants authentication"),
        (k.PROXY_AUTH, {"detail": "refused the credentials"}, "refused the credentials"),
        (k.PROXY_UNREACHABLE, {"detail": ""}, "unreachable"),
        (k.PROXY_UNREACHABLE, {"detail": "not an HTTP proxy"}, "not an HTTP proxy"),
    ],
)
def test_the_proxys_failure_says_why_or_what_it_is(
    kind: str, evidence: dict[str, object], words: str
) -> None:
    finding = Finding(kind, Unknown, None, {"proxy": PROXY, "target": f"{A}:443", **evidence})
    assert phrase(finding) == words + ", so nothing is known about the array"


def test_the_proxy_line_names_every_scheme_it_took() -> None:
    from outlook_anywhere.check.words.proxy import proxy_text

    facts = proxy_facts(
        Tunnel(f"{A}:443", "200 Connection established", scheme="NTLM"),
        Tunnel(f"{B}:443", "200 Connection established", scheme="Basic"),
        Tunnel(f"{B}:443", "200 Connection established", scheme="NTLM"),
        user="monitor",
    )
    assert proxy_text(facts) == "3/3 tunnels opened (CONNECT); NTLM, Basic as monitor"
