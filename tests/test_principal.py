"""The principal-matching rules (docs/design.md, "Principal names"), by example and by property."""

from __future__ import annotations

import string

import pytest
from hypothesis import given
from hypothesis import strategies as st

from outlook_anywhere.judgement.principal import (
    Match,
    is_ip,
    match,
    normalize,
    problem,
    strip_prefix,
)

label = st.text(alphabet=string.ascii_lowercase + string.digits, min_size=1, max_size=12)
hostname = st.lists(label, min_size=2, max_size=5).map(".".join)


@pytest.mark.parametrize(
    ("principal", "cns", "sans", "expected"),
    [
        ("mail.contoso.com", ["mail.contoso.com"], [], Match.CN),
        ("MAIL.Contoso.COM", ["mail.contoso.com"], [], Match.CN),
        ("mail.contoso.com.", ["mail.contoso.com"], [], Match.CN),
        ("mail.contoso.com", ["mail.contoso.com."], [], Match.CN),
        ("mail.contoso.com", ["owa.contoso.com"], ["mail.contoso.com"], Match.SAN),
        ("*.contoso.com", ["*.contoso.com"], [], Match.CN),
        ("mail.contoso.com", ["*.contoso.com"], [], Match.CN_WILDCARD),
        ("mail.contoso.com", ["owa.contoso.com"], ["*.contoso.com"], Match.SAN_WILDCARD),
        ("a.mail.contoso.com", ["*.contoso.com"], [], Match.NONE),
        ("contoso.com", ["*.contoso.com"], [], Match.NONE),
        ("mail.contoso.com", ["*.com"], [], Match.NONE),
        ("mail.contoso.com", ["m*.contoso.com"], [], Match.NONE),
        ("*.contoso.com", ["mail.contoso.com"], [], Match.NONE),
        ("mail.contoso.com", ["owa.contoso.com", "mail.contoso.com"], [], Match.NONE),
        ("mail.contoso.com", ["mail.contoso.com\x00.evil.com"], [], Match.NONE),
        ("mail.contoso.com", ["mail.contoso.com\x00"], [], Match.NONE),
        ("mail.contoso.com", ["mail.contoso.com\n"], [], Match.NONE),
        ("mail.contoso.com", [" mail.contoso.com"], [], Match.NONE),
        ("mail.contoso.com", [], [], Match.NONE),
        ("xn--mil-qla.contoso.com", ["mäil.contoso.com"], [], Match.CN),
        ("mäil.contoso.com", ["XN--MIL-QLA.contoso.com"], [], Match.CN),
        ("mail.contoso.com", ["mäil.contoso.com"], [], Match.NONE),
    ],
)
def test_match_examples(principal: str, cns: list[str], sans: list[str], expected: str) -> None:
    assert match(principal, cns, sans) == expected


@pytest.mark.parametrize(
    ("given_value", "name"),
    [("msstd:mail.contoso.com", "mail.contoso.com"), ("MSSTD:mail.x", "mail.x"),
     ("mail.x", "mail.x"), ("  msstd: mail.x ", "mail.x"), ("msstd:", "")],
)  # fmt: skip
def test_strip_prefix(given_value: str, name: str) -> None:
    assert strip_prefix(given_value) == name


@given(hostname, st.sampled_from([str.upper, str.lower, str.title, str.swapcase]), st.booleans())
def test_case_and_trailing_dot_never_matter(name: str, case: object, dot: bool) -> None:
    cn = case(name) + ("." if dot else "")  # type: ignore[operator]
    assert match(name, [cn], []) == Match.CN


@given(hostname, st.text(min_size=1, max_size=3).filter(lambda s: any(ord(c) < 32 for c in s)),
       st.integers(min_value=0, max_value=40))  # fmt: skip
def test_control_characters_never_match(name: str, junk: str, at: int) -> None:
    at = min(at, len(name))
    tricky = name[:at] + junk + name[at:]
    assert match(name, [tricky], [tricky]) == Match.NONE
    assert normalize(tricky) is None


@given(label, hostname)
def test_wildcard_expands_exactly_one_label(first: str, domain: str) -> None:
    expanded = Match.NONE if is_ip(f"{first}.{domain}") else Match.CN_WILDCARD  # never an address
    assert match(f"{first}.{domain}", [f"*.{domain}"], []) == expanded
    assert match(f"x.{first}.{domain}", [f"*.{domain}"], []) == Match.NONE
    assert match(f"*.{domain}", [f"*.{domain}"], []) == Match.CN


@given(hostname, hostname)
def test_only_the_first_cn_counts(first: str, second: str) -> None:
    expected = Match.CN if first.lower() == second.lower() else Match.NONE
    assert match(second, [first, second], []) == expected


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("mail.contoso.com", ""),
        ("*.contoso.com", ""),
        ("mail.contoso.com.", ""),
        ("MAIL.Contoso.COM", ""),
        ("xn--mil-qla.contoso.com", ""),
        ("mäil.contoso.com", ""),
        ("", "names no host"),
        ("mail\x00.evil.com", "holds control characters"),
        ("mail.contoso.com\n", "holds control characters"),
        ("mail contoso.com", "holds white space"),
        ("https://mail.contoso.com", "is a URL, not a host name"),
        ("mail.contoso.com/rpc", "is a URL, not a host name"),
        ("CN=mail.contoso.com", "is a distinguished name, not a host name"),
        ("a.contoso.com,b.contoso.com", "names more than one host"),
        ("mail.contoso.com:443", "holds a port or a scheme"),
        ("127.0.10.1", "is an IP address"),
        ("::1", "is an IP address"),
        ("[::1]", "is an IP address"),
        ("mail..contoso.com", "has an empty label"),
        (".contoso.com", "has an empty label"),
        ("m*.contoso.com", "has a wildcard that is not a whole leftmost label"),
        ("*.*.contoso.com", "has a wildcard that is not a whole leftmost label"),
        ("mail.*.com", "has a wildcard that is not a whole leftmost label"),
        ("*", "is a bare wildcard"),
        ("*.com", "is a bare wildcard"),
    ],
)
def test_problem_names_what_is_wrong(name: str, why: str) -> None:
    """-P, and every principal a fix proposes, is FQDN or *.FQDN: anything else is named."""
    assert problem(name) == why


@pytest.mark.parametrize("name", ["*.0.10.1", "*.10.0.0", "*.1.2.3", "*.contoso.123"])
def test_a_wildcard_over_an_address_is_never_a_principal(name: str) -> None:
    assert problem(name) != ""


@pytest.mark.parametrize(
    ("principal", "cns", "sans"),
    [
        ("10.0.10.1", ["*.0.10.1"], []),
        ("10.0.10.1", ["owa.contoso.com"], ["*.0.10.1"]),
        ("127.0.10.1", ["*.0.10.1"], ["*.0.10.1"]),
    ],
)
def test_a_wildcard_never_matches_an_ip_address(
    principal: str, cns: list[str], sans: list[str]
) -> None:
    assert match(principal, cns, sans) == Match.NONE


@given(st.text(alphabet=string.printable + "äé\x00\x7f*", max_size=30))
def test_an_accepted_principal_is_a_plain_name(name: str) -> None:
    """Whatever problem() lets through could be pinned by a client as it stands."""
    if problem(name) == "":
        assert normalize(name) is not None
        assert not any(ch in name for ch in " ,;/:=\t\r\n\x00")
        assert not is_ip(name)
        assert "*" not in name[1:]
