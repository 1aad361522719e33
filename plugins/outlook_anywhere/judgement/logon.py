"""The rows of MAPI over HTTP (``--mapi``) and of logging on (``--logon``), as pure functions.

Every finding names its node, so it counts against that node in ``[k/n nodes OK]``.  Extended
Protection is told apart by the one retry without binding: accepted with the binding is
healthy; refused with it and accepted without it means the node binds another certificate than
it presents (a TLS-offloading device), which makes Outlook on current Windows prompt for
credentials; refused both ways is the account.
"""

from __future__ import annotations

from nagiosplugin.state import Critical, Unknown, Warn

from ..facts.logon import (
    ACCEPTED,
    FAILED,
    REACHED,
    REFUSED,
    Authentication,
    LogonFacts,
    MapiLogon,
    MapiProbe,
    RpcLogon,
)
from . import findings as k
from .findings import Finding
from .kerberos import judge_kerberos

# --extended-protection
EP_OFF = "off"
EP_ACCEPT = "accept"
EP_REQUIRE = "require"


def judge_mapi(facts: MapiProbe, expected: tuple[str, ...]) -> list[Finding]:
    """MAPI over HTTP without credentials: the health check answers 200, ``/mapi/emsmdb/`` 401
    with the schemes of ``--expect-auth``."""
    at = facts.address
    found: list[Finding] = []
    if facts.health is not None and facts.health != 200:
        status = f"{facts.health} {facts.health_reason}".strip()
        found.append(Finding(k.MAPI_HEALTH, Critical, at, {"status": status}))
    if facts.error:
        return [*found, Finding(k.MAPI_UNREACHABLE, Critical, at, {"detail": facts.error})]
    if facts.status == 401:
        offered = {s.lower() for s in facts.schemes}
        if not facts.schemes:
            return [*found, Finding(k.MAPI_NO_SCHEME, Warn, at)]
        missing = [s for s in expected if s.lower() not in offered]
        if missing:
            evidence: dict[str, object] = {"missing": missing, "offered": list(facts.schemes)}
            return [*found, Finding(k.MAPI_MISSING_SCHEME, Warn, at, evidence)]
        return found
    status = f"{facts.status} {facts.reason}".strip()
    state = Warn if facts.status == 200 else Critical
    return [*found, Finding(k.MAPI_FAILURE, state, at, {"status": status, "code": facts.status})]


def judge_authentication(
    node: str, protocol: str, auth: Authentication, extended_protection: str
) -> list[Finding]:
    """One node's logon for one protocol; an empty list when it is healthy or was not tried."""
    ev: dict[str, object] = {"protocol": protocol, "scheme": auth.scheme}
    kerberos = judge_kerberos(node, protocol, auth)
    if kerberos is not None:
        return kerberos
    if auth.detail == "ntlm-missing":
        return [Finding(k.LOGON_NTLM_MISSING, Unknown, node, ev)]
    if auth.detail == "no-scheme":
        ev["offered"] = list(auth.offered)
        return [Finding(k.LOGON_NO_SCHEME, Critical, node, ev)]
    if auth.outcome == FAILED:
        ev["detail"] = auth.detail
        return [Finding(k.LOGON_FAILED, Critical, node, ev)]
    if auth.outcome == ACCEPTED:
        if extended_protection != EP_REQUIRE:
            return []
        if not auth.binding_sent:  # Basic: no binding possible
            return [Finding(k.LOGON_UNBOUND, Warn, node, {**ev, "basic": True})]
        if auth.unbound_outcome == ACCEPTED:
            return [Finding(k.LOGON_UNBOUND, Warn, node, {**ev, "basic": False})]
        return []
    if auth.outcome != REFUSED:
        return []  # not tried: the node's connection finding says why
    if auth.binding_sent and auth.retry_outcome == ACCEPTED:
        if extended_protection == EP_OFF:
            return []
        return [Finding(k.LOGON_BINDING_REFUSED, Critical, node, ev)]
    if auth.binding_sent and auth.retry_outcome == FAILED:
        ev["detail"] = auth.detail
        return [Finding(k.LOGON_FAILED, Critical, node, ev)]
    return [Finding(k.LOGON_REFUSED, Critical, node, ev)]


def _cut_off(at: str, protocol: str, step: str, found: list[Finding]) -> list[Finding]:
    """A logon the deadline ended: CRITICAL naming the step, never OK and never "not tried";
    the authentication's own "no answer in time" is this same fact, said once."""
    kept = [x for x in found if x.kind != k.LOGON_FAILED]
    return [*kept, Finding(k.LOGON_CUT_OFF, Critical, at, {"protocol": protocol, "step": step})]


def judge_rpc_logon(facts: RpcLogon, extended_protection: str) -> list[Finding]:
    at = facts.address
    found = judge_authentication(at, "RPC", facts.auth, extended_protection)
    if facts.cut_off and not facts.endpoints:
        return _cut_off(at, "RPC", facts.cut_off, found)
    if not facts.auth.accepted:
        return found
    if facts.echo == "status":
        status = f"{facts.status} {facts.reason}".strip()
        return [*found, Finding(k.ECHO_FAILED, Critical, at, {"status": status})]
    if facts.echo == "garbage":
        return [*found, Finding(k.ECHO_FAILED, Critical, at, {"detail": facts.echo_detail})]
    for endpoint in facts.endpoints:
        if endpoint.outcome == REACHED:
            continue
        evidence = {
            "port": endpoint.port,
            "outcome": endpoint.outcome,
            "code": endpoint.code,
            "status": f"{endpoint.status} {endpoint.reason}".strip() if endpoint.status else "",
            "detail": endpoint.detail,
            "pdus": list(endpoint.pdus),
        }
        found.append(Finding(k.ENDPOINT_FAILED, Critical, at, evidence))
    return found


def judge_mapi_logon(facts: MapiLogon, extended_protection: str) -> list[Finding]:
    """The mailbox logon: Connect accepted (StatusCode and ErrorCode 0), then the PING in its
    session answered X-ResponseCode 0."""
    at = facts.address
    found = judge_authentication(at, "MAPI", facts.auth, extended_protection)
    if facts.cut_off:
        return _cut_off(at, "MAPI", facts.cut_off, found)
    if not facts.auth.accepted:
        return found
    if facts.error:
        failed = {"protocol": "MAPI", "step": facts.request or "Connect", "detail": facts.error}
        return [*found, Finding(k.LOGON_STEP_FAILED, Critical, at, failed)]
    if facts.status is None:
        return found
    status = f"{facts.status} {facts.reason}".strip()
    if facts.request == "Connect" and not facts.logged_on:
        evidence: dict[str, object] = {
            "status": status,
            "code": facts.response_code,
            "status_code": facts.status_code,
            "error_code": facts.error_code,
        }
        return [*found, Finding(k.MAILBOX_LOGON_FAILED, Critical, at, evidence)]
    if facts.status == 200 and facts.response_code == "0":
        return found
    evidence = {"status": status, "code": facts.response_code}
    return [*found, Finding(k.PING_FAILED, Critical, at, evidence)]


def judge_logon(facts: LogonFacts, extended_protection: str) -> list[Finding]:
    """Every node's logons.  Not attempted because Autodiscover refused the credentials: the
    Autodiscover finding says so, nothing here."""
    found: list[Finding] = []
    if facts.rpc_skipped == "no-server":
        found.append(Finding(k.LOGON_NO_SERVER, Critical, None, {"server": facts.server}))
    if facts.mapi_skipped == "no-mailbox":
        found.append(Finding(k.LOGON_NO_MAILBOX, Critical, None, {"mailbox": facts.mailbox}))
    if facts.mapi_skipped == "no-legacy-dn":
        evidence = {"legacy_dn": facts.legacy_dn} if facts.legacy_dn else {}
        found.append(Finding(k.LOGON_NO_LEGACY_DN, Critical, None, evidence))
    for rpc in facts.rpc or []:
        found += judge_rpc_logon(rpc, extended_protection)
    for mapi in facts.mapi or []:
        found += judge_mapi_logon(mapi, extended_protection)
    return one_per_cause(found)


def one_per_cause(found: list[Finding]) -> list[Finding]:
    """A missing optional module is this poller's installation, not any node's: one finding
    for the check (naming the protocols that needed it), however many nodes and protocols met
    it, and it counts against no node."""
    missing = [f for f in found if f.kind == k.LOGON_NTLM_MISSING]
    if not missing:
        return found
    protocols = list(dict.fromkeys(str(f.evidence.get("protocol", "")) for f in missing))
    nodes = len({f.node for f in missing})
    evidence: dict[str, object] = {"module": "pyspnego", "protocols": protocols, "nodes": nodes}
    rest = [f for f in found if f.kind != k.LOGON_NTLM_MISSING]
    return [Finding(k.LOGON_NTLM_MISSING, Unknown, None, evidence), *rest]
