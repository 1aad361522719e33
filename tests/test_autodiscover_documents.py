"""The Autodiscover parser on documents a server may send, one shape at a time (in-process;
the hostile ones, entity expansion and the like, are in tests/test_autodiscover.py)."""

from __future__ import annotations

import pytest

from outlook_anywhere.autodiscover.document import MAX_VALUE, UnusableDocument, parse

RESPONSE = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
OUTLOOK = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"


def document(inner: str) -> bytes:
    return f'<Autodiscover xmlns="{RESPONSE}">{inner}</Autodiscover>'.encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'<?xml version="1.0" encoding="utf-32"?><Autodiscover/>', "invalid XML (ValueError)"),
        (b'<?xml version="1.0" encoding="no-such"?><Autodiscover/>', "unknown encoding"),
        (b"<Autodiscover><Response>", "invalid XML at line 1"),
        (document(""), "no Response element"),
        (document(f'<Response xmlns="{OUTLOOK}"></Response>'), "no Account element"),
        (b'<Autodiscover xmlns="urn:other"><Response/></Autodiscover>', "root element is not"),
        (b"<!DOCTYPE a [<!ENTITY x 'y'>]><Autodiscover/>", "declares a DTD"),
    ],
)
def test_unusable_documents_say_why(body: bytes, reason: str) -> None:
    with pytest.raises(UnusableDocument, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse(body)


def test_an_error_response() -> None:
    parsed = parse(document(
        f'<Response xmlns="{OUTLOOK}"><Error><ErrorCode>500</ErrorCode>'
        "<Message>The e-mail address cannot be found.</Message></Error></Response>"
    ))  # fmt: skip
    assert (parsed.error_code, parsed.error_message) == (
        "500",
        "The e-mail address cannot be found.",
    )
    assert parsed.providers == ()


def test_providers_with_missing_and_empty_values() -> None:
    parsed = parse(document(
        f'<Response xmlns="{OUTLOOK}"><Account><Action>settings</Action>'
        "<Protocol/><Protocol><Type>EXPR</Type><Server>mail.contoso.test</Server>"
        "<CertPrincipalName></CertPrincipalName></Protocol><Other/></Account></Response>"
    ))  # fmt: skip
    assert parsed.action == "settings"
    first, second = parsed.providers
    assert (first.type, first.server, first.cert_principal_name) == ("", "", None)
    assert (second.type, second.server) == ("EXPR", "mail.contoso.test")
    assert second.cert_principal_name is not None and second.cert_principal_name.strip() == ""


def test_values_are_cut_at_max_value() -> None:
    long = "m" * (MAX_VALUE + 50)
    parsed = parse(document(
        f'<Response xmlns="{OUTLOOK}"><Account><Action>redirectUrl</Action>'
        f"<RedirectUrl>https://{long}/</RedirectUrl></Account></Response>"
    ))  # fmt: skip
    assert len(parsed.redirect_url) == MAX_VALUE
    assert parsed.redirect_url.startswith("https://mmm")


def test_the_exch_server_and_the_mapi_http_urls() -> None:
    guid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0@contoso.com"
    store = f"https://mail.contoso.com/mapi/emsmdb/?MailboxId={guid}"
    parsed = parse(document(
        f'<Response xmlns="{OUTLOOK}"><Account><Action>settings</Action>'
        f"<Protocol><Type>EXCH</Type><Server>{guid}</Server></Protocol>"
        "<Protocol><Type>EXPR</Type><Server>mail.contoso.com</Server></Protocol>"
        '<Protocol Type="mapiHttp" Version="1"><MailStore>'
        "<InternalUrl>https://internal/mapi/emsmdb/?MailboxId=x</InternalUrl>"
        f"<ExternalUrl>{store}</ExternalUrl></MailStore>"
        "<AddressBook><InternalUrl>https://internal/mapi/nspi/?MailboxId=x</InternalUrl>"
        "</AddressBook></Protocol>"
        "</Account></Response>"
    ))  # fmt: skip
    exch = parsed.provider("EXCH")
    assert exch is not None and exch.server == guid
    assert [p.type for p in parsed.providers] == ["EXCH", "EXPR"]
    assert parsed.mapi_mailstore == store
    assert parsed.mapi_addressbook == "https://internal/mapi/nspi/?MailboxId=x"


def test_no_mapi_http_block() -> None:
    parsed = parse(document(
        f'<Response xmlns="{OUTLOOK}"><Account><Action>settings</Action>'
        "<Protocol><Type>EXPR</Type><Server>mail.contoso.com</Server></Protocol>"
        "</Account></Response>"
    ))  # fmt: skip
    assert (parsed.mapi_mailstore, parsed.mapi_addressbook) == ("", "")


def _published(kind: str, server: str) -> bytes:
    return document(
        f'<Response xmlns="{OUTLOOK}"><Account><Action>settings</Action>'
        f"<Protocol><Type>{kind}</Type><Server>{server}</Server></Protocol>"
        "</Account></Response>"
    )


@pytest.mark.parametrize(
    ("kind", "server"),
    [
        ("EXPR", "\u043f\u0440\u0438\u043c\u0435\u0440..contoso.test"),  # no IDNA form
        ("EXPR", "mail.contoso.com:443"),
        ("EXHTTP", "mail contoso com"),
        ("EXHTTP", "x" * 64 + ".contoso.com"),
    ],
)
def test_a_published_outlook_anywhere_server_that_is_no_host_name_is_unusable(
    kind: str, server: str
) -> None:
    """The plugin connects to it when -H is not given, as Outlook would: a name that cannot go
    out as SNI and DNS is the document's fault, said as such, not an error of every node."""
    with pytest.raises(UnusableDocument) as refused:
        parse(_published(kind, server))
    assert str(refused.value) == f"the {kind} Server {server!r} is not a host name"


def test_a_published_internationalized_name_is_a_host_name() -> None:
    server = "\u043f\u0440\u0438\u043c\u0435\u0440.contoso.test"
    expr = parse(_published("EXPR", server)).provider("EXPR")
    assert expr is not None and expr.server == server
