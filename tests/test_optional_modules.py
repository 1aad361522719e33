"""One cause, one finding: an optional module this poller lacks (pyspnego) is one UNKNOWN line
for the whole check, not one per node and protocol, and it says how to install the module for
the way the plugin was installed: a venv (this checkout's), or the Debian package (which Debian
12 cannot complete: the README's pipx route).

A module named ``spnego`` that cannot be imported stands for a missing pyspnego.  Autodiscover
of the lab offers Basic as well, so the credentials get through and the logon meets NTLM-only
nodes (``logon-ok``: 3 nodes, RPC and MAPI)."""

from __future__ import annotations

import pathlib
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from contrib.lab import Lab
from outlook_anywhere.transport.optional import importable
from tests.conftest import Outcome, run_plugin
from tests.installed import PLUGIN, require_package

ENDPOINT = "autodiscover.contoso.test"
FIRST = (
    "OUTLOOK_ANYWHERE UNKNOWN - Python module pyspnego is not installed (RPC and MAPI on 3 nodes"
    " accept only NTLM/Negotiate)"
)


@pytest.fixture(scope="module")
def no_spnego(tmp_path_factory: pytest.TempPathFactory) -> str:
    shim = tmp_path_factory.mktemp("no-spnego")
    (shim / "spnego.py").write_text("raise ImportError('pyspnego is not installed')\n")
    return str(shim)


@pytest.fixture(autouse=True)
def fresh_web(lab: Lab) -> Iterator[None]:
    lab.web.load_zone()
    lab.web.clear()
    yield


def logon_args(lab: Lab, password_file: str) -> list[str]:
    return [
        "-p", str(lab.web.port),
        "--dns-server", lab.dns_server,
        "--ca-file", lab.ca_file,
        "--autodiscover", "logon-ok@contoso.test",
        "--autodiscover-url", lab.web.url(ENDPOINT),
        "--password-file", password_file,
        "--rpc", "--mapi", "--logon", "-t", "20",
    ]  # fmt: skip


def about_the_module(out: Outcome) -> list[str]:
    return [line for line in out.long_output if "pyspnego" in line]


def test_a_missing_module_is_one_line(lab: Lab, password_file: str, no_spnego: str) -> None:
    out = run_plugin(*logon_args(lab, password_file), env={"PYTHONPATH": no_spnego})
    assert out.stderr == ""
    assert out.code == 3, out.stdout
    # one cause, said once on the first line and once below (a slow node under load may add
    # a finding of its own, which is another cause)
    assert out.status.startswith(FIRST), out.stdout  # every node's line, should one differ
    assert sum("pyspnego" in line for line in out.stdout.splitlines()) == 2, out.stdout
    lines = about_the_module(out)
    assert lines == [
        "UNKNOWN: Python module pyspnego is not installed (RPC and MAPI on 3 nodes accept only"
        f" NTLM/Negotiate): the [ntlm] extra: {sys.prefix}/bin/pip install pyspnego"
    ], out.stdout
    assert out.long_output[0] == lines[0]  # worst first
    # the nodes are not at fault: each has its own line, OK
    # the module is no node's fault: no node line names it
    nodes = [line for line in out.long_output if line.startswith("127.0.202.")]
    assert len(nodes) == 3 and not any("pyspnego" in line for line in nodes), out.stdout


def test_the_debian_package_names_the_pipx_route(
    lab: Lab, password_file: str, no_spnego: str
) -> None:
    """The installed package (CI builds and installs it) under Debian's python3."""
    require_package()
    proc = subprocess.run(
        [str(PLUGIN), *logon_args(lab, password_file)],
        capture_output=True,
        text=True,
        timeout=60,
        env={"PYTHONPATH": no_spnego, "PATH": "/usr/bin:/bin"},
        stdin=subprocess.DEVNULL,
    )
    out = Outcome(proc.returncode, proc.stdout, proc.stderr, 0.0)
    assert out.code == 3, out.stdout
    assert out.status.startswith(FIRST), out.stdout  # every node's line, should one differ
    assert sum("pyspnego" in line for line in out.stdout.splitlines()) == 2, out.stdout
    assert about_the_module(out) == [
        "UNKNOWN: Python module pyspnego is not installed (RPC and MAPI on 3 nodes accept only"
        " NTLM/Negotiate): Debian has no pyspnego package: install the plugin with pipx and"
        " pipx inject check_outlook_anywhere pyspnego (README, Install)"
    ], out.stdout


def test_a_module_failing_mid_import_is_missing_for_every_thread(
    tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second thread that asks while the first is still inside the failing import must not
    take the half-made module for an imported one (the logons ask from one thread per node)."""
    (tmp_path / "gate_for_slow_failure.py").write_text(
        "import threading\nstarted = threading.Event()\nrelease = threading.Event()\n"
    )
    (tmp_path / "slow_failure.py").write_text(
        "import gate_for_slow_failure as gate\n"
        "gate.started.set()\n"
        "gate.release.wait(10)\n"
        "raise ImportError('not installed')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    import gate_for_slow_failure as gate  # type: ignore[import-not-found]

    answers: list[bool] = []
    first = threading.Thread(target=lambda: answers.append(importable("slow_failure")))
    first.start()
    assert gate.started.wait(10)
    second = threading.Thread(target=lambda: answers.append(importable("slow_failure")))
    second.start()
    second.join(0.2)  # the second asks while the first is inside the import
    gate.release.set()
    first.join(10)
    second.join(10)
    assert answers == [False, False]
