"""The installed import name is the project's own: the wheel's top-level names are the entry
module and ``outlook_anywhere`` only, and a ``plugins`` package elsewhere on the path (another
distribution's, or a stray folder) changes nothing, from a checkout or as ``python -m``."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from tests.conftest import REPO, SCRIPT


def test_wheel_top_level_names_are_the_projects_own(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(tmp_path), str(REPO)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    [wheel] = tmp_path.glob("check_outlook_anywhere-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
        declared = archive.read(top_level).decode().split()
    assert sorted(declared) == ["check_outlook_anywhere", "outlook_anywhere"]
    tops = {n.split("/", 1)[0] for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    assert tops == {"check_outlook_anywhere.py", "outlook_anywhere"}
    # every module of plugins/outlook_anywhere/, in its folder, and nothing else (a stale build/
    # left over from a module's old place would otherwise ship it); read from the folder, not
    # from git: `make test-latest` runs the suite in a copy of the tree without .git
    plugins = REPO / "plugins"
    expected = {p.relative_to(plugins).as_posix() for p in plugins.rglob("*.py")}
    shipped = {n for n in names if n.startswith("outlook_anywhere/") and n.endswith(".py")}
    assert shipped == expected
    assert "outlook_anywhere/check/words/__init__.py" in shipped


def stray(tmp_path: Path) -> str:
    folder = tmp_path / "plugins"
    folder.mkdir()
    (folder / "__init__.py").write_text("raise ImportError('a stray plugins package')\n")
    return str(tmp_path)


def test_a_stray_plugins_package_changes_nothing(tmp_path: Path) -> None:
    env = {"PYTHONPATH": stray(tmp_path), "PATH": "/usr/bin:/bin"}
    for command in (
        [sys.executable, str(SCRIPT), "-V"],
        [sys.executable, "-m", "check_outlook_anywhere", "-V"],
    ):
        proc = subprocess.run(
            command, capture_output=True, text=True, timeout=60, env=env, cwd=REPO
        )
        assert (proc.returncode, proc.stderr) == (0, ""), proc.stdout
        assert proc.stdout.startswith("check_outlook_anywhere "), proc.stdout
