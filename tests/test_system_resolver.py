"""The path every poller uses by default: the system resolver (no ``--dns-server``), and a DNS
server that never answers.

The plugin runs in a private mount namespace (``unshare --mount``, as root) whose
``/etc/resolv.conf`` names a silent DNS server on loopback with glibc's longest patience
(``timeout:30 attempts:5``: two and a half minutes per query) and whose ``/etc/nsswitch.conf``
sends host lookups to ``files dns``.  The server reads every query (UDP and TCP) and answers
none; it records the names asked, which proves the plugin's lookup really went there.

Also the last resort: ``SIGALRM`` at ``-t`` plus 0.6 s, for what no timeout of the deadline
reaches (a file that blocks on open).

In CI a host without ``unshare`` or root fails these tests instead of skipping them.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest

from contrib.lab import Lab
from contrib.lab.network.dns import LabDNS
from tests.conftest import SCRIPT, Outcome

# resolv.conf names no port: the test servers listen on port 53 of an address of 127.0.67.x, the
# first free one from these (another run of these tests, from another checkout, may hold one).
SILENT_FIRST, ANSWERING_FIRST, CANDIDATES = 53, 153, 40
T = TypeVar("T")
DEADLINE = 3.0
SLACK = 1.25  # the verdict within -t plus about one second (process start included)
HOST = "silent-resolver.contoso.test"


def _need(condition: bool, reason: str) -> None:
    """Fail in CI, skip elsewhere: CI must never pass by leaving this path out."""
    if condition:
        return
    if os.environ.get("CI"):
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(reason)


def _qname(packet: bytes) -> str:
    """The question's name of a DNS query (enough of RFC 1035 for what glibc sends)."""
    labels, at = [], 12
    while at < len(packet) and packet[at]:
        length = packet[at]
        labels.append(packet[at + 1 : at + 1 + length].decode("ascii", "replace"))
        at += 1 + length
    return ".".join(labels).lower()


def on_port_53(first: int, start: Callable[[str], T]) -> T:
    """``start(address)`` on the first of 127.0.67.<first>, <first + 1>, ... whose port 53 is
    free."""
    for last in range(first, first + CANDIDATES):
        try:
            return start(f"127.0.67.{last}")
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
    raise OSError(errno.EADDRINUSE, f"port 53 is taken on 127.0.67.{first} and the next ones")


class SilentDNS:
    """Reads DNS queries over UDP and TCP on port 53 of ``address`` and never answers one."""

    def __init__(self, address: str) -> None:
        self.address = address
        self.asked: list[str] = []
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            self.udp.bind((address, 53))
            self.tcp = socket.create_server((address, 53))
        except OSError:
            self.udp.close()
            raise
        self.held: list[socket.socket] = []  # TCP clients, kept open and unanswered
        threading.Thread(target=self._udp, daemon=True).start()
        threading.Thread(target=self._tcp, daemon=True).start()

    def _udp(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                packet, _ = self.udp.recvfrom(4096)
                self.asked.append(_qname(packet))

    def _tcp(self) -> None:
        with contextlib.suppress(OSError):
            while True:
                conn, _ = self.tcp.accept()
                self.held.append(conn)
                with contextlib.suppress(OSError):
                    conn.settimeout(1)
                    size = struct.unpack("!H", conn.recv(2))[0]
                    self.asked.append(_qname(conn.recv(size)))

    def close(self) -> None:
        for sock in (self.udp, self.tcp, *self.held):
            sock.close()


@pytest.fixture(scope="module")
def namespace_files(
    tmp_path_factory: pytest.TempPathFactory, silent_server: SilentDNS
) -> Iterator[tuple[Path, Path]]:
    _need(shutil.which("unshare") is not None, "unshare (util-linux) is not installed")
    _need(os.geteuid() == 0, "a private mount namespace needs root")
    probe = subprocess.run(["unshare", "--mount", "true"], capture_output=True, text=True)
    _need(
        probe.returncode == 0,
        f"unshare --mount is not permitted here (CAP_SYS_ADMIN?): {probe.stderr.strip()}",
    )
    folder = tmp_path_factory.mktemp("resolver")
    resolv = folder / "resolv.conf"
    resolv.write_text(f"nameserver {silent_server.address}\noptions timeout:30 attempts:5\n")
    nsswitch = folder / "nsswitch.conf"
    nsswitch.write_text("hosts: files dns\n")
    yield resolv, nsswitch


@pytest.fixture(scope="module")
def silent_server() -> Iterator[SilentDNS]:
    server = on_port_53(SILENT_FIRST, SilentDNS)
    yield server
    server.close()


@pytest.fixture()
def silent_dns(silent_server: SilentDNS) -> SilentDNS:
    silent_server.asked.clear()  # each test sees the names its own run asked for
    return silent_server


_ENTER = 'mount --bind "$1" /etc/resolv.conf && mount --bind "$2" /etc/nsswitch.conf && shift 2'


def run_in_namespace(files: tuple[Path, Path], *args: str, timeout: float = 20) -> Outcome:
    """The plugin as a process whose system resolver is the silent server."""
    resolv, nsswitch = files
    command = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        f'{_ENTER} && exec "$@"',
    ]
    command += ["sh", str(resolv), str(nsswitch), sys.executable, str(SCRIPT), *args]
    started = time.monotonic()
    proc = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, stdin=subprocess.DEVNULL
    )
    return Outcome(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


def test_namespace_resolver_is_the_silent_server(
    namespace_files: tuple[Path, Path], silent_dns: SilentDNS
) -> None:
    """The set-up itself: inside the namespace glibc asks the silent server (and so waits)."""
    probe = "import socket; socket.getaddrinfo('probe.contoso.test', 443)"
    resolv, nsswitch = namespace_files
    command = [
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        f'{_ENTER} && exec "$@"',
    ]
    command += ["sh", str(resolv), str(nsswitch), sys.executable, "-c", probe]
    with pytest.raises(subprocess.TimeoutExpired):
        subprocess.run(command, capture_output=True, timeout=2, stdin=subprocess.DEVNULL)
    assert "probe.contoso.test" in silent_dns.asked, silent_dns.asked


def test_silent_system_resolver_is_critical_within_the_deadline(
    namespace_files: tuple[Path, Path], silent_dns: SilentDNS
) -> None:
    """Never hang: "every DNS query takes its timeout from the one deadline", the system
    resolver's included, which no timeout of its own can be given (``getaddrinfo``)."""
    out = run_in_namespace(namespace_files, "-H", HOST, "-t", f"{DEADLINE:g}")
    assert out.stderr == "", out.stderr
    assert out.code == 2, out.stdout
    assert out.first_line.startswith("OUTLOOK_ANYWHERE CRITICAL"), out.stdout
    assert "DNS lookup timed out" in out.status, out.status
    assert HOST in out.status, out.status
    assert HOST in silent_dns.asked, silent_dns.asked  # the system resolver was asked
    assert out.elapsed < DEADLINE + SLACK, f"{out.elapsed:.2f} s for -t {DEADLINE:g}"


def test_silent_system_resolver_for_autodiscover(
    namespace_files: tuple[Path, Path], silent_dns: SilentDNS, password_file: str
) -> None:
    """The standard Autodiscover lookup without --dns-server: the system resolver for each
    candidate, dnspython (configured from the same resolv.conf) for SRV; all within -t."""
    out = run_in_namespace(
        namespace_files,
        "--autodiscover", "monitor@silent-resolver.contoso.test",
        "--password-file", password_file,
        "-t", f"{DEADLINE:g}",
    )  # fmt: skip
    assert out.stderr == "", out.stderr
    assert out.code == 2, out.stdout
    assert out.first_line.startswith("OUTLOOK_ANYWHERE CRITICAL"), out.stdout
    assert "silent-resolver.contoso.test" in silent_dns.asked, silent_dns.asked
    assert out.elapsed < DEADLINE + SLACK, f"{out.elapsed:.2f} s for -t {DEADLINE:g}"


# -- the last resort ---------------------------------------------------------------------------


def test_alarm_ends_a_check_that_blocks_outside_the_network(tmp_path: Path) -> None:
    """SIGALRM at -t + 0.6 s: the trust store given as a FIFO whose one writer sends a line and
    then nothing more, so OpenSSL's own read of it blocks (as a CA file on a stalled network file
    system would). No socket or DNS timeout covers that; the alarm does, and the verdict is
    UNKNOWN naming the deadline."""
    fifo = tmp_path / "ca.pem"
    os.mkfifo(fifo)
    writer = os.open(fifo, os.O_RDWR)  # a writer that stays and never writes again
    os.write(writer, b"-----BEGIN CERTIFICATE-----\n")  # what the option check reads
    timeout = 2.0
    started = time.monotonic()
    try:
        proc = subprocess.run(
            [sys.executable, str(SCRIPT), "-H", "mail.contoso.test", "-I", "127.0.0.1", "-p", "9",
             "--ca-file", str(fifo), "-t", f"{timeout:g}"],
            capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL,
        )  # fmt: skip
    finally:
        os.close(writer)
    elapsed = time.monotonic() - started
    assert proc.stderr == "", proc.stderr
    assert proc.returncode == 3, proc.stdout
    assert proc.stdout.startswith("OUTLOOK_ANYWHERE UNKNOWN"), proc.stdout
    assert f"did not finish within {timeout:g} s" in proc.stdout, proc.stdout
    assert elapsed < timeout + SLACK, f"{elapsed:.2f} s for -t {timeout:g}"


@pytest.mark.parametrize("option", ["--ca-file", "--password-file"])
def test_a_fifo_without_writer_is_refused_at_once(tmp_path: Path, option: str) -> None:
    """Files named on the command line are read before the alarm can be armed: one that would
    block open() (a FIFO nobody writes to) must be refused, not waited for."""
    fifo = tmp_path / "file"
    os.mkfifo(fifo)
    extra = ["--autodiscover", "monitor@contoso.test"] if option == "--password-file" else []
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), "-H", "mail.contoso.test", *extra, option, str(fifo),
         "-t", "2"],
        capture_output=True, text=True, timeout=20, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert (proc.returncode, proc.stderr) == (3, "")
    why = "holds no PEM certificate" if option == "--ca-file" else "the first line is empty"
    assert proc.stdout.startswith("OUTLOOK_ANYWHERE UNKNOWN - "), proc.stdout
    assert why in proc.stdout, proc.stdout
    assert time.monotonic() - started < 2.0 + SLACK


# -- the system resolver when it answers -------------------------------------------------------
# The same namespace, its resolv.conf naming a lab DNS server on port 53: what getaddrinfo
# answers (addresses, NXDOMAIN, SERVFAIL, a name without the family asked for) through the CLI.


@pytest.fixture(scope="module")
def answering(
    lab: Lab, tmp_path_factory: pytest.TempPathFactory, namespace_files: tuple[Path, Path]
) -> Iterator[tuple[Path, Path]]:
    def started(address: str) -> LabDNS:
        dns = LabDNS(address=address, port=53)
        dns.start()
        return dns

    server = on_port_53(ANSWERING_FIRST, started)
    single = lab.scenario("single")
    server.set_records("sys-single.contoso.test", "A", single.addresses)
    server.set_records("sys-both.contoso.test", "A", single.addresses)
    server.set_records("sys-both.contoso.test", "AAAA", ["::1"])
    server.set_records("sys-v6.contoso.test", "AAAA", ["::1"])
    server.set_failure("sys-servfail.contoso.test", "servfail")
    folder = tmp_path_factory.mktemp("answering")
    resolv = folder / "resolv.conf"
    resolv.write_text(f"nameserver {server.address}\noptions timeout:2 attempts:1\n")
    yield resolv, namespace_files[1]
    server.stop()


def _node_args(lab: Lab, host: str, *extra: str) -> list[str]:
    # -H names the host for DNS and SNI; the node serves single's certificate for any name
    return ["-H", host, "-p", str(lab.port), "--ca-file", lab.ca_file, "-t", "5",
            "-P", "single.contoso.test", *extra]  # fmt: skip


def test_system_resolver_addresses_are_probed(lab: Lab, answering: tuple[Path, Path]) -> None:
    out = run_in_namespace(answering, *_node_args(lab, "sys-single.contoso.test"))
    assert out.stderr == "", out.stderr
    assert out.code == 0, out.stdout
    assert out.long_output[0].startswith("127.0.11.1 OK"), out.stdout
    assert out.perfdata["nodes"].startswith("1;"), out.first_line


@pytest.mark.parametrize(
    ("family", "addresses"), [((), ["127.0.11.1", "::1"]), (("-4",), ["127.0.11.1"])]
)
def test_system_resolver_families(
    lab: Lab, answering: tuple[Path, Path], family: tuple[str, ...], addresses: list[str]
) -> None:
    """A and AAAA both asked for (IPv4 first), or one family only."""
    _need(lab.ipv6, "this host cannot bind ::1")
    out = run_in_namespace(answering, *_node_args(lab, "sys-both.contoso.test", *family))
    assert out.stderr == "", out.stderr
    # both families (or one) probed; the long output orders them worst first
    nodes = [line.split()[0] for line in out.long_output if not line.startswith(" ")]
    assert sorted(nodes) == sorted(addresses), out.stdout
    assert out.perfdata["nodes"].startswith(f"{len(addresses)};"), out.first_line


@pytest.mark.parametrize(
    ("host", "family", "evidence"),
    [
        ("sys-nowhere.contoso.test", (), "NXDOMAIN"),
        ("sys-servfail.contoso.test", (), "server failure"),
        ("sys-single.contoso.test", ("-6",), "no IPv6 (AAAA) address"),
        ("sys-v6.contoso.test", ("-4",), "no IPv4 (A) address"),
        ("sys-nowhere.contoso.test", ("-6",), "NXDOMAIN"),
    ],
)
def test_system_resolver_failures_are_critical(
    lab: Lab, answering: tuple[Path, Path], host: str, family: tuple[str, ...], evidence: str
) -> None:
    """What the C library says, told apart: no such name, a server failure, and a name that
    exists without an address of the family asked for (asked again for any family)."""
    out = run_in_namespace(answering, *_node_args(lab, host, *family))
    assert out.stderr == "", out.stderr
    assert out.code == 2, out.stdout
    assert f"{host}: " in out.status, out.status
    assert evidence in out.status, out.status
    assert "system resolver" in out.stdout, out.stdout
