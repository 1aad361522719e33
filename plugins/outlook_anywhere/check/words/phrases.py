"""The phrase of each finding kind, and who a finding is about.

Each kind is worded in the room named after the judgement module that decides it
(``judgement/logon.py`` decides, ``words/logon.py`` says); a certificate's names and dates, which
``judgement/verdict.py`` judges by ``judgement/principal.py``'s rules, are worded in
``words/principal.py``.  The table below names the room and the function.  A room is imported the
first time it words a finding: a check that did not run an optional part (Kerberos, revocation,
the proxy, the front doors...) never loads its words.
"""

from __future__ import annotations

from ...judgement import findings as k
from .shared import LONG, OF_PROXY, shown

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from ...judgement.findings import Finding

# kind -> (room, function): the function takes the evidence and the limit of a name's length
PHRASES: dict[str, tuple[str, str]] = {
    k.PRINCIPAL_MISMATCH: ("principal", "mismatch"),
    k.SAN_ONLY: ("principal", "san_only"),
    k.WILDCARD_ONLY: ("principal", "wildcard"),
    k.SEVERAL_CNS: ("principal", "several_cns"),
    k.EXPIRES_SOON: ("principal", "expires"),
    k.EXPIRED: ("principal", "expired"),
    k.NOT_YET_VALID: ("principal", "not_yet_valid"),
    k.UNTRUSTED: ("principal", "untrusted"),
    k.WEAK_KEY: ("principal", "weak_key"),
    k.WEAK_SIGNATURE: ("principal", "weak_signature"),
    k.OLD_PROTOCOL: ("principal", "old_protocol"),
    k.UNPARSABLE: ("principal", "unparsable"),
    k.NO_CERTIFICATE: ("principal", "no_certificate"),
    k.CONNECTION: ("verdict", "connection"),
    k.BROKEN_INSTALLATION: ("verdict", "broken"),
    k.DIFFERENT_CERTIFICATE: ("verdict", "different"),
    k.NO_ADDRESS: ("verdict", "no_address"),
    k.AUTODISCOVER_FAILED: ("autodiscover", "failed"),
    k.NOT_PUBLISHED: ("autodiscover", "not_published"),
    k.UNPINNED: ("autodiscover", "unpinned"),
    k.SSL_OFF: ("autodiscover", "ssl_off"),
    k.NO_SERVER: ("autodiscover", "no_server"),
    k.PRINCIPAL_DISAGREES: ("autodiscover", "disagrees"),
    k.REVOKED: ("revocation", "revoked"),
    k.CRL_LAPSED: ("revocation", "crl_lapsed"),
    k.CRL_EXPIRING: ("revocation", "crl_expiring"),
    k.NO_REVOCATION_SOURCE: ("revocation", "no_revocation_source"),
    k.REVOCATION_UNAVAILABLE: ("revocation", "revocation_unavailable"),
    k.REVOCATION_BAD_SIGNATURE: ("revocation", "revocation_bad_signature"),
    k.INTERMEDIATE_SUPPLIED: ("revocation", "intermediate_supplied"),
    **{kind: ("proxy", "proxy") for kind in OF_PROXY},
    k.PROXY_GATEWAY: ("proxy", "through_proxy"),
    k.PROXY_TIMEOUT: ("proxy", "through_proxy"),
    k.PROXY_BLOCKED: ("proxy", "through_proxy"),
    **{
        kind: ("rpc", "rpcproxy")
        for kind in (
            k.RPC_UNREACHABLE,
            k.RPC_NO_SCHEME,
            k.RPC_MISSING_SCHEME,
            k.RPC_ANONYMOUS,
            k.RPC_REDIRECT,
            k.RPC_NOT_INSTALLED,
            k.RPC_FORBIDDEN,
            k.RPC_FAILURE,
        )
    },
    **{
        kind: ("logon", "mapi")
        for kind in (
            k.MAPI_HEALTH,
            k.MAPI_UNREACHABLE,
            k.MAPI_NO_SCHEME,
            k.MAPI_MISSING_SCHEME,
            k.MAPI_FAILURE,
        )
    },
    **{
        kind: ("logon", "logon")
        for kind in (
            k.LOGON_NO_SERVER,
            k.LOGON_BINDING_REFUSED,
            k.LOGON_UNBOUND,
            k.LOGON_REFUSED,
            k.LOGON_FAILED,
            k.LOGON_NO_SCHEME,
        )
    },
    k.LOGON_NTLM_MISSING: ("logon", "module_missing"),
    k.LOGON_KERBEROS: ("kerberos", "kerberos"),
    k.ECHO_FAILED: ("logon", "echo"),
    k.ENDPOINT_FAILED: ("logon", "endpoint"),
    k.PING_FAILED: ("logon", "ping"),
    **{
        kind: ("logon", "mailbox")
        for kind in (
            k.LOGON_CUT_OFF,
            k.LOGON_STEP_FAILED,
            k.LOGON_NO_LEGACY_DN,
            k.LOGON_NO_MAILBOX,
            k.MAILBOX_LOGON_FAILED,
        )
    },
    k.AUTH_EXPIRED: ("frontdoors", "auth_expired"),
    k.AUTH_EXPIRES_SOON: ("frontdoors", "auth_expires"),
    k.AUTH_DIFFERENT: ("frontdoors", "auth_different"),
    k.AUTH_UNAVAILABLE: ("frontdoors", "auth_unavailable"),
    k.HEALTH_DOWN: ("frontdoors", "health_down"),
    k.HEALTH_DOWN_EVERYWHERE: ("frontdoors", "health_everywhere"),
    k.BUILD_BEHIND: ("frontdoors", "build_behind"),
    k.BUILD_BELOW: ("frontdoors", "build_below"),
    k.BUILD_UNKNOWN: ("frontdoors", "build_unknown"),
}


def phrase(finding: Finding, limit: int = LONG) -> str:
    """What is wrong, without its subject or fix: the same words on the first line and below."""
    ev = finding.evidence
    if finding.kind.startswith(("rpc-", "mapi-", "logon-", "proxy-", "mailbox-")):
        ev = {**ev, "kind": finding.kind}
    # importlib itself only now: a check without a finding never loads it
    from importlib import import_module

    room, name = PHRASES[finding.kind]
    said = getattr(import_module(f"{__package__}.{room}"), name)
    return said(ev, limit)


def subject(finding: Finding, limit: int = LONG) -> str:
    """Who the finding is about: a node's address, the host name (DNS), or nothing."""
    if finding.node is not None:
        return finding.node
    if finding.kind == k.NO_ADDRESS:
        return shown(finding.evidence["host"], limit)
    if finding.kind in OF_PROXY:
        return f"proxy {shown(finding.evidence['proxy'], limit)}"
    return ""
