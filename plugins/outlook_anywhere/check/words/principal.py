"""The words of a node's certificate, judged against the principal (``judgement.verdict``'s node
rules over ``judgement.principal``'s names): a name that does not match or matches only in a way
some clients miss, the dates, the chain of trust, the key, the signature and the protocol; and
the fix, which names a principal to publish or a certificate to serve."""

from __future__ import annotations

from ...judgement.principal import display
from .shared import LONG, days_text, shown, wire

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from ...judgement.findings import Fix


def _role(ev: dict[str, object], limit: int) -> str:
    label = ev.get("ca")
    return f"issuing CA '{shown(label, limit)}'" if label is not None else "certificate"


def _source(ev: dict[str, object], limit: int) -> str:
    """Where the expected principal comes from, when Autodiscover published it (long output)."""
    source = ev.get("source")
    if limit < LONG or source in (None, "-P", "-H"):
        return ""
    return f" (what Autodiscover publishes in {source})"


def mismatch(ev: dict[str, object], limit: int) -> str:
    cn = ev.get("cn")
    if cn is None:
        seen = "the certificate has no subject CN"
    else:
        idna = ev.get("cn_idna")
        seen = f"certificate CN {shown(cn, limit)}" + (f" ({idna})" if idna else "")
    published = ev.get("source") not in (None, "-P", "-H")
    wanted = display((wire if published else shown)(ev["principal"], limit))
    return f"Mutual Authentication could not be established: {seen}, expected {wanted}" + (
        _source(ev, limit)
    )


def san_only(ev: dict[str, object], limit: int) -> str:
    cn = ev.get("cn")
    where = f"not the CN {shown(cn, limit)}" if cn is not None else "the certificate has no CN"
    return (
        f"{display(shown(ev['principal'], limit))} only in a SAN, {where}: Outlook before"
        " Vista SP1 and the Remote Connectivity Analyzer fail"
    )


def wildcard(ev: dict[str, object], limit: int) -> str:
    return (
        f"{display(shown(ev['principal'], limit))} matches only by expanding the wildcard"
        f" {ev['where']} {shown(ev['pattern'], limit)}: the Analyzer and older clients do not"
    )


def several_cns(ev: dict[str, object], limit: int) -> str:
    cns = ev["cns"]
    assert isinstance(cns, (list, tuple))
    names = ", ".join(shown(cn, limit) for cn in cns[:4]) + (", ..." if len(cns) > 4 else "")
    return f"subject has {len(cns)} CNs ({names}): clients differ on which one they read"


def expires(ev: dict[str, object], limit: int) -> str:
    role = _role(ev, limit)
    days, date = ev["days"], ev["date"]
    assert isinstance(days, float)
    if ev.get("range"):
        where = "inside" if str(ev["range"]).startswith("@") else "outside"
        return (
            f"{role}: {days_text(days)} left, {where} the {ev['level']} range {ev['range']}"
            f" (expires {date})"
        )
    return f"{role} expires in {days_text(days)} ({date})"


def expired(ev: dict[str, object], limit: int) -> str:
    days = ev["days"]
    assert isinstance(days, float)
    ago = days_text(-days) if days <= -0.1 else "less than 0.1 days"
    return f"{_role(ev, limit)} expired {ago} ago ({ev['date']})"


def not_yet_valid(ev: dict[str, object], limit: int) -> str:
    return f"{_role(ev, limit)} not valid before {ev['date']}"


def untrusted(ev: dict[str, object], limit: int) -> str:
    return "certificate not trusted: " + _why_untrusted(ev, limit)


def _why_untrusted(ev: dict[str, object], limit: int) -> str:
    """Why OpenSSL refused the chain, in an Exchange administrator's words."""
    code, last, issuer = ev.get("code"), ev.get("last"), ev.get("last_issuer")
    if code == 18:
        return "self-signed certificate (not issued by a trusted CA)"
    if code == 19 and last is not None:
        return f"root '{shown(last, limit)}' sent by the server is not a trusted root"
    if code in (2, 20, 21) and issuer is not None:
        if ev.get("served") == 1:
            return (
                "missing intermediate? the server sends no issuing CA, and"
                f" '{shown(issuer, limit)}' is not in the trust store"
            )
        return f"chain ends at '{shown(issuer, limit)}', which is not in the trust store"
    if code == 7:
        return "a signature in the certificate chain does not verify"
    if code == 79 or (code == 24 and "invalid ca" in str(ev.get("message", "")).lower()):
        # X509_V_ERR_INVALID_CA: 79 on OpenSSL 3, 24 before it
        return "an issuing certificate in the chain is not a CA"
    if code == 26:
        return "certificate is not meant for TLS server authentication"
    if code == 34:  # Windows (CryptoAPI) refuses such a chain as well
        return "a certificate in the chain has an unknown extension marked critical"
    if code in (66, 67, 68):
        return f"{shown(ev.get('message'), limit)} for OpenSSL's security level"
    return shown(ev.get("message") or f"verification error {code}", limit)


def weak_key(ev: dict[str, object], limit: int) -> str:
    return f"{_role(ev, limit)} has a {ev['bits']}-bit {ev['algorithm']} key (under 2048 bits)"


def weak_signature(ev: dict[str, object], limit: int) -> str:
    return f"{_role(ev, limit)} is signed with {ev['hash']}"


def old_protocol(ev: dict[str, object], limit: int) -> str:
    return f"server speaks only {shown(ev['version'], limit)}"


def unparsable(ev: dict[str, object], limit: int) -> str:
    return f"certificate could not be parsed ({shown(ev.get('detail'), limit)})"


def no_certificate(ev: dict[str, object], limit: int) -> str:
    return "server sent no certificate"


def fix_text(fix: Fix) -> str:
    """The ways out; a principal to publish is only ever one the certificates satisfy."""
    if fix.correct and fix.certificate:  # neither side is satisfied
        return (
            f"fix: a certificate whose CN is {shown(fix.certificate)}, and correct"
            f" {fix.correct} to {display(shown(fix.value or ''))}"
        )
    if fix.correct:
        return f"fix: correct {fix.correct} to {display(shown(fix.value or ''))}"
    publish = ""
    if fix.publish:
        name = display(shown(fix.publish))
        publish = " and ".join(
            f'Set-OutlookProvider {provider} -CertPrincipalName:"{name}"'
            for provider in fix.provider.split(" and ")
        )
    if fix.certificate and publish:
        return f"fix: a certificate whose CN is {shown(fix.certificate)}, or {publish}"
    if fix.certificate:
        return f"fix: replace the certificate with one whose CN is {shown(fix.certificate)}"
    return f"fix: {publish}" if publish else "fix: replace the certificate"
