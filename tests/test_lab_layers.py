"""The direction of imports between the lab's layers (docs/design.md, "The lab"): the network floor
(addresses, DNS, TLS nodes, HTTP/1.1 framing) ← the identities (PKI, accounts, Kerberos) ← the
endpoints (what the servers answer) ← the lab itself (``contrib/lab/*.py``: the ``Lab`` class, the
scenarios, the hostile scenarios, the command line and the demo).

As for the plugin (tests/test_layers.py), every import counts, the lazy ones and those under
``TYPE_CHECKING`` too, and none may go round a circle.  The checker is tried on a small tree with
a deliberate upward import and a type-only circle.
"""

from __future__ import annotations

from pathlib import Path

from tests.conftest import REPO
from tests.import_graph import circles, graph, modules, write_tree

PACKAGE = "contrib.lab"
ROOT = REPO / "contrib" / "lab"
TOP = ""
"""The layer of the modules directly in contrib/lab (and of the package itself, ``Lab``)."""

# What each layer may import of the lab, besides itself.
ALLOWED: dict[str, frozenset[str]] = {
    "network": frozenset(),
    "identities": frozenset({"network"}),
    "endpoints": frozenset({"network", "identities"}),
    TOP: frozenset({"network", "identities", "endpoints"}),
}


def layers(root: Path, package: str) -> dict[str, str]:
    """The layer of every module: its folder under ``root``, or :data:`TOP` for the modules
    directly in it."""
    found = {}
    for name, path in modules(root, package).items():
        parts = path.relative_to(root).parts
        found[name] = parts[0] if len(parts) > 1 else TOP
    return found


def upward(root: Path, package: str) -> list[str]:
    """Imports that point up (or sideways to a layer not allowed), as 'a -> b' lines."""
    layer = layers(root, package)
    wrong = []
    for source, targets in sorted(graph(root, package).items()):
        for target in sorted(targets):
            ours, theirs = layer[source], layer[target]
            if theirs != ours and theirs not in ALLOWED.get(ours, frozenset()):
                wrong.append(f"{source} -> {target}")
    return wrong


def test_every_folder_is_a_layer_in_the_table() -> None:
    folders = {p.parent.name for p in ROOT.glob("*/__init__.py")}
    assert folders == set(ALLOWED) - {TOP}, "a new folder needs its row in ALLOWED (and docs)"
    assert set(layers(ROOT, PACKAGE).values()) == set(ALLOWED)


def test_imports_point_down_the_layers() -> None:
    assert upward(ROOT, PACKAGE) == []


def test_no_module_imports_itself_round_a_circle() -> None:
    assert circles(graph(ROOT, PACKAGE)) == []


def test_the_checker_sees_a_lazy_upward_import_and_a_type_only_circle(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "lab",
        {
            "__init__.py": "from .endpoints.web import LabWeb\n",
            "network/__init__.py": "",
            "network/nodes.py": "def f():\n    from ..identities.pki import Chain\n",
            "identities/__init__.py": "",
            "identities/pki.py": "",
            "endpoints/__init__.py": "",
            "endpoints/web.py": "from . import exchange\n",
            "endpoints/exchange.py": "if TYPE_CHECKING:\n    from .web import Seen\n",
            "endpoints/hostile.py": "if TYPE_CHECKING:\n    from .. import Lab\n",
        },
    )
    assert upward(root, "pkg.lab") == [
        "pkg.lab.endpoints.hostile -> pkg.lab",
        "pkg.lab.network.nodes -> pkg.lab.identities.pki",
    ]
    assert circles(graph(root, "pkg.lab")) == [
        ["pkg.lab.endpoints.exchange", "pkg.lab.endpoints.web"]
    ]


def test_the_checker_lets_the_top_import_every_layer(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "lab",
        {
            "__init__.py": "from .endpoints.web import LabWeb\nfrom .network.dns import LabDNS\n",
            "__main__.py": "def main():\n    from . import Lab, hostile\n",
            "hostile.py": "from .identities import pki\nif TYPE_CHECKING:\n    from . import Lab\n",
            "network/__init__.py": "",
            "network/dns.py": "",
            "identities/__init__.py": "",
            "identities/pki.py": "from ..network import dns\n",
            "endpoints/__init__.py": "",
            "endpoints/web.py": "from ..identities.pki import x\nfrom ..network import dns\n",
        },
    )
    edges = graph(root, "pkg.lab")
    assert edges["pkg.lab.__main__"] == {"pkg.lab", "pkg.lab.hostile"}
    assert edges["pkg.lab.identities.pki"] == {"pkg.lab.network.dns"}
    assert upward(root, "pkg.lab") == []
    assert circles(edges) == []
