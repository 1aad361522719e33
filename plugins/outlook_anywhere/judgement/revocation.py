"""The revocation rows of the states table (``--revocation``), as pure functions.

Every certificate of a chain but the trust anchor is judged on its own sources; each finding
counts against every node that sent that chain.  Windows treats a CRL past its ``nextUpdate``
as no CRL at all, so a lapsed CRL is CRITICAL even when another source answers.
"""

from __future__ import annotations

from nagiosplugin.state import Critical, Warn

from ..facts import revocation as r
from ..facts.certificate import iso_date
from . import findings as k
from .findings import Finding

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nagiosplugin.state import ServiceState

# A CRL whose nextUpdate is nearer than this is a WARNING: publication has probably stopped.
CRL_WARNING_HOURS = 24.0

_ANSWERED = (r.GOOD, r.REVOKED)


def _hours(seconds: float) -> float:
    return round(seconds / 3600.0, 1)


def _answers(source: r.Source, now: float) -> bool:
    """Whether a source gave an answer a client uses: an OCSP response past its nextUpdate is
    stale (a revocation stays one); a lapsed CRL is its own finding."""
    if source.outcome not in _ANSWERED:
        return False
    stale = source.kind == r.OCSP and source.next_update is not None and source.next_update < now
    return not (stale and source.outcome == r.GOOD)


def judge_certificate(
    cert: r.CertRevocation, now: float
) -> list[tuple[str, ServiceState, dict[str, object]]]:
    """(kind, state, evidence) of every revocation finding about one certificate."""
    if cert.without_issuer:
        return []  # its issuer is missing: the chain's own finding says so
    base: dict[str, object] = {
        "cert": cert.label,
        "ca": cert.position > 0,
        "serial": r.serial_text(cert.serial),
    }
    found: list[tuple[str, ServiceState, dict[str, object]]] = []
    revoked = next((s for s in cert.sources if s.outcome == r.REVOKED), None)
    if revoked is not None:
        evidence = {
            **base,
            "via": revoked.kind,
            "url": revoked.url,
            "date": iso_date(revoked.revoked_at) if revoked.revoked_at is not None else None,
            "reason": revoked.reason,
        }
        found.append((k.REVOKED, Critical, evidence))
    for source in cert.sources:
        if source.outcome == r.BAD_SIGNATURE:
            evidence = {**base, "via": source.kind, "url": source.url, "detail": source.detail}
            found.append((k.REVOCATION_BAD_SIGNATURE, Critical, evidence))
    crls = [
        s
        for s in cert.sources
        if s.kind == r.CRL and s.outcome in _ANSWERED and s.next_update is not None
    ]
    if crls:
        soonest = min(crls, key=lambda s: s.next_update or 0.0)
        assert soonest.next_update is not None
        left = soonest.next_update - now
        evidence = {
            **base,
            "url": soonest.url,
            "hours": _hours(left),
            "date": iso_date(soonest.next_update),
        }
        if left < 0:
            found.append((k.CRL_LAPSED, Critical, evidence))
        elif left < CRL_WARNING_HOURS * 3600:
            found.append((k.CRL_EXPIRING, Warn, evidence))
    fetched = [s for s in cert.sources if s.fetched]
    if not fetched:
        named = [s.url for s in cert.sources]
        found.append((k.NO_REVOCATION_SOURCE, Warn, {**base, "named": named}))
    elif not any(_answers(s, now) for s in fetched) and not any(
        s.outcome == r.BAD_SIGNATURE for s in fetched
    ):
        failures = [
            (s.url, s.outcome if s.outcome != r.GOOD else "stale", s.detail) for s in fetched
        ]
        found.append((k.REVOCATION_UNAVAILABLE, Warn, {**base, "failures": failures}))
    return found


def judge_chain(chain: r.ChainRevocation, now: float) -> list[Finding]:
    """Every finding about one chain, once for each node that sent it."""
    about: list[tuple[str, ServiceState, dict[str, object]]] = []
    if chain.supplied:
        evidence: dict[str, object] = {"ca": chain.supplied_label, "url": chain.supplied}
        about.append((k.INTERMEDIATE_SUPPLIED, Warn, evidence))
    for cert in chain.certs:
        about += judge_certificate(cert, now)
    return [
        Finding(kind, state, address, dict(evidence))
        for address in chain.addresses
        for kind, state, evidence in about
    ]


def judge_revocation(facts: r.RevocationFacts, now: float) -> list[Finding]:
    found: list[Finding] = []
    for chain in facts.chains:
        found += judge_chain(chain, now)
    return found
