"""The Icinga Director basket (contrib/icinga2/director-basket.json) stays in step with the
plugin's real argument parser and with the CheckCommand file: every option an argument with its
--help text, nothing else, one data field per variable, the password a hidden one.
(tests/integration/test_director.py restores it into a real Director.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

from contrib import director_basket
from tests.test_contrib_definitions import (
    CHECK_COMMAND,
    PREFIX,
    check_command_arguments,
    parser_options,
)

BASKET = director_basket.BASKET


@pytest.fixture(scope="module")
def basket() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(BASKET.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture(scope="module")
def command(basket: dict[str, Any]) -> dict[str, Any]:
    assert list(basket["ExternalCommand"]) == ["outlook_anywhere"]
    found: dict[str, Any] = basket["ExternalCommand"]["outlook_anywhere"]
    return found


def test_basket_is_generated_from_the_parser() -> None:
    assert BASKET.read_text(encoding="utf-8") == director_basket.text(), (
        f"{BASKET.name} is out of step with the plugin: regenerate it with"
        " python3 contrib/director_basket.py"
    )


def test_every_plugin_option_and_nothing_else(command: dict[str, Any]) -> None:
    options = parser_options()
    assert set(command["arguments"]) == set(options), (
        f"missing: {sorted(set(options) - set(command['arguments']))}; "
        f"unknown: {sorted(set(command['arguments']) - set(options))}"
    )
    for key, action in options.items():
        entry = command["arguments"][key]
        assert entry["description"] == action.help, key
        macro = f"${PREFIX}{action.dest}$"
        assert entry.get("value", entry.get("set_if")) == macro or macro in entry["set_if"], key


def test_arguments_are_the_check_command_files(command: dict[str, Any]) -> None:
    """The same arguments as outlook_anywhere.conf: the Director shows what Icinga runs."""
    for entry in check_command_arguments(CHECK_COMMAND.read_text()):
        basket_entry = command["arguments"][entry.key]
        assert basket_entry.get("value") == entry.attrs.get("value"), entry.key
        assert basket_entry["description"] == entry.attrs["description"], entry.key
        assert basket_entry.get("repeat_key", False) == (entry.attrs.get("repeat_key") == "true"), (
            entry.key
        )
        set_if = entry.attrs.get("set_if")
        if set_if is None:
            assert "set_if" not in basket_entry, entry.key
        elif set_if.startswith("{{"):
            assert basket_entry["set_if_format"] == "expression"
            assert basket_entry["set_if"] == set_if[2:-2].strip(), entry.key
        else:
            assert (basket_entry["set_if"], basket_entry["set_if_format"]) == (set_if, "string")
    defaults = director_basket.check_command_defaults()
    assert command["vars"] == defaults and defaults["outlook_anywhere_timeout"] == 10


def test_a_data_field_for_every_variable(basket: dict[str, Any], command: dict[str, Any]) -> None:
    fields = basket["Datafield"]
    variables = {f"{PREFIX}{action.dest}" for action in parser_options().values()}
    variables.add(f"{PREFIX}password")  # the environment's OUTLOOK_ANYWHERE_PASSWORD
    variables.add(f"{PREFIX}proxy_password")  # and OUTLOOK_ANYWHERE_PROXY_PASSWORD
    assert {f["varname"] for f in fields.values()} == variables
    assert sorted(str(f["datafield_id"]) for f in command["fields"]) == sorted(fields)
    for number, data in fields.items():
        assert data["originalId"] == number
        assert data["category"] in basket["DatafieldCategory"]
        assert data["description"], data["varname"]


def test_password_is_a_hidden_field(basket: dict[str, Any]) -> None:
    by_name = {f["varname"]: f for f in basket["Datafield"].values()}
    secrets = (f"{PREFIX}password", f"{PREFIX}proxy_password")
    for name in secrets:
        assert by_name[name]["datatype"].endswith("DataTypeString")
        assert by_name[name]["settings"] == {"visibility": "hidden"}
    others = [f for n, f in by_name.items() if n not in secrets]
    assert all(f["settings"].get("visibility", "visible") == "visible" for f in others)
    # the passwords reach the plugin through the CheckCommand file's env, never an argument
    assert "OUTLOOK_ANYWHERE_PASSWORD" in CHECK_COMMAND.read_text()
    assert "OUTLOOK_ANYWHERE_PROXY_PASSWORD" in CHECK_COMMAND.read_text()
    assert "password$" not in json.dumps(basket["ExternalCommand"]).replace("password_file$", "")


def test_service_template_uses_the_command(basket: dict[str, Any]) -> None:
    template = basket["ServiceTemplate"]["outlook-anywhere"]
    assert template["object_type"] == "template"
    assert template["check_command"] == "outlook_anywhere"
