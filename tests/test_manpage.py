"""The manual page check_outlook_anywhere(1) (contrib/manpage.py) says what --help and the
README's States table say, and renders without a groff warning.  The package builds it with the
same script; tests/test_packaging.py compares the installed page with it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from check_outlook_anywhere import build_parser
from contrib import manpage
from tests.installed import REPO, repo_version


@pytest.fixture(scope="module")
def page() -> str:
    return manpage.render()


def test_title_carries_the_version_and_the_debian_changelog_date(page: str) -> None:
    first = page.split("\n", 1)[0]
    date = re.search(r"\d{4}-\d{2}-\d{2}", first)
    assert date, first
    assert first == (
        f'.TH CHECK_OUTLOOK_ANYWHERE 1 "{date.group(0)}" "check_outlook_anywhere '
        f'{repo_version()}" "Monitoring Plugins"'
    )
    assert manpage.render() == page  # the same page on every build


def test_every_option_with_its_help_text(page: str) -> None:
    parser = build_parser()
    formatter = parser._get_formatter()
    for action in parser._actions:
        if not action.option_strings:
            continue
        for option in action.option_strings:
            assert f"\\fB{manpage.esc(option)}\\fR" in page, option
            assert f".OP {manpage.esc(action.option_strings[0])}" in page, option
        assert manpage.esc(formatter._expand_help(action)) in page, action.option_strings
        if action.nargs != 0:
            assert f"\\fI{manpage.esc(str(action.metavar))}\\fR" in page


def test_every_row_of_the_readme_states_table(page: str) -> None:
    rows = manpage.states_table()
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## States", 1)[1].split("\n## ", 1)[0]
    table_rows = [
        line for line in section.splitlines() if line.startswith("|") and "---" not in line
    ]
    assert len(rows) == len(table_rows) - 1  # all but the header
    states = page.split("\n.SH STATES\n", 1)[1].split("\n.SH ", 1)[0] + "\n"
    for finding, state in rows:
        assert f".TP\n{manpage.inline(finding)}\n{manpage.inline(state)}\n" in states
    for word in ("OK", "WARNING", "CRITICAL", "UNKNOWN"):
        assert word in states


def test_states_table_parser_follows_the_readme_format() -> None:
    readme = (
        "# x\n\n## States\n\nText.\n\n| finding | state |\n|---|---|\n"
        "| a `--match cn\\|cn-or-san` row | WARNING |\n| b | CRITICAL |\n\nAfter.\n\n## Next\n"
    )
    assert manpage.states_table(readme) == [
        ("a `--match cn|cn-or-san` row", "WARNING"),
        ("b", "CRITICAL"),
    ]
    with pytest.raises(SystemExit):
        manpage.states_table("# x\n\n## Other\n")


def test_examples_come_from_the_help_epilog(page: str) -> None:
    examples = manpage.examples(build_parser())
    assert examples and all(e.startswith("check_outlook_anywhere ") for e in examples)
    for example in examples:
        assert f".EX\n{manpage.esc(example)}\n.EE" in page


def test_roff_escapes() -> None:
    assert manpage.esc(".start") == "\\&.start"
    assert manpage.esc("a\\b") == "a\\eb"
    assert manpage.esc("--host") == "\\-\\-host"
    assert manpage.esc("…") == "\\[u2026]"
    assert manpage.inline("see `-P`") == "see \\fB\\-P\\fR"


def test_groff_renders_it_without_a_warning(page: str) -> None:
    if shutil.which("groff") is None:
        if os.environ.get("CI"):
            pytest.fail("CI: groff is not installed (package groff-base)", pytrace=False)
        pytest.skip("groff is not installed (package groff-base)")
    done = subprocess.run(
        ["groff", "-man", "-Tutf8", "-ww", "-rLL=80n"],
        input=page,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    text = re.sub(r".\x08", "", done.stdout)  # overstrikes (bold, underline) to plain text
    for heading in ("NAME", "SYNOPSIS", "OPTIONS", "STATES", "EXIT STATUS", "EXAMPLES"):
        assert re.search(rf"(?m)^{heading}$", text), heading


def test_the_script_writes_the_page(tmp_path: Path) -> None:
    out = tmp_path / "man" / "check_outlook_anywhere.1"
    assert manpage.main(["--output", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == manpage.render()
