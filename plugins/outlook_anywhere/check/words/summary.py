"""The first line and the long output: the worst finding with its subject, or what was checked
when all is well; a line for the proxy, DNS, Autodiscover and each node (its findings with their
fixes, then what it served), worst first; the ``-vvv`` trace.

The room of an optional check is imported where its facts are there to be said: a check that did
not run it never loads its words."""

from __future__ import annotations

from ...facts.certificate import iso_date
from ...judgement import findings as k
from ...judgement.principal import display
from .shared import LONG, OF_INSTALLATION, OF_PROXY, SHORT, ms_text, shown, state_text, wire

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from ...facts import CheckFacts, NodeFacts
    from ...judgement.findings import Finding
    from ...judgement.policy import Policy
    from ...judgement.verdict import Verdict


def certificate_text(cert: object, now: float) -> str:
    """CN, e-mail, SAN, days left, issuer: what a certificate says about itself."""
    from ...facts.certificate import CertFacts

    assert isinstance(cert, CertFacts)
    cns = ", ".join(shown(cn) for cn in cert.cns) if cert.cns else "no subject CN"
    parts = [f"CN {cns}" if cert.cns else cns]
    if cert.emails:
        parts.append(f"e-mail {', '.join(shown(e) for e in cert.emails)}")
    if cert.sans:
        parts.append(f"SAN {', '.join(shown(s) for s in cert.sans)}")
    parts.append(f"{cert.days_left(now):.1f} days left ({iso_date(cert.not_after)})")
    parts.append(f"issuer {shown(cert.issuer)}")
    return "; ".join(parts)


def node_details(node: NodeFacts, now: float) -> str:
    """What one node served: certificate, thumbprint, protocol, time."""
    if node.leaf is None:
        timing = ms_text(node.connect_time)
        return f"connected in {timing}" if timing else ""
    parts = [
        certificate_text(node.leaf, now),
        f"thumbprint {node.leaf.thumbprint}",
        node.tls_version,
        ms_text(node.total_time),
    ]
    return "; ".join(p for p in parts if p)


def headline(verdict: Verdict, facts: CheckFacts, policy: Policy, budget: int) -> str:
    """The first line after ``OUTLOOK_ANYWHERE <STATE> - ``: at most ``budget`` characters, no
    ``;`` (Nagios 4 rewrites it to ``:``)."""
    from nagiosplugin.state import Ok

    tail = f" [{verdict.nodes_ok}/{verdict.nodes} nodes OK]" if verdict.nodes else ""
    bad = [f for f in verdict.findings if f.state != Ok]
    if bad:
        first = bad[0]
        who = _subject(first, SHORT)
        text = (f"{who}: " if who else "") + _phrase(first, SHORT)
        if len(bad) > 1:
            tail = f" (+{len(bad) - 1} more)" + tail
    else:
        text, tail = _all_well(verdict, facts, policy), ""
    text = text.replace(";", ",")
    room = budget - len(tail)
    if len(text) > room:
        text = text[: max(room - 3, 0)].rstrip() + "..."
    return text + tail


def _all_well(verdict: Verdict, facts: CheckFacts, policy: Policy) -> str:
    from ...judgement.principal import Match, match

    leaves = [n.leaf for n in facts.nodes if n.leaf is not None]
    if not leaves:
        return "no node to check"
    matched = []
    for wanted in verdict.principals:
        how = {match(wanted.name, leaf.cns, leaf.sans) for leaf in leaves}
        name = display(shown(wanted.name, SHORT))
        if how == {Match.CN}:
            matched.append(f"{name} matches the CN")
        elif how == {Match.SAN}:
            sans = {_san_matched(wanted.name, leaf.sans) for leaf in leaves}
            matched.append(f"{name} matches SAN {', '.join(shown(s, SHORT) for s in sorted(sans))}")
        else:
            matched.append(f"{name} matches the CN or a SAN")
    days = min(leaf.days_left(facts.now) for leaf in leaves)
    expires = iso_date(min(leaf.not_after for leaf in leaves))
    text = (
        f"{verdict.nodes_ok}/{verdict.nodes} nodes OK: {', '.join(matched)},"
        f" {days:.1f} days left (expires {expires})"
    )
    if facts.autodiscover is not None:
        text += ", as Autodiscover publishes"
    if not policy.check_trust:
        text += ", trust not checked"
    logon = facts.logon
    logged_on = logon is not None and not logon.skipped
    if facts.rpc and not (logged_on and logon is not None and logon.rpc):
        schemes = dict.fromkeys(s for r in facts.rpc for s in r.schemes)
        text += f", rpcproxy.dll 401 ({', '.join(wire(s, 20) for s in schemes)})"
    if logged_on and logon is not None:
        done = (["echo, 6001/6002/6004"] if logon.rpc else []) + (
            ["mailbox logon"] if logon.mapi else []
        )
        text += f", logged on: {', '.join(done)}"
    elif facts.mapi:
        text += ", MAPI over HTTP answers"
    if facts.revocation is not None:
        from .revocation import revocation_checked

        text += revocation_checked(facts.revocation)
    if facts.frontdoors is not None:
        from .frontdoors import frontdoors_all_well

        text += frontdoors_all_well(list(facts.frontdoors), facts.now)
    return text


def _san_matched(principal: str, sans: tuple[str, ...]) -> str:
    from ...judgement.principal import normalize

    wanted = normalize(principal)
    return next((s for s in sans if normalize(s) == wanted), principal)


def long_output(verdict: Verdict, facts: CheckFacts, verbosity: int) -> list[str]:
    """One line for DNS and for Autodiscover where there is something to say, one per node
    (its findings and fixes, then what it served), and at ``-v`` the chain of every node.

    Worst first: front ends show the long output folded to its first lines (Icinga Web 2 until
    "expand"), so the parts and nodes that need action come before the OK ones; within one
    state, in the order they were checked (nodes by address)."""
    from nagiosplugin.state import Ok

    blocks: list[tuple[object, list[str]]] = []  # (state, lines that stay together)
    if facts.proxy is not None:  # its state only when it failed itself (nodes say the rest)
        from .proxy import proxy_text

        about = [f for f in verdict.findings if f.kind in OF_PROXY]
        said = "; ".join(_phrase(f) for f in about)
        worst = max((f.state for f in about), default=Ok)
        state = f" {state_text(worst)}: {said}" if about else ""
        line = f"proxy {shown(facts.proxy.proxy)}{state} -- {proxy_text(facts.proxy)}"
        blocks.append((worst, [line]))
    for finding in verdict.findings:
        if finding.kind == k.NO_ADDRESS:
            line = f"{state_text(finding.state)}: {_subject(finding)}: {_phrase(finding)}"
            blocks.append((finding.state, [line]))
        elif finding.kind in OF_INSTALLATION and finding.node is None:
            blocks.append((finding.state, [f"{state_text(finding.state)}: {_phrase(finding)}"]))
    logon = facts.logon
    if facts.autodiscover is not None:
        from .autodiscover import autodiscover_text

        about = [
            f
            for f in verdict.findings
            if f.node is None
            and f.kind not in (k.NO_ADDRESS, k.HEALTH_DOWN_EVERYWHERE)  # lines of their own
            and f.kind not in OF_PROXY
            and f.kind not in OF_INSTALLATION
        ]
        state = max((f.state for f in about), default=Ok)
        said = "; ".join(_with_fix(f) for f in about)
        lines = [
            f"Autodiscover {state_text(state)}"
            + (f": {said}" if said else "")
            + f" -- {autodiscover_text(facts.autodiscover)}"
        ]
        blocks.append((state, lines))
    if logon is not None and logon.skipped == "autodiscover":  # under Autodiscover's line
        said = "Logon not tried: Autodiscover did not accept the credentials"
        if blocks and facts.autodiscover is not None:
            blocks[-1][1].append(said)
        else:
            blocks.append((Ok, [said]))
    blocks += frontdoor_blocks(verdict)
    doors = {d.address: d for d in facts.frontdoors or []}
    rpc = {r.address: r for r in facts.rpc or []}
    mapi = {m.address: m for m in facts.mapi or []}
    rpc_logon = {r.address: r for r in logon.rpc or []} if logon else {}
    mapi_logon = {m.address: m for m in logon.mapi or []} if logon else {}
    for node in facts.nodes:
        own = verdict.of(node.address) + frontdoor_shared(verdict, node.address)
        state = max((f.state for f in own), default=Ok)
        line = f"{node.address} {state_text(state)}"
        if own:
            line += ": " + "; ".join(_with_fix(f) for f in own)
        details = node_details(node, facts.now)
        if node.address in rpc:
            from .rpc import rpc_text

            details = "; ".join(d for d in (details, rpc_text(rpc[node.address])) if d)
        if node.address in mapi:
            from .logon import mapi_text

            details = "; ".join(d for d in (details, mapi_text(mapi[node.address])) if d)
        if node.address in doors:
            from .frontdoors import frontdoor_text

            said = frontdoor_text(doors[node.address], facts.now)
            details = "; ".join(d for d in (details, said) if d)
        if logon is not None:
            from .logon import logon_text

            said = logon_text(rpc_logon.get(node.address), mapi_logon.get(node.address))
            if said:
                details = "; ".join(d for d in (details, said) if d)
        lines = [line + (f" -- {details}" if details else "")]
        if facts.revocation is not None:
            from .revocation import revocation_text

            lines += [
                f"  revocation: {revocation_text(chain, facts.now)}"
                for chain in facts.revocation.chains
                if chain.addresses[0] == node.address
            ]
        if verbosity >= 1:
            for depth, cert in enumerate(node.chain):
                lines.append(
                    f"  [{depth}] {certificate_text(cert, facts.now)}"
                    f"; serial {cert.serial}; SHA-256 {cert.sha256}"
                )
        blocks.append((state, lines))
    # A stable sort: equal states keep the order above
    blocks.sort(key=lambda block: block[0], reverse=True)  # type: ignore[arg-type,return-value]
    return [line for _, block in blocks for line in block]


def frontdoor_shared(verdict: Verdict, address: str) -> list[Finding]:
    """The array's findings that concern a node too (a protocol down on every node)."""
    return [f for f in verdict.findings if address in f.evidence.get("down_on", ())]


def frontdoor_blocks(verdict: Verdict) -> list[tuple[object, list[str]]]:
    """The long output's line for a protocol down on every node (said once, for the array),
    with its state (the long output is ordered worst first)."""
    return [
        (f.state, [f"Health {state_text(f.state)}: {_phrase(f)}"])
        for f in verdict.findings
        if f.kind == k.HEALTH_DOWN_EVERYWHERE
    ]


def trace_lines(steps: list[tuple[float, str, str]]) -> list[str]:
    """``-vvv``: every step of the check, in order, with its time since the start."""
    return ["trace:"] + [
        f"  {at * 1000:7.1f} ms  {shown(where)}: {shown(what)}" for at, where, what in steps
    ]


def _with_fix(finding: Finding) -> str:
    text = _phrase(finding)
    if finding.kind == k.DIFFERENT_CERTIFICATE:
        ev = finding.evidence
        text += f" (thumbprint {ev['thumbprint']}, the others' {ev['their_thumbprint']})"
    if finding.fix is not None:
        from .principal import fix_text

        text += "; " + fix_text(finding.fix)
    return text


# The table of every finding's phrase is loaded with the first finding worded: a check without
# one never loads it.
def _phrase(finding: Finding, limit: int = LONG) -> str:
    from .phrases import phrase

    return phrase(finding, limit)


def _subject(finding: Finding, limit: int = LONG) -> str:
    from .phrases import subject

    return subject(finding, limit)
