"""What Autodiscover publishes, judged: design.md's Autodiscover rows as pure functions.

The published principal itself is judged against every node's certificate by the core rules
(it joins ``Policy.principals``); here are the findings about the publication alone.
"""

from __future__ import annotations

from dataclasses import dataclass

from nagiosplugin.state import Critical, Warn

from .autodiscover import AutodiscoverFacts
from .autodiscover_xml import Provider
from .judgement import Finding
from .principal import display, normalize, strip_prefix

# The Outlook providers that carry the Outlook Anywhere settings: EXPR, and EXHTTP (asked for
# with X-ClientCanHandle: ExHttpInfo, used by Outlook 2013+ against Exchange 2013+).
PROVIDERS = ("EXPR", "EXHTTP")


@dataclass(frozen=True)
class Published:
    """The principal one provider hands to clients."""

    provider: str
    server: str
    name: str | None  # without msstd:; None: no pinning ("None") or nothing to pin
    explicit: bool  # CertPrincipalName present (else msstd:<Server>)


def published(provider: Provider) -> Published:
    value = provider.cert_principal_name
    if value is None or not value.strip():
        return Published(provider.type, provider.server, provider.server or None, False)
    if value.strip().lower() == "none":
        return Published(provider.type, provider.server, None, True)
    return Published(provider.type, provider.server, strip_prefix(value), True)


def publications(facts: AutodiscoverFacts) -> list[Published]:
    if facts.document is None or facts.error_kind:
        return []
    found = []
    for kind in PROVIDERS:
        provider = facts.document.provider(kind)
        if provider is not None:
            found.append(published(provider))
    return found


def published_principals(facts: AutodiscoverFacts) -> tuple[str, ...]:
    """The principal names to check against the certificates (each once)."""
    names: list[str] = []
    for item in publications(facts):
        if item.name and all(_same(item.name, n) is False for n in names):
            names.append(item.name)
    return tuple(names)


def expr_server(facts: AutodiscoverFacts) -> str | None:
    """The EXPR Server: the Outlook Anywhere host name when -H is not given."""
    if facts.document is None or facts.error_kind:
        return None
    for kind in PROVIDERS:
        provider = facts.document.provider(kind)
        if provider is not None and provider.server:
            return provider.server
    return None


def principals_to_check(
    expected: str | None, host: str | None, facts: AutodiscoverFacts
) -> tuple[str, ...]:
    """-P and every published principal, each once (compared as names); else the host."""
    wanted = [p for p in (expected, *published_principals(facts)) if p]
    unique = {p.lower().rstrip("."): p for p in reversed(wanted)}
    return tuple(reversed(unique.values())) or ((host,) if host else ())


def _same(a: str, b: str) -> bool:
    na, nb = normalize(a), normalize(b)
    return na is not None and na == nb


def judge_autodiscover(facts: AutodiscoverFacts, expected: str | None) -> list[Finding]:
    """Findings about the publication; ``expected`` is -P (without prefix) or None."""
    who = f"Autodiscover for {facts.final_email}"
    if facts.error_kind == "unauthorized":
        return [Finding(Critical, f"{who}: wrong credentials ({facts.error})")]
    if facts.error_kind == "error-response":
        return [Finding(Critical, f"{who}: the server answered {facts.error}")]
    if facts.error_kind:
        return [Finding(Critical, f"{who}: {facts.error}")]
    items = publications(facts)
    if not any(item.provider == "EXPR" for item in items):
        return [
            Finding(
                Warn,
                f"{who}: no EXPR provider published (Outlook Anywhere is not published"
                " for this mailbox)",
            )
        ]
    findings = []
    unpinned = [i.provider for i in items if i.name is None and i.explicit]
    if unpinned:
        names = " and ".join(unpinned)
        findings.append(
            Finding(
                Warn,
                f"{who}: {names} CertPrincipalName is None: mutual authentication is not"
                ' enforced; fix: Set-OutlookProvider EXPR -CertPrincipalName:"msstd:<certificate'
                ' CN>"',
            )
        )
    findings += [
        Finding(Warn, f"{who}: {i.provider} publishes no Server")
        for i in items
        if i.name is None and not i.explicit
    ]
    if expected is not None:
        differ: dict[str, list[Published]] = {}
        for item in items:
            if item.name is not None and not _same(item.name, expected):
                differ.setdefault(item.name.lower(), []).append(item)
        for group in differ.values():
            names = " and ".join(i.provider for i in group)
            how = "" if group[0].explicit else " (no CertPrincipalName: msstd:<Server>)"
            findings.append(
                Finding(
                    Critical,
                    f"{who}: {names} publishes {display(group[0].name or '')}{how}, but -P"
                    f" expects {display(expected)}; clients pin what is published; fix: correct"
                    " -P, or Set-OutlookProvider"
                    f' {group[0].provider} -CertPrincipalName:"{display(expected)}"',
                )
            )
    return findings


def describe(facts: AutodiscoverFacts) -> str:
    """One long-output line: what was asked, where it answered, what it publishes."""
    parts = [f"Autodiscover {facts.email}"]
    if facts.final_email != facts.email:
        parts.append(f"redirected to {facts.final_email}")
    if facts.url:
        parts.append(f"answered by {facts.url}")
    if facts.hops:
        parts.append(f"{len(facts.hops)} redirect(s)")
    for item in publications(facts):
        value = display(item.name) if item.name else "None"
        how = "CertPrincipalName" if item.explicit else "no CertPrincipalName, so"
        parts.append(f"{item.provider} Server {item.server or '(none)'}, {how} {value}")
    if facts.attempts:
        tried = ", ".join(f"{a.url}: {a.outcome}" for a in facts.attempts[:8])
        parts.append(f"tried {tried}")
    parts.append(f"{facts.elapsed * 1000:.0f} ms")
    return "; ".join(parts)
