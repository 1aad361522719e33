"""The RPC proxy rows of design.md's states table, as pure functions."""

from __future__ import annotations

from nagiosplugin.state import Critical, Warn

from .judgement import Finding
from .rpcproxy import RpcFacts


def judge_rpc(facts: RpcFacts, expected: tuple[str, ...]) -> list[Finding]:
    """``expected``: the schemes of --expect-auth (any case); an empty list means OK."""
    where = f"{facts.address}: rpcproxy.dll"
    if facts.error:
        return [Finding(Critical, f"{where}: {facts.error}")]
    status = f"{facts.status} {facts.reason}".strip()
    if facts.status == 401:
        offered = {s.lower() for s in facts.schemes}
        if not facts.schemes:
            return [Finding(Warn, f"{where} answered 401 without any WWW-Authenticate scheme")]
        missing = [s for s in expected if s.lower() not in offered]
        if missing:
            return [
                Finding(
                    Warn,
                    f"{where} does not offer {', '.join(missing)}"
                    f" (offers {', '.join(facts.schemes)})",
                )
            ]
        return []
    if facts.status == 200:
        return [
            Finding(Warn, f"{where} answered 200 without authentication (anonymous access enabled)")
        ]
    if facts.status is not None and 300 <= facts.status < 400:
        target = f" to {facts.location}" if facts.location else ""
        return [Finding(Critical, f"{where} answered {status}: unexpected redirect{target}")]
    if facts.status == 404:
        return [Finding(Critical, f"{where} answered {status}: the RPC proxy is not installed")]
    if facts.status == 403:
        return [Finding(Critical, f"{where} answered {status}: access forbidden")]
    if facts.rpc_error:
        return [Finding(Critical, f"{where} answered {status} (RPC proxy failure)")]
    return [Finding(Critical, f"{where} answered {status}")]


def describe(facts: RpcFacts) -> str:
    """The long-output text for one node (without its state)."""
    parts = []
    if facts.status is not None:
        parts.append(f"rpcproxy.dll {facts.status} {facts.reason}".strip())
    if facts.schemes:
        parts.append(f"schemes {', '.join(facts.schemes)}")
    if facts.server_name:
        parts.append(f"server {facts.server_name}")
    if facts.fe_server:
        parts.append(f"X-FEServer {facts.fe_server}")
    if facts.elapsed is not None:
        parts.append(f"{facts.elapsed * 1000:.0f} ms")
    return "; ".join(parts)
