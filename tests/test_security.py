"""Promises of SECURITY.md that no other test holds: nothing written to disk, no process started,
no code evaluated from data.

A check runs under a Python audit hook (PEP 578) that records every file opened for writing and
every attempt to start a process; the plugin's source is read for eval, exec and shells.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from contrib.lab import Lab
from contrib.lab.identities.accounts import PASSWORD
from tests.conftest import REPO, SCRIPT

# Runs the plugin's main() with an audit hook; the events are written to the file in argv[1]
# through a descriptor opened before the hook (so the report itself is no event).
AUDITED = r"""
import json, os, runpy, sys
report = os.open(sys.argv[1], os.O_WRONLY)
WRITE = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
PROCESS = ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
           "os.forkpty", "pty.spawn")
CHANGE = ("os.remove", "os.rename", "os.mkdir", "os.rmdir", "os.symlink", "os.link",
          "os.truncate", "os.chmod", "shutil.rmtree", "shutil.copyfile", "shutil.move")
def hook(event, args):
    seen = None
    if event == "open":
        path, mode, flags = (list(args) + [None, None])[:3]
        writes = (isinstance(flags, int) and flags & WRITE) or (
            isinstance(mode, str) and any(c in mode for c in "wax+"))
        if writes and path not in (1, 2):
            seen = f"open {path!r} {mode!r}"
    elif event in PROCESS or event in CHANGE:
        seen = f"{event} {str(args)[:120]}"
    if seen:
        os.write(report, (json.dumps(seen) + "\n").encode())
sys.addaudithook(hook)
sys.argv = sys.argv[2:]
sys.path.insert(0, os.path.dirname(sys.argv[0]))  # as "python3 check_outlook_anywhere.py" has it
runpy.run_path(sys.argv[0], run_name="__main__")
"""


def audited(tmp_path: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    report = tmp_path / "events"
    report.write_text("")
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}  # Python's own cache is no concern
    proc = subprocess.run(
        [sys.executable, "-c", AUDITED, str(report), str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        stdin=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    return proc, [json.loads(line) for line in report.read_text().splitlines()]


@pytest.mark.parametrize("mode", ["certificates", "autodiscover and rpc", "hostile server"])
def test_a_check_writes_nothing_and_starts_no_process(lab: Lab, tmp_path: Path, mode: str) -> None:
    args = ["-p", str(lab.port), "--dns-server", lab.dns_server, "--ca-file", lab.ca_file]
    if mode == "certificates":
        args += ["-H", "healthy.contoso.test", "-vvv"]
    elif mode == "hostile server":
        args += ["-H", "malformed.contoso.test", "-I", "127.0.39.1", "-vvv"]
        args += ["-I", "127.0.32.1"]  # weak-sha1: cryptography and a second handshake
    else:
        secret = tmp_path / "password"
        secret.write_text(PASSWORD + "\n")
        url = lab.web.url("autodiscover.contoso.test")
        args += ["--autodiscover", "monitor@contoso.test", "--autodiscover-url", url]
        args += ["--password-file", str(secret), "--rpc", "-vvv"]
    proc, events = audited(tmp_path, *args)
    assert proc.stderr == "", proc.stderr
    assert proc.stdout.startswith("OUTLOOK_ANYWHERE "), proc.stdout
    assert events == []
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["events", *(["password"] if mode == "autodiscover and rpc" else [])]
    )


def _plugin_sources() -> list[Path]:
    package = REPO / "plugins" / "outlook_anywhere"
    return [REPO / "check_outlook_anywhere.py", *sorted(package.rglob("*.py"))]


BUILTINS = {"eval", "exec", "compile", "__import__"}  # re.compile() is fine: a method
METHODS = {"system", "popen", "execv", "execve", "execl", "execvp", "spawnv", "posix_spawn"}
FORBIDDEN_MODULES = {"subprocess", "pickle", "marshal", "shelve", "pty", "multiprocessing"}


@pytest.mark.parametrize("path", _plugin_sources(), ids=lambda p: str(p.relative_to(REPO)))
def test_no_shell_and_no_eval_in_the_plugin(path: Path) -> None:
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Name):
                assert func.id not in BUILTINS, f"{path.name}:{node.lineno}: {func.id}()"
            if isinstance(func, ast.Attribute):
                assert func.attr not in METHODS, f"{path.name}:{node.lineno}: {func.attr}()"
            for keyword in node.keywords:
                assert keyword.arg != "shell", f"{path.name}:{node.lineno}: shell="
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
            names.append(getattr(node, "module", None) or "")
            for module in names:
                top = module.split(".")[0]
                assert top not in FORBIDDEN_MODULES, f"{path.name}:{node.lineno}: {module}"


def test_every_test_security_md_names_exists() -> None:
    """SECURITY.md maps each promise to tests: a renamed or deleted test must not leave a
    promise held by nothing."""
    import re
    import subprocess
    import sys

    from tests.conftest import REPO

    text = (REPO / "SECURITY.md").read_text()
    named = re.findall(r"`(tests/[\w/]+\.py)::(\w+)", text)
    assert len(named) > 20
    files = sorted({path for path, _ in named})
    collected = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *files],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=True,
    ).stdout
    tests = {line.split("[", 1)[0] for line in collected.splitlines() if "::" in line}
    missing = [f"{path}::{name}" for path, name in named if f"{path}::{name}" not in tests]
    assert not missing, f"SECURITY.md names tests that do not exist: {missing}"
    for name in re.findall(r"`::(\w+)`", text):  # continuation lines: `::test_x`
        assert any(test.endswith(f"::{name}") for test in tests), name
