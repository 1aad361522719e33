"""The speed guard: every option path within its goal of the floor, in counted instructions.

Counted instructions (valgrind's callgrind, a fixed hash seed) repeat to within a percent from one
run to the next, where wall time on a shared machine does not: this is a deterministic guard, not
a timed test.  The goals are ``bench.report.INSTRUCTION_GOALS`` (docs/benchmarks.md), the rows
``make bench``'s own, run against the lab.  The plugin runs as users install it: the working tree
pip-installed into a clean venv (``build/guard-venv``; pip compiles the bytecode), beside the
floor ``python -c "import nagiosplugin, ssl, socket"`` of the same interpreter.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bench import report
from bench.run import Row, build_rows, clean_env, count_instructions, lab_realm, plugin_venv
from contrib.lab import Lab

REPO = Path(__file__).resolve().parent.parent
VENV = REPO / "build" / "guard-venv"


def _require_valgrind() -> None:
    if shutil.which("valgrind") is None:
        reason = "valgrind is not installed (package valgrind; make test installs it as root)"
        if os.environ.get("CI"):
            pytest.fail(f"CI: {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(scope="module")
def counted(lab: Lab, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Row]]:
    _require_valgrind()
    venv = plugin_venv(VENV, sys.executable, fresh=False)
    wanted = set(report.INSTRUCTION_GOALS) | {b for _, b, _ in report.INSTRUCTION_GOALS.values()}
    notes: list[str] = []
    workdir = tmp_path_factory.mktemp("guard")
    with lab_realm(lab, workdir, notes) as realm:
        rows = [r for r in build_rows(lab, venv, workdir, notes, realm) if r.key in wanted]
        count_instructions(rows, clean_env())
    yield {r.key: r for r in rows}


@pytest.mark.parametrize("key", sorted(report.INSTRUCTION_GOALS))
def test_counted_instructions_within_the_goal(counted: dict[str, Row], key: str) -> None:
    name, base, goal = report.INSTRUCTION_GOALS[key]
    assert key in counted, f"{name}: no row (the lab or the option is missing)"
    row, floor = counted[key], counted[base]
    assert row.instructions and floor.instructions
    ratio = row.instructions / floor.instructions
    assert ratio <= goal, (
        f"{name}: {row.instructions / 1e6:.1f} M instructions, {ratio:.3f}× of {base} "
        f"({floor.instructions / 1e6:.1f} M); the goal is {goal}×"
    )
