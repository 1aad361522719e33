"""--autodiscover against the lab's Autodiscover endpoints (contrib/lab/web.py), through the CLI.

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

import pytest

from contrib.lab import Lab
from contrib.lab.web import PASSWORD, XXE_MARKER
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


# -- what Autodiscover publishes ------------------------------------------------------------


@pytest.mark.parametrize(
    ("mailbox", "code", "prefix"),
    [
        ("monitor", 0, "OUTLOOK_ANYWHERE OK - 3/3 nodes OK: msstd:healthy.contoso.test matches"),
        ("absent", 0, "OUTLOOK_ANYWHERE OK - 3/3 nodes OK: msstd:healthy.contoso.test matches"),
        (
            "none",
            1,
            "OUTLOOK_ANYWHERE WARNING - Autodiscover for none@contoso.test: EXPR and EXHTTP"
            " CertPrincipalName is None: mutual authentication is not enforced",
        ),
        (
            "noexpr",
            1,
            "OUTLOOK_ANYWHERE WARNING - Autodiscover for noexpr@contoso.test: no EXPR provider"
            " published",
        ),
        (
            "wrong",
            2,
            "OUTLOOK_ANYWHERE CRITICAL - 127.0.10.1: Mutual Authentication could not be"
            " established: certificate has CN healthy.contoso.test, expected"
            " msstd:owa.contoso.test; fix:",
        ),
        (
            "error600",
            2,
            "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for error600@contoso.test: the server"
            " answered error 600: Invalid Request",
        ),
    ],
)
def test_published_settings(
    lab: Lab, password_file: str, mailbox: str, code: int, prefix: str
) -> None:
    out = ad(lab, password_file, f"{mailbox}@contoso.test", url=ENDPOINT)
    assert_clean(out)
    assert out.first_line.startswith(prefix), out.stdout
    assert out.code == code


def test_mismatch_names_both_and_the_fix(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "wrong@contoso.test", url=ENDPOINT)
    assert 'Set-OutlookProvider EXPR -CertPrincipalName:"msstd:healthy.contoso.test"' in out.status
    assert "msstd:owa.contoso.test" in out.status


def test_expr_server_becomes_the_host_and_perfdata(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "monitor@contoso.test", url=ENDPOINT)
    assert out.code == 0
    assert out.perfdata["nodes"].startswith("3")
    assert float(out.perfdata["autodiscover_time"].split(";")[0].rstrip("s")) > 0
    assert any(line.startswith("Autodiscover monitor@contoso.test;") for line in out.long_output)


def test_principal_option_differing_from_published_is_critical(
    lab: Lab, password_file: str
) -> None:
    out = ad(lab, password_file, "monitor@contoso.test", "-P", "owa.contoso.test", url=ENDPOINT)
    assert out.code == 2
    assert out.first_line.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for monitor@contoso.test: EXPR and EXHTTP publish"
    ) or out.first_line.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for monitor@contoso.test: EXPR and EXHTTP"
        " publishes msstd:healthy.contoso.test, but -P expects msstd:owa.contoso.test"
    )
    # Both principals are judged against the certificates: -P fails on every node.
    assert "+3 more CRITICAL" in out.first_line


def test_principal_option_and_published_agree(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "monitor@contoso.test", "-H", "healthy.contoso.test", url=ENDPOINT)
    assert out.code == 0, out.stdout
    assert out.first_line.startswith("OUTLOOK_ANYWHERE OK - 3/3 nodes OK")


# -- credentials ------------------------------------------------------------------------


def test_wrong_password_is_critical(lab: Lab, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password\n")
    out = ad(lab, str(wrong), "monitor@contoso.test", url=ENDPOINT)
    assert_clean(out)
    assert out.code == 2
    assert out.first_line.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for monitor@contoso.test: wrong credentials"
    )
    assert "401 Unauthorized" in out.first_line


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


def test_ntlm_preferred_to_basic(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "monitor@contoso.test", url="mixed.contoso.test")
    assert out.code == 0, out.stdout
    assert not any(s.authorization.startswith("Basic") for s in lab.web.seen)


def test_ntlm_wrong_password(lab: Lab, tmp_path: Path) -> None:
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-password")
    out = ad(lab, str(wrong), "monitor@contoso.test", url="ntlm.contoso.test")
    assert out.code == 2
    assert out.first_line.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for monitor@contoso.test: wrong credentials"
    )


def test_ntlm_without_pyspnego_says_what_to_install(
    lab: Lab, password_file: str, tmp_path: Path
) -> None:
    # A module named spnego that cannot be imported stands for a missing pyspnego.
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
    assert out.code == 2
    assert out.first_line.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for monitor@contoso.test: the server accepts"
        " only NTLM/Negotiate and pyspnego is not installed: pip install"
        " 'check_outlook_anywhere[ntlm]'"
    )


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
    assert out.first_line.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for monitor@litware.test: no endpoint answered"
    )
    assert "credentials not sent" in out.first_line
    assert lab.web.seen == []


def test_ignore_trust_never_applies_to_autodiscover(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "monitor@litware.test", "--ignore-trust")
    assert out.code == 2
    assert lab.web.seen == []


def test_http_redirect_to_plain_http_is_not_followed(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "monitor@wingtip.test")
    assert out.code == 2
    assert "302 to http://mail.wingtip.test" in out.first_line
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
    assert out.first_line.startswith("OUTLOOK_ANYWHERE OK - 3/3 nodes OK")
    assert "1 redirect(s)" in out.stdout
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
    assert out.code == 2
    assert out.first_line.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for redirect-http-url@contoso.test: redirectUrl"
        " http://autodiscover.fabrikam.test"
    )
    assert "refused" in out.first_line
    assert not lab.web.requests(host="autodiscover.fabrikam.test")


def test_redirect_to_an_unverified_host_gets_no_credentials(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "redirect-untrusted@contoso.test", url=ENDPOINT)
    assert out.code == 2
    assert "certificate does not verify for tailspin.test" in out.first_line
    assert "credentials not sent" in out.first_line
    tailspin = lab.web.addresses("tailspin.test")[0]
    assert not [s for s in lab.web.seen if s.address == tailspin]


def test_ten_redirects_are_followed(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "hops-10-0@contoso.test", url=ENDPOINT)
    assert out.code == 0, out.stdout
    assert "10 redirect(s)" in out.stdout


def test_the_eleventh_redirect_is_refused(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "hops-11-0@contoso.test", url=ENDPOINT)
    assert out.code == 2
    assert out.first_line.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for hops-11-10@contoso.test: more than 10"
        " redirects"
    )
    assert not lab.web.requests(mailbox="hops-11-11@contoso.test")


def test_address_redirect_loop(lab: Lab, password_file: str) -> None:
    out = ad(lab, password_file, "loop@contoso.test", url=ENDPOINT)
    assert out.code == 2
    assert out.first_line.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for loop2@contoso.test: redirect loop: address"
        " loop@contoso.test -> address loop2@contoso.test -> address loop@contoso.test"
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
    assert reason in out.first_line
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
    assert out.perfdata.get("nodes", "").startswith("3")
    assert sum(1 for line in out.long_output if " OK -- CN healthy.contoso.test" in line) == 3


# -- the password stays secret ---------------------------------------------------------------

SECRET_FORMS = (
    PASSWORD,
    base64.b64encode(f"monitor@contoso.test:{PASSWORD}".encode()).decode(),
    PASSWORD.encode().hex(),
)


@pytest.mark.parametrize("verbosity", ["-v", "-vv", "-vvv"])
@pytest.mark.parametrize(
    ("mailbox", "url"),
    [
        ("monitor@contoso.test", ENDPOINT),
        ("monitor@contoso.test", "ntlm.contoso.test"),
        ("error600@contoso.test", ENDPOINT),
        ("redirect-untrusted@contoso.test", ENDPOINT),
        ("monitor@litware.test", None),
    ],
)
def test_password_in_no_output(
    lab: Lab, password_file: str, verbosity: str, mailbox: str, url: str | None
) -> None:
    out = ad(lab, password_file, mailbox, verbosity, url=url)
    for secret in SECRET_FORMS:
        assert secret not in out.stdout
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
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("dns", "http", "xml", "defusedxml"))
print(code, heavy)
"""


def _modules_after(argv: list[str]) -> tuple[int, str]:
    code = _IMPORTS.format(repo=str(REPO), argv=argv)
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
