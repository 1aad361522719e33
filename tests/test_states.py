"""The README's states table, row by row, against real TLS nodes of the lab, through the CLI.

Each test asserts the exit code and the first line (or its decisive part), and that stderr is
empty: Icinga shows stderr as the status text.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import NameOID

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
    consistent(out)


def consistent(out: Outcome) -> None:
    """What every first line keeps to: at most 200 characters and no ';' before the perfdata,
    and the node count it states equals the nodes and nodes_ok perfdata."""
    assert len(out.status) <= 200, out.status
    assert ";" not in out.status, out.status
    counted = re.search(r"\[(\d+)/(\d+) nodes OK\]$", out.status) or re.match(
        r"OUTLOOK_ANYWHERE OK - (\d+)/(\d+) nodes OK: ", out.status
    )
    if counted:
        ok, nodes = counted.groups()
        assert out.perfdata["nodes_ok"] == f"{ok};;;0;{nodes}", out.first_line
        assert out.perfdata["nodes"] == f"{nodes};;;0", out.first_line


def status(out: Outcome, code: int, text: str) -> None:
    """The exit code and the whole first line before the perfdata."""
    expect(out, code)
    state = ["OK", "WARNING", "CRITICAL", "UNKNOWN"][code]
    assert out.status == f"OUTLOOK_ANYWHERE {state} - {text}", out.stdout


def expires(check: Checker, cert: str, position: int = 0) -> str:
    """The expiry date (UTC) of certificate ``cert`` of the lab, or of its issuer at 1."""
    return check.lab.chain(cert).certs[position].not_valid_after_utc.date().isoformat()


def valid_from(check: Checker, cert: str) -> str:
    return check.lab.chain(cert).leaf.not_valid_before_utc.date().isoformat()


def thumbprint(check: Checker, cert: str) -> str:
    return check.lab.chain(cert).leaf.fingerprint(hashes.SHA1()).hex().upper()


def node_line(check: Checker, out: Outcome, address: str) -> str:
    lines = [line for line in out.long_output if line.split(" ", 1)[0] == address]
    assert len(lines) == 1, out.stdout
    return lines[0]


def all_well(check: Checker, cert: str, nodes: int = 1, principal: str = "") -> str:
    host = principal or check.lab.scenario(cert).host
    return (
        f"{nodes}/{nodes} nodes OK: msstd:{host} matches the CN, 300.0 days left"
        f" (expires {expires(check, cert)})"
    )


def served(check: Checker, cert: str, sans: str = "") -> str:
    """What a node serving lab certificate ``cert`` is described with, up to its handshake
    time: CN, SAN, days left, issuer, thumbprint, protocol."""
    s = check.lab.chain(cert)
    cn = s.leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    return (
        f"CN {cn}; SAN {sans or cn}; 300.0 days left ({expires(check, cert)}); issuer Contoso Lab"
        f" Issuing CA; thumbprint {thumbprint(check, cert)}; TLSv1.3"
    )


def timed(line: str, prefix: str) -> bool:
    """``line`` is ``prefix`` followed by a time in milliseconds."""
    return line.startswith(prefix + "; ") and re.fullmatch(r"\d+ ms", line[len(prefix) + 2 :])


def test_cn_equals_principal_is_ok(check: Checker) -> None:
    out = check("single")
    status(out, OK, all_well(check, "single"))
    assert len(out.long_output) == 1
    sans = "single.contoso.test, autodiscover.contoso.test"
    assert timed(out.long_output[0], "127.0.11.1 OK -- " + served(check, "single", sans))


@pytest.mark.parametrize(
    ("principal", "shown"),
    [
        ("msstd:single.contoso.test", "single.contoso.test"),
        ("MSSTD:Single.Contoso.Test", "Single.Contoso.Test"),
        ("single.contoso.test.", "single.contoso.test."),
        ("msstd:SINGLE.contoso.test.", "SINGLE.contoso.test."),
    ],
)
def test_principal_prefix_case_and_trailing_dot(check: Checker, principal: str, shown: str) -> None:
    status(check("single", "-P", principal), OK, all_well(check, "single", principal=shown))


def test_san_only_is_warning_under_match_cn(check: Checker) -> None:
    out = check("san-only")
    status(
        out,
        WARNING,
        "127.0.18.1: msstd:san-only.contoso.test only in a SAN, not the CN"
        " exchange01.contoso.test: Outlook before Vista SP1 and the Remote Connectivity Analyzer"
        " fail [0/1 nodes OK]",
    )
    # both ways out; the certificate's CN satisfies --match cn, so publishing it is safe
    assert node_line(check, out, "127.0.18.1").startswith(
        "127.0.18.1 WARNING: msstd:san-only.contoso.test only in a SAN, not the CN"
        " exchange01.contoso.test: Outlook before Vista SP1 and the Remote Connectivity Analyzer"
        " fail; fix: a certificate whose CN is san-only.contoso.test, or Set-OutlookProvider EXPR"
        ' -CertPrincipalName:"msstd:exchange01.contoso.test" -- CN exchange01.contoso.test; SAN'
        " exchange01.contoso.test, san-only.contoso.test; "
    )


def test_san_only_is_ok_under_match_cn_or_san(check: Checker) -> None:
    status(
        check("san-only", "--match", "cn-or-san"),
        OK,
        "1/1 nodes OK: msstd:san-only.contoso.test matches SAN san-only.contoso.test, 300.0 days"
        f" left (expires {expires(check, 'san-only')})",
    )


def test_literal_wildcard_principal_is_ok(check: Checker) -> None:
    status(
        check("wildcard", "-P", "msstd:*.contoso.test"),
        OK,
        all_well(check, "wildcard", principal="*.contoso.test"),
    )


def test_wildcard_expansion_is_warning_with_fix(check: Checker) -> None:
    out = check("wildcard")
    status(
        out,
        WARNING,
        "127.0.19.1: msstd:wildcard.contoso.test matches only by expanding the wildcard CN"
        " *.contoso.test: the Analyzer and older clients do not [0/1 nodes OK]",
    )
    assert node_line(check, out, "127.0.19.1").startswith(
        "127.0.19.1 WARNING: msstd:wildcard.contoso.test matches only by expanding the wildcard"
        " CN *.contoso.test: the Analyzer and older clients do not; fix: Set-OutlookProvider EXPR"
        ' -CertPrincipalName:"msstd:*.contoso.test" -- CN *.contoso.test; '
    )


def test_no_match_is_critical_with_both_names_and_the_fix(check: Checker) -> None:
    out = check("cn-mismatch")
    status(
        out,
        CRITICAL,
        "127.0.17.1: Mutual Authentication could not be established: certificate CN"
        " owa.contoso.test, expected msstd:cn-mismatch.contoso.test [0/1 nodes OK]",
    )
    assert len(out.long_output) == 1
    assert timed(
        out.long_output[0],
        "127.0.17.1 CRITICAL: Mutual Authentication could not be established: certificate CN"
        " owa.contoso.test, expected msstd:cn-mismatch.contoso.test; fix: a certificate whose CN"
        " is cn-mismatch.contoso.test, or Set-OutlookProvider EXPR"
        ' -CertPrincipalName:"msstd:owa.contoso.test" -- ' + served(check, "cn-mismatch"),
    )


def test_no_match_under_cn_or_san_is_still_critical(check: Checker) -> None:
    status(
        check("cn-mismatch", "--match", "cn-or-san"),
        CRITICAL,
        "127.0.17.1: Mutual Authentication could not be established: certificate CN"
        " owa.contoso.test, expected msstd:cn-mismatch.contoso.test [0/1 nodes OK]",
    )


def test_nul_byte_in_cn_never_matches(check: Checker) -> None:
    out = check("nul-cn")
    status(
        out,
        CRITICAL,
        "127.0.30.1: Mutual Authentication could not be established: certificate CN"
        " nul-cn.contoso.test\\x00.evil.test, expected msstd:nul-cn.contoso.test [0/1 nodes OK]",
    )
    assert "\x00" not in out.stdout
    # the certificate's own name holds a control character: never proposed for publishing
    assert node_line(check, out, "127.0.30.1").startswith(
        "127.0.30.1 CRITICAL: Mutual Authentication could not be established: certificate CN"
        " nul-cn.contoso.test\\x00.evil.test, expected msstd:nul-cn.contoso.test; fix: replace the"
        " certificate with one whose CN is nul-cn.contoso.test -- "
    )
    assert "Set-OutlookProvider" not in out.stdout


def test_several_cns_warn_and_the_first_is_judged(check: Checker) -> None:
    status(
        check("multi-cn"),
        WARNING,
        "127.0.29.1: subject has 2 CNs (multi-cn.contoso.test, other.contoso.test): clients"
        " differ on which one they read [0/1 nodes OK]",
    )
    # the second CN is not the principal's: naming it is a mismatch of the first
    out = check("multi-cn", "-P", "other.contoso.test")
    status(
        out,
        CRITICAL,
        "127.0.29.1: Mutual Authentication could not be established: certificate CN"
        " multi-cn.contoso.test, expected msstd:other.contoso.test (+1 more) [0/1 nodes OK]",
    )
    assert node_line(check, out, "127.0.29.1").startswith(
        "127.0.29.1 CRITICAL: Mutual Authentication could not be established: certificate CN"
        " multi-cn.contoso.test, expected msstd:other.contoso.test; fix: a certificate whose CN"
        " is other.contoso.test, or Set-OutlookProvider EXPR"
        ' -CertPrincipalName:"msstd:multi-cn.contoso.test"; subject has 2 CNs'
        " (multi-cn.contoso.test, other.contoso.test): clients differ on which one they read -- "
    )


def test_email_in_subject_is_shown_not_matched(check: Checker) -> None:
    out = check("email-subject")
    status(out, OK, all_well(check, "email-subject"))
    assert out.long_output[0].startswith(
        "127.0.31.1 OK -- CN email-subject.contoso.test; e-mail exchange@contoso.test; SAN"
        " email-subject.contoso.test; "
    )


def test_fewer_than_warning_days_is_warning(check: Checker) -> None:
    status(
        check("expiring-warn"),
        WARNING,
        "127.0.20.1: certificate expires in 20.0 days"
        f" ({expires(check, 'expiring-warn')}) [0/1 nodes OK]",
    )


def test_fewer_than_critical_days_is_critical(check: Checker) -> None:
    status(
        check("expiring-crit"),
        CRITICAL,
        "127.0.21.1: certificate expires in 7.0 days"
        f" ({expires(check, 'expiring-crit')}) [0/1 nodes OK]",
    )


def test_thresholds_are_configurable(check: Checker) -> None:
    status(
        check("expiring-warn", "-w", "10", "-c", "5"),
        OK,
        "1/1 nodes OK: msstd:expiring-warn.contoso.test matches the CN, 20.0 days left"
        f" (expires {expires(check, 'expiring-warn')})",
    )
    status(
        check("expiring-crit", "-w", "10", "-c", "5"),
        WARNING,
        "127.0.21.1: certificate expires in 7.0 days"
        f" ({expires(check, 'expiring-crit')}) [0/1 nodes OK]",
    )
    status(
        check("expiring-warn", "-w", "400", "-c", "100"),
        CRITICAL,
        "127.0.20.1: certificate expires in 20.0 days"
        f" ({expires(check, 'expiring-warn')}) [0/1 nodes OK]",
    )


def test_nagios_range_thresholds_apply_as_written(check: Checker) -> None:
    # "@15:25": alert when the days left lie inside 15..25; the finding names the range
    out = check("expiring-warn", "-w", "@15:25", "-c", "0:")
    status(
        out,
        WARNING,
        "127.0.20.1: certificate: 20.0 days left, inside the warning range @15:25"
        f" (expires {expires(check, 'expiring-warn')}) [0/1 nodes OK]",
    )
    assert out.perfdata["days_left"] == "20.0;@15:25;0:"
    assert out.perfdata["ca_days_left"] == "1825.0;@15:25;0:"
    status(check("single", "-w", "@15:25", "-c", "0:"), OK, all_well(check, "single"))


def test_expired_is_critical(check: Checker) -> None:
    status(
        check("expired"),
        CRITICAL,
        f"127.0.22.1: certificate expired 2.0 days ago ({expires(check, 'expired')})"
        " [0/1 nodes OK]",
    )


def test_not_yet_valid_is_critical(check: Checker) -> None:
    status(
        check("not-yet-valid"),
        CRITICAL,
        f"127.0.23.1: certificate not valid before {valid_from(check, 'not-yet-valid')}"
        " [0/1 nodes OK]",
    )


def test_expired_intermediate_is_critical_and_named(check: Checker) -> None:
    out = check("expired-intermediate")
    status(
        out,
        CRITICAL,
        "127.0.28.1: issuing CA 'Contoso Lab Issuing CA 2017' expired 365.0 days ago"
        f" ({expires(check, 'expired-intermediate', 1)}) [0/1 nodes OK]",
    )
    # the leaf itself is fine; the issuing CA's days are their own perfdata
    assert out.perfdata["days_left"] == "300.0;30:;14:"
    assert out.perfdata["ca_days_left"] == "-365.0;30:;14:"


@pytest.mark.parametrize(
    ("scenario", "reason"),
    [
        ("self-signed", "self-signed certificate (not issued by a trusted CA)"),
        ("untrusted", "root 'Rogue Root CA' sent by the server is not a trusted root"),
        (
            "missing-intermediate",
            "missing intermediate? the server sends no issuing CA, and 'Contoso Lab Issuing CA'"
            " is not in the trust store",
        ),
    ],
)
def test_untrusted_chain_is_critical(check: Checker, scenario: str, reason: str) -> None:
    address = check.lab.scenario(scenario).addresses[0]
    status(
        check(scenario),
        CRITICAL,
        f"{address}: certificate not trusted: {reason} [0/1 nodes OK]",
    )


@pytest.mark.parametrize("scenario", ["self-signed", "untrusted", "missing-intermediate"])
def test_ignore_trust_still_checks_names_and_dates(check: Checker, scenario: str) -> None:
    out = check(scenario, "--ignore-trust")
    status(out, OK, all_well(check, scenario) + ", trust not checked")


def test_ignore_trust_does_not_hide_a_mismatch(check: Checker) -> None:
    expect(
        check("cn-mismatch", "--ignore-trust"),
        CRITICAL,
        "127.0.17.1: Mutual Authentication could not be established",
    )


def test_system_store_does_not_trust_the_lab(check: Checker) -> None:
    s = check.lab.scenario("single")
    from tests.conftest import run_plugin

    out = run_plugin("-H", s.host, "-p", str(check.lab.port), "-I", s.addresses[0])
    status(
        out,
        CRITICAL,
        "127.0.11.1: certificate not trusted: chain ends at 'Contoso Lab Root CA', which is not"
        " in the trust store [0/1 nodes OK]",
    )


def test_root_served_in_chain_is_fine(check: Checker) -> None:
    status(check("root-in-chain"), OK, all_well(check, "root-in-chain"))


def test_weak_signature_and_key_are_warnings(check: Checker) -> None:
    status(
        check("weak-sha1"), WARNING, "127.0.32.1: certificate is signed with SHA-1 [0/1 nodes OK]"
    )
    status(
        check("weak-rsa1024"),
        WARNING,
        "127.0.33.1: certificate has a 1024-bit RSA key (under 2048 bits) [0/1 nodes OK]",
    )


def test_certificate_with_no_subject(check: Checker) -> None:
    out = check("no-subject")
    status(
        out,
        WARNING,
        "127.0.34.1: msstd:no-subject.contoso.test only in a SAN, the certificate has no CN:"
        " Outlook before Vista SP1 and the Remote Connectivity Analyzer fail [0/1 nodes OK]",
    )
    # no CN to publish: the only way out is another certificate; "none" is never a CN
    assert node_line(check, out, "127.0.34.1").startswith(
        "127.0.34.1 WARNING: msstd:no-subject.contoso.test only in a SAN, the certificate has no"
        " CN: Outlook before Vista SP1 and the Remote Connectivity Analyzer fail; fix: replace"
        " the certificate with one whose CN is no-subject.contoso.test -- no subject CN; SAN"
        " no-subject.contoso.test; "
    )
    assert "CN none" not in out.stdout and "Set-OutlookProvider" not in out.stdout
    status(
        check("no-subject", "--match", "cn-or-san"),
        OK,
        "1/1 nodes OK: msstd:no-subject.contoso.test matches SAN no-subject.contoso.test, 300.0"
        f" days left (expires {expires(check, 'no-subject')})",
    )


def test_nodes_serving_different_certificates_warn_naming_the_minority(check: Checker) -> None:
    out = check("differ")
    status(
        out,
        WARNING,
        "127.0.16.2: certificates differ: another certificate than the other node (expires"
        f" {expires(check, 'differ-b')} instead of {expires(check, 'differ-a')}) [1/2 nodes OK]",
    )
    assert [line.split()[:2] for line in out.long_output] == [  # worst first
        ["127.0.16.2", "WARNING:"],
        ["127.0.16.1", "OK"],
    ]
    assert node_line(check, out, "127.0.16.2").startswith(
        "127.0.16.2 WARNING: certificates differ: another certificate than the other node"
        f" (expires {expires(check, 'differ-b')} instead of {expires(check, 'differ-a')})"
        f" (thumbprint {thumbprint(check, 'differ-b')}, the others'"
        f" {thumbprint(check, 'differ-a')}) -- "
    )


@pytest.mark.parametrize(
    ("scenario", "node", "code", "first", "fix"),
    [
        # Both WARNING: the first line says the certificates differ, the expiry is one more.
        (
            "stale",
            "127.0.12.3",
            WARNING,
            "certificates differ: another certificate than the other 2 nodes (expires"
            " {stale-old} instead of {stale-new}) (+1 more)",
            "",
        ),
        (
            "expired-node",
            "127.0.13.2",
            CRITICAL,
            "certificate expired 3.0 days ago ({expired-node-old}) (+1 more)",
            "",
        ),
        # Publishing legacy.contoso.test would break the two good nodes: a new certificate only.
        (
            "wrong-cn-node",
            "127.0.14.3",
            CRITICAL,
            "Mutual Authentication could not be established: certificate CN legacy.contoso.test,"
            " expected msstd:wrong-cn-node.contoso.test (+1 more)",
            "fix: replace the certificate with one whose CN is wrong-cn-node.contoso.test;",
        ),
        ("refused-node", "127.0.15.3", CRITICAL, "connection refused", ""),
    ],
)
def test_one_bad_node_in_three_is_named(
    check: Checker, scenario: str, node: str, code: int, first: str, fix: str
) -> None:
    out = check(scenario)
    dates = {c: expires(check, c) for c in ("stale-old", "stale-new", "expired-node-old")}
    status(out, code, f"{node}: {first.format_map(dates)} [2/3 nodes OK]")
    assert out.perfdata["nodes"] == "3;;;0"
    assert out.perfdata["nodes_ok"] == "2;;;0;3"
    # one line per node, the bad one first, then the others in address order
    addresses = check.lab.scenario(scenario).addresses
    assert [line.split()[0] for line in out.long_output] == [
        node,
        *(address for address in addresses if address != node),
    ]
    bad = [line for line in out.long_output if line.split()[1] != "OK"]
    assert [line.split()[0] for line in bad] == [node]
    assert fix in bad[0]
    assert "Set-OutlookProvider" not in out.stdout


@pytest.mark.parametrize(
    ("scenario", "phrase"),
    [
        ("refused", "127.0.35.1: connection refused"),
        ("reset", "127.0.38.1: connection reset during the TLS handshake"),
        ("banner", "127.0.37.1: not TLS: server sent '220 mail.contoso.test ESMTP ready.'"),
        ("malformed", "127.0.39.1: certificate could not be parsed (OpenSSL: ASN1 lib)"),
    ],
)
def test_connection_failures_are_critical(check: Checker, scenario: str, phrase: str) -> None:
    out = check(scenario)
    status(out, CRITICAL, f"{phrase} [0/1 nodes OK]")
    assert "days_left" not in out.perfdata and "time" not in out.perfdata
    assert out.perfdata["nodes_ok"] == "0;;;0;1"


def test_silent_server_ends_within_the_deadline(check: Checker) -> None:
    out = check("silent", "-t", "3")
    status(
        out, CRITICAL, "127.0.36.1: TLS handshake not finished within the deadline [0/1 nodes OK]"
    )
    assert out.elapsed < 4.2  # hard deadline: the verdict within -t plus about one second


def test_unknown_sni_alert_is_critical(check: Checker) -> None:
    s = check.lab.scenario("sni-strict")
    out = check("sni-strict", "-H", "other.contoso.test", "-I", s.addresses[0])
    status(
        out,
        CRITICAL,
        "127.0.40.1: TLS handshake failed: server sent TLS alert: unrecognized name [0/1 nodes OK]",
    )


@pytest.mark.parametrize(
    ("scenario", "phrase"),
    [
        ("servfail", "servfail.contoso.test: DNS lookup failed: server failure"),
        ("timeout", "timeout.contoso.test: DNS lookup timed out"),
    ],
)
def test_dns_failures_are_critical(check: Checker, scenario: str, phrase: str) -> None:
    out = check(scenario, "-t", "2")
    expect(out, CRITICAL)
    assert out.status.startswith(f"OUTLOOK_ANYWHERE CRITICAL - {phrase}"), out.status
    # which DNS server failed is what the admin looks at next, whatever the failure
    assert f"DNS server {check.lab.dns_server}" in out.status, out.status
    assert out.long_output == ["CRITICAL: " + out.status.split(" - ", 1)[1]]
    assert out.perfdata == {"nodes": "0;;;0", "nodes_ok": "0;;;0;0"}
    assert out.elapsed < 3.2


def test_dns_timeout_is_critical(check: Checker) -> None:
    status(
        check("timeout", "-t", "2"),
        CRITICAL,
        f"timeout.contoso.test: DNS lookup timed out (DNS server {check.lab.dns_server})",
    )


def test_name_not_found_is_critical(check: Checker) -> None:
    out = check("single", "-H", "nowhere.contoso.test")
    status(
        out,
        CRITICAL,
        f"nowhere.contoso.test: no such name (NXDOMAIN) (DNS server {check.lab.dns_server})",
    )


def test_cname_chain_is_followed(check: Checker) -> None:
    out = check("cname", "-P", "healthy.contoso.test")
    status(out, OK, all_well(check, "healthy", 3))


def test_system_resolver_path(check: Checker) -> None:
    from tests.conftest import run_plugin

    out = run_plugin(
        "-H", "localhost", "-p", str(check.lab.port), "-4", "--ca-file", str(check.lab.ca_file)
    )
    status(
        out,
        OK,
        "1/1 nodes OK: msstd:localhost matches the CN, 300.0 days left"
        f" (expires {expires(check, 'localhost')})",
    )
    assert out.long_output[0].startswith("127.0.0.1 OK -- CN localhost; SAN localhost; ")
    assert len(out.long_output) == 1


def test_ipv6_only_node(check: Checker) -> None:
    out = check("ipv6", "-6")
    status(out, OK, all_well(check, "ipv6"))
    assert out.long_output[0].startswith("::1 OK -- CN ipv6.contoso.test; ")
    out = check("ipv6", "-4")
    status(
        out, CRITICAL, f"ipv6.contoso.test: no IPv4 (A) address (DNS server {check.lab.dns_server})"
    )


def test_ipv4_only_node_with_6(check: Checker) -> None:
    status(
        check("single", "-6"),
        CRITICAL,
        f"single.contoso.test: no IPv6 (AAAA) address (DNS server {check.lab.dns_server})",
    )


def test_addresses_given_with_I_skip_dns(check: Checker) -> None:
    s = check.lab.scenario("healthy")
    out = check(
        "healthy", "--dns-server", "127.0.0.1:9", "-I", s.addresses[1], "-I", s.addresses[0]
    )
    status(out, OK, all_well(check, "healthy", 2))
    # -I keeps the order given
    assert [line.split()[0] for line in out.long_output] == [s.addresses[1], s.addresses[0]]


def test_perfdata_exactly(check: Checker) -> None:
    out = check("healthy")
    perf = out.perfdata
    assert set(perf) == {
        "days_left",
        "ca_days_left",
        "time",
        "nodes",
        "nodes_ok",
        "days_left_127_0_10_1",
        "days_left_127_0_10_2",
        "days_left_127_0_10_3",
    }
    assert perf["days_left"] == "300.0;30:;14:"
    assert perf["ca_days_left"] == "1825.0;30:;14:"  # the lab's issuing CA: 5 years
    assert re.fullmatch(r"\d+\.\d+s;;;0", perf["time"])
    assert perf["nodes"] == "3;;;0" and perf["nodes_ok"] == "3;;;0;3"
    assert all("." not in label and ":" not in label for label in perf)
    assert "U" not in " ".join(perf.values())


def test_single_node_has_no_per_node_perfdata(check: Checker) -> None:
    assert set(check("single").perfdata) == {
        "days_left",
        "ca_days_left",
        "time",
        "nodes",
        "nodes_ok",
    }


def test_no_issuing_ca_served_no_ca_days_left(check: Checker) -> None:
    """A self-signed leaf comes with no issuing CA: ca_days_left is left out, never U."""
    assert "ca_days_left" not in check("self-signed").perfdata


def test_long_output_one_line_per_node_and_chain_at_v(check: Checker) -> None:
    out = check("healthy")
    assert [line.split()[:2] for line in out.long_output] == [
        ["127.0.10.1", "OK"],
        ["127.0.10.2", "OK"],
        ["127.0.10.3", "OK"],
    ]
    sans = "healthy.contoso.test, autodiscover.contoso.test"
    for line in out.long_output:
        assert timed(line, f"{line.split()[0]} OK -- " + served(check, "healthy", sans))
    assert "|" not in "\n".join(out.long_output)
    verbose = check("single", "-v")
    status(verbose, OK, all_well(check, "single"))
    assert verbose.perfdata["days_left"] == "300.0;30:;14:"  # -v keeps the perfdata
    chain = [line for line in verbose.long_output if line.startswith("  [")]
    assert len(chain) == 3  # leaf, issuing CA, and the root it was verified against
    assert chain[0].startswith("  [0] CN single.contoso.test; ")
    assert chain[1].startswith("  [1] CN Contoso Lab Issuing CA; ")
    assert chain[2].startswith("  [2] CN Contoso Lab Root CA; ")
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
    expect(unhashed, CRITICAL, "127.0.11.1: certificate not trusted")
    subprocess.run(["openssl", "rehash", str(store)], check=True, capture_output=True)
    status(run_plugin(*args, env={"SSL_CERT_DIR": str(store)}), OK, all_well(check, "single"))
