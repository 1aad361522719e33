"""The nagiosplugin Resources and Contexts of the two HTTP checks: Autodiscover and --rpc.

Autodiscover runs before the Check is assembled (the published principal and the EXPR Server
must be known before the nodes are judged), so :class:`AutodiscoverResource` only hands over the
facts already learned.  :class:`RpcProxy` runs after :class:`~plugins.resource.CasArray` and
probes the addresses it found.  The Contexts judge with the pure rules and never do I/O.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import nagiosplugin
from nagiosplugin.state import Ok

from .autodiscover import AutodiscoverFacts
from .autodiscover_judgement import describe as describe_autodiscover
from .autodiscover_judgement import judge_autodiscover
from .contexts import Judged
from .deadline import Deadline
from .judgement import Finding, worst
from .resource import CasArray
from .rpc_judgement import describe as describe_rpc
from .rpc_judgement import judge_rpc
from .rpcproxy import RpcFacts, probe_all
from .summary import ArraySummary


class Described(Judged):
    """A judged result that brings its own long-output lines and a note for the OK line."""

    long_output: list[str]
    ok_note: str


def _described(
    findings: list[Finding], metric: nagiosplugin.Metric, lines: list[str], note: str
) -> Described:
    state = worst(findings)
    hint = "; ".join(f.text for f in findings if f.state == state) if findings else ""
    result = Described(state, hint, metric)
    result.findings = findings
    result.long_output = lines
    result.ok_note = note
    return result


class AutodiscoverResource(nagiosplugin.Resource):
    def __init__(self, facts: AutodiscoverFacts) -> None:
        self.facts = facts

    @property
    def name(self) -> str:
        return "OUTLOOK_ANYWHERE"

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        yield nagiosplugin.Metric("autodiscover", self.facts, context="autodiscover")
        yield nagiosplugin.Metric(
            "autodiscover_time", round(self.facts.elapsed, 4), "s", 0, context="autodiscover_time"
        )


class AutodiscoverContext(nagiosplugin.Context):
    def __init__(self, expected: str | None) -> None:
        super().__init__("autodiscover")
        self.expected = expected

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> Described:
        facts: AutodiscoverFacts = metric.value
        findings = judge_autodiscover(facts, self.expected)
        state = str(worst(findings)).upper()
        text = describe_autodiscover(facts)
        line = f"{text} -- {state}" + (
            f": {'; '.join(f.text for f in findings)}" if findings else ""
        )
        return _described(findings, metric, [line], "published by Autodiscover")


class RpcProxy(nagiosplugin.Resource):
    """``/rpc/rpcproxy.dll`` on every node the CasArray found."""

    def __init__(self, cas: CasArray, deadline: Deadline) -> None:
        self.cas = cas
        self.deadline = deadline

    @property
    def name(self) -> str:
        return "OUTLOOK_ANYWHERE"

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        resolution = self.cas.resolution
        found = resolution.addresses if resolution is not None else ()
        target = self.cas.target
        nodes = probe_all(found, target.port, target.host, self.deadline)
        for node in nodes:
            yield nagiosplugin.Metric(f"rpc {node.address}", node, context="rpc")
        times = [n.elapsed for n in nodes if n.elapsed is not None]
        if times:
            yield nagiosplugin.Metric("rpc_time", round(max(times), 4), "s", 0, context="rpc_time")


class RpcContext(nagiosplugin.Context):
    def __init__(self, expected: tuple[str, ...]) -> None:
        super().__init__("rpc")
        self.expected = expected

    def evaluate(self, metric: nagiosplugin.Metric, resource: Any) -> Described:
        facts: RpcFacts = metric.value
        findings = judge_rpc(facts, self.expected)
        state = worst(findings)
        head = f"{facts.address} rpc {str(state).upper()}"
        if findings:
            head += ": " + "; ".join(f.text.removeprefix(f"{facts.address}: ") for f in findings)
        details = describe_rpc(facts)
        line = head + (f" -- {details}" if details else "")
        note = ""
        if state == Ok and facts.schemes:
            note = f"rpcproxy.dll 401 ({', '.join(facts.schemes)})"
        return _described(findings, metric, [line], note)


class FullSummary(ArraySummary):
    """The array summary, plus the Autodiscover and RPC proxy lines."""

    def ok(self, results: nagiosplugin.Results) -> str:
        notes = [r.ok_note for r in results if isinstance(r, Described) and r.ok_note]
        return "; ".join([super().ok(results), *dict.fromkeys(notes)])

    def verbose(self, results: nagiosplugin.Results) -> list[str]:
        lines = super().verbose(results)
        for result in results:
            if isinstance(result, Described):
                lines += result.long_output
        return lines
