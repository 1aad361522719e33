"""design.md's states table, row by row, against real TLS nodes of the lab, through the CLI.

Each test asserts the exit code and the first line (or its decisive part), and that stderr is
empty: Icinga shows stderr as the status text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.conftest import Checker, Outcome

OK, WARNING, CRITICAL, UNKNOWN = 0, 1, 2, 3


def expect(out: Outcome, code: int, *phrases: str) -> None:
    state = ["OK", "WARNING", "CRITICAL", "UNKNOWN"][code]
    assert out.stderr == "", out.stderr
    assert out.code == code, out.stdout
    assert out.first_line.startswith(f"OUTLOOK_ANYWHERE {state} - "), out.stdout
    assert "Traceback" not in out.stdout
    for phrase in phrases:
        assert phrase in out.status, f"{phrase!r} not in {out.status!r}"


def test_cn_equals_principal_is_ok(check: Checker) -> None:
    out = check("single")
    expect(out, OK)
    assert re.fullmatch(
        r"OUTLOOK_ANYWHERE OK - 1 node OK: msstd:single\.contoso\.test matches CN"
        r" single\.contoso\.test, 300\.0 days left \(expires \d{4}-\d\d-\d\d\), trusted",
        out.status,
    ), out.status


@pytest.mark.parametrize(
    "principal",
    [
        "msstd:single.contoso.test",
        "MSSTD:Single.Contoso.Test",
        "single.contoso.test.",
        "msstd:SINGLE.contoso.test.",
    ],
)
def test_principal_prefix_case_and_trailing_dot(check: Checker, principal: str) -> None:
    expect(check("single", "-P", principal), OK)


def test_san_only_is_warning_under_match_cn(check: Checker) -> None:
    out = check("san-only")
    expect(
        out,
        WARNING,
        "127.0.18.1: msstd:san-only.contoso.test found only in a SAN",
        "not in CN exchange01.contoso.test",
        'Set-OutlookProvider EXPR -CertPrincipalName:"msstd:exchange01.contoso.test"',
    )


def test_san_only_is_ok_under_match_cn_or_san(check: Checker) -> None:
    expect(check("san-only", "--match", "cn-or-san"), OK)


def test_literal_wildcard_principal_is_ok(check: Checker) -> None:
    expect(check("wildcard", "-P", "msstd:*.contoso.test"), OK, "matches CN *.contoso.test")


def test_wildcard_expansion_is_warning_with_fix(check: Checker) -> None:
    out = check("wildcard")
    expect(
        out,
        WARNING,
        "matches only by expanding the wildcard *.contoso.test",
        'fix: Set-OutlookProvider EXPR -CertPrincipalName:"msstd:*.contoso.test"',
    )


def test_no_match_is_critical_with_both_names_and_the_fix(check: Checker) -> None:
    out = check("cn-mismatch")
    expect(
        out,
        CRITICAL,
        "127.0.17.1: Mutual Authentication could not be established: certificate has CN"
        " owa.contoso.test, expected msstd:cn-mismatch.contoso.test; fix: a certificate whose"
        " CN is cn-mismatch.contoso.test, or publish the certificate's name with"
        ' Set-OutlookProvider EXPR -CertPrincipalName:"msstd:owa.contoso.test"',
    )


def test_no_match_under_cn_or_san_is_still_critical(check: Checker) -> None:
    expect(check("cn-mismatch", "--match", "cn-or-san"), CRITICAL, "Mutual Authentication")


def test_nul_byte_in_cn_never_matches(check: Checker) -> None:
    out = check("nul-cn")
    expect(
        out,
        CRITICAL,
        "Mutual Authentication could not be established",
        "CN nul-cn.contoso.test\\x00.evil.test",
    )
    assert "\x00" not in out.stdout


def test_several_cns_warn_and_the_first_is_judged(check: Checker) -> None:
    expect(
        check("multi-cn"), WARNING, "subject has 2 CNs (multi-cn.contoso.test, other.contoso.test)"
    )
    # the second CN is not the principal's: naming it is a mismatch of the first
    expect(
        check("multi-cn", "-P", "other.contoso.test"),
        CRITICAL,
        "certificate has CN multi-cn.contoso.test, expected msstd:other.contoso.test",
    )


def test_email_in_subject_is_shown_not_matched(check: Checker) -> None:
    out = check("email-subject")
    expect(out, OK)
    assert "e-mail " in out.long_output[0]


def test_fewer_than_warning_days_is_warning(check: Checker) -> None:
    expect(check("expiring-warn"), WARNING, "127.0.20.1: certificate expires in 20.0 days")


def test_fewer_than_critical_days_is_critical(check: Checker) -> None:
    expect(check("expiring-crit"), CRITICAL, "127.0.21.1: certificate expires in 7.0 days")


def test_thresholds_are_configurable(check: Checker) -> None:
    expect(check("expiring-warn", "-w", "10", "-c", "5"), OK)
    expect(check("expiring-crit", "-w", "10", "-c", "5"), WARNING, "expires in 7.0 days")
    expect(check("expiring-warn", "-w", "400", "-c", "100"), CRITICAL)


def test_nagios_range_thresholds_apply_as_written(check: Checker) -> None:
    # "@15:25": alert when the days left lie inside 15..25
    out = check("expiring-warn", "-w", "@15:25", "-c", "0:")
    expect(out, WARNING, "expires in 20.0 days")
    assert out.perfdata["days_left"] == "20.0;@15:25;0:"
    expect(check("single", "-w", "@15:25", "-c", "0:"), OK)


def test_expired_is_critical(check: Checker) -> None:
    expect(check("expired"), CRITICAL, "127.0.22.1: certificate expired 2.0 days ago")


def test_not_yet_valid_is_critical(check: Checker) -> None:
    expect(check("not-yet-valid"), CRITICAL, "127.0.23.1: certificate not valid before")


def test_expired_intermediate_is_critical_and_named(check: Checker) -> None:
    expect(
        check("expired-intermediate"), CRITICAL, "issuing CA 'Contoso Lab Issuing CA 2017' expired"
    )


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        ("self-signed", "certificate not trusted: self-signed certificate"),
        (
            "untrusted",
            "certificate not trusted: root 'Rogue Root CA' sent by the server is not"
            " a trusted root",
        ),
        (
            "missing-intermediate",
            "certificate not trusted: issuer 'Contoso Lab Issuing CA' is"
            " not in the trust store and the server sends no intermediate",
        ),
    ],
)
def test_untrusted_chain_is_critical(check: Checker, scenario: str, reason: str) -> None:
    expect(check(scenario), CRITICAL, reason)


@pytest.mark.parametrize("scenario", ["self-signed", "untrusted", "missing-intermediate"])
def test_ignore_trust_still_checks_names_and_dates(check: Checker, scenario: str) -> None:
    out = check(scenario, "--ignore-trust")
    expect(out, OK, "trust not checked")


def test_ignore_trust_does_not_hide_a_mismatch(check: Checker) -> None:
    expect(check("cn-mismatch", "--ignore-trust"), CRITICAL, "Mutual Authentication")


def test_system_store_does_not_trust_the_lab(check: Checker) -> None:
    s = check.lab.scenario("single")
    from tests.conftest import run_plugin

    out = run_plugin("-H", s.host, "-p", str(check.lab.port), "-I", s.addresses[0])
    expect(out, CRITICAL, "certificate not trusted")


def test_root_served_in_chain_is_fine(check: Checker) -> None:
    expect(check("root-in-chain"), OK)


def test_weak_signature_and_key_are_warnings(check: Checker) -> None:
    expect(check("weak-sha1"), WARNING, "certificate is signed with SHA1")
    expect(check("weak-rsa1024"), WARNING, "certificate has a 1024-bit RSA key")


def test_certificate_with_no_subject(check: Checker) -> None:
    expect(check("no-subject"), WARNING, "found only in a SAN, not in CN (none)")
    expect(check("no-subject", "--match", "cn-or-san"), OK)


def test_nodes_serving_different_certificates_warn_naming_the_minority(check: Checker) -> None:
    out = check("differ")
    expect(out, WARNING, "certificates differ: 127.0.16.2 serves thumbprint")
    assert "127.0.16.1 serves" not in out.status
    assert "1 other node serves thumbprint" in out.status
    assert out.perfdata["nodes_ok"] == "2;;;0;2"


@pytest.mark.parametrize(
    ("scenario", "node", "phrase"),
    [
        ("stale", "127.0.12.3", "certificate expires in 20.0 days"),
        ("expired-node", "127.0.13.2", "certificate expired 3.0 days ago"),
        (
            "wrong-cn-node",
            "127.0.14.3",
            "Mutual Authentication could not be established:"
            " certificate has CN legacy.contoso.test",
        ),
        ("refused-node", "127.0.15.3", "connection refused"),
    ],
)
def test_one_bad_node_in_three_is_named(
    check: Checker, scenario: str, node: str, phrase: str
) -> None:
    out = check(scenario)
    assert out.code in (WARNING, CRITICAL)
    assert out.status.split(" - ", 1)[1].startswith(f"{node}: {phrase}"), out.status
    assert out.status.endswith("[2/3 nodes OK]")
    assert out.perfdata["nodes"] == "3;;;0"
    assert out.perfdata["nodes_ok"] == "2;;;0;3"
    nodes = out.long_output[:3]
    assert [line.split()[0] for line in nodes] == check.lab.scenario(scenario).addresses
    # after the node lines, at most the fleet's own finding
    assert all(line.startswith("WARNING: certificates differ") for line in out.long_output[3:])
    bad = [line for line in nodes if line.split()[1] != "OK"]
    assert [line.split()[0] for line in bad] == [node]
    assert out.stderr == ""


@pytest.mark.parametrize(
    ("scenario", "phrase"),
    [
        ("refused", "127.0.35.1: connection refused"),
        ("reset", "127.0.38.1: connection reset during the TLS handshake"),
        ("banner", "127.0.37.1: not TLS: server sent '220 mail.contoso.test ESMTP ready"),
        ("malformed", "127.0.39.1: certificate could not be parsed"),
    ],
)
def test_connection_failures_are_critical(check: Checker, scenario: str, phrase: str) -> None:
    out = check(scenario)
    expect(out, CRITICAL, phrase)
    assert "days_left" not in out.perfdata and "time" not in out.perfdata
    assert out.perfdata["nodes_ok"] == "0;;;0;1"


def test_silent_server_ends_within_the_deadline(check: Checker) -> None:
    out = check("silent", "-t", "3")
    expect(out, CRITICAL, "127.0.36.1: TLS handshake not finished within the deadline")
    assert out.elapsed < 4.2  # hard deadline: the verdict within -t plus about one second


def test_unknown_sni_alert_is_critical(check: Checker) -> None:
    s = check.lab.scenario("sni-strict")
    out = check("sni-strict", "-H", "other.contoso.test", "-I", s.addresses[0])
    expect(out, CRITICAL, "TLS handshake failed: server sent TLS alert: unrecognized name")


@pytest.mark.parametrize(
    ("scenario", "phrase"),
    [
        ("servfail", "servfail.contoso.test: DNS A query failed: SERVFAIL"),
        ("timeout", "timeout.contoso.test: DNS A query timed out"),
    ],
)
def test_dns_failures_are_critical(check: Checker, scenario: str, phrase: str) -> None:
    out = check(scenario, "-t", "2")
    expect(out, CRITICAL, phrase, f"(DNS server {check.lab.dns_server})")
    assert out.perfdata == {"nodes": "0;;;0", "nodes_ok": "0;;;0;0"}
    assert out.elapsed < 3.2


def test_name_not_found_is_critical(check: Checker) -> None:
    out = check("single", "-H", "nowhere.contoso.test")
    expect(out, CRITICAL, "nowhere.contoso.test: DNS name not found (NXDOMAIN)")


def test_cname_chain_is_followed(check: Checker) -> None:
    out = check("cname", "-P", "healthy.contoso.test")
    expect(out, OK, "3/3 nodes OK")


def test_system_resolver_path(check: Checker) -> None:
    from tests.conftest import run_plugin

    out = run_plugin(
        "-H", "localhost", "-p", str(check.lab.port), "-4", "--ca-file", str(check.lab.ca_file)
    )
    expect(out, OK, "1 node OK: msstd:localhost matches CN localhost")
    assert out.long_output[0].startswith("127.0.0.1 OK -- CN localhost")


def test_ipv6_only_node(check: Checker) -> None:
    out = check("ipv6", "-6")
    expect(out, OK)
    assert out.long_output[0].startswith("::1 OK")
    out = check("ipv6", "-4")
    expect(out, CRITICAL, "ipv6.contoso.test: DNS name has no address")


def test_addresses_given_with_I_skip_dns(check: Checker) -> None:
    s = check.lab.scenario("healthy")
    out = check(
        "healthy", "--dns-server", "127.0.0.1:9", "-I", s.addresses[1], "-I", s.addresses[0]
    )
    expect(out, OK, "2/2 nodes OK")
    # -I keeps the order given
    assert [line.split()[0] for line in out.long_output] == [s.addresses[1], s.addresses[0]]


def test_perfdata_exactly(check: Checker) -> None:
    out = check("healthy")
    perf = out.perfdata
    assert set(perf) == {
        "days_left",
        "time",
        "nodes",
        "nodes_ok",
        "days_left_127_0_10_1",
        "days_left_127_0_10_2",
        "days_left_127_0_10_3",
    }
    assert re.fullmatch(r"\d+\.\d;30:;14:", perf["days_left"])
    assert re.fullmatch(r"\d+\.\d+s;;;0", perf["time"])
    assert perf["nodes"] == "3;;;0" and perf["nodes_ok"] == "3;;;0;3"
    assert all("." not in label and ":" not in label for label in perf)
    assert "U" not in " ".join(perf.values())


def test_single_node_has_no_per_node_perfdata(check: Checker) -> None:
    assert set(check("single").perfdata) == {"days_left", "time", "nodes", "nodes_ok"}


def test_long_output_one_line_per_node_and_chain_at_v(check: Checker) -> None:
    out = check("healthy")
    assert [line.split()[:2] for line in out.long_output] == [
        ["127.0.10.1", "OK"],
        ["127.0.10.2", "OK"],
        ["127.0.10.3", "OK"],
    ]
    assert "issuer Contoso Lab Issuing CA" in out.long_output[0]
    assert "|" not in "\n".join(out.long_output)
    verbose = check("single", "-v")
    assert verbose.first_line.startswith("OUTLOOK_ANYWHERE OK") and " | days_left=" in (
        verbose.first_line
    )
    chain = [line for line in verbose.long_output if line.startswith("  [")]
    assert len(chain) == 3  # leaf, issuing CA, and the root it was verified against
    assert "SHA-256" in chain[0]


def test_system_store_read_from_a_hashed_directory(check: Checker, tmp_path: Path) -> None:
    """Without --ca-file the trust anchors come from the system's hashed directory (here one
    holding the lab's root, as SSL_CERT_DIR); a directory without hash links is not used."""
    import shutil
    import subprocess

    from tests.conftest import run_plugin

    store = tmp_path / "certs"
    store.mkdir()
    shutil.copy(check.lab.ca_file, store / "lab-root.pem")
    s = check.lab.scenario("single")
    args = ["-H", s.host, "-p", str(check.lab.port), "-I", s.addresses[0]]
    unhashed = run_plugin(*args, env={"SSL_CERT_DIR": str(store)})
    expect(unhashed, CRITICAL, "certificate not trusted")
    subprocess.run(["openssl", "rehash", str(store)], check=True, capture_output=True)
    expect(run_plugin(*args, env={"SSL_CERT_DIR": str(store)}), OK, "trusted")
