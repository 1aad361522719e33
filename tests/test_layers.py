"""The direction of imports between the plugin's layers (docs/design.md, "Module map"): data flows
one way, arguments → addresses → probes → facts → judgement → words, and the imports point the
other way, each layer down to the ones beneath it, never up and never in a circle.

Every import counts: at the top of a module, inside a function (the lazy imports that keep
start-up cheap) and under ``TYPE_CHECKING``; an upward import is a circle waiting to happen even
where Python would tolerate it.  The checker reads the sources with ``ast`` (nothing is
imported), and is itself tried on a small tree with a deliberate upward import.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO
from tests.import_graph import circles, graph, modules, write_tree

PACKAGE = "outlook_anywhere"
ROOT = REPO / "plugins" / PACKAGE

# What each layer may import of the package, besides itself.  ``output`` and ``facts`` are the
# floor (the text the engine reads, and plain data); ``judgement`` reads facts only, never a
# probe or the transport (it does no I/O); ``check`` assembles the rest; the entry point, above
# them all, may import any of it.
ALLOWED: dict[str, frozenset[str]] = {
    "output": frozenset(),
    "facts": frozenset(),
    "transport": frozenset({"output", "facts"}),
    "probes": frozenset({"output", "facts", "transport"}),
    "autodiscover": frozenset({"output", "facts", "transport", "probes"}),
    "judgement": frozenset({"facts"}),
    "check": frozenset({"output", "facts", "transport", "probes", "autodiscover", "judgement"}),
}


def layer(module: str) -> str:
    """``outlook_anywhere.probes.tls`` is in the layer ``probes``; the package itself is ''."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def upward(edges: dict[str, set[str]], allowed: dict[str, frozenset[str]]) -> list[str]:
    """Imports that point up (or sideways to a layer not allowed), as 'a -> b' lines."""
    wrong = []
    for source, targets in sorted(edges.items()):
        for target in sorted(targets):
            ours, theirs = layer(source), layer(target)
            if theirs in ("", ours):
                continue  # the package's own __init__ (its version), or inside one layer
            if ours not in allowed or theirs not in allowed[ours]:
                wrong.append(f"{source} -> {target}")
    return wrong


def test_every_layer_is_in_the_table() -> None:
    layers = {layer(m) for m in modules(ROOT, PACKAGE)} - {""}
    assert layers == set(ALLOWED), "a new folder needs its row in ALLOWED (and docs/design.md)"


def test_imports_point_down_the_layers() -> None:
    assert upward(graph(ROOT, PACKAGE), ALLOWED) == []


def test_no_module_imports_itself_round_a_circle() -> None:
    assert circles(graph(ROOT, PACKAGE)) == []


def test_the_checker_sees_an_upward_import_even_a_lazy_one(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "facts/__init__.py": "",
            "facts/data.py": "def f():\n    from ..judgement.rules import judge\n",
            "judgement/__init__.py": "",
            "judgement/rules.py": "from ..facts.data import f\n",
        },
    )
    edges = graph(root, "pkg")
    assert edges["pkg.facts.data"] == {"pkg.judgement.rules"}
    assert upward(edges, ALLOWED) == ["pkg.facts.data -> pkg.judgement.rules"]
    assert circles(edges) == [["pkg.facts.data", "pkg.judgement.rules"]]


def test_the_checker_reads_from_dot_import_module_as_that_module(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "pkg",
        {
            "__init__.py": "",
            "judgement/__init__.py": "",
            "judgement/verdict.py": "from . import findings as k\n",
            "judgement/findings.py": "",
            "check/__init__.py": "",
            "check/words.py": "if False:\n    from ..judgement.verdict import Verdict\n",
        },
    )
    edges = graph(root, "pkg")
    assert edges["pkg.judgement.verdict"] == {"pkg.judgement.findings"}
    assert edges["pkg.check.words"] == {"pkg.judgement.verdict"}
    assert upward(edges, ALLOWED) == []
