"""The Debian package as installed on this machine (``make deb``, ``apt-get install ./dist/…``).

Tests that run the packaged plugin use :func:`require_package`: it checks that the package is
installed, at the checkout's version, and that every file it ships that comes from the checkout
is byte for byte the checkout's — so a test never passes on an old build.  A missing or stale
package fails in CI (``.ci/run`` builds and installs it) and skips elsewhere, naming the command
that fixes it.
"""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "check-outlook-anywhere"
PLUGIN = Path("/usr/lib/nagios/plugins/check_outlook_anywhere")
ITL_FILE = Path("/usr/share/icinga2/include/plugins-contrib.d/outlook_anywhere.conf")
NAGIOS_FILE = Path("/etc/nagios-plugins/config/outlook_anywhere.cfg")
# where icingaweb2-module-graphite reads the templates of an installation
GRAPHITE_TEMPLATE = Path("/etc/icingaweb2/modules/graphite/templates/outlook_anywhere.ini")
MAN_PAGE = Path("/usr/share/man/man1/check_outlook_anywhere.1.gz")
MODULES = Path("/usr/lib/python3/dist-packages")
PACKAGE_DIR = REPO / "plugins" / "outlook_anywhere"
FIX = "make deb && apt-get install ./dist/check-outlook-anywhere_*_all.deb (as root)"


def repo_version() -> str:
    text = (REPO / "plugins" / "outlook_anywhere" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'(?m)^__version__ = "([^"]+)"$', text)
    assert found, "plugins/outlook_anywhere/__init__.py has no __version__"
    return found.group(1)


def not_usable(reason: str) -> None:
    """Fail in CI, skip elsewhere: CI must never pass by leaving the package out."""
    if os.environ.get("CI"):
        pytest.fail(f"CI: {reason} ({FIX})", pytrace=False)
    pytest.skip(f"{reason}: {FIX}")


@dataclass(frozen=True)
class Shipped:
    """What the package put on the system, next to where it came from in the checkout."""

    installed: Path
    source: Path


def shipped_files() -> list[Shipped]:
    files = [
        Shipped(MODULES / "check_outlook_anywhere.py", REPO / "check_outlook_anywhere.py"),
        Shipped(ITL_FILE, REPO / "contrib" / "icinga2" / "outlook_anywhere.conf"),
        Shipped(NAGIOS_FILE, REPO / "contrib" / "nagios" / "outlook_anywhere.cfg"),
        Shipped(GRAPHITE_TEMPLATE, REPO / "contrib" / "icingaweb2" / "outlook_anywhere.ini"),
    ]
    # every module of the package, its layers' subpackages included
    files += [
        Shipped(MODULES / "outlook_anywhere" / source.relative_to(PACKAGE_DIR), source)
        for source in sorted(PACKAGE_DIR.rglob("*.py"))
        if "__pycache__" not in source.parts
    ]
    return files


def installed_version() -> str | None:
    done = subprocess.run(
        ["dpkg-query", "-W", "-f=${Status}\t${Version}", PACKAGE],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0 or not done.stdout.startswith("install ok installed"):
        return None
    return done.stdout.split("\t", 1)[1]


def installed_man_page() -> str:
    return gzip.decompress(MAN_PAGE.read_bytes()).decode("utf-8")


def stale_files() -> list[str]:
    """Shipped files that differ from (or lack) their checkout source."""
    stale = []
    for item in shipped_files():
        if not item.installed.exists() or item.installed.read_bytes() != item.source.read_bytes():
            stale.append(str(item.installed))
    installed = MODULES / "outlook_anywhere"
    installed_modules = {p.relative_to(installed) for p in installed.rglob("*.py")}
    extra = installed_modules - {p.relative_to(PACKAGE_DIR) for p in PACKAGE_DIR.rglob("*.py")}
    stale += [f"{installed / name} (not in plugins/outlook_anywhere/)" for name in sorted(extra)]
    if str(REPO / "contrib") not in sys.path:
        sys.path.insert(0, str(REPO))
    from contrib import manpage

    if not MAN_PAGE.exists() or installed_man_page() != manpage.render():
        stale.append(str(MAN_PAGE))
    return stale


def require_package() -> str:
    """The installed package's version, once it is known to be the checkout's build."""
    version = installed_version()
    if version is None:
        not_usable(f"the Debian package {PACKAGE} is not installed")
    assert version is not None
    if version != repo_version():
        not_usable(f"{PACKAGE} {version} is installed, the checkout is {repo_version()}")
    stale = stale_files()
    if stale:
        not_usable(f"the installed {PACKAGE} is not this checkout's build: {', '.join(stale)}")
    return version
