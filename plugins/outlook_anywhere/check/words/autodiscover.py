"""The words of Autodiscover (``judgement.autodiscover``, ``--autodiscover``): the lookup that
failed, what is published or is not, the principal it disagrees on with ``-P``; and the long
output's line of what was asked, where it answered and what it publishes."""

from __future__ import annotations

from ...judgement.principal import display
from .shared import LONG, install_hint, shown, wire


def failed(ev: dict[str, object], limit: int) -> str:
    kind = ev.get("failure")
    email = ev["email"]
    who = f"Autodiscover for {wire(email, limit) if ev.get('redirected') else shown(email, limit)}"
    first_line = limit < LONG  # the reason first; the endpoints tried are in the long output
    detail = shown(ev.get("detail", ""), LONG)
    if kind == "unauthorized":
        if first_line:
            return f"{who}: wrong user name or password (HTTP 401)"
        return f"{who}: wrong credentials ({detail})"
    if kind == "ntlm-missing":
        text = (
            "broken installation: Python module pyspnego is not installed"
            f" ({who} accepts only NTLM/Negotiate)"
        )
        return text if first_line else f"{text}, {detail}: {shown(install_hint('pyspnego'))}"
    if isinstance(kind, str) and kind.startswith(("kerberos-", "ntlm-not-", "basic-not-")):
        from .kerberos import autodiscover_kerberos, kerberos_short

        said = autodiscover_kerberos(kind, ev.get("detail", ""))
        if first_line:  # what is wrong; the why and the fix are in the long output
            said = kerberos_short(said)
        return f"{who}: {said}"
    if kind == "error-response":
        return f"{who}: the server answered {detail}"
    if kind == "unreachable" and first_line and ev.get("last"):
        return f"{who}: no endpoint answered (last: {shown(ev['last'], LONG)})"
    return f"{who}: {detail}"


def not_published(ev: dict[str, object], limit: int) -> str:
    return (
        f"Autodiscover for {shown(ev['email'], limit)} publishes neither EXPR nor EXHTTP"
        " (Outlook Anywhere is not published for this mailbox)"
    )


def unpinned(ev: dict[str, object], limit: int) -> str:
    return (
        f"Autodiscover publishes {ev['provider']} CertPrincipalName None: mutual authentication"
        " is not enforced"
    )


def ssl_off(ev: dict[str, object], limit: int) -> str:
    return (
        f"Autodiscover publishes {ev['provider']} with SSL Off: no TLS, so no mutual authentication"
    )


def no_server(ev: dict[str, object], limit: int) -> str:
    return f"Autodiscover publishes {ev['provider']} without a Server"


def disagrees(ev: dict[str, object], limit: int) -> str:
    verb = "publish" if " and " in str(ev["provider"]) else "publishes"
    return (
        f"Autodiscover {ev['provider']} {verb} {display(wire(ev['published'], limit))}, -P"
        f" expects {display(shown(ev['expected'], limit))}"
    )


def autodiscover_text(facts: object) -> str:
    """One long-output line: what was asked, where it answered, what it publishes."""
    from ...facts.http import AutodiscoverFacts
    from ...judgement.autodiscover import publications

    assert isinstance(facts, AutodiscoverFacts)

    def named(value: str) -> str:
        return wire(value) if value in facts.from_servers else shown(value)

    parts = [f"Autodiscover {shown(facts.email)}"]
    if facts.final_email != facts.email:
        parts.append(f"redirected to {named(facts.final_email)}")
    if facts.url:
        parts.append(f"answered by {named(facts.url)}")
    if facts.hops:
        parts.append(f"{len(facts.hops)} redirect(s)")
    for item in publications(facts):
        value = display(wire(item.name)) if item.name else "None"
        how = "CertPrincipalName" if item.explicit else "no CertPrincipalName, so"
        ssl = f", SSL {wire(item.ssl, 8)}" if item.ssl else ""
        parts.append(f"{item.provider} Server {wire(item.server or '(none)')}{ssl}, {how} {value}")
    if facts.attempts:
        tried = ", ".join(f"{named(a.url)}: {shown(a.outcome)}" for a in facts.attempts[:8])
        parts.append(f"tried {tried}")
    parts.append(f"{facts.elapsed * 1000:.0f} ms")
    return "; ".join(parts)
