"""The ``--proxy`` rows of the states table, as pure functions of the proxy's facts.

The proxy unreachable, refusing the credentials (407 after authenticating, or no credentials
for a proxy that wants them) or refusing CONNECT to the array's port (403, 405, any other
refusal): UNKNOWN, about the proxy, since nothing is known about the array.  A 502/503/504 to
the CONNECT for a node: CRITICAL for that node, unreachable through the proxy; so is a CONNECT
the proxy did not answer within the deadline (it was still waiting for the node).
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


def judge_proxy(facts: ProxyFacts, nodes: list[tuple[str, int]] | None = None) -> list[Finding]:
    """One UNKNOWN finding per way the proxy itself failed, naming its first tunnel of that kind
    in the nodes' order (``nodes``: their (address, port), the array's tunnels).

    Unreachable and refusing the credentials are the proxy's failures whatever the tunnel was
    for.  A refused CONNECT is when the tunnel was a node's, or when the proxy opened none: a
    proxy that refuses only another port (80, for a CRL or Autodiscover's redirect step) still
    lets the array be judged, and that probe's own finding says what the proxy refused."""
    order = {_target(address, port): i for i, (address, port) in enumerate(nodes or [])}
    opened = any(not t.kind for t in facts.tunnels)
    found: list[Finding] = []
    for kind in (tunnels.UNREACHABLE, tunnels.AUTH, tunnels.REFUSED):
        failed = [t for t in facts.tunnels if t.kind == kind]
        if kind == tunnels.REFUSED and opened:
            failed = [t for t in failed if t.target in order]
        if not failed:
            continue
        tunnel = min(failed, key=lambda t: (order.get(t.target, len(order)), t.target))
        evidence = {
            "proxy": facts.proxy,
            "target": tunnel.target,
            "status": tunnel.status,
            "detail": tunnel.detail,
            "scheme": tunnel.scheme,
            "user": facts.user,
            "count": len(failed),
        }
        found.append(Finding(_OF_PROXY[kind], Unknown, None, evidence))
    return found


def _target(address: str, port: int) -> str:
    """A node's tunnel target as the proxy is asked for it: ``[IPv6]:port`` in brackets."""
    return f"[{address}]:{port}" if ":" in address else f"{address}:{port}"


def judge_tunnel(node: NodeFacts) -> Finding:
    """A node whose connection failed at the proxy: CRITICAL when the proxy could not reach it,
    UNKNOWN (not probed) when the proxy itself failed."""
    evidence = {"status": node.detail}
    if node.failure == tunnels.GATEWAY:
        return Finding(k.PROXY_GATEWAY, Critical, node.address, evidence)
    if node.failure == tunnels.TIMEOUT:
        return Finding(k.PROXY_TIMEOUT, Critical, node.address, evidence)
    return Finding(k.PROXY_BLOCKED, Unknown, node.address, {**evidence, "failure": node.failure})
