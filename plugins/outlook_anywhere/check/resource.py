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

from ..facts import CheckFacts, NodeFacts, Resolution
from ..probes import addresses
from ..probes.tls import TrustStore, probe_all
from ..transport import Deadline

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from ..autodiscover.request import Request as AutodiscoverRequest
    from ..facts.frontdoors import FrontDoorFacts
    from ..facts.http import AutodiscoverFacts
    from ..facts.logon import LogonFacts
    from ..probes.frontdoors import Asked
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
        mapi: bool = False,
        logon: bool = False,
        extended_protection: str = "accept",
        revocation: Settings | None = None,
        proxy: Proxy | None = None,
        frontdoors: Asked | None = None,
    ) -> None:
        self.host = host  # None: the Server that Autodiscover publishes
        self.port = port
        self.given = given  # -I
        self.dns_server = dns_server
        self.ipv4 = ipv4
        self.ipv6 = ipv6
        self.autodiscover = autodiscover
        self.rpc = rpc
        self.mapi = mapi  # --mapi
        self.logon = logon  # --logon: with the Autodiscover credentials
        self.extended_protection = extended_protection  # off | accept | require
        self.revocation = revocation  # --revocation: how its URLs are resolved, the anchors
        # --proxy: already every connection's way out (transport.PROXY); its tunnels are facts
        self.proxy = proxy
        self.frontdoors = frontdoors  # --auth-certificate, --health, --build


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
        mapi = None
        if t.mapi and host is not None:
            from ..probes import mapi as mapi_probe

            served = tuple(n.address for n in nodes)
            mapi = mapi_probe.probe_all(served, t.port, host, self.deadline)
        logon = None
        if t.logon:
            logon = self._logon(published, nodes, host)
        revocation = None
        if t.revocation is not None:
            from ..probes import revocation as lookup

            revocation = lookup.check(nodes, t.revocation, self.deadline)
        doors = None
        if t.frontdoors is not None and host is not None:
            from ..probes import frontdoors

            served = tuple(n.address for n in nodes if not n.failure)
            doors = frontdoors.probe_all(served, t.port, host, t.frontdoors, self.deadline)
        proxy = t.proxy.facts if t.proxy is not None else None
        facts = CheckFacts(
            now,
            host,
            resolution,
            nodes,
            published,
            rpc,
            mapi,
            logon,
            revocation=revocation,
            proxy=proxy,
            frontdoors=doors,
        )
        yield nagiosplugin.Metric("findings", facts, context="findings")
        yield from _perfdata(facts)

    def _autodiscover(self) -> AutodiscoverFacts:
        from ..autodiscover.lookup import budget, discover

        assert self.target.autodiscover is not None
        return discover(self.target.autodiscover, budget(self.deadline), _dns_failure)

    def _logon(
        self, published: AutodiscoverFacts | None, nodes: list[NodeFacts], host: str | None
    ) -> LogonFacts:
        """Log on to every node that completed a TLS handshake, only once Autodiscover accepted
        the credentials (a wrong password costs one failed logon per check, not one per node)."""
        from ..facts.logon import LogonFacts
        from ..probes import logon
        from ..probes.logon_mapi import mailbox_id

        t = self.target
        request = t.autodiscover
        document = published.document if published is not None else None
        if request is None or published is None or published.error_kind or document is None:
            return LogonFacts(skipped="autodiscover")
        exch = document.provider("EXCH")
        server = exch.server if exch is not None else ""
        facts = LogonFacts(server=server, mailbox=server, legacy_dn=document.legacy_dn)
        if t.rpc and not logon.usable_server(server):
            facts.rpc_skipped = "no-server"
        if t.mapi:
            facts.mailbox = mailbox_id(document.mapi_mailstore) or server
            if not logon.usable_server(facts.mailbox):
                facts.mapi_skipped = "no-mailbox"
            elif not document.legacy_dn or not document.legacy_dn.isascii():
                facts.mapi_skipped = "no-legacy-dn"
        rpc, mapi = t.rpc and not facts.rpc_skipped, t.mapi and not facts.mapi_skipped
        if not (rpc or mapi):  # each protocol asked for says why it was not tried
            return facts
        reachable = tuple(n.address for n in nodes if not n.failure and n.leaf is not None)
        if not reachable or host is None:
            facts.skipped = "no-node"
            return facts
        credentials = request.credentials
        account = logon.Account(
            credentials.username or request.email,
            credentials.password,
            credentials.mode,
            credentials.kerberos,
        )
        logon.logon_all(
            reachable,
            t.port,
            host,
            account,
            facts,
            rpc=rpc,
            mapi=mapi,
            ca_file=request.ca_file,
            deadline=self.deadline,
            mapi_url=document.mapi_mailstore,
            unbound=t.extended_protection == "require",
        )
        return facts


def _dns_failure(resolution: Resolution) -> str:
    """How a DNS failure of the Autodiscover lookup reads: the words' own sentence, handed to the
    lookup (which sits below the words), and their room loaded only when a name has no address."""
    from .words.verdict import resolution_failure

    return resolution_failure(resolution)


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
    if facts.mapi:
        mapi_times = [m.elapsed for m in facts.mapi if m.elapsed is not None]
        if mapi_times:
            slowest = round(max(mapi_times), 4)
            yield nagiosplugin.Metric("mapi_time", slowest, "s", 0, context="time")
    if facts.logon is not None:
        yield from _logon_perfdata(facts.logon)
    if facts.revocation is not None:
        updates = facts.revocation.crl_next_updates()
        if updates:
            hours = round((min(updates) - now) / 3600.0, 1)
            yield nagiosplugin.Metric("crl_hours_left", hours, context="crl_hours_left")
    if facts.frontdoors is not None:
        yield from _frontdoor_perfdata(facts.frontdoors, now)


def _frontdoor_perfdata(doors: list[FrontDoorFacts], now: float) -> Iterator[nagiosplugin.Metric]:
    """auth_days_left: the node whose judged Auth certificate expires first; health_ok and
    health_checked: healthy and checked node x protocol pairs."""
    keys = [d.auth.latest() for d in doors if d.auth is not None]
    days = [round(key.days_left(now), 1) for key in keys if key is not None]
    if days:
        yield nagiosplugin.Metric("auth_days_left", min(days), context="auth_days_left")
    pages = [page for d in doors for page in d.health or []]
    if any(d.health is not None for d in doors):
        checked = len(pages)
        healthy = sum(1 for page in pages if page.ok)
        yield nagiosplugin.Metric("health_ok", healthy, min=0, max=checked, context="health")
        yield nagiosplugin.Metric("health_checked", checked, min=0, context="health")


def _logon_perfdata(logon: LogonFacts) -> Iterator[nagiosplugin.Metric]:
    """logon_time: the slowest node's accepted authentication; mailbox_logon_time: the slowest
    MAPI Connect that succeeded; rpc_endpoint_time: the slowest CONN/A1 -> CONN/C2."""
    auths = [r.auth for r in logon.rpc or []] + [m.auth for m in logon.mapi or []]
    times = [auth.elapsed for auth in auths if auth.elapsed is not None]
    if times:
        yield nagiosplugin.Metric("logon_time", round(max(times), 4), "s", 0, context="time")
    connected = [m.connect_elapsed for m in logon.mapi or [] if m.logged_on]
    if connected:
        slowest = round(max(t for t in connected if t is not None), 4)
        yield nagiosplugin.Metric("mailbox_logon_time", slowest, "s", 0, context="time")
    reached = [e.elapsed for r in logon.rpc or [] for e in r.endpoints if e.elapsed is not None]
    if reached:
        slowest = round(max(reached), 4)
        yield nagiosplugin.Metric("rpc_endpoint_time", slowest, "s", 0, context="time")
