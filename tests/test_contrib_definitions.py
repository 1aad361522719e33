"""The shipped Icinga 2 and Nagios definitions and the plugin's real argument parser stay in
step: every option the plugin accepts is in the CheckCommand, nothing else is, and each entry
follows the Icinga Template Library's conventions.  (The daemons themselves run these files in
tests/integration/.)"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from check_outlook_anywhere import build_parser

REPO = Path(__file__).resolve().parent.parent
CHECK_COMMAND = REPO / "contrib" / "icinga2" / "outlook_anywhere.conf"
NAGIOS_COMMANDS = REPO / "contrib" / "nagios" / "outlook_anywhere.cfg"
PREFIX = "outlook_anywhere_"
# Options that print something and exit: no check runs them.
NOT_FOR_CHECKS = {"--help", "--version"}
# Flags: store_true and count actions take no value.
FLAG_ACTIONS = (argparse._StoreTrueAction, argparse._CountAction)


@dataclass
class Argument:
    key: str
    attrs: dict[str, str] = field(default_factory=dict)


def _strings_and_braces(text: str) -> list[str]:
    """Icinga DSL tokens enough for ``arguments``: lambdas ``{{ }}`` whole, strings, braces,
    ``=``, bare words."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r"(?m)^\s*(//|#).*$", "", text)
    return re.findall(r'\{\{.*?\}\}|"(?:[^"\\]|\\.)*"|[{}=]|[^\s{}="]+', text, flags=re.S)


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1]) if token[:1] == '"' else token


def check_command_arguments(text: str) -> list[Argument]:
    """The entries of the ``arguments = { ... }`` dictionary, in file order."""
    tokens = _strings_and_braces(text)
    try:
        start = next(i for i, t in enumerate(tokens) if t == "arguments" and tokens[i + 1] == "=")
    except StopIteration:
        raise AssertionError(f"{CHECK_COMMAND.name}: no 'arguments = {{ ... }}'") from None
    assert tokens[start + 2] == "{"
    found: list[Argument] = []
    i = start + 3
    while tokens[i] != "}":
        key, equals, value = tokens[i], tokens[i + 1], tokens[i + 2]
        assert equals == "=", f"unexpected {equals!r} after {key!r} in arguments"
        entry = Argument(_unquote(key))
        if value == "{":
            i += 3
            while tokens[i] != "}":
                assert tokens[i + 1] == "=", f"unexpected {tokens[i + 1]!r} in {key}"
                entry.attrs[tokens[i]] = _unquote(tokens[i + 2])
                i += 3
            i += 1
        else:
            entry.attrs["value"] = _unquote(value)
            i += 3
        found.append(entry)
    return found


def parser_options() -> dict[str, argparse.Action]:
    """Every option of the real parser, by the key the CheckCommand uses for it: the long
    option, or the short one when there is no long one (``-4``)."""
    options: dict[str, argparse.Action] = {}
    for action in build_parser()._actions:
        longs = [s for s in action.option_strings if s.startswith("--")]
        key = longs[0] if longs else action.option_strings[0]
        if key not in NOT_FOR_CHECKS:
            options[key] = action
    return options


@pytest.fixture(scope="module")
def arguments() -> dict[str, Argument]:
    entries = check_command_arguments(CHECK_COMMAND.read_text())
    keys = [e.key for e in entries]
    assert len(keys) == len(set(keys)), f"duplicate keys in arguments: {keys}"
    return {e.key: e for e in entries}


def test_every_plugin_option_is_in_the_check_command(arguments: dict[str, Argument]) -> None:
    options = parser_options()
    missing = sorted(set(options) - set(arguments))
    assert not missing, (
        f"options of check_outlook_anywhere.py missing from {CHECK_COMMAND.relative_to(REPO)}: "
        f"{', '.join(missing)}. Add one arguments entry per option, keyed by its long option, "
        f'e.g. "{missing[0]}" = {{ value = "${PREFIX}{options[missing[0]].dest}$" '
        f'description = "<its --help text>" }} (set_if instead of value for a flag), and '
        "document it in the README"
    )


def test_the_check_command_has_nothing_the_plugin_lacks(arguments: dict[str, Argument]) -> None:
    options = parser_options()
    unknown = sorted(set(arguments) - set(options))
    assert not unknown, (
        f"{CHECK_COMMAND.relative_to(REPO)} passes options check_outlook_anywhere.py does not "
        f"accept (the plugin would answer UNKNOWN): {', '.join(unknown)}. Each key must be the "
        "long option (or the only option string) of the plugin's parser"
    )


def test_entries_follow_the_itl_conventions(arguments: dict[str, Argument]) -> None:
    problems = []
    for key, action in parser_options().items():
        entry = arguments.get(key)
        if entry is None:
            continue  # reported by the test above
        macro = f"${PREFIX}{action.dest}$"
        if isinstance(action, FLAG_ACTIONS):
            if entry.attrs.get("set_if") != macro or "value" in entry.attrs:
                problems.append(f"{key}: a flag: set_if = {macro!r} and no value")
        elif entry.attrs.get("value") != macro:
            problems.append(f"{key}: value = {macro!r}")
        if entry.attrs.get("description") != action.help:
            problems.append(f"{key}: description must be its --help text {action.help!r}")
    assert not problems, "CheckCommand entries out of step with --help:\n" + "\n".join(problems)


def test_no_password_on_the_command_line(arguments: dict[str, Argument]) -> None:
    """A password goes through the environment, never an argument (ps shows arguments)."""
    text = CHECK_COMMAND.read_text()
    assert not [k for k in arguments if re.fullmatch(r"--password", k)]
    assert re.search(r'OUTLOOK_ANYWHERE_PASSWORD\s*=\s*"\$outlook_anywhere_password\$"', text)
    assert re.search(
        r'OUTLOOK_ANYWHERE_PROXY_PASSWORD\s*=\s*"\$outlook_anywhere_proxy_password\$"', text
    )
    for entry in arguments.values():
        assert "password$" not in entry.attrs.get("value", ""), entry


def test_the_check_command_outlives_the_plugins_deadline() -> None:
    text = CHECK_COMMAND.read_text()
    timeout = re.search(r"(?m)^\s*timeout\s*=\s*(\d+)\s*$", text)
    default = re.search(r"(?m)^\s*vars\.outlook_anywhere_timeout\s*=\s*(\d+)\s*$", text)
    assert timeout and default, "the CheckCommand needs timeout and vars.outlook_anywhere_timeout"
    parser_default = build_parser().parse_args([]).timeout
    assert int(default.group(1)) == parser_default
    # The plugin prints its verdict within its deadline plus a second.
    assert int(timeout.group(1)) > parser_default + 1


def test_nagios_commands_use_only_real_options() -> None:
    options = {s for a in build_parser()._actions for s in a.option_strings}
    lines = re.findall(r"(?m)^\s*command_line\s+(.*)$", NAGIOS_COMMANDS.read_text())
    assert lines, f"no command_line in {NAGIOS_COMMANDS.name}"
    for line in lines:
        used = set(re.findall(r"(?<!\S)(--?[A-Za-z0-9][\w-]*)", line))
        assert used <= options, f"{line}: not options of the plugin: {sorted(used - options)}"
        files = line.replace("--proxy-password-file", "").replace("--password-file", "")
        assert "password" not in files, line


def test_readme_single_node_steps_load_what_they_rely_on() -> None:
    """The README's single-node Icinga 2 steps: the includes the CheckCommand needs, and the
    example rules copied under a name that include_recursive loads (not .example)."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## Icinga 2\n", 1)[1].split("\n## ", 1)[0]
    steps = section.split("**Single node.**", 1)[1].split("**Distributed", 1)[0]
    assert "include <plugins>" in steps and "include <plugins-contrib>" in steps
    assert 'import "ipv4-or-ipv6"' in CHECK_COMMAND.read_text()
    copies = re.findall(r"(?m)^cp (\S+\.example)(?: \\\n\s*| )(\S+)$", steps)
    assert len(copies) == 2, f"the package's and the checkout's example copies: {copies}"
    for source, target in copies:
        assert (REPO / source).is_file() or source.startswith("/usr/share/doc/"), source
        assert target.startswith("/etc/icinga2/conf.d/") and target.endswith(".conf"), target
    # the host example relies on the example rule that the copy loads
    assert "vars.outlook_anywhere_array = true" in steps
    examples = (REPO / "contrib" / "icinga2" / "outlook_anywhere-services.conf.example").read_text()
    assert "assign where host.vars.outlook_anywhere_array" in examples
