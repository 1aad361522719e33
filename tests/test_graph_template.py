"""The graph template for icingaweb2-module-graphite (contrib/icingaweb2/outlook_anywhere.ini),
read as the module reads it: three panels of the outlook_anywhere CheckCommand, every metric of
the plugin that is a time or a number of days on one of them, nothing drawn twice. Rendering
from real GraphiteWriter paths in real graphite-web is the browser tier's
(tests/integration/test_browser.py)."""

from __future__ import annotations

import configparser
import re

from tests.conftest import REPO

TEMPLATE = REPO / "contrib" / "icingaweb2" / "outlook_anywhere.ini"
SECTION = re.compile(r"\A(.+)\.(graph|metrics_filters|urlparams|functions)\Z")  # the module's
FILTER = re.compile(r'\A"\$service_name_template\$\.perfdata\.([a-z_]+)\.value"\Z')


def panels() -> dict[str, dict[str, dict[str, str]]]:
    ini = configparser.ConfigParser(interpolation=None)
    ini.optionxform = str  # type: ignore[assignment,method-assign]  # keys as written
    ini.read(TEMPLATE)
    found: dict[str, dict[str, dict[str, str]]] = {}
    for section in ini.sections():
        match = SECTION.match(section)
        assert match, f"the module refuses the section name {section!r}"
        found.setdefault(match.group(1), {})[match.group(2)] = dict(ini[section])
    return found


def test_three_panels_of_the_check_command() -> None:
    found = panels()
    drawn = {name: p for name, p in found.items() if "urlparams" in p}
    assert sorted(drawn) == [
        "outlook_anywhere-ca-days-left",
        "outlook_anywhere-days-left",
        "outlook_anywhere-times",
    ]
    for panel in found.values():
        assert panel["graph"]["check_command"] == '"outlook_anywhere"'
        # the module's MacroTemplate reads "a:b" in any part as a macro with a default and cuts
        # the text there: a colon in a label lost the threshold curves
        for text in [*panel["metrics_filters"].values(), *panel["functions"].values()]:
            assert ":" not in text, text
        # every curve has a function, as the module requires
        assert set(panel["functions"]) == set(panel["metrics_filters"])


def test_every_time_and_day_metric_has_its_panel() -> None:
    found = panels()

    def labels(name: str) -> set[str]:
        filters = found[name]["metrics_filters"].values()
        return {m.group(1) for f in filters if (m := FILTER.match(f))}

    assert labels("outlook_anywhere-days-left") == {"days_left"}
    assert labels("outlook_anywhere-ca-days-left") == {"ca_days_left"}
    assert labels("outlook_anywhere-times") == {
        "time", "autodiscover_time", "rpc_time", "mapi_time", "logon_time", "rpc_endpoint_time"
    }  # fmt: skip
    # the per-node lines: every days_left_<node> next to days_left, on the same panel
    nodes = found["outlook_anywhere-days-left"]["functions"]["nodes.value"]
    assert "applyByNode($metric$, -3, '%.days_left_*.value')" in nodes
    # and kept out of the module's one-graph-per-metric default by a host-only filter
    hidden = found["outlook_anywhere-per-node"]
    assert "urlparams" not in hidden
    assert hidden["metrics_filters"]["value"] == (
        '"$host_name_template$.perfdata.days_left_$node$.value"'
    )


def test_the_thresholds_are_the_plugins_defaults() -> None:
    functions = panels()["outlook_anywhere-days-left"]["functions"]
    assert "threshold(30)" in functions["warning.value"]
    assert "threshold(14)" in functions["critical.value"]
    # the plugin's own defaults of -w and -c, from its option table
    from outlook_anywhere.check.command_line import OPTIONS

    defaults = {option.dest: option.default for option in OPTIONS}
    assert (defaults["warning"].given, defaults["critical"].given) == ("30", "14")
