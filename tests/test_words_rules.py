"""Every sentence of the renderer (``outlook_anywhere.check.words``), in-process and exact: one
finding, fix or description at a time, the words checked against the contract of docs/design.md
("What the admin reads") and README's States table — true, one line, bounded, the password
hidden in what a server sent.  These are the tests `make mutation` runs against words.py beside
tests/test_words.py's matrix (which holds whole first lines)."""

from __future__ import annotations

import pytest
from nagiosplugin.state import Critical, Unknown, Warn

from outlook_anywhere import output
from outlook_anywhere.check.words import (
    certificate_text,
    headline,
    install_hint,
    long_output,
    node_details,
    phrase,
    shown,
    subject,
    trace_lines,
    wire,
)
from outlook_anywhere.check.words.principal import fix_text
from outlook_anywhere.check.words.verdict import resolution_failure, resolution_text
from outlook_anywhere.facts import CheckFacts, Resolution
from outlook_anywhere.facts.certificate import iso_date
from outlook_anywhere.facts.http import Attempt, AutodiscoverFacts, Document, Provider, RpcFacts
from outlook_anywhere.judgement import findings as k
from outlook_anywhere.judgement.findings import Finding, Fix
from outlook_anywhere.judgement.verdict import judge
from tests.test_words import CA, DAY, NOW, cert, node, policy

A, B = "10.0.0.1", "10.0.0.2"
MAIL = "mail.contoso.com"
SHORT = 60  # the first line's bound for a name (words.SHORT)
SECRET = "S3cret-pw"


@pytest.fixture
def password(monkeypatch: pytest.MonkeyPatch) -> str:
    """The password of this check, as credentials.remember registers it."""
    monkeypatch.setattr(output, "SECRETS", [SECRET])
    return SECRET


def say(kind: str, evidence: dict[str, object], limit: int = 200, node: str | None = A) -> str:
    return phrase(Finding(kind, Critical, node, evidence), limit)


# -- names and server text ------------------------------------------------------------------


def test_shown_is_printable_one_line_and_bounded() -> None:
    assert shown("a" * 200) == "a" * 200
    assert shown("a" * 201) == "a" * 197 + "..."
    assert shown("a" * 60, SHORT) == "a" * 60
    assert shown("a" * 61, SHORT) == "a" * 57 + "..."
    assert shown("x\x00y|z\n") == "x\\x00y/z\\x0a"
    assert shown(None) == "None"


def test_wire_hides_the_password_and_the_plugins_words_do_not(password: str) -> None:
    assert wire(f"echo {password}!") == "echo (hidden)!"
    assert wire("x" * 250).endswith("...") and len(wire("x" * 250)) == 200
    assert wire("y" * 70, SHORT) == "y" * 57 + "..."
    assert shown(password) == password


# -- one phrase per kind: the certificate ---------------------------------------------------


def test_mismatch_words() -> None:
    ev = {"principal": MAIL, "cn": "owa.contoso.com", "source": "-H"}
    expected = (
        "Mutual Authentication could not be established: certificate CN owa.contoso.com,"
        " expected msstd:mail.contoso.com"
    )
    assert say(k.PRINCIPAL_MISMATCH, ev) == expected
    assert say(k.PRINCIPAL_MISMATCH, {**ev, "cn": None}) == (
        "Mutual Authentication could not be established: the certificate has no subject CN,"
        " expected msstd:mail.contoso.com"
    )
    look_alike = {**ev, "cn": "m\u0430il.contoso.com", "cn_idna": "xn--mil-8cd.contoso.com"}
    assert say(k.PRINCIPAL_MISMATCH, look_alike).startswith(
        "Mutual Authentication could not be established: certificate CN m\u0430il.contoso.com"
        " (xn--mil-8cd.contoso.com), expected"
    )
    long_cn = {**ev, "cn": "c" * 70}
    assert f"certificate CN {'c' * 57}..., expected" in say(k.PRINCIPAL_MISMATCH, long_cn, SHORT)
    assert f"certificate CN {'c' * 70}, expected" in say(k.PRINCIPAL_MISMATCH, long_cn)


def test_a_published_principal_is_named_with_its_provider_in_the_long_output(password: str) -> None:
    ev = {"principal": f"{password}.contoso.com", "cn": MAIL, "source": "EXPR and EXHTTP"}
    assert say(k.PRINCIPAL_MISMATCH, ev) == (
        "Mutual Authentication could not be established: certificate CN mail.contoso.com,"
        " expected msstd:(hidden).contoso.com (what Autodiscover publishes in EXPR and EXHTTP)"
    )
    assert say(k.PRINCIPAL_MISMATCH, ev, SHORT).endswith("expected msstd:(hidden).contoso.com")
    # -P is the admin's own word: shown as given, and no provider named
    mine = {**ev, "source": "-P"}
    assert say(k.PRINCIPAL_MISMATCH, mine).endswith(f"expected msstd:{password}.contoso.com")
    host = {**ev, "source": "-H"}
    assert say(k.PRINCIPAL_MISMATCH, host).endswith(f"expected msstd:{password}.contoso.com")
    assert say(k.PRINCIPAL_MISMATCH, {**ev, "source": None}).endswith(".contoso.com")


def test_san_and_wildcard_words() -> None:
    ev = {"principal": MAIL, "cn": "ex01.contoso.com", "source": "-H"}
    assert say(k.SAN_ONLY, ev) == (
        "msstd:mail.contoso.com only in a SAN, not the CN ex01.contoso.com: Outlook before"
        " Vista SP1 and the Remote Connectivity Analyzer fail"
    )
    ev.update(pattern="*.contoso.com", where="SAN")
    assert say(k.WILDCARD_ONLY, ev) == (
        "msstd:mail.contoso.com matches only by expanding the wildcard SAN *.contoso.com: the"
        " Analyzer and older clients do not"
    )


@pytest.mark.parametrize(
    ("cns", "names"),
    [
        (("a", "b"), "2 CNs (a, b)"),
        (("a", "b", "c", "d"), "4 CNs (a, b, c, d)"),
        (("a", "b", "c", "d", "e"), "5 CNs (a, b, c, d, ...)"),
    ],
)
def test_several_cns_words(cns: tuple[str, ...], names: str) -> None:
    assert say(k.SEVERAL_CNS, {"cns": cns}) == (
        f"subject has {names}: clients differ on which one they read"
    )


def test_date_words() -> None:
    date = "2027-02-04"
    assert say(k.EXPIRES_SOON, {"ca": None, "days": 20.0, "date": date}) == (
        "certificate expires in 20.0 days (2027-02-04)"
    )
    ev = {"ca": "Contoso CA", "days": 300.0, "date": date, "level": "critical", "range": "@200:400"}
    assert say(k.EXPIRES_SOON, ev) == (
        "issuing CA 'Contoso CA': 300.0 days left, inside the critical range @200:400"
        " (expires 2027-02-04)"
    )
    ev.update(level="warning", range="~:100")
    assert say(k.EXPIRES_SOON, ev) == (
        "issuing CA 'Contoso CA': 300.0 days left, outside the warning range ~:100"
        " (expires 2027-02-04)"
    )
    assert say(k.EXPIRED, {"ca": "Contoso CA", "days": -2.5, "date": date}) == (
        "issuing CA 'Contoso CA' expired 2.5 days ago (2027-02-04)"
    )
    assert say(k.EXPIRED, {"ca": None, "days": -0.1, "date": date}) == (
        "certificate expired 0.1 days ago (2027-02-04)"
    )
    assert say(k.EXPIRED, {"ca": None, "days": -0.0, "date": date}) == (
        "certificate expired less than 0.1 days ago (2027-02-04)"
    )
    assert (
        say(k.NOT_YET_VALID, {"ca": None, "date": date})
        == "certificate not valid before 2027-02-04"
    )
    assert say(k.NOT_YET_VALID, {"ca": "C" * 70, "date": date}, SHORT) == (
        f"issuing CA '{'C' * 57}...' not valid before 2027-02-04"
    )


UNTRUSTED = [
    ({"code": 18}, "self-signed certificate (not issued by a trusted CA)"),
    (
        {"code": 19, "last": "Contoso Root"},
        "root 'Contoso Root' sent by the server is not a trusted root",
    ),
    (
        {"code": 19, "last": None, "message": "self-signed certificate in certificate chain"},
        "self-signed certificate in certificate chain",
    ),
    (
        {"code": 20, "served": 1, "last_issuer": "Contoso CA"},
        "missing intermediate? the server sends no issuing CA, and 'Contoso CA' is not in the"
        " trust store",
    ),
    (
        {"code": 2, "served": 2, "last_issuer": "Contoso Root"},
        "chain ends at 'Contoso Root', which is not in the trust store",
    ),
    (
        {"code": 21, "served": 3, "last_issuer": "Contoso Root"},
        "chain ends at 'Contoso Root', which is not in the trust store",
    ),
    (
        {
            "code": 20,
            "served": 1,
            "last_issuer": None,
            "message": "unable to get local issuer certificate",
        },
        "unable to get local issuer certificate",
    ),
    ({"code": 7}, "a signature in the certificate chain does not verify"),
    ({"code": 79}, "an issuing certificate in the chain is not a CA"),
    (
        {"code": 24, "message": "Invalid CA certificate"},
        "an issuing certificate in the chain is not a CA",
    ),
    ({"code": 24, "message": "path length constraint exceeded"}, "path length constraint exceeded"),
    ({"code": 26}, "certificate is not meant for TLS server authentication"),
    ({"code": 34}, "a certificate in the chain has an unknown extension marked critical"),
    (
        {"code": 66, "message": "EE certificate key too weak"},
        "EE certificate key too weak for OpenSSL's security level",
    ),
    (
        {"code": 67, "message": "CA certificate key too weak"},
        "CA certificate key too weak for OpenSSL's security level",
    ),
    (
        {"code": 68, "message": "CA signature digest algorithm too weak"},
        "CA signature digest algorithm too weak for OpenSSL's security level",
    ),
    ({"code": 10, "message": "certificate has expired"}, "certificate has expired"),
    ({"code": 99, "message": ""}, "verification error 99"),
]


@pytest.mark.parametrize(("ev", "why"), UNTRUSTED, ids=[str(row[0]["code"]) for row in UNTRUSTED])
def test_why_a_chain_is_untrusted(ev: dict[str, object], why: str) -> None:
    assert say(k.UNTRUSTED, ev) == "certificate not trusted: " + why


def test_untrusted_names_are_bounded_on_the_first_line() -> None:
    ev = {"code": 19, "last": "R" * 70}
    assert (
        say(k.UNTRUSTED, ev, SHORT)
        == f"certificate not trusted: root '{'R' * 57}...' sent by the server is not a trusted root"
    )
    ev = {"code": 20, "served": 2, "last_issuer": "I" * 70}
    assert f"'{'I' * 57}...'" in say(k.UNTRUSTED, ev, SHORT)
    ev = {"code": 20, "served": 1, "last_issuer": "I" * 70}
    assert f"'{'I' * 57}...'" in say(k.UNTRUSTED, ev, SHORT)
    assert say(k.UNTRUSTED, {"code": 66, "message": "m" * 70}, SHORT) == (
        f"certificate not trusted: {'m' * 57}... for OpenSSL's security level"
    )
    assert (
        say(k.UNTRUSTED, {"code": 9, "message": "m" * 70}, SHORT)
        == f"certificate not trusted: {'m' * 57}..."
    )


def test_strength_protocol_and_parse_words() -> None:
    assert say(k.WEAK_KEY, {"ca": None, "algorithm": "DSA", "bits": 1024}) == (
        "certificate has a 1024-bit DSA key (under 2048 bits)"
    )
    assert (
        say(k.WEAK_SIGNATURE, {"ca": "Contoso CA", "hash": "MD5"})
        == "issuing CA 'Contoso CA' is signed with MD5"
    )
    assert say(k.OLD_PROTOCOL, {"version": "TLSv1.1"}) == "server speaks only TLSv1.1"
    assert say(k.OLD_PROTOCOL, {"version": "v" * 70}, SHORT) == f"server speaks only {'v' * 57}..."
    assert (
        say(k.UNPARSABLE, {"detail": "d" * 70}, SHORT)
        == f"certificate could not be parsed ({'d' * 57}...)"
    )
    assert say(k.NO_CERTIFICATE, {}) == "server sent no certificate"
    assert say(k.BROKEN_INSTALLATION, {"module": "m" * 70}, SHORT) == (
        f"broken installation: Python module {'m' * 57}... cannot be imported"
    )


CONNECTION = [
    ("refused", "connect", "x", "connection refused"),
    ("reset", "handshake", "x", "connection reset during the TLS handshake"),
    ("reset", "connect", "x", "connection reset while connecting"),
    ("timeout", "handshake", "x", "TLS handshake not finished within the deadline"),
    ("timeout", "connect", "x", "TCP connect not finished within the deadline"),
    (
        "not-tls",
        "handshake",
        "HTTP/1.1 400 Bad\r\n\x7f\x80",
        "not TLS: server sent 'HTTP/1.1 400 Bad....'",
    ),
    ("not-tls", "handshake", " \x1f" + "z" * 50, f"not TLS: server sent '.{'z' * 36}...'"),
    ("closed", "handshake", "x", "server closed the connection during the TLS handshake"),
    ("closed", "connect", "x", "server closed the connection while connecting"),
    (
        "tls-alert",
        "handshake",
        "handshake failure",
        "TLS handshake failed: server sent TLS alert: handshake failure",
    ),
    (
        "tls-failed",
        "handshake",
        "wrong version number",
        "TLS handshake failed: wrong version number",
    ),
    ("network", "connect", "No route to host", "No route to host while connecting"),
    ("internal", "handshake", "KeyError: 'x'", "internal error: KeyError: 'x'"),
]


@pytest.mark.parametrize(("failure", "phase", "detail", "words"), CONNECTION)
def test_connection_words(failure: str, phase: str, detail: str, words: str) -> None:
    assert say(k.CONNECTION, {"failure": failure, "detail": detail, "phase": phase}) == words


def test_connection_detail_is_bounded() -> None:
    ev = {"failure": "tls-failed", "detail": "e" * 70, "phase": "handshake"}
    assert say(k.CONNECTION, ev, SHORT) == f"TLS handshake failed: {'e' * 57}..."


def test_different_certificate_words() -> None:
    ev = {"date": "2028-01-01", "their_date": "2027-01-01", "others": 1}
    assert say(k.DIFFERENT_CERTIFICATE, ev) == (
        "certificates differ: another certificate than the other node (expires 2028-01-01"
        " instead of 2027-01-01)"
    )
    ev = {"date": "2027-01-01", "their_date": "2027-01-01", "others": 3}
    assert say(k.DIFFERENT_CERTIFICATE, ev) == (
        "certificates differ: another certificate than the other 3 nodes"
    )


# -- DNS -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "detail", "words"),
    [
        ("nxdomain", "", "no such name (NXDOMAIN) (system resolver)"),
        ("no-aaaa", "", "no IPv6 (AAAA) address (system resolver)"),
        ("no-a", "", "no IPv4 (A) address (system resolver)"),
        ("no-address", "", "the name has no A or AAAA address (system resolver)"),
        ("timeout", "", "DNS lookup timed out (system resolver)"),
        ("servfail", "", "DNS lookup failed: server failure (system resolver)"),
        ("servfail", "REFUSED", "DNS lookup failed: server failure (REFUSED, system resolver)"),
        ("excluded", "", "-4/-6 excludes every address"),
        ("failed", "d" * 70, f"DNS lookup failed: {'d' * 57}... (system resolver)"),
    ],
)
def test_dns_words(failure: str, detail: str, words: str) -> None:
    assert resolution_text(failure, detail, "system resolver") == words
    assert resolution_failure(Resolution(MAIL, (), "system resolver", failure, detail)) == words
    ev = {"host": MAIL, "failure": failure, "detail": detail, "source": "system resolver"}
    assert say(k.NO_ADDRESS, ev, node=None) == words


def test_the_subject_of_a_finding() -> None:
    assert subject(Finding(k.EXPIRED, Critical, A)) == A
    assert (
        subject(Finding(k.NO_ADDRESS, Critical, None, {"host": "h" * 70}), SHORT)
        == "h" * 57 + "..."
    )
    assert subject(Finding(k.NO_ADDRESS, Critical, None, {"host": MAIL})) == MAIL
    assert subject(Finding(k.NOT_PUBLISHED, Warn, None, {"email": "x"})) == ""


# -- Autodiscover ---------------------------------------------------------------------------


def failed(kind: str, detail: str = "the detail", **kw: object) -> dict[str, object]:
    ev: dict[str, object] = {"email": "monitor@contoso.com", "redirected": False, "last": ""}
    ev.update(failure=kind, detail=detail, **kw)
    return ev


def test_autodiscover_failure_words() -> None:
    who = "Autodiscover for monitor@contoso.com"
    ev = failed("unauthorized", "401 from https://a/")
    assert say(k.AUTODISCOVER_FAILED, ev, SHORT) == f"{who}: wrong user name or password (HTTP 401)"
    assert say(k.AUTODISCOVER_FAILED, ev) == f"{who}: wrong credentials (401 from https://a/)"
    ev = failed("ntlm-missing", "https://a/ asks for NTLM")
    first = (
        "broken installation: Python module pyspnego is not installed"
        f" ({who} accepts only NTLM/Negotiate)"
    )
    assert say(k.AUTODISCOVER_FAILED, ev, SHORT) == first
    assert say(k.AUTODISCOVER_FAILED, ev) == (
        f"{first}, https://a/ asks for NTLM: {install_hint('pyspnego')}"
    )
    ev = failed("error-response", "error 600: Invalid Request")
    assert (
        say(k.AUTODISCOVER_FAILED, ev, SHORT)
        == f"{who}: the server answered error 600: Invalid Request"
    )
    ev = failed("unreachable", "every endpoint failed", last="refused")
    assert say(k.AUTODISCOVER_FAILED, ev, SHORT) == f"{who}: no endpoint answered (last: refused)"
    assert say(k.AUTODISCOVER_FAILED, ev) == f"{who}: every endpoint failed"
    assert say(k.AUTODISCOVER_FAILED, failed("unreachable", "none"), SHORT) == f"{who}: none"
    assert (
        say(k.AUTODISCOVER_FAILED, failed("loop", "a redirect loop")) == f"{who}: a redirect loop"
    )
    # the detail and the last outcome are not names: the long bound holds them on the first line too
    ev = failed("timeout", "t" * 150)
    assert say(k.AUTODISCOVER_FAILED, ev, SHORT) == f"{who}: {'t' * 150}"
    ev = failed("unreachable", "x", last="l" * 150)
    assert (
        say(k.AUTODISCOVER_FAILED, ev, SHORT) == f"{who}: no endpoint answered (last: {'l' * 150})"
    )


def test_a_redirected_address_is_server_text(password: str) -> None:
    ev = failed("timeout", "t", email=f"{password}@fabrikam.com", redirected=True)
    assert say(k.AUTODISCOVER_FAILED, ev) == "Autodiscover for (hidden)@fabrikam.com: t"
    ev = failed("timeout", "t", email="e" * 70)
    assert say(k.AUTODISCOVER_FAILED, ev, SHORT) == f"Autodiscover for {'e' * 57}...: t"
    ev = failed("timeout", "t", email="e" * 70, redirected=True)
    assert say(k.AUTODISCOVER_FAILED, ev, SHORT) == f"Autodiscover for {'e' * 57}...: t"


def test_publication_words(password: str) -> None:
    assert say(k.NOT_PUBLISHED, {"email": "e" * 70}, SHORT, None) == (
        f"Autodiscover for {'e' * 57}... publishes neither EXPR nor EXHTTP (Outlook Anywhere is"
        " not published for this mailbox)"
    )
    assert say(k.UNPINNED, {"provider": "EXHTTP"}, node=None) == (
        "Autodiscover publishes EXHTTP CertPrincipalName None: mutual authentication is not"
        " enforced"
    )
    assert say(k.SSL_OFF, {"provider": "EXHTTP"}, node=None) == (
        "Autodiscover publishes EXHTTP with SSL Off: no TLS, so no mutual authentication"
    )
    assert (
        say(k.NO_SERVER, {"provider": "EXPR"}, node=None)
        == "Autodiscover publishes EXPR without a Server"
    )
    ev = {"provider": "EXPR and EXHTTP", "published": f"{password}.contoso.com", "expected": MAIL}
    assert say(k.PRINCIPAL_DISAGREES, ev, node=None) == (
        "Autodiscover EXPR and EXHTTP publish msstd:(hidden).contoso.com, -P expects"
        " msstd:mail.contoso.com"
    )
    ev = {"provider": "EXHTTP", "published": "p" * 70, "expected": "e" * 70}
    assert say(k.PRINCIPAL_DISAGREES, ev, SHORT, None) == (
        f"Autodiscover EXHTTP publishes msstd:{'p' * 57}..., -P expects msstd:{'e' * 57}..."
    )


# -- the RPC proxy ----------------------------------------------------------------------------


def test_rpc_words(password: str) -> None:
    def rpc(kind: str, **ev: object) -> str:
        return phrase(Finding(kind, Critical, A, ev))

    assert rpc(k.RPC_UNREACHABLE, detail="timed out") == "rpcproxy.dll timed out"
    assert rpc(k.RPC_NO_SCHEME) == "rpcproxy.dll answered 401 without any WWW-Authenticate scheme"
    assert rpc(
        k.RPC_MISSING_SCHEME, missing=["Negotiate", "NTLM"], offered=["Basic", password]
    ) == ("rpcproxy.dll does not offer Negotiate, NTLM (offers Basic, (hidden))")
    # a scheme is a server's word: cut at 40 characters
    assert rpc(k.RPC_MISSING_SCHEME, missing=["NTLM"], offered=["s" * 40, "t" * 41]) == (
        f"rpcproxy.dll does not offer NTLM (offers {'s' * 40}, {'t' * 37}...)"
    )
    assert rpc(k.RPC_ANONYMOUS, status="200 OK") == (
        "rpcproxy.dll answered 200 without authentication (anonymous access enabled)"
    )
    assert rpc(k.RPC_REDIRECT, status="302 Found", location=f"https://x/?{password}") == (
        "rpcproxy.dll answered 302 Found: unexpected redirect to https://x/?(hidden)"
    )
    assert rpc(k.RPC_REDIRECT, status="302 Found", location="") == (
        "rpcproxy.dll answered 302 Found: unexpected redirect"
    )
    assert rpc(k.RPC_NOT_INSTALLED, status="404 Not Found") == (
        "rpcproxy.dll answered 404 Not Found: the RPC proxy is not installed"
    )
    assert (
        rpc(k.RPC_FORBIDDEN, status=f"403 {password}")
        == "rpcproxy.dll answered 403 (hidden): access forbidden"
    )
    assert rpc(k.RPC_FAILURE, status="503 RPC Error: 6ba", rpc_error="6ba") == (
        "rpcproxy.dll answered 503 RPC Error: 6ba (RPC proxy failure)"
    )
    assert (
        rpc(k.RPC_FAILURE, status="500 Internal", rpc_error="")
        == "rpcproxy.dll answered 500 Internal"
    )
    long = phrase(Finding(k.RPC_FAILURE, Critical, A, {"status": "5" * 70, "rpc_error": ""}), SHORT)
    assert long == f"rpcproxy.dll answered {'5' * 57}..."
    long = phrase(Finding(k.RPC_UNREACHABLE, Critical, A, {"detail": "d" * 70}), SHORT)
    assert long == f"rpcproxy.dll {'d' * 57}..."


def rpc_text(rpc: RpcFacts) -> str:
    """What the long output says the node's RPC proxy answered (a node that said nothing else)."""
    silent = node(A, failure="refused")
    silent.connect_time = None
    verdict, facts, _ = check([silent], rpc=[rpc])
    [line] = long_output(verdict, facts, 0)
    return line.split(" -- ", 1)[1] if " -- " in line else ""


def autodiscover_text(ad: AutodiscoverFacts) -> str:
    """What the long output's Autodiscover line says was asked and published."""
    verdict, facts, _ = check([], autodiscover=ad)
    [line] = long_output(verdict, facts, 0)
    return line.split(" -- ", 1)[1]


def test_rpc_text(password: str) -> None:
    facts = RpcFacts(A, 401, "Unauthorized", ["Negotiate", password], elapsed=0.0123)
    facts.server_name, facts.fe_server = "EX01", f"EX02-{password}"
    assert rpc_text(facts) == (
        "rpcproxy.dll 401 Unauthorized; schemes Negotiate, (hidden); server EX01;"
        " X-FEServer EX02-(hidden); 12 ms"
    )
    assert rpc_text(RpcFacts(A, 200)) == "rpcproxy.dll 200"
    assert rpc_text(RpcFacts(A, error="timed out")) == ""
    assert rpc_text(RpcFacts(A, 401, "r" * 100)) == f"rpcproxy.dll 401 {'r' * 77}..."
    # a scheme is cut at 40 characters; a time is in whole milliseconds
    slow = RpcFacts(A, 401, "", ["s" * 40, "t" * 41], elapsed=0.9996)
    assert rpc_text(slow) == f"rpcproxy.dll 401; schemes {'s' * 40}, {'t' * 37}...; 1000 ms"


# -- fixes --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fix", "words"),
    [
        (
            Fix(certificate="mail.contoso.com", correct="-P", value="owa.contoso.com"),
            "fix: a certificate whose CN is mail.contoso.com, and correct -P to"
            " msstd:owa.contoso.com",
        ),
        (Fix(correct="-P", value="owa.contoso.com"), "fix: correct -P to msstd:owa.contoso.com"),
        (
            Fix(publish="owa.contoso.com", provider="EXPR and EXHTTP"),
            'fix: Set-OutlookProvider EXPR -CertPrincipalName:"msstd:owa.contoso.com" and'
            ' Set-OutlookProvider EXHTTP -CertPrincipalName:"msstd:owa.contoso.com"',
        ),
        (
            Fix(certificate="mail.contoso.com", publish="*.contoso.com", provider="EXHTTP"),
            "fix: a certificate whose CN is mail.contoso.com, or Set-OutlookProvider EXHTTP"
            ' -CertPrincipalName:"msstd:*.contoso.com"',
        ),
        (
            Fix(certificate="mail.contoso.com"),
            "fix: replace the certificate with one whose CN is mail.contoso.com",
        ),
        (Fix(), "fix: replace the certificate"),
    ],
)
def test_fix_words(fix: Fix, words: str) -> None:
    assert fix_text(fix) == words


def test_fix_names_are_shown_safely() -> None:
    fix = Fix(certificate="a\x00b", correct="-P", value=None)
    assert fix_text(fix) == "fix: a certificate whose CN is a\\x00b, and correct -P to msstd:"
    assert fix_text(Fix(correct="-P")) == "fix: correct -P to msstd:"


# -- descriptions in the long output ----------------------------------------------------------


def test_certificate_text() -> None:
    leaf = cert(cns=(MAIL, "owa|x"), sans=(MAIL, "owa.contoso.com"), days=12.34)
    leaf.emails = ("admin@contoso.com", "b@contoso.com")
    assert certificate_text(leaf, NOW) == (
        "CN mail.contoso.com, owa/x; e-mail admin@contoso.com, b@contoso.com;"
        f" SAN mail.contoso.com, owa.contoso.com; 12.3 days left ({iso_date(NOW + 12.34 * DAY)});"
        " issuer Contoso CA"
    )
    bare = cert(cns=(), sans=(), issuer="i\x00")
    assert certificate_text(bare, NOW) == (
        f"no subject CN; 300.0 days left ({iso_date(NOW + 300 * DAY)}); issuer i\\x00"
    )


def test_node_details() -> None:
    leaf = cert()
    facts = node(A, leaf)
    assert node_details(facts, NOW) == (
        f"{certificate_text(leaf, NOW)}; thumbprint {leaf.thumbprint}; TLSv1.3; 3 ms"
    )
    facts.tls_version, facts.connect_time = "", None
    assert (
        node_details(facts, NOW) == f"{certificate_text(leaf, NOW)}; thumbprint {leaf.thumbprint}"
    )
    assert node_details(node(A), NOW) == "connected in 1 ms"
    silent = node(A)
    silent.connect_time = None
    assert node_details(silent, NOW) == ""


def test_autodiscover_text(password: str) -> None:
    facts = AutodiscoverFacts("monitor@contoso.com", f"{password}@fabrikam.com", elapsed=0.25)
    facts.url = "https://autodiscover.fabrikam.com/autodiscover/autodiscover.xml"
    facts.hops = ["https://a/", "https://b/"]
    facts.from_servers = {facts.final_email, facts.url}
    facts.attempts = [Attempt(f"https://{i}/", f"refused {i}") for i in range(9)]
    facts.document = Document(
        action="settings",
        providers=(
            Provider("EXPR", "mail.contoso.com", "On", "Ntlm", f"msstd:{password}.contoso.com"),
            Provider("EXHTTP", "", "", "Ntlm", "None"),
            Provider("WEB", "web.contoso.com"),
        ),
    )
    tried = ", ".join(f"https://{i}/: refused {i}" for i in range(8))
    assert autodiscover_text(facts) == (
        "Autodiscover monitor@contoso.com; redirected to (hidden)@fabrikam.com; answered by"
        " https://autodiscover.fabrikam.com/autodiscover/autodiscover.xml; 2 redirect(s);"
        " EXPR Server mail.contoso.com, SSL On, CertPrincipalName msstd:(hidden).contoso.com;"
        f" EXHTTP Server (none), CertPrincipalName None; tried {tried}; 250 ms"
    )
    plain = AutodiscoverFacts("monitor@contoso.com", "monitor@contoso.com", elapsed=0.0014)
    plain.url = f"https://mail.contoso.com/{password}"  # the admin's own URL: not server text
    plain.document = Document(providers=(Provider("EXPR", "mail.contoso.com"),))
    assert autodiscover_text(plain) == (
        f"Autodiscover monitor@contoso.com; answered by https://mail.contoso.com/{password};"
        " EXPR Server mail.contoso.com, no CertPrincipalName, so msstd:mail.contoso.com; 1 ms"
    )
    # what a server wrote as SSL is cut at 8 characters; a time is in whole milliseconds
    odd = AutodiscoverFacts("monitor@contoso.com", "monitor@contoso.com", elapsed=0.9996)
    odd.document = Document(providers=(Provider("EXPR", MAIL, "OnOnOnOnOn", "", "None"),))
    assert autodiscover_text(odd) == (
        "Autodiscover monitor@contoso.com; EXPR Server mail.contoso.com, SSL OnOnO...,"
        " CertPrincipalName None; 1000 ms"
    )


# -- the first line and the long output ---------------------------------------------------------


def check(nodes: list, pol: object = None, **more: object) -> tuple:
    pol = pol or policy()
    facts = CheckFacts(NOW, MAIL, None, nodes)
    for name, value in more.items():
        setattr(facts, name, value)
    verdict = judge(facts, pol)  # type: ignore[arg-type]
    return verdict, facts, pol


def first(nodes: list, pol: object = None, budget: int = 160, **more: object) -> str:
    verdict, facts, pol = check(nodes, pol, **more)
    return headline(verdict, facts, pol, budget)


def test_all_well_says_how_the_principal_matched() -> None:
    days = "300.0 days left (expires 2027-11-11)"
    assert (
        first([node(A, cert())]) == f"1/1 nodes OK: msstd:mail.contoso.com matches the CN, {days}"
    )
    san = cert(cns=("ex01.contoso.com",), sans=("ex01.contoso.com", "MAIL.contoso.com"))
    # the SAN as the certificate spells it; every node serves this one certificate
    got = first([node(A, san), node(B, san)], policy(match_mode="cn-or-san"), 300)
    assert got == f"2/2 nodes OK: msstd:mail.contoso.com matches SAN MAIL.contoso.com, {days}"
    two = autodiscover_of(("EXPR", MAIL), ("EXHTTP", "MAIL.contoso.com."))
    got = first([node(A, cert(sans=(MAIL, "ex.contoso.com")))], None, 300, autodiscover=two)
    assert got.startswith(f"1/1 nodes OK: msstd:mail.contoso.com matches the CN, {days}")
    both = autodiscover_of(("EXPR", MAIL), ("EXHTTP", "ex.contoso.com"))
    leaf = cert(sans=(MAIL, "ex.contoso.com"))
    got = first([node(A, leaf)], policy(match_mode="cn-or-san"), 300, autodiscover=both)
    assert got.startswith(
        "1/1 nodes OK: msstd:mail.contoso.com matches the CN, msstd:ex.contoso.com matches SAN"
        f" ex.contoso.com, {days}"
    )


def autodiscover_of(*published: tuple[str, str]) -> AutodiscoverFacts:
    facts = AutodiscoverFacts("monitor@contoso.com", "monitor@contoso.com")
    providers = tuple(Provider(kind, MAIL, "On", "", "msstd:" + name) for kind, name in published)
    facts.document = Document(providers=providers)
    return facts


def test_all_well_says_what_was_checked() -> None:
    rpc = [RpcFacts(A, 401, "", ["Negotiate", "NTLM"]), RpcFacts(B, 401, "", ["NTLM", "Basic"])]
    facts_ad = AutodiscoverFacts("monitor@contoso.com", "monitor@contoso.com")
    facts_ad.document = Document(providers=(Provider("EXPR", MAIL, "On", "", "msstd:" + MAIL),))
    got = first(
        [node(A, cert()), node(B, cert())],
        policy(check_trust=False),
        300,
        rpc=rpc,
        autodiscover=facts_ad,
    )
    assert got == (
        "2/2 nodes OK: msstd:mail.contoso.com matches the CN, 300.0 days left (expires"
        " 2027-11-11), as Autodiscover publishes, trust not checked, rpcproxy.dll 401"
        " (Negotiate, NTLM, Basic)"
    )
    assert first([]) == "no node to check"
    # a scheme on the first line is cut at 20 characters
    long = [RpcFacts(A, 401, "", ["s" * 20, "t" * 21])]
    assert first([node(A, cert())], None, 300, rpc=long).endswith(
        f", rpcproxy.dll 401 ({'s' * 20}, {'t' * 17}...)"
    )


def test_the_first_line_is_bounded_and_has_no_semicolon() -> None:
    bad = cert(cns=("owa;contoso.com",), sans=())
    assert first([node(A, bad)], budget=400) == (
        "10.0.0.1: Mutual Authentication could not be established: certificate CN"
        " owa,contoso.com, expected msstd:mail.contoso.com [0/1 nodes OK]"
    )
    got = first([node(A, failure="refused"), node(B, bad)], budget=53)
    assert got == "10.0.0.1: connection refused (+1 more) [0/2 nodes OK]"  # 53 characters
    got = first([node(A, failure="refused"), node(B, bad)], budget=49)
    assert got == "10.0.0.1: connection... (+1 more) [0/2 nodes OK]"  # the cut drops the space
    got = first([node(A, failure="refused"), node(B, bad)], budget=52)
    assert got == "10.0.0.1: connection ref... (+1 more) [0/2 nodes OK]"  # 52 characters
    assert first([node(A, bad)], budget=18) == "... [0/1 nodes OK]"
    assert first([node(A, bad)], budget=10) == "... [0/1 nodes OK]"  # the tail is never cut


def test_names_are_cut_on_the_first_line_and_never_in_the_long_output() -> None:
    long_cn = cert(cns=("c" * 70,), sans=())
    verdict, facts, pol = check([node(A, long_cn)])
    assert headline(verdict, facts, pol, 300) == (
        f"10.0.0.1: Mutual Authentication could not be established: certificate CN {'c' * 57}...,"
        " expected msstd:mail.contoso.com [0/1 nodes OK]"
    )
    assert long_output(verdict, facts, 0)[0].startswith(
        f"10.0.0.1 CRITICAL: Mutual Authentication could not be established: certificate CN"
        f" {'c' * 70}, expected"
    )
    ok = cert(cns=("h" * 70,), sans=())
    verdict, facts, pol = check([node(A, ok)], policy(host="h" * 70))
    assert headline(verdict, facts, pol, 300).startswith(
        f"1/1 nodes OK: msstd:{'h' * 57}... matches the CN, 300.0 days left"
    )


def test_without_an_address_there_are_no_nodes_to_count() -> None:
    resolution = Resolution(MAIL, (), "system resolver", "nxdomain")
    verdict, facts, pol = check([], resolution=resolution)
    assert headline(verdict, facts, pol, 200) == (
        "mail.contoso.com: no such name (NXDOMAIN) (system resolver)"
    )


def test_the_first_line_counts_the_other_findings() -> None:
    old = cert(days=-1, cns=("owa.contoso.com",), sans=())
    got = first([node(A, old)], budget=300)
    assert got.endswith("(+1 more) [0/1 nodes OK]")
    assert got.startswith("10.0.0.1: Mutual Authentication could not be established")
    assert first([node(A, cert(days=-1))], budget=300) == (
        "10.0.0.1: certificate expired 1.0 days ago (2027-01-14) [0/1 nodes OK]"
    )


def test_long_output_lines() -> None:
    resolution = Resolution(MAIL, (), "DNS server 127.0.0.53:53", "nxdomain")
    verdict, facts, _ = check([], resolution=resolution)
    assert long_output(verdict, facts, 0) == [
        "CRITICAL: mail.contoso.com: no such name (NXDOMAIN) (DNS server 127.0.0.53:53)"
    ]
    ad = AutodiscoverFacts("monitor@contoso.com", "monitor@contoso.com", elapsed=0.002)
    ad.document = Document(providers=(Provider("EXPR", MAIL, "Off", "", "None"),))
    leaf, other = cert(), cert(der=b"other")
    rpc = [RpcFacts(A, 401, "Unauthorized", ["NTLM"], elapsed=0.004)]
    verdict, facts, _ = check([node(A, leaf), node(B, other)], autodiscover=ad, rpc=rpc)
    lines = long_output(verdict, facts, 1)
    assert lines[0] == (
        "Autodiscover WARNING: Autodiscover publishes EXPR with SSL Off: no TLS, so no mutual"
        " authentication; Autodiscover publishes EXPR CertPrincipalName None: mutual"
        " authentication is not enforced; fix: Set-OutlookProvider EXPR"
        ' -CertPrincipalName:"msstd:mail.contoso.com"'
        " -- Autodiscover monitor@contoso.com; EXPR Server mail.contoso.com, SSL Off,"
        " CertPrincipalName None; 2 ms"
    )
    # worst first: the WARNING node (its chain under it), then the OK one
    assert lines[1] == (
        "10.0.0.2 WARNING: certificates differ: another certificate than the other node"
        f" (thumbprint {other.thumbprint}, the others' {leaf.thumbprint})"
        f" -- {node_details(facts.nodes[1], NOW)}"
    )
    assert lines[2] == f"  [0] {certificate_text(other, NOW)}; serial 01; SHA-256 {other.sha256}"
    assert (
        lines[4]
        == f"10.0.0.1 OK -- {node_details(facts.nodes[0], NOW)}; rpcproxy.dll 401 Unauthorized;"
        " schemes NTLM; 4 ms"
    )
    assert lines[5] == f"  [0] {certificate_text(leaf, NOW)}; serial 01; SHA-256 {leaf.sha256}"
    assert lines[6] == f"  [1] {certificate_text(CA, NOW)}; serial 01; SHA-256 {CA.sha256}"
    assert len(lines) == 7
    assert long_output(verdict, facts, 0) == [lines[0], lines[1], lines[4]]


def test_long_output_of_a_quiet_autodiscover_and_a_node_without_details() -> None:
    ad = AutodiscoverFacts("monitor@contoso.com", "monitor@contoso.com")
    ad.document = Document(providers=(Provider("EXPR", MAIL, "On", "", "msstd:" + MAIL),))
    silent = node(B, failure="refused")
    silent.connect_time = None
    verdict, facts, _ = check([node(A, cert()), silent], autodiscover=ad)
    lines = long_output(verdict, facts, 0)
    assert lines[0] == "10.0.0.2 CRITICAL: connection refused"  # worst first
    assert lines[1] == (
        "Autodiscover OK -- Autodiscover monitor@contoso.com; EXPR Server mail.contoso.com,"
        " SSL On, CertPrincipalName msstd:mail.contoso.com; 0 ms"
    )
    unknown = node(A, failure="broken", detail="cryptography")
    verdict, facts, _ = check([unknown])
    assert long_output(verdict, facts, 0)[0].startswith("10.0.0.1 UNKNOWN: broken installation")
    assert verdict.state == Unknown


def test_trace_lines() -> None:
    steps = [(0.0, "dns", "mail.contoso.com"), (1.23456, "10.0.0.1", "a\x00" + "b" * 250)]
    assert trace_lines(steps) == [
        "trace:",
        "      0.0 ms  dns: mail.contoso.com",
        f"   1234.6 ms  10.0.0.1: a\\x00{'b' * 192}...",
    ]


def test_states_are_named_in_capitals() -> None:
    verdict, facts, _ = check([node(A, cert(days=20))])
    assert long_output(verdict, facts, 0)[0].startswith("10.0.0.1 WARNING: certificate expires in")
    assert verdict.state == Warn
