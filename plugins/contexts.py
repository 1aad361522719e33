"""nagiosplugin Contexts: they turn facts into states and perfdata, and never do I/O."""

from __future__ import annotations

import nagiosplugin
from nagiosplugin.state import Critical, Ok

from .addresses import Resolution
from .judgement import Finding, Policy, judge_fleet, judge_node, worst
from .tlsprobe import NodeFacts

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any


class Judged(nagiosplugin.Result):
    """A Result that keeps every finding behind its state, for the summary and long output."""

    findings: list[Finding]


def _result(findings: list[Finding], metric: nagiosplugin.Metric) -> Judged:
    state = worst(findings)
    hint = "; ".join(f.text for f in findings if f.state == state) if findings else ""
    result = Judged(state, hint, metric)
    result.findings = findings
    return result


class NodeContext(nagiosplugin.Context):
    """One node (address): principal, dates, trust, connection."""

    def __init__(self, policy: Policy) -> None:
        super().__init__("node")
        self.policy = policy

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> Judged:
        return _result(judge_node(metric.value, self.policy), metric)


class FleetContext(nagiosplugin.Context):
    """All nodes together: do they serve the same certificate?"""

    def __init__(self) -> None:
        super().__init__("fleet")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> Judged:
        return _result(judge_fleet(metric.value), metric)


class ResolutionContext(nagiosplugin.Context):
    """No address to probe is CRITICAL: the clients cannot connect either."""

    def __init__(self) -> None:
        super().__init__("resolution")

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> Judged:
        resolution: Resolution = metric.value
        if resolution.addresses:
            return _result([], metric)
        text = f"{resolution.host}: {resolution.error} ({resolution.source})"
        return _result([Finding(Critical, text)], metric)


class PerfdataContext(nagiosplugin.Context):
    """Performance data only; the findings that concern these values live in the node context.

    Values are printed as given (rounded by the Resource); thresholds as the user wrote them.
    """

    def __init__(self, name: str, warning: str = "", critical: str = "") -> None:
        super().__init__(name)
        self.warning = warning
        self.critical = critical

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Result:
        return nagiosplugin.Result(Ok, None, metric)

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Performance:
        return nagiosplugin.Performance(
            metric.name,
            metric.value,
            metric.uom or "",
            self.warning,
            self.critical,
            metric.min if metric.min is not None else "",
            metric.max if metric.max is not None else "",
        )


class NodesOkContext(PerfdataContext):
    """``nodes_ok``: the nodes whose own findings are all OK."""

    def __init__(self, policy: Policy) -> None:
        super().__init__("nodes_ok")
        self.policy = policy

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Performance:
        nodes: list[NodeFacts] = metric.value
        healthy = sum(1 for node in nodes if not judge_node(node, self.policy))
        return nagiosplugin.Performance("nodes_ok", healthy, "", "", "", 0, len(nodes))
