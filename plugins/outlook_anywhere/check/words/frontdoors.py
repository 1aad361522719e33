"""The words of the front doors (``judgement.frontdoors``: ``--auth-certificate``, ``--health``,
``--build``): the Exchange Auth certificate and its metadata, a protocol down, a build behind or
below; the node's part of the long output, and the first line's when all is well."""

from __future__ import annotations

from ...facts.certificate import iso_date
from .shared import LONG, days_text, shown, wire

_METADATA = "Auth metadata"
_METADATA_FAILURES = {
    "unauthorized": "answered 401: anonymous access refused (partner applications cannot read it)",
    "login-page": "answered a login page (HTML) instead of the JSON document",
    "not-metadata": "is JSON without a keys[] list",
    "no-signing-key": "publishes no x509Certificate signing key",
    "bad-base64": "publishes a signing key whose certificate is not valid base64",
}


def product_line(build: object) -> str:
    """The product a build number belongs to (15.2 from build 2562 is Subscription Edition)."""
    from ...facts.frontdoors import parse_build

    parsed = parse_build(str(build))
    if parsed is None or parsed[0] != 15:
        return "unknown product line"
    minor = parsed[1]
    if minor == 2 and len(parsed) > 2 and parsed[2] >= 2562:
        return "Exchange Server Subscription Edition"
    return {0: "Exchange 2013", 1: "Exchange 2016", 2: "Exchange 2019"}.get(
        minor, "unknown product line"
    )


def auth_expires(ev: dict[str, object], limit: int) -> str:
    days, date = ev["days"], ev["date"]
    assert isinstance(days, float)
    if ev.get("range"):
        where = "inside" if str(ev["range"]).startswith("@") else "outside"
        return (
            f"Exchange Auth certificate: {days_text(days)} left, {where} the {ev['level']} range"
            f" {ev['range']} (expires {date})"
        )
    return f"Exchange Auth certificate expires in {days_text(days)} ({date})"


def auth_expired(ev: dict[str, object], limit: int) -> str:
    days = ev["days"]
    assert isinstance(days, float)
    ago = days_text(-days) if days <= -0.1 else "less than 0.1 days"
    return f"Exchange Auth certificate expired {ago} ago ({ev['date']})"


def auth_different(ev: dict[str, object], limit: int) -> str:
    others = ev["others"]
    text = (
        f"publishes another Exchange Auth certificate than the {others} other"
        f" node{'s' * (others != 1)} (expires {ev['date']}, theirs {ev['their_date']})"
    )
    if limit < LONG:
        return text
    return text + f" (thumbprint {ev['thumbprint']}, theirs {ev['their_thumbprint']})"


def auth_unavailable(ev: dict[str, object], limit: int) -> str:
    failure, detail = str(ev.get("failure")), wire(ev.get("detail", ""), limit)
    if failure == "status":
        said = f"answered {wire(ev.get('status', ''), limit)}"
    elif failure == "not-json":
        said = f"is not JSON ({detail})"
    elif failure == "too-deep":
        said = f"is nested more than {detail} levels deep: not read"
    elif failure == "bad-certificate":
        said = f"publishes a signing key whose certificate does not parse ({detail})"
    elif failure in _METADATA_FAILURES:
        said = _METADATA_FAILURES[failure]
    else:  # no answer: a timeout, a body over the bound, a network failure
        said = f"not read: {detail or 'no answer'}"
    everywhere = ", no node publishes the Exchange Auth certificate" if ev.get("everywhere") else ""
    return f"{_METADATA} {said}{everywhere}"


def health_down(ev: dict[str, object], limit: int) -> str:
    vdir = shown(ev["vdir"], limit)
    return f"{vdir} is down: /{vdir}/healthcheck.htm {_health_said(ev.get('status'), limit)}"


def _health_said(status: object, limit: int) -> str:
    text = str(status or "")
    if text[:3].isdigit():
        return f"answered {wire(text, limit)}"
    return f"not read: {wire(text, limit) or 'no answer'}"


def health_everywhere(ev: dict[str, object], limit: int) -> str:
    vdir, nodes, statuses = shown(ev["vdir"], limit), ev["down_on"], ev["statuses"]
    assert isinstance(nodes, (list, tuple)) and isinstance(statuses, (list, tuple))
    said = ", ".join(_health_said(s, limit) for s in statuses[:3])
    return f"{vdir} is down on every node ({len(nodes)}): /{vdir}/healthcheck.htm {said}"


def build_behind(ev: dict[str, object], limit: int) -> str:
    ahead = ev["ahead"]
    return (
        f"build {ev['build']} ({product_line(ev['build'])}) is behind {ev['newest']} of"
        f" {ahead} other node{'s' * (ahead != 1)}: an update missed?"
    )


def build_below(ev: dict[str, object], limit: int) -> str:
    return (
        f"build {ev['build']} ({product_line(ev['build'])}) is below {ev['option']}"
        f" {shown(ev['floor'], limit)}"
    )


def build_unknown(ev: dict[str, object], limit: int) -> str:
    if ev.get("error"):
        return f"build not read: GET /owa/ {_health_said(ev['error'], limit)}"
    if ev.get("sent"):
        return f"X-OWA-Version '{wire(ev['sent'], 40)}' is not a build number"
    status = wire(ev.get("status", ""), limit)
    return f"build not read: GET /owa/ answered {status} without X-OWA-Version"


def frontdoor_text(door: object, now: float) -> str:
    """What one node's front doors said, for its long-output line."""
    from ...facts.frontdoors import FrontDoorFacts

    assert isinstance(door, FrontDoorFacts)
    parts = []
    key = door.auth.latest() if door.auth is not None else None
    if door.auth is not None and key is not None:
        text = (
            f"Auth certificate {shown(key.subject)}, {key.days_left(now):.1f} days left"
            f" ({iso_date(key.not_after)}), thumbprint {key.thumbprint}"
        )
        if len(door.auth.keys) > 1:
            text += (
                f" ({len(door.auth.keys)} signing keys published: a next certificate? the one"
                " that expires last is judged)"
            )
        parts.append(text)
    if door.health is not None:
        ok = [page.vdir for page in door.health if page.ok]
        text = f"healthcheck.htm 200 for {len(ok)}/{len(door.health)}"
        if ok:
            text += f" ({', '.join(shown(v) for v in ok)})"
        if door.server:
            text += f", server {wire(door.server)}"
        parts.append(text)
    if door.build:
        parts.append(f"build {wire(door.build, 40)} ({product_line(door.build)})")
    return "; ".join(parts)


def frontdoors_all_well(doors: list[object], now: float) -> str:
    """The front doors' part of the first line when every node is OK."""
    from ...facts.frontdoors import FrontDoorFacts

    text = ""
    keys = [d.auth.latest() for d in doors if isinstance(d, FrontDoorFacts) and d.auth]
    dated = [key for key in keys if key is not None]
    if dated:
        first = min(dated, key=lambda key: key.not_after)
        text += (
            f", Auth certificate {first.days_left(now):.1f} days left"
            f" (expires {iso_date(first.not_after)})"
        )
    pages = [p for d in doors if isinstance(d, FrontDoorFacts) for p in d.health or []]
    if pages:
        text += f", {sum(p.ok for p in pages)}/{len(pages)} healthcheck.htm OK"
    builds = {d.build for d in doors if isinstance(d, FrontDoorFacts) and d.build}
    if len(builds) == 1:
        build = builds.pop()
        text += f", build {wire(build, 40)} ({product_line(build)})"
    return text
