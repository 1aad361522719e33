"""The lab by hand (``make lab``): ``python -m contrib.lab serve --summary --hostile`` prints
where everything is, and its ready-made commands work as printed; every scenario, hostile ones
included, answers on the addresses the summary names."""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import pytest

from contrib.lab import hostile
from contrib.lab.endpoints.logon_hosts import LOGON_HOSTS
from contrib.lab.endpoints.web import SITES
from contrib.lab.identities.accounts import PASSWORD
from contrib.lab.scenarios import SCENARIOS
from tests.conftest import REPO, SCRIPT

STATES = {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}


@pytest.fixture(scope="module")
def summary(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("lab-cli")
    ready = workdir / "ready.txt"
    proc = subprocess.Popen(
        [sys.executable, "-m", "contrib.lab", "serve", "--summary", "--hostile",
         "--dir", str(workdir), "--ready-file", str(ready)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the lab did not start within 60 s"
            time.sleep(0.1)
        text = ready.read_text()
        yield text
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=15)
        assert proc.returncode == 0, err
        assert err == ""
        assert out == text  # what was printed is what the ready file held
        assert not ready.exists()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def field(summary: str, name: str) -> str:
    found = re.search(rf"(?m)^  {name} +(\S+)", summary)
    assert found, f"no {name!r} line in the summary:\n{summary}"
    return found.group(1)


def test_summary_names_what_a_person_needs(summary: str) -> None:
    assert re.search(r"(?m)^  TLS nodes .* port \d+, SNI honoured$", summary)
    dns_server = field(summary, "DNS server")
    assert re.fullmatch(r"127\.0\.0\.53:\d+", dns_server)
    assert Path(field(summary, "CA file")).read_text().startswith("-----BEGIN CERTIFICATE-----")
    password_file = Path(field(summary, "password file"))
    assert password_file.read_text() == PASSWORD + "\n"
    assert password_file.stat().st_mode & 0o777 == 0o600
    assert PASSWORD in summary
    # every scenario and every hostile server is listed, with its host name
    for scenario in SCENARIOS:
        assert re.search(
            rf"(?m)^  {re.escape(scenario.name)} +{re.escape(scenario.host)} ", summary
        )
    for server in hostile.HOSTILE:
        assert re.search(rf"(?m)^  {re.escape(server.name)} +{re.escape(server.host)} ", summary)
    for kind in hostile.WEB_KINDS:
        host, address = hostile.web_target(kind)
        assert re.search(rf"(?m)^  {kind} +{re.escape(host)} +{re.escape(address)}$", summary)
    # every Exchange front end with its first node, and its Autodiscover mailbox
    for front in LOGON_HOSTS:
        first = re.escape(next(s.address for s in SITES if s.host == front.host))
        row = rf"(?m)^  {re.escape(front.host)} +{first}\b.* exchange: "
        assert re.search(row, summary), front.host
        mailbox = rf"(?m)^  {re.escape(front.name)} +settings for {re.escape(front.host)}"
        assert re.search(mailbox, summary), front.name


def test_every_hostile_name_resolves_to_its_nodes(summary: str) -> None:
    address, port = field(summary, "DNS server").rsplit(":", 1)
    for server in hostile.HOSTILE:
        query = dns.message.make_query(server.host, dns.rdatatype.A)
        answer = dns.query.udp(query, address, port=int(port), timeout=3)
        got = sorted(item.address for rrset in answer.answer for item in rrset)
        assert got == sorted(hostile.addresses(server)), server.name


def ready_made(summary: str) -> list[list[str]]:
    lines = summary.split("Ready-made commands:", 1)[1].split("\n\n", 2)[1].splitlines()
    plugin = shlex.split(lines[0].split("=", 1)[1])
    assert Path(plugin[-1]).name.startswith("check_outlook_anywhere"), lines[0]
    commands = []
    for line in lines[1:]:
        words = shlex.split(line)
        assert words[0] == "$PLUGIN", line
        commands.append(words[1:])
    return commands


@pytest.mark.parametrize(
    ("index", "state"),
    [(0, "OK"), (1, "CRITICAL"), (2, "OK"), (3, "OK"), (4, "CRITICAL"), (5, "CRITICAL"), (6, "OK")],
    ids=["healthy", "wrong-cn-node", "autodiscover", "rpc", "revocation", "hostile drip", "logon"],
)
def test_ready_made_commands_work_as_printed(summary: str, index: int, state: str) -> None:
    args = ready_made(summary)[index]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
    )
    assert done.stderr == ""
    assert done.stdout.startswith(f"OUTLOOK_ANYWHERE {state} - "), done.stdout
    assert done.returncode == STATES[state], done.stdout


def test_demo_and_lab_venv_has_no_test_tools() -> None:
    """make demo and make lab install the plugin with its runtime dependencies (and pyspnego,
    for the lab's NTLM site) into a venv of their own, not the test tools of .venv."""
    dry = subprocess.run(
        ["make", "-n", "-B", "demo", "lab"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert dry.returncode == 0, dry.stderr
    installs = [line for line in dry.stdout.splitlines() if " install " in line]
    assert installs and all("[test" not in line and "[bench" not in line for line in installs)
    assert any("'.[ntlm]'" in line for line in installs), installs
    runs = [line for line in dry.stdout.splitlines() if "-m contrib.lab" in line]
    assert len(runs) == 2 and all(line.startswith("build/lab-venv/bin/python ") for line in runs)
    assert "serve --summary --hostile" in runs[1]
