"""Every bad argument: one UNKNOWN line naming the problem, exit 3, nothing on stderr."""

from __future__ import annotations

import pytest

from contrib.lab import Lab
from tests.conftest import run_plugin

BAD = [
    ([], "missing -H/--host"),
    (["-H", ""], "argument -H/--host: empty value"),
    (["-H", "   "], "argument -H/--host: empty value"),
    (["-H", "mail.contoso.com:443"], "argument -H/--host: 'mail.contoso.com:443' is not a host"),
    (["-H", "mail contoso"], "argument -H/--host: 'mail contoso' is not a host name"),
    (["-H", "x", "-P", "msstd:"], "argument -P/--principal: 'msstd:' names no host"),
    (["-H", "x", "-P", "MSSTD: "], "argument -P/--principal: 'MSSTD: ' names no host"),
    (["-H", "x", "-P", ""], "argument -P/--principal: empty value"),
    (["-H", "x", "-p", "0"], "argument -p/--port: 0 is outside 1-65535"),
    (["-H", "x", "-p", "65536"], "argument -p/--port: 65536 is outside 1-65535"),
    (["-H", "x", "-p", "https"], "argument -p/--port: 'https' is not a port number"),
    (["-H", "x", "-p", ""], "argument -p/--port: empty value"),
    (["-H", "x", "-w", "soon"], "argument -w/--warning: 'soon' is not a number of days"),
    (["-H", "x", "-c", "1:2:3"], "argument -c/--critical: '1:2:3' is not a Nagios range"),
    (["-H", "x", "-c", "nan"], "argument -c/--critical: 'nan' is not a number of days"),
    (["-H", "x", "-w", ""], "argument -w/--warning: empty value"),
    (["-H", "x", "--dns-server", "dns.contoso.com"], "argument --dns-server: 'dns.contoso.com'"),
    (["-H", "x", "--dns-server", "127.0.0.1:99999"], "argument --dns-server: 99999 is outside"),
    (["-H", "x", "--dns-server", ""], "argument --dns-server: empty value"),
    (["-H", "x", "-I", "mail.contoso.com"], "argument -I/--address: 'mail.contoso.com' is not"),
    (["-H", "x", "--ca-file", "/nonexistent/ca.pem"], "argument --ca-file: /nonexistent/ca.pem"),
    (["-H", "x", "--ca-file", "/etc/hostname"], "argument --ca-file: /etc/hostname: holds no PEM"),
    (["-H", "x", "--match", "san"], "argument --match: 'san' is not one of cn, cn-or-san"),
    (["-H", "x", "-t", "0"], "argument -t/--timeout: '0' is outside 0-3600 seconds"),
    (["-H", "x", "-t", "soon"], "argument -t/--timeout: 'soon' is not a number of seconds"),
    (["-H", "x", "--bogus"], "unrecognized arguments: --bogus"),
    (["-H"], "argument -H/--host: expected one argument"),
    # configuration mistakes: the name goes in -H, the addresses in -I
    (["-H", "127.0.10.1"], "argument -H/--host: 127.0.10.1 is an IP address: the host name goes"
     " in -H (DNS, SNI, the principal), the addresses in -I"),
    (["-H", "::1"], "argument -H/--host: ::1 is an IP address"),
    (["-H", "[2001:db8::1]"], "argument -H/--host: [2001:db8::1] is an IP address"),
    # -P is [msstd:]FQDN or [msstd:]*.FQDN, and nothing else
    (["-H", "x", "-P", "127.0.10.1"], "argument -P/--principal: '127.0.10.1' is an IP address:"
     " expected msstd:FQDN or msstd:*.FQDN"),
    (["-H", "x", "-P", "msstd:::1"], "argument -P/--principal: 'msstd:::1' is an IP address"),
    (["-H", "x", "-P", "[::1]"], "argument -P/--principal: '[::1]' is an IP address"),
    (["-H", "x", "-P", "https://mail.contoso.test"], "argument -P/--principal:"
     " 'https://mail.contoso.test' is a URL, not a host name: expected msstd:FQDN or"
     " msstd:*.FQDN"),
    (["-H", "x", "-P", "mail.contoso.test/rpc"], "argument -P/--principal:"
     " 'mail.contoso.test/rpc' is a URL, not a host name"),
    (["-H", "x", "-P", "msstd:mail.contoso.test:443"], "argument -P/--principal:"
     " 'msstd:mail.contoso.test:443' holds a port or a scheme"),
    (["-H", "x", "-P", "a.contoso.test,b.contoso.test"], "argument -P/--principal:"
     " 'a.contoso.test,b.contoso.test' names more than one host"),
    (["-H", "x", "-P", "mail contoso.test"], "argument -P/--principal: 'mail contoso.test'"
     " holds white space"),
    (["-H", "x", "-P", "CN=mail.contoso.test"], "argument -P/--principal:"
     " 'CN=mail.contoso.test' is a distinguished name, not a host name"),
    (["-H", "x", "-P", "mail..contoso.test"], "argument -P/--principal: 'mail..contoso.test'"
     " has an empty label"),
    (["-H", "x", "-P", "m*.contoso.test"], "argument -P/--principal: 'm*.contoso.test' has a"
     " wildcard that is not a whole leftmost label"),
    (["-H", "x", "-P", "*"], "argument -P/--principal: '*' is a bare wildcard"),
    (["-H", "x", "-P", "msstd:*.com"], "argument -P/--principal: 'msstd:*.com' is a bare"
     " wildcard"),
    (["-H", "x", "-P", "*.0.10.1"], "argument -P/--principal: '*.0.10.1' "),
    (["-H", "x", "-P", "mail\x01.contoso.test"], "argument -P/--principal: contains control"
     " characters"),
    # a plain -w below a plain -c: WARNING could never fire
    (["-H", "x", "-w", "10", "-c", "20"], "-w 10 is below -c 20: WARNING could never fire"),
    # -4/-6 leaving none of the -I addresses
    (["-H", "x", "-I", "127.0.10.1", "-6"], "-6 excludes every -I address"),
    (["-H", "x", "-I", "::1", "-4"], "-4 excludes every -I address"),
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) or "none" for a, _ in BAD])
def test_bad_argument_is_unknown(args: list[str], message: str) -> None:
    out = run_plugin(*args)
    assert out.code == 3, out.stdout
    assert out.first_line.startswith(f"OUTLOOK_ANYWHERE UNKNOWN - {message}"), out.stdout
    assert out.stdout.count("\n") == 1
    assert out.stderr == ""


@pytest.mark.parametrize(
    ("scenario", "extra"),
    [
        ("single", ["-w", "14", "-c", "14"]),  # equal is not below
        ("single", ["-w", "10:", "-c", "20:"]),  # ranges apply as written
        ("wildcard", ["-P", "msstd:*.contoso.test"]),
        ("single", ["-P", "MSSTD:Single.Contoso.Test."]),
        ("single", ["-I", "127.0.11.1", "-I", "::1", "-4"]),  # one -I address is left
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else value,
)
def test_good_configuration_is_checked(lab: Lab, scenario: str, extra: list[str]) -> None:
    """What the checks above must not refuse: the check runs, and these nodes are OK."""
    s = lab.scenario(scenario)
    given = [] if "-I" in extra else ["-I", s.addresses[0]]
    out = run_plugin("-H", s.host, *given, "-p", str(lab.port), "--ca-file", lab.ca_file, *extra)
    assert out.code == 0, out.stdout
    assert out.first_line.startswith("OUTLOOK_ANYWHERE OK - 1/1 nodes OK: "), out.stdout
    assert out.stderr == ""


def test_ca_file_that_openssl_rejects(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bogus = tmp_path / "bogus.pem"
    bogus.write_text("-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n")
    out = run_plugin("-H", "mail.contoso.test", "-I", "127.0.0.1", "--ca-file", str(bogus))
    assert out.code == 3
    assert out.first_line.startswith(f"OUTLOOK_ANYWHERE UNKNOWN - --ca-file {bogus}: no usable")
    assert out.stderr == ""


def test_help_and_version() -> None:
    helped = run_plugin("--help")
    assert helped.code == 0 and helped.stderr == ""
    for option in (
        "--host",
        "--port",
        "--address",
        "--dns-server",
        "--principal",
        "--match",
        "--warning",
        "--critical",
        "--ca-file",
        "--ignore-trust",
        "--timeout",
    ):
        assert option in helped.stdout
    version = run_plugin("-V")
    assert version.code == 0
    assert version.stdout.startswith("check_outlook_anywhere ")
