"""The Summary: the first line names the worst node and what is wrong with it; the long output
has one line per node (and, with ``-v``, one per certificate in its chain)."""

from __future__ import annotations

import nagiosplugin
from nagiosplugin.state import Ok

from .certificate import CertFacts, iso_date
from .contexts import Judged
from .judgement import Policy
from .principal import display
from .tlsprobe import NodeFacts


def _judged(results: nagiosplugin.Results, context: str) -> list[Judged]:
    """The results of one context in the order the Resource reported them (address order);
    iterating ``results`` itself would sort them by state."""
    return [r for r in results.results if isinstance(r, Judged) and r.metric.context == context]


def _cert_text(cert: CertFacts, now: float) -> str:
    cns = ", ".join(cert.cns) if cert.cns else "(none)"
    parts = [f"CN {cns}"]
    if cert.emails:
        parts.append(f"e-mail {', '.join(cert.emails)}")
    if cert.sans:
        parts.append(f"SAN {', '.join(cert.sans)}")
    parts.append(f"{cert.days_left(now):.1f} days left ({iso_date(cert.not_after)})")
    parts.append(f"issuer {cert.issuer}")
    return "; ".join(parts)


def _ms(seconds: float | None) -> str:
    return "" if seconds is None else f"{seconds * 1000:.0f} ms"


class ArraySummary(nagiosplugin.Summary):
    def __init__(self, policy: Policy, verbosity: int = 0) -> None:
        self.policy = policy
        self.verbosity = verbosity

    def ok(self, results: nagiosplugin.Results) -> str:
        nodes = _judged(results, "node")
        leaves = [r.metric.value.leaf for r in nodes if r.metric.value.leaf is not None]
        if not leaves:
            return "no node answered"
        first = leaves[0]
        days = min(leaf.days_left(self.policy.now) for leaf in leaves)
        principals = ", ".join(display(p) for p in self.policy.principals)
        trust = "trusted" if self.policy.check_trust else "trust not checked"
        count = f"{len(nodes)}/{len(nodes)} nodes" if len(nodes) > 1 else "1 node"
        cn = first.cns[0] if first.cns else "(none)"
        return (
            f"{count} OK: {principals} matches CN {cn}, {days:.1f} days left"
            f" (expires {iso_date(min(leaf.not_after for leaf in leaves))}), {trust}"
        )

    def problem(self, results: nagiosplugin.Results) -> str:
        state = results.most_significant_state
        worst = [r for r in results if isinstance(r, Judged) and r.state == state and r.hint]
        if not worst:
            return str(results.first_significant)
        first = worst[0]
        if first.metric.context == "node":
            text = f"{first.metric.name}: {first.hint}"
        else:
            text = first.hint
        others = [r.metric.name for r in worst[1:] if r.metric.context == "node"]
        if others:
            shown = ", ".join(others[:5]) + (", ..." if len(others) > 5 else "")
            text += f" (+{len(others)} more {str(state).upper()}: {shown})"
        # A renewal that reached only some nodes is worth the first line even beside a worse
        # finding: it is usually the cause.
        fleet = [r for r in _judged(results, "fleet") if r.hint and r is not first]
        if fleet:
            text += f"; {fleet[0].hint}"
        nodes = _judged(results, "node")
        if len(nodes) > 1:
            healthy = sum(1 for r in nodes if r.state == Ok)
            text += f" [{healthy}/{len(nodes)} nodes OK]"
        return text

    def verbose(self, results: nagiosplugin.Results) -> list[str]:
        lines = []
        for result in _judged(results, "node"):
            node: NodeFacts = result.metric.value
            lines.append(self._node_line(node, result))
            if self.verbosity >= 1 and node.chain:
                for depth, cert in enumerate(node.chain):
                    lines.append(
                        f"  [{depth}] {_cert_text(cert, self.policy.now)}"
                        f"; serial {cert.serial}; SHA-256 {cert.sha256}"
                    )
        lines += [f"{str(r.state).upper()}: {r.hint}" for r in _judged(results, "fleet") if r.hint]
        return lines

    def _node_line(self, node: NodeFacts, result: Judged) -> str:
        # Never a "|" here: the engines read whatever follows one as performance data.
        head = f"{node.address} {str(result.state).upper()}"
        if result.findings:
            head += f": {'; '.join(f.text for f in result.findings)}"
        if node.leaf is None:
            timing = _ms(node.connect_time)
            return head + (f" (connected in {timing})" if timing else "")
        leaf = node.leaf
        details = [
            _cert_text(leaf, self.policy.now),
            f"thumbprint {leaf.thumbprint}",
            node.tls_version,
            _ms(node.total_time),
        ]
        return head + " -- " + "; ".join(d for d in details if d)
