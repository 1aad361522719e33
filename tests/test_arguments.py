"""Every bad argument: one UNKNOWN line naming the problem, exit 3, nothing on stderr."""

from __future__ import annotations

import pytest

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
]  # fmt: skip


@pytest.mark.parametrize(("args", "message"), BAD, ids=[" ".join(a) or "none" for a, _ in BAD])
def test_bad_argument_is_unknown(args: list[str], message: str) -> None:
    out = run_plugin(*args)
    assert out.code == 3, out.stdout
    assert out.first_line.startswith(f"OUTLOOK_ANYWHERE UNKNOWN - {message}"), out.stdout
    assert out.stdout.count("\n") == 1
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
