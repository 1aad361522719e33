"""The benchmark's verdicts (bench/report.py): the targets of docs/benchmarks.md computed from a
run's figures.  Synthetic figures, no timing."""

from __future__ import annotations

from typing import Any

from bench import report


def row(
    key: str, mean_ms: float, stddev_ms: float = 1.0, rss: float | None = 20.0
) -> dict[str, Any]:
    return {
        "key": key,
        "label": key,
        "kind": "plugin",
        "note": "",
        "exit_code": 0,
        "runs": 60,
        "mean": mean_ms / 1000,
        "stddev": stddev_ms / 1000,
        "min": mean_ms / 1000,
        "max": mean_ms / 1000,
        "cpu": mean_ms / 1000,
        "peak_rss_mb": rss,
    }


def met(rows: list[dict[str, Any]]) -> list[bool]:
    return [t["met"] for t in report.targets(rows)]


def test_all_targets_met() -> None:
    rows = [
        row("floor", 100),
        row("single", 120),
        row("healthy8", 150),
        row("refused", 110),
        row("cn-mismatch", 120),
        row("check_ssl_cert", 2000),
    ]
    assert met(rows) == [True] * 6


def test_each_target_can_fail() -> None:
    rows = [
        row("floor", 100),
        row("single", 140, rss=45.0),  # 1.4x the floor, 45 MB
        row("healthy8", 190),  # 1.36x one node
        row("refused", 160),  # clearly slower than healthy
        row("cn-mismatch", 150),
        row("check_ssl_cert", 2000),  # 14.3x
    ]
    assert met(rows) == [False] * 6


def test_no_slower_allows_the_noise_only() -> None:
    healthy = row("single", 100, stddev_ms=20)
    # two standard errors of the difference: 2 * hypot(20, 20) / sqrt(60) = 7.3 ms
    assert report.no_slower(row("cn-mismatch", 107, stddev_ms=20), healthy)[0]
    assert not report.no_slower(row("cn-mismatch", 108, stddev_ms=20), healthy)[0]
    assert report.no_slower(row("refused", 60, stddev_ms=20), healthy)[0]


def test_table_has_one_line_per_row_with_ratios() -> None:
    rows = [row("floor", 100), row("single", 110), row("check_ssl_cert", 2200)]
    rows[0]["kind"] = "floor"
    text = report.table({"rows": rows})
    lines = text.strip().splitlines()
    assert len(lines) == 2 + len(rows)
    assert "| 1.10 | – | – | 20.0 |" in lines[3]  # single: 1.10x the floor, no count, 20x


def test_instruction_counts_and_their_goals() -> None:
    rows = [row("floor", 100), row("single", 110), row("floor-dns", 150), row("dns-server", 160)]
    for r, count in zip(rows, (200e6, 240e6, 400e6, 418e6), strict=True):
        r["instructions"] = count
    text = report.table({"rows": rows})
    assert "| 240.0 | 1.20 |" in text  # single against the floor
    assert "| 418.0 | 1.04 |" in text  # --dns-server against the floor with dnspython
    verdicts = {t["target"]: (t["measured"], t["met"]) for t in report.targets(rows)}
    assert verdicts["1 healthy node: counted instructions within 1.15× of floor"] == (
        "1.20×",
        False,
    )
    assert verdicts["--dns-server: counted instructions within 1.05× of floor-dns"] == (
        "1.04×",
        True,
    )
