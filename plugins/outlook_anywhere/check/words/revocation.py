"""The words of revocation (``judgement.revocation``, ``--revocation``): a certificate revoked, a
CRL past or near its nextUpdate, no source to ask, no answer, a bad signature, the issuing CA that
``caIssuers`` supplied; the chain's line of the long output and the first line's count."""

from __future__ import annotations

from ...facts.certificate import iso_date
from .shared import shown

_VIA = {"crl": "CRL", "ocsp": "OCSP"}
# What a revocation source answered, when it was no answer (facts.revocation outcomes).
_UNANSWERED = {
    "unknown": "the responder does not know the certificate",
    "not-fetched": "not fetched",
    "stale": "answered with a response past its nextUpdate",
}


def _revoked_role(ev: dict[str, object], limit: int) -> str:
    what = "issuing CA" if ev.get("ca") else "certificate"
    return f"{what} {shown(ev['cert'], limit)}"


def _reason(name: object) -> str:
    """``key_compromise`` -> key compromise (cryptography's ReasonFlags names)."""
    text = str(name or "").replace("_", " ").strip()
    return "" if text == "unspecified" else text


def revoked(ev: dict[str, object], limit: int) -> str:
    """Date and reason first: a serial is up to 40 digits and the first line is short."""
    via = _VIA.get(str(ev.get("via")), "")
    text = f"{_revoked_role(ev, limit)} revoked"
    if ev.get("date"):
        text += f" on {ev['date']}"
    reason = _reason(ev.get("reason"))
    if reason:
        text += f", reason {reason}"
    return text + f" ({via}, serial {ev['serial']})"


def crl_lapsed(ev: dict[str, object], limit: int) -> str:
    hours = ev["hours"]
    assert isinstance(hours, float)
    return (
        f"{_revoked_role(ev, limit)}: CRL {shown(ev['url'], limit)} is past its nextUpdate"
        f" ({ev['date']}, {-hours:.1f} hours ago): Windows treats revocation as unknown"
    )


def crl_expiring(ev: dict[str, object], limit: int) -> str:
    hours = ev["hours"]
    assert isinstance(hours, float)
    return (
        f"{_revoked_role(ev, limit)}: CRL {shown(ev['url'], limit)} nextUpdate in"
        f" {hours:.1f} hours ({ev['date']}): is the CRL still published?"
    )


def no_revocation_source(ev: dict[str, object], limit: int) -> str:
    named = ev.get("named") or []
    assert isinstance(named, (list, tuple))
    only = f" (only {', '.join(shown(u, limit) for u in named[:3])})" if named else ""
    return (
        f"{_revoked_role(ev, limit)} has no HTTP CRL distribution point and no OCSP URL{only}:"
        " clients outside the domain cannot check revocation"
    )


def revocation_unavailable(ev: dict[str, object], limit: int) -> str:
    failures = ev.get("failures") or []
    assert isinstance(failures, (list, tuple))
    said = []
    for url, outcome, detail in failures[:4]:
        what = _UNANSWERED.get(str(outcome)) or shown(detail or outcome, limit)
        said.append(f"{shown(url, limit)} {what}")
    return f"{_revoked_role(ev, limit)}: revocation cannot be checked: {', '.join(said)}"


def revocation_bad_signature(ev: dict[str, object], limit: int) -> str:
    what = "CRL" if ev.get("via") == "crl" else "OCSP response"
    return f"{_revoked_role(ev, limit)}: {what} from {shown(ev['url'], limit)} has a bad signature"


def intermediate_supplied(ev: dict[str, object], limit: int) -> str:
    return (
        f"chain incomplete: issuing CA {shown(ev['ca'], limit)} is not sent, Windows fetches it"
        f" from {shown(ev['url'], limit)}, other clients fail"
    )


def revocation_text(chain: object, now: float) -> str:
    """What every source of every certificate of one chain answered (long output, under the
    first node that sent the chain)."""
    from ...facts.revocation import ChainRevocation

    assert isinstance(chain, ChainRevocation)
    parts = []
    if len(chain.addresses) > 1:
        parts.append(f"the chain of {', '.join(chain.addresses)}")
    if chain.supplied:
        parts.append(f"{shown(chain.supplied_label)} fetched from {shown(chain.supplied)}")
    for cert in chain.certs:
        if cert.without_issuer:
            parts.append(f"{shown(cert.label)}: issuer not known, not checked")
            continue
        said = []
        for source in cert.sources:
            what = _source_text(source, now)
            said.append(f"{_VIA.get(source.kind, source.kind)} {shown(source.url)} {what}")
        parts.append(f"{shown(cert.label)}: {', '.join(said) or 'no source'}")
    return "; ".join(parts) if parts else "nothing to check"


def _source_text(source: object, now: float) -> str:
    from ...facts import revocation as r

    assert isinstance(source, r.Source)
    if source.outcome == r.GOOD:
        if source.next_update is None:
            return "good"
        if source.next_update < now:  # judged as stale: the line must not read "good"
            return f"not revoked, but stale: past its next update {iso_date(source.next_update)}"
        return f"good (next update {iso_date(source.next_update)})"
    if source.outcome == r.REVOKED:
        return "revoked"
    if source.outcome in _UNANSWERED:
        return _UNANSWERED[source.outcome]
    return shown(source.detail or source.outcome)


def revocation_checked(revocation: object) -> str:
    """How many certificates were looked up; one whose issuer nobody sent was not (only with
    --ignore-trust is such a chain OK)."""
    from ...facts.revocation import RevocationFacts

    assert isinstance(revocation, RevocationFacts)
    certs = [cert for chain in revocation.chains for cert in chain.certs]
    checked = sum(1 for cert in certs if not cert.without_issuer)
    unchecked = len(certs) - checked
    text = f", not revoked ({checked} certificate{'s' * (checked != 1)} checked)" if checked else ""
    if unchecked:
        text += f", revocation of {unchecked} not checked (issuer not sent)"
    return text
