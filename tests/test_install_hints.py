"""How the words tell the admin to add an optional module (``check.words.shared``), for each way
the plugin is installed: the Debian package (no pyspnego package: pipx), pipx, a venv of its
own, a drop-in under the system's Python.  The installation is read from where the module
lives and from ``sys.prefix``; each is set here as that installation has it."""

from __future__ import annotations

import sys

import pytest

from outlook_anywhere.check.words import shared


def test_the_debian_package_points_at_pipx(monkeypatch: pytest.MonkeyPatch) -> None:
    path = "/usr/lib/python3/dist-packages/outlook_anywhere/check/words/shared.py"
    monkeypatch.setattr(shared, "__file__", path)
    assert shared.install_hint("pyspnego") == (
        "Debian has no pyspnego package: install the plugin with pipx and"
        " pipx inject check_outlook_anywhere pyspnego (README, Install)"
    )


@pytest.mark.parametrize(
    ("prefix", "base", "hint"),
    [
        ("/root/.local/share/pipx/venvs/check-outlook-anywhere", "/usr",
         "pipx inject check_outlook_anywhere pyspnego"),
        ("/opt/pipx-like/env", "/usr",
         "the [ntlm] extra: /opt/pipx-like/env/bin/pip install pyspnego"),
        ("/srv/venvs/check", "/usr", "the [ntlm] extra: /srv/venvs/check/bin/pip install pyspnego"),
        ("/usr", "/usr", "pip install pyspnego"),
    ],
    ids=["pipx", "pipx-without-venvs", "venvs-without-pipx", "system"],
)  # fmt: skip
def test_each_installation_gets_its_own_hint(
    monkeypatch: pytest.MonkeyPatch, prefix: str, base: str, hint: str
) -> None:
    monkeypatch.setattr(shared, "__file__", "/opt/plugins/outlook_anywhere/check/words/shared.py")
    monkeypatch.setattr(sys, "prefix", prefix)
    monkeypatch.setattr(sys, "base_prefix", base)
    assert shared.install_hint("pyspnego") == hint


def test_a_module_without_an_extra_is_named_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shared, "__file__", "/opt/plugins/outlook_anywhere/check/words/shared.py")
    monkeypatch.setattr(sys, "prefix", "/srv/venv")
    monkeypatch.setattr(sys, "base_prefix", "/usr")
    assert shared.install_hint("gssapi") == "/srv/venv/bin/pip install gssapi"
