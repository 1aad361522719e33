"""The rules of design.md's states table, as pure functions from facts to findings.

Contexts call these; so does the ``nodes_ok`` count.  Nothing here does I/O.
"""

from __future__ import annotations

from nagiosplugin import Range
from nagiosplugin.state import Critical, Ok, ServiceState, Warn

from .certificate import CertFacts, iso_date
from .output import clean
from .principal import Match, display, match
from .tlsprobe import NodeFacts


class Finding:
    """One thing wrong (or worth saying) and its state (plain classes: see
    ``tlsprobe.NodeFacts``)."""

    __slots__ = ("state", "text")

    def __init__(self, state: ServiceState, text: str) -> None:
        self.state = state
        # Names in findings come from the server's certificate: a NUL or an escape sequence in
        # a CN is shown escaped (\x00), wherever the finding ends up.
        self.text = clean(text)

    def __repr__(self) -> str:
        return f"Finding({self.state}, {self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Finding) and (self.state, self.text) == (other.state, other.text)

    def __hash__(self) -> int:
        return hash((self.state, self.text))


class Policy:
    """What the command line asks of every certificate."""

    def __init__(
        self,
        principals: tuple[str, ...],
        match_mode: str,
        warning: Range,
        critical: Range,
        check_trust: bool,
        now: float,
    ) -> None:
        self.principals = principals  # names without the msstd: prefix
        self.match_mode = match_mode  # "cn" or "cn-or-san"
        self.warning = warning
        self.critical = critical
        self.check_trust = check_trust
        self.now = now


def worst(findings: list[Finding]) -> ServiceState:
    return max((f.state for f in findings), default=Ok)


def fix_for(principal: str, leaf: CertFacts) -> str:
    """Both ways out of a principal mismatch."""
    if leaf.cns:
        return (
            f"fix: a certificate whose CN is {principal}, or publish the certificate's name with"
            f' Set-OutlookProvider EXPR -CertPrincipalName:"{display(leaf.cns[0])}"'
        )
    return f"fix: a certificate whose CN is {principal}"


def principal_findings(principal: str, leaf: CertFacts, mode: str) -> list[Finding]:
    how = match(principal, leaf.cns, leaf.sans)
    shown = display(principal)
    cn = leaf.cns[0] if leaf.cns else None
    if how == Match.CN:
        return []
    if how == Match.SAN:
        if mode == "cn-or-san":
            return []
        return [
            Finding(
                Warn,
                f"{shown} found only in a SAN, not in CN {cn or '(none)'}: Outlook before"
                " Vista SP1 and the Remote Connectivity Analyzer fail; " + fix_for(principal, leaf),
            )
        ]
    if how in (Match.CN_WILDCARD, Match.SAN_WILDCARD):
        pattern = cn if how == Match.CN_WILDCARD and cn else _covering_wildcard(principal, leaf)
        return [
            Finding(
                Warn,
                f"{shown} matches only by expanding the wildcard {pattern}: the Analyzer and"
                f" older clients do not expand it; fix: Set-OutlookProvider EXPR"
                f' -CertPrincipalName:"{display(pattern)}"',
            )
        ]
    seen = f"CN {cn}{_idna_form(cn)}" if cn is not None else "no subject CN"
    return [
        Finding(
            Critical,
            f"Mutual Authentication could not be established: certificate has {seen},"
            f" expected {shown}; " + fix_for(principal, leaf),
        )
    ]


def _idna_form(name: str) -> str:
    """A non-ASCII CN also in its IDNA form: a look-alike letter (a Cyrillic "a" in "mail")
    reads the same as the principal but is another name."""
    from .principal import normalize

    form = None if name.isascii() else normalize(name)
    return f" ({form})" if form else ""


def _covering_wildcard(principal: str, leaf: CertFacts) -> str:
    from .principal import normalize, wildcard_covers

    wanted = normalize(principal) or principal
    for name in leaf.sans:
        norm = normalize(name)
        if norm is not None and wildcard_covers(norm, wanted):
            return name
    return principal


def _days(days: float) -> str:
    return f"{days:.1f} days"


def date_findings(cert: CertFacts, policy: Policy, role: str) -> list[Finding]:
    """Validity dates of one certificate; ``role`` is "certificate" or "issuing CA 'X'"."""
    now = policy.now
    if cert.not_before > now:
        return [Finding(Critical, f"{role} not valid before {iso_date(cert.not_before)}")]
    days = cert.days_left(now)
    if days < 0:
        return [
            Finding(Critical, f"{role} expired {_days(-days)} ago ({iso_date(cert.not_after)})")
        ]
    text = f"{role} expires in {_days(days)} ({iso_date(cert.not_after)})"
    if not policy.critical.match(round(days, 1)):
        return [Finding(Critical, text)]
    if not policy.warning.match(round(days, 1)):
        return [Finding(Warn, text)]
    return []


def judge_node(node: NodeFacts, policy: Policy) -> list[Finding]:
    """Every finding about one node; an empty list means OK."""
    if node.error:
        return [Finding(Critical, node.error)]
    if node.parse_error:
        return [Finding(Critical, node.parse_error)]
    leaf = node.leaf
    if leaf is None:
        return [Finding(Critical, "server sent no certificate")]
    findings: list[Finding] = []
    for principal in policy.principals:
        findings += principal_findings(principal, leaf, policy.match_mode)
    if len(leaf.cns) > 1:
        names = ", ".join(leaf.cns)
        findings.append(
            Finding(
                Warn,
                f"subject has {len(leaf.cns)} CNs ({names}): clients differ on which one they read",
            )
        )
    findings += date_findings(leaf, policy, "certificate")
    for cert in node.chain[1:]:
        findings += date_findings(cert, policy, f"issuing CA '{cert.label()}'")
    if policy.check_trust and node.trust == "untrusted":
        findings.append(Finding(Critical, f"certificate not trusted: {node.trust_error}"))
    findings += [Finding(Warn, text) for text in node.weaknesses]
    return findings


def judge_fleet(nodes: list[NodeFacts]) -> list[Finding]:
    """Nodes that serve different certificates: a renewal that reached only some of them."""
    served = [n for n in nodes if n.leaf is not None]
    groups: dict[bytes, list[NodeFacts]] = {}  # by the certificate as sent
    for node in served:
        assert node.leaf is not None
        groups.setdefault(node.leaf.der, []).append(node)
    if len(groups) < 2:
        return []
    # The majority is right; on a tie, the first address's certificate is.
    first = served[0].leaf.der if served[0].leaf else b""
    majority = max(groups, key=lambda der: (len(groups[der]), der == first))
    odd = [n for der, members in groups.items() if der != majority for n in members]
    ref = groups[majority][0].leaf
    assert ref is not None
    names = ", ".join(
        f"{n.address} serves thumbprint {n.leaf.thumbprint} (expires {iso_date(n.leaf.not_after)})"
        for n in odd
        if n.leaf is not None
    )
    count = len(groups[majority])
    others = f"{count} other node{'s serve' if count > 1 else ' serves'}"
    return [
        Finding(
            Warn,
            f"certificates differ: {names}; {others} thumbprint {ref.thumbprint}"
            f" (expires {iso_date(ref.not_after)})",
        )
    ]
