"""Packaging: one version everywhere, the licence setup.cfg names, a Debian package that depends
on Debian packages only, and — once installed (CI installs it) — a working plugin, its manual
page, the Icinga 2 ITL file and the Nagios command file where the distribution keeps them."""

from __future__ import annotations

import configparser
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests import installed
from tests.installed import REPO, repo_version

DEBIAN = REPO / "debian"
# What Debian 12 has for each runtime requirement of setup.cfg.
DEBIAN_PACKAGES = {
    "nagiosplugin": "python3-nagiosplugin",
    "cryptography": "python3-cryptography",
    "dnspython": "python3-dnspython",
    "defusedxml": "python3-defusedxml",
}


def setup_cfg() -> configparser.ConfigParser:
    cfg = configparser.ConfigParser()
    cfg.read(REPO / "setup.cfg", encoding="utf-8")
    return cfg


def control_field(package: str, field: str) -> list[str]:
    """A dependency field of debian/control, as package names."""
    stanzas = (DEBIAN / "control").read_text(encoding="utf-8").split("\n\n")
    stanza = next(s for s in stanzas if re.search(rf"(?m)^Package: {package}$", s))
    found = re.search(rf"(?ms)^{field}:(.*?)(?=^\S|\Z)", stanza)
    assert found, f"debian/control: {package} has no {field}"
    names = [item.strip().split()[0] for item in found.group(1).split(",") if item.strip()]
    return names


# -- one version, one licence -----------------------------------------------------------------


def test_debian_changelog_carries_the_version() -> None:
    first = (DEBIAN / "changelog").read_text(encoding="utf-8").splitlines()[0]
    found = re.match(r"^check-outlook-anywhere \(([^)]+)\) ", first)
    assert found, first
    assert found.group(1) == repo_version(), (
        f"debian/changelog is at {found.group(1)}, "
        f"plugins/outlook_anywhere/__init__.py at {repo_version()}:"
        " add a debian/changelog entry (dch -v VERSION) when the version changes"
    )


def test_changelog_names_the_version() -> None:
    text = (REPO / "CHANGELOG.md").read_text(encoding="utf-8")
    releases = re.findall(r"(?m)^## \[(\d[^\]]*)\] - (\d{4}-\d{2}-\d{2})$", text)
    assert "## [Unreleased]" in text
    assert releases, "CHANGELOG.md: no '## [X.Y.Z] - YYYY-MM-DD' release heading"
    assert releases[0][0] == repo_version(), (
        f"the newest release in CHANGELOG.md is {releases[0][0]}, the code says {repo_version()}"
    )


def test_readme_names_the_package_file_of_this_version() -> None:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    named = set(re.findall(r"check-outlook-anywhere_([^_\s]+)_all\.deb", readme))
    assert named == {repo_version()}, named


def test_setup_cfg_reads_the_version_from_the_package() -> None:
    assert setup_cfg()["metadata"]["version"] == "attr: outlook_anywhere.__version__"


def test_licence_is_the_one_setup_cfg_names() -> None:
    assert setup_cfg()["metadata"]["license"] == "MIT"
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n")
    assert re.search(r"(?m)^Copyright \(c\) \d{4} check_outlook_anywhere contributors$", text)
    assert "Permission is hereby granted, free of charge" in text
    copyright_file = (DEBIAN / "copyright").read_text(encoding="utf-8")
    assert "License: Expat" in copyright_file  # MIT's name in Debian


# -- the Debian package, as described --------------------------------------------------------


def test_package_depends_on_debian_packages_for_every_requirement() -> None:
    requires = setup_cfg()["options"]["install_requires"].split()
    names = {re.split(r"[<>=!~ ]", r, maxsplit=1)[0] for r in requires if r}
    assert names == set(DEBIAN_PACKAGES), f"a new requirement needs its Debian package: {names}"
    depends = control_field("check-outlook-anywhere", "Depends")
    for requirement, package in DEBIAN_PACKAGES.items():
        assert package in depends, f"{requirement}: {package} missing from Depends"
    assert not [d for d in depends if "pip" in d or d.startswith("python3-venv")]


def test_package_installs_where_the_distribution_looks() -> None:
    rules = (DEBIAN / "rules").read_text(encoding="utf-8")
    assert "PLUGINDIR := /usr/lib/nagios/plugins" in rules
    install = (DEBIAN / "check-outlook-anywhere.install").read_text(encoding="utf-8").split("\n")
    assert (
        "contrib/icinga2/outlook_anywhere.conf usr/share/icinga2/include/plugins-contrib.d/"
        in install
    )
    assert "contrib/nagios/outlook_anywhere.cfg etc/nagios-plugins/config/" in install
    # the graphs: where icingaweb2-module-graphite reads an installation's templates
    assert (
        "contrib/icingaweb2/outlook_anywhere.ini etc/icingaweb2/modules/graphite/templates/"
        in install
    )
    manpages = (DEBIAN / "check-outlook-anywhere.manpages").read_text(encoding="utf-8")
    assert manpages.split() == ["debian/man/check_outlook_anywhere.1"]
    assert "contrib/manpage.py --output debian/man/check_outlook_anywhere.1" in rules
    for example in (DEBIAN / "check-outlook-anywhere.examples").read_text().split():
        assert (REPO / example).is_file(), example


# -- the package as installed ------------------------------------------------------------------


@pytest.fixture(scope="module")
def package() -> str:
    return installed.require_package()


def _as_nagios(*argv: str) -> subprocess.CompletedProcess[str]:
    """The plugin as the engines' user runs it: Debian's python3, a bare environment."""
    if os.geteuid() != 0 or shutil.which("runuser") is None:
        installed.not_usable("running the plugin as the nagios user needs root")
    return subprocess.run(
        ["runuser", "-u", "nagios", "--", "env", "-i", "PATH=/usr/bin:/bin", *argv],
        capture_output=True,
        text=True,
        timeout=30,
        cwd="/",
    )


def test_installed_plugin_runs_for_the_nagios_user(package: str) -> None:
    plugin = installed.PLUGIN
    assert os.access(plugin, os.X_OK)
    assert plugin.read_text().startswith("#!/usr/bin/python3\n")  # Debian's, not a venv's
    done = _as_nagios(str(plugin), "--version")
    assert (done.returncode, done.stdout, done.stderr) == (
        0,
        f"check_outlook_anywhere {package}\n",
        "",
    )
    # A bad argument is the plugin's own UNKNOWN, even with the distribution's nagiosplugin.
    done = _as_nagios(str(plugin), "--port", "0")
    assert done.returncode == 3 and done.stdout.startswith("OUTLOOK_ANYWHERE UNKNOWN - "), done
    assert done.stderr == ""


def test_installed_plugin_checks_the_lab(package: str, lab: object) -> None:
    from contrib.lab import Lab

    assert isinstance(lab, Lab)
    healthy = lab.scenario("healthy")
    ca = Path(lab.ca_file)
    args = ["-H", healthy.host, "-p", str(lab.port), "--dns-server", lab.dns_server]
    # the nagios user cannot read pytest's temporary directory: the CA goes where it can
    done = subprocess.run(
        [str(installed.PLUGIN), *args, "--ca-file", str(ca)],
        capture_output=True,
        text=True,
        timeout=30,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stdout
    assert done.stdout.startswith("OUTLOOK_ANYWHERE OK - "), done.stdout
    assert "nodes_ok=3;;;0;3" in done.stdout.split("\n", 1)[0]
    assert done.stderr == ""


def test_man_page_is_installed_and_renders(package: str) -> None:
    page = installed.installed_man_page()
    assert f'"check_outlook_anywhere {package}"' in page.split("\n", 1)[0]
    if shutil.which("man") is None:
        installed.not_usable("man is not installed (package man-db)")
    done = subprocess.run(
        ["man", "-P", "cat", "check_outlook_anywhere"],
        capture_output=True,
        text=True,
        timeout=30,
        env={**os.environ, "MANWIDTH": "80"},
    )
    assert done.returncode == 0, done.stderr
    assert "check_outlook_anywhere" in done.stdout and "--autodiscover" in done.stdout


def test_package_ships_no_generic_top_level_module(package: str) -> None:
    assert not (installed.MODULES / "plugins").exists()
    listing = subprocess.run(
        ["dpkg-query", "-L", installed.PACKAGE], capture_output=True, text=True, check=True
    ).stdout.split()
    tops = {
        p.split("/")[5]
        for p in listing
        if p.startswith("/usr/lib/python3/dist-packages/") and p.count("/") >= 5
    }
    assert tops == {
        "outlook_anywhere",
        "check_outlook_anywhere.py",
        f"check_outlook_anywhere-{package}.dist-info",
    }, tops
