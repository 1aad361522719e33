"""``--revocation``: every row of the revocation states table through the CLI against the lab's
PKI site (contrib/lab/endpoints/revocation.py), what was fetched asserted from the site's request
log (nothing without the option, never the trust anchor's status, an endless CRL cut off), a hard
deadline against a CRL URL that never answers; the judge functions in-process, table by table;
and the rule that a serial is an integer, never text."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509 import ocsp
from nagiosplugin.state import Critical, Warn

from contrib.lab import Lab
from contrib.lab.endpoints.revocation import HUGE
from outlook_anywhere.facts import revocation as r
from outlook_anywhere.judgement import findings as k
from outlook_anywhere.judgement.revocation import judge_certificate, judge_chain
from outlook_anywhere.probes.revocation import _parse_issuer_cert as parse_issuer_cert
from outlook_anywhere.probes.revocation_answers import read_crl, read_ocsp
from tests.conftest import Checker, run_plugin, run_with_peak_memory
from tests.test_import_hygiene import imported_by_check
from tests.test_words import TARGETS, assert_invariant, served_leaves

DATE = r"\d{4}-\d\d-\d\d"


@pytest.fixture(scope="module")
def full_lab(lab: Lab) -> Iterator[Lab]:
    """The lab with its hostile servers (tests/test_words.py's targets)."""
    from contrib.lab import hostile

    hostile.install(lab)
    lab.web.load_zone()
    yield lab
    lab.reset()


def serial_of(lab: Lab, cert: str) -> str:
    return r.serial_text(lab.chain(cert).leaf.serial_number)


def node(lab: Lab, scenario: str, index: int = 0) -> str:
    return re.escape(lab.scenario(scenario).addresses[index])


def pki(lab: Lab) -> str:
    return re.escape(f"http://pki.contoso.test:{lab.revocation.port}")


# -- every row of the table, through the CLI ----------------------------------------------------


def test_healthy_chain_is_ok_and_says_it_was_checked(check: Checker) -> None:
    out = check("rev-ok", "--revocation")
    assert out.code == 0, out.stdout
    assert re.fullmatch(
        r"OUTLOOK_ANYWHERE OK - 1/1 nodes OK: msstd:rev-ok\.contoso\.test matches the CN,"
        rf" 300\.0 days left \(expires {DATE}\), not revoked \(2 certificates checked\)",
        out.status,
    ), out.status
    # the soonest nextUpdate of the CRLs read: both lab CRLs are 7 days (168 hours) away
    assert 167.0 <= float(out.perfdata["crl_hours_left"]) <= 168.0
    assert "revocation: rev-ok.contoso.test: CRL" in out.stdout
    assert "Contoso Lab Revocation CA: CRL" in out.stdout


@pytest.mark.parametrize(
    ("scenario", "cert", "via", "reason"),
    [
        ("rev-crl-revoked", "rev-crl-revoked", "CRL", "key compromise"),
        ("rev-ocsp-revoked", "rev-ocsp-revoked", "OCSP", "key compromise"),
    ],
)
def test_revoked_certificate_is_critical_with_serial_date_and_reason(
    check: Checker, scenario: str, cert: str, via: str, reason: str
) -> None:
    lab = check.lab
    out = check(scenario, "--revocation")
    assert out.code == 2, out.stdout
    assert re.fullmatch(
        rf"OUTLOOK_ANYWHERE CRITICAL - {node(lab, scenario)}: certificate"
        rf" {scenario}\.contoso\.test revoked on {DATE}, reason {reason}"
        rf" \({via}, serial {serial_of(lab, cert)}\) \[0/1 nodes OK\]",
        out.status,
    ), out.status


def test_revoked_intermediate_is_critical_naming_the_ca(check: Checker) -> None:
    lab = check.lab
    out = check("rev-ca-revoked", "--revocation")
    assert out.code == 2, out.stdout
    assert lab.pki.rev_revoked_ca is not None
    serial = r.serial_text(lab.pki.rev_revoked_ca.serial_number)
    assert re.fullmatch(
        rf"OUTLOOK_ANYWHERE CRITICAL - {node(lab, 'rev-ca-revoked')}: issuing CA Contoso Lab"
        rf" Revoked CA revoked on {DATE}, reason ca compromise \(CRL, serial {serial}\)"
        r" \[0/1 nodes OK\]",
        out.status,
    ), out.status


def test_crl_past_its_next_update_is_critical(check: Checker) -> None:
    lab = check.lab
    out = check("rev-lapsed", "--revocation")
    assert out.code == 2, out.stdout
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE CRITICAL - {lab.scenario('rev-lapsed').addresses[0]}: certificate"
        f" rev-lapsed.contoso.test: CRL http://pki.contoso.test:{lab.revocation.port}/lapsed.crl"
        " is past its nextUpdate ("
    ), out.status
    assert "Windows treats revocation as unknown" in out.stdout
    # the long output's account of the source agrees: not "good"
    [line] = [x for x in out.long_output if x.startswith("  revocation:")]
    assert "/lapsed.crl not revoked, but stale: past its next update 20" in line, line
    assert "/lapsed.crl good" not in line
    # two days ago when the lab started (the session's lab may have run a while since)
    assert -49.0 < float(out.perfdata["crl_hours_left"]) <= -48.0


def test_crl_expiring_within_a_day_is_a_warning(check: Checker) -> None:
    lab = check.lab
    out = check("rev-expiring", "--revocation")
    assert out.code == 1, out.stdout
    assert re.fullmatch(
        rf"OUTLOOK_ANYWHERE WARNING - {node(lab, 'rev-expiring')}: certificate"
        rf" rev-expiring\.contoso\.test: CRL {pki(lab)}/expiring\.crl nextUpdate in"
        rf" [45]\.\d hours \({DATE}\): is the CRL still p\.\.\. \[0/1 nodes OK\]",
        out.status,
    ), out.status
    assert 4.0 <= float(out.perfdata["crl_hours_left"]) <= 5.0


def test_ldap_only_is_a_warning_and_is_never_fetched(check: Checker) -> None:
    lab = check.lab
    lab.revocation.clear()
    out = check("rev-ldap", "--revocation")
    assert out.code == 1, out.stdout
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE WARNING - {lab.scenario('rev-ldap').addresses[0]}: certificate"
        " rev-ldap.contoso.test has no HTTP CRL distribution point and no OCSP URL (only ldap:///"
    ), out.status
    assert "clients outside the domain cannot check revocation" in out.stdout
    # only the CA's own status (the root's CRL and responder) was fetched
    paths = sorted(f.path.split("/")[1] for f in lab.revocation.seen)
    assert paths == ["ocsp", "root.crl"], paths


def test_every_source_unreachable_is_a_warning_naming_the_urls(check: Checker) -> None:
    lab = check.lab
    out = check("rev-unreachable", "--revocation")
    assert out.code == 1, out.stdout
    port = lab.revocation.port
    assert (
        f"{lab.scenario('rev-unreachable').addresses[0]} WARNING: certificate"
        " rev-unreachable.contoso.test: revocation cannot be checked:"
        f" http://down.pki.contoso.test:{port}/rev.crl connection refused,"
        f" http://pki.contoso.test:{port}/gone HTTP 404 Not Found"
    ) in out.stdout


def test_garbage_from_every_source_is_a_warning(check: Checker) -> None:
    lab = check.lab
    out = check("rev-garbage", "--revocation")
    assert out.code == 1, out.stdout
    port = lab.revocation.port
    assert (
        f"revocation cannot be checked: http://pki.contoso.test:{port}/garbage.crl not a CRL,"
        f" http://pki.contoso.test:{port}/ocsp/garbage not an OCSP response"
    ) in out.stdout


@pytest.mark.parametrize(
    ("scenario", "says"),
    [
        ("rev-ocsp-unknown", "ocsp/unknown the responder does not know the certificate"),
        ("rev-ocsp-stale", "ocsp/stale answered with a response past its nextUpdate"),
    ],
)
def test_an_ocsp_answer_that_says_nothing_is_no_answer(
    check: Checker, scenario: str, says: str
) -> None:
    """Only OCSP, and it answers "unknown" or with a good answer past its nextUpdate: neither
    says the certificate is good (RFC 6960 §2.2, RFC 5019 §4), so nothing was checked."""
    lab = check.lab
    out = check(scenario, "--revocation")
    assert out.code == 1, out.stdout
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE WARNING - {lab.scenario(scenario).addresses[0]}: certificate"
        f" {scenario}.contoso.test: revocation cannot be checked: "
    ), out.status
    assert f"http://pki.contoso.test:{lab.revocation.port}/{says}" in out.long_output[0]


@pytest.mark.parametrize(
    ("scenario", "what", "path"),
    [("rev-bad-crl", "CRL", "badsig.crl"), ("rev-bad-ocsp", "OCSP response", "ocsp/badsig")],
)
def test_bad_signature_is_critical(check: Checker, scenario: str, what: str, path: str) -> None:
    lab = check.lab
    out = check(scenario, "--revocation")
    assert out.code == 2, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE CRITICAL - {lab.scenario(scenario).addresses[0]}: certificate"
        f" {scenario}.contoso.test: {what} from http://pki.contoso.test:{lab.revocation.port}/"
        f"{path} has a bad signature [0/1 nodes OK]"
    ), out.status


def test_short_serial_is_compared_as_an_integer(check: Checker) -> None:
    """Serial 0x0A; the CRL lists 0x0A0B, 0xA0 and 0x0A00 (a text search finds "0A" in each)."""
    lab = check.lab
    assert lab.chain("rev-short-serial").leaf.serial_number == 0x0A
    lab.revocation.clear()
    out = check("rev-short-serial", "--revocation")
    assert out.code == 0, out.stdout
    assert "not revoked (2 certificates checked)" in out.status
    # the CRL distribution point redirects (302) to the CRL: both were fetched
    paths = [f.path for f in lab.revocation.seen]
    assert "/redirect/rev.crl" in paths and "/rev.crl" in paths, paths
    asked = {s for f in lab.revocation.seen for s in f.serials}
    assert 0x0A in asked


def test_missing_intermediate_supplied_by_ca_issuers_is_a_warning(check: Checker) -> None:
    lab = check.lab
    without = check("rev-aia")
    assert without.code == 2, without.stdout  # untrusted: the chain is incomplete
    assert "missing intermediate?" in without.status
    out = check("rev-aia", "--revocation")
    assert out.code == 1, out.stdout
    assert out.status == (
        f"OUTLOOK_ANYWHERE WARNING - {lab.scenario('rev-aia').addresses[0]}: chain incomplete:"
        " issuing CA Contoso Lab Revocation CA is not sent, Windows fetches it from"
        f" http://pki.contoso.test:{lab.revocation.port}/ca/rev-ca.cer, other... [0/1 nodes OK]"
    ), out.status
    assert "untrusted" not in out.stdout and "not trusted" not in out.stdout
    # the supplied intermediate's own status is checked too (the root's CRL names it)
    assert "Contoso Lab Revocation CA: CRL" in out.stdout


def test_findings_count_against_the_nodes_that_sent_the_chain(check: Checker) -> None:
    lab = check.lab
    good, revoked = lab.scenario("rev-mixed").addresses
    out = check("rev-mixed", "--revocation")
    assert out.code == 2, out.stdout
    assert out.status.startswith(f"OUTLOOK_ANYWHERE CRITICAL - {revoked}: certificate")
    assert out.status.endswith("(+1 more) [1/2 nodes OK]"), out.status
    assert out.perfdata["nodes_ok"].split(";")[0] == "1"
    lines = {line.split(" ", 1)[0]: line for line in out.long_output if line[0].isdigit()}
    assert lines[good].startswith(f"{good} OK")
    assert lines[revoked].startswith(f"{revoked} CRITICAL: certificate rev-mixed.contoso.test")


def test_certificates_without_revocation_information_are_named_once_per_node(
    check: Checker,
) -> None:
    """The lab's first chains (leaf + Issuing CA) carry no URL at all; the root never counts."""
    out = check("healthy", "--revocation")
    assert out.code == 1, out.stdout
    assert out.status.endswith("(+5 more) [0/3 nodes OK]"), out.status
    assert "Contoso Lab Root CA" not in out.stdout
    assert out.stdout.count("revocation: the chain of 127.0.10.1, 127.0.10.2, 127.0.10.3") == 1


# -- what was fetched ------------------------------------------------------------------------------


def test_nothing_is_fetched_without_the_option(check: Checker) -> None:
    lab = check.lab
    lab.revocation.clear()
    for scenario in ("rev-ok", "rev-aia", "rev-silent", "rev-mixed"):
        assert check(scenario).code in (0, 1, 2)
        assert check(scenario, "--rpc", "-t", "3").code in (0, 1, 2)
    assert lab.revocation.seen == []


def test_the_trust_anchor_is_never_checked(check: Checker) -> None:
    """rev-ok sends leaf + Revocation CA + root: the leaf's and the CA's status are asked for,
    never the root's (it has no URL of its own, and its CRL is read only for the CA)."""
    lab = check.lab
    assert lab.pki.root is not None and lab.pki.rev_ca is not None
    lab.revocation.clear()
    out = check("rev-ok", "--revocation")
    assert out.code == 0, out.stdout
    assert len(lab.chain("rev-ok").certs) == 3  # the root is sent
    asked = sorted(s for f in lab.revocation.seen for s in f.serials)
    expected = [lab.chain("rev-ok").leaf.serial_number, lab.pki.rev_ca.serial_number]
    assert asked == sorted(expected)
    assert lab.pki.root.serial_number not in asked
    paths = sorted(f.path.split("/")[1] for f in lab.revocation.seen)
    assert paths == ["ocsp", "ocsp", "rev.crl", "root.crl"], paths
    assert "Contoso Lab Root CA:" not in out.stdout


def test_oversized_crls_are_cut_off_with_bounded_memory(lab: Lab, check: Checker) -> None:
    lab.revocation.clear()
    out, peak_kib = run_with_peak_memory(*check.args("rev-oversized"), "--revocation")
    assert out.code == 1, out.stdout
    assert "huge.crl response body of 52428800 bytes (over 1 MiB)" in out.stdout
    assert "endless.crl response body over 1 MiB" in out.stdout
    for path in ("/huge.crl", "/endless.crl"):
        [fetch] = lab.revocation.requests(path=path)
        # what the server got out before the plugin hung up: socket buffers, not 50 MiB
        assert fetch.sent < HUGE // 4, (path, fetch.sent)
    assert peak_kib < 100 * 1024, peak_kib


def test_a_crl_url_that_never_answers_ends_at_the_deadline(check: Checker) -> None:
    lab = check.lab
    out = check("rev-silent", "--revocation", "-t", "3")
    assert out.elapsed < 4.5, f"{out.elapsed:.2f} s"  # hard deadline
    assert out.code == 1, out.stdout
    assert (
        f"revocation cannot be checked: http://pki.contoso.test:{lab.revocation.port}/silent.crl"
        " no answer within the deadline"
    ) in out.status


def test_only_the_option_loads_the_revocation_modules(lab: Lab) -> None:
    s = lab.scenario("rev-ok")
    args = ["-H", s.host, "-I", s.addresses[0], "-p", str(lab.port), "--ca-file", lab.ca_file]
    _, _, modules = imported_by_check(*args)
    assert not {m for m in modules if "revocation" in m}
    _, _, modules = imported_by_check(*args, "--revocation")
    assert "outlook_anywhere.probes.revocation" in modules


def test_the_first_line_invariant_holds_with_the_option(full_lab: Lab) -> None:
    """Every scenario and hostile target with --revocation: one status line of at most 200
    characters, no ';', [k/n nodes OK] as nodes_ok says, no traceback (odd certificates
    included)."""
    from concurrent.futures import ThreadPoolExecutor

    lab = full_lab

    def one(target: tuple[str, str, list[str]]) -> str:
        name, host, addresses = target
        args = ["-H", host, "-p", str(lab.port), "--dns-server", lab.dns_server]
        args += ["--ca-file", str(lab.ca_file), "-t", "3", "--revocation"]
        out = run_plugin(*args)
        try:
            assert_invariant(out, served_leaves(lab, host, lab.port, addresses))
            assert "internal error" not in out.stdout, out.stdout
        except AssertionError as exc:
            return f"{name}: {exc}"
        return ""

    with ThreadPoolExecutor(max_workers=6) as pool:
        failures = [f for f in pool.map(one, TARGETS) if f]
    assert not failures, "\n".join(failures)
    assert sum(1 for name, _, _ in TARGETS if name.startswith("rev-")) == 18


# -- the judge functions, in-process -----------------------------------------------------------

NOW = 1_800_000_000.0
HOUR = 3600.0


def cert(*sources: r.Source, position: int = 0, serial: int = 0x0A) -> r.CertRevocation:
    entry = r.CertRevocation("mail.contoso.com", serial, position)
    entry.sources.extend(sources)
    return entry


def source(kind: str, outcome: str, next_in: float | None = 100.0, url: str = "") -> r.Source:
    s = r.Source(kind, url or f"http://pki.contoso.com/{kind}", outcome, "evidence")
    s.next_update = NOW + next_in * HOUR if next_in is not None else None
    return s


def kinds(entry: r.CertRevocation) -> list[tuple[str, object]]:
    return [(kind, state) for kind, state, _ in judge_certificate(entry, NOW)]


@pytest.mark.parametrize(
    ("sources", "expected"),
    [
        ([source(r.CRL, r.GOOD)], []),
        ([source(r.OCSP, r.GOOD)], []),
        ([source(r.CRL, r.REVOKED)], [(k.REVOKED, Critical)]),
        ([source(r.CRL, r.GOOD), source(r.OCSP, r.REVOKED)], [(k.REVOKED, Critical)]),
        ([source(r.CRL, r.GOOD, -1.0)], [(k.CRL_LAPSED, Critical)]),
        # a lapsed CRL is CRITICAL even when OCSP answers: Windows treats it as unavailable
        ([source(r.CRL, r.GOOD, -1.0), source(r.OCSP, r.GOOD)], [(k.CRL_LAPSED, Critical)]),
        ([source(r.CRL, r.GOOD, 23.9)], [(k.CRL_EXPIRING, Warn)]),
        ([source(r.CRL, r.GOOD, 24.1)], []),
        # the soonest CRL decides
        ([source(r.CRL, r.GOOD, 200.0), source(r.CRL, r.GOOD, 2.0)], [(k.CRL_EXPIRING, Warn)]),
        # an OCSP nextUpdate is no CRL's
        ([source(r.OCSP, r.GOOD, 1.0)], []),
        # a stale OCSP response is no answer; a revocation stays one
        ([source(r.OCSP, r.GOOD, -1.0)], [(k.REVOCATION_UNAVAILABLE, Warn)]),
        ([source(r.OCSP, r.GOOD, -1.0), source(r.CRL, r.GOOD)], []),
        ([source(r.OCSP, r.REVOKED, -1.0)], [(k.REVOKED, Critical)]),
        ([], [(k.NO_REVOCATION_SOURCE, Warn)]),
        ([source(r.CRL, r.NOT_FETCHED, None)], [(k.NO_REVOCATION_SOURCE, Warn)]),
        ([source(r.CRL, r.UNREACHABLE, None)], [(k.REVOCATION_UNAVAILABLE, Warn)]),
        (
            [source(r.CRL, r.HTTP_ERROR, None), source(r.OCSP, r.UNKNOWN, None)],
            [(k.REVOCATION_UNAVAILABLE, Warn)],
        ),
        # one source answering is enough
        ([source(r.CRL, r.UNUSABLE, None), source(r.OCSP, r.GOOD)], []),
        ([source(r.CRL, r.NOT_FETCHED, None), source(r.OCSP, r.GOOD)], []),
        ([source(r.CRL, r.BAD_SIGNATURE, None)], [(k.REVOCATION_BAD_SIGNATURE, Critical)]),
        (
            [source(r.CRL, r.GOOD), source(r.OCSP, r.BAD_SIGNATURE, None)],
            [(k.REVOCATION_BAD_SIGNATURE, Critical)],
        ),
    ],
)
def test_judge_certificate(sources: list[r.Source], expected: list[tuple[str, object]]) -> None:
    assert kinds(cert(*sources)) == expected


def test_revoked_evidence_carries_serial_date_and_reason() -> None:
    revoked = source(r.OCSP, r.REVOKED)
    revoked.revoked_at = NOW - 48 * HOUR
    revoked.reason = "key_compromise"
    [(kind, state, evidence)] = judge_certificate(cert(revoked, position=1), NOW)
    assert (kind, state) == (k.REVOKED, Critical)
    assert evidence["serial"] == "0A"
    assert evidence["ca"] is True
    assert evidence["reason"] == "key_compromise"
    assert evidence["date"] == "2027-01-13"
    assert evidence["via"] == r.OCSP


def test_a_certificate_without_known_issuer_is_not_judged_on_its_own() -> None:
    entry = cert()
    entry.without_issuer = True
    assert judge_certificate(entry, NOW) == []


def test_judge_chain_counts_against_every_node_that_sent_it() -> None:
    chain = r.ChainRevocation(("192.0.2.1", "192.0.2.2"))
    chain.certs.append(cert(source(r.CRL, r.REVOKED)))
    chain.supplied, chain.supplied_label = "http://pki.contoso.com/ca.cer", "Contoso CA"
    found = judge_chain(chain, NOW)
    assert [(f.node, f.kind, f.state) for f in found] == [
        ("192.0.2.1", k.INTERMEDIATE_SUPPLIED, Warn),
        ("192.0.2.1", k.REVOKED, Critical),
        ("192.0.2.2", k.INTERMEDIATE_SUPPLIED, Warn),
        ("192.0.2.2", k.REVOKED, Critical),
    ]


# -- a serial is an integer --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [("0A", 10), ("0a", 10), ("A", 10), ("000A", 10), ("0x0A", 10), ("0A:0B", 0x0A0B)],
)
def test_serial_text_is_read_as_an_integer(text: str, value: int) -> None:
    assert r.serial_number(text) == value


@pytest.mark.parametrize("text", ["", "0x", "zz", "0A-0B"])
def test_a_serial_that_is_no_number_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        r.serial_number(text)


def test_serials_are_shown_as_windows_shows_them() -> None:
    assert r.serial_text(10) == "0A"
    assert r.serial_text(0x0A0B) == "0A0B"
    assert r.serial_text(0x1234) == "1234"


def test_listed_compares_integers_only() -> None:
    assert not r.listed(0x0A, (0x0A0B, 0xA0, 0x0A00))
    assert r.listed(0x0A, (0x0A0B, 0x000A))
    assert not r.listed(0x0A, ("0A", "A"))  # text never matches


@pytest.fixture(scope="module")
def issuer() -> tuple[x509.Certificate, object]:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "Serial Test CA")])
    now = dt.datetime.now(dt.timezone.utc)
    ca = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    return ca, key


def crl_listing(issuer: tuple[x509.Certificate, object], *serials: int) -> bytes:
    ca, key = issuer
    now = dt.datetime.now(dt.timezone.utc)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca.subject)
        .last_update(now - dt.timedelta(hours=1))
        .next_update(now + dt.timedelta(days=1))
    )
    for serial in serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(now - dt.timedelta(hours=1))
            .build()
        )
    algorithm = None if isinstance(key, Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(key, algorithm).public_bytes(Encoding.DER)  # type: ignore[arg-type]


def test_a_crl_listing_look_alike_serials_does_not_revoke_a_short_one(
    issuer: tuple[x509.Certificate, object],
) -> None:
    body = crl_listing(issuer, 0x0A0B, 0xA0, 0x0A00, 0x100A)
    assert read_crl(body, issuer[0], 0x0A, "http://x/").outcome == r.GOOD
    assert read_crl(body, issuer[0], 0x0A0B, "http://x/").outcome == r.REVOKED


def test_a_crl_revokes_a_serial_listed_after_a_longer_look_alike(
    issuer: tuple[x509.Certificate, object],
) -> None:
    """0x1A0B and 0xA0B0 come first, and their hex text holds "A0B": only 0x0A0B is the one."""
    body = crl_listing(issuer, 0x1A0B, 0xA0B0, 0x0A0B)
    assert read_crl(body, issuer[0], 0x0A0B, "http://x/").outcome == r.REVOKED


def test_a_crl_listing_the_serial_revokes_it_whatever_its_leading_zeros(
    issuer: tuple[x509.Certificate, object],
) -> None:
    body = crl_listing(issuer, 0x0A)
    found = read_crl(body, issuer[0], r.serial_number("000A"), "http://x/")
    assert found.outcome == r.REVOKED


def _ca(name: str, key: object) -> x509.Certificate:
    now = dt.datetime.now(dt.timezone.utc)
    subject = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, name)])
    algorithm = None if isinstance(key, Ed25519PrivateKey) else hashes.SHA256()
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())  # type: ignore[attr-defined]
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, algorithm)  # type: ignore[arg-type]
    )


def _leaf_of(ca: x509.Certificate, key: object, serial: int = 0x1234) -> x509.Certificate:
    from cryptography.hazmat.primitives.asymmetric import ec

    now = dt.datetime.now(dt.timezone.utc)
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "mail.contoso.test")])
    algorithm = None if isinstance(key, Ed25519PrivateKey) else hashes.SHA256()
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(ca.subject)
        .public_key(ec.generate_private_key(ec.SECP256R1()).public_key())
        .serial_number(serial)
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(key, algorithm)  # type: ignore[arg-type]
    )


def _ocsp_answer(
    leaf: x509.Certificate, ca: x509.Certificate, signer: x509.Certificate, key: object
) -> bytes:
    now = dt.datetime.now(dt.timezone.utc)
    algorithm = None if isinstance(key, Ed25519PrivateKey) else hashes.SHA256()
    return (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=leaf,
            issuer=ca,
            algorithm=hashes.SHA1(),
            cert_status=ocsp.OCSPCertStatus.GOOD,
            this_update=now - dt.timedelta(hours=1),
            next_update=now + dt.timedelta(days=1),
            revocation_time=None,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, signer)
        .sign(key, algorithm)  # type: ignore[arg-type]
        .public_bytes(Encoding.DER)
    )


def test_a_crl_in_pem_is_read(issuer: tuple[x509.Certificate, object]) -> None:
    der = crl_listing(issuer, 0x0A)
    pem = x509.load_der_x509_crl(der).public_bytes(Encoding.PEM)
    assert read_crl(pem, issuer[0], 0x0A, "http://x/").outcome == r.REVOKED


def test_a_crl_of_another_issuer_is_unusable(issuer: tuple[x509.Certificate, object]) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    other = _ca("Another CA", ec.generate_private_key(ec.SECP256R1()))
    found = read_crl(crl_listing(issuer, 0x0A), other, 0x0A, "http://x/")
    assert (found.outcome, found.detail) == (r.UNUSABLE, "a CRL of another issuer")


def test_a_crl_signed_with_ed25519_is_verified() -> None:
    key = Ed25519PrivateKey.generate()
    ca = _ca("Ed25519 CA", key)
    good = crl_listing((ca, key), 0x0A)
    assert read_crl(good, ca, 0x0A, "http://x/").outcome == r.REVOKED
    forged = crl_listing((ca, Ed25519PrivateKey.generate()), 0x0A)
    assert read_crl(forged, ca, 0x0A, "http://x/").outcome == r.BAD_SIGNATURE


@pytest.mark.parametrize("kind", ["ec", "ed25519"])
def test_an_ocsp_answer_signed_by_the_issuer_is_good(kind: str) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1()) if kind == "ec" else Ed25519PrivateKey.generate()
    ca = _ca(f"{kind} CA", key)
    leaf = _leaf_of(ca, key)
    body = _ocsp_answer(leaf, ca, ca, key)
    assert read_ocsp(body, leaf, ca, leaf.serial_number, "http://x/").outcome == r.GOOD


def test_an_ocsp_answer_signed_by_a_stranger_is_a_bad_signature(
    issuer: tuple[x509.Certificate, object],
) -> None:
    """A responder the issuer never delegated to (RFC 6960 §4.2.2.2): its word counts for
    nothing."""
    from cryptography.hazmat.primitives.asymmetric import ec

    ca, key = issuer
    leaf = _leaf_of(ca, key)
    stranger_key = ec.generate_private_key(ec.SECP256R1())
    stranger = _ca("Stranger", stranger_key)
    body = _ocsp_answer(leaf, ca, stranger, stranger_key)
    found = read_ocsp(body, leaf, ca, leaf.serial_number, "http://x/")
    assert found.outcome == r.BAD_SIGNATURE
    assert found.detail == "signed by neither the issuer nor a responder it delegated"


def test_an_ocsp_answer_that_is_not_successful_is_unusable(
    issuer: tuple[x509.Certificate, object],
) -> None:
    ca, key = issuer
    leaf = _leaf_of(ca, key)
    body = ocsp.OCSPResponseBuilder.build_unsuccessful(
        ocsp.OCSPResponseStatus.TRY_LATER
    ).public_bytes(Encoding.DER)
    found = read_ocsp(body, leaf, ca, leaf.serial_number, "http://x/")
    assert (found.outcome, found.detail) == (r.UNUSABLE, "responder status try_later")


@pytest.mark.parametrize("form", ["der", "pem", "pkcs7"])
def test_a_ca_issuers_answer_is_read_in_every_form(
    issuer: tuple[x509.Certificate, object], form: str
) -> None:
    from cryptography.hazmat.primitives.serialization import pkcs7

    ca = issuer[0]
    body = {
        "der": lambda: ca.public_bytes(Encoding.DER),
        "pem": lambda: b"junk before\n" + ca.public_bytes(Encoding.PEM),
        "pkcs7": lambda: pkcs7.serialize_certificates([ca], Encoding.DER),
    }[form]()
    assert parse_issuer_cert(body) == [ca]
    assert parse_issuer_cert(b"<html>no certificate</html>") == []


# -- the words, in-process -----------------------------------------------------------------------

LONG_URL = "http://pki.contoso.com/" + "CertEnroll/" * 20 + "Contoso%20Issuing%20CA.crl"
SERIAL = "7A" * 20


@pytest.mark.parametrize(
    ("kind", "evidence", "says"),
    [
        (
            k.REVOKED,
            {"cert": "mail.contoso.com", "ca": False, "serial": "0A", "via": "crl",
             "date": "2026-11-27", "reason": "key_compromise"},
            "certificate mail.contoso.com revoked on 2026-11-27, reason key compromise"
            " (CRL, serial 0A)",
        ),
        (
            k.REVOKED,
            {"cert": "Contoso CA", "ca": True, "serial": "0A", "via": "ocsp", "date": None,
             "reason": "unspecified"},
            "issuing CA Contoso CA revoked (OCSP, serial 0A)",
        ),
        (
            k.CRL_LAPSED,
            {"cert": "mail.contoso.com", "ca": False, "url": "http://pki/x.crl", "hours": -2.5,
             "date": "2026-11-30"},
            "certificate mail.contoso.com: CRL http://pki/x.crl is past its nextUpdate"
            " (2026-11-30, 2.5 hours ago): Windows treats revocation as unknown",
        ),
        (
            k.NO_REVOCATION_SOURCE,
            {"cert": "mail.contoso.com", "ca": False, "named": []},
            "certificate mail.contoso.com has no HTTP CRL distribution point and no OCSP URL:"
            " clients outside the domain cannot check revocation",
        ),
        (
            k.REVOCATION_UNAVAILABLE,
            {"cert": "mail.contoso.com", "ca": False,
             "failures": [("http://a/x.crl", r.UNREACHABLE, "connection refused"),
                          ("http://b/ocsp", r.UNKNOWN, "")]},
            "certificate mail.contoso.com: revocation cannot be checked: http://a/x.crl"
            " connection refused, http://b/ocsp the responder does not know the certificate",
        ),
        (
            k.REVOCATION_UNAVAILABLE,
            {"cert": "mail.contoso.com", "ca": True, "failures": [("http://b/ocsp", "stale", "")]},
            "issuing CA mail.contoso.com: revocation cannot be checked: http://b/ocsp answered"
            " with a response past its nextUpdate",
        ),
    ],
)  # fmt: skip
def test_revocation_phrases(kind: str, evidence: dict[str, object], says: str) -> None:
    from outlook_anywhere.check.words import phrase
    from outlook_anywhere.judgement.findings import Finding

    assert phrase(Finding(kind, Critical, "192.0.2.1", evidence)) == says


@pytest.mark.parametrize(
    "kind",
    [
        k.REVOKED,
        k.CRL_LAPSED,
        k.CRL_EXPIRING,
        k.NO_REVOCATION_SOURCE,
        k.REVOCATION_UNAVAILABLE,
        k.REVOCATION_BAD_SIGNATURE,
        k.INTERMEDIATE_SUPPLIED,
    ],
)
def test_long_names_and_urls_keep_the_first_line_short(kind: str) -> None:
    from outlook_anywhere.check.words import SHORT, phrase
    from outlook_anywhere.judgement.findings import Finding

    evidence = {
        "cert": "x" * 300,
        "ca": "y" * 300,
        "serial": SERIAL,
        "via": "crl",
        "url": LONG_URL,
        "date": "2026-11-30",
        "reason": "key_compromise",
        "hours": 3.0,
        "named": [LONG_URL] * 5,
        "failures": [(LONG_URL, r.UNUSABLE, "z" * 300)] * 5,
        "detail": "d",
    }
    first = phrase(Finding(kind, Warn, "192.0.2.1", evidence), SHORT)
    long = phrase(Finding(kind, Warn, "192.0.2.1", evidence))
    assert "x" * (SHORT + 1) not in first and LONG_URL not in first
    assert len(first) < len(long)
    assert "\n" not in first and "\n" not in long


def test_ignore_trust_never_claims_a_certificate_checked_that_was_not(check: Checker) -> None:
    """rev-aia sends its leaf alone: with --ignore-trust nothing completes the chain, so the
    leaf's CRL cannot be verified and the OK line says so."""
    out = check("rev-aia", "--revocation", "--ignore-trust")
    assert out.code == 0, out.stdout
    assert out.status.endswith(
        "trust not checked, revocation of 1 not checked (issuer not sent)"
    ), out.status
    assert "not revoked" not in out.status
    out = check("rev-ok", "--revocation", "--ignore-trust")
    assert out.status.endswith("trust not checked, not revoked (2 certificates checked)")
