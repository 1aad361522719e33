"""The nagiosplugin Resource: addresses -> one TLS probe per address -> metrics of plain facts.

It returns everything it learned, failures included; it decides no state.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import nagiosplugin

from . import addresses
from .deadline import Deadline
from .tlsprobe import NodeFacts, TrustStore, probe_all


class Target:
    """What to probe (a plain class: see ``tlsprobe.NodeFacts``)."""

    def __init__(
        self,
        host: str,
        port: int,
        given: list[str],
        dns_server: tuple[str, int] | None,
        ipv4: bool,
        ipv6: bool,
    ) -> None:
        self.host = host
        self.port = port
        self.given = given  # -I
        self.dns_server = dns_server
        self.ipv4 = ipv4
        self.ipv6 = ipv6


def perf_label(address: str) -> str:
    """``days_left_127_0_0_1``: no dots or colons, so Graphite keeps the label flat."""
    return "days_left_" + address.replace(".", "_").replace(":", "_")


class CasArray(nagiosplugin.Resource):
    """Every Client Access node behind the Outlook Anywhere host name."""

    def __init__(self, target: Target, store: TrustStore, deadline: Deadline) -> None:
        self.target = target
        self.store = store
        self.deadline = deadline
        self.now = time.time()
        self.resolution: addresses.Resolution | None = None
        self.nodes: list[NodeFacts] = []

    @property
    def name(self) -> str:
        return "OUTLOOK_ANYWHERE"

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        t = self.target
        if t.given:
            resolution = addresses.given(t.host, t.given, t.ipv4, t.ipv6)
        else:
            resolution = addresses.resolve(t.host, self.deadline, t.ipv4, t.ipv6, t.dns_server)
        self.resolution = resolution
        yield nagiosplugin.Metric("resolution", resolution, context="resolution")
        sni = t.host if not _is_ip(t.host) else None
        self.nodes = probe_all(resolution.addresses, t.port, sni, self.store, self.deadline)
        yield from self._metrics(self.nodes)

    def _metrics(self, nodes: list[NodeFacts]) -> Iterator[nagiosplugin.Metric]:
        for node in nodes:
            yield nagiosplugin.Metric(node.address, node, context="node")
        if len(nodes) > 1:
            yield nagiosplugin.Metric("fleet", nodes, context="fleet")
        days = {n.address: round(n.leaf.days_left(self.now), 1) for n in nodes if n.leaf}
        if days:
            yield nagiosplugin.Metric("days_left", min(days.values()), context="days_left")
        times = [n.total_time for n in nodes if n.leaf and n.total_time is not None]
        if times:
            yield nagiosplugin.Metric("time", round(max(times), 4), "s", 0, context="time")
        yield nagiosplugin.Metric("nodes", len(nodes), min=0, context="nodes")
        yield nagiosplugin.Metric("nodes_ok", nodes, context="nodes_ok")
        if len(nodes) > 1:
            for address, value in days.items():
                yield nagiosplugin.Metric(perf_label(address), value, context="days_left")


def _is_ip(host: str) -> bool:
    return addresses.packed(host) is not None
