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


def clean(text: str) -> str:
    """Printable, one line, and no "|" (the engines split performance data on it)."""
    if "|" not in text and text.isprintable():  # nearly always: no character-by-character pass
        return text
    out = []
    for ch in text:
        if ch == "|":
            out.append("/")
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
