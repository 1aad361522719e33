"""The mutual-authentication principal and how Windows matches it against a certificate.

Pure functions, no I/O.  The rules (docs/design.md, "Principal names"):

* ``msstd:NAME`` names the certificate's Subject CN; the prefix is case-insensitive and optional
  on the command line.
* Names compare case-insensitively with one trailing dot ignored; Unicode labels are compared in
  their IDNA (punycode) form, so ``mäil.contoso.com`` and ``xn--mil-qla.contoso.com`` are equal.
* Only the first CN in the subject's encoded order counts.
* A name holding a NUL byte or any other control character never matches anything.
* A wildcard is only ever a whole leftmost label (``*.contoso.com``) standing for exactly one
  label; it is told apart from an exact match because the Remote Connectivity Analyzer and older
  Windows do not expand it.  A wildcard never matches an IP address.
* A principal worth publishing (or expecting with ``-P``) is ``FQDN`` or ``*.FQDN``: no scheme,
  port, path, comma, space or ``CN=``, no empty label, not an IP address, not a bare wildcard.
"""

from __future__ import annotations

from collections.abc import Sequence

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (start-up time)
if TYPE_CHECKING:
    from ..facts.certificate import CertFacts

PREFIX = "msstd:"


class Match:
    """How (and whether) a principal is satisfied by a certificate: one of these strings.

    Plain constants, not an Enum: creating an Enum class costs start-up time on every check."""

    CN = "CN"
    SAN = "SAN"
    CN_WILDCARD = "CN wildcard"
    SAN_WILDCARD = "SAN wildcard"
    NONE = "none"


def strip_prefix(value: str) -> str:
    """Return the name of a principal given with or without ``msstd:`` (any case)."""
    value = value.strip()
    if value[: len(PREFIX)].lower() == PREFIX:
        value = value[len(PREFIX) :].strip()
    return value


def display(name: str) -> str:
    """The principal as Outlook and Set-OutlookProvider spell it."""
    return PREFIX + name


def has_control_chars(text: str) -> bool:
    if text.isascii() and text.isprintable():  # nearly always: no character-by-character pass
        return False
    return any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in text)


def normalize(name: str) -> str | None:
    """The comparable form of a DNS-like name, or None when it must never match."""
    if not name or has_control_chars(name) or name != name.strip():
        return None
    if name.endswith("."):
        name = name[:-1]
    if not name:
        return None
    if not name.isascii():
        try:
            name = name.encode("idna").decode("ascii")
        except UnicodeError:
            return None
    return name.lower()


def is_ip(name: str) -> bool:
    """An IPv4 or IPv6 address (a wildcard never stands for one)."""
    import socket

    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, name)
            return True
        except (OSError, ValueError):
            pass
    return False


def problem(name: str) -> str:
    """Why ``name`` (without the prefix) is not a principal a client can pin; "" when it is.

    The name of ``-P``, and of any principal a fix proposes."""
    if not name:
        return "names no host"
    if has_control_chars(name):
        return "holds control characters"
    if any(ch.isspace() for ch in name):
        return "holds white space"
    if "://" in name or "/" in name:
        return "is a URL, not a host name"
    if name[:3].lower() == "cn=" or "=" in name:
        return "is a distinguished name, not a host name"
    if "," in name or ";" in name:
        return "names more than one host"
    if is_ip(name.strip("[]")):
        return "is an IP address"
    if ":" in name:
        return "holds a port or a scheme"
    bare = name[:-1] if name.endswith(".") else name
    labels = bare.split(".")
    if any(not label for label in labels):
        return "has an empty label"
    if "*" in bare:
        if labels[0] != "*" or "*" in bare[1:]:
            return "has a wildcard that is not a whole leftmost label"
        if labels[-1].isdigit():
            return "is a wildcard over an IP address"
        if len(labels) < 3:
            return "is a bare wildcard"
    normal = normalize(name)
    if normal is None or labels[-1].isdigit():
        return "is not a host name"
    for label in normal.split("."):
        if label != "*" and not all(ch.isalnum() or ch in "-_" for ch in label):
            return "is not a host name"
    return ""


def wildcard_covers(pattern: str, name: str) -> bool:
    """True when normalized ``pattern`` (``*.example.com``) expands to normalized ``name``."""
    if not pattern.startswith("*.") or "*" in pattern[2:] or "*" in name:
        return False
    if is_ip(name):
        return False
    suffix = pattern[2:]
    if "." not in suffix:  # "*.com" covers nothing a certificate could honestly claim
        return False
    label, _, rest = name.partition(".")
    return bool(label) and rest == suffix


def match(principal: str, cns: Sequence[str], sans: Sequence[str]) -> str:
    """Match the principal's name (no prefix) against the first CN, then the SAN DNS names."""
    wanted = normalize(principal)
    if wanted is None:
        return Match.NONE
    first_cn = normalize(cns[0]) if cns else None
    san_names = [n for n in (normalize(s) for s in sans) if n is not None]
    if first_cn == wanted:
        return Match.CN
    if wanted in san_names:
        return Match.SAN
    if first_cn is not None and wildcard_covers(first_cn, wanted):
        return Match.CN_WILDCARD
    if any(wildcard_covers(san, wanted) for san in san_names):
        return Match.SAN_WILDCARD
    return Match.NONE


# -- what a fix may propose -------------------------------------------------------------------


def satisfied(name: str, leaves: list[CertFacts], mode: str) -> bool:
    """Would every certificate served be OK against this principal?  Only such a name is ever
    proposed as a fix."""
    if problem(name) or not leaves:
        return False
    ok = (Match.CN, Match.SAN) if mode == "cn-or-san" else (Match.CN,)
    return all(match(name, leaf.cns, leaf.sans) in ok for leaf in leaves)


def publishable(leaves: list[CertFacts], mode: str) -> str | None:
    """The certificates' own name, when publishing it would satisfy every one of them."""
    for leaf in leaves:
        if leaf.cns and satisfied(leaf.cns[0], leaves, mode):
            return leaf.cns[0]
    return None
