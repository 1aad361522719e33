"""The words of the RPC proxy (``judgement.rpc``, ``--rpc``): what ``rpcproxy.dll`` answered
without credentials, as a finding and as the node's part of the long output."""

from __future__ import annotations

from ...judgement import findings as k
from .shared import ms_text, shown, wire


def rpcproxy(ev: dict[str, object], limit: int) -> str:
    return "rpcproxy.dll " + _rpc_what(ev, limit)


def _rpc_what(ev: dict[str, object], limit: int) -> str:
    kind = ev["kind"]
    status = wire(ev.get("status", ""), limit)
    if kind == k.RPC_UNREACHABLE:
        return shown(ev.get("detail", ""), limit)
    if kind == k.RPC_NO_SCHEME:
        return "answered 401 without any WWW-Authenticate scheme"
    if kind == k.RPC_MISSING_SCHEME:
        missing, offered = ev["missing"], ev["offered"]
        assert isinstance(missing, (list, tuple)) and isinstance(offered, (list, tuple))
        return (
            f"does not offer {', '.join(missing)}"
            f" (offers {', '.join(wire(s, 40) for s in offered)})"
        )
    if kind == k.RPC_ANONYMOUS:
        return "answered 200 without authentication (anonymous access enabled)"
    if kind == k.RPC_REDIRECT:
        target = ev.get("location")
        return f"answered {status}: unexpected redirect" + (
            f" to {wire(target, limit)}" if target else ""
        )
    if kind == k.RPC_NOT_INSTALLED:
        return f"answered {status}: the RPC proxy is not installed"
    if kind == k.RPC_FORBIDDEN:
        return f"answered {status}: access forbidden"
    if ev.get("rpc_error"):
        return f"answered {status} (RPC proxy failure)"
    return f"answered {status}"


def rpc_text(facts: object) -> str:
    """What one node's RPC proxy answered, for its long-output line."""
    from ...facts.http import RpcFacts

    assert isinstance(facts, RpcFacts)
    parts = []
    if facts.status is not None:
        parts.append(f"rpcproxy.dll {facts.status} {wire(facts.reason, 80)}".strip())
    if facts.schemes:
        parts.append(f"schemes {', '.join(wire(s, 40) for s in facts.schemes)}")
    if facts.server_name:
        parts.append(f"server {wire(facts.server_name)}")
    if facts.fe_server:
        parts.append(f"X-FEServer {wire(facts.fe_server)}")
    if facts.elapsed is not None:
        parts.append(ms_text(facts.elapsed))
    return "; ".join(parts)
