"""What the engine reads: one status line with perfdata, then the long output.

nagiosplugin prints long output only at ``-v`` and then moves the perfdata to the last line;
operators want the per-node lines in every notification and the perfdata on the first line
(docs/design.md), so the text is assembled here from the Check's own summary and perfdata.
"""

from __future__ import annotations

import nagiosplugin

NAME = "OUTLOOK_ANYWHERE"
# The longest status line before " | ": notifications, lock screens and list views cut there.
FIRST_LINE_MAX = 200
# Every form the password may take in what a server sends back (credentials.remember fills it).
SECRETS: list[str] = []


# Characters a web front end would read as markup: Icinga Web 2 switches a plugin output holding
# HTML into HTML mode, where an <img> from a certificate makes every operator's browser fetch its
# URL, and an entity would be decoded. They are shown escaped, like control characters.
MARKUP = "<>&"


def clean(text: str) -> str:
    """Printable, one line, no "|" (the engines split performance data on it), and no markup:
    ``<``, ``>`` and ``&`` are shown as ``\\x3c``, ``\\x3e`` and ``\\x26``.  A backslash before
    ``n`` or ``t`` is shown as ``\\x5c``: Icinga Web 2 turns a written-out ``\\n`` into a line
    break, which would let a name split a node's line in two.  Applying it twice changes nothing.
    """
    if (  # nearly always: no character-by-character pass
        "|" not in text
        and "<" not in text
        and ">" not in text
        and "&" not in text
        and "\\" not in text
        and text.isprintable()
    ):
        return text
    out = []
    last = len(text) - 1
    for i, ch in enumerate(text):
        if ch == "|":
            out.append("/")
        elif ch in MARKUP:
            out.append(f"\\x{ord(ch):02x}")
        elif ch == "\\" and i < last and text[i + 1] in "nt":
            out.append("\\x5c")
        elif ch.isprintable():
            out.append(ch)
        else:  # control characters, and line or paragraph separators that would split a line
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
    return "".join(out)


def printable(text: str, limit: int, unprintable: str = "?") -> str:
    """Text from the wire as printable ASCII, every other character replaced, at most ``limit``
    characters."""
    return "".join(ch if 32 <= ord(ch) < 127 else unprintable for ch in text)[:limit]


def conceal(text: str) -> str:
    """Text a server sent, without the password in any of its encodings."""
    for secret in SECRETS:
        if secret in text:
            text = text.replace(secret, "(hidden)")
    return text


def status_line(state: str, summary: str, perfdata: list[str] | None = None) -> str:
    line = f"{NAME} {state.upper()} - {clean(summary)}"
    if perfdata:
        line += " | " + " ".join(perfdata)
    return line


def render(check: nagiosplugin.Check) -> str:
    lines = [status_line(str(check.state), check.summary_str, [p for p in check.perfdata if p])]
    lines += [clean(line) for line in check.verbose_str]
    return "\n".join(lines) + "\n"


def unknown(message: str) -> str:
    return status_line("unknown", message) + "\n"
