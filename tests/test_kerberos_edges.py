"""Kerberos where the lab's front ends cannot go: an endpoint or a node answering a Kerberos
logon with a KRB-ERROR of its own choosing (Windows' long form included), a
mutual-authentication token that does not verify, a garbled answer token; and the poller's own
credential missing or unusable.  Through the CLI, with a real MIT KDC
(contrib/lab/identities/kdc.py, a realm of this module's own) and scripted TLS front ends on
127.77.4.x (tests/edge_servers.py) named in the lab's DNS; the front ends never check a ticket,
they answer as each test needs.

The KDC's Debian packages and python-gssapi are required, as for tests/test_logon_kerberos.py.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from contrib.lab import Lab
from contrib.lab.identities.kdc import Kdc, missing_programs
from contrib.lab.network.http11 import Request, Response
from outlook_anywhere.transport.kerberos import krb_error_code
from tests.conftest import Outcome, run_plugin
from tests.contract import assert_contract
from tests.edge_servers import Servers, der, issue, ok, server_context, write_chain
from tests.test_logon_kerberos import missing

ENDPOINT = "krb-edge.contoso.test"  # Autodiscover: what it answers depends on the mailbox
HOSTS = {
    ENDPOINT: "127.77.4.1",
    "krb-skew.contoso.test": "127.77.4.2",  # a node whose clock is apart from the KDC's
    "krb-mutual.contoso.test": "127.77.4.3",  # a node whose mutual token does not verify
}
PATH = "/autodiscover/autodiscover.xml"
RESPONSE_NS = "http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006"
OUTLOOK_NS = "http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a"


# -- KRB-ERROR messages, as a node answers a ticket it refuses ----------------------------------


def integer(value: int) -> bytes:
    return der(0x02, value.to_bytes((value.bit_length() + 8) // 8, "big", signed=True))


def krb_error(code: int, e_data: bytes = b"") -> bytes:
    """A KRB-ERROR (RFC 4120 5.9.1) with ``code``; ``e_data`` (Windows sends a
    KERB-ERROR-DATA there) makes it longer than a short DER length can say."""
    fields = [
        der(0xA0, integer(5)),  # pvno
        der(0xA1, integer(30)),  # msg-type: KRB-ERROR
        der(0xA4, der(0x18, b"20260101000000Z")),  # stime
        der(0xA5, integer(0)),  # susec
        der(0xA6, integer(code)),  # error-code
        der(0xA9, der(0x1B, b"CONTOSO.TEST")),  # realm
        der(0xAA, der(0x30, der(0xA0, integer(2)) + der(0xA1, der(0x30, der(0x1B, b"HTTP"))))),
    ]
    if e_data:
        fields.append(der(0xAC, der(0x04, e_data)))
    return der(0x7E, der(0x30, b"".join(fields)))


def gss_wrapped(message: bytes) -> bytes:
    """``message`` as the Kerberos mechanism's GSS token (RFC 1964 3.1: tok_id 03 00)."""
    krb5 = der(0x06, bytes.fromhex("2a864886f712010202"))
    return der(0x60, krb5 + b"\x03\x00" + message)


WINDOWS_E_DATA = bytes(range(256)) * 2  # a KERB-ERROR-DATA's worth of bytes, and then some


@pytest.mark.parametrize(
    ("token", "code"),
    [
        (gss_wrapped(krb_error(41)), 41),
        (gss_wrapped(krb_error(41, WINDOWS_E_DATA)), 41),  # long-form lengths, as Windows
        (krb_error(37), 37),  # unwrapped
        (b"\x7e\x00" + gss_wrapped(krb_error(44)), 44),  # a 0x7E byte before the message
        (gss_wrapped(krb_error(41))[:-20], None),  # cut short
        (b"\x7e\x84\xff\xff\xff\xff\x30\x00", None),  # a length past the token
        (b"\x7e\x85\x00\x00\x00\x00\x01\x30", None),  # a length of five bytes
        (b"\x7e\x80", None),  # an indefinite length (BER, never DER)
        (der(0x7E, der(0x31, der(0xA6, integer(41)))), None),  # a SET, not a SEQUENCE
        (b"", None),
    ],
    ids=[
        "mit",
        "windows-e-data",
        "bare",
        "stray-7e",
        "cut-short",
        "length-past-end",
        "five-byte-length",
        "indefinite",
        "not-a-sequence",
        "empty",
    ],
)
def test_the_error_code_of_a_node_answer_token(token: bytes, code: int | None) -> None:
    """What decides the words (the node lacks the key, or its clock is apart): the code, read
    from the DER a node sent whatever its length form, and no code from anything malformed."""
    assert krb_error_code(token) == code


# -- the realm and the front ends ---------------------------------------------------------------


@dataclass
class Realm:
    lab: Lab
    kdc: Kdc
    servers: Servers
    root_file: Path
    posts: list[tuple[str, str]]  # (mailbox, Authorization) of every POST to the endpoint

    def check(self, mailbox: str, *extra: str, env: dict[str, str] | None = None) -> Outcome:
        """A check through Autodiscover at the endpoint, as ``mailbox``, with the realm."""
        return run_plugin(
            "-p", str(self.servers.port),
            "--dns-server", self.lab.dns_server,
            "--ca-file", str(self.root_file),
            "--autodiscover", f"{mailbox}@contoso.test",
            "--autodiscover-url", f"https://{ENDPOINT}:{self.servers.port}{PATH}",
            *extra,
            env={**self.kdc.env, **(env or {})},
        )  # fmt: skip

    def keytab(self) -> tuple[str, ...]:
        return ("--username", self.kdc.user, "--keytab", str(self.kdc.user_keytab))

    def schemes(self, mailbox: str) -> list[str]:
        """The Authorization scheme of every POST for ``mailbox`` ("" without one)."""
        return [a.split(" ")[0] for m, a in self.posts if m == mailbox]

    def token(self, mailbox: str) -> bytes:
        """The last Negotiate token sent for ``mailbox``."""
        [last, *_] = [a for m, a in reversed(self.posts) if m == mailbox and a]
        return base64.b64decode(last.split(" ", 1)[1])


def settings(server: str, port: int) -> bytes:
    """An Autodiscover answer whose Outlook Anywhere and MAPI server is ``server``, with the
    mailbox's MAPI URL and LegacyDN (what a MAPI logon needs)."""
    protocols = "".join(
        f"<Protocol{kind}><Type>{name}</Type><Server>{server}</Server><SSL>On</SSL>"
        f"<AuthPackage>Negotiate</AuthPackage></Protocol>"
        for name, kind in (("EXPR", ""), ("EXHTTP", ' Type="EXHTTP"'))
    )
    store = f"https://{server}:{port}/mapi/emsmdb/?MailboxId=edge@contoso.test"
    mapi = (
        f'<Protocol Type="mapiHttp" Version="1"><MailStore><InternalUrl>{store}</InternalUrl>'
        f"<ExternalUrl>{store}</ExternalUrl></MailStore></Protocol>"
    )
    dn = "/o=Contoso/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=edge"
    return (
        f'<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="{RESPONSE_NS}">'
        f'<Response xmlns="{OUTLOOK_NS}"><User><DisplayName>Monitor</DisplayName>'
        f"<LegacyDN>{dn}</LegacyDN></User><Account><AccountType>email</AccountType>"
        f"<Action>settings</Action>{mapi}{protocols}</Account></Response></Autodiscover>"
    ).encode()


def negotiate(token: bytes) -> tuple[str, str]:
    return ("WWW-Authenticate", f"Negotiate {base64.b64encode(token).decode()}")


WANTS_NEGOTIATE = Response(401, "Unauthorized", [("WWW-Authenticate", "Negotiate")], b"")
BOGUS_MUTUAL = gss_wrapped(b"\x6f\x03\x02\x01\x00")  # an AP-REP that is nothing of the kind


def refused(token_header: tuple[str, str]) -> Response:
    return Response(401, "Unauthorized", [token_header], b"")


def endpoint_answers(port: int) -> dict[str, Response]:
    """What the endpoint answers a Kerberos POST, by mailbox (``basic`` also takes Basic)."""
    return {
        "basic": ok(settings(ENDPOINT, port)),
        "no-realm": ok(settings(ENDPOINT, port)),
        "key": refused(negotiate(gss_wrapped(krb_error(41, WINDOWS_E_DATA)))),
        "skew": refused(negotiate(gss_wrapped(krb_error(37)))),
        "refused": refused(negotiate(gss_wrapped(krb_error(60)))),
        "garbled": refused(("WWW-Authenticate", "Negotiate %%not-base64%%")),
        "mutual": Response(200, "OK", [negotiate(BOGUS_MUTUAL)], settings(ENDPOINT, port)),
        "logon-skew": ok(settings("krb-skew.contoso.test", port)),
        "logon-mutual": ok(settings("krb-mutual.contoso.test", port)),
    }


def autodiscover(
    answers: dict[str, Response], asked: list[tuple[str, str]]
) -> Callable[[Request], Response]:
    """The endpoint: 401 offering Negotiate (and Basic to ``basic``) without credentials,
    else what ``answers`` says for the mailbox; each POST's (mailbox, Authorization) kept in
    ``asked``."""

    def answer(request: Request) -> Response:
        found = re.search(rb"<EMailAddress>([^@<]+)@", request.body)
        assert found is not None, request.body
        mailbox, authorization = found.group(1).decode(), request.headers.get("authorization", "")
        asked.append((mailbox, authorization))
        if mailbox == "basic":
            if authorization.startswith("Basic "):
                return answers[mailbox]
            offers = [("WWW-Authenticate", "Negotiate"), ("WWW-Authenticate", 'Basic realm="x"')]
            return Response(401, "Unauthorized", offers, b"")
        if not authorization.startswith("Negotiate "):
            return WANTS_NEGOTIATE
        return answers[mailbox]

    return answer


def mapi_node(logged_on: Response) -> Callable[[Request], Response]:
    """A node's /mapi/emsmdb/: 401 offering Negotiate without a token, ``logged_on`` with."""

    def answer(request: Request) -> Response:
        if request.headers.get("authorization", "").startswith("Negotiate "):
            return logged_on
        return WANTS_NEGOTIATE

    return answer


@pytest.fixture(scope="module")
def realm(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Realm]:
    from importlib.util import find_spec

    absent = missing_programs() + ([] if find_spec("gssapi") else ["python-gssapi"])
    if absent:
        missing("Kerberos against the lab's KDC needs " + ", ".join(absent))
    folder = tmp_path_factory.mktemp("krb-edge")
    root = issue("Edge Kerberos Root CA", ca=True)
    servers = Servers(tls=tuple(HOSTS.values()))
    for host, address in HOSTS.items():
        servers.contexts[address] = server_context(write_chain(folder, host, issue(host, root)))
        lab.dns.set_records(host, "A", [address])
        servers.route(address, "/mapi/healthcheck.htm", lambda _: ok(b"200 OK"))
    asked: list[tuple[str, str]] = []
    servers.route(HOSTS[ENDPOINT], PATH, autodiscover(endpoint_answers(servers.port), asked))
    skew = refused(negotiate(gss_wrapped(krb_error(37))))
    servers.route(HOSTS["krb-skew.contoso.test"], "/mapi/emsmdb/", mapi_node(skew))
    mutual = Response(200, "OK", [negotiate(BOGUS_MUTUAL)], b"")
    servers.route(HOSTS["krb-mutual.contoso.test"], "/mapi/emsmdb/", mapi_node(mutual))
    root_file = folder / "root.pem"
    root_file.write_bytes(root.pem)
    with Kdc(folder / "kdc", hosts=list(HOSTS)) as kdc:
        yield Realm(lab, kdc, servers, root_file, asked)
    servers.close()
    for host in HOSTS:
        lab.dns.set_records(host, "A", [])


def clean(out: Outcome) -> None:
    assert out.stderr == "" and "Traceback" not in out.stdout, out.stdout + out.stderr
    assert "internal error" not in out.stdout, out.stdout
    assert len(out.status) <= 200 and ";" not in out.status, out.status


def ap_req(token: bytes) -> bool:
    """Whether ``token`` is a Kerberos AP-REQ in its GSS framing (RFC 4121 4.1: tok_id 01 00):
    a ticket was got and presented."""
    krb5 = der(0x06, bytes.fromhex("2a864886f712010202"))
    return token[:1] == b"\x60" and krb5 + b"\x01\x00" in token[:24]


# -- what the endpoint or a node answers a ticket -------------------------------------------------


@pytest.mark.parametrize(
    ("mailbox", "code", "said"),
    [
        (
            "key",
            2,
            "the node cannot decrypt the ticket for HTTP/krb-edge.contoso.test"
            " (KRB_AP_ERR_MODIFIED, code 41)",
        ),
        ("skew", 2, "clock skew between the node and the KDC (code 37)"),
        ("mutual", 2, "the node's Kerberos mutual-authentication token does not verify"),
        ("refused", 2, "wrong user name or password (HTTP 401)"),
        ("garbled", 2, "wrong user name or password (HTTP 401)"),
    ],
    ids=["key-windows-long-form", "skew", "mutual", "other-krb-error", "garbled-token"],
)
def test_what_the_endpoint_answers_the_ticket_is_named(
    realm: Realm, mailbox: str, code: int, said: str
) -> None:
    """A KRB-ERROR the endpoint answers: its code decides (41: not the service's key, 37:
    clocks apart; another code, or a token that is not base64, is a plain refusal); a 200
    whose mutual-authentication token does not verify is no success."""
    out = realm.check(mailbox, *realm.keytab())
    clean(out)
    assert_contract(out, 10)
    assert out.code == code, out.stdout
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE CRITICAL - Autodiscover for {mailbox}@contoso.test: {said}"
    ), out.status
    assert ap_req(realm.token(mailbox))


@pytest.mark.parametrize(
    ("mailbox", "node", "said"),
    [
        (
            "logon-skew",
            "krb-skew.contoso.test",
            "clock skew between the node and the KDC (code 37)",
        ),
        (
            "logon-mutual",
            "krb-mutual.contoso.test",
            "the node's Kerberos mutual-authentication token does not verify",
        ),
    ],
    ids=["skew", "mutual"],
)
def test_what_a_node_answers_the_logon_ticket_is_critical_for_that_node(
    realm: Realm, mailbox: str, node: str, said: str
) -> None:
    """Autodiscover accepted the ticket; the node's MAPI logon refuses it with KRB_AP_ERR_SKEW,
    or answers 200 with a mutual-authentication token that does not verify."""
    out = realm.check(mailbox, *realm.keytab(), "--mapi", "--logon")
    clean(out)
    assert out.code == 2, out.stdout
    address = HOSTS[node]
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {address}: MAPI logon (Kerberos): {said} [0/1 nodes OK]"
    )


# -- the poller's own credential -----------------------------------------------------------------

NO_CREDENTIAL = (
    "no usable Kerberos credential: the keytab or KRB5CCNAME's ticket cache is missing,"
    " unreadable or expired"
)


def test_a_ticket_cache_that_is_not_there_is_unknown(realm: Realm, tmp_path: Path) -> None:
    out = realm.check("skew", env={"KRB5CCNAME": f"FILE:{tmp_path}/krb5cc_none"})
    clean(out)
    assert (out.code, out.status) == (
        3,
        f"OUTLOOK_ANYWHERE UNKNOWN - Autodiscover for skew@contoso.test: {NO_CREDENTIAL}",
    ), out.stdout
    assert realm.schemes("skew")[-1:] == [""]  # asked what it offers, never sent a ticket


def test_an_expired_ticket_cache_is_said_to_be_one(realm: Realm, tmp_path: Path) -> None:
    """The monitoring user's tickets ran out (kinit a day ago): the words for a missing,
    unreadable or expired cache, not a bare "Kerberos failed"."""
    import subprocess
    import time

    ccache = tmp_path / "krb5cc_expired"
    subprocess.run(
        ["kinit", "-l", "2s", "-k", "-t", str(realm.kdc.user_keytab), "-c", f"FILE:{ccache}",
         realm.kdc.user],
        env={"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", **realm.kdc.env},
        check=True, capture_output=True, stdin=subprocess.DEVNULL, timeout=60,
    )  # fmt: skip
    time.sleep(3)  # the ticket's two seconds are over (no assertion on time: a setup)
    out = realm.check("skew", env={"KRB5CCNAME": f"FILE:{ccache}"})
    clean(out)
    assert (out.code, out.status) == (
        3,
        f"OUTLOOK_ANYWHERE UNKNOWN - Autodiscover for skew@contoso.test: {NO_CREDENTIAL}",
    ), out.stdout


def test_a_keytab_without_a_realm_in_the_user_name_logs_on_as_its_principal(
    realm: Realm,
) -> None:
    """--username without @REALM: the keytab's own principal gets the ticket."""
    out = realm.check("no-realm", "--username", "monitor", "--keytab", str(realm.kdc.user_keytab))
    clean(out)
    assert out.code == 0, out.stdout
    assert ap_req(realm.token("no-realm"))


def test_auth_basic_leaves_the_ticket_cache_alone(
    realm: Realm, tmp_path: Path, password_file: str
) -> None:
    """--auth basic pins Basic: a ticket cache in KRB5CCNAME is not used, even where the
    endpoint offers Negotiate first."""
    ccache = realm.kdc.kinit(tmp_path / "krb5cc_held")
    out = realm.check(
        "basic", "--auth", "basic", "--password-file", password_file,
        env={"KRB5CCNAME": f"FILE:{ccache}"},
    )  # fmt: skip
    clean(out)
    assert out.code == 0, out.stdout
    assert set(realm.schemes("basic")) == {"", "Basic"}, realm.posts


def test_a_kerberos_client_never_shows_the_password() -> None:
    """What a traceback, a debugger or a log of the object shows."""
    from outlook_anywhere.transport.kerberos import Client

    shown = repr(Client("monitor@CONTOSO.TEST", "Kerberos-Secret-9", None, "password"))
    assert shown == "Client('monitor@CONTOSO.TEST', 'password', ...)"


# -- --auth pins one mechanism at the nodes too ---------------------------------------------------


def test_auth_basic_logs_on_with_basic_where_the_node_offers_it(
    lab: Lab, password_file: str
) -> None:
    from tests.test_logon import addresses, logon, node_line

    out = logon(lab, password_file, "logon-basic", "--auth", "basic")
    clean(out)
    assert out.code == 0, out.stdout
    [address] = addresses(lab, "logon-basic")
    assert "RPC logon Basic accepted (no channel binding)" in node_line(out, address)
    seen = [s for s in lab.web.requests(host="logon-basic.contoso.test") if s.auth]
    assert seen and {s.auth for s in seen} == {"Basic"}, seen


def test_auth_ntlm_against_a_basic_only_node_is_critical(lab: Lab, password_file: str) -> None:
    """The endpoint does NTLM; the node offers Basic alone: nothing is sent to it."""
    from tests.test_logon import addresses
    from tests.test_logon_kerberos import NTLM_ENDPOINT

    lab.web.clear()
    out = run_plugin(
        "-p", str(lab.web.port), "--dns-server", lab.dns_server, "--ca-file", lab.ca_file,
        "--autodiscover", "logon-basic@contoso.test",
        "--autodiscover-url", lab.web.url(NTLM_ENDPOINT),
        "--password-file", password_file, "--rpc", "--logon", "--auth", "ntlm",
    )  # fmt: skip
    clean(out)
    assert out.code == 2, out.stdout
    [address] = addresses(lab, "logon-basic")
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {address}: RPC does not offer NTLM and --auth ntlm"
        " (offers Basic) [0/1 nodes OK]"
    )
    assert not [s for s in lab.web.requests(host="logon-basic.contoso.test") if s.auth]
