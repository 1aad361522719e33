"""The judge functions in-process, one row of the states table each: facts built here, findings
(kind, node, state, evidence, fix) asserted as data.  The words of each kind are held by
tests/test_words.py; the black-box suite runs the same rows against the lab."""

from __future__ import annotations

import pytest
from nagiosplugin.state import Critical, Ok, Unknown, Warn

from outlook_anywhere.facts import CheckFacts, NodeFacts, Resolution
from outlook_anywhere.facts.http import AutodiscoverFacts, Document, Provider, RpcFacts
from outlook_anywhere.judgement import findings as k
from outlook_anywhere.judgement.autodiscover import judge_autodiscover
from outlook_anywhere.judgement.rpc import judge_rpc
from outlook_anywhere.judgement.verdict import judge, judge_fleet, judge_resolution
from tests.test_words import NOW, cert, node, policy

GOOD = cert()


def published(*providers: Provider, error_kind: str = "") -> AutodiscoverFacts:
    facts = AutodiscoverFacts("monitor@contoso.com", "monitor@contoso.com")
    facts.document = Document(action="settings", providers=providers)
    facts.error_kind = error_kind
    return facts


def expr(principal: str | None = "msstd:mail.contoso.com", ssl: str = "On") -> Provider:
    return Provider("EXPR", "mail.contoso.com", ssl, "Ntlm", principal)


def exhttp(principal: str | None = "msstd:mail.contoso.com", ssl: str = "On") -> Provider:
    return Provider("EXHTTP", "mail.contoso.com", ssl, "Ntlm", principal)


def kinds(found: list[k.Finding]) -> list[tuple[str, object]]:
    return [(f.kind, f.state) for f in found]


AUTODISCOVER_ROWS = [
    ("EXPR publishes the certificate's name", published(expr()), None, []),
    ("EXHTTP alone is read", published(exhttp()), None, []),
    (
        "CertPrincipalName None",
        published(expr("None")),
        None,
        [(k.UNPINNED, Warn)],
    ),
    ("no CertPrincipalName: msstd:<Server>", published(expr(None)), None, []),
    ("neither EXPR nor EXHTTP", published(Provider("WEB")), None, [(k.NOT_PUBLISHED, Warn)]),
    ("SSL Off", published(expr(ssl="Off")), None, [(k.SSL_OFF, Warn)]),
    (
        "an error response",
        published(error_kind="error-response"),
        None,
        [(k.AUTODISCOVER_FAILED, Critical)],
    ),
    (
        "pyspnego missing is this poller's installation",
        published(error_kind="ntlm-missing"),
        None,
        [(k.AUTODISCOVER_FAILED, Unknown)],
    ),
    (
        "-P differs from what is published",
        published(expr(), exhttp()),
        "other.contoso.com",
        [(k.PRINCIPAL_DISAGREES, Critical)],
    ),
    ("-P equals what is published", published(expr()), "MAIL.contoso.com.", []),
]


@pytest.mark.parametrize(
    ("facts", "expected", "found"),
    [row[1:] for row in AUTODISCOVER_ROWS],
    ids=[row[0] for row in AUTODISCOVER_ROWS],
)
def test_autodiscover_rows(
    facts: AutodiscoverFacts, expected: str | None, found: list[tuple[str, object]]
) -> None:
    assert kinds(judge_autodiscover(facts, policy(principal=expected), [GOOD])) == found


@pytest.mark.parametrize(
    ("cn", "fix"),
    [
        # the certificates satisfy what is published: -P is wrong
        ("mail.contoso.com", ("-P", "mail.contoso.com", None, "EXPR", None)),
        # they satisfy -P only: the publication is wrong, on both providers
        ("other.contoso.com", (None, None, "other.contoso.com", "EXPR and EXHTTP", None)),
        # neither: the certificate, and -P
        ("owa.contoso.com", ("-P", "mail.contoso.com", None, "EXPR", "mail.contoso.com")),
    ],
    ids=["-P is wrong", "the publication is wrong", "both and the certificate"],
)
def test_disagreement_fix_names_the_side_that_is_wrong(cn: str, fix: tuple[object, ...]) -> None:
    leaves = [cert(cns=(cn,), sans=())]
    facts = published(expr(), exhttp())
    [finding] = judge_autodiscover(facts, policy(principal="other.contoso.com"), leaves)
    got = finding.fix
    assert got is not None
    assert (got.correct, got.value, got.publish, got.provider, got.certificate) == fix


def test_unpinned_proposes_only_a_satisfied_name() -> None:
    [ok] = judge_autodiscover(published(expr("None")), policy(), [GOOD])
    assert ok.fix is not None and ok.fix.publish == "mail.contoso.com"
    two = [GOOD, cert(cns=("legacy.contoso.com",), sans=(), der=b"2")]
    [none] = judge_autodiscover(published(expr("None")), policy(), two)
    assert none.fix is None


RPC_ROWS = [
    (
        "401 with the schemes",
        RpcFacts("10.0.0.1", 401, "Unauthorized", ["Negotiate", "NTLM"]),
        (),
        [],
    ),
    (
        "401 without an expected scheme",
        RpcFacts("10.0.0.1", 401, "Unauthorized", ["Basic"]),
        ("Negotiate",),
        [(k.RPC_MISSING_SCHEME, Warn)],
    ),
    ("401 without any scheme", RpcFacts("10.0.0.1", 401), (), [(k.RPC_NO_SCHEME, Warn)]),
    ("200 anonymous", RpcFacts("10.0.0.1", 200, "OK"), (), [(k.RPC_ANONYMOUS, Warn)]),
    ("302", RpcFacts("10.0.0.1", 302, "Found", location="/x"), (), [(k.RPC_REDIRECT, Critical)]),
    ("403", RpcFacts("10.0.0.1", 403, "Forbidden"), (), [(k.RPC_FORBIDDEN, Critical)]),
    ("404", RpcFacts("10.0.0.1", 404, "Not Found"), (), [(k.RPC_NOT_INSTALLED, Critical)]),
    (
        "503 RPC Error",
        RpcFacts("10.0.0.1", 503, "RPC Error: 6ba", rpc_error="6ba"),
        (),
        [(k.RPC_FAILURE, Critical)],
    ),
    ("no answer", RpcFacts("10.0.0.1", error="no answer"), (), [(k.RPC_UNREACHABLE, Critical)]),
]


@pytest.mark.parametrize(
    ("facts", "expect_auth", "found"),
    [row[1:] for row in RPC_ROWS],
    ids=[row[0] for row in RPC_ROWS],
)
def test_rpc_rows(facts: RpcFacts, expect_auth: tuple[str, ...], found: list[object]) -> None:
    assert kinds(judge_rpc(facts, expect_auth)) == found
    assert all(f.node == "10.0.0.1" for f in judge_rpc(facts, expect_auth))


def test_rpc_failure_counts_against_its_node() -> None:
    nodes = [node("10.0.0.1", GOOD), node("10.0.0.2", GOOD)]
    rpc = [RpcFacts("10.0.0.1", 401, "", ["NTLM"]), RpcFacts("10.0.0.2", 503, "x")]
    verdict = judge(CheckFacts(NOW, "mail.contoso.com", None, nodes, None, rpc), policy())
    assert (verdict.state, verdict.nodes_ok, verdict.nodes) == (Critical, 1, 2)


def test_minority_nodes_are_named_and_ties_keep_the_first() -> None:
    other = cert(der=b"other")
    three = judge_fleet([node("a", GOOD), node("b", other), node("c", GOOD)])
    assert [(f.kind, f.node, f.evidence["others"]) for f in three] == [
        (k.DIFFERENT_CERTIFICATE, "b", 2)
    ]
    tie = judge_fleet([node("a", other), node("b", GOOD)])
    assert [f.node for f in tie] == ["b"]


@pytest.mark.parametrize(
    ("failure", "state"),
    [("nxdomain", Critical), ("no-aaaa", Critical), ("timeout", Critical), ("", Ok)],
)
def test_resolution_rows(failure: str, state: object) -> None:
    addresses = () if failure else ("10.0.0.1",)
    found = judge_resolution(Resolution("mail.contoso.com", addresses, "system resolver", failure))
    assert max((f.state for f in found), default=Ok) == state
    assert all(f.evidence["failure"] == failure for f in found)


def test_published_principal_is_what_nodes_are_judged_against() -> None:
    nodes = [node("10.0.0.1", GOOD)]
    facts = CheckFacts(NOW, "mail.contoso.com", None, nodes, published(expr("owa.contoso.com")))
    verdict = judge(facts, policy(principal="mail.contoso.com"))
    assert [(f.kind, f.node) for f in verdict.findings] == [
        (k.PRINCIPAL_DISAGREES, None),
        (k.PRINCIPAL_MISMATCH, "10.0.0.1"),
    ]
    assert verdict.findings[1].evidence["principal"] == "owa.contoso.com"
    assert verdict.nodes_ok == 0


def test_connection_failure_kinds_reach_the_finding() -> None:
    for failure in ("refused", "reset", "timeout", "closed", "not-tls", "tls-alert", "network"):
        facts = NodeFacts("10.0.0.1", 443, phase="handshake")
        facts.failure, facts.detail = failure, "x"
        verdict = judge(CheckFacts(NOW, "mail.contoso.com", None, [facts]), policy())
        [finding] = verdict.findings
        assert (finding.kind, finding.state, finding.evidence["failure"]) == (
            k.CONNECTION,
            Critical,
            failure,
        )


def test_without_h_and_without_a_pin_nodes_are_judged_against_the_published_server() -> None:
    wrong = node("10.0.0.1", cert(cns=("owa.contoso.com",), sans=()))
    facts = CheckFacts(NOW, "mail.contoso.com", None, [wrong], published(expr("None")))
    verdict = judge(facts, policy(host=None))
    assert [(f.kind, f.node) for f in verdict.findings] == [
        (k.PRINCIPAL_MISMATCH, "10.0.0.1"),
        (k.UNPINNED, None),
    ]
    assert verdict.findings[0].evidence["principal"] == "mail.contoso.com"


def test_a_name_whose_last_label_is_a_number_is_never_proposed() -> None:
    leaves = [cert(cns=("0",), sans=())]
    [finding] = judge(
        CheckFacts(NOW, "mail.contoso.com", None, [node("10.0.0.1", leaves[0])]), policy()
    ).findings
    assert finding.kind == k.PRINCIPAL_MISMATCH
    assert finding.fix is not None and finding.fix.publish is None
