"""The coverage floors ``make coverage`` holds (after ``coverage combine``; reads
``coverage json``).

* The package as a whole: coverage.py's combined figure (statements and branches) at least
  :data:`PACKAGE_FLOOR` per cent.
* Every module of the layers whose promises a user relies on (``transport/``, ``probes/``,
  ``judgement/`` and the words, ``check/words/``): its branches at least :data:`BRANCH_FLOOR`
  per cent taken, except the modules listed in :data:`BELOW_THE_FLOOR` with the figure they
  have now, which they may not fall under (a ratchet: raise a figure, or strike the line, as
  tests are added).

Usage: ``python tests/coverage_gate.py build/coverage.json``; exits 1, naming each module under
its floor.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PACKAGE_FLOOR = 96.0
BRANCH_FLOOR = 92.0
HELD = ("transport/", "probes/", "judgement/", "check/words/")
PREFIX = "plugins/outlook_anywhere/"
# module -> the branch coverage it may not fall under, per cent: its figure in CI when the floor
# was set (in brackets; the whole suite, integration tier included) less 3 points, for the
# branches a deadline or a thread's timing decides
BELOW_THE_FLOOR: dict[str, float] = {
    "check/words/shared.py": 47.0,  # (50.0: the install hints of the other installations)
    "probes/addresses.py": 88.2,  # (91.2)
    "probes/frontdoors.py": 86.7,  # (89.7)
    "probes/logon.py": 69.7,  # (72.7)
    "probes/logon_mapi.py": 81.2,  # (84.2)
    "probes/logon_node.py": 81.1,  # (84.1)
    "probes/mapi.py": 84.5,  # (87.5)
    "probes/rpcproxy.py": 88.7,  # (91.7)
    "transport/mapihttp.py": 88.7,  # (91.7)
}


def branch_percent(summary: dict[str, float]) -> float | None:
    branches = summary.get("num_branches", 0)
    if not branches:
        return None
    return 100.0 * summary.get("covered_branches", 0) / branches


def shortfalls(report: dict[str, object]) -> list[str]:
    found = []
    totals = report["totals"]
    assert isinstance(totals, dict)
    total = float(totals["percent_covered"])
    if total < PACKAGE_FLOOR:
        found.append(f"the package: {total:.1f} % (floor {PACKAGE_FLOOR} %)")
    files = report["files"]
    assert isinstance(files, dict)
    for path, data in sorted(files.items()):
        module = path.removeprefix(PREFIX)
        if not module.startswith(HELD):
            continue
        percent = branch_percent(data["summary"])
        floor = BELOW_THE_FLOOR.get(module, BRANCH_FLOOR)
        if percent is not None and percent < floor:
            found.append(f"{module}: {percent:.1f} % of branches (floor {floor} %)")
    return found


def main(argv: list[str]) -> int:
    report = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    found = shortfalls(report)
    for line in found:
        print(f"coverage under its floor: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
