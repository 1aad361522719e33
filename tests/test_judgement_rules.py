"""The judgement's rules one condition at a time, in-process: every finding asserted as exact data
(kind, node, state, evidence, fix), each expectation taken from the States table (README) and
docs/design.md, never from what the code happens to return.  These are the tests `make mutation`
runs against judgement/verdict.py, autodiscover.py, rpc.py and findings.py; the
words of each kind are held by tests/test_words_rules.py."""

from __future__ import annotations

import pytest
from nagiosplugin.state import Critical, Ok, Unknown, Warn

from outlook_anywhere.check.options import threshold
from outlook_anywhere.facts import CheckFacts, Resolution
from outlook_anywhere.facts.certificate import CertFacts, iso_date
from outlook_anywhere.facts.http import Attempt, AutodiscoverFacts, Document, Provider, RpcFacts
from outlook_anywhere.judgement import findings as k
from outlook_anywhere.judgement.autodiscover import (
    expr_server,
    judge_autodiscover,
    published,
    published_principals,
)
from outlook_anywhere.judgement.findings import Finding, Fix
from outlook_anywhere.judgement.principal import publishable, satisfied
from outlook_anywhere.judgement.rpc import judge_rpc
from outlook_anywhere.judgement.verdict import (
    judge,
    judge_fleet,
    judge_node,
    judge_resolution,
    principals,
)
from tests.test_words import CA, DAY, NOW, cert, node, policy

A, B, C = "10.0.0.1", "10.0.0.2", "10.0.0.3"
MAIL = "mail.contoso.com"
GOOD = cert()
ROOT = cert(cns=("Contoso Root",), sans=(), days=3000, issuer="Contoso Root", der=b"root")


def data(found: list[Finding]) -> list[tuple[object, ...]]:
    """A finding as plain data, its fix included."""
    return [(f.kind, f.state, f.node, f.evidence, fix(f.fix)) for f in found]


def fix(value: Fix | None) -> tuple[object, ...] | None:
    if value is None:
        return None
    return (value.certificate, value.publish, value.provider, value.correct, value.value)


def autodiscover(*providers: Provider, **kw: object) -> AutodiscoverFacts:
    facts = AutodiscoverFacts("monitor@contoso.com", "monitor@contoso.com")
    facts.document = Document(action="settings", providers=providers)
    for name, value in kw.items():
        setattr(facts, name, value)
    return facts


def provider(kind: str, cpn: str | None = "msstd:" + MAIL, server: str = MAIL, ssl: str = "On"):
    return Provider(kind, server, ssl, "Ntlm", cpn)


def one_node(leaf: CertFacts, pol: object = None, *others: CertFacts, **kw: object) -> list:
    """The findings about one node serving ``leaf`` beside nodes serving ``others``."""
    facts = node(A, leaf, **kw)
    wanted = principals(pol or policy(), None)  # type: ignore[arg-type]
    return judge_node(facts, wanted, pol or policy(), [leaf, *others], NOW)  # type: ignore[arg-type]


# -- what the nodes are judged against ------------------------------------------------------


def test_the_published_principal_comes_first_then_p_then_the_host() -> None:
    both = autodiscover(provider("EXPR"), provider("EXHTTP", "msstd:MAIL.contoso.com."))
    got = principals(policy(principal="owa.contoso.com"), both)
    assert [(p.name, p.source) for p in got] == [(MAIL, "EXPR and EXHTTP")]
    two = autodiscover(provider("EXPR"), provider("EXHTTP", "msstd:owa.contoso.com"))
    assert [(p.name, p.source) for p in principals(policy(), two)] == [
        (MAIL, "EXPR"),
        ("owa.contoso.com", "EXHTTP"),
    ]
    unpinned = autodiscover(provider("EXPR", "None"))
    got = principals(policy(principal="owa.contoso.com"), unpinned)
    assert [(p.name, p.source) for p in got] == [("owa.contoso.com", "-P")]
    assert [(p.name, p.source) for p in principals(policy(), None)] == [(MAIL, "-H")]
    # without -H, the host the check probes (the Server Autodiscover publishes)
    got = principals(policy(host=None), None, "ex.contoso.com")
    assert [(p.name, p.source) for p in got] == [("ex.contoso.com", "-H")]
    assert principals(policy(host=None), None) == []


def test_satisfied_means_ok_on_every_certificate_served() -> None:
    san_only = cert(cns=("ex01.contoso.com",), sans=("ex01.contoso.com", MAIL))
    assert not satisfied(MAIL, [], "cn")  # nothing served: nothing is proved
    assert satisfied(MAIL, [GOOD], "cn")
    assert not satisfied(MAIL, [san_only], "cn")
    assert satisfied(MAIL, [san_only], "cn-or-san")
    assert not satisfied(MAIL, [GOOD, san_only], "cn")
    wildcard = cert(cns=("*.contoso.com",), sans=())
    assert not satisfied(MAIL, [wildcard], "cn")  # an expansion is a WARNING, never OK
    assert not satisfied(MAIL, [wildcard], "cn-or-san")
    assert satisfied("*.contoso.com", [wildcard], "cn")  # a literal wildcard: the CN itself


def test_publishable_is_a_served_cn_every_certificate_satisfies() -> None:
    no_cn = cert(cns=(), sans=(MAIL,), der=b"1")
    both = cert(cns=(MAIL,), sans=(MAIL,), der=b"2")
    assert publishable([no_cn, both], "cn-or-san") == MAIL  # a certificate without a CN is skipped
    assert publishable([no_cn, both], "cn") is None  # the first has MAIL in a SAN only
    owa = cert(cns=("owa.contoso.com",), sans=("owa.contoso.com", MAIL), der=b"3")
    assert publishable([owa, both], "cn-or-san") == MAIL  # owa would fail the second
    assert publishable([owa, both], "cn") is None
    assert publishable([], "cn") is None


# -- the principal rows ----------------------------------------------------------------------


def test_cn_match_is_ok_and_san_match_is_ok_only_under_cn_or_san() -> None:
    san_only = cert(cns=("ex01.contoso.com",), sans=("ex01.contoso.com", MAIL))
    assert one_node(GOOD) == []
    assert one_node(san_only, policy(match_mode="cn-or-san")) == []
    evidence = {"principal": MAIL, "cn": "ex01.contoso.com", "source": "-H"}
    assert data(one_node(san_only)) == [
        (k.SAN_ONLY, Warn, A, evidence, (MAIL, "ex01.contoso.com", "EXPR", None, None))
    ]


def test_the_fix_for_a_principal_from_p_or_h_publishes_on_expr() -> None:
    san_only = cert(cns=("ex01.contoso.com",), sans=("ex01.contoso.com", MAIL))
    for pol in (policy(principal=MAIL), policy()):
        [finding] = one_node(san_only, pol)
        assert fix(finding.fix) == (MAIL, "ex01.contoso.com", "EXPR", None, None)
    [finding] = one_node(cert(cns=("owa.contoso.com",), sans=()), policy(principal=MAIL))
    assert fix(finding.fix) == (MAIL, "owa.contoso.com", "EXPR", None, None)


def test_san_only_fix_names_every_provider_publishing_the_principal() -> None:
    san_only = cert(cns=("ex01.contoso.com",), sans=("ex01.contoso.com", MAIL))
    facts = CheckFacts(
        NOW, MAIL, None, [node(A, san_only)], autodiscover(provider("EXPR"), provider("EXHTTP"))
    )
    [finding] = judge(facts, policy()).findings
    assert finding.kind == k.SAN_ONLY
    assert finding.evidence["source"] == "EXPR and EXHTTP"
    assert fix(finding.fix) == (MAIL, "ex01.contoso.com", "EXPR and EXHTTP", None, None)


def test_cn_wildcard_proposes_publishing_the_wildcard_when_every_node_satisfies_it() -> None:
    wildcard = cert(cns=("*.contoso.com",), sans=("*.contoso.com",))
    evidence = {
        "principal": MAIL,
        "cn": "*.contoso.com",
        "source": "-H",
        "pattern": "*.contoso.com",
    }
    evidence["where"] = "CN"
    assert data(one_node(wildcard)) == [
        (k.WILDCARD_ONLY, Warn, A, evidence, (None, "*.contoso.com", "EXPR", None, None))
    ]
    # another node serves a certificate the wildcard does not satisfy: only a certificate helps
    legacy = cert(cns=("legacy.contoso.com",), sans=(), der=b"old")
    [finding] = one_node(wildcard, None, legacy)
    assert fix(finding.fix) == (MAIL, None, "EXPR", None, None)


def test_san_wildcard_names_the_san_that_covers_the_principal() -> None:
    leaf = cert(
        cns=("ex01.contoso.com",),
        sans=("ex01.contoso.com", "bad\x00.contoso.com", "*.fabrikam.com", "*.contoso.com"),
    )
    [finding] = one_node(leaf)
    assert (finding.kind, finding.state) == (k.WILDCARD_ONLY, Warn)
    assert (finding.evidence["pattern"], finding.evidence["where"]) == ("*.contoso.com", "SAN")
    # publishing a SAN wildcard would still be a SAN match: not OK under --match cn
    assert fix(finding.fix) == (MAIL, None, "EXPR", None, None)
    [finding] = one_node(leaf, policy(match_mode="cn-or-san"))
    assert fix(finding.fix) == (None, "*.contoso.com", "EXPR", None, None)


def test_the_covering_san_is_found_for_a_principal_in_any_case_with_a_trailing_dot() -> None:
    leaf = cert(cns=("ex01.contoso.com",), sans=("*.contoso.com",))
    [finding] = one_node(leaf, policy(principal="MAIL.Contoso.com."))
    assert finding.evidence["pattern"] == "*.contoso.com"


def test_mismatch_is_critical_with_the_cn_seen_and_the_principal_expected() -> None:
    owa = cert(cns=("owa.contoso.com",), sans=("owa.contoso.com",))
    evidence = {"principal": MAIL, "cn": "owa.contoso.com", "source": "-H"}
    assert data(one_node(owa)) == [
        (k.PRINCIPAL_MISMATCH, Critical, A, evidence, (MAIL, "owa.contoso.com", "EXPR", None, None))
    ]
    no_cn = cert(cns=(), sans=("owa.contoso.com",))
    evidence = {"principal": MAIL, "cn": None, "source": "-H"}
    assert data(one_node(no_cn)) == [
        (k.PRINCIPAL_MISMATCH, Critical, A, evidence, (MAIL, None, "EXPR", None, None))
    ]


def test_a_look_alike_cn_is_shown_in_its_idna_form() -> None:
    look_alike = "m\u0430il.contoso.com"  # a Cyrillic "a"
    [finding] = one_node(cert(cns=(look_alike,), sans=()))
    assert finding.kind == k.PRINCIPAL_MISMATCH
    assert finding.evidence["cn_idna"] == look_alike.encode("idna").decode("ascii")
    [ascii_cn] = one_node(cert(cns=("owa.contoso.com",), sans=()))
    assert "cn_idna" not in ascii_cn.evidence


def test_several_cns_is_a_warning_naming_them() -> None:
    two = cert(cns=(MAIL, "owa.contoso.com"))
    assert data(one_node(two)) == [
        (k.SEVERAL_CNS, Warn, A, {"cns": (MAIL, "owa.contoso.com")}, None)
    ]


# -- dates ----------------------------------------------------------------------------------


def days_left(days: float, **kw: object) -> list:
    return one_node(cert(days=days), policy(**kw))


def test_thresholds_are_fewer_than_w_and_c_days() -> None:
    date = iso_date(NOW + 10 * DAY)
    assert data(days_left(10)) == [
        (k.EXPIRES_SOON, Critical, A, {"ca": None, "days": 10.0, "date": date}, None)
    ]
    assert [f.state for f in days_left(20)] == [Warn]
    assert days_left(30) == []  # fewer than 30 days: 30.0 is not fewer
    assert [f.state for f in days_left(29.9)] == [Warn]
    assert days_left(14) != [] and [f.state for f in days_left(14)] == [Warn]
    assert [f.state for f in days_left(13.9)] == [Critical]


def test_days_left_are_given_to_a_tenth() -> None:
    [finding] = days_left(20.04)
    assert finding.evidence["days"] == 20.0


def test_a_nagios_range_is_named_with_its_level() -> None:
    found = days_left(300, critical=threshold("10"), warning=threshold("~:100"))
    assert [
        (f.state, f.evidence["ca"], f.evidence["level"], f.evidence["range"]) for f in found
    ] == [
        (Warn, None, "warning", "~:100"),
        (Warn, "Contoso CA", "warning", "~:100"),  # the CA's 1800 days are outside it too
    ]
    [finding] = days_left(300, critical=threshold("@200:400"), warning=threshold("30"))
    assert finding.state == Critical
    assert (finding.evidence["level"], finding.evidence["range"]) == ("critical", "@200:400")


def test_expired_and_not_yet_valid_are_critical() -> None:
    date = iso_date(NOW - 3 * DAY)
    assert data(days_left(-3)) == [
        (k.EXPIRED, Critical, A, {"ca": None, "days": -3.0, "date": date}, None)
    ]
    early = one_node(cert(not_before=5))
    assert data(early) == [
        (k.NOT_YET_VALID, Critical, A, {"ca": None, "date": iso_date(NOW + 5 * DAY)}, None)
    ]
    assert one_node(cert(not_before=0)) == []  # valid from this very second


def test_a_certificate_is_valid_up_to_its_not_after() -> None:
    # X.509: notAfter is the last moment of validity, so at that moment it has not expired yet
    [finding] = days_left(0)
    assert (finding.kind, finding.state, finding.evidence["days"]) == (
        k.EXPIRES_SOON,
        Critical,
        0.0,
    )


def test_a_certificate_that_expired_an_hour_ago_has_expired() -> None:
    # the days left are rounded to a tenth for the words: an hour ago is -0.0 of them
    hour_ago = -1 / 24
    assert [f.kind for f in days_left(hour_ago)] == [k.EXPIRED]
    assert [
        f.kind for f in days_left(hour_ago, warning=threshold("0"), critical=threshold("0"))
    ] == [k.EXPIRED]


def test_issuing_cas_are_judged_by_their_own_dates() -> None:
    old_ca = cert(cns=("Old CA",), sans=(), days=-1, der=b"old-ca")
    root = cert(cns=("Root",), sans=(), days=3000, der=b"root")
    found = judge_node(node(A, GOOD, chain=(GOOD, old_ca, root)), [], policy(), [GOOD], NOW)
    assert data(found) == [
        (k.EXPIRED, Critical, A, {"ca": "Old CA", "days": -1.0, "date": iso_date(NOW - DAY)}, None)
    ]
    expired_leaf = cert(days=-1)
    found = judge_node(node(A, expired_leaf), [], policy(), [expired_leaf], NOW)
    assert [(f.kind, f.evidence["ca"]) for f in found] == [(k.EXPIRED, None)]


# -- a node that served no certificate to judge -------------------------------------------


def test_failures_are_findings_with_their_evidence() -> None:
    broken = node(A, failure="broken", detail="cryptography")
    assert data(judge_node(broken, [], policy(), [], NOW)) == [
        (k.BROKEN_INSTALLATION, Unknown, A, {"module": "cryptography"}, None)
    ]
    bad = node(A, failure="unparsable", detail="ASN1")
    assert data(judge_node(bad, [], policy(), [], NOW)) == [
        (k.UNPARSABLE, Critical, A, {"detail": "ASN1"}, None)
    ]
    reset = node(A, failure="reset", detail="peer", phase="handshake")
    evidence = {"failure": "reset", "detail": "peer", "phase": "handshake"}
    assert data(judge_node(reset, [], policy(), [], NOW)) == [
        (k.CONNECTION, Critical, A, evidence, None)
    ]
    assert data(judge_node(node(A), [], policy(), [], NOW)) == [
        (k.NO_CERTIFICATE, Critical, A, {}, None)
    ]


# -- trust and strength -----------------------------------------------------------------------


def test_an_untrusted_chain_names_the_last_certificate_served() -> None:
    kw = {"trust": "untrusted", "trust_code": 20, "trust_message": "unable to get issuer"}
    one = judge_node(node(A, GOOD, served_count=1, **kw), [], policy(), [GOOD], NOW)
    evidence = {
        "code": 20,
        "message": "unable to get issuer",
        "served": 1,
        "last": MAIL,
        "last_issuer": "Contoso CA",
    }
    assert data(one) == [(k.UNTRUSTED, Critical, A, evidence, None)]
    # served_count unknown (0): the chain as recorded
    whole = judge_node(node(A, GOOD, **kw), [], policy(), [GOOD], NOW)
    assert [
        (f.evidence["served"], f.evidence["last"], f.evidence["last_issuer"]) for f in whole
    ] == [(2, "Contoso CA", "Contoso Root")]
    empty = judge_node(node(A, GOOD, chain=(), **kw), [], policy(), [GOOD], NOW)
    assert [(f.evidence["last"], f.evidence["last_issuer"]) for f in empty] == [(None, None)]
    unchecked = judge_node(node(A, GOOD, **kw), [], policy(check_trust=False), [GOOD], NOW)
    assert unchecked == []


@pytest.mark.parametrize(
    ("strengths", "expected"),
    [
        (((0, "RSA 2048", "sha256"),), []),
        (
            ((0, "RSA 2047", "sha256"),),
            [(k.WEAK_KEY, {"ca": None, "algorithm": "RSA", "bits": 2047})],
        ),
        (
            ((0, "DSA 1024", "sha256"),),
            [(k.WEAK_KEY, {"ca": None, "algorithm": "DSA", "bits": 1024})],
        ),
        (((0, "EC 256", "sha256"),), []),  # an EC key is not measured in RSA bits
        (((0, "RSA unknown", "sha256"),), []),
        (((0, "RSA 2048", "sha1"),), [(k.WEAK_SIGNATURE, {"ca": None, "hash": "SHA-1"})]),
        (((0, "RSA 2048", "md5"),), [(k.WEAK_SIGNATURE, {"ca": None, "hash": "MD5"})]),
        (
            ((0, "RSA 2048", "sha256"), (1, "RSA 1024", "sha1")),
            # the last of the chain is its root: its own signature is never checked
            [(k.WEAK_KEY, {"ca": "Contoso CA", "algorithm": "RSA", "bits": 1024})],
        ),
        (
            ((0, "RSA 2048", "sha256"), (1, "RSA 2048", "sha1"), (2, "RSA 4096", "sha256")),
            # an intermediate's signature is checked: only the root's is not
            [(k.WEAK_SIGNATURE, {"ca": "Contoso CA", "hash": "SHA-1"})],
        ),
        (
            ((0, "RSA 2048", "sha256"), (1, "RSA 2048", "sha256"), (2, "RSA 1024", "sha256")),
            # a position beyond the chain recorded
            [(k.WEAK_KEY, {"ca": "unknown", "algorithm": "RSA", "bits": 1024})],
        ),
    ],
)
def test_weak_keys_and_signatures(strengths: tuple, expected: list) -> None:
    chain = (GOOD, CA, ROOT) if len(strengths) == 3 and "4096" in strengths[2][1] else (GOOD, CA)
    found = judge_node(node(A, GOOD, chain=chain, strengths=strengths), [], policy(), [GOOD], NOW)
    assert [(f.kind, f.evidence) for f in found] == expected
    assert all((f.state, f.node) == (Warn, A) for f in found)


def test_an_old_protocol_is_a_warning_naming_it() -> None:
    found = judge_node(node(A, GOOD, only_protocol="TLSv1.1"), [], policy(), [GOOD], NOW)
    assert data(found) == [(k.OLD_PROTOCOL, Warn, A, {"version": "TLSv1.1"}, None)]


# -- the array ------------------------------------------------------------------------------


def test_different_certificates_name_the_minority_with_both_dates() -> None:
    newer = cert(days=700, der=b"newer")
    found = judge_fleet([node(A, GOOD), node(B, GOOD), node(C, newer)])
    evidence = {
        "thumbprint": newer.thumbprint,
        "date": iso_date(newer.not_after),
        "their_thumbprint": GOOD.thumbprint,
        "their_date": iso_date(GOOD.not_after),
        "others": 2,
    }
    assert data(found) == [(k.DIFFERENT_CERTIFICATE, Warn, C, evidence, None)]
    assert judge_fleet([node(A, GOOD), node(B, GOOD), node(C)]) == []
    # a tie: the certificate of the first node that served one is the reference
    found = judge_fleet([node(A), node(B, newer), node(C, GOOD)])
    assert [(f.node, f.evidence["others"]) for f in found] == [(C, 1)]
    third = cert(der=b"third")
    found = judge_fleet([node(A, GOOD), node(B, newer), node(C, third)])
    assert [f.node for f in found] == [B, C]


def test_no_address_is_critical_naming_host_and_resolver() -> None:
    assert judge_resolution(None) == []
    assert judge_resolution(Resolution(MAIL, (A,), "-I")) == []
    failed = Resolution(MAIL, (), "system resolver", "no-aaaa", "x")
    evidence = {"host": MAIL, "failure": "no-aaaa", "detail": "x", "source": "system resolver"}
    assert data(judge_resolution(failed)) == [(k.NO_ADDRESS, Critical, None, evidence, None)]


# -- the whole check --------------------------------------------------------------------------


def test_findings_are_worst_first_then_dns_autodiscover_array_nodes_in_address_order() -> None:
    failed = autodiscover(error_kind="unreachable", error="no endpoint")
    resolution = Resolution(MAIL, (), "system resolver", "timeout")
    nodes = [node(B, failure="refused"), node(A, failure="refused"), node(C, cert(days=20))]
    facts = CheckFacts(NOW, MAIL, resolution, nodes, failed)
    verdict = judge(facts, policy())
    assert [(f.kind, f.node) for f in verdict.findings] == [
        (k.NO_ADDRESS, None),
        (k.AUTODISCOVER_FAILED, None),
        (k.CONNECTION, B),
        (k.CONNECTION, A),
        (k.EXPIRES_SOON, C),
    ]
    assert (verdict.state, verdict.nodes, verdict.nodes_ok) == (Critical, 3, 0)
    weak = cert(der=b"weak")
    nodes = [node(C, GOOD), node(A, GOOD, strengths=((0, "RSA 1024", "sha256"),)), node(B, weak)]
    facts = CheckFacts(NOW, MAIL, None, nodes, autodiscover(provider("EXPR", ssl="Off")))
    verdict = judge(facts, policy())
    assert [(f.kind, f.node) for f in verdict.findings] == [
        (k.SSL_OFF, None),
        (k.DIFFERENT_CERTIFICATE, B),
        (k.WEAK_KEY, A),
    ]
    assert (verdict.state, verdict.nodes_ok) == (Warn, 1)
    assert [f.kind for f in verdict.of(A)] == [k.WEAK_KEY]
    assert verdict.of(C) == []


def test_a_nodes_findings_are_in_address_order_whatever_judged_them() -> None:
    # the RPC proxy of the first node fails, the second node's certificate does not match:
    # both CRITICAL, so the first node comes first
    owa = cert(cns=("owa.contoso.com",), sans=(), der=b"owa")
    rpc = [RpcFacts(A, 503, "x"), RpcFacts(B, 401, "", ["NTLM"])]
    facts = CheckFacts(NOW, MAIL, None, [node(A, GOOD), node(B, owa)], None, rpc)
    verdict = judge(facts, policy())
    assert [(f.kind, f.node) for f in verdict.findings] == [
        (k.RPC_FAILURE, A),
        (k.PRINCIPAL_MISMATCH, B),
        (k.DIFFERENT_CERTIFICATE, B),
    ]


def test_a_node_that_served_no_certificate_does_not_stop_a_fix() -> None:
    owa = cert(cns=("owa.contoso.com",), sans=())
    facts = CheckFacts(NOW, MAIL, None, [node(A), node(B, owa)])
    verdict = judge(facts, policy())
    assert [(f.kind, f.node, fix(f.fix)) for f in verdict.findings] == [
        (k.NO_CERTIFICATE, A, None),
        (k.PRINCIPAL_MISMATCH, B, (MAIL, "owa.contoso.com", "EXPR", None, None)),
    ]


def test_an_unknown_outranks_a_critical_and_all_well_is_ok() -> None:
    nodes = [node(A, failure="refused"), node(B, failure="broken", detail="cryptography")]
    verdict = judge(CheckFacts(NOW, MAIL, None, nodes), policy())
    assert [(f.state, f.node) for f in verdict.findings] == [(Unknown, B), (Critical, A)]
    assert verdict.state == Unknown
    verdict = judge(CheckFacts(NOW, MAIL, None, [node(A, GOOD), node(B, GOOD)]), policy())
    assert (verdict.findings, verdict.state, verdict.nodes, verdict.nodes_ok) == ([], Ok, 2, 2)
    assert [(p.name, p.source) for p in verdict.principals] == [(MAIL, "-H")]


def test_a_mismatch_with_one_published_principal_is_kept_when_the_next_matches() -> None:
    two = autodiscover(provider("EXPR", "msstd:owa.contoso.com"), provider("EXHTTP"))
    verdict = judge(CheckFacts(NOW, MAIL, None, [node(A, GOOD)], two), policy())
    assert [(f.kind, f.evidence["principal"], f.evidence["source"]) for f in verdict.findings] == [
        (k.PRINCIPAL_MISMATCH, "owa.contoso.com", "EXPR")
    ]


def test_every_published_principal_is_judged_on_every_node() -> None:
    two = autodiscover(provider("EXPR"), provider("EXHTTP", "msstd:owa.contoso.com"))
    verdict = judge(CheckFacts(NOW, MAIL, None, [node(A, GOOD)], two), policy())
    assert [(f.kind, f.evidence["principal"], f.evidence["source"]) for f in verdict.findings] == [
        (k.PRINCIPAL_MISMATCH, "owa.contoso.com", "EXHTTP")
    ]
    # publishing the certificates' own name on EXHTTP would satisfy every node
    assert fix(verdict.findings[0].fix) == ("owa.contoso.com", MAIL, "EXHTTP", None, None)


# -- Autodiscover ---------------------------------------------------------------------------


def test_what_a_provider_publishes() -> None:
    def fields(item: object) -> tuple[object, ...]:
        return tuple(getattr(item, f) for f in ("provider", "server", "name", "explicit", "ssl"))

    assert fields(published(provider("expr"))) == ("EXPR", MAIL, MAIL, True, "On")
    got = published(provider("Expr", "  MSSTD:owa.contoso.com "))
    assert (got.provider, got.server, got.name, got.explicit) == (
        "EXPR",
        MAIL,
        "owa.contoso.com",
        True,
    )
    for absent in (None, "", "   "):  # no CertPrincipalName: clients pin msstd:<Server>
        got = published(provider("EXPR", absent))
        assert (got.name, got.explicit) == (MAIL, False)
    for none in ("None", " none "):
        got = published(provider("EXPR", none))
        assert (got.name, got.explicit) == (None, True)
    got = published(provider("EXPR", None, server=""))
    assert (got.name, got.explicit) == (None, False)
    assert published(provider("EXPR", ssl="Off")).ssl == "Off"


def test_published_principals_are_each_name_once_with_its_providers() -> None:
    # EXHTTP first in the document: EXPR is still named first
    same = autodiscover(provider("EXHTTP", "msstd:MAIL.contoso.com."), provider("EXPR"))
    assert published_principals(same) == [(MAIL, "EXPR and EXHTTP")]
    # two names that never match anything are still two names
    bad = autodiscover(provider("EXPR", "mail\x00.contoso.com"), provider("EXHTTP", "owa\x00"))
    assert published_principals(bad) == [("mail\x00.contoso.com", "EXPR"), ("owa\x00", "EXHTTP")]
    assert published_principals(autodiscover(provider("EXPR", "None"))) == []
    # EXPR pins nothing: what EXHTTP publishes is still what Outlook 2013+ pins
    unpinned = autodiscover(provider("EXPR", "None"), provider("EXHTTP"))
    assert published_principals(unpinned) == [(MAIL, "EXHTTP")]
    failed = autodiscover(provider("EXPR"), error_kind="unusable")
    assert published_principals(failed) == []
    assert published_principals(AutodiscoverFacts("monitor@contoso.com")) == []


def test_the_outlook_anywhere_host_is_the_first_published_server() -> None:
    assert (
        expr_server(autodiscover(provider("EXHTTP", server="ex.contoso.com"), provider("EXPR")))
        == MAIL
    )
    no_server = autodiscover(
        provider("EXPR", server=""), provider("EXHTTP", server="ex.contoso.com")
    )
    assert expr_server(no_server) == "ex.contoso.com"
    assert expr_server(autodiscover(provider("WEB"))) is None


def test_autodiscover_failure_evidence() -> None:
    facts = autodiscover(
        error_kind="unreachable",
        error="no endpoint answered",
        final_email="other@fabrikam.com",
        attempts=[
            Attempt("https://a/", "refused"),
            Attempt("https://b/", "401"),
            Attempt("https://c/", "timed out"),
        ],
    )
    evidence = {
        "email": "other@fabrikam.com",
        "redirected": True,
        "failure": "unreachable",
        "detail": "no endpoint answered",
        "last": "timed out",
    }
    assert data(judge_autodiscover(facts, policy(), [GOOD])) == [
        (k.AUTODISCOVER_FAILED, Critical, None, evidence, None)
    ]
    plain = AutodiscoverFacts("monitor@contoso.com", error_kind="timeout", error="t")
    [finding] = judge_autodiscover(plain, policy(), [GOOD])
    assert (finding.evidence["email"], finding.evidence["redirected"]) == (
        "monitor@contoso.com",
        False,
    )
    assert finding.evidence["last"] == ""


def test_publication_findings_name_their_provider() -> None:
    facts = autodiscover(provider("EXPR", ssl="OFF"), provider("EXHTTP", "None", ssl="off"))
    assert data(judge_autodiscover(facts, policy(), [GOOD])) == [
        (k.SSL_OFF, Warn, None, {"provider": "EXPR"}, None),
        (k.SSL_OFF, Warn, None, {"provider": "EXHTTP"}, None),
        (k.UNPINNED, Warn, None, {"provider": "EXHTTP"}, (None, MAIL, "EXHTTP", None, None)),
    ]
    no_server = autodiscover(provider("EXPR", None, server=""))
    assert data(judge_autodiscover(no_server, policy(), [GOOD])) == [
        (k.NO_SERVER, Warn, None, {"provider": "EXPR"}, None)
    ]
    nothing = autodiscover(provider("WEB"))
    assert data(judge_autodiscover(nothing, policy(), [GOOD])) == [
        (k.NOT_PUBLISHED, Warn, None, {"email": "monitor@contoso.com"}, None)
    ]


def test_only_the_provider_that_disagrees_with_p_is_named() -> None:
    facts = autodiscover(provider("EXPR"), provider("EXHTTP", "msstd:owa.contoso.com"))
    found = judge_autodiscover(facts, policy(principal=MAIL), [GOOD])
    evidence = {"provider": "EXHTTP", "published": "owa.contoso.com", "expected": MAIL}
    assert data(found) == [
        (k.PRINCIPAL_DISAGREES, Critical, None, evidence, (None, MAIL, "EXHTTP", None, None))
    ]


def test_a_disagreement_is_judged_under_the_match_mode() -> None:
    # the certificates carry the published name in a SAN: under cn-or-san -P alone is wrong
    leaf = cert(cns=("ex01.contoso.com",), sans=("ex01.contoso.com", "owa.contoso.com", MAIL))
    facts = autodiscover(provider("EXPR", "msstd:owa.contoso.com"))
    [finding] = judge_autodiscover(facts, policy(principal=MAIL, match_mode="cn-or-san"), [leaf])
    assert fix(finding.fix) == (None, None, "EXPR", "-P", "owa.contoso.com")
    [finding] = judge_autodiscover(facts, policy(principal=MAIL), [leaf])
    assert fix(finding.fix) == ("owa.contoso.com", None, "EXPR", "-P", "owa.contoso.com")


def test_a_disagreement_names_both_principals_and_the_providers() -> None:
    facts = autodiscover(provider("EXPR"), provider("EXHTTP"))
    found = judge_autodiscover(facts, policy(principal="owa.contoso.com"), [GOOD])
    evidence = {"provider": "EXPR and EXHTTP", "published": MAIL, "expected": "owa.contoso.com"}
    assert data(found) == [
        (k.PRINCIPAL_DISAGREES, Critical, None, evidence, (None, None, "EXPR", "-P", MAIL))
    ]


# -- the RPC proxy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (
            RpcFacts(A, 401, "Unauthorized", ["Negotiate"], error="late"),
            (k.RPC_UNREACHABLE, Critical, {"detail": "late"}),
        ),
        (RpcFacts(A, 401, "Unauthorized", []), (k.RPC_NO_SCHEME, Warn, {})),
        (RpcFacts(A, 200, "OK"), (k.RPC_ANONYMOUS, Warn, {"status": "200 OK"})),
        (RpcFacts(A, 200, ""), (k.RPC_ANONYMOUS, Warn, {"status": "200"})),
        (
            RpcFacts(A, 300, "Multiple", location="/a"),
            (k.RPC_REDIRECT, Critical, {"status": "300 Multiple", "location": "/a"}),
        ),
        (RpcFacts(A, 399, "X"), (k.RPC_REDIRECT, Critical, {"status": "399 X", "location": ""})),
        (
            RpcFacts(A, 400, "Bad"),
            (k.RPC_FAILURE, Critical, {"status": "400 Bad", "rpc_error": ""}),
        ),
        (RpcFacts(A, 299, "X"), (k.RPC_FAILURE, Critical, {"status": "299 X", "rpc_error": ""})),
        (
            RpcFacts(A, 404, "Not Found"),
            (k.RPC_NOT_INSTALLED, Critical, {"status": "404 Not Found"}),
        ),
        (RpcFacts(A, 403, "Forbidden"), (k.RPC_FORBIDDEN, Critical, {"status": "403 Forbidden"})),
        (
            RpcFacts(A, 503, "RPC Error: 6ba", rpc_error="6ba"),
            (k.RPC_FAILURE, Critical, {"status": "503 RPC Error: 6ba", "rpc_error": "6ba"}),
        ),
    ],
)
def test_rpc_proxy_answers(facts: RpcFacts, expected: tuple) -> None:
    assert data(judge_rpc(facts, ())) == [(expected[0], expected[1], A, expected[2], None)]


def test_expected_schemes_compare_in_any_case() -> None:
    facts = RpcFacts(A, 401, "Unauthorized", ["NTLM", "negotiate"])
    assert judge_rpc(facts, ("Negotiate", "ntlm")) == []
    missing = judge_rpc(facts, ("Basic", "NTLM", "Kerberos"))
    evidence = {"missing": ["Basic", "Kerberos"], "offered": ["NTLM", "negotiate"]}
    assert data(missing) == [(k.RPC_MISSING_SCHEME, Warn, A, evidence, None)]


# -- the data types ---------------------------------------------------------------------------


def test_finding_and_fix_defaults_and_repr() -> None:
    bare = Finding(k.EXPIRED, Critical)
    assert (bare.node, bare.evidence, bare.fix) == (None, {}, None)
    assert repr(Finding(k.EXPIRED, Critical, A, {"days": -1.0})) == (
        "Finding('expired', critical, '10.0.0.1', {'days': -1.0})"
    )
    plain = Fix()
    assert (plain.certificate, plain.publish, plain.provider, plain.correct, plain.value) == (
        None,
        None,
        "EXPR",
        None,
        None,
    )
    assert repr(Fix("a", "b", "EXPR", "-P", "c")) == "Fix('a', 'b', '-P', 'c')"


def test_rpc_kinds_are_told_apart_by_their_prefix() -> None:
    rpc = [k.RPC_UNREACHABLE, k.RPC_NO_SCHEME, k.RPC_MISSING_SCHEME, k.RPC_ANONYMOUS]
    rpc += [k.RPC_REDIRECT, k.RPC_NOT_INSTALLED, k.RPC_FORBIDDEN, k.RPC_FAILURE]
    assert all(kind.startswith("rpc-") for kind in rpc)
    others = [v for n, v in vars(k).items() if n.isupper() and isinstance(v, str) and v not in rpc]
    assert not any(kind.startswith("rpc-") for kind in others)
    assert len(set(rpc + others)) == len(rpc + others)
