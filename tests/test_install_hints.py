"""How to add an optional module, said for each way the plugin can be installed: the Debian
package, pipx, a virtual environment of its own, the system's Python.  In-process: the hint is
read from where the running module lies (``__file__``) and from the interpreter's prefixes, so
each test sets those to what that installation has and asks for pyspnego (which has an extra)
and for a module without one."""

from __future__ import annotations

import sys

import pytest

from outlook_anywhere.check.words import shared

DEBIAN = "/usr/lib/python3/dist-packages/outlook_anywhere/check/words/shared.py"
PIPX = "/root/.local/share/pipx/venvs/check-outlook-anywhere"
VENV = "/opt/check_outlook_anywhere"


def installed(monkeypatch: pytest.MonkeyPatch, where: str, prefix: str, base: str) -> None:
    monkeypatch.setattr(shared, "__file__", where)
    monkeypatch.setattr(sys, "prefix", prefix)
    monkeypatch.setattr(sys, "base_prefix", base)


def test_the_debian_package_points_to_the_pipx_route(monkeypatch: pytest.MonkeyPatch) -> None:
    """Debian 12 packages no pyspnego: a pip command would break the system's Python."""
    installed(monkeypatch, DEBIAN, "/usr", "/usr")
    assert shared.install_hint("pyspnego") == (
        "Debian has no pyspnego package: install the plugin with pipx and"
        " pipx inject check_outlook_anywhere pyspnego (README, Install)"
    )


def test_a_pipx_installation_is_told_to_inject(monkeypatch: pytest.MonkeyPatch) -> None:
    installed(monkeypatch, f"{PIPX}/lib/python3.11/site-packages/x.py", PIPX, "/usr")
    assert shared.install_hint("pyspnego") == "pipx inject check_outlook_anywhere pyspnego"


@pytest.mark.parametrize(
    ("module", "hint"),
    [
        ("pyspnego", f"the [ntlm] extra: {VENV}/bin/pip install pyspnego"),
        ("gssapi", f"{VENV}/bin/pip install gssapi"),  # no extra brings it
    ],
)
def test_a_venv_of_its_own_names_its_pip_and_the_extra(
    monkeypatch: pytest.MonkeyPatch, module: str, hint: str
) -> None:
    installed(monkeypatch, f"{VENV}/lib/python3.11/site-packages/x.py", VENV, "/usr")
    assert shared.install_hint(module) == hint


def test_the_systems_python_is_told_plain_pip(monkeypatch: pytest.MonkeyPatch) -> None:
    """Neither the Debian package nor a venv (a drop-in, or pip into /usr/local)."""
    installed(monkeypatch, "/usr/local/lib/python3.11/dist-packages/x.py", "/usr", "/usr")
    assert shared.install_hint("pyspnego") == "pip install pyspnego"
