"""The README's system-wide pipx recipe, run as written: PIPX_HOME and PIPX_BIN_DIR outside
root's home, ``pipx install`` from the checkout, ``pipx inject check_outlook_anywhere
pyspnego`` (the command the plugin's NTLM hint names), a link into the plugin directory — and
the monitoring user runs it, NTLM-only Autodiscover included."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from contrib.lab import Lab
from contrib.lab.identities.accounts import PASSWORD

from .conftest import copy_distribution, require_program
from .daemons import DAEMON_USER, chown_to_daemon_user

pytestmark = pytest.mark.integration


def pipx_env(scratch: Path) -> dict[str, str]:
    return {
        **os.environ,
        "PIPX_HOME": str(scratch / "pipx"),
        "PIPX_BIN_DIR": str(scratch / "pipx-bin"),
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }


def pipx_run(*argv: str, env: dict[str, str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, f"{' '.join(argv)}:\n{done.stdout}\n{done.stderr}"


@pytest.fixture(scope="module")
def pipx_plugin(scratch: Path) -> Path:
    pipx = require_program("pipx")
    source = scratch / "pipx-src"
    copy_distribution(source)
    env = pipx_env(scratch)
    pipx_run(pipx, "install", str(source), env=env)
    plugins = scratch / "pipx-plugins"
    plugins.mkdir()
    (plugins / "check_outlook_anywhere").symlink_to(scratch / "pipx-bin" / "check_outlook_anywhere")
    return plugins / "check_outlook_anywhere"


def as_daemon_user(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["runuser", "-u", DAEMON_USER, "--", "env", "-i", "PATH=/usr/bin:/bin", *argv],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )


def test_the_monitoring_user_runs_the_pipx_install(pipx_plugin: Path) -> None:
    done = as_daemon_user(str(pipx_plugin), "--version")
    assert done.returncode == 0, done  # not 126 "Permission denied", as under /root/.local
    assert done.stdout.startswith("check_outlook_anywhere "), done.stdout
    assert done.stderr == ""


def test_pipx_inject_brings_ntlm(pipx_plugin: Path, scratch: Path, lab: Lab, lab_ca: Path) -> None:
    """Without pyspnego the pipx install's answer to an NTLM-only server names the command
    that adds it; that command, run as written, makes the same check log on with NTLM."""
    password_file = scratch / "pipx-password"
    password_file.write_text(PASSWORD + "\n")
    password_file.chmod(0o600)
    chown_to_daemon_user(password_file)
    check = [
        str(pipx_plugin),
        "--autodiscover", "monitor@contoso.test",
        "--autodiscover-url", lab.web.url("ntlm.contoso.test"),
        "--password-file", str(password_file),
        "-p", str(lab.port), "--dns-server", lab.dns_server, "--ca-file", str(lab_ca),
    ]  # fmt: skip
    before = as_daemon_user(*check)
    assert before.returncode != 0, before.stdout
    found = re.search(r"pipx inject \S+ \S+", before.stdout)
    assert found, f"the hint names no pipx command: {before.stdout!r}"
    argv = found.group(0).split()
    assert argv == ["pipx", "inject", "check_outlook_anywhere", "pyspnego"], argv
    pipx_run(require_program("pipx"), *argv[1:], env=pipx_env(scratch))
    done = as_daemon_user(*check)
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("OUTLOOK_ANYWHERE OK - "), done.stdout
    ntlm = [s for s in lab.web.requests(mailbox="monitor@contoso.test") if s.address]
    assert any(s.authorization.startswith(("NTLM ", "Negotiate ")) for s in ntlm)
