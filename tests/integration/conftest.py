"""The integration tier: the plugin run by real Icinga 2 and Nagios 4 daemons (and an Icinga
Director, dnsmasq, pipx).

The single-node Icinga 2 and the Director tiers run the installed Debian package
(tests/installed.py: it must be this checkout's build). The others install the plugin the way
the README's venv recipe does: the daemons drop from root to the ``nagios`` user, the way
Debian's packages run them. That user must be able to execute the plugin and read everything
the check uses, and the checkout (or pytest's own temporary directories, mode 700) may be out of
its reach: so the plugin is installed into a venv built with Debian's /usr/bin/python3 under a
world-readable scratch directory, and the lab's CA is copied there.

A missing daemon is a failure when ``CI`` is set (CI installs tests/system-packages.txt), and a
skip with the reason otherwise.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from contrib.lab import Lab

from .daemons import DAEMON_USER, SYSTEM_PATH, chown_to_daemon_user

REPO = Path(__file__).resolve().parents[2]
SYSTEM_PYTHON = "/usr/bin/python3"
# What `pip install` needs from the checkout (no .git, no .venv, no build leftovers).
DISTRIBUTION = ("setup.cfg", "pyproject.toml", "README.md", "check_outlook_anywhere.py", "plugins")


def copy_distribution(source: Path) -> None:
    """The files a pip install reads, copied out of the checkout into ``source``."""
    source.mkdir()
    for name in DISTRIBUTION:
        if (REPO / name).is_dir():
            shutil.copytree(
                REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__")
            )
        else:
            shutil.copy2(REPO / name, source / name)


def missing(what: str) -> None:
    """Fail in CI, skip elsewhere: CI must never pass by leaving a daemon out."""
    reason = f"{what} (make system-deps installs the Debian packages of tests/system-packages.txt)"
    if os.environ.get("CI"):
        pytest.fail(f"CI: {reason}", pytrace=False)
    pytest.skip(reason)


def require_program(name: str) -> str:
    path = shutil.which(name, path=SYSTEM_PATH)
    if path is None:
        missing(f"{name} is not installed")
    assert path is not None
    return path


@pytest.fixture(scope="session")
def daemon_ready() -> None:
    """The daemons start as root and drop to the nagios user; both must be possible."""
    if os.geteuid() != 0:
        missing("the integration tier runs the daemons as root (they drop to nagios)")
    try:
        import pwd

        pwd.getpwnam(DAEMON_USER)
    except KeyError:
        missing(f"no {DAEMON_USER} user (created by the icinga2 and nagios4 packages)")
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        missing(f"{SYSTEM_PYTHON} is missing (package python3-venv)")


@pytest.fixture(scope="session")
def scratch(daemon_ready: None) -> Iterator[Path]:
    """A directory under /tmp the nagios user can enter (pytest's own are mode 700)."""
    root = Path(tempfile.mkdtemp(prefix="coa-integration-", dir="/tmp"))
    root.chmod(0o755)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="session")
def plugin_dir(scratch: Path) -> Path:
    """The directory holding ``check_outlook_anywhere``, installed the way the README says."""
    source = scratch / "src"
    copy_distribution(source)
    venv = scratch / "venv"
    subprocess.run([SYSTEM_PYTHON, "-m", "venv", str(venv)], check=True)
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "--quiet", str(source)], check=True, env=env
    )
    bin_dir = venv / "bin"
    # The daemons' user runs it: prove that here, with a clear message, rather than through a
    # daemon's UNKNOWN later.
    probe = subprocess.run(
        ["runuser", "-u", DAEMON_USER, "--", str(bin_dir / "check_outlook_anywhere"), "-V"],
        capture_output=True,
        text=True,
    )
    assert probe.returncode == 0, f"the {DAEMON_USER} user cannot run the plugin: {probe}"
    return bin_dir


@pytest.fixture(scope="session")
def lab_ca(lab: Lab, scratch: Path) -> Path:
    """The lab's CA where the nagios user can read it."""
    ca = scratch / "lab-ca.pem"
    shutil.copy(lab.ca_file, ca)
    ca.chmod(0o644)
    chown_to_daemon_user(ca)
    return ca
