"""The front-door rows of the states table (``--auth-certificate``, ``--health``, ``--build``),
as pure functions: facts in, findings (data) out.

* The Auth certificate: each node's signing key that expires last is judged against its own
  thresholds; nodes publishing another one than the majority are named; a node without a
  readable signing key is WARNING, CRITICAL when no node has one.
* Health: a healthcheck page not 200 is CRITICAL naming node and protocol; a protocol down on
  every node (of several) is said once, for the array.
* Build: nodes behind the newest build are WARNING; a build below ``--min-build`` WARNING,
  below ``--min-build-critical`` CRITICAL; a node whose build cannot be read is WARNING.
"""

from __future__ import annotations

from nagiosplugin.state import Critical, ServiceState, Warn

from ..facts.certificate import iso_date
from ..facts.frontdoors import FrontDoorFacts, parse_build
from . import findings as k
from .findings import Finding
from .policy import FrontDoorPolicy


def judge_frontdoors(
    doors: list[FrontDoorFacts], policy: FrontDoorPolicy, now: float
) -> list[Finding]:
    return _auth(doors, policy, now) + _health(doors) + _builds(doors, policy)


# -- the Auth certificate ---------------------------------------------------------------------


def _auth(doors: list[FrontDoorFacts], policy: FrontDoorPolicy, now: float) -> list[Finding]:
    asked = [d for d in doors if d.auth is not None]
    having = [d for d in asked if d.auth is not None and d.auth.latest() is not None]
    found = []
    for door in asked:
        auth = door.auth
        assert auth is not None
        key = auth.latest()
        if key is None:
            state = Warn if having else Critical
            evidence = {
                "failure": auth.failure or "no-signing-key",
                "status": auth.status,
                "detail": auth.detail,
                "everywhere": not having,
            }
            found.append(Finding(k.AUTH_UNAVAILABLE, state, door.address, evidence))
            continue
        days = round(key.days_left(now), 1)
        evidence = {"days": days, "date": iso_date(key.not_after), "thumbprint": key.thumbprint}
        if key.not_after < now:
            found.append(Finding(k.AUTH_EXPIRED, Critical, door.address, evidence))
            continue
        for state, level, threshold in (
            (Critical, "critical", policy.auth_critical),
            (Warn, "warning", policy.auth_warning),
        ):
            if not threshold.range.match(days):
                if not threshold.plain:
                    evidence.update(level=level, range=threshold.given)
                found.append(Finding(k.AUTH_EXPIRES_SOON, state, door.address, evidence))
                break
    return found + _auth_differs(having)


def _auth_differs(having: list[FrontDoorFacts]) -> list[Finding]:
    """Nodes publishing another certificate than the majority (on a tie: than the first)."""
    groups: dict[str, list[FrontDoorFacts]] = {}
    for door in having:
        assert door.auth is not None
        key = door.auth.latest()
        assert key is not None
        groups.setdefault(key.thumbprint, []).append(door)
    if len(groups) < 2:
        return []
    first = next(iter(groups))
    majority = max(groups, key=lambda t: (len(groups[t]), t == first))
    ref = groups[majority][0].auth.latest()  # type: ignore[union-attr]
    assert ref is not None
    found = []
    for thumbprint, members in groups.items():
        if thumbprint == majority:
            continue
        for door in members:
            key = door.auth.latest()  # type: ignore[union-attr]
            assert key is not None
            evidence = {
                "thumbprint": thumbprint,
                "date": iso_date(key.not_after),
                "their_thumbprint": majority,
                "their_date": iso_date(ref.not_after),
                "others": len(groups[majority]),
            }
            found.append(Finding(k.AUTH_DIFFERENT, Warn, door.address, evidence))
    return found


# -- health -----------------------------------------------------------------------------------


def _health(doors: list[FrontDoorFacts]) -> list[Finding]:
    asked = [d for d in doors if d.health is not None]
    down: dict[str, list[tuple[str, str]]] = {}  # vdir -> (node, what it answered)
    for door in asked:
        for page in door.health or []:
            if not page.ok:
                down.setdefault(page.vdir, []).append((door.address, page.status or page.error))
    found = []
    for vdir, where in down.items():
        if len(asked) > 1 and len(where) == len(asked):
            statuses = sorted({said for _, said in where})
            evidence = {"vdir": vdir, "down_on": [n for n, _ in where], "statuses": statuses}
            found.append(Finding(k.HEALTH_DOWN_EVERYWHERE, Critical, None, evidence))
            continue
        for node, said in where:
            evidence = {"vdir": vdir, "status": said}
            found.append(Finding(k.HEALTH_DOWN, Critical, node, evidence))
    return found


# -- builds -----------------------------------------------------------------------------------


def padded(build: tuple[int, ...]) -> tuple[int, ...]:
    """``15.2.1544`` compares as ``15.2.1544.0``."""
    return build + (0,) * (4 - len(build))


def _builds(doors: list[FrontDoorFacts], policy: FrontDoorPolicy) -> list[Finding]:
    asked = [d for d in doors if d.build is not None or d.build_error]
    known: dict[str, tuple[int, ...]] = {}
    found = []
    for door in asked:
        build = parse_build(door.build)
        if build is None:
            evidence = {"sent": door.build or "", "status": door.build_status}
            evidence["error"] = door.build_error
            found.append(Finding(k.BUILD_UNKNOWN, Warn, door.address, evidence))
        else:
            known[door.address] = padded(build)
    if not known:
        return found
    newest = max(known.values())
    newest_text = ".".join(map(str, newest))
    for address, build in known.items():
        text = ".".join(map(str, build))
        below = _below(build, policy)
        if below is not None:
            state, floor, option = below
            below_ev: dict[str, object] = {"build": text, "floor": floor, "option": option}
            found.append(Finding(k.BUILD_BELOW, state, address, below_ev))
        if build < newest:
            ahead = sum(1 for b in known.values() if b == newest)
            behind_ev: dict[str, object] = {"build": text, "newest": newest_text, "ahead": ahead}
            found.append(Finding(k.BUILD_BEHIND, Warn, address, behind_ev))
    return found


def _below(build: tuple[int, ...], policy: FrontDoorPolicy) -> tuple[ServiceState, str, str] | None:
    for state, floor, option in (
        (Critical, policy.min_build_critical, "--min-build-critical"),
        (Warn, policy.min_build, "--min-build"),
    ):
        parsed = parse_build(floor)
        if floor and parsed is not None and build < padded(parsed):
            return state, floor, option
    return None
