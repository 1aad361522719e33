"""The coverage floors of ``make coverage`` (tests/coverage_gate.py) on reports of its own."""

from __future__ import annotations

from tests.coverage_gate import BRANCH_FLOOR, PREFIX, shortfalls


def report(total: float, **modules: tuple[int, int]) -> dict[str, object]:
    """A ``coverage json`` report: the total, and per module (covered, all) branches."""
    files = {
        PREFIX + name.replace("__", "/") + ".py": {
            "summary": {"covered_branches": covered, "num_branches": branches}
        }
        for name, (covered, branches) in modules.items()
    }
    return {"totals": {"percent_covered": total}, "files": files}


def test_a_package_and_modules_above_their_floors_pass() -> None:
    assert shortfalls(report(96.0, transport__http=(92, 100), check__resource=(1, 10))) == []


def test_the_package_under_its_floor_is_named() -> None:
    assert shortfalls(report(95.9)) == ["the package: 95.9 % (floor 96.0 %)"]


def test_a_held_module_under_the_branch_floor_is_named() -> None:
    found = shortfalls(report(97.0, probes__tls=(91, 100), judgement__rpc=(0, 0)))
    assert found == [f"probes/tls.py: 91.0 % of branches (floor {BRANCH_FLOOR} %)"]


def test_a_module_outside_the_held_layers_is_not_held() -> None:
    assert shortfalls(report(97.0, check__options=(10, 100))) == []
