"""The logon probe's pure helpers: which EXCH Server values go into a URL as they are, and the
path of the MAPI PING (the published MailStore URL's, else one built from the mailbox)."""

from __future__ import annotations

import pytest

from outlook_anywhere.probes.logon import Account, mapi_path, usable_server

GUID = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0@contoso.com"


@pytest.mark.parametrize(
    ("server", "usable"),
    [
        (GUID, True),
        ("EX01.contoso.com", True),
        ("", False),
        ("ex01 contoso", False),
        ("ex01/../admin", False),
        ("ex01?x=1", False),
        ("ex01#frag", False),
        ("ex01\r\nX-Injected: 1", False),
        ("a" * 256, False),
    ],
)
def test_usable_server(server: str, usable: bool) -> None:
    assert usable_server(server) is usable


def test_the_ping_path_is_the_published_mail_store_path() -> None:
    url = f"https://mail.contoso.com/mapi/emsmdb/?MailboxId={GUID}"
    assert mapi_path(GUID, url) == f"/mapi/emsmdb/?MailboxId={GUID}"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "http://mail.contoso.com/mapi/emsmdb/?MailboxId=x",  # not https
        "https://mail.contoso.com/owa/",  # not the mail store
        "https://mail.contoso.com/mapi/emsmdb/?MailboxId=a b",  # white space
        "https://mail.contoso.com",
    ],
)
def test_otherwise_the_ping_path_is_built_from_the_mailbox(url: str) -> None:
    assert mapi_path(GUID, url) == f"/mapi/emsmdb/?MailboxId={GUID}"


def test_the_account_never_shows_its_password() -> None:
    assert "s3cret" not in repr(Account("monitor@contoso.com", "s3cret"))
