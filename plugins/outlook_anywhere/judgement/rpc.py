"""The RPC proxy rows of the states table, as pure functions."""

from __future__ import annotations

from nagiosplugin.state import Critical, Warn

from ..facts.http import RpcFacts
from . import findings as k
from .findings import Finding


def judge_rpc(facts: RpcFacts, expected: tuple[str, ...]) -> list[Finding]:
    """``expected``: the schemes of --expect-auth (any case); an empty list means OK."""
    at = facts.address
    status = f"{facts.status} {facts.reason}".strip()
    if facts.error:
        return [Finding(k.RPC_UNREACHABLE, Critical, at, {"detail": facts.error})]
    if facts.status == 401:
        offered = {s.lower() for s in facts.schemes}
        if not facts.schemes:
            return [Finding(k.RPC_NO_SCHEME, Warn, at)]
        missing = [s for s in expected if s.lower() not in offered]
        if missing:
            evidence: dict[str, object] = {"missing": missing, "offered": list(facts.schemes)}
            return [Finding(k.RPC_MISSING_SCHEME, Warn, at, evidence)]
        return []
    if facts.status == 200:
        return [Finding(k.RPC_ANONYMOUS, Warn, at, {"status": status})]
    if facts.status is not None and 300 <= facts.status < 400:
        evidence = {"status": status, "location": facts.location}
        return [Finding(k.RPC_REDIRECT, Critical, at, evidence)]
    if facts.status == 404:
        return [Finding(k.RPC_NOT_INSTALLED, Critical, at, {"status": status})]
    if facts.status == 403:
        return [Finding(k.RPC_FORBIDDEN, Critical, at, {"status": status})]
    evidence = {"status": status, "rpc_error": facts.rpc_error}
    return [Finding(k.RPC_FAILURE, Critical, at, evidence)]
