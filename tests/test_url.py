"""The plugin's own URL splitter and percent-encoding, with ``urllib.parse`` as the witness: the
same parts for every URL both read, and a refusal where the plugin's is stricter on purpose."""

from __future__ import annotations

from urllib.parse import quote, quote_plus, urlsplit

import pytest

from outlook_anywhere.transport.url import percent_encoded, split

AGREED = [
    "https://Mail.Contoso.com/autodiscover/autodiscover.xml",
    "https://autodiscover.contoso.com:444/autodiscover/autodiscover.xml?x=1#part",
    "https://user:secret@mail.contoso.com/",
    "https://[2001:db8::1]:8443/rpc/rpcproxy.dll",
    "https://[::1]/",
    "HTTPS://MAIL.CONTOSO.COM",
    "https://mail.contoso.com:",
    "https://mail.contoso.com?query",
    "https://mail.contoso.com#fragment",
    "https:/autodiscover/autodiscover.xml",
    "https://",
    "http://mail.contoso.com/",
    "mail.contoso.com/autodiscover",
    "autodiscover",
    "https://mail.contoso.com:65535/",
]


@pytest.mark.parametrize("url", AGREED)
def test_the_parts_urllib_reads(url: str) -> None:
    seen = urlsplit(url)
    parts = split(url)
    assert (parts.scheme, parts.host, parts.port, parts.path, parts.query) == (
        seen.scheme.lower(),
        seen.hostname or "",
        seen.port,
        seen.path,
        seen.query,
    )
    assert parts.userinfo == bool(seen.username or seen.password)


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("https://mail.contoso.com:0/", "port 0 is outside 1-65535"),
        ("https://mail.contoso.com:65536/", "port 65536 is outside 1-65535"),
        ("https://mail.contoso.com:44x/", "port '44x' is not a number"),
        ("https://mail.contoso.com:\u0664\u0664\u0663/", "is not a number"),  # Arabic-Indic digits
        ("https://[2001:db8::1/", "an IPv6 address without its closing bracket"),
        ("https://[2001:db8::1]x/", "an IPv6 address without its closing bracket"),
        ("https://[mail.contoso.com]/", "[mail.contoso.com] is not an IPv6 address"),
        ("https://mail]contoso.com/", "a bracket outside an IPv6 address"),
    ],
)
def test_an_authority_that_cannot_be_read_is_refused(url: str, error: str) -> None:
    with pytest.raises(ValueError) as raised:
        split(url)
    assert error in str(raised.value)


def test_an_empty_user_information_is_user_information() -> None:
    """``urlsplit`` sees no user in ``https://@host/``; credentials must not go there either."""
    assert split("https://@mail.contoso.com/").userinfo
    assert split("https://@mail.contoso.com/").host == "mail.contoso.com"


def test_the_host_is_after_the_last_at_sign() -> None:
    parts = split("https://a@b@mail.contoso.com:8443/x")
    assert (parts.userinfo, parts.host, parts.port) == (True, "mail.contoso.com", 8443)


@pytest.mark.parametrize(
    "text", ["Lab-Secret-7d1f!monitor", "Px+y/Secret=%20&9q", "a b/c~\u00fc\u20ac\U0001f511", ""]
)
def test_percent_encoding_is_quote(text: str) -> None:
    assert percent_encoded(text) == quote(text, safe="")
    assert percent_encoded(text, "/") == quote(text)
    assert percent_encoded(text, " ").replace(" ", "+") == quote_plus(text)
