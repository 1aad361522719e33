"""The Summary: the first line names the worst finding, how many more there are and how many
nodes are OK; the long output has one line per node (and for DNS and Autodiscover).  The words
themselves are made in ``words``."""

from __future__ import annotations

import nagiosplugin

from ..judgement.policy import Policy
from ..output import FIRST_LINE_MAX, NAME
from ..transport import TRACE
from .contexts import Judged
from .words import headline, long_output, trace_lines


def _judged(results: nagiosplugin.Results) -> Judged:
    return next(r for r in results.results if isinstance(r, Judged))


class CheckSummary(nagiosplugin.Summary):
    def __init__(self, policy: Policy, verbosity: int = 0) -> None:
        self.policy = policy
        self.verbosity = verbosity

    def _line(self, results: nagiosplugin.Results) -> str:
        judged = _judged(results)
        prefix = f"{NAME} {str(judged.verdict.state).upper()} - "
        return headline(judged.verdict, judged.facts, self.policy, FIRST_LINE_MAX - len(prefix))

    def ok(self, results: nagiosplugin.Results) -> str:
        return self._line(results)

    def problem(self, results: nagiosplugin.Results) -> str:
        return self._line(results)

    def verbose(self, results: nagiosplugin.Results) -> list[str]:
        judged = _judged(results)
        lines = long_output(judged.verdict, judged.facts, self.verbosity)
        if self.verbosity >= 3:
            lines += trace_lines(TRACE.steps)
        return lines
