"""Shared fixtures: the lab (real TLS nodes and a real DNS server on loopback) and a runner
that executes the plugin as a separate process, the way Icinga and Nagios do."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
# The venvs the tests build (the speed guard's, the integration tier's, pipx's) install the
# pinned test environment, also when pytest is run without make; `make test-latest` sets it
# empty, which pip reads as no constraints.
os.environ.setdefault("PIP_CONSTRAINT", str(REPO / "tests" / "constraints.txt"))

from contrib.lab import Lab  # noqa: E402

SCRIPT = REPO / "check_outlook_anywhere.py"


@dataclass
class Outcome:
    code: int
    stdout: str
    stderr: str
    elapsed: float

    @property
    def first_line(self) -> str:
        return self.stdout.split("\n", 1)[0]

    @property
    def status(self) -> str:
        """The first line without its performance data."""
        return self.first_line.split(" | ", 1)[0]

    @property
    def perfdata(self) -> dict[str, str]:
        if " | " not in self.first_line:
            return {}
        fields = self.first_line.split(" | ", 1)[1].split()
        return dict(f.split("=", 1) for f in fields)

    @property
    def long_output(self) -> list[str]:
        return [line for line in self.stdout.split("\n")[1:] if line]


def run_plugin(*args: str, timeout: float = 60, env: dict[str, str] | None = None) -> Outcome:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )
    return Outcome(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)


# A small parent that execs the plugin and reports its child's peak RSS: measured on the
# plugin's own process, not on a fork of the test runner.
_PEAK = """
import os, resource, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.executable, [sys.executable, *sys.argv[2:]])
_, status = os.waitpid(pid, 0)
open(sys.argv[1], "w").write(str(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_with_peak_memory(*args: str) -> tuple[Outcome, int]:
    """The plugin as a process, and its peak resident memory in KiB."""
    import tempfile

    with tempfile.NamedTemporaryFile("r") as peak:
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-c", _PEAK, peak.name, str(SCRIPT), *args],
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        out = Outcome(proc.returncode, proc.stdout, proc.stderr, time.monotonic() - started)
        return out, int(peak.read() or 0)


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    with Lab(tmp_path_factory.mktemp("lab")) as running:
        yield running


class Checker:
    """Run the plugin against a lab scenario through the lab's DNS server and CA."""

    def __init__(self, lab: Lab) -> None:
        self.lab = lab

    def args(self, scenario: str) -> list[str]:
        s = self.lab.scenario(scenario)
        return [
            "-H", s.host,
            "-p", str(self.lab.port),
            "--dns-server", self.lab.dns_server,
            "--ca-file", str(self.lab.ca_file),
        ]  # fmt: skip

    def __call__(self, scenario: str, *extra: str, **kw: object) -> Outcome:
        return run_plugin(*self.args(scenario), *extra, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def password_file(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The lab mailboxes' password, in a file only its owner reads (as --password-file wants)."""
    from contrib.lab.identities.accounts import PASSWORD

    path = tmp_path_factory.mktemp("secret") / "password"
    path.write_text(PASSWORD + "\n")
    path.chmod(0o600)
    return str(path)


@pytest.fixture(scope="session")
def check(lab: Lab) -> Checker:
    return Checker(lab)
