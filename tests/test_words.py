"""What the admin reads: the words of every finding, the first line's contract over every lab
scenario, and the regressions of the words issue.

* The words matrix runs in-process on facts built here (judgement and words are pure): one row
  per finding kind, the exact first line and the decisive long-output line.
* The invariant runs the real CLI against every scenario of the lab, hostile ones included, with
  and without ``--rpc``, and with Autodiscover: the first line is at most 200 characters before
  `` | ``, holds no ``;``, its ``[k/n nodes OK]`` equals the ``nodes_ok`` perfdata, and every
  principal a fix proposes is one that every certificate the nodes serve satisfies under the
  plugin's own rules (read from the nodes here, over TLS).
"""

from __future__ import annotations

import re
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from nagiosplugin.state import Critical, Ok, Unknown, Warn

from contrib.lab import Lab, hostile
from contrib.lab.identities.accounts import PASSWORD
from contrib.lab.scenarios import SCENARIOS
from outlook_anywhere.check.options import threshold
from outlook_anywhere.check.words import headline, long_output
from outlook_anywhere.facts.certificate import CertFacts
from outlook_anywhere.facts.http import RpcFacts
from outlook_anywhere.judgement.policy import Policy
from outlook_anywhere.judgement.principal import satisfied
from outlook_anywhere.judgement.verdict import CheckFacts, judge
from outlook_anywhere.probes.tls import NodeFacts
from tests.conftest import SCRIPT, Outcome, run_plugin

NOW = 1_800_000_000.0  # the clock of the in-process rows
DAY = 86400.0
FIRST_LINE_MAX = 200


# -- in-process: the words matrix ------------------------------------------------------------


def cert(
    cns: tuple[str, ...] = ("mail.contoso.com",),
    sans: tuple[str, ...] = ("mail.contoso.com",),
    days: float = 300,
    issuer: str = "Contoso CA",
    der: bytes = b"leaf-1",
    not_before: float = -10,
) -> CertFacts:
    return CertFacts(
        cns=cns,
        emails=(),
        sans=sans,
        issuer=issuer,
        subject=", ".join(f"commonName={cn}" for cn in cns),
        serial="01",
        not_before=NOW + not_before * DAY,
        not_after=NOW + days * DAY,
        der=der,
        thumbprint=der.hex().upper()[:40],
        self_issued=False,
    )


CA = cert(cns=("Contoso CA",), sans=(), days=1800, issuer="Contoso Root", der=b"ca")


def node(address: str, leaf: CertFacts | None = None, **kw: object) -> NodeFacts:
    facts = NodeFacts(address, 443, phase="done")
    facts.connect_time, facts.handshake_time = 0.001, 0.002
    facts.tls_version = "TLSv1.3"
    if leaf is not None:
        facts.leaf, facts.chain, facts.trust = leaf, (leaf, CA), "verified"
    for name, value in kw.items():
        setattr(facts, name, value)
    return facts


def policy(**kw: object) -> Policy:
    values: dict[str, object] = {
        "principal": None,
        "host": "mail.contoso.com",
        "match_mode": "cn",
        "warning": threshold("30"),
        "critical": threshold("14"),
        "check_trust": True,
    }
    values.update(kw)
    return Policy(**values)  # type: ignore[arg-type]


def words(
    nodes: list[NodeFacts], pol: Policy | None = None, **more: object
) -> tuple[object, str, list[str]]:
    pol = pol or policy()
    facts = CheckFacts(NOW, pol.host, None, nodes)
    for name, value in more.items():
        setattr(facts, name, value)
    verdict = judge(facts, pol)
    prefix = f"OUTLOOK_ANYWHERE {str(verdict.state).upper()} - "
    line = prefix + headline(verdict, facts, pol, FIRST_LINE_MAX - len(prefix))
    return verdict.state, line, long_output(verdict, facts, 0)


A, B, C = "10.0.0.1", "10.0.0.2", "10.0.0.3"

MATRIX = [
    (
        "ok",
        [node(A, cert())],
        {},
        Ok,
        "OUTLOOK_ANYWHERE OK - 1/1 nodes OK: msstd:mail.contoso.com matches the CN,"
        " 300.0 days left (expires 2027-11-11)",
        "10.0.0.1 OK -- CN mail.contoso.com",
    ),
    (
        "ok by SAN under cn-or-san",
        [node(A, cert(cns=("ex01.contoso.com",), sans=("ex01.contoso.com", "mail.contoso.com")))],
        {"match_mode": "cn-or-san"},
        Ok,
        "OUTLOOK_ANYWHERE OK - 1/1 nodes OK: msstd:mail.contoso.com matches SAN"
        " mail.contoso.com, 300.0 days left (expires 2027-11-11)",
        "10.0.0.1 OK",
    ),
    (
        "mismatch",
        [node(A, cert(cns=("owa.contoso.com",), sans=("owa.contoso.com",)))],
        {},
        Critical,
        "OUTLOOK_ANYWHERE CRITICAL - 10.0.0.1: Mutual Authentication could not be established:"
        " certificate CN owa.contoso.com, expected msstd:mail.contoso.com [0/1 nodes OK]",
        "10.0.0.1 CRITICAL: Mutual Authentication could not be established: certificate CN"
        " owa.contoso.com, expected msstd:mail.contoso.com; fix: a certificate whose CN is"
        ' mail.contoso.com, or Set-OutlookProvider EXPR -CertPrincipalName:"msstd:owa.contoso.com"',
    ),
    (
        "mismatch on one node of two: publishing its name would break the other",
        [node(A, cert()), node(B, cert(cns=("legacy.contoso.com",), sans=(), der=b"old"))],
        {},
        Critical,
        "OUTLOOK_ANYWHERE CRITICAL - 10.0.0.2: Mutual Authentication could not be established:"
        " certificate CN legacy.contoso.com, expected msstd:mail.contoso.com (+1 more)"
        " [1/2 nodes OK]",
        "10.0.0.2 CRITICAL: Mutual Authentication could not be established: certificate CN"
        " legacy.contoso.com, expected msstd:mail.contoso.com; fix: replace the certificate with"
        " one whose CN is mail.contoso.com; certificates differ",
    ),
    (
        "NUL in the CN: never proposed",
        [node(A, cert(cns=("mail.contoso.com\x00.evil.test",), sans=()))],
        {},
        Critical,
        "OUTLOOK_ANYWHERE CRITICAL - 10.0.0.1: Mutual Authentication could not be established:"
        " certificate CN mail.contoso.com\\x00.evil.test, expected msstd:mail.contoso.com"
        " [0/1 nodes OK]",
        "fix: replace the certificate with one whose CN is mail.contoso.com --",
    ),
    (
        "SAN only",
        [node(A, cert(cns=("ex01.contoso.com",), sans=("ex01.contoso.com", "mail.contoso.com")))],
        {},
        Warn,
        "OUTLOOK_ANYWHERE WARNING - 10.0.0.1: msstd:mail.contoso.com only in a SAN, not the CN"
        " ex01.contoso.com: Outlook before Vista SP1 and the Remote Connectivity Analyzer fail"
        " [0/1 nodes OK]",
        'or Set-OutlookProvider EXPR -CertPrincipalName:"msstd:ex01.contoso.com"',
    ),
    (
        "no subject CN",
        [node(A, cert(cns=(), sans=("mail.contoso.com",)))],
        {},
        Warn,
        "OUTLOOK_ANYWHERE WARNING - 10.0.0.1: msstd:mail.contoso.com only in a SAN, the"
        " certificate has no CN: Outlook before Vista SP1 and the Remote Connectivity Analyzer"
        " fail [0/1 nodes OK]",
        "10.0.0.1 WARNING: msstd:mail.contoso.com only in a SAN, the certificate has no CN",
    ),
    (
        "wildcard expansion",
        [node(A, cert(cns=("*.contoso.com",), sans=("*.contoso.com",)))],
        {},
        Warn,
        "OUTLOOK_ANYWHERE WARNING - 10.0.0.1: msstd:mail.contoso.com matches only by expanding"
        " the wildcard CN *.contoso.com: the Analyzer and older clients do not [0/1 nodes OK]",
        'fix: Set-OutlookProvider EXPR -CertPrincipalName:"msstd:*.contoso.com"',
    ),
    (
        "wildcard in a SAN only: publishing it would still be a SAN match",
        [node(A, cert(cns=("ex01.contoso.com",), sans=("*.contoso.com",)))],
        {},
        Warn,
        "OUTLOOK_ANYWHERE WARNING - 10.0.0.1: msstd:mail.contoso.com matches only by expanding"
        " the wildcard SAN *.contoso.com: the Analyzer and older clients do not [0/1 nodes OK]",
        "fix: replace the certificate with one whose CN is mail.contoso.com",
    ),
    (
        "a wildcard never matches an IP address",
        [node(A, cert(cns=("*.0.10.1",), sans=("*.0.10.1",)))],
        {"host": "127.0.10.1"},
        Critical,
        "OUTLOOK_ANYWHERE CRITICAL - 10.0.0.1: Mutual Authentication could not be established:"
        " certificate CN *.0.10.1, expected msstd:127.0.10.1 [0/1 nodes OK]",
        "fix: replace the certificate with one whose CN is 127.0.10.1",
    ),
    (
        "several CNs",
        [node(A, cert(cns=("mail.contoso.com", "owa.contoso.com")))],
        {},
        Warn,
        "OUTLOOK_ANYWHERE WARNING - 10.0.0.1: subject has 2 CNs (mail.contoso.com,"
        " owa.contoso.com): clients differ on which one they read [0/1 nodes OK]",
        "10.0.0.1 WARNING: subject has 2 CNs",
    ),
    (
        "warning days",
        [node(A, cert(days=20))],
        {},
        Warn,
        "OUTLOOK_ANYWHERE WARNING - 10.0.0.1: certificate expires in 20.0 days (2027-02-04)"
        " [0/1 nodes OK]",
        "10.0.0.1 WARNING: certificate expires in 20.0 days (2027-02-04)",
    ),
    (
        "a Nagios range is named",
        [node(A, cert(days=300))],
        {"critical": threshold("~:25"), "warning": threshold("~:20")},
        Critical,
        "OUTLOOK_ANYWHERE CRITICAL - 10.0.0.1: certificate: 300.0 days left, outside the"
        " critical range ~:25 (expires 2027-11-11) (+1 more) [0/1 nodes OK]",
        "issuing CA 'Contoso CA': 1800.0 days left, outside the critical range ~:25",
    ),
    (
        "expired",
        [node(A, cert(days=-3))],
        {},
        Critical,
        "OUTLOOK_ANYWHERE CRITICAL - 10.0.0.1: certificate expired 3.0 days ago (2027-01-12)"
        " [0/1 nodes OK]",
        "10.0.0.1 CRITICAL: certificate expired 3.0 days ago (2027-01-12)",
    ),
    (
        "expired an hour ago",
        [node(A, cert(days=-1 / 24))],
        {},
        Critical,
        "OUTLOOK_ANYWHERE CRITICAL - 10.0.0.1: certificate expired less than 0.1 days ago"
        " (2027-01-15) [0/1 nodes OK]",
        "10.0.0.1 CRITICAL: certificate expired less than 0.1 days ago (2027-01-15)",
    ),
    (
        "not yet valid",
        [node(A, cert(not_before=5))],
        {},
        Critical,
        "OUTLOOK_ANYWHERE CRITICAL - 10.0.0.1: certificate not valid before 2027-01-20"
        " [0/1 nodes OK]",
        "10.0.0.1 CRITICAL: certificate not valid before 2027-01-20",
    ),
    (
        "refused",
        [node(A, cert()), node(B, failure="refused", phase="connect", leaf=None)],
        {},
        Critical,
        "OUTLOOK_ANYWHERE CRITICAL - 10.0.0.2: connection refused [1/2 nodes OK]",
        "10.0.0.2 CRITICAL: connection refused",
    ),
    (
        "untrusted: missing intermediate",
        [node(A, cert(), trust="untrusted", trust_code=20, served_count=1)],
        {},
        Critical,
        "OUTLOOK_ANYWHERE CRITICAL - 10.0.0.1: certificate not trusted: missing intermediate?"
        " the server sends no issuing CA, and 'Contoso CA' is not in the trust store"
        " [0/1 nodes OK]",
        "10.0.0.1 CRITICAL: certificate not trusted: missing intermediate?",
    ),
    (
        "weak signature",
        [node(A, cert(), strengths=((0, "RSA 2048", "sha1"),))],
        {},
        Warn,
        "OUTLOOK_ANYWHERE WARNING - 10.0.0.1: certificate is signed with SHA-1 [0/1 nodes OK]",
        "10.0.0.1 WARNING: certificate is signed with SHA-1",
    ),
    (
        "broken installation seen by a probe",
        [node(A, failure="broken", detail="cryptography", leaf=None)],
        {},
        Unknown,
        "OUTLOOK_ANYWHERE UNKNOWN - 10.0.0.1: broken installation: Python module cryptography"
        " cannot be imported [0/1 nodes OK]",
        "10.0.0.1 UNKNOWN: broken installation: Python module cryptography cannot be imported",
    ),
]


MATRIX += [
    (
        "unparsable",
        [node(A, failure="unparsable", detail="OpenSSL: ASN1 lib", leaf=None)],
        {},
        Critical,
        "OUTLOOK_ANYWHERE CRITICAL - 10.0.0.1: certificate could not be parsed (OpenSSL: ASN1"
        " lib) [0/1 nodes OK]",
        "10.0.0.1 CRITICAL: certificate could not be parsed (OpenSSL: ASN1 lib)",
    ),
    (
        "no certificate",
        [node(A)],
        {},
        Critical,
        "OUTLOOK_ANYWHERE CRITICAL - 10.0.0.1: server sent no certificate [0/1 nodes OK]",
        "10.0.0.1 CRITICAL: server sent no certificate",
    ),
    (
        "weak key of an issuing CA",
        [node(A, cert(), strengths=((0, "RSA 2048", "sha256"), (1, "RSA 1024", "sha256")))],
        {},
        Warn,
        "OUTLOOK_ANYWHERE WARNING - 10.0.0.1: issuing CA 'Contoso CA' has a 1024-bit RSA key"
        " (under 2048 bits) [0/1 nodes OK]",
        "10.0.0.1 WARNING: issuing CA 'Contoso CA' has a 1024-bit RSA key (under 2048 bits)",
    ),
    (
        "only an old protocol",
        [node(A, cert(), only_protocol="TLSv1")],
        {},
        Warn,
        "OUTLOOK_ANYWHERE WARNING - 10.0.0.1: server speaks only TLSv1 [0/1 nodes OK]",
        "10.0.0.1 WARNING: server speaks only TLSv1",
    ),
    (
        "TLS alert",
        [node(A, failure="tls-alert", detail="unrecognized name", phase="handshake", leaf=None)],
        {},
        Critical,
        "OUTLOOK_ANYWHERE CRITICAL - 10.0.0.1: TLS handshake failed: server sent TLS alert:"
        " unrecognized name [0/1 nodes OK]",
        "10.0.0.1 CRITICAL: TLS handshake failed: server sent TLS alert: unrecognized name",
    ),
    (
        "not TLS",
        [node(A, failure="not-tls", detail="220 mail ESMTP\x00", phase="handshake", leaf=None)],
        {},
        Critical,
        "OUTLOOK_ANYWHERE CRITICAL - 10.0.0.1: not TLS: server sent '220 mail ESMTP.'"
        " [0/1 nodes OK]",
        "10.0.0.1 CRITICAL: not TLS: server sent '220 mail ESMTP.'",
    ),
]


@pytest.mark.parametrize(
    ("nodes", "options", "state", "first", "long"),
    [row[1:] for row in MATRIX],
    ids=[row[0] for row in MATRIX],
)
def test_words_matrix(
    nodes: list[NodeFacts], options: dict[str, object], state: object, first: str, long: str
) -> None:
    got_state, line, lines = words(nodes, policy(**options))
    assert got_state == state
    assert line == first
    assert any(long in text for text in lines), lines
    assert len(line) <= FIRST_LINE_MAX and ";" not in line


def _published(*providers: tuple[str, str | None, str], error: str = "") -> object:
    from outlook_anywhere.facts.http import AutodiscoverFacts, Document, Provider

    facts = AutodiscoverFacts("monitor@contoso.com", "monitor@contoso.com", elapsed=0.1)
    facts.document = Document(
        action="settings",
        providers=tuple(Provider(t, "mail.contoso.com", ssl, "", cpn) for t, cpn, ssl in providers),
    )
    if error:
        facts.error_kind, facts.error = error, "error 600: Invalid Request"
    return facts


HTTP_MATRIX = [
    (
        "CertPrincipalName None",
        {"autodiscover": _published(("EXPR", "None", "On"))},
        Warn,
        "OUTLOOK_ANYWHERE WARNING - Autodiscover publishes EXPR CertPrincipalName None: mutual"
        " authentication is not enforced [1/1 nodes OK]",
        "Autodiscover WARNING: Autodiscover publishes EXPR CertPrincipalName None: mutual"
        " authentication is not enforced; fix: Set-OutlookProvider EXPR -CertPrincipalName:"
        '"msstd:mail.contoso.com"',
    ),
    (
        "neither EXPR nor EXHTTP",
        {"autodiscover": _published(("WEB", None, ""))},
        Warn,
        "OUTLOOK_ANYWHERE WARNING - Autodiscover for monitor@contoso.com publishes neither EXPR"
        " nor EXHTTP (Outlook Anywhere is not published for this mailbox) [1/1 nodes OK]",
        "Autodiscover WARNING: Autodiscover for monitor@contoso.com publishes neither",
    ),
    (
        "SSL Off",
        {"autodiscover": _published(("EXPR", "msstd:mail.contoso.com", "Off"))},
        Warn,
        "OUTLOOK_ANYWHERE WARNING - Autodiscover publishes EXPR with SSL Off: no TLS, so no"
        " mutual authentication [1/1 nodes OK]",
        "EXPR Server mail.contoso.com, SSL Off, CertPrincipalName msstd:mail.contoso.com",
    ),
    (
        "an error response",
        {"autodiscover": _published(error="error-response")},
        Critical,
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for monitor@contoso.com: the server answered"
        " error 600: Invalid Request [1/1 nodes OK]",
        "Autodiscover CRITICAL: Autodiscover for monitor@contoso.com: the server answered",
    ),
    (
        "rpcproxy.dll 503",
        {"rpc": [RpcFacts(A, 503, "RPC Error: 6ba", rpc_error="6ba")]},
        Critical,
        "OUTLOOK_ANYWHERE CRITICAL - 10.0.0.1: rpcproxy.dll answered 503 RPC Error: 6ba (RPC"
        " proxy failure) [0/1 nodes OK]",
        "10.0.0.1 CRITICAL: rpcproxy.dll answered 503 RPC Error: 6ba (RPC proxy failure) --",
    ),
    (
        "rpcproxy.dll without an expected scheme",
        {"rpc": [RpcFacts(A, 401, "Unauthorized", ["Basic"])]},
        Warn,
        "OUTLOOK_ANYWHERE WARNING - 10.0.0.1: rpcproxy.dll does not offer Negotiate (offers"
        " Basic) [0/1 nodes OK]",
        "rpcproxy.dll 401 Unauthorized; schemes Basic",
    ),
    (
        "rpcproxy.dll healthy",
        {"rpc": [RpcFacts(A, 401, "Unauthorized", ["Negotiate", "NTLM"])]},
        Ok,
        "OUTLOOK_ANYWHERE OK - 1/1 nodes OK: msstd:mail.contoso.com matches the CN, 300.0 days"
        " left (expires 2027-11-11), rpcproxy.dll 401 (Negotiate, NTLM)",
        "10.0.0.1 OK -- CN mail.contoso.com",
    ),
]


@pytest.mark.parametrize(
    ("more", "state", "first", "long"),
    [row[1:] for row in HTTP_MATRIX],
    ids=[row[0] for row in HTTP_MATRIX],
)
def test_words_matrix_of_the_http_checks(
    more: dict[str, object], state: object, first: str, long: str
) -> None:
    pol = policy(expect_auth=("Negotiate",))
    got_state, line, lines = words([node(A, cert())], pol, **more)
    assert (got_state, line) == (state, first)
    assert any(long in text for text in lines), lines


def test_fix_never_proposes_what_the_certificates_do_not_satisfy() -> None:
    leaves = [cert(cns=("owa.contoso.com",)), cert(cns=("legacy.contoso.com",), der=b"2")]
    assert not satisfied("owa.contoso.com", leaves, "cn")
    assert satisfied("owa.contoso.com", leaves[:1], "cn")
    for bad in ("*.com", "*", "127.0.10.1", "*.0.10.1", "mail\x00.evil", "a,b", "host:443"):
        assert not satisfied(bad, [cert(cns=(bad,), sans=(bad,))], "cn"), bad


# -- through the CLI, against the lab ----------------------------------------------------------


@pytest.fixture(scope="module")
def full_lab(lab: Lab) -> Iterator[Lab]:
    hostile.install(lab)
    lab.web.load_zone()
    yield lab
    lab.reset()


def served_leaves(lab: Lab, host: str, port: int, addresses: list[str]) -> list[CertFacts]:
    """The certificates the nodes serve, read here over TLS (not from the plugin)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    ctx.minimum_version = ssl.TLSVersion.MINIMUM_SUPPORTED
    found = []
    for address in addresses:
        try:
            with (
                socket.create_connection((address, port), timeout=2) as raw,
                ctx.wrap_socket(raw, server_hostname=host) as tls,
            ):
                der = tls.getpeercert(binary_form=True)
        except (OSError, ssl.SSLError):
            continue
        if not der:
            continue
        try:
            parsed = x509.load_der_x509_certificate(der)
            cns = tuple(
                str(a.value) for a in parsed.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            )
            try:
                ext = parsed.extensions.get_extension_for_class(x509.SubjectAlternativeName)
                sans = tuple(ext.value.get_values_for_type(x509.DNSName))
            except x509.ExtensionNotFound:
                sans = ()
        except ValueError:
            continue
        found.append(cert(cns=cns, sans=sans, der=der))
    return found


def assert_invariant(out: Outcome, leaves: list[CertFacts] | None, mode: str = "cn") -> None:
    assert out.stderr == "", out.stderr
    assert 0 <= out.code <= 3, out.stdout
    assert "Traceback" not in out.stdout
    status = out.status
    assert status.startswith("OUTLOOK_ANYWHERE "), out.stdout
    assert len(status) <= FIRST_LINE_MAX, status
    assert ";" not in status, status
    shown = re.search(r"\[(\d+)/(\d+) nodes OK\]$", status)
    perf = out.perfdata
    if shown:
        assert perf["nodes_ok"].split(";")[0] == shown.group(1), out.first_line
        assert perf["nodes"].split(";")[0] == shown.group(2), out.first_line
    if out.code == 0 and "nodes_ok" in perf:
        assert perf["nodes_ok"].split(";")[0] == perf["nodes"].split(";")[0]
    proposed = re.findall(r'-CertPrincipalName:"msstd:([^"]*)"', out.stdout)
    for name in proposed:
        assert leaves, f"a fix proposes msstd:{name} with no certificate seen: {out.stdout}"
        assert satisfied(name, leaves, mode), f"unsafe fix msstd:{name}: {out.stdout}"


TARGETS = [(s.name, s.host, [n.address for n in s.nodes]) for s in SCENARIOS] + [
    (h.name, h.host, hostile.addresses(h)) for h in hostile.HOSTILE
]


@pytest.mark.parametrize("rpc", [False, True], ids=["tls", "rpc"])
def test_invariant_over_every_scenario(full_lab: Lab, rpc: bool) -> None:
    """Every scenario and hostile target; run side by side (most of the time is deadlines)."""
    from concurrent.futures import ThreadPoolExecutor

    lab = full_lab

    def one(target: tuple[str, str, list[str]]) -> str:
        name, host, addresses = target
        args = ["-H", host, "-p", str(lab.port), "--dns-server", lab.dns_server]
        args += ["--ca-file", str(lab.ca_file), "-t", "3"]
        out = run_plugin(*args, *(["--rpc"] if rpc else []))
        try:
            assert_invariant(out, served_leaves(lab, host, lab.port, addresses))
        except AssertionError as exc:
            return f"{name}: {exc}"
        return ""

    with ThreadPoolExecutor(max_workers=6) as pool:
        failures = [f for f in pool.map(one, TARGETS) if f]
    assert not failures, "\n".join(failures)
    assert len(TARGETS) > 50


MAILBOXES = ["monitor", "absent", "none", "noexpr", "wrong", "error600", "exhttp", "ssl-off"]


@pytest.mark.parametrize("mailbox", MAILBOXES)
def test_invariant_with_autodiscover(full_lab: Lab, password_file: str, mailbox: str) -> None:
    lab = full_lab
    for principal in ([], ["-P", "msstd:other.contoso.test"]):
        out = autodiscover(lab, password_file, f"{mailbox}@contoso.test", *principal)
        leaves = served_leaves(lab, "healthy.contoso.test", lab.port, ["127.0.10.1"])
        assert_invariant(out, leaves)


def autodiscover(lab: Lab, password_file: str, email: str, *extra: str) -> Outcome:
    return run_plugin(
        "-p", str(lab.port),
        "--dns-server", lab.dns_server,
        "--ca-file", str(lab.ca_file),
        "--autodiscover", email,
        "--password-file", password_file,
        "--autodiscover-url", lab.web.url("autodiscover.contoso.test"),
        *extra,
    )  # fmt: skip


def test_principal_and_autodiscover_disagree_names_the_side_that_is_wrong(
    full_lab: Lab, password_file: str
) -> None:
    out = autodiscover(
        full_lab, password_file, "monitor@contoso.test", "-H", "healthy.contoso.test",
        "-P", "msstd:other.contoso.test",
    )  # fmt: skip
    assert out.code == 2
    assert out.status == (
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover EXPR and EXHTTP publish"
        " msstd:healthy.contoso.test, -P expects msstd:other.contoso.test [3/3 nodes OK]"
    )
    assert "fix: correct -P to msstd:healthy.contoso.test" in out.stdout
    assert 'CertPrincipalName:"msstd:other' not in out.stdout
    assert all(" OK -- " in line for line in out.long_output if line.startswith("127."))


def test_exhttp_alone_is_read(full_lab: Lab, password_file: str) -> None:
    out = autodiscover(full_lab, password_file, "exhttp@contoso.test")
    assert out.code == 0, out.stdout
    assert out.status.startswith(
        "OUTLOOK_ANYWHERE OK - 3/3 nodes OK: msstd:healthy.contoso.test matches the CN"
    )
    assert "EXHTTP Server healthy.contoso.test" in out.stdout


def test_ssl_off_is_a_warning(full_lab: Lab, password_file: str) -> None:
    out = autodiscover(full_lab, password_file, "ssl-off@contoso.test")
    assert out.code == 1, out.stdout
    assert out.status == (
        "OUTLOOK_ANYWHERE WARNING - Autodiscover publishes EXPR with SSL Off: no TLS, so no"
        " mutual authentication (+1 more) [3/3 nodes OK]"
    )


def test_every_rpc_failure_counts_against_its_node(full_lab: Lab) -> None:
    lab = full_lab
    out = run_plugin(
        "-H", "rpc-error.contoso.test", "-p", str(lab.web.port), "--dns-server",
        lab.dns_server, "--ca-file", str(lab.ca_file), "--rpc",
    )  # fmt: skip
    assert out.code == 2, out.stdout
    assert out.status.endswith("[0/1 nodes OK]"), out.status
    assert out.perfdata["nodes_ok"].startswith("0;")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["-P", "https://healthy.contoso.test"],
            "-P/--principal: 'https://healthy.contoso.test' is a URL, not a host name",
        ),
        (["-P", "msstd://healthy.contoso.test"], "is a URL, not a host name"),
        (["-P", "healthy.contoso.test:443"], "holds a port or a scheme"),
        (["-P", "CN=healthy.contoso.test"], "is a distinguished name, not a host name"),
        (["-P", "msstd:a.contoso.test,msstd:b.contoso.test"], "names more than one host"),
        (["-P", "msstd:*.com"], "is a bare wildcard"),
        (["-P", "127.0.10.1"], "is an IP address"),
        (["-P", "a..contoso.test"], "has an empty label"),
    ],
)
def test_principal_mistakes_are_unknown_naming_the_option(
    check: object, args: list[str], message: str
) -> None:
    out = run_plugin("-H", "healthy.contoso.test", *args)
    assert out.code == 3, out.stdout
    assert out.status.startswith("OUTLOOK_ANYWHERE UNKNOWN - argument -P/--principal: ")
    assert message in out.status
    assert out.stderr == ""


@pytest.mark.parametrize(
    ("args", "status"),
    [
        (
            ["-H", "127.0.10.1"],
            "OUTLOOK_ANYWHERE UNKNOWN - argument -H/--host: 127.0.10.1 is an IP"
            " address: the host name goes in -H (DNS, SNI, the principal), the addresses in -I",
        ),
        (
            ["-H", "healthy.contoso.test", "-w", "14", "-c", "30"],
            "OUTLOOK_ANYWHERE UNKNOWN - -w 14"
            " is below -c 30: WARNING could never fire (-w and -c are days left: warn at more days"
            " than critical)",
        ),
        (
            ["-H", "healthy.contoso.test", "-I", "127.0.10.1", "-6"],
            "OUTLOOK_ANYWHERE UNKNOWN - -6 excludes every -I address",
        ),
    ],
)
def test_configuration_mistakes_are_unknown(args: list[str], status: str) -> None:
    out = run_plugin(*args)
    assert (out.code, out.status, out.stderr) == (3, status, "")


def test_dns_names_the_missing_family(check: object) -> None:
    out = check("single", "-6")  # type: ignore[operator]
    assert out.code == 2
    assert "single.contoso.test: no IPv6 (AAAA) address (DNS server" in out.status


def test_range_thresholds_are_named(check: object) -> None:
    out = check("single", "-c", "~:25", "-w", "~:20")  # type: ignore[operator]
    assert out.code == 2
    assert "certificate: 300.0 days left, outside the critical range ~:25" in out.status


def test_ca_days_left_sees_the_expired_intermediate(check: object) -> None:
    out = check("expired-intermediate")  # type: ignore[operator]
    assert out.code == 2
    assert out.perfdata["ca_days_left"].startswith("-365.0;30:;14:")
    assert out.perfdata["days_left"].startswith("300.0;")


def test_the_long_output_lists_the_worst_node_first(check: object) -> None:
    """3 nodes, the third CRITICAL: its line comes first, where a folded long output (Icinga
    Web 2 before "expand") shows it; the OK nodes follow in address order; the summary line
    is the same as ever."""
    out = check("wrong-cn-node")  # type: ignore[operator]
    assert out.code == 2
    assert out.status.startswith("OUTLOOK_ANYWHERE CRITICAL - 127.0.14.3: Mutual Authentication")
    assert out.status.endswith("[2/3 nodes OK]")
    order = [line.split(" ", 2)[:2] for line in out.long_output]
    assert order == [["127.0.14.3", "CRITICAL:"], ["127.0.14.1", "OK"], ["127.0.14.2", "OK"]]


def test_worse_parts_come_before_better_ones() -> None:
    """A WARNING node before a CRITICAL one in address order, and an OK Autodiscover part
    (listed before the nodes when states are equal): CRITICAL, then WARNING, then OK."""
    autodiscover = _published(("EXPR", "msstd:mail.contoso.com", "On"))
    warn, crit = node(A, cert(days=20)), node(B, cert(days=3))
    _, _, lines = words([warn, crit], autodiscover=autodiscover)
    assert [text.split(" ", 1)[0] for text in lines] == [B, A, "Autodiscover"], lines
    assert lines[0].startswith(f"{B} CRITICAL: ") and lines[1].startswith(f"{A} WARNING: ")


def test_san_match_says_san(check: object) -> None:
    out = check("san-only", "--match", "cn-or-san")  # type: ignore[operator]
    assert out.code == 0
    assert "msstd:san-only.contoso.test matches SAN san-only.contoso.test," in out.status
    assert "matches the CN" not in out.status


def test_no_subject_never_prints_none(check: object) -> None:
    out = check("no-subject")  # type: ignore[operator]
    assert "(none)" not in out.stdout and " none" not in out.stdout.lower().split("|")[0]


# -- the password ---------------------------------------------------------------------------


def encodings(password: str) -> list[str]:
    import base64
    from urllib.parse import quote, quote_plus

    raw = password.encode()
    return [
        password,
        quote(password, safe=""),
        quote_plus(password),
        base64.b64encode(raw).decode(),
        base64.b64encode(raw).decode().rstrip("="),
        raw.hex(),
        raw.hex().upper(),
        password.encode("utf-16-le").hex(),
    ]


@pytest.mark.parametrize("mailbox", ["echo", "echo-reason"])
def test_password_echoed_by_a_server_is_hidden_in_every_encoding(
    full_lab: Lab, password_file: str, mailbox: str
) -> None:
    out = autodiscover(full_lab, password_file, f"{mailbox}@contoso.test", "-vvv")
    assert out.code == 2, out.stdout
    assert "(hidden)" in out.stdout
    for form in encodings(PASSWORD):
        assert form not in out.stdout, form
    assert f"Autodiscover for {mailbox}@contoso.test" in out.stdout


def test_hiding_the_password_never_garbles_the_plugins_words(full_lab: Lab, tmp_path: Path) -> None:
    wrong = tmp_path / "pw"
    wrong.write_text("contoso\n")
    out = autodiscover(full_lab, str(wrong), "monitor@contoso.test")
    assert out.code == 2
    assert out.status.startswith(
        "OUTLOOK_ANYWHERE CRITICAL - Autodiscover for monitor@contoso.test: wrong user name or"
        " password (HTTP 401)"
    )
    assert "(hidden)" not in out.stdout and "(password)" not in out.stdout


# -- a broken installation ---------------------------------------------------------------------


@pytest.fixture
def broken_nagiosplugin(tmp_path: Path) -> str:
    shadow = tmp_path / "nagiosplugin"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("raise ImportError('compiled for another Python')\n")
    return str(tmp_path)


def test_broken_dependency_is_unknown_from_a_drop_in(broken_nagiosplugin: str) -> None:
    out = run_plugin("-H", "mail.contoso.test", env={"PYTHONPATH": broken_nagiosplugin})
    assert (out.code, out.stderr) == (3, "")
    assert out.stdout == (
        "OUTLOOK_ANYWHERE UNKNOWN - broken installation: Python module nagiosplugin cannot be"
        " imported (compiled for another Python)\n"
    )


def test_missing_dependency_is_unknown_naming_it() -> None:
    import subprocess
    import sys

    # -S: no site-packages, so nagiosplugin is missing (the drop-in still finds its package).
    proc = subprocess.run(
        [sys.executable, "-S", str(SCRIPT), "-H", "mail.contoso.test"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert (proc.returncode, proc.stderr) == (3, "")
    assert proc.stdout == (
        "OUTLOOK_ANYWHERE UNKNOWN - broken installation: Python module nagiosplugin is not"
        " installed\n"
    )


def test_broken_dependency_is_unknown_from_the_installed_command(broken_nagiosplugin: str) -> None:
    import shutil
    import subprocess
    import sys

    command = shutil.which("check_outlook_anywhere", path=str(Path(sys.executable).parent))
    assert command, "the console script is installed beside the interpreter (pip install -e .)"
    proc = subprocess.run(
        [command, "-H", "mail.contoso.test"],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PYTHONPATH": broken_nagiosplugin, "PATH": "/usr/bin:/bin"},
    )
    assert (proc.returncode, proc.stderr) == (3, "")
    assert proc.stdout == (
        "OUTLOOK_ANYWHERE UNKNOWN - broken installation: Python module nagiosplugin cannot be"
        " imported (compiled for another Python)\n"
    )


# -- the trace (-vvv) -----------------------------------------------------------------------------


def test_trace_at_vvv_shows_every_step_and_no_secret(full_lab: Lab, password_file: str) -> None:
    out = autodiscover(full_lab, password_file, "monitor@contoso.test", "-vvv")
    assert out.code == 0, out.stdout
    trace = out.stdout.split("\ntrace:\n", 1)[1]
    for step in (
        "autodiscover.contoso.test: DNS server",
        ": connected",
        "TLS handshake done: TLSv1.3 (autodiscover.contoso.test)",
        "POST /autodiscover/autodiscover.xml (Host autodiscover.contoso.test)",
        "HTTP 401 Unauthorized",
        "(Host autodiscover.contoso.test, Authorization: Basic ...)",
        "HTTP 200 OK",
        "healthy.contoso.test: DNS server",
        "127.0.10.1: TLS handshake done: TLSv1.3",
    ):
        assert step in trace, step
    for form in encodings(PASSWORD):
        assert form not in out.stdout, form
    quiet = autodiscover(full_lab, password_file, "monitor@contoso.test", "-vv")
    assert "trace:" not in quiet.stdout


def test_trace_shows_the_rpc_requests(full_lab: Lab) -> None:
    lab = full_lab
    out = run_plugin(
        "-H", "rpc-ok.contoso.test", "-p", str(lab.web.port), "--dns-server",
        lab.dns_server, "--ca-file", str(lab.ca_file), "--rpc", "-vvv",
    )  # fmt: skip
    assert out.code == 0, out.stdout
    trace = out.stdout.split("\ntrace:\n", 1)[1]
    for address in ("127.0.201.1", "127.0.201.2"):
        assert f"{address}: RPC_IN_DATA /rpc/rpcproxy.dll (Host rpc-ok.contoso.test)" in trace
        assert f"{address}: HTTP 401 Unauthorized" in trace
