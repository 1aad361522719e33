"""The words of a node whose certificate could not be judged, of this installation, of the array
and of DNS (``judgement.verdict``'s ``judge_node``, ``judge_fleet``, ``judge_resolution``): the
connection that failed, the module that cannot be imported, the certificates that differ, the
host name without an address.

A host name of the Autodiscover lookup without an address reads the same: the check hands
:func:`resolution_failure` down to the lookup (``autodiscover.lookup.discover``), which sits
below the words and does not import them.
"""

from __future__ import annotations

from ...output import printable
from .shared import LONG, SHORT, shown

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from ...facts import Resolution


def connection(ev: dict[str, object], limit: int) -> str:
    failure, detail = ev.get("failure"), shown(ev.get("detail", ""), limit)
    during = "during the TLS handshake" if ev.get("phase") == "handshake" else "while connecting"
    if failure == "refused":
        return "connection refused"
    if failure == "reset":
        return f"connection reset {during}"
    if failure == "timeout":
        if ev.get("phase") == "handshake":
            return "TLS handshake not finished within the deadline"
        return "TCP connect not finished within the deadline"
    if failure == "not-tls":
        sent = printable(str(ev.get("detail", "")), LONG, ".")
        return f"not TLS: server sent '{shown(sent.strip(), 40)}'"
    if failure == "closed":
        return f"server closed the connection {during}"
    if failure == "tls-alert":
        return f"TLS handshake failed: server sent TLS alert: {detail}"
    if failure == "tls-failed":
        return f"TLS handshake failed: {detail}"
    if failure == "network":
        return f"{detail} {during}"
    return f"internal error: {detail}"


def broken(ev: dict[str, object], limit: int) -> str:
    return f"broken installation: Python module {shown(ev['module'], limit)} cannot be imported"


def different(ev: dict[str, object], limit: int) -> str:
    others = ev["others"]
    nodes = "the other node" if others == 1 else f"the other {others} nodes"
    text = f"certificates differ: another certificate than {nodes}"
    if ev["date"] != ev["their_date"]:
        text += f" (expires {ev['date']} instead of {ev['their_date']})"
    return text


def no_address(ev: dict[str, object], limit: int) -> str:
    return resolution_text(str(ev["failure"]), str(ev.get("detail", "")), str(ev["source"]))


def resolution_text(failure: str, detail: str, source: str) -> str:
    via = f" ({source})"
    if failure == "nxdomain":
        return "no such name (NXDOMAIN)" + via
    if failure == "no-aaaa":
        return "no IPv6 (AAAA) address" + via
    if failure == "no-a":
        return "no IPv4 (A) address" + via
    if failure == "no-address":
        return "the name has no A or AAAA address" + via
    if failure == "timeout":
        return "DNS lookup timed out" + via
    if failure == "servfail":
        return "DNS lookup failed: server failure" + (f" ({detail}, {source})" if detail else via)
    if failure == "excluded":
        return "-4/-6 excludes every address"
    return f"DNS lookup failed: {shown(detail, SHORT)}" + via


def resolution_failure(resolution: Resolution) -> str:
    return resolution_text(resolution.failure, resolution.detail, resolution.source)
