"""nagiosplugin Contexts: they turn facts into states and performance data, and never do I/O."""

from __future__ import annotations

import nagiosplugin
from nagiosplugin.state import Ok

from ..facts import CheckFacts
from ..judgement.policy import Policy
from ..judgement.verdict import Verdict, judge

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from typing import Any


class Judged(nagiosplugin.Result):
    """The Result of the whole check: the verdict and the facts it was made from."""

    verdict: Verdict
    facts: CheckFacts


class FindingsContext(nagiosplugin.Context):
    """Every finding of the check (``judgement.judge``); its perfdata is ``nodes_ok``, the
    count the first line's ``[k/n nodes OK]`` shows, from the same verdict."""

    def __init__(self, policy: Policy) -> None:
        super().__init__("findings")
        self.policy = policy
        self.last: tuple[int, Verdict] | None = None

    def _verdict(self, facts: CheckFacts) -> Verdict:
        if self.last is None or self.last[0] != id(facts):
            self.last = (id(facts), judge(facts, self.policy))
        return self.last[1]

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> Judged:
        verdict = self._verdict(metric.value)
        result = Judged(verdict.state, "", metric)
        result.verdict = verdict
        result.facts = metric.value
        return result

    def performance(self, metric: nagiosplugin.Metric, resource: Any) -> nagiosplugin.Performance:
        verdict = self._verdict(metric.value)
        return nagiosplugin.Performance("nodes_ok", verdict.nodes_ok, "", "", "", 0, verdict.nodes)


class PerfdataContext(nagiosplugin.Context):
    """Performance data only; the findings about these values are the judgement's.

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
