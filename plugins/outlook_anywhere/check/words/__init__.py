"""Every sentence the plugin writes about what it found, made from findings and facts.

The judgement decides and records data (``findings``); the probes record facts with kinds.  This
package is the one place that turns them into words: the phrase of a finding (the same on the
first line and in the long output), its fix, and the descriptions of nodes, Autodiscover and DNS.

It is laid out in rooms by topic, each named after the judgement module whose findings it words:
``principal`` (a certificate against the principal, and the fix), ``verdict`` (a connection,
this installation, the array, DNS), ``autodiscover``, ``rpc``, ``logon`` (MAPI over HTTP and
logging on), ``kerberos``, ``revocation``, ``proxy``, ``frontdoors``.  ``phrases`` says which
room words which kind; ``summary`` writes the first line and the long output; ``shared``, the
floor, shows names and server text (``shown``, ``wire``).  At the top, a room imports only
``shared`` (and ``summary`` the ``phrases`` table); any other room where it has something to say,
so that a check which did not run an optional part never loads its words.

The names other modules use are here; the rest are in their rooms (``words.logon.logon_text``,
``words.principal.fix_text``, ``words.verdict.resolution_text``...).
"""

from .shared import LONG, SHORT, install_hint, shown, wire
from .summary import certificate_text, headline, long_output, node_details, trace_lines

__all__ = [
    "LONG",
    "SHORT",
    "certificate_text",
    "headline",
    "install_hint",
    "long_output",
    "node_details",
    "phrase",
    "shown",
    "subject",
    "trace_lines",
    "wire",
]


def __getattr__(name: str) -> object:
    """``phrase`` and ``subject``, from their room when first asked for: the table of every
    finding's phrase is not loaded by a check without a finding."""
    if name in ("phrase", "subject"):
        from . import phrases

        return getattr(phrases, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
