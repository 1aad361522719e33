"""The principal rules one condition at a time: each example pins one boundary of
``outlook_anywhere.judgement.principal`` (the mutants ``make mutation`` makes there must fail
one of them).

Fast and in-process: no lab, no hypothesis (tests/test_principal.py holds the properties).
"""

from __future__ import annotations

import pytest

from outlook_anywhere.judgement.principal import (
    PREFIX,
    Match,
    display,
    has_control_chars,
    is_ip,
    match,
    normalize,
    problem,
    strip_prefix,
    wildcard_covers,
)

# -- the prefix -------------------------------------------------------------------------------


def test_prefix_and_display() -> None:
    assert PREFIX == "msstd:"
    assert display("mail.contoso.com") == "msstd:mail.contoso.com"
    assert display("") == "msstd:"


@pytest.mark.parametrize(
    ("value", "name"),
    [
        ("msstd:mail.x", "mail.x"),
        ("MsStD:mail.x", "mail.x"),
        (" msstd:mail.x", "mail.x"),
        ("msstd: mail.x", "mail.x"),
        ("msstd:mail.x ", "mail.x"),
        ("msstd:msstd:mail.x", "msstd:mail.x"),  # one prefix is removed, not every one
        ("msstdmail.x", "msstdmail.x"),
        ("msstd", "msstd"),
        ("xmsstd:mail.x", "xmsstd:mail.x"),
        ("mail.x", "mail.x"),
        ("", ""),
    ],
)
def test_strip_prefix_removes_exactly_one_prefix(value: str, name: str) -> None:
    assert strip_prefix(value) == name


# -- control characters -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("char", "control"),
    [
        ("\x00", True), ("\x1f", True), (" ", False), ("~", False), ("\x7f", True),
        ("\x9f", True), ("\xa0", False), ("ä", False), ("\n", True), ("\t", True),
    ],
)  # fmt: skip
def test_control_character_boundaries(char: str, control: bool) -> None:
    assert has_control_chars(f"mail{char}.x") is control
    assert has_control_chars(char) is control
    assert has_control_chars("") is False


# -- the comparable form ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "form"),
    [
        ("Mail.Contoso.COM", "mail.contoso.com"),
        ("mail.contoso.com.", "mail.contoso.com"),
        ("mail.contoso.com..", "mail.contoso.com."),  # one trailing dot only
        ("*.Contoso.com", "*.contoso.com"),
        ("mäil.contoso.com", "xn--mil-qla.contoso.com"),
        ("MÄIL.contoso.com", "xn--mil-qla.contoso.com"),
        ("mäil.contoso.com.", "xn--mil-qla.contoso.com"),
        ("XN--MIL-QLA.contoso.com", "xn--mil-qla.contoso.com"),
        ("", None),
        (".", None),
        (" mail.x", None),
        ("mail.x ", None),
        ("mail\x00.x", None),
        ("mail\x7f.x", None),
        ("ä" * 70 + ".x", None),  # a label IDNA cannot encode (over 63)
        ("ä..x", None),  # an empty label IDNA refuses
    ],
)
def test_normalize(name: str, form: str | None) -> None:
    assert normalize(name) == form


# -- IP addresses -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "ip"),
    [
        ("127.0.0.1", True), ("10.1.2.3", True), ("::1", True), ("2001:db8::1", True),
        ("1.2.3", False), ("256.1.1.1", False), ("mail.x", False), ("", False),
        ("127.0.0.1\x00", False), ("[::1]", False), ("::1%eth0", False),
    ],
)  # fmt: skip
def test_is_ip(name: str, ip: bool) -> None:
    assert is_ip(name) is ip


# -- what makes a principal -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("mail.contoso.com", ""),
        ("MAIL.contoso.com.", ""),
        ("*.contoso.com", ""),
        ("*.mail.contoso.com", ""),
        ("mäil.contoso.com", ""),
        ("xn--mil-qla.contoso.com", ""),
        ("mail_1.contoso.com", ""),
        ("mail-1.contoso.com", ""),
        ("localhost", ""),
        # merely holds an address (only [ and ] are stripped): a name, though a bad one
        ("X127.0.0.1", "is not a host name"),
        ("", "names no host"),
        ("mail\x00.x", "holds control characters"),
        ("mail .x", "holds white space"),
        ("mail\u2003.x", "holds white space"),
        ("https://mail.x", "is a URL, not a host name"),
        ("mail.x/owa", "is a URL, not a host name"),
        ("CN=mail.x", "is a distinguished name, not a host name"),
        ("cn=mail.x", "is a distinguished name, not a host name"),
        ("o=x", "is a distinguished name, not a host name"),
        ("mail.x,owa.x", "names more than one host"),
        ("mail.x;owa.x", "names more than one host"),
        ("mail.x:443", "holds a port or a scheme"),
        ("msstd:mail.x", "holds a port or a scheme"),
        ("127.0.0.1", "is an IP address"),
        ("::1", "is an IP address"),
        ("mail..x", "has an empty label"),
        (".mail.x", "has an empty label"),
        ("mail.x..", "has an empty label"),
        ("m*.contoso.com", "has a wildcard that is not a whole leftmost label"),
        ("*.*.contoso.com", "has a wildcard that is not a whole leftmost label"),
        ("mail.*.com", "has a wildcard that is not a whole leftmost label"),
        ("**.contoso.com", "has a wildcard that is not a whole leftmost label"),
        ("*", "is a bare wildcard"),
        ("*.com", "is a bare wildcard"),
        ("*.0.0.1", "is a wildcard over an IP address"),
        ("*.127.0.0.1", "is a wildcard over an IP address"),
        ("*.contoso.123", "is a wildcard over an IP address"),
        ("*.123", "is a wildcard over an IP address"),
        ("[::1]", "is an IP address"),
        ("mail.x:", "holds a port or a scheme"),
        ("mail!.contoso.com", "is not a host name"),
        ("ä" * 70 + ".x", "is not a host name"),
    ],
)
def test_problem_names_the_first_thing_wrong(name: str, why: str) -> None:
    assert problem(name) == why


# -- one wildcard label -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "name", "covers"),
    [
        ("*.contoso.com", "mail.contoso.com", True),
        ("*.contoso.com", "a.contoso.com", True),
        ("*.contoso.com", "contoso.com", False),
        ("*.contoso.com", ".contoso.com", False),  # an empty label
        ("*.contoso.com", "a.mail.contoso.com", False),
        ("*.contoso.com", "mail.contoso.org", False),
        ("*.contoso.com", "*.contoso.com", False),  # a wildcard is no name it covers
        ("*.contoso.com", "x*.contoso.com", False),
        ("*.com", "contoso.com", False),
        ("*.*.com", "a.b.com", False),
        ("a*.contoso.com", "ab.contoso.com", False),
        ("mail.contoso.com", "mail.contoso.com", False),  # no wildcard at all
        ("a.contoso.com", "x.contoso.com", False),  # no wildcard: no label stands for another
        ("*contoso.com", "xcontoso.com", False),
        ("*.0.0.1", "127.0.0.1", False),  # never an IP address
        ("*.1", "::1", False),
    ],
)
def test_wildcard_covers(pattern: str, name: str, covers: bool) -> None:
    assert wildcard_covers(pattern, name) is covers


# -- the order of the rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("principal", "cns", "sans", "expected"),
    [
        # the first CN beats everything
        ("mail.x.com", ["mail.x.com"], ["*.x.com"], Match.CN),
        # a SAN beats a wildcard
        ("mail.x.com", ["*.x.com"], ["mail.x.com"], Match.SAN),
        # the CN's wildcard is named before a SAN's
        ("mail.x.com", ["*.x.com"], ["*.x.com"], Match.CN_WILDCARD),
        ("mail.x.com", ["owa.x.com"], ["owa.x.com", "*.x.com"], Match.SAN_WILDCARD),
        # a SAN that never matches is skipped, the others still count
        ("mail.x.com", ["owa.x.com"], ["bad\x00.x.com", "MAIL.x.com."], Match.SAN),
        ("mail.x.com", ["owa.x.com"], ["", "*.x.com"], Match.SAN_WILDCARD),
        # a CN that never matches is no wildcard either
        ("mail.x.com", ["*.x.com\x00"], [], Match.NONE),
        ("mail.x.com", [""], ["mail.x.com"], Match.SAN),
        # only the first CN
        ("mail.x.com", ["owa.x.com", "*.x.com"], [], Match.NONE),
        # a principal that never matches
        ("", ["mail.x.com"], ["mail.x.com"], Match.NONE),
        ("mail\x00.x.com", ["mail\x00.x.com"], [], Match.NONE),
        # a wildcard never stands for an IP address
        ("127.0.0.1", ["*.0.0.1"], ["*.0.0.1"], Match.NONE),
        ("127.0.0.1", ["127.0.0.1"], [], Match.CN),
        ("mail.x.com", [], [], Match.NONE),
    ],
)
def test_match_order(principal: str, cns: list[str], sans: list[str], expected: str) -> None:
    assert match(principal, cns, sans) == expected


def test_match_values_are_distinct_words() -> None:
    values = [Match.CN, Match.SAN, Match.CN_WILDCARD, Match.SAN_WILDCARD, Match.NONE]
    assert values == ["CN", "SAN", "CN wildcard", "SAN wildcard", "none"]
