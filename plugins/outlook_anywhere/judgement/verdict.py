"""The states table as pure functions: facts in, findings (data) out.  Nothing here does I/O or
writes a sentence (``words`` does).

:func:`judge` takes everything one check learned and returns a :class:`Verdict`: every finding,
worst first, and how many nodes are OK (a node is OK when none of its findings is: certificate,
connection and RPC proxy alike).
"""

from __future__ import annotations

from nagiosplugin.state import Critical, Ok, ServiceState, Unknown, Warn

from ..facts import CheckFacts, Resolution
from ..facts.certificate import CertFacts, iso_date
from . import findings as k
from .findings import Finding, Fix
from .policy import Policy
from .principal import Match, match, normalize, publishable, satisfied

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from ..facts import NodeFacts
    from ..facts.http import AutodiscoverFacts

# What a key and a signature must at least be (OpenSSL's default security level says the same).
MIN_RSA_BITS = 2048
WEAK_HASHES = ("sha1", "md5")


class Principal:
    """A principal the nodes are judged against, and where it comes from."""

    __slots__ = ("name", "source")

    def __init__(self, name: str, source: str) -> None:
        self.name = name  # without msstd:
        self.source = source  # "-P", "-H", or the Autodiscover providers ("EXPR and EXHTTP")


class Verdict:
    def __init__(
        self, findings: list[Finding], nodes: int, nodes_ok: int, principals: list[Principal]
    ) -> None:
        self.findings = findings  # worst first, in the order the long output shows them
        self.nodes = nodes
        self.nodes_ok = nodes_ok
        self.principals = principals

    @property
    def state(self) -> ServiceState:
        return max((f.state for f in self.findings), default=Ok)

    def of(self, node: str) -> list[Finding]:
        return [f for f in self.findings if f.node == node]


# -- principals ---------------------------------------------------------------------------------


def principals(
    policy: Policy, autodiscover: AutodiscoverFacts | None, host: str | None = None
) -> list[Principal]:
    """What the nodes are judged against: what Autodiscover publishes (what clients pin), else
    -P, else the host name probed (-H, or the Server Autodiscover publishes)."""
    if autodiscover is not None:
        from .autodiscover import published_principals

        found = published_principals(autodiscover)
        if found:
            return [Principal(name, source) for name, source in found]
    if policy.principal:
        return [Principal(policy.principal, "-P")]
    host = policy.host or host
    return [Principal(host, "-H")] if host else []


def _principal_findings(
    node: str, wanted: Principal, leaf: CertFacts, leaves: list[CertFacts], mode: str
) -> list[Finding]:
    how = match(wanted.name, leaf.cns, leaf.sans)
    cn = leaf.cns[0] if leaf.cns else None
    evidence: dict[str, object] = {"principal": wanted.name, "cn": cn, "source": wanted.source}
    if how == Match.CN or (how == Match.SAN and mode == "cn-or-san"):
        return []
    providers = wanted.source if wanted.source not in ("-P", "-H") else "EXPR"
    if how == Match.SAN:
        fix = Fix(certificate=wanted.name, publish=publishable(leaves, mode), provider=providers)
        return [Finding(k.SAN_ONLY, Warn, node, evidence, fix)]
    if how in (Match.CN_WILDCARD, Match.SAN_WILDCARD):
        where = "CN" if how == Match.CN_WILDCARD else "SAN"
        pattern = cn if how == Match.CN_WILDCARD and cn else _covering(wanted.name, leaf)
        safe = pattern if satisfied(pattern, leaves, mode) else None
        fix = Fix(publish=safe, provider=providers) if safe else Fix(certificate=wanted.name)
        evidence.update(pattern=pattern, where=where)
        return [Finding(k.WILDCARD_ONLY, Warn, node, evidence, fix)]
    if cn is not None and not cn.isascii():
        # A look-alike letter (a Cyrillic "a" in "mail") reads the same but is another name.
        evidence["cn_idna"] = normalize(cn)
    fix = Fix(certificate=wanted.name, publish=publishable(leaves, mode), provider=providers)
    return [Finding(k.PRINCIPAL_MISMATCH, Critical, node, evidence, fix)]


def _covering(principal: str, leaf: CertFacts) -> str:
    from .principal import wildcard_covers

    wanted = normalize(principal) or principal
    for name in leaf.sans:
        norm = normalize(name)
        if norm is not None and wildcard_covers(norm, wanted):
            return name
    return principal


# -- dates ------------------------------------------------------------------------------------


def _date_findings(
    node: str, cert: CertFacts, policy: Policy, now: float, ca: str | None
) -> list[Finding]:
    """Validity dates of one certificate; ``ca`` names an issuing CA (None: the certificate)."""
    evidence: dict[str, object] = {"ca": ca}
    if cert.not_before > now:
        evidence["date"] = iso_date(cert.not_before)
        return [Finding(k.NOT_YET_VALID, Critical, node, evidence)]
    days = round(cert.days_left(now), 1)
    evidence.update(days=days, date=iso_date(cert.not_after))
    if cert.not_after < now:  # not the rounded days: an hour ago is -0.0 of them
        return [Finding(k.EXPIRED, Critical, node, evidence)]
    for state, level, threshold in (
        (Critical, "critical", policy.critical),
        (Warn, "warning", policy.warning),
    ):
        if not threshold.range.match(days):
            if not threshold.plain:
                evidence.update(level=level, range=threshold.given)
            return [Finding(k.EXPIRES_SOON, state, node, evidence)]
    return []


# -- one node ---------------------------------------------------------------------------------


def judge_node(
    node: NodeFacts,
    wanted: list[Principal],
    policy: Policy,
    leaves: list[CertFacts],
    now: float,
) -> list[Finding]:
    """Every finding about one node's TLS endpoint; an empty list means OK."""
    at = node.address
    if node.failure.startswith("proxy-"):  # --proxy: the tunnel to this node was not opened
        from .proxy import judge_tunnel

        return [judge_tunnel(node)]
    if node.failure == "broken":
        return [Finding(k.BROKEN_INSTALLATION, Unknown, at, {"module": node.detail})]
    if node.failure == "unparsable":
        return [Finding(k.UNPARSABLE, Critical, at, {"detail": node.detail})]
    if node.failure:
        evidence: dict[str, object] = {
            "failure": node.failure,
            "detail": node.detail,
            "phase": node.phase,
        }
        return [Finding(k.CONNECTION, Critical, at, evidence)]
    leaf = node.leaf
    if leaf is None:
        return [Finding(k.NO_CERTIFICATE, Critical, at)]
    found: list[Finding] = []
    for principal in wanted:
        found += _principal_findings(at, principal, leaf, leaves, policy.match_mode)
    if len(leaf.cns) > 1:
        found.append(Finding(k.SEVERAL_CNS, Warn, at, {"cns": leaf.cns}))
    found += _date_findings(at, leaf, policy, now, None)
    for cert in node.chain[1:]:
        found += _date_findings(at, cert, policy, now, cert.label())
    if policy.check_trust and node.trust == "untrusted":
        served = node.chain[: node.served_count] if node.served_count else node.chain
        last = served[-1] if served else None
        evidence = {
            "code": node.trust_code,
            "message": node.trust_message,
            "served": len(served),
            "last": last.label() if last else None,
            "last_issuer": last.issuer if last else None,
        }
        found.append(Finding(k.UNTRUSTED, Critical, at, evidence))
    found += _strength_findings(node)
    if node.only_protocol:
        found.append(Finding(k.OLD_PROTOCOL, Warn, at, {"version": node.only_protocol}))
    return found


def _strength_findings(node: NodeFacts) -> list[Finding]:
    found = []
    last = len(node.strengths) - 1
    for position, key, digest in node.strengths:
        ca = None
        if position > 0:
            ca = node.chain[position].label() if position < len(node.chain) else "unknown"
        algorithm, _, bits = key.partition(" ")
        if algorithm in ("RSA", "DSA") and bits.isdigit() and int(bits) < MIN_RSA_BITS:
            evidence = {"ca": ca, "algorithm": algorithm, "bits": int(bits)}
            found.append(Finding(k.WEAK_KEY, Warn, node.address, evidence))
        # A root's own signature is never checked by anyone: its hash does not matter.
        if digest in WEAK_HASHES and not (position == last and position > 0):
            evidence = {"ca": ca, "hash": "SHA-1" if digest == "sha1" else digest.upper()}
            found.append(Finding(k.WEAK_SIGNATURE, Warn, node.address, evidence))
    return found


# -- the array ----------------------------------------------------------------------------------


def judge_fleet(nodes: list[NodeFacts]) -> list[Finding]:
    """Nodes that serve different certificates: a renewal that reached only some of them.  The
    nodes in the minority are named (on a tie, all but the first address's certificate)."""
    served = [n for n in nodes if n.leaf is not None]
    groups: dict[bytes, list[NodeFacts]] = {}  # by the certificate as sent
    for node in served:
        assert node.leaf is not None
        groups.setdefault(node.leaf.der, []).append(node)
    if len(groups) < 2:
        return []
    first = served[0].leaf.der if served[0].leaf else b""
    majority = max(groups, key=lambda der: (len(groups[der]), der == first))
    ref = groups[majority][0].leaf
    assert ref is not None
    found = []
    for der, members in groups.items():
        if der == majority:
            continue
        for node in members:
            assert node.leaf is not None
            evidence = {
                "thumbprint": node.leaf.thumbprint,
                "date": iso_date(node.leaf.not_after),
                "their_thumbprint": ref.thumbprint,
                "their_date": iso_date(ref.not_after),
                "others": len(groups[majority]),
            }
            found.append(Finding(k.DIFFERENT_CERTIFICATE, Warn, node.address, evidence))
    return found


def judge_resolution(resolution: Resolution | None) -> list[Finding]:
    if resolution is None or resolution.addresses:
        return []
    evidence = {
        "host": resolution.host,
        "failure": resolution.failure,
        "detail": resolution.detail,
        "source": resolution.source,
    }
    return [Finding(k.NO_ADDRESS, Critical, None, evidence)]


# -- everything -------------------------------------------------------------------------------

# Among findings of the same state, the first line names the one that usually explains the
# others: the proxy every connection went through, no address at all, then Autodiscover, a
# renewal that reached only some nodes, then the nodes in address order.
_RANK = {
    k.PROXY_UNREACHABLE: -1,
    k.PROXY_AUTH: -1,
    k.PROXY_REFUSED: -1,
    k.NO_ADDRESS: 0,
    k.DIFFERENT_CERTIFICATE: 2,
}


def _rank(finding: Finding) -> int:
    if finding.kind in _RANK:
        return _RANK[finding.kind]
    return 1 if finding.node is None else 3


def _with_revocation(found: list[Finding], facts: CheckFacts) -> list[Finding]:
    """The revocation findings; a node whose missing intermediate the AIA caIssuers URL
    supplies is not CRITICAL for its chain (Windows fetches it): the revocation judgement
    says WARNING instead."""
    from .revocation import judge_revocation

    assert facts.revocation is not None
    supplied = facts.revocation.supplied_nodes()
    kept = [f for f in found if not (f.kind == k.UNTRUSTED and f.node in supplied)]
    return kept + judge_revocation(facts.revocation, facts.now)


def judge(facts: CheckFacts, policy: Policy) -> Verdict:
    """Every finding of one check, worst first; then how many nodes are OK."""
    wanted = principals(policy, facts.autodiscover, facts.host)
    leaves = [n.leaf for n in facts.nodes if n.leaf is not None and not n.failure]
    found = judge_resolution(facts.resolution)
    if facts.autodiscover is not None:
        from .autodiscover import judge_autodiscover

        found += judge_autodiscover(facts.autodiscover, policy, leaves)
    for node in facts.nodes:
        found += judge_node(node, wanted, policy, leaves, facts.now)
    if facts.rpc is not None:
        from .rpc import judge_rpc

        for rpc in facts.rpc:
            found += judge_rpc(rpc, policy.expect_auth)
    if facts.mapi is not None or facts.logon is not None:
        from .logon import judge_logon, judge_mapi

        for mapi in facts.mapi or []:
            found += judge_mapi(mapi, policy.expect_auth)
        if facts.logon is not None:
            found += judge_logon(facts.logon, policy.extended_protection)
    if facts.revocation is not None:
        found = _with_revocation(found, facts)
    if facts.frontdoors is not None and policy.frontdoors is not None:
        from .frontdoors import judge_frontdoors

        found += judge_frontdoors(facts.frontdoors, policy.frontdoors, facts.now)
    found += judge_fleet(facts.nodes)
    if facts.proxy is not None:
        from .proxy import judge_proxy

        found += judge_proxy(facts.proxy, [(n.address, n.port) for n in facts.nodes])
    order = {n.address: i for i, n in enumerate(facts.nodes)}
    found.sort(key=lambda f: (-int(f.state), _rank(f), order.get(f.node or "", -1)))
    failing = {f.node for f in found if f.node is not None and f.state != Ok}
    failing.update(n for f in found if f.state != Ok for n in f.evidence.get("down_on", ()))
    healthy = sum(1 for n in facts.nodes if n.address not in failing)
    return Verdict(found, len(facts.nodes), healthy, wanted)
