"""The rows of Kerberos and ``--auth`` (design: Kerberos), as a pure function.

What goes wrong with the poller's own credential or its KDC (unreachable within the deadline, no
KDC for the realm, a stale keytab or a wrong password, python-gssapi missing) is UNKNOWN: the
array is not at fault.  What the array causes is CRITICAL naming the node: the KDC has no
``HTTP/<namespace>`` (the SPN is not on the Alternate Service Account), a node cannot decrypt
the ticket (it does not hold the ASA's current key), a node's clock apart from the KDC's, a
mutual-authentication token that does not verify, and a node that does not offer the mechanism
``--auth`` pins (Kerberos, NTLM, Basic), or refuses NTLM under ``--auth ntlm``.
"""

from __future__ import annotations

from nagiosplugin.state import Critical, Unknown

from ..facts.logon import REFUSED, Authentication
from . import findings as k
from .findings import Finding

# Kinds of problem (evidence "problem")
POLLER = frozenset(
    {
        "missing", "kdc-unreachable", "no-kdc", "client-unknown", "client-revoked",
        "password-expired", "preauth-failed", "no-credential", "failed",
    }
)  # fmt: skip
ARRAY = frozenset({"spn-unknown", "skew", "key", "node-skew", "mutual", "refused"})
NOT_OFFERED = ("kerberos-not-offered", "ntlm-not-offered", "basic-not-offered")
KEY_CODES = (31, 41, 44)
SKEW_CODES = (33, 37)


def state_of(problem: str) -> object:
    """UNKNOWN for the poller's own configuration, CRITICAL for the array's."""
    return Unknown if problem in POLLER else Critical


def judge_kerberos(node: str, protocol: str, auth: Authentication) -> list[Finding] | None:
    """The finding of a Kerberos or ``--auth`` matter on one node; None when there is none."""
    ev: dict[str, object] = {"protocol": protocol, "spn": auth.spn, "code": auth.krb_code}
    problem = ""
    if auth.detail in NOT_OFFERED:
        problem = auth.detail
        ev["offered"] = list(auth.offered)
    elif auth.detail.startswith("krb-"):
        problem = auth.detail[4:]
    elif auth.scheme == "Kerberos" and auth.outcome == REFUSED:
        if auth.krb_code in KEY_CODES:
            problem = "key"
        elif auth.krb_code in SKEW_CODES:
            problem = "node-skew"
    elif (
        auth.mode == "ntlm"
        and not auth.accepted
        and (auth.outcome == REFUSED or auth.detail == "no-challenge")
        and "ntlm" not in {s.lower() for s in auth.offered}
    ):  # a Kerberos-only node answers NTLM's first leg with a bare "Negotiate"
        problem = "ntlm-refused"
        ev["offered"] = list(auth.offered)
    if not problem:
        return None
    ev["problem"] = problem
    state = Critical if problem in NOT_OFFERED or problem == "ntlm-refused" else state_of(problem)
    return [Finding(k.LOGON_KERBEROS, state, node, ev)]
