"""The direction of imports between the plugin's layers (docs/design.md, "Module map"): data flows
one way, arguments → addresses → probes → facts → judgement → words, and the imports point the
other way, each layer down to the ones beneath it, never up and never in a circle.

Every import counts: at the top of a module, inside a function (the lazy imports that keep
start-up cheap) and under ``TYPE_CHECKING``; an upward import is a circle waiting to happen even
where Python would tolerate it.  The checker reads the sources with ``ast`` (nothing is
imported), and is itself tried on a small tree with a deliberate upward import.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.conftest import REPO

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


def modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of the package under ``root``, by dotted name."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        parts = [package, *path.relative_to(root).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imported(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The package's modules that module ``name`` imports, wherever the import statement is."""
    here = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")[: len(here.split(".")) - node.level + 1]
                module = ".".join([*base, *([node.module] if node.module else [])])
            else:
                module = node.module or ""
            # `from . import findings` imports the module findings; `from .x import name`, x
            targets = [f"{module}.{alias.name}" for alias in node.names]
            targets = [t if t in known else module for t in targets]
        else:
            continue
        for target in targets:
            while target and target not in known:  # import a.b.c where only a.b is ours
                target = target.rpartition(".")[0]
            if target and target != name:
                yield target


def graph(root: Path, package: str) -> dict[str, set[str]]:
    known = modules(root, package)
    return {name: set(imported(name, path, known)) for name, path in known.items()}


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


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_every_layer_is_in_the_table() -> None:
    layers = {layer(m) for m in modules(ROOT, PACKAGE)} - {""}
    assert layers == set(ALLOWED), "a new folder needs its row in ALLOWED (and docs/design.md)"


def test_imports_point_down_the_layers() -> None:
    assert upward(graph(ROOT, PACKAGE), ALLOWED) == []


def test_no_module_imports_itself_round_a_circle() -> None:
    assert circles(graph(ROOT, PACKAGE)) == []


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "pkg" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root / "pkg"


def test_the_checker_sees_an_upward_import_even_a_lazy_one(tmp_path: Path) -> None:
    root = _tree(
        tmp_path,
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
    root = _tree(
        tmp_path,
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
