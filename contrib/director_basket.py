"""The Icinga Director basket ``contrib/icinga2/director-basket.json``, generated.

The basket holds what the Director needs to configure the check in its web interface:

* the CheckCommand ``outlook_anywhere`` with every argument of the plugin, its description (the
  ``--help`` text) and its variable, as an *external* command: the command object itself comes
  from ``outlook_anywhere.conf`` (the Debian package's ``include <plugins-contrib>``, or the file
  copied into the configuration), because the Director cannot render the ``env`` entry that
  carries the Autodiscover password — what the kickstart import also does for every ITL command;
* one data field per variable, in the category "Outlook Anywhere", attached to the command (the
  Director then offers them on every service that uses it); ``outlook_anywhere_password`` and
  ``outlook_anywhere_proxy_password`` are hidden (sensitive) fields;
* the service template ``outlook-anywhere`` (hourly, retry every 5 minutes).

The arguments come from the plugin's real parser (``build_parser()``), like the CheckCommand
file's; tests/test_director_basket.py holds the basket, the CheckCommand file and the parser
together, and restores the basket into a real Director.

    python3 contrib/director_basket.py [--output FILE]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
BASKET = REPO / "contrib" / "icinga2" / "director-basket.json"
CHECK_COMMAND_FILE = REPO / "contrib" / "icinga2" / "outlook_anywhere.conf"
COMMAND = "outlook_anywhere"
SERVICE_TEMPLATE = "outlook-anywhere"
PREFIX = "outlook_anywhere_"
CATEGORY = "Outlook Anywhere"
NOT_FOR_CHECKS = {"--help", "--version"}
PASSWORD_VAR = PREFIX + "password"
PROXY_PASSWORD_VAR = PREFIX + "proxy_password"
# Hidden (sensitive) fields: the passwords, which travel in the plugin's environment.
SECRET_VARS = (PASSWORD_VAR, PROXY_PASSWORD_VAR)

DATATYPE = "Icinga\\Module\\Director\\DataType\\DataType"
NUMBERS = {"port", "autodiscover_port"}
ARRAYS = {"address"}


def _parser() -> argparse.ArgumentParser:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from check_outlook_anywhere import build_parser

    return build_parser()


def check_command_defaults() -> dict[str, Any]:
    """``vars.outlook_anywhere_* = ...`` of the CheckCommand file, the defaults the Director
    shows."""
    found: dict[str, Any] = {}
    text = CHECK_COMMAND_FILE.read_text(encoding="utf-8")
    for name, value in re.findall(r"(?m)^\s*vars\.(outlook_anywhere_\w+)\s*=\s*(.+?)\s*$", text):
        found[name] = json.loads(value) if value.startswith('"') else int(value)
    return found


def options() -> list[tuple[str, argparse.Action]]:
    """(key, action) for every option a check can use, keyed like the CheckCommand."""
    found = []
    for action in _parser()._actions:
        if not action.option_strings:
            continue
        longs = [s for s in action.option_strings if s.startswith("--")]
        key = longs[0] if longs else action.option_strings[0]
        if key not in NOT_FOR_CHECKS:
            found.append((key, action))
    return found


def is_flag(action: argparse.Action) -> bool:
    return action.nargs == 0


def argument(key: str, action: argparse.Action) -> dict[str, Any]:
    macro = f"${PREFIX}{action.dest}$"
    entry: dict[str, Any] = {"description": action.help}
    if is_flag(action):
        entry.update(set_if=macro, set_if_format="string")
    else:
        entry["value"] = macro
    if key == "--host":
        # as in the CheckCommand file: false leaves --host out (an Autodiscover-only check)
        entry.update(set_if=f'macro("{macro}") != false', set_if_format="expression")
    if action.dest in ARRAYS:
        entry["repeat_key"] = True
    return entry


def field(number: int, varname: str, caption: str, description: str, kind: str) -> dict[str, Any]:
    settings: dict[str, Any] = {}
    if kind == "String":
        settings["visibility"] = "hidden" if varname in SECRET_VARS else "visible"
    return {
        "varname": varname,
        "caption": caption,
        "description": description,
        "datatype": DATATYPE + kind,
        "format": None,
        "settings": settings,
        "category": CATEGORY,
        "originalId": str(number),
    }


def render() -> dict[str, Any]:
    arguments: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for key, action in options():
        arguments[key] = argument(key, action)
        if is_flag(action):
            kind = "Boolean"
        elif action.dest in NUMBERS:
            kind = "Number"
        elif action.dest in ARRAYS:
            kind = "Array"
        else:
            kind = "String"
        number = len(fields) + 1
        fields[str(number)] = field(
            number, PREFIX + action.dest, f"Outlook Anywhere {key}", str(action.help), kind
        )
    number = len(fields) + 1
    fields[str(number)] = field(
        number,
        PASSWORD_VAR,
        "Outlook Anywhere password",
        "the Autodiscover password: passed in the plugin's environment"
        " (OUTLOOK_ANYWHERE_PASSWORD), never on the command line",
        "String",
    )
    number = len(fields) + 1
    fields[str(number)] = field(
        number,
        PROXY_PASSWORD_VAR,
        "Outlook Anywhere proxy password",
        "the --proxy-user password: passed in the plugin's environment"
        " (OUTLOOK_ANYWHERE_PROXY_PASSWORD), never on the command line",
        "String",
    )
    command = {
        "object_name": COMMAND,
        "object_type": "external_object",
        "methods_execute": "PluginCheck",
        "command": "PluginDir + /check_outlook_anywhere",
        "disabled": False,
        "imports": [],
        "is_string": None,
        "timeout": 30,
        "zone": None,
        "vars": check_command_defaults(),
        "arguments": arguments,
        "fields": [
            {"datafield_id": int(number), "is_required": "n", "var_filter": None}
            for number in fields
        ],
    }
    template = {
        "object_name": SERVICE_TEMPLATE,
        "object_type": "template",
        "check_command": COMMAND,
        "check_interval": "3600",
        "retry_interval": "300",
        "disabled": False,
        "imports": [],
        "fields": [],
        "vars": {},
    }
    return {
        "DatafieldCategory": {
            CATEGORY: {
                "category_name": CATEGORY,
                "description": "check_outlook_anywhere: the Outlook Anywhere certificate check",
                "originalId": "1",
            }
        },
        "Datafield": fields,
        "ExternalCommand": {COMMAND: command},
        "ServiceTemplate": {SERVICE_TEMPLATE: template},
    }


def text() -> str:
    return json.dumps(render(), indent=4, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    cli.add_argument("--output", type=Path, default=BASKET, help=f"default: {BASKET}")
    args = cli.parse_args(argv)
    args.output.write_text(text(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
