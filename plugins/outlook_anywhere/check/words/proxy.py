"""The words of ``--proxy`` (``judgement.proxy``): the proxy's own failure (then nothing is known
about the array), a node the proxy did not reach or open a tunnel to, and the proxy's line of the
long output."""

from __future__ import annotations

from ...judgement import findings as k
from .shared import shown, wire

_NOTHING_KNOWN = ", so nothing is known about the array"


def proxy(ev: dict[str, object], limit: int) -> str:
    kind, detail = ev["kind"], wire(ev.get("detail", ""), limit)
    status = wire(ev.get("status", ""), limit)
    if kind == k.PROXY_REFUSED:
        what = f"refused CONNECT to {shown(ev['target'], limit)} ({status or detail})"
    elif kind == k.PROXY_AUTH:
        what = detail or "wants authentication"
    else:  # unreachable, or not speaking HTTP: the evidence says which
        what = detail or "unreachable"
    return what + _NOTHING_KNOWN


def through_proxy(ev: dict[str, object], limit: int) -> str:
    kind, status = ev["kind"], wire(ev.get("status", ""), limit)
    if kind == k.PROXY_GATEWAY:
        return f"unreachable through the proxy ({status})"
    if kind == k.PROXY_TIMEOUT:
        return "unreachable through the proxy: no answer to CONNECT within the deadline"
    failure = ev.get("failure")
    if failure == "proxy-refused":
        return f"not probed: the proxy refused CONNECT ({status})"
    if failure == "proxy-auth":
        return "not probed: no proxy authentication"
    return "not probed: no tunnel through the proxy"


def proxy_text(facts: object) -> str:
    """The proxy's long-output line: the tunnels it opened, and how the check authenticated."""
    from ...facts.proxy import ProxyFacts

    assert isinstance(facts, ProxyFacts)
    opened = [t for t in facts.tunnels if not t.kind]
    parts = [f"{len(opened)}/{len(facts.tunnels)} tunnels opened (CONNECT)"]
    schemes = dict.fromkeys(t.scheme for t in facts.tunnels if t.scheme)
    if schemes:
        parts.append(f"{', '.join(schemes)} as {shown(facts.user)}")
    else:
        parts.append("no proxy authentication")
    return "; ".join(parts)
