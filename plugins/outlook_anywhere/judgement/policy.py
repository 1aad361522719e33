"""What the command line asks of the array: the thresholds and the policy every rule reads.

One floor below the rules: ``verdict`` and ``autodiscover`` both read a :class:`Policy`, and
neither needs the other to have one.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from nagiosplugin import Range


class Threshold:
    """``-w``/``-c``: a plain number N means "fewer than N days" (the range ``N:``); anything
    with ``:``, ``@`` or ``~`` is a Nagios range applied to days_left as written."""

    __slots__ = ("given", "plain", "range", "text")

    def __init__(self, text: str, range: Range, plain: bool = False, given: str = "") -> None:
        self.text = text  # as printed in the perfdata
        self.range = range
        self.plain = plain  # a number of days, not a range: the findings need not name it
        self.given = given or text  # as the user wrote it


class FrontDoorPolicy:
    """What the command line asks of the front doors (``judgement.frontdoors``)."""

    def __init__(
        self,
        auth_warning: Threshold,
        auth_critical: Threshold,
        min_build: str | None = None,
        min_build_critical: str | None = None,
    ) -> None:
        self.auth_warning = auth_warning  # --auth-warning
        self.auth_critical = auth_critical  # --auth-critical
        self.min_build = min_build  # --min-build X.Y.Z.W: below it WARNING
        self.min_build_critical = min_build_critical  # --min-build-critical: below it CRITICAL


class Policy:
    """What the command line asks of every node."""

    def __init__(
        self,
        principal: str | None,
        host: str | None,
        match_mode: str,
        warning: Threshold,
        critical: Threshold,
        check_trust: bool,
        expect_auth: tuple[str, ...] = (),
        extended_protection: str = "accept",
        frontdoors: FrontDoorPolicy | None = None,
    ) -> None:
        self.principal = principal  # -P, without the msstd: prefix
        self.host = host  # -H
        self.match_mode = match_mode  # "cn" or "cn-or-san"
        self.warning = warning
        self.critical = critical
        self.check_trust = check_trust
        self.expect_auth = expect_auth
        self.extended_protection = extended_protection  # --extended-protection
        self.frontdoors = frontdoors  # --auth-certificate, --health, --build
