"""The hostile-server matrix: one row per thing a broken network or an impostor can do.

Each row names a lab target (a scenario of contrib/lab/scenarios.py or a hostile node of
contrib/lab/hostile.py), the state the plugin must report and a pattern its status line must
contain.  Every row also holds the plugin's contract for bad input: exactly one status line
starting ``OUTLOOK_ANYWHERE``, an exit code 0-3, empty stderr, no traceback, nothing
unprintable, and the verdict within the deadline.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from contrib.lab import Lab, hostile
from contrib.lab.endpoints import hostile_servers
from tests.conftest import Outcome, run_plugin, run_with_peak_memory
from tests.contract import CRITICAL, OK, UNKNOWN, WARNING, assert_contract

DEADLINE = 3.0  # -t of every row unless the row says otherwise
SILENT = r"TLS handshake not finished within the deadline"


@pytest.fixture(scope="module")
def hostile_lab(lab: Lab) -> Iterator[Lab]:
    hostile.install(lab)
    yield lab
    lab.reset()  # the hostile nodes and names go away again


@dataclass(frozen=True)
class Row:
    id: str
    target: str  # a lab scenario or a hostile name
    state: int
    pattern: str  # a regular expression searched in the status line
    args: tuple[str, ...] = ()
    timeout: float = DEADLINE


ROWS = [
    # -- connection and handshake -----------------------------------------------------------
    Row("refused", "refused", CRITICAL, r"127\.0\.35\.1: connection refused"),
    Row(
        "silent after accept",
        "silent",
        CRITICAL,
        rf"127\.0\.36\.1: {SILENT}",
    ),
    Row(
        "silent after ClientHello",
        "hello-silent",
        CRITICAL,
        rf"127\.0\.60\.1: {SILENT}",
    ),
    Row(
        "slow-drip handshake, one byte a second",
        "drip",
        CRITICAL,
        rf"127\.0\.60\.2: {SILENT}",
    ),
    Row("reset mid-handshake", "reset", CRITICAL, "connection reset during the TLS handshake"),
    Row(
        "TLS alert handshake_failure",
        "alert",
        CRITICAL,
        "TLS handshake failed: server sent TLS alert: handshake failure",
    ),
    Row(
        "TLS alert unrecognized_name",
        "sni-strict",
        CRITICAL,
        "TLS handshake failed: server sent TLS alert: unrecognized name",
        ("-H", "other.contoso.test", "-I", "127.0.40.1"),
    ),
    Row(
        "plain-text banner",
        "banner",
        CRITICAL,
        "not TLS: server sent '220 mail.contoso.test ESMTP ready",
    ),
    Row(
        "HTTP response on the TLS port",
        "http-on-tls",
        CRITICAL,
        "not TLS: server sent 'HTTP/1.1 400 Bad Request",
    ),
    Row(
        "a protocol_version alert to any hello, old versions included",
        "version-alert",
        CRITICAL,
        r"127\.0\.60\.15: TLS handshake failed: server sent TLS alert: protocol version",
    ),
    Row("TLS 1.0 only", "tls10", WARNING, r"127\.0\.60\.5: server speaks only TLSv1(?![.\d])"),
    Row("TLS 1.1 only", "tls11", WARNING, r"127\.0\.60\.6: server speaks only TLSv1\.1"),
    # -- certificates -----------------------------------------------------------------------
    Row(
        "a chain of 50 certificates",
        "long-chain",
        OK,
        r"1/1 nodes OK: msstd:long-chain\.contoso\.test matches the CN",
    ),
    Row(
        "a 1 MiB certificate",
        "huge-cert",
        CRITICAL,
        "127.0.60.8: TLS handshake failed: excessive message size",
    ),
    Row(
        "no subject",
        "no-subject",
        WARNING,
        r"msstd:no-subject\.contoso\.test only in a SAN, the certificate has no CN",
    ),
    Row(
        "several CNs",
        "multi-cn",
        WARNING,
        r"subject has 2 CNs \(multi-cn\.contoso\.test, other\.contoso\.test\)",
    ),
    Row(
        "a NUL byte in the CN",
        "nul-cn",
        CRITICAL,
        r"Mutual Authentication could not be established: certificate CN"
        r" nul-cn\.contoso\.test\\x00\.evil\.test, expected msstd:nul-cn\.contoso\.test",
    ),
    Row(
        "Unicode CN, punycode principal",
        "idn-unicode",
        OK,
        r"1/1 nodes OK: msstd:xn--mil-qla\.contoso\.test matches the CN",
        ("-P", "msstd:xn--mil-qla.contoso.test"),
    ),
    Row(
        "punycode CN, Unicode principal",
        "idn-punycode",
        OK,
        r"1/1 nodes OK: msstd:mäil\.contoso\.test matches the CN",
        ("-P", "msstd:mäil.contoso.test"),
    ),
    Row(
        "IDN homograph CN (Cyrillic a)",
        "idn-homograph",
        CRITICAL,
        r"certificate CN m\u0430il\.contoso\.test \(xn--mil-6cd\.contoso\.test\),"
        r" expected msstd:mail\.contoso\.test",
        ("-P", "msstd:mail.contoso.test"),
    ),
    Row(
        "an IP address in the CN, host name principal",
        "ip-cn",
        CRITICAL,
        r"certificate CN 127\.0\.60\.12, expected msstd:ip-cn\.contoso\.test",
    ),
    Row(  # a configuration mistake (the name goes in -H, addresses in -I), not a check
        "an IP address in the CN, an address as -H",
        "ip-cn",
        UNKNOWN,
        r"UNKNOWN - argument -H/--host: 127\.0\.60\.12 is an IP address",
        ("-H", "127.0.60.12"),
    ),
    Row(
        "an empty SAN extension",
        "empty-san",
        OK,
        r"1/1 nodes OK: msstd:empty-san\.contoso\.test matches the CN",
    ),
    Row(
        "a critical unknown extension",
        "critical-ext",
        CRITICAL,
        r"127\.0\.60\.14: certificate not trusted: a certificate in the chain has an unknown"
        r" extension marked critical",
    ),
    Row("a SHA-1 signed leaf", "weak-sha1", WARNING, r"certificate is signed with SHA-?1"),
    Row("a 1024-bit RSA key", "weak-rsa1024", WARNING, "certificate has a 1024-bit RSA key"),
    Row(
        "an expired intermediate",
        "expired-intermediate",
        CRITICAL,
        "issuing CA 'Contoso Lab Issuing CA 2017' expired",
    ),
    Row(
        "the intermediate missing from the chain",
        "missing-intermediate",
        CRITICAL,
        r"certificate not trusted: .*(missing intermediate|sends no).*'Contoso Lab Issuing CA'",
    ),
    Row("the root served in the chain", "root-in-chain", OK, r"1/1 nodes OK: .* matches the CN"),
    # -- addresses and DNS ------------------------------------------------------------------
    Row("a node on ::1 only, -6", "ipv6", OK, r"1/1 nodes OK: msstd:ipv6\.contoso\.test", ("-6",)),
    Row("DNS server times out", "timeout", CRITICAL, r"timeout\.contoso\.test: DNS .*timed out"),
    Row("DNS SERVFAIL", "servfail", CRITICAL, r"servfail\.contoso\.test: DNS .*SERVFAIL"),
    Row(
        "DNS NXDOMAIN",
        "single",
        CRITICAL,
        r"nowhere\.contoso\.test: .*NXDOMAIN",
        ("-H", "nowhere.contoso.test"),
    ),
    Row(
        "DNS CNAME chain",
        "cname",
        OK,
        r"3/3 nodes OK: msstd:healthy\.contoso\.test",
        ("-P", "healthy.contoso.test"),
    ),
    Row(
        "DNS answers 64 addresses",
        "many",
        CRITICAL,
        r"127\.0\.9\.1: connection refused .*\[0/64 nodes OK\]",
    ),
    Row(
        "16 nodes, 8 silent, -t 5",
        "sixteen",
        CRITICAL,
        rf"127\.0\.61\.2: {SILENT} .*\[8/16 nodes OK\]",
        timeout=5.0,
    ),
]


def target_args(lab: Lab, name: str) -> list[str]:
    host = hostile.BY_NAME[name].host if name in hostile.BY_NAME else lab.scenario(name).host
    return [
        "-H",
        host,
        "-p",
        str(lab.port),
        "--dns-server",
        lab.dns_server,
        "--ca-file",
        lab.ca_file,
    ]


_outcomes: dict[str, Outcome] = {}


def run_row(lab: Lab, row: Row) -> Outcome:
    """The plugin's answer for ``row`` (run once per session: the 16-node row is asserted twice)."""
    if row.id not in _outcomes:
        args = target_args(lab, row.target)
        _outcomes[row.id] = run_plugin(*args, "-t", f"{row.timeout:g}", *row.args)
    return _outcomes[row.id]


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_hostile_matrix(hostile_lab: Lab, row: Row) -> None:
    if row.target == "ipv6":
        assert hostile_lab.ipv6, "this host cannot bind ::1; the IPv6 row needs it"
    out = run_row(hostile_lab, row)
    assert_contract(out, row.timeout)
    assert out.code == row.state, out.stdout
    assert re.search(row.pattern, out.status), f"{row.pattern!r} not in {out.status!r}"


def test_every_silent_node_is_named_in_the_long_output(hostile_lab: Lab) -> None:
    row = next(r for r in ROWS if r.target == "sixteen")
    out = run_row(hostile_lab, row)
    assert_contract(out, row.timeout)
    lines = {line.split()[0]: line for line in out.long_output}
    addresses = hostile.addresses(hostile.BY_NAME["sixteen"])
    # one line per node, worst first: the silent (even-numbered) ones, then the others, each
    # in address order
    assert list(lines) == addresses[1::2] + addresses[0::2]
    for number, address in enumerate(addresses, start=1):
        if number % 2 == 0:  # the silent ones
            # the probe's own timeout or the deadline's cut, whichever is first
            assert re.match(f"{re.escape(address)} CRITICAL: {SILENT}", lines[address])
        else:
            assert lines[address].startswith(f"{address} OK -- CN sixteen.contoso.test")


# -- bad input on the command line -----------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "reason"),
    [
        ("\udcff.contoso.test", "no IDNA form"),  # a byte that was not UTF-8, as Python sees it
        ("mail..contoso.test", "empty or over-long label"),
        ("x" * 64 + ".contoso.test", "empty or over-long label"),
    ],
)
def test_host_that_cannot_be_sent_as_sni_is_unknown(
    hostile_lab: Lab, host: str, reason: str
) -> None:
    out = run_plugin("-H", host, "-I", "127.0.60.13", "-p", str(hostile_lab.port))
    assert_contract(out, 10)
    assert out.code == UNKNOWN
    assert out.status.startswith("OUTLOOK_ANYWHERE UNKNOWN - argument -H/--host: "), out.status
    assert out.status.endswith(f"is not a host name ({reason})")


@pytest.mark.parametrize("encoding", ["latin-1", "ascii", "utf-8"])
def test_any_locale_prints_a_look_alike_cn(hostile_lab: Lab, encoding: str) -> None:
    """A Cyrillic CN under a Latin-1 or ASCII locale: printed as UTF-8, never an encoding
    error on stderr."""
    args = target_args(hostile_lab, "idn-homograph")
    out = run_plugin(*args, "-P", "mail.contoso.test", env={"PYTHONIOENCODING": encoding})
    assert_contract(out, 10)
    assert out.code == CRITICAL
    assert "certificate CN m\u0430il.contoso.test" in out.status
    assert "expected msstd:mail.contoso.test" in out.status


@pytest.mark.parametrize("encoding", ["latin-1", "ascii", "utf-8"])
def test_any_locale_names_a_principal_that_was_not_utf8(hostile_lab: Lab, encoding: str) -> None:
    """An argument that was not UTF-8 (a surrogate, as Python sees it) is a configuration
    mistake named escaped, whatever the locale."""
    args = target_args(hostile_lab, "idn-homograph")
    out = run_plugin(*args, "-P", "m\udcffil.contoso.test", env={"PYTHONIOENCODING": encoding})
    assert_contract(out, 10)
    assert out.code == UNKNOWN
    assert "-P/--principal: 'm\\udcffil.contoso.test'" in out.status


# -- Autodiscover and --rpc --------------------------------------------------------------------
# The lab's own Autodiscover sites (tests/test_autodiscover.py) hold entity expansion, external
# entities, a 64 MiB chunked body, a body dripped a byte at a time, redirects to plain HTTP and
# to a host whose certificate does not verify, and redirect loops.  These rows add what a
# hostile server can do to the HTTP client itself: a body that never ends, a 50 MB body, and a
# 401 whatever the credentials.


# Runs its arguments as a child and writes the child's peak resident memory (KiB) to a file:
# a process forked from pytest itself would report pytest's memory as its own.
# The requests each row costs the server, fixed by the protocol:
# * Autodiscover, a 200 with a body too big: the one POST without credentials, nothing after;
# * Autodiscover, a 401 for ever: the POST without credentials, then NTLM's first leg (the
#   server's 401 carries no challenge, so there is no third);
# * --rpc: the RPC_IN_DATA probe (its body is never read) and the healthcheck GET.
WEB_ROWS = [
    ("endless", "autodiscover", CRITICAL, r": response body over 1 MiB", 1),
    ("big-body", "autodiscover", CRITICAL, r": response body of 50000000 bytes \(over 1 MiB\)", 1),
    ("401-loop", "autodiscover", CRITICAL, r"wrong user name or password .*401", 2),
    ("endless", "rpc", WARNING, r"rpcproxy\.dll answered 200 without authentication", 2),
    ("big-body", "rpc", WARNING, r"rpcproxy\.dll answered 200 without authentication", 2),
]


@pytest.mark.parametrize(
    ("kind", "mode", "state", "pattern", "requests"),
    WEB_ROWS,
    ids=[f"{m} {k}" for k, m, _, _, _ in WEB_ROWS],
)
def test_hostile_web_answers(
    hostile_lab: Lab,
    password_file: str,
    kind: str,
    mode: str,
    state: int,
    pattern: str,
    requests: int,
) -> None:
    host, address = hostile.web_target(kind)
    lab = hostile_lab
    args = ["-p", str(lab.port), "--dns-server", lab.dns_server, "--ca-file", lab.ca_file]
    if mode == "autodiscover":
        url = f"https://{host}:{lab.port}/autodiscover/autodiscover.xml"
        args += ["--autodiscover", "monitor@contoso.test", "--autodiscover-url", url]
        args += ["--password-file", password_file]
    else:
        args += ["-H", host, "-I", address, "--rpc"]
    before = hostile_servers.WEB_REQUESTS.get(kind, 0)
    out, peak_kib = run_with_peak_memory(*args, "-t", f"{DEADLINE:g}", "-vvv")
    assert_contract(out, DEADLINE)
    assert out.code == state, out.stdout
    # the evidence may sit in the long output (a long URL shortens the first line)
    assert re.search(pattern, out.stdout), f"{pattern!r} not in {out.stdout!r}"
    assert hostile_servers.WEB_MARKER.decode() not in out.stdout  # nothing of the body echoed
    # about 30 MiB for any check; reading the 50 MB body would take it far past this
    assert 0 < peak_kib < 64 * 1024, f"{peak_kib} KiB for a {hostile_servers.BIG_BODY}-byte answer"
    # exactly what the protocol asks for: a 401 loop is not chased, a body too big not retried
    assert hostile_servers.WEB_REQUESTS.get(kind, 0) - before == requests
