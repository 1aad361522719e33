"""What Autodiscover publishes, judged: the Autodiscover rows of the states table, pure.

The published principal itself is judged against every node's certificate by the node rules
(``judgement.principals``); here are the findings about the publication alone.
"""

from __future__ import annotations

from nagiosplugin.state import Critical, Unknown, Warn

from ..facts.certificate import CertFacts
from ..facts.http import AutodiscoverFacts, Provider
from . import findings as k
from .findings import Finding, Fix
from .kerberos import state_of
from .policy import Policy
from .principal import normalize, publishable, satisfied, strip_prefix

# The Outlook providers that carry the Outlook Anywhere settings: EXPR, and EXHTTP (asked for
# with X-ClientCanHandle: ExHttpInfo, used by Outlook 2013+ against Exchange 2013+).
PROVIDERS = ("EXPR", "EXHTTP")


class Published:
    """The principal one provider hands to clients."""

    __slots__ = ("explicit", "name", "provider", "server", "ssl")

    def __init__(
        self, provider: str, server: str, name: str | None, explicit: bool, ssl: str = ""
    ) -> None:
        self.provider = provider
        self.server = server
        self.name = name  # without msstd:; None: no pinning ("None") or nothing to pin
        self.explicit = explicit  # CertPrincipalName present (else msstd:<Server>)
        self.ssl = ssl  # "On" / "Off" as published


def published(provider: Provider) -> Published:
    value = provider.cert_principal_name
    kind, server, ssl = provider.type.upper(), provider.server, provider.ssl
    if value is None or not value.strip():
        return Published(kind, server, server or None, False, ssl)
    if value.strip().lower() == "none":
        return Published(kind, server, None, True, ssl)
    return Published(kind, server, strip_prefix(value), True, ssl)


def publications(facts: AutodiscoverFacts) -> list[Published]:
    if facts.document is None or facts.error_kind:
        return []
    found = []
    for kind in PROVIDERS:
        provider = facts.document.provider(kind)
        if provider is not None:
            found.append(published(provider))
    return found


def published_principals(facts: AutodiscoverFacts) -> list[tuple[str, str]]:
    """The principal names clients pin, each once (compared as names), with the providers that
    publish it ("EXPR", "EXPR and EXHTTP")."""
    names: list[tuple[str, list[str]]] = []
    for item in publications(facts):
        if not item.name:
            continue
        same = [providers for name, providers in names if _same(item.name, name)]
        if same:
            same[0].append(item.provider)
        else:
            names.append((item.name, [item.provider]))
    return [(name, " and ".join(providers)) for name, providers in names]


def expr_server(facts: AutodiscoverFacts) -> str | None:
    """The EXPR Server (else EXHTTP's): the Outlook Anywhere host name when -H is not given."""
    for item in publications(facts):
        if item.server:
            return item.server
    return None


def _same(a: str, b: str) -> bool:
    na, nb = normalize(a), normalize(b)
    return na is not None and na == nb


def judge_autodiscover(
    facts: AutodiscoverFacts, policy: Policy, leaves: list[CertFacts]
) -> list[Finding]:
    """Findings about the publication; the published principal itself is judged against every
    node's certificate with the node (``judgement.principals``)."""
    email = facts.final_email or facts.email
    if facts.error_kind:
        evidence = {
            "email": email,
            "redirected": email != facts.email,
            "failure": facts.error_kind,
            "detail": facts.error,
            "last": facts.attempts[-1].outcome if facts.attempts else "",
        }
        # pyspnego missing is this poller's installation, not the array's fault
        state = Unknown if facts.error_kind == "ntlm-missing" else Critical
        if facts.error_kind.startswith("kerberos-"):  # the poller's credential or KDC: UNKNOWN
            state = state_of(facts.error_kind[9:])
        return [Finding(k.AUTODISCOVER_FAILED, state, None, evidence)]
    items = publications(facts)
    if not items:
        return [Finding(k.NOT_PUBLISHED, Warn, None, {"email": email})]
    mode = policy.match_mode
    found = []
    for item in items:
        if item.ssl.lower() == "off":
            found.append(Finding(k.SSL_OFF, Warn, None, {"provider": item.provider}))
        if item.name is None and item.explicit:
            safe = publishable(leaves, mode)
            fix = Fix(publish=safe, provider=item.provider) if safe else None
            found.append(Finding(k.UNPINNED, Warn, None, {"provider": item.provider}, fix))
        elif item.name is None:
            found.append(Finding(k.NO_SERVER, Warn, None, {"provider": item.provider}))
    expected = policy.principal
    if expected is None:
        return found
    for name, providers in published_principals(facts):
        if _same(name, expected):
            continue
        evidence = {"provider": providers, "published": name, "expected": expected}
        if satisfied(name, leaves, mode):  # -P is what is wrong
            fix = Fix(correct="-P", value=name)
        elif satisfied(expected, leaves, mode):  # the publication is what is wrong
            fix = Fix(publish=expected, provider=providers)
        else:  # both, and the certificate
            fix = Fix(certificate=name, correct="-P", value=name)
        found.append(Finding(k.PRINCIPAL_DISAGREES, Critical, None, evidence, fix))
    return found
