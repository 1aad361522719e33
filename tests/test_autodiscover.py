"""--autodiscover against the lab's Autodiscover endpoints
(contrib/lab/endpoints/autodiscover.py), through the CLI.

The lab records every request it receives, so the tests assert on what really arrived: which
host was asked first, and that credentials never reach an endpoint that does not verify or a
plain-HTTP one.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from xml.etree import ElementTree

import pytest

from contrib.lab import Lab
from contrib.lab.endpoints.autodiscover import XXE_MARKER
from contrib.lab.identities.accounts import PASSWORD
from outlook_anywhere.autodiscover.request import REQUEST_SCHEMA, request_body
from tests.conftest import REPO, Outcome, run_plugin, run_with_peak_memory


@pytest.fixture(autouse=True)
def fresh_web(lab: Lab) -> Iterator[None]:
    lab.web.load_zone()
    lab.web.clear()
    yield


def base(lab: Lab) -> list[str]:
    return ["-p", str(lab.port), "--dns-server", lab.dns_server, "--ca-file", lab.ca_file]


def ad(lab: Lab, password_file: str, email: str, *extra: str, url: str | None = None) -> Outcome:
    """--autodiscover EMAIL at the endpoint ``url`` (a lab host name) or by the lookup."""
    args = [*base(lab), "--autodiscover", email, "--password-file", password_file]
    if url is not None:
        args += ["--autodiscover-url", lab.web.url(url)]
    else:
        args += ["--autodiscover-port", str(lab.web.port)]
    return run_plugin(*args, *extra)


ENDPOINT = "autodiscover.contoso.test"


def assert_clean(out: Outcome) -> None:
    assert out.stderr == ""
    assert "Traceback" not in out.stdout
    assert len(out.status) <= 200 and ";" not in out.status, out.status


def expires(lab: Lab, cert: str = "healthy") -> str:
    return lab.chain(cert).leaf.not_valid_after_utc.date().isoformat()


def all_well(lab: Lab) -> str:
    """The first line when the healthy array satisfies what Autodiscover publishes."""
    return (
        "OUTLOOK_ANYWHERE OK - 3/3 nodes OK: msstd:healthy.contoso.test matches the CN, 300.0"
        f" days left (expires {expires(lab)}), as Autodiscover publishes"
    )


def autodiscover_line(out: Outcome) -> str:
    """The one long-output line about Autodiscover."""
    lines = [line for line in out.long_output if line.startswith("Autodiscover ")]
    assert len(lines) == 1, out.stdout
    return lines[0]


# -- what Autodiscover publishes ------------------------------------------------------------


MISMATCH = (
    "127.0.10.1: Mutual Authentication could not be established: certificate CN"
    " healthy.contoso.test, expected msstd:owa.contoso.test (+2 more) [0/3 nodes OK]"
)


@pytest.mark.parametrize(
    ("mailbox", "code", "status"),
    [
        ("monitor", 0, None),
        ("absent", 0, None),
        ("exhttp", 0, None),
        (
            "none",
            1,
            "OUTLOOK_ANYWHERE WARNING - Autodiscover publishes EXPR CertPrincipalName None:"
            " mutual authentication is not enforced (+1 more) [3/3 nodes OK]",
        ),
        (
            "noexpr",
            1,
            "OUTLOOK_ANYWHERE WARNING - Autodiscover for noexpr@contoso.test publishes neither"
            " EXPR nor EXHTTP (Outlook Anywhere is not published for this mailbox)",
        ),
        (
            "ssl-off",
            1,
            "OUTLOOK_ANYWHERE WARNING - Autodiscover publishes EXPR with SSL Off: no TLS, so no"
            " mutual authentication (+1 more) [3/3 nodes OK]",
        ),
        ("wrong", 2, f"OUTLOOK_ANYWHERE CRITICAL - {MISMATCH}"),
        (
            "error600",
            2,
            "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for error600@contoso.test: the server"
            " answered error 600: Invalid Request",
        ),
    ],
)
def test_published_settings(
    lab: Lab, password_file: str, mailbox: str, code: int, status: str | None
) -> None:
    out = ad(lab, password_file, f"{mailbox}@contoso.test", url=ENDPOINT)
    assert_clean(out)
    assert out.status == (status or all_well(lab)), out.stdout
    assert out.code == code


def test_unpinned_names_each_provider_and_a_safe_fix(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "none@contoso.test", url=ENDPOINT)
    # the nodes themselves are fine: one line for Autodiscover, one per node
    assert autodiscover_line(out).startswith(
        "Autodiscover WARNING: Autodiscover publishes EXPR CertPrincipalName None: mutual"
        " authentication is not enforced; fix: Set-OutlookProvider EXPR"
        ' -CertPrincipalName:"msstd:healthy.contoso.test"; Autodiscover publishes EXHTTP'
        " CertPrincipalName None: mutual authentication is not enforced; fix: Set-OutlookProvider"
        ' EXHTTP -CertPrincipalName:"msstd:healthy.contoso.test" -- Autodiscover'
        " none@contoso.test; "
    )
    assert [line.split()[:2] for line in out.long_output[1:]] == [
        ["127.0.10.1", "OK"],
        ["127.0.10.2", "OK"],
        ["127.0.10.3", "OK"],
    ]
    assert out.perfdata["nodes_ok"] == "3;;;0;3"


def test_mismatch_names_both_and_the_fix(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "wrong@contoso.test", url=ENDPOINT)
    assert out.status == f"OUTLOOK_ANYWHERE CRITICAL - {MISMATCH}"
    # EXHTTP publishes the same wrong name (Outlook 2013+ against Exchange 2013+ read it): the
    # fix corrects both providers, or it leaves those clients failing
    fix = (
        "fix: a certificate whose CN is owa.contoso.test, or Set-OutlookProvider EXPR"
        ' -CertPrincipalName:"msstd:healthy.contoso.test" and Set-OutlookProvider EXHTTP'
        ' -CertPrincipalName:"msstd:healthy.contoso.test" -- CN healthy.contoso.test; '
    )
    for address in lab.scenario("healthy").addresses:
        (line,) = [line for line in out.long_output if line.startswith(f"{address} ")]
        assert line.startswith(
            f"{address} CRITICAL: Mutual Authentication could not be established: certificate CN"
            " healthy.contoso.test, expected msstd:owa.contoso.test (what Autodiscover publishes"
            f" in EXPR and EXHTTP); {fix}"
        ), line


def test_expr_server_becomes_the_host_and_perfdata(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "monitor@contoso.test", url=ENDPOINT)
    assert out.code == 0
    assert out.perfdata["nodes"] == "3;;;0"
    assert float(out.perfdata["autodiscover_time"].split(";")[0].rstrip("s")) > 0
    published = "Server healthy.contoso.test, SSL On, CertPrincipalName msstd:healthy.contoso.test"
    line = autodiscover_line(out)
    assert line.startswith(
        "Autodiscover OK -- Autodiscover monitor@contoso.test; answered by"
        f" {lab.web.url(ENDPOINT)}; EXPR {published}; EXHTTP {published}; "
    ), line
    assert line.endswith(" ms")
    assert [line.split()[0] for line in out.long_output[1:]] == lab.scenario("healthy").addresses


# -- -P and what Autodiscover publishes: the nodes are judged against what clients pin ----------


def test_principal_option_differing_from_published_is_critical(
    lab: Lab, password_file: str
) -> None:
    # The certificates satisfy the published principal: -P is the side that is wrong.
    out = ad(lab, password_file, "monitor@contoso.test", "-P", "owa.contoso.test", url=ENDPOINT)
    assert_clean(out)
    assert out.code == 2
    assert out.status == (
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover EXPR and EXHTTP publish"
        " msstd:healthy.contoso.test, -P expects msstd:owa.contoso.test [3/3 nodes OK]"
    )
    assert autodiscover_line(out).startswith(
        "Autodiscover CRITICAL: Autodiscover EXPR and EXHTTP publish msstd:healthy.contoso.test, -P"
        " expects msstd:owa.contoso.test; fix: correct -P to msstd:healthy.contoso.test -- "
    )
    assert "Set-OutlookProvider" not in out.stdout
    assert out.perfdata["nodes_ok"] == "3;;;0;3"


def test_published_principal_wrong_and_principal_option_right(lab: Lab, password_file: str) -> None:
    # The certificates satisfy -P only: the publication is the side that is wrong, in both
    # providers that publish it.
    out = ad(lab, password_file, "wrong@contoso.test", "-P", "healthy.contoso.test", url=ENDPOINT)
    assert_clean(out)
    assert out.code == 2
    assert out.status == (
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover EXPR and EXHTTP publish"
        " msstd:owa.contoso.test, -P expects msstd:healthy.contoso.test (+3 more) [0/3 nodes OK]"
    )
    assert autodiscover_line(out).startswith(
        "Autodiscover CRITICAL: Autodiscover EXPR and EXHTTP publish msstd:owa.contoso.test, -P"
        " expects msstd:healthy.contoso.test; fix: Set-OutlookProvider EXPR"
        ' -CertPrincipalName:"msstd:healthy.contoso.test" and Set-OutlookProvider EXHTTP'
        ' -CertPrincipalName:"msstd:healthy.contoso.test" -- '
    )
    assert "correct -P" not in out.stdout


def test_neither_principal_satisfied_proposes_no_unsatisfied_publication(
    lab: Lab, password_file: str
) -> None:
    out = ad(lab, password_file, "wrong@contoso.test", "-P", "other.contoso.test", url=ENDPOINT)
    assert_clean(out)
    assert out.code == 2
    assert out.status == (
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover EXPR and EXHTTP publish"
        " msstd:owa.contoso.test, -P expects msstd:other.contoso.test (+3 more) [0/3 nodes OK]"
    )
    assert autodiscover_line(out).startswith(
        "Autodiscover CRITICAL: Autodiscover EXPR and EXHTTP publish msstd:owa.contoso.test,"
        " -P expects msstd:other.contoso.test; fix: a certificate whose CN is owa.contoso.test,"
        " and correct -P to msstd:owa.contoso.test -- "
    )
    # the only name the certificates satisfy is healthy.contoso.test
    for name in ("owa", "other"):
        assert f'-CertPrincipalName:"msstd:{name}.contoso.test"' not in out.stdout


def test_principal_option_and_published_agree(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "monitor@contoso.test", "-H", "healthy.contoso.test", url=ENDPOINT)
    assert out.code == 0, out.stdout
    assert out.status == all_well(lab)
    out = ad(
        lab, password_file, "monitor@contoso.test", "-P", "msstd:healthy.contoso.test",
        url=ENDPOINT,
    )  # fmt: skip
    assert out.code == 0, out.stdout
    assert out.status == all_well(lab)


# -- credentials ------------------------------------------------------------------------


def test_wrong_password_is_critical(lab: Lab, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password\n")
    out = ad(lab, str(wrong), "monitor@contoso.test", url=ENDPOINT)
    assert_clean(out)
    assert out.code == 2
    assert out.status == (
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for monitor@contoso.test: wrong user name or"
        " password (HTTP 401)"
    )
    # which endpoint refused, and what it said, below
    assert autodiscover_line(out).startswith(
        "Autodiscover CRITICAL: Autodiscover for monitor@contoso.test: wrong credentials"
        f" ({lab.web.url(ENDPOINT)}: 401 Unauthorized"
    )


def test_password_from_the_environment(lab: Lab) -> None:
    out = run_plugin(
        *base(lab),
        "--autodiscover",
        "monitor@contoso.test",
        "--autodiscover-url",
        lab.web.url(ENDPOINT),
        env={"OUTLOOK_ANYWHERE_PASSWORD": PASSWORD},
    )
    assert out.code == 0, out.stdout
    seen = lab.web.requests(user="monitor@contoso.test")
    assert seen and seen[-1].authorization.startswith("Basic ")


def test_username_option_is_sent(lab: Lab, password_file: str) -> None:
    out = ad(
        lab, password_file, "monitor@contoso.test", "--username", "CONTOSO\\monitor", url=ENDPOINT
    )
    assert out.code == 0
    assert lab.web.requests(user="CONTOSO\\monitor")


def test_ntlm_only_endpoint(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "monitor@contoso.test", url="ntlm.contoso.test")
    assert out.code == 0, out.stdout
    seen = lab.web.requests(host="ntlm.contoso.test")
    assert [s.authorization.split(" ")[0] for s in seen] == ["", "NTLM", "NTLM"]
    assert seen[-1].user == "monitor@contoso.test"


def test_an_endpoint_that_requires_extended_protection_gets_the_binding(
    lab: Lab, password_file: str
) -> None:
    """Autodiscover under Extended Protection Require (as Exchange can set it on its virtual
    directory): NTLM bound to the certificate the endpoint presented (RFC 5929 4.1)."""
    out = ad(lab, password_file, "monitor@contoso.test", url="ntlm-ep.contoso.test")
    assert_clean(out)
    assert out.code == 0, out.stdout
    assert autodiscover_line(out).startswith(
        "Autodiscover OK -- Autodiscover monitor@contoso.test; answered by"
        f" {lab.web.url('ntlm-ep.contoso.test')}; "
    )
    seen = lab.web.requests(host="ntlm-ep.contoso.test")
    assert [(s.auth, s.outcome, s.binding) for s in seen] == [
        ("", "", None),
        ("NTLM", "challenged", None),
        ("NTLM", "accepted", True),
    ]


def test_ntlm_preferred_to_basic(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "monitor@contoso.test", url="mixed.contoso.test")
    assert out.code == 0, out.stdout
    assert not any(s.authorization.startswith("Basic") for s in lab.web.seen)


def test_ntlm_wrong_password(lab: Lab, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password")
    out = ad(lab, str(wrong), "monitor@contoso.test", url="ntlm.contoso.test")
    assert_clean(out)
    assert out.code == 2
    assert out.status == (
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for monitor@contoso.test: wrong user name or"
        " password (HTTP 401)"
    )
    assert autodiscover_line(out).startswith(
        "Autodiscover CRITICAL: Autodiscover for monitor@contoso.test: wrong credentials"
        f" ({lab.web.url('ntlm.contoso.test')}: 401 Unauthorized"
    )


def test_ntlm_without_pyspnego_says_what_to_install(
    lab: Lab, password_file: str, tmp_path: Path
) -> None:
    # A module named spnego that cannot be imported stands for a missing pyspnego.  Exchange is
    # not what is wrong: this installation lacks the module the endpoint needs (UNKNOWN).
    (tmp_path / "spnego.py").write_text("raise ImportError('pyspnego is not installed')\n")
    out = run_plugin(
        *base(lab),
        "--autodiscover",
        "monitor@contoso.test",
        "--autodiscover-url",
        lab.web.url("ntlm.contoso.test"),
        "--password-file",
        password_file,
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert_clean(out)
    assert out.code == 3, out.stdout
    assert out.first_line.startswith("OUTLOOK_ANYWHERE UNKNOWN - "), out.stdout
    assert "pyspnego" in out.status, out.status
    assert lab.web.requests(host="ntlm.contoso.test")  # it did ask: the module is what failed


# -- the standard lookup ----------------------------------------------------------------


def test_lookup_starts_with_the_domain(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "monitor@contoso.test")
    assert out.code == 0, out.stdout
    hosts = [s.host for s in lab.web.seen]
    assert hosts and set(hosts) == {"contoso.test"}  # step 2 was never needed


def test_lookup_step_two_autodiscover_host(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "monitor@fabrikam.test")
    assert out.code == 0, out.stdout
    assert {s.host for s in lab.web.seen} == {"autodiscover.fabrikam.test"}
    assert "https://fabrikam.test:" in out.stdout  # step 1 was tried and failed (no address)


def test_lookup_step_three_http_redirect(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "monitor@northwind.test")
    assert out.code == 0, out.stdout
    plain = [s for s in lab.web.seen if not s.tls]
    assert [(s.method, s.host, s.authorization) for s in plain] == [
        ("GET", "autodiscover.northwind.test", "")
    ]
    posts = [s for s in lab.web.seen if s.tls]
    assert {s.host for s in posts} == {"mail.northwind.test"}


def test_lookup_step_four_srv(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "monitor@adatum.test")
    assert out.code == 0, out.stdout
    assert {s.host for s in lab.web.seen if s.tls} == {"mail.adatum.test"}
    assert "answered by https://mail.adatum.test:" in out.stdout


def test_lookup_skips_an_endpoint_whose_certificate_does_not_verify(
    lab: Lab, password_file: str
) -> None:
    out = ad(lab, password_file, "monitor@tailspin.test")
    assert out.code == 0, out.stdout
    tailspin = lab.web.addresses("tailspin.test")[0]
    assert not [s for s in lab.web.seen if s.address == tailspin]
    assert "certificate does not verify for tailspin.test" in out.stdout


def test_credentials_never_sent_to_an_unverified_endpoint(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "monitor@litware.test")
    assert_clean(out)
    assert out.code == 2
    assert out.status.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for monitor@litware.test: no endpoint answered"
    ), out.status
    assert (
        f"tried {lab.web.url('litware.test')}: certificate does not verify for litware.test"
        " (self-signed certificate in certificate chain); credentials not sent, "
    ) in autodiscover_line(out)
    assert lab.web.seen == []


def test_ignore_trust_never_applies_to_autodiscover(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "monitor@litware.test", "--ignore-trust")
    assert out.code == 2
    assert lab.web.seen == []


def test_http_redirect_to_plain_http_is_not_followed(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "monitor@wingtip.test")
    assert out.code == 2
    assert out.status.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for monitor@wingtip.test: no endpoint answered"
    ), out.status
    plain = lab.web.url("autodiscover.wingtip.test").replace("https://", "http://")
    target = lab.web.url("mail.wingtip.test").replace("https://", "http://")
    assert f"{plain}: 302 to {target} ignored (not https)" in autodiscover_line(out)
    assert [(s.method, s.tls, s.authorization) for s in lab.web.seen] == [("GET", False, "")]


def test_no_credentials_in_any_plain_http_request(lab: Lab, password_file: str) -> None:
    for email in ("monitor@northwind.test", "monitor@wingtip.test", "monitor@adatum.test"):
        ad(lab, password_file, email)
    plain = [s for s in lab.web.seen if not s.tls]
    assert plain and all(s.authorization == "" and s.method == "GET" for s in plain)


# -- redirects ---------------------------------------------------------------------------


@pytest.mark.parametrize("mailbox", ["redirect-addr", "redirect-url", "http-302"])
def test_redirects_are_followed(lab: Lab, password_file: str, mailbox: str) -> None:
    out = ad(lab, password_file, f"{mailbox}@contoso.test", url=ENDPOINT)
    assert out.code == 0, out.stdout
    assert out.status == all_well(lab)
    assert "; 1 redirect(s); " in autodiscover_line(out)
    if mailbox == "redirect-addr":  # the same URL (--autodiscover-url), the new address
        assert lab.web.requests(host=ENDPOINT, mailbox="monitor@fabrikam.test")
    else:
        assert lab.web.requests(host="autodiscover.fabrikam.test")


def test_redirect_addr_restarts_the_lookup_and_the_user_follows(
    lab: Lab, password_file: str
) -> None:
    out = ad(lab, password_file, "redirect-addr@contoso.test")
    assert out.code == 0, out.stdout
    fabrikam = lab.web.requests(host="autodiscover.fabrikam.test")
    assert fabrikam and fabrikam[-1].user == "monitor@fabrikam.test"
    assert fabrikam[-1].mailbox == "monitor@fabrikam.test"


def test_redirect_url_to_plain_http_is_refused(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "redirect-http-url@contoso.test", url=ENDPOINT)
    assert_clean(out)
    assert out.code == 2
    assert out.status.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for redirect-http-url@contoso.test: redirectUrl"
        " http://autodiscover.fabrikam.test"
    ), out.status
    # what is wrong with it belongs on the first line, not only the URL
    assert "refused" in out.status, out.status
    assert autodiscover_line(out).startswith(
        "Autodiscover CRITICAL: Autodiscover for redirect-http-url@contoso.test: redirectUrl"
        f" {lab.web.url('autodiscover.fabrikam.test').replace('https://', 'http://')} refused"
        " (not an https URL): credentials go only over verified TLS -- "
    )
    assert not lab.web.requests(host="autodiscover.fabrikam.test")


def test_redirect_to_an_unverified_host_gets_no_credentials(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "redirect-untrusted@contoso.test", url=ENDPOINT)
    assert_clean(out)
    assert out.code == 2
    assert out.status.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for redirect-untrusted@contoso.test: "
    ), out.status
    # the one endpoint tried, and why it got nothing: on the first line
    assert "certificate does not verify for tailspin.test" in out.status, out.status
    assert (
        f"tried {lab.web.url('tailspin.test')}: certificate does not verify for tailspin.test"
        " (Hostname mismatch, certificate is not valid for 'tailspin.test'.); credentials not"
        " sent"
    ) in autodiscover_line(out)
    tailspin = lab.web.addresses("tailspin.test")[0]
    assert not [s for s in lab.web.seen if s.address == tailspin]


def test_ten_redirects_are_followed(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "hops-10-0@contoso.test", url=ENDPOINT)
    assert out.code == 0, out.stdout
    assert "10 redirect(s)" in out.stdout


def test_the_eleventh_redirect_is_refused(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "hops-11-0@contoso.test", url=ENDPOINT)
    assert_clean(out)
    assert out.code == 2
    assert out.status.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for hops-11-10@contoso.test: more than 10"
        " redirects"
    ), out.status
    assert autodiscover_line(out).startswith(
        "Autodiscover CRITICAL: Autodiscover for hops-11-10@contoso.test: more than 10 redirects"
        " (last: redirectAddr hops-11-11@contoso.test) -- "
    )
    assert not lab.web.requests(mailbox="hops-11-11@contoso.test")


def test_address_redirect_loop(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "loop@contoso.test", url=ENDPOINT)
    assert_clean(out)
    assert out.code == 2
    assert out.status.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for loop2@contoso.test: redirect loop: address"
        " loop@contoso.test, then address loop2"
    ), out.status
    assert autodiscover_line(out).startswith(
        "Autodiscover CRITICAL: Autodiscover for loop2@contoso.test: redirect loop: address"
        " loop@contoso.test, then address loop2@contoso.test, then address loop@contoso.test -- "
    )


def test_url_redirect_loop(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "url-loop@contoso.test", url=ENDPOINT)
    assert out.code == 2
    assert out.first_line.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for url-loop@contoso.test: redirect loop:"
    )
    assert len(lab.web.requests(mailbox="url-loop@contoso.test")) <= 4


# -- hostile documents --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mailbox", "reason"),
    [
        ("billion", "unusable response: document declares a DTD"),
        ("xxe", "unusable response: document declares a DTD"),
        ("invalid", "unusable response: invalid XML at line 1"),
        ("wrong-ns", "unusable response: root element is not an Autodiscover response"),
        ("huge", "response body over 1 MiB"),
    ],
)
def test_hostile_documents(lab: Lab, password_file: str, mailbox: str, reason: str) -> None:
    out, peak_kib = run_with_peak_memory(
        *base(lab),
        "--autodiscover",
        f"{mailbox}@contoso.test",
        "--autodiscover-url",
        lab.web.url(ENDPOINT),
        "--password-file",
        password_file,
        "-vvv",
        "-t",
        "5",
    )
    assert_clean(out)
    assert out.code == 2
    assert out.first_line.startswith(
        f"OUTLOOK_ANYWHERE CRITICAL - Autodiscover for {mailbox}@contoso.test:"
    )
    assert reason in out.status, out.status
    assert out.elapsed < 6
    assert peak_kib < 120 * 1024, f"{peak_kib} KiB"  # the huge answer is 64 MiB
    assert "lol" not in out.stdout
    assert XXE_MARKER not in out.stdout
    assert "root:x:0:0" not in out.stdout
    assert "xxxxxxxx" not in out.stdout


def test_slow_drip_ends_within_the_deadline(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "drip@contoso.test", "-t", "3", url=ENDPOINT)
    assert_clean(out)
    assert out.code == 2
    assert out.first_line.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for drip@contoso.test: no answer in time"
    )
    assert out.elapsed < 4.5


def test_silent_lookup_with_host_still_checks_the_nodes(lab: Lab, password_file: str) -> None:
    out = ad(
        lab, password_file, "drip@contoso.test", "-H", "healthy.contoso.test", "-t", "3",
        url=ENDPOINT,
    )  # fmt: skip
    assert out.code == 2
    assert out.elapsed < 4.5
    # Autodiscover is CRITICAL; the nodes, judged against -H, are fine and counted so
    assert out.status.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for drip@contoso.test: no answer in time"
    ), out.status
    assert out.status.endswith(" [3/3 nodes OK]"), out.status
    assert out.perfdata["nodes"] == "3;;;0" and out.perfdata["nodes_ok"] == "3;;;0;3"
    assert sum(1 for line in out.long_output if " OK -- CN healthy.contoso.test" in line) == 3


# -- the password stays secret ---------------------------------------------------------------


def secret_forms(password: str, username: str = "monitor@contoso.test") -> list[str]:
    """Every encoding the password travels or may come back in."""
    from urllib.parse import quote, quote_plus

    raw = password.encode()
    basic = f"{username}:{password}".encode()
    return [
        password,
        quote(password, safe=""),
        quote_plus(password),
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        base64.b64encode(basic).decode(),
        base64.b64encode(basic).decode().rstrip("="),
        raw.hex(),
        raw.hex().upper(),
        password.encode("utf-16-le").hex(),
    ]


@pytest.mark.parametrize("verbosity", ["-v", "-vv", "-vvv"])
@pytest.mark.parametrize(
    ("mailbox", "url", "code"),
    [
        ("monitor@contoso.test", ENDPOINT, 0),
        ("monitor@contoso.test", "ntlm.contoso.test", 0),
        ("error600@contoso.test", ENDPOINT, 2),
        ("redirect-untrusted@contoso.test", ENDPOINT, 2),
        ("monitor@litware.test", None, 2),
    ],
)
def test_password_in_no_output(
    lab: Lab, password_file: str, verbosity: str, mailbox: str, url: str | None, code: int
) -> None:
    out = ad(lab, password_file, mailbox, verbosity, url=url)
    assert out.code == code, out.stdout  # the check ran to its verdict: nothing to hide behind
    assert f"Autodiscover {mailbox}" in out.stdout
    for secret in secret_forms(PASSWORD):
        assert secret not in out.stdout, secret
        assert secret not in out.stderr


def test_password_in_no_output_when_wrong(lab: Lab, tmp_path: Path) -> None:
    secret = "Wr0ng-but-secret-pw"
    path = tmp_path / "pw"
    path.write_text(secret)
    for url in (ENDPOINT, "ntlm.contoso.test"):
        out = ad(lab, str(path), "monitor@contoso.test", "-vvv", url=url)
        assert out.code == 2
        assert secret not in out.stdout + out.stderr


def test_password_on_the_command_line_is_refused_unquoted(lab: Lab) -> None:
    out = run_plugin("--autodiscover", "monitor@contoso.test", "--password=s3cr3t-value")
    assert out.code == 3
    assert out.first_line.startswith("OUTLOOK_ANYWHERE UNKNOWN - unrecognized arguments:")
    assert "s3cr3t-value" not in out.stdout
    out = run_plugin("--autodiscover", "monitor@contoso.test", "--password", "s3cr3t-value")
    assert out.code == 3
    assert "s3cr3t-value" not in out.stdout


@pytest.mark.parametrize(
    ("args", "prefix"),
    [
        (["--autodiscover", "monitor@contoso.test"], "OUTLOOK_ANYWHERE UNKNOWN - --autodiscover"
         " needs a password: --password-file FILE or OUTLOOK_ANYWHERE_PASSWORD"),
        (["--autodiscover", "not-an-address"], "OUTLOOK_ANYWHERE UNKNOWN - argument"
         " --autodiscover: 'not-an-address' is not an e-mail address"),
        (["--autodiscover", "a@contoso.test", "--autodiscover-url", "http://contoso.test/a"],
         "OUTLOOK_ANYWHERE UNKNOWN - argument --autodiscover-url: must be an https:// URL"),
        (["-H", "x.test", "--username", "u"],
         "OUTLOOK_ANYWHERE UNKNOWN - --username needs --autodiscover EMAIL"),
        (["-H", "x.test", "--expect-auth", "NTLM"],
         "OUTLOOK_ANYWHERE UNKNOWN - --expect-auth needs --rpc"),
        ([], "OUTLOOK_ANYWHERE UNKNOWN - missing -H/--host"),
    ],
)  # fmt: skip
def test_bad_arguments(args: list[str], prefix: str) -> None:
    out = run_plugin(*args, env={"OUTLOOK_ANYWHERE_PASSWORD": ""})
    assert out.code == 3
    assert out.stderr == ""
    assert out.first_line.startswith(prefix), out.stdout


def test_password_file_first_line_only(lab: Lab, tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_text(PASSWORD + "\r\nsecond line\n")
    out = ad(lab, str(path), "monitor@contoso.test", url=ENDPOINT)
    assert out.code == 0, out.stdout


# -- start-up cost --------------------------------------------------------------------------

_IMPORTS = """
import sys
sys.path.insert(0, {repo!r})
import check_outlook_anywhere
text, code = check_outlook_anywhere.run({argv!r})
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {families!r} or m in {families!r})
print(code, heavy)
"""


def _modules_after(
    argv: list[str], families: tuple[str, ...] = ("dns", "http", "xml", "defusedxml")
) -> tuple[int, str]:
    code = _IMPORTS.format(repo=str(REPO), argv=argv, families=families)
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "OUTLOOK_ANYWHERE_PASSWORD": PASSWORD},
    )
    assert proc.stderr == ""
    status, _, heavy = proc.stdout.strip().partition(" ")
    return int(status), heavy


def test_default_path_imports_no_dns_http_or_xml(lab: Lab) -> None:
    host = lab.scenario("healthy")
    argv = ["-H", host.host, "-I", host.addresses[0], "-p", str(lab.port), "--ca-file", lab.ca_file]
    code, heavy = _modules_after(argv)
    assert code == 0
    assert heavy == "[]"


def test_autodiscover_path_does_import_them(lab: Lab) -> None:
    argv = [
        *base(lab),
        "--autodiscover", "monitor@adatum.test",
        "--autodiscover-port", str(lab.web.port),
    ]  # fmt: skip
    code, heavy = _modules_after(argv)
    assert code == 0
    assert "'defusedxml'" in heavy and "'dns'" in heavy and "'xml'" in heavy


def test_autodiscover_path_loads_no_url_opener(lab: Lab) -> None:
    """Escaping the e-mail address for the request costs no xml.sax, urllib.request and
    http.client (xml.sax.saxutils imports them, and the email package: 50 ms of a check).
    (email itself comes with dnspython here, through importlib.metadata: --dns-server.)"""
    argv = [
        *base(lab),
        "--autodiscover", "monitor@adatum.test",
        "--autodiscover-port", str(lab.web.port),
    ]  # fmt: skip
    code, loaded = _modules_after(argv, ("urllib.request", "http.client", "xml.sax"))
    assert code == 0
    assert loaded == "[]"


def test_the_request_escapes_the_address_as_xml_text() -> None:
    body = request_body("a&b<c>@contoso.test")
    [address] = ElementTree.fromstring(body).iter(f"{{{REQUEST_SCHEMA}}}EMailAddress")
    assert address.text == "a&b<c>@contoso.test"


def test_url_with_credentials_is_refused_unquoted() -> None:
    out = run_plugin(
        "--autodiscover", "monitor@contoso.test",
        "--autodiscover-url", "https://monitor:s3cr3t-value@autodiscover.contoso.test/a.xml",
        env={"OUTLOOK_ANYWHERE_PASSWORD": PASSWORD},
    )  # fmt: skip
    assert out.code == 3
    assert out.first_line.startswith(
        "OUTLOOK_ANYWHERE UNKNOWN - argument --autodiscover-url: no user name or password in the"
        " URL"
    )
    assert "s3cr3t-value" not in out.stdout
