"""The coverage floors ``make coverage`` holds (after ``coverage combine``; reads
``coverage json``).

* The package as a whole: coverage.py's combined figure (statements and branches) at least
  :data:`PACKAGE_FLOOR` per cent.
* Every module of the layers whose promises a user relies on (``transport/``, ``probes/``,
  ``judgement/`` and the words, ``check/words/``): its branches at least :data:`BRANCH_FLOOR`
  per cent taken.

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
        if percent is not None and percent < BRANCH_FLOOR:
            found.append(f"{module}: {percent:.1f} % of branches (floor {BRANCH_FLOOR} %)")
    return found


def main(argv: list[str]) -> int:
    report = json.loads(Path(argv[1]).read_text(encoding="utf-8"))
    found = shortfalls(report)
    for line in found:
        print(f"coverage under its floor: {line}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
