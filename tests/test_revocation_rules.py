"""The revocation rows (``--revocation``) in-process, as exact data: ``judgement.revocation``'s
evidence for every finding and its boundaries (a CRL at 24 hours, at its nextUpdate; an OCSP
answer at its own), and the words of ``check.words.revocation``: every phrase, the chain's
long-output line and the first line's count.  tests/test_revocation.py holds the same rows end
to end against the lab and the states of each; these hold the rules' every field."""

from __future__ import annotations

import pytest
from nagiosplugin.state import Critical, Warn

from outlook_anywhere.check.words import phrase
from outlook_anywhere.check.words.revocation import revocation_checked, revocation_text
from outlook_anywhere.facts import revocation as r
from outlook_anywhere.facts.certificate import iso_date
from outlook_anywhere.judgement import findings as k
from outlook_anywhere.judgement.findings import Finding
from outlook_anywhere.judgement.revocation import (
    CRL_WARNING_HOURS,
    judge_certificate,
    judge_chain,
    judge_revocation,
)

NOW = 1_800_000_000.0
HOUR = 3600.0
CRL_URL = "http://pki.contoso.com/ca.crl"
OCSP_URL = "http://ocsp.contoso.com"
A, B = "192.0.2.1", "192.0.2.2"


def source(kind: str, outcome: str, next_in: float | None = 100.0, url: str = "",
           detail: str = "") -> r.Source:  # fmt: skip
    s = r.Source(kind, url or (CRL_URL if kind == r.CRL else OCSP_URL), outcome, detail)
    s.next_update = NOW + next_in * HOUR if next_in is not None else None
    return s


def cert(
    *sources: r.Source, position: int = 0, label: str = "mail.contoso.com"
) -> r.CertRevocation:
    entry = r.CertRevocation(label, 0x0A, position)
    entry.sources.extend(sources)
    return entry


BASE = {"cert": "mail.contoso.com", "ca": False, "serial": "0A"}


def judged(*sources: r.Source, position: int = 0) -> list[tuple[object, ...]]:
    return judge_certificate(cert(*sources, position=position), NOW)  # type: ignore[return-value]


# -- judgement.revocation ---------------------------------------------------------------------


def test_a_revocation_names_its_source_date_and_reason() -> None:
    revoked = source(r.OCSP, r.REVOKED)
    revoked.revoked_at, revoked.reason = NOW - 48 * HOUR, "key_compromise"
    assert judged(source(r.OCSP, r.GOOD), revoked, position=1) == [
        (k.REVOKED, Critical,
         {**BASE, "ca": True, "via": r.OCSP, "url": OCSP_URL, "date": iso_date(NOW - 48 * HOUR),
          "reason": "key_compromise"})
    ]  # fmt: skip


def test_a_revocation_without_a_date_and_the_first_of_two() -> None:
    first, second = source(r.CRL, r.REVOKED), source(r.OCSP, r.REVOKED)
    second.revoked_at = NOW
    assert judged(first, second) == [
        (k.REVOKED, Critical,
         {**BASE, "via": r.CRL, "url": CRL_URL, "date": None, "reason": ""})
    ]  # fmt: skip


def test_every_bad_signature_is_named() -> None:
    assert judged(
        source(r.CRL, r.BAD_SIGNATURE, None, detail="crl sig"),
        source(r.OCSP, r.BAD_SIGNATURE, None, detail="ocsp sig"),
    ) == [
        (k.REVOCATION_BAD_SIGNATURE, Critical,
         {**BASE, "via": r.CRL, "url": CRL_URL, "detail": "crl sig"}),
        (k.REVOCATION_BAD_SIGNATURE, Critical,
         {**BASE, "via": r.OCSP, "url": OCSP_URL, "detail": "ocsp sig"}),
    ]  # fmt: skip


def lapse(hours: float, next_in: float) -> dict[str, object]:
    return {**BASE, "url": CRL_URL, "hours": hours, "date": iso_date(NOW + next_in * HOUR)}


@pytest.mark.parametrize(
    ("next_in", "found"),
    [
        (-1.0, [(k.CRL_LAPSED, Critical, lapse(-1.0, -1.0))]),
        (-0.01, [(k.CRL_LAPSED, Critical, lapse(-0.0, -0.01))]),
        (0.0, [(k.CRL_EXPIRING, Warn, lapse(0.0, 0.0))]),
        (23.96, [(k.CRL_EXPIRING, Warn, lapse(24.0, 23.96))]),
        (24.0, []),
        (24.01, []),
    ],
)
def test_a_crl_near_or_past_its_next_update(next_in: float, found: list[object]) -> None:
    assert CRL_WARNING_HOURS == 24.0
    assert judged(source(r.CRL, r.GOOD, next_in)) == found


def test_the_soonest_crl_is_judged_revoked_ones_too() -> None:
    soon = source(r.CRL, r.REVOKED, 2.0, url="http://b/soon.crl")
    revoked_first = {**BASE, "via": r.CRL, "url": "http://b/soon.crl", "date": None, "reason": ""}
    assert judged(source(r.CRL, r.GOOD, 200.0), soon) == [
        (k.REVOKED, Critical, revoked_first),
        (k.CRL_EXPIRING, Warn,
         {**BASE, "url": "http://b/soon.crl", "hours": 2.0, "date": iso_date(NOW + 2 * HOUR)}),
    ]  # fmt: skip


def test_a_crl_without_next_update_or_unanswered_is_not_dated() -> None:
    assert judged(source(r.CRL, r.GOOD, None)) == []
    assert judged(source(r.CRL, r.UNUSABLE, -5.0), source(r.OCSP, r.GOOD)) == []


def test_no_source_fetched_names_what_the_certificate_names() -> None:
    assert judged() == [(k.NO_REVOCATION_SOURCE, Warn, {**BASE, "named": []})]
    ldap = source(r.CRL, r.NOT_FETCHED, None, url="ldap:///CN=Contoso")
    assert judged(ldap) == [
        (k.NO_REVOCATION_SOURCE, Warn, {**BASE, "named": ["ldap:///CN=Contoso"]})
    ]


def test_no_answer_lists_every_source_fetched_and_why() -> None:
    stale = source(r.OCSP, r.GOOD, -1.0)
    assert judged(
        source(r.CRL, r.UNREACHABLE, None, detail="refused"),
        source(r.CRL, r.NOT_FETCHED, None, url="ldap:///x"),
        stale,
    ) == [
        (k.REVOCATION_UNAVAILABLE, Warn,
         {**BASE, "failures": [(CRL_URL, r.UNREACHABLE, "refused"), (OCSP_URL, "stale", "")]})
    ]  # fmt: skip


def test_an_ocsp_answer_at_its_next_update_still_answers() -> None:
    assert judged(source(r.OCSP, r.GOOD, 0.0)) == []
    assert judged(source(r.OCSP, r.GOOD, None)) == []


def test_a_bad_signature_is_no_second_finding_of_no_answer() -> None:
    assert [kind for kind, *_ in judged(source(r.OCSP, r.BAD_SIGNATURE, None))] == [
        k.REVOCATION_BAD_SIGNATURE
    ]


def test_a_chain_is_judged_once_for_each_node_that_sent_it() -> None:
    chain = r.ChainRevocation((A, B))
    chain.supplied, chain.supplied_label = "http://pki/ca.cer", "Contoso CA"
    chain.certs += [cert(source(r.CRL, r.GOOD)), cert(position=1, label="Contoso CA")]
    unknown = cert(label="orphan")
    unknown.without_issuer = True
    chain.certs.append(unknown)
    found = judge_chain(chain, NOW)
    supplied = {"ca": "Contoso CA", "url": "http://pki/ca.cer"}
    none = {"cert": "Contoso CA", "ca": True, "serial": "0A", "named": []}
    assert [(f.kind, f.state, f.node, f.evidence) for f in found] == [
        (k.INTERMEDIATE_SUPPLIED, Warn, A, supplied),
        (k.NO_REVOCATION_SOURCE, Warn, A, none),
        (k.INTERMEDIATE_SUPPLIED, Warn, B, supplied),
        (k.NO_REVOCATION_SOURCE, Warn, B, none),
    ]
    assert found[0].evidence is not found[2].evidence  # each node's finding its own evidence


def test_every_chain_is_judged() -> None:
    first, second = r.ChainRevocation((A,)), r.ChainRevocation((B,))
    first.certs.append(cert(source(r.CRL, r.REVOKED)))
    second.certs.append(cert())
    found = judge_revocation(r.RevocationFacts([first, second]), NOW)
    assert [(f.kind, f.node) for f in found] == [(k.REVOKED, A), (k.NO_REVOCATION_SOURCE, B)]
    assert judge_revocation(r.RevocationFacts([]), NOW) == []


# -- the words --------------------------------------------------------------------------------


def said(kind: str, evidence: dict[str, object], limit: int = 200) -> str:
    return phrase(Finding(kind, Warn, A, evidence), limit)


@pytest.mark.parametrize(
    ("kind", "evidence", "words"),
    [
        (k.REVOKED, {**BASE, "via": "ocsp", "date": "2026-11-27", "reason": "ca_compromise"},
         "certificate mail.contoso.com revoked on 2026-11-27, reason ca compromise"
         " (OCSP, serial 0A)"),
        (k.REVOKED, {**BASE, "via": "crl", "date": None, "reason": ""},
         "certificate mail.contoso.com revoked (CRL, serial 0A)"),
        (k.REVOKED, {**BASE, "via": "other", "reason": " unspecified "},
         "certificate mail.contoso.com revoked (, serial 0A)"),
        (k.REVOKED, {**BASE, "reason": "_superseded_"},
         "certificate mail.contoso.com revoked, reason superseded (, serial 0A)"),
        (k.CRL_EXPIRING, {**BASE, "url": CRL_URL, "hours": 2.5, "date": "2026-11-30"},
         f"certificate mail.contoso.com: CRL {CRL_URL} nextUpdate in 2.5 hours (2026-11-30):"
         " is the CRL still published?"),
        (k.CRL_LAPSED, {**BASE, "ca": True, "url": CRL_URL, "hours": -0.0, "date": "2026-11-30"},
         f"issuing CA mail.contoso.com: CRL {CRL_URL} is past its nextUpdate (2026-11-30,"
         " 0.0 hours ago): Windows treats revocation as unknown"),
        (k.NO_REVOCATION_SOURCE, {**BASE, "named": ["ldap:///a", "ldap:///b", "ldap:///c",
                                                    "ldap:///d"]},
         "certificate mail.contoso.com has no HTTP CRL distribution point and no OCSP URL"
         " (only ldap:///a, ldap:///b, ldap:///c): clients outside the domain cannot check"
         " revocation"),
        (k.NO_REVOCATION_SOURCE, {**BASE},
         "certificate mail.contoso.com has no HTTP CRL distribution point and no OCSP URL:"
         " clients outside the domain cannot check revocation"),
        (k.REVOCATION_UNAVAILABLE,
         {**BASE, "failures": [("http://a", r.NOT_FETCHED, ""), ("http://b", r.UNUSABLE, ""),
                               ("http://c", r.HTTP_ERROR, "404 Not Found"),
                               ("http://d", "stale", "x"), ("http://e", r.UNKNOWN, "")]},
         "certificate mail.contoso.com: revocation cannot be checked: http://a not fetched,"
         " http://b unusable, http://c 404 Not Found, http://d answered with a response past"
         " its nextUpdate"),
        (k.REVOCATION_UNAVAILABLE, {**BASE},
         "certificate mail.contoso.com: revocation cannot be checked: "),
        (k.REVOCATION_BAD_SIGNATURE, {**BASE, "via": "crl", "url": CRL_URL},
         f"certificate mail.contoso.com: CRL from {CRL_URL} has a bad signature"),
        (k.REVOCATION_BAD_SIGNATURE, {**BASE, "via": "ocsp", "url": OCSP_URL},
         f"certificate mail.contoso.com: OCSP response from {OCSP_URL} has a bad signature"),
        (k.INTERMEDIATE_SUPPLIED, {"ca": "Contoso CA", "url": "http://pki/ca.cer"},
         "chain incomplete: issuing CA Contoso CA is not sent, Windows fetches it from"
         " http://pki/ca.cer, other clients fail"),
    ],
)  # fmt: skip
def test_the_phrase_of_each_revocation_finding(
    kind: str, evidence: dict[str, object], words: str
) -> None:
    assert said(kind, evidence) == words


def test_names_and_urls_are_cut_to_the_limit() -> None:
    name, url = "n" * 61, "u" * 61
    cut_name, cut_url = "n" * 57 + "...", "u" * 57 + "..."
    evidence = {"cert": name, "ca": False, "serial": "0A", "url": url, "hours": 1.0,
                "date": "2026-11-30", "via": "crl", "named": [url],
                "failures": [(url, r.UNUSABLE, "d" * 61)]}  # fmt: skip
    assert said(k.CRL_EXPIRING, evidence, 60) == (
        f"certificate {cut_name}: CRL {cut_url} nextUpdate in 1.0 hours (2026-11-30): is the CRL"
        " still published?"
    )
    assert said(k.CRL_LAPSED, {**evidence, "hours": -1.0}, 60).startswith(
        f"certificate {cut_name}: CRL {cut_url} is past"
    )
    assert said(k.NO_REVOCATION_SOURCE, evidence, 60).startswith(
        f"certificate {cut_name} has no HTTP CRL distribution point and no OCSP URL"
        f" (only {cut_url})"
    )
    assert said(k.REVOCATION_UNAVAILABLE, evidence, 60) == (
        f"certificate {cut_name}: revocation cannot be checked: {cut_url} {'d' * 57}..."
    )
    failing = {**evidence, "failures": [(url, r.HTTP_ERROR, "d" * 61)]}
    assert said(k.REVOCATION_UNAVAILABLE, failing, 60) == (
        f"certificate {cut_name}: revocation cannot be checked: {cut_url} {'d' * 57}..."
    )
    assert said(k.REVOCATION_BAD_SIGNATURE, evidence, 60) == (
        f"certificate {cut_name}: CRL from {cut_url} has a bad signature"
    )
    assert said(k.INTERMEDIATE_SUPPLIED, {"ca": name, "url": url}, 60) == (
        f"chain incomplete: issuing CA {cut_name} is not sent, Windows fetches it from {cut_url},"
        " other clients fail"
    )
    assert said(k.REVOKED, {**evidence, "reason": ""}, 60) == (
        f"certificate {cut_name} revoked on 2026-11-30 (CRL, serial 0A)"
    )


def chain_of(*certs: r.CertRevocation, addresses: tuple[str, ...] = (A,)) -> r.ChainRevocation:
    chain = r.ChainRevocation(addresses)
    chain.certs.extend(certs)
    return chain


def test_the_chain_line_says_what_every_source_answered() -> None:
    stale = source(r.OCSP, r.GOOD, -1.0)
    sources = [
        source(r.CRL, r.GOOD, 10.0), source(r.OCSP, r.GOOD, None), stale,
        source(r.CRL, r.REVOKED), source(r.OCSP, r.UNKNOWN), source(r.CRL, r.NOT_FETCHED),
        source(r.CRL, r.HTTP_ERROR, detail="404 Not Found"), source(r.CRL, r.UNREACHABLE),
        source("ldap", "odd", url="ldap:///x"),
    ]  # fmt: skip
    chain = chain_of(cert(*sources), addresses=(A, B))
    chain.supplied, chain.supplied_label = "http://pki/ca.cer", "Contoso CA"
    orphan = cert(label="Orphan CA")
    orphan.without_issuer = True
    chain.certs += [orphan, cert(label="Bare")]
    assert revocation_text(chain, NOW) == (
        f"the chain of {A}, {B}; Contoso CA fetched from http://pki/ca.cer;"
        f" mail.contoso.com: CRL {CRL_URL} good (next update {iso_date(NOW + 10 * HOUR)}),"
        f" OCSP {OCSP_URL} good,"
        f" OCSP {OCSP_URL} not revoked, but stale: past its next update"
        f" {iso_date(NOW - HOUR)}, CRL {CRL_URL} revoked,"
        f" OCSP {OCSP_URL} the responder does not know the certificate,"
        f" CRL {CRL_URL} not fetched, CRL {CRL_URL} 404 Not Found, CRL {CRL_URL} unreachable,"
        " ldap ldap:///x odd;"
        " Orphan CA: issuer not known, not checked; Bare: no source"
    )


def test_a_chain_line_at_the_edges() -> None:
    assert revocation_text(chain_of(), NOW) == "nothing to check"
    at_now = source(r.OCSP, r.GOOD, 0.0)
    assert revocation_text(chain_of(cert(at_now)), NOW) == (
        f"mail.contoso.com: OCSP {OCSP_URL} good (next update {iso_date(NOW)})"
    )


def test_the_first_line_counts_the_certificates_checked() -> None:
    one = r.RevocationFacts([chain_of(cert())])
    assert revocation_checked(one) == ", not revoked (1 certificate checked)"
    orphan = cert(label="orphan")
    orphan.without_issuer = True
    two = r.RevocationFacts([chain_of(cert(), orphan), chain_of(cert())])
    assert revocation_checked(two) == (
        ", not revoked (2 certificates checked), revocation of 1 not checked (issuer not sent)"
    )
    none = r.RevocationFacts([chain_of(orphan)])
    assert revocation_checked(none) == ", revocation of 1 not checked (issuer not sent)"
    assert revocation_checked(r.RevocationFacts([])) == ""


def test_the_hours_are_hours_to_a_tenth() -> None:
    assert judged(source(r.CRL, r.GOOD, -1000.0)) == [
        (k.CRL_LAPSED, Critical, lapse(-1000.0, -1000.0))
    ]


def test_a_crl_dated_at_the_epoch_is_the_soonest() -> None:
    epoch = source(r.CRL, r.GOOD, url="http://a/epoch.crl")
    epoch.next_update = 0.0
    later = source(r.CRL, r.GOOD, url="http://b/later.crl")
    later.next_update = 0.5
    [(kind, state, evidence)] = judged(later, epoch)
    assert (kind, state, evidence["url"], evidence["date"]) == (
        k.CRL_LAPSED, Critical, "http://a/epoch.crl", iso_date(0.0)
    )  # fmt: skip
