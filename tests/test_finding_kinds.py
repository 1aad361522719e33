"""The findings as data (``judgement.findings``): every kind is its constant's name in lower
case with hyphens (so that no two kinds collide, and a kind reads as what it is wherever it is
compared or shown in a repr), and a finding and a fix show what they hold."""

from __future__ import annotations

from nagiosplugin.state import Critical

from outlook_anywhere.judgement import findings as k
from outlook_anywhere.judgement.findings import Finding, Fix


def test_every_kind_is_its_constants_name() -> None:
    kinds = {
        name: value for name, value in vars(k).items() if name.isupper() and name != "TYPE_CHECKING"
    }
    assert len(kinds) == 74
    assert {name: name.lower().replace("_", "-") for name in kinds} == kinds


def test_a_finding_holds_what_it_was_given() -> None:
    fix = Fix("mail.contoso.com", "msstd:mail.contoso.com", "EXHTTP", "-P", "mail")
    finding = Finding(k.EXPIRED, Critical, "10.0.0.1", {"days": -1.0}, fix)
    assert (finding.kind, finding.state, finding.node, finding.evidence, finding.fix) == (
        "expired",
        Critical,
        "10.0.0.1",
        {"days": -1.0},
        fix,
    )
    assert repr(finding) == "Finding('expired', critical, '10.0.0.1', {'days': -1.0})"
    assert (fix.certificate, fix.publish, fix.provider, fix.correct, fix.value) == (
        "mail.contoso.com",
        "msstd:mail.contoso.com",
        "EXHTTP",
        "-P",
        "mail",
    )
    assert repr(fix) == "Fix('mail.contoso.com', 'msstd:mail.contoso.com', '-P', 'mail')"


def test_a_finding_and_a_fix_by_default() -> None:
    finding = Finding(k.NO_ADDRESS, Critical)
    assert (finding.node, finding.evidence, finding.fix) == (None, {}, None)
    fix = Fix()
    assert (fix.certificate, fix.publish, fix.provider, fix.correct, fix.value) == (
        None,
        None,
        "EXPR",
        None,
        None,
    )
