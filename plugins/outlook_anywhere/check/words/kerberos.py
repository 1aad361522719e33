"""The words of Kerberos and ``--auth`` (``judgement.kerberos``): what went wrong with the
poller's credential, the KDC, a node's key or the clocks, with the fix; for a node's logon and
for Autodiscover's."""

from __future__ import annotations

from .shared import LONG, shown, wire

_KERBEROS = {
    "missing": "the Python module gssapi is not installed (apt install python3-gssapi on Debian,"
    " or pip install 'check_outlook_anywhere[kerberos]')",
    "kdc-unreachable": "the KDC did not answer within the deadline (Kerberos): check the realm's"
    " kdc in krb5.conf and that port 88 is open from the poller",
    "no-kdc": "no KDC for the realm (Kerberos): name it in krb5.conf or publish _kerberos SRV"
    " records",
    "client-unknown": "the KDC does not know the --username principal (Kerberos)",
    "client-revoked": "the KDC refuses the --username principal: disabled or locked out",
    "password-expired": "the --username principal's password has expired (Kerberos)",
    "preauth-failed": "the KDC refused the poller's credential (pre-authentication failed): a"
    " stale keytab (renew --keytab after a password change) or a wrong password",
    "no-credential": "no usable Kerberos credential: the keytab or KRB5CCNAME's ticket cache is"
    " missing, unreadable or expired",
    "failed": "Kerberos failed on the poller",
    "mutual": "the node's Kerberos mutual-authentication token does not verify",
    "refused": "the node refused the Kerberos ticket",
}


def kerberos_problem(problem: object, spn: object = "", code: object = None) -> str:
    """What went wrong with Kerberos, and the fix."""
    name = shown(spn, 80) or "HTTP/HOST"
    if problem == "spn-unknown":
        return (
            f"the KDC has no {name} (KDC_ERR_S_PRINCIPAL_UNKNOWN): register the SPN on the"
            f" Alternate Service Account (setspn -S {name} followed by its account name)"
        )
    if problem == "key":
        error = "KRB_AP_ERR_BADKEYVER" if str(code) == "44" else "KRB_AP_ERR_MODIFIED"
        return (
            f"the node cannot decrypt the ticket for {name} ({error}, code {shown(code, 8)}):"
            " it does not hold the Alternate Service Account's current key;"
            " fix: update the ASA credential on this node (RollAlternateServiceAccountPassword.ps1)"
        )
    if problem in ("skew", "node-skew"):
        which = f" (code {shown(code, 8)})" if code is not None else ""
        return (
            f"clock skew between the node and the KDC{which}: the ticket is not yet or no longer"
            " valid there; fix: synchronise the clocks (w32tm /resync)"
        )
    return _KERBEROS.get(str(problem), f"Kerberos: {shown(problem, 40)}")


def kerberos(ev: dict[str, object], limit: int) -> str:
    problem, protocol = ev.get("problem"), ev.get("protocol", "")
    offered = ev.get("offered") or []
    assert isinstance(offered, (list, tuple))
    names = ", ".join(wire(s, 40) for s in offered) or "none"
    if problem == "kerberos-not-offered":
        return (
            f"{protocol} does not offer Kerberos (Negotiate) and --auth kerberos (offers {names})"
        )
    if problem in ("ntlm-not-offered", "basic-not-offered"):
        wanted = "NTLM" if problem == "ntlm-not-offered" else "Basic"
        return f"{protocol} does not offer {wanted} and --auth {wanted.lower()} (offers {names})"
    if problem == "ntlm-refused":
        return (
            f"{protocol} refuses NTLM and --auth ntlm: the node offers Negotiate only"
            f" (Kerberos; offers {names})"
        )
    said = kerberos_problem(problem, ev.get("spn"), ev.get("code"))
    if limit < LONG:  # the first line: what is wrong; the why and the fix are below
        said = kerberos_short(said)
    return f"{protocol} logon (Kerberos): {said}"


def kerberos_short(said: str) -> str:
    for cut in ("; fix", ": register", ": it does not hold", ": the ticket is not yet"):
        said = said.split(cut)[0]
    return said


def autodiscover_kerberos(kind: str, detail: object) -> str:
    """Autodiscover's POST and --auth, or Kerberos (``kerberos-<problem>``; ``detail``: the
    endpoint's host, or the schemes it offers)."""
    if kind.endswith("-not-offered"):
        wanted = {"kerberos": "Kerberos (Negotiate)", "ntlm": "NTLM", "basic": "Basic"}
        mode = kind.partition("-")[0]
        return (
            f"the endpoint does not offer {wanted.get(mode, mode)} and --auth {mode}"
            f" (offers {shown(detail, 80)})"
        )
    host, _, code = str(detail).partition(" ")
    return kerberos_problem(kind[9:], f"HTTP/{shown(host, 80)}", code or None)
