"""The front-door rows (``--auth-certificate``, ``--health``, ``--build``), in-process:
``judgement.frontdoors`` on facts built here, every finding as exact data (kind, state, node,
evidence), and the words of ``check.words.frontdoors`` for each, exact, on the first line, in
the node's long-output line and in the first line when all is well.  tests/test_frontdoors.py
holds the same rows end to end against the lab; these hold each rule and sentence exactly."""

from __future__ import annotations

import pytest
from nagiosplugin.state import Critical, Ok, Warn

from outlook_anywhere.check.options import threshold
from outlook_anywhere.check.words import phrase
from outlook_anywhere.check.words.frontdoors import (
    frontdoor_text,
    frontdoors_all_well,
    product_line,
)
from outlook_anywhere.facts.certificate import iso_date
from outlook_anywhere.facts.frontdoors import AuthFacts, AuthKey, FrontDoorFacts, Health
from outlook_anywhere.judgement import findings as k
from outlook_anywhere.judgement.findings import Finding
from outlook_anywhere.judgement.frontdoors import judge_frontdoors, padded
from outlook_anywhere.judgement.policy import FrontDoorPolicy
from tests.test_words import DAY, NOW, cert, node, policy, words

A, B, C = "10.0.0.1", "10.0.0.2", "10.0.0.3"


def doors_policy(
    warning: str = "30", critical: str = "14", min_build: str | None = None,
    min_build_critical: str | None = None,
) -> FrontDoorPolicy:  # fmt: skip
    return FrontDoorPolicy(threshold(warning), threshold(critical), min_build, min_build_critical)


def key(
    days: float, thumbprint: str = "T1", subject: str = "Microsoft Exchange Server Auth"
) -> AuthKey:
    return AuthKey(thumbprint, NOW - 100 * DAY, NOW + days * DAY, subject)


def door(address: str = A, *keys: AuthKey, failure: str = "", status: str = "",
         detail: str = "") -> FrontDoorFacts:  # fmt: skip
    facts = FrontDoorFacts(address)
    facts.auth = AuthFacts("mail.contoso.com")
    facts.auth.keys.extend(keys)
    facts.auth.failure, facts.auth.status, facts.auth.detail = failure, status, detail
    return facts


def healthy(address: str, *pages: Health, server: str = "") -> FrontDoorFacts:
    facts = FrontDoorFacts(address)
    facts.health, facts.server = list(pages), server
    return facts


def built(
    address: str, build: str | None, status: str = "200 OK", error: str = ""
) -> FrontDoorFacts:
    facts = FrontDoorFacts(address)
    facts.build, facts.build_status, facts.build_error = build, status, error
    return facts


def data(found: list[Finding]) -> list[tuple[object, ...]]:
    return [(f.kind, f.state, f.node, f.evidence) for f in found]


def judged(*doors: FrontDoorFacts, pol: FrontDoorPolicy | None = None) -> list[tuple[object, ...]]:
    return data(judge_frontdoors(list(doors), pol or doors_policy(), NOW))


def dated(days: float, thumbprint: str = "T1") -> dict[str, object]:
    return {"days": days, "date": iso_date(NOW + days * DAY), "thumbprint": thumbprint}


# -- the Auth certificate ---------------------------------------------------------------------


def test_an_auth_certificate_far_from_expiry_is_no_finding() -> None:
    assert judged(door(A, key(31))) == []
    assert judged(door(A, key(30))) == []  # 30 days is not "fewer than 30"


@pytest.mark.parametrize(
    ("days", "state"),
    [(29.9, Warn), (14.0, Warn), (13.9, Critical), (0.0, Critical)],
)
def test_an_auth_certificate_inside_a_plain_threshold(days: float, state: object) -> None:
    assert judged(door(A, key(days))) == [(k.AUTH_EXPIRES_SOON, state, A, dated(days))]


def test_the_days_are_rounded_to_a_tenth_before_they_are_judged() -> None:
    assert judged(door(A, key(29.96))) == []  # 30.0 days left: not under 30
    assert judged(door(A, key(29.94))) == [(k.AUTH_EXPIRES_SOON, Warn, A, dated(29.9))]


def test_a_range_threshold_is_named_with_its_level() -> None:
    pol = doors_policy(warning="@0:60", critical="@0:10")
    assert judged(door(A, key(40)), pol=pol) == [
        (k.AUTH_EXPIRES_SOON, Warn, A, {**dated(40.0), "level": "warning", "range": "@0:60"})
    ]
    assert judged(door(A, key(5)), pol=pol) == [
        (k.AUTH_EXPIRES_SOON, Critical, A, {**dated(5.0), "level": "critical", "range": "@0:10"})
    ]


def test_an_expired_auth_certificate_is_critical() -> None:
    assert judged(door(A, key(-2))) == [(k.AUTH_EXPIRED, Critical, A, dated(-2.0))]
    just = AuthKey("T1", NOW - DAY, NOW - 1, "Auth")
    assert judged(door(A, just)) == [
        (k.AUTH_EXPIRED, Critical, A, {"days": -0.0, "date": iso_date(NOW - 1), "thumbprint": "T1"})
    ]
    at_now = AuthKey("T1", NOW - DAY, NOW, "Auth")  # expires this second: not yet expired
    assert judged(door(A, at_now)) == [
        (k.AUTH_EXPIRES_SOON, Critical, A,
         {"days": 0.0, "date": iso_date(NOW), "thumbprint": "T1"})
    ]  # fmt: skip


def test_the_key_that_expires_last_is_judged() -> None:
    assert judged(door(A, key(5, "OLD"), key(300, "NEW"))) == []
    assert judged(door(A, key(300, "NEW"), key(5, "OLD"))) == []


def test_a_node_without_a_signing_key_is_a_warning_while_another_has_one() -> None:
    assert judged(door(A, key(300)), door(B, failure="status", status="500 Error")) == [
        (k.AUTH_UNAVAILABLE, Warn, B,
         {"failure": "status", "status": "500 Error", "detail": "", "everywhere": False})
    ]  # fmt: skip


def test_no_node_with_a_signing_key_is_critical_on_each() -> None:
    assert judged(door(A), door(B, failure="http", detail="timeout")) == [
        (k.AUTH_UNAVAILABLE, Critical, A,
         {"failure": "no-signing-key", "status": "", "detail": "", "everywhere": True}),
        (k.AUTH_UNAVAILABLE, Critical, B,
         {"failure": "http", "status": "", "detail": "timeout", "everywhere": True}),
    ]  # fmt: skip


def test_a_node_not_asked_is_not_judged() -> None:
    assert judged(FrontDoorFacts(A), door(B, key(300))) == []
    assert judged(FrontDoorFacts(A), door(B)) == [
        (k.AUTH_UNAVAILABLE, Critical, B,
         {"failure": "no-signing-key", "status": "", "detail": "", "everywhere": True})
    ]  # fmt: skip


def differs(
    thumbprint: str, days: float, their: str, their_days: float, others: int
) -> dict[str, object]:
    return {
        "thumbprint": thumbprint,
        "date": iso_date(NOW + days * DAY),
        "their_thumbprint": their,
        "their_date": iso_date(NOW + their_days * DAY),
        "others": others,
    }


def test_a_node_publishing_another_certificate_than_the_majority_is_named() -> None:
    found = judged(door(A, key(300, "T2")), door(B, key(200, "T1")), door(C, key(250, "T1")))
    assert found == [(k.AUTH_DIFFERENT, Warn, A, differs("T2", 300, "T1", 200, 2))]


def test_on_a_tie_the_first_nodes_certificate_is_the_reference() -> None:
    assert judged(door(A, key(300, "T2")), door(B, key(200, "T1"))) == [
        (k.AUTH_DIFFERENT, Warn, B, differs("T1", 200, "T2", 300, 1))
    ]
    assert judged(door(A, key(200, "T1")), door(B, key(300, "T2"))) == [
        (k.AUTH_DIFFERENT, Warn, B, differs("T2", 300, "T1", 200, 1))
    ]


def test_every_node_of_every_minority_is_named() -> None:
    found = judged(
        door(A, key(100, "T1")), door(B, key(100, "T1")), door(C, key(200, "T2")),
        door("10.0.0.4", key(300, "T3")), door("10.0.0.5", key(200, "T2")),
    )  # fmt: skip
    assert found == [
        (k.AUTH_DIFFERENT, Warn, C, differs("T2", 200, "T1", 100, 2)),
        (k.AUTH_DIFFERENT, Warn, "10.0.0.5", differs("T2", 200, "T1", 100, 2)),
        (k.AUTH_DIFFERENT, Warn, "10.0.0.4", differs("T3", 300, "T1", 100, 2)),
    ]


def test_the_same_certificate_everywhere_is_no_finding() -> None:
    assert judged(door(A, key(100)), door(B, key(100)), door(C)) == [
        (k.AUTH_UNAVAILABLE, Warn, C,
         {"failure": "no-signing-key", "status": "", "detail": "", "everywhere": False})
    ]  # fmt: skip


# -- health -----------------------------------------------------------------------------------

DOWN = Health("owa", 503, "503 Service Unavailable")
UP = Health("owa", 200, "200 OK")


def test_a_page_down_on_one_node_is_critical_for_that_node() -> None:
    assert judged(healthy(A, UP, Health("ews", 200)), healthy(B, DOWN, Health("ews", 200))) == [
        (k.HEALTH_DOWN, Critical, B, {"vdir": "owa", "status": "503 Service Unavailable"})
    ]


def test_a_page_not_read_says_why() -> None:
    assert judged(healthy(A, Health("ecp", None, "", "timeout"))) == [
        (k.HEALTH_DOWN, Critical, A, {"vdir": "ecp", "status": "timeout"})
    ]


def test_a_page_down_on_every_node_is_said_once() -> None:
    other = Health("owa", None, "", "timeout")
    found = judged(healthy(A, DOWN), healthy(B, other), healthy(C, DOWN))
    assert found == [
        (k.HEALTH_DOWN_EVERYWHERE, Critical, None,
         {"vdir": "owa", "down_on": [A, B, C],
          "statuses": ["503 Service Unavailable", "timeout"]})
    ]  # fmt: skip


def test_one_node_asked_is_never_every_node() -> None:
    assert judged(healthy(A, DOWN), FrontDoorFacts(B)) == [
        (k.HEALTH_DOWN, Critical, A, {"vdir": "owa", "status": "503 Service Unavailable"})
    ]


def test_pages_up_are_no_finding() -> None:
    assert judged(healthy(A, UP), healthy(B, UP), healthy(C)) == []


# -- builds -----------------------------------------------------------------------------------


def test_a_node_behind_the_newest_build_is_a_warning() -> None:
    found = judged(built(A, "15.2.1544.4"), built(B, "15.2.1258.12"), built(C, "15.2.1544.4"))
    assert found == [
        (k.BUILD_BEHIND, Warn, B, {"build": "15.2.1258.12", "newest": "15.2.1544.4", "ahead": 2})
    ]


def test_builds_compare_as_numbers_of_four_parts() -> None:
    assert padded((15, 2)) == (15, 2, 0, 0)
    assert padded((15, 2, 1544, 4)) == (15, 2, 1544, 4)
    assert judged(built(A, "15.2.1544"), built(B, "15.2.1544.0")) == []
    assert judged(built(A, "15.2.999.1"), built(B, "15.2.1000")) == [
        (k.BUILD_BEHIND, Warn, A, {"build": "15.2.999.1", "newest": "15.2.1000.0", "ahead": 1})
    ]


@pytest.mark.parametrize(
    ("facts", "evidence"),
    [
        (built(A, ""), {"sent": "", "status": "200 OK", "error": ""}),
        (built(A, None, "", "timeout"), {"sent": "", "status": "", "error": "timeout"}),
        (built(A, "garbage"), {"sent": "garbage", "status": "200 OK", "error": ""}),
    ],
    ids=["absent", "no-answer", "garbage"],
)
def test_a_build_that_cannot_be_read_is_a_warning(
    facts: FrontDoorFacts, evidence: dict[str, object]
) -> None:
    assert judged(facts, built(B, "15.2.1544.4")) == [(k.BUILD_UNKNOWN, Warn, A, evidence)]


def test_a_node_not_asked_for_its_build_is_not_judged() -> None:
    assert judged(FrontDoorFacts(A), built(B, "15.2.1544.4")) == []


def test_a_build_below_the_floors() -> None:
    pol = doors_policy(min_build="15.2.1544.4", min_build_critical="15.2.1258")
    assert judged(built(A, "15.2.1544.4"), pol=pol) == []
    assert judged(built(A, "15.2.1544.3"), pol=pol) == [
        (k.BUILD_BELOW, Warn, A,
         {"build": "15.2.1544.3", "floor": "15.2.1544.4", "option": "--min-build"})
    ]  # fmt: skip
    assert judged(built(A, "15.2.1258"), pol=pol) == [
        (k.BUILD_BELOW, Warn, A,
         {"build": "15.2.1258.0", "floor": "15.2.1544.4", "option": "--min-build"})
    ]  # fmt: skip
    assert judged(built(A, "15.2.1257.99"), pol=pol) == [
        (k.BUILD_BELOW, Critical, A,
         {"build": "15.2.1257.99", "floor": "15.2.1258", "option": "--min-build-critical"})
    ]  # fmt: skip


def test_a_build_below_a_floor_and_behind_another_node() -> None:
    pol = doors_policy(min_build="15.2.1544.4")
    assert judged(built(A, "15.2.1544.4"), built(B, "15.2.1258.12"), pol=pol) == [
        (k.BUILD_BELOW, Warn, B,
         {"build": "15.2.1258.12", "floor": "15.2.1544.4", "option": "--min-build"}),
        (k.BUILD_BEHIND, Warn, B, {"build": "15.2.1258.12", "newest": "15.2.1544.4", "ahead": 1}),
    ]  # fmt: skip


def test_a_floor_that_is_no_build_is_no_floor() -> None:
    assert (
        judged(built(A, "15.2.1.1"), pol=doors_policy(min_build="", min_build_critical="x")) == []
    )


def test_the_rows_come_auth_then_health_then_builds() -> None:
    facts = door(A, key(5))
    facts.health = [DOWN]
    facts.build = "15.2.1"
    assert [kind for kind, *_ in judged(facts, built(B, "15.2.2"))] == [
        k.AUTH_EXPIRES_SOON, k.HEALTH_DOWN, k.BUILD_BEHIND,
    ]  # fmt: skip


# -- the words --------------------------------------------------------------------------------


def said(kind: str, evidence: dict[str, object], limit: int = 200) -> str:
    return phrase(Finding(kind, Warn, A, evidence), limit)


THEIRS = {"thumbprint": "T2", "date": "2027-01-01", "their_thumbprint": "T1",
          "their_date": "2028-01-01"}  # fmt: skip


@pytest.mark.parametrize(
    ("kind", "evidence", "words"),
    [
        (k.AUTH_EXPIRES_SOON, {"days": 20.0, "date": "2027-01-01", "thumbprint": "AB"},
         "Exchange Auth certificate expires in 20.0 days (2027-01-01)"),
        (k.AUTH_EXPIRES_SOON,
         {"days": 20.0, "date": "2027-01-01", "level": "warning", "range": "@0:60"},
         "Exchange Auth certificate: 20.0 days left, inside the warning range @0:60"
         " (expires 2027-01-01)"),
        (k.AUTH_EXPIRES_SOON, {"days": 20.0, "date": "2027-01-01", "level": "critical",
                               "range": "10:"},
         "Exchange Auth certificate: 20.0 days left, outside the critical range 10:"
         " (expires 2027-01-01)"),
        (k.AUTH_EXPIRED, {"days": -3.0, "date": "2027-01-01"},
         "Exchange Auth certificate expired 3.0 days ago (2027-01-01)"),
        (k.AUTH_EXPIRED, {"days": -0.1, "date": "2027-01-01"},
         "Exchange Auth certificate expired 0.1 days ago (2027-01-01)"),
        (k.AUTH_EXPIRED, {"days": -0.0, "date": "2027-01-01"},
         "Exchange Auth certificate expired less than 0.1 days ago (2027-01-01)"),
        (k.AUTH_DIFFERENT, {**THEIRS, "others": 1},
         "publishes another Exchange Auth certificate than the 1 other node (expires 2027-01-01,"
         " theirs 2028-01-01) (thumbprint T2, theirs T1)"),
        (k.AUTH_DIFFERENT, {**THEIRS, "others": 2},
         "publishes another Exchange Auth certificate than the 2 other nodes (expires"
         " 2027-01-01, theirs 2028-01-01) (thumbprint T2, theirs T1)"),
        (k.HEALTH_DOWN, {"vdir": "owa", "status": "503 Service Unavailable"},
         "owa is down: /owa/healthcheck.htm answered 503 Service Unavailable"),
        (k.HEALTH_DOWN, {"vdir": "owa", "status": "timeout"},
         "owa is down: /owa/healthcheck.htm not read: timeout"),
        (k.HEALTH_DOWN, {"vdir": "owa", "status": ""},
         "owa is down: /owa/healthcheck.htm not read: no answer"),
        (k.HEALTH_DOWN, {"vdir": "owa"}, "owa is down: /owa/healthcheck.htm not read: no answer"),
        (k.HEALTH_DOWN, {"vdir": "owa", "status": "50x"},
         "owa is down: /owa/healthcheck.htm not read: 50x"),
        (k.HEALTH_DOWN_EVERYWHERE,
         {"vdir": "ews", "down_on": ["a", "b", "c", "d"],
          "statuses": ["503 Service Unavailable", "timeout", "500 x", "404 y"]},
         "ews is down on every node (4): /ews/healthcheck.htm answered 503 Service Unavailable,"
         " not read: timeout, answered 500 x"),
        (k.BUILD_BEHIND, {"build": "15.2.1258.12", "newest": "15.2.1544.4", "ahead": 1},
         "build 15.2.1258.12 (Exchange 2019) is behind 15.2.1544.4 of 1 other node: an update"
         " missed?"),
        (k.BUILD_BEHIND, {"build": "15.1.2507.6", "newest": "15.2.1544.4", "ahead": 2},
         "build 15.1.2507.6 (Exchange 2016) is behind 15.2.1544.4 of 2 other nodes: an update"
         " missed?"),
        (k.BUILD_BELOW, {"build": "15.2.1258.12", "floor": "15.2.1544.4", "option": "--min-build"},
         "build 15.2.1258.12 (Exchange 2019) is below --min-build 15.2.1544.4"),
        (k.BUILD_UNKNOWN, {"sent": "", "status": "200 OK", "error": ""},
         "build not read: GET /owa/ answered 200 OK without X-OWA-Version"),
        (k.BUILD_UNKNOWN, {"sent": "", "error": ""},
         "build not read: GET /owa/ answered  without X-OWA-Version"),
        (k.BUILD_UNKNOWN, {"sent": "", "status": "", "error": "timeout"},
         "build not read: GET /owa/ not read: timeout"),
        (k.BUILD_UNKNOWN, {"sent": "garbage", "status": "200 OK", "error": ""},
         "X-OWA-Version 'garbage' is not a build number"),
        (k.BUILD_UNKNOWN, {"sent": "g" * 41, "status": "200 OK", "error": ""},
         f"X-OWA-Version '{'g' * 37}...' is not a build number"),
        (k.BUILD_UNKNOWN, {"sent": "g" * 40, "status": "200 OK", "error": ""},
         f"X-OWA-Version '{'g' * 40}' is not a build number"),
    ],
)  # fmt: skip
def test_the_phrase_of_each_front_door_finding(
    kind: str, evidence: dict[str, object], words: str
) -> None:
    assert said(kind, evidence) == words


def test_another_certificate_without_thumbprints_on_the_first_line() -> None:
    assert said(k.AUTH_DIFFERENT, {**THEIRS, "others": 1}, 80) == (
        "publishes another Exchange Auth certificate than the 1 other node (expires 2027-01-01,"
        " theirs 2028-01-01)"
    )
    assert said(k.AUTH_DIFFERENT, {**THEIRS, "others": 1}, 199).endswith("theirs 2028-01-01)")


@pytest.mark.parametrize(
    ("failure", "words"),
    [
        ("status", "answered 500 Internal Server Error"),
        ("not-json", "is not JSON (a detail)"),
        ("too-deep", "is nested more than a detail levels deep: not read"),
        ("bad-certificate", "publishes a signing key whose certificate does not parse (a detail)"),
        ("unauthorized",
         "answered 401: anonymous access refused (partner applications cannot read it)"),
        ("login-page", "answered a login page (HTML) instead of the JSON document"),
        ("not-metadata", "is JSON without a keys[] list"),
        ("no-signing-key", "publishes no x509Certificate signing key"),
        ("bad-base64", "publishes a signing key whose certificate is not valid base64"),
        ("http", "not read: a detail"),
    ],
)  # fmt: skip
def test_the_auth_metadata_says_what_failed(failure: str, words: str) -> None:
    evidence = {"failure": failure, "status": "500 Internal Server Error", "detail": "a detail",
                "everywhere": False}  # fmt: skip
    assert said(k.AUTH_UNAVAILABLE, evidence) == f"Auth metadata {words}"
    everywhere = {**evidence, "everywhere": True}
    assert said(k.AUTH_UNAVAILABLE, everywhere) == (
        f"Auth metadata {words}, no node publishes the Exchange Auth certificate"
    )


def test_the_auth_metadata_without_detail_or_status() -> None:
    assert said(k.AUTH_UNAVAILABLE, {"failure": "http"}) == "Auth metadata not read: no answer"
    assert said(k.AUTH_UNAVAILABLE, {"failure": "status"}) == "Auth metadata answered "
    long = {"failure": "not-json", "detail": "d" * 61}
    assert said(k.AUTH_UNAVAILABLE, long, 60) == f"Auth metadata is not JSON ({'d' * 57}...)"
    status = {"failure": "status", "status": "s" * 61}
    assert said(k.AUTH_UNAVAILABLE, status, 60) == f"Auth metadata answered {'s' * 57}..."


def test_health_words_are_bounded() -> None:
    assert said(k.HEALTH_DOWN, {"vdir": "v" * 61, "status": "5" * 61}, 60) == (
        f"{'v' * 57}... is down: /{'v' * 57}.../healthcheck.htm answered {'5' * 57}..."
    )
    assert said(k.HEALTH_DOWN, {"vdir": "owa", "status": "t" * 61}, 60) == (
        f"owa is down: /owa/healthcheck.htm not read: {'t' * 57}..."
    )
    everywhere = {"vdir": "v" * 61, "down_on": [A, B], "statuses": ["5" * 61]}
    assert said(k.HEALTH_DOWN_EVERYWHERE, everywhere, 60) == (
        f"{'v' * 57}... is down on every node (2): /{'v' * 57}.../healthcheck.htm answered"
        f" {'5' * 57}..."
    )


def test_build_words_are_bounded() -> None:
    below = {"build": "15.2.1.1", "floor": "9" * 61, "option": "--min-build"}
    assert said(k.BUILD_BELOW, below, 60) == (
        f"build 15.2.1.1 (Exchange 2019) is below --min-build {'9' * 57}..."
    )
    unknown = {"sent": "", "status": "s" * 61, "error": ""}
    assert said(k.BUILD_UNKNOWN, unknown, 60) == (
        f"build not read: GET /owa/ answered {'s' * 57}... without X-OWA-Version"
    )
    error = {"sent": "", "status": "", "error": "e" * 61}
    assert said(k.BUILD_UNKNOWN, error, 60) == f"build not read: GET /owa/ not read: {'e' * 57}..."


@pytest.mark.parametrize(
    ("build", "line"),
    [
        ("15.0.1497.2", "Exchange 2013"),
        ("15.1.2507.6", "Exchange 2016"),
        ("15.2.1544.4", "Exchange 2019"),
        ("15.2", "Exchange 2019"),
        ("15.2.2561", "Exchange 2019"),
        ("15.2.2562", "Exchange Server Subscription Edition"),
        ("15.2.2562.17", "Exchange Server Subscription Edition"),
        ("15.1.2562.17", "Exchange 2016"),
        ("15.3.1.1", "unknown product line"),
        ("14.3.1.1", "unknown product line"),
        ("16.2.2562.1", "unknown product line"),
        ("x", "unknown product line"),
    ],
)
def test_the_product_line_of_a_build(build: str, line: str) -> None:
    assert product_line(build) == line


# -- the node's long-output line and the all-well first line ------------------------------------


def test_the_node_line_says_every_front_door() -> None:
    facts = door(A, key(5.04, "AB12", "Exchange Auth"))
    facts.health = [UP, Health("ews", 503, "503 Service Unavailable"), Health("ecp", 200)]
    facts.server, facts.build = "EX01", "15.2.1544.4"
    date = iso_date(NOW + 5.04 * DAY)
    assert frontdoor_text(facts, NOW) == (
        f"Auth certificate Exchange Auth, 5.0 days left ({date}), thumbprint AB12;"
        " healthcheck.htm 200 for 2/3 (owa, ecp), server EX01; build 15.2.1544.4 (Exchange 2019)"
    )


def test_the_node_line_says_only_what_was_asked_and_read() -> None:
    assert frontdoor_text(FrontDoorFacts(A), NOW) == ""
    assert frontdoor_text(door(A), NOW) == ""
    down = healthy(A, Health("owa", 503))
    assert frontdoor_text(down, NOW) == "healthcheck.htm 200 for 0/1"
    assert frontdoor_text(built(A, ""), NOW) == ""
    assert frontdoor_text(built(A, "b" * 41), NOW) == f"build {'b' * 37}... (unknown product line)"


def test_the_node_line_counts_the_signing_keys() -> None:
    facts = door(A, key(300, "NEW", "Next"), key(5, "OLD", "Old"))
    assert frontdoor_text(facts, NOW) == (
        f"Auth certificate Next, 300.0 days left ({iso_date(NOW + 300 * DAY)}), thumbprint NEW"
        " (2 signing keys published: a next certificate? the one that expires last is judged)"
    )


def test_the_all_well_line_says_the_first_expiry_the_pages_and_the_one_build() -> None:
    a, b = door(A, key(300, "T1")), door(B, key(250.06, "T1"), key(10, "T0"))
    a.health, b.health = [UP, Health("ews", 200)], [UP, Health("ews", 200)]
    a.build = b.build = "15.2.2562.17"
    assert frontdoors_all_well([a, b], NOW) == (
        f", Auth certificate 250.1 days left (expires {iso_date(NOW + 250.06 * DAY)}),"
        " 4/4 healthcheck.htm OK, build 15.2.2562.17 (Exchange Server Subscription Edition)"
    )


def test_the_all_well_line_leaves_out_what_was_not_asked_or_differs() -> None:
    assert frontdoors_all_well([], NOW) == ""
    assert frontdoors_all_well([door(A), FrontDoorFacts(B)], NOW) == ""
    assert frontdoors_all_well([built(A, "15.2.1.1"), built(B, "15.2.1.2")], NOW) == ""
    assert frontdoors_all_well([built(A, "15.2.1.1"), built(B, "")], NOW) == (
        ", build 15.2.1.1 (Exchange 2019)"
    )
    assert frontdoors_all_well([healthy(A, Health("owa", 503), UP)], NOW) == (
        ", 1/2 healthcheck.htm OK"
    )
    assert frontdoors_all_well([built(A, "b" * 41)], NOW) == (
        f", build {'b' * 37}... (unknown product line)"
    )


# -- through the verdict and the whole output -----------------------------------------------------


def test_a_protocol_down_everywhere_is_one_line_of_its_own_and_named_on_each_node() -> None:
    leaf = cert()
    pol = policy(frontdoors=doors_policy())
    doors = [healthy(A, DOWN), healthy(B, DOWN)]
    state, line, long = words([node(A, leaf), node(B, leaf)], pol, frontdoors=doors)
    assert state == Critical
    down = "owa is down on every node (2): /owa/healthcheck.htm answered 503 Service Unavailable"
    assert line.startswith(f"OUTLOOK_ANYWHERE CRITICAL - {down}")
    assert long[0] == f"Health CRITICAL: {down}"
    assert long[1].startswith(f"{A} CRITICAL: {down}")
    assert long[1].endswith(" -- " + long[1].split(" -- ", 1)[1])
    assert "healthcheck.htm 200 for 0/1" in long[1]
    assert long[2].startswith(f"{B} CRITICAL: {down}")


def test_all_well_with_the_front_doors() -> None:
    leaf = cert()
    pol = policy(frontdoors=doors_policy())
    doors = [healthy(A, UP), healthy(B, UP)]
    state, line, _ = words([node(A, leaf), node(B, leaf)], pol, frontdoors=doors)
    assert state == Ok
    assert line.endswith(", 2/2 healthcheck.htm OK")


def test_without_a_front_door_policy_the_doors_are_not_judged() -> None:
    leaf = cert()
    state, _, _ = words([node(A, leaf)], policy(), frontdoors=[healthy(A, DOWN)])
    assert state == Ok


def test_every_node_is_judged_after_an_expired_one() -> None:
    assert judged(door(A, key(-2)), door(B, key(5)), door(C, key(-1))) == [
        (k.AUTH_EXPIRED, Critical, A, dated(-2.0)),
        (k.AUTH_EXPIRES_SOON, Critical, B, dated(5.0)),
        (k.AUTH_EXPIRED, Critical, C, dated(-1.0)),
    ]


def test_every_protocol_is_judged_after_one_down_everywhere() -> None:
    ews = Health("ews", 500, "500 Internal Server Error")
    found = judged(healthy(A, DOWN, ews), healthy(B, DOWN, Health("ews", 200)))
    assert found == [
        (k.HEALTH_DOWN_EVERYWHERE, Critical, None,
         {"vdir": "owa", "down_on": [A, B], "statuses": ["503 Service Unavailable"]}),
        (k.HEALTH_DOWN, Critical, A, {"vdir": "ews", "status": "500 Internal Server Error"}),
    ]  # fmt: skip
