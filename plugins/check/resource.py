"""The nagiosplugin Resource: the stages of one check, in order, each handed what it needs.

Autodiscover (when asked) -> the host and addresses -> one TLS probe per address, concurrently
-> the RPC proxy of every node (when asked) -> the CRLs and OCSP answers of every chain sent
(``--revocation``); with ``--proxy``, the tunnels the proxy opened.  What it learned goes to
the judgement as one :class:`~outlook_anywhere.judgement.CheckFacts`, failures included, with
the performance data that needs no judgement.  It decides no state.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import nagiosplugin

from ..facts import CheckFacts, NodeFacts
from ..probes import addresses
from ..probes.tls import TrustStore, probe_all
from ..transport import Deadline

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from ..autodiscover.lookup import Request as AutodiscoverRequest
    from ..facts.http import AutodiscoverFacts
    from ..probes.revocation import Settings
    from ..transport.proxy import Proxy


class Target:
    """What to probe (a plain class: see ``facts.NodeFacts``)."""

    def __init__(
        self,
        host: str | None,
        port: int,
        given: list[str],
        dns_server: tuple[str, int] | None,
        ipv4: bool,
        ipv6: bool,
        autodiscover: AutodiscoverRequest | None = None,
        rpc: bool = False,
        revocation: Settings | None = None,
        proxy: Proxy | None = None,
    ) -> None:
        self.host = host  # None: the Server that Autodiscover publishes
        self.port = port
        self.given = given  # -I
        self.dns_server = dns_server
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.autodiscover = autodiscover
        self.rpc = rpc
        self.revocation = revocation  # --revocation: how its URLs are resolved, the anchors
        # --proxy: already every connection's way out (transport.PROXY); its tunnels are facts
        self.proxy = proxy


def perf_label(address: str) -> str:
    """``days_left_127_0_0_1``: no dots or colons, so Graphite keeps the label flat."""
    return "days_left_" + address.replace(".", "_").replace(":", "_")


class OutlookAnywhere(nagiosplugin.Resource):
    """Every Client Access node behind the Outlook Anywhere host name."""

    def __init__(self, target: Target, store: TrustStore, deadline: Deadline) -> None:
        self.target = target
        self.store = store
        self.deadline = deadline

    @property
    def name(self) -> str:
        return "OUTLOOK_ANYWHERE"

    def probe(self) -> Iterator[nagiosplugin.Metric]:
        t = self.target
        now = time.time()  # the one clock every date of this check is judged by
        published = self._autodiscover() if t.autodiscover is not None else None
        host = t.host
        if host is None and published is not None:
            from ..judgement.autodiscover import expr_server

            host = expr_server(published)
        resolution = None
        nodes: list[NodeFacts] = []
        if host is not None:
            if t.given:
                resolution = addresses.given(host, t.given, t.ipv4, t.ipv6)
            else:
                resolution = addresses.resolve(host, self.deadline, t.ipv4, t.ipv6, t.dns_server)
            sni = None if addresses.packed(host) is not None else host
            nodes = probe_all(resolution.addresses, t.port, sni, self.store, self.deadline)
        rpc = None
        if t.rpc and host is not None:
            from ..probes import rpcproxy

            rpc = rpcproxy.probe_all(tuple(n.address for n in nodes), t.port, host, self.deadline)
        revocation = None
        if t.revocation is not None:
            from ..probes import revocation as lookup

            revocation = lookup.check(nodes, t.revocation, self.deadline)
        proxy = t.proxy.facts if t.proxy is not None else None
        facts = CheckFacts(
            now, host, resolution, nodes, published, rpc, revocation=revocation, proxy=proxy
        )
        yield nagiosplugin.Metric("findings", facts, context="findings")
        yield from _perfdata(facts)

    def _autodiscover(self) -> AutodiscoverFacts:
        from ..autodiscover.lookup import budget, discover

        assert self.target.autodiscover is not None
        return discover(self.target.autodiscover, budget(self.deadline))


def _perfdata(facts: CheckFacts) -> Iterator[nagiosplugin.Metric]:
    """Measured values only: what could not be measured is left out, never ``U``."""
    nodes, now = facts.nodes, facts.now
    seen = [n for n in nodes if n.leaf is not None and not n.failure]
    days = {n.address: round(n.leaf.days_left(now), 1) for n in seen if n.leaf}
    if days:
        yield nagiosplugin.Metric("days_left", min(days.values()), context="days_left")
    cas = [round(c.days_left(now), 1) for n in seen for c in n.chain[1:]]
    if cas:
        yield nagiosplugin.Metric("ca_days_left", min(cas), context="days_left")
    times = [n.total_time for n in seen if n.total_time is not None]
    if times:
        yield nagiosplugin.Metric("time", round(max(times), 4), "s", 0, context="time")
    yield nagiosplugin.Metric("nodes", len(nodes), min=0, context="nodes")
    if len(nodes) > 1:
        for address, value in days.items():
            yield nagiosplugin.Metric(perf_label(address), value, context="days_left")
    if facts.autodiscover is not None:
        elapsed = round(facts.autodiscover.elapsed, 4)
        yield nagiosplugin.Metric("autodiscover_time", elapsed, "s", 0, context="time")
    if facts.rpc:
        rpc_times = [r.elapsed for r in facts.rpc if r.elapsed is not None]
        if rpc_times:
            yield nagiosplugin.Metric("rpc_time", round(max(rpc_times), 4), "s", 0, context="time")
    if facts.revocation is not None:
        updates = facts.revocation.crl_next_updates()
        if updates:
            hours = round((min(updates) - now) / 3600.0, 1)
            yield nagiosplugin.Metric("crl_hours_left", hours, context="crl_hours_left")
