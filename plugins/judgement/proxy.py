"""The ``--proxy`` rows of the states table, as pure functions of the proxy's facts.

The proxy unreachable, refusing the credentials (407 after authenticating, or no credentials
for a proxy that wants them) or refusing CONNECT to the port (403, 405, any other refusal):
UNKNOWN, about the proxy, since nothing is known about the array.  A 502/503/504 to the CONNECT
for a node: CRITICAL for that node, unreachable through the proxy; so is a CONNECT the proxy
did not answer within the deadline (it was still waiting for the node).
"""

from __future__ import annotations

from nagiosplugin.state import Critical, Unknown

from ..facts import NodeFacts
from ..facts import proxy as tunnels
from ..facts.proxy import ProxyFacts
from . import findings as k
from .findings import Finding

_OF_PROXY = {
    tunnels.UNREACHABLE: k.PROXY_UNREACHABLE,
    tunnels.AUTH: k.PROXY_AUTH,
    tunnels.REFUSED: k.PROXY_REFUSED,
}


def judge_proxy(facts: ProxyFacts) -> list[Finding]:
    """One UNKNOWN finding per way the proxy itself failed (its first tunnel of that kind)."""
    found: list[Finding] = []
    kinds: set[str] = set()
    for tunnel in facts.tunnels:
        kind = _OF_PROXY.get(tunnel.kind)
        if kind is None or kind in kinds:
            continue
        kinds.add(kind)
        evidence = {
            "proxy": facts.proxy,
            "target": tunnel.target,
            "status": tunnel.status,
            "detail": tunnel.detail,
            "scheme": tunnel.scheme,
            "user": facts.user,
            "count": sum(1 for t in facts.tunnels if t.kind == tunnel.kind),
        }
        found.append(Finding(kind, Unknown, None, evidence))
    return found


def judge_tunnel(node: NodeFacts) -> Finding:
    """A node whose connection failed at the proxy: CRITICAL when the proxy could not reach it,
    UNKNOWN (not probed) when the proxy itself failed."""
    evidence = {"status": node.detail}
    if node.failure == tunnels.GATEWAY:
        return Finding(k.PROXY_GATEWAY, Critical, node.address, evidence)
    if node.failure == tunnels.TIMEOUT:
        return Finding(k.PROXY_TIMEOUT, Critical, node.address, evidence)
    return Finding(k.PROXY_BLOCKED, Unknown, node.address, {**evidence, "failure": node.failure})
