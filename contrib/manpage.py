"""The manual page check_outlook_anywhere(1), generated from the plugin itself.

Nothing in the page is written by hand twice: the options and their texts come from the real
argument parser (``build_parser()``, what ``--help`` prints), the states from the README's
States table, the examples from the ``--help`` epilog, the one-line summary from setup.cfg and
the version from ``plugins/outlook_anywhere/__init__.py``.  The Debian package builds the page
with this script (``debian/rules``), ``make man`` writes it to ``build/man/``, and
tests/test_manpage.py checks it against the parser and the README.

    python3 contrib/manpage.py [--output FILE]
"""

from __future__ import annotations

import argparse
import configparser
import email.utils
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
SETUP_CFG = REPO / "setup.cfg"
DEBIAN_CHANGELOG = REPO / "debian" / "changelog"
PROG = "check_outlook_anywhere"

# Where the Debian package puts what the page names under FILES.
FILES = (
    ("/usr/lib/nagios/plugins/outlook_anywhere/check_outlook_anywhere", "the plugin"),
    (
        "/usr/share/icinga2/include/plugins-contrib.d/outlook_anywhere.conf",
        'the Icinga 2 CheckCommand "outlook_anywhere", loaded by include <plugins-contrib>'
        ' (its import "ipv4-or-ipv6" needs include <plugins>)',
    ),
    (
        "/etc/nagios-plugins/config/outlook_anywhere.cfg",
        "Nagios command definitions: check_outlook_anywhere, check_outlook_anywhere_node,"
        " check_outlook_anywhere_autodiscover",
    ),
    (
        "/usr/share/doc/check-outlook-anywhere/examples/",
        "example Icinga 2 services, Nagios objects and the Icinga Director basket",
    ),
)

EXIT_STATUS = (
    ("0", "OK"),
    ("1", "WARNING"),
    ("2", "CRITICAL"),
    ("3", "UNKNOWN: bad arguments, a broken installation, or the plugin's own failure"),
)


# -- sources --------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    from check_outlook_anywhere import build_parser

    return build_parser()


def version() -> str:
    text = (REPO / "plugins" / "outlook_anywhere" / "__init__.py").read_text(encoding="utf-8")
    found = re.search(r'(?m)^__version__ = "([^"]+)"$', text)
    if not found:
        raise SystemExit("plugins/outlook_anywhere/__init__.py: no __version__")
    return found.group(1)


def summary() -> str:
    """setup.cfg's description, the sentence after its ``Nagios/Icinga plugin:``."""
    cfg = configparser.ConfigParser()
    cfg.read(SETUP_CFG, encoding="utf-8")
    text = cfg["metadata"]["description"]
    return text.split(": ", 1)[1] if ": " in text else text


def page_date() -> str:
    """The date of the newest debian/changelog entry (a rebuild gives the same page)."""
    if DEBIAN_CHANGELOG.exists():
        for line in DEBIAN_CHANGELOG.read_text(encoding="utf-8").splitlines():
            if line.startswith(" -- ") and "  " in line[4:]:
                stamp = email.utils.parsedate_to_datetime(line[4:].split("  ", 1)[1])
                return stamp.strftime("%Y-%m-%d")
    return ""


def states_table(readme: str | None = None) -> list[tuple[str, str]]:
    """The rows (finding, state) of the first table under the README's ``## States``."""
    text = README.read_text(encoding="utf-8") if readme is None else readme
    section = re.search(r"(?ms)^## States\s*$(.*?)(?=^## |\Z)", text)
    if not section:
        raise SystemExit("README.md: no '## States' section")
    rows: list[tuple[str, str]] = []
    started = False
    for line in section.group(1).splitlines():
        if not line.startswith("|"):
            if started:
                break
            continue
        started = True
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]]
        if len(cells) < 2 or set("".join(cells)) <= set("-: "):
            continue  # the separator row
        rows.append((cells[0].replace("\\|", "|"), cells[-1].replace("\\|", "|")))
    if len(rows) < 2:
        raise SystemExit("README.md: no States table under '## States'")
    return rows[1:]  # without the header row


def examples(parser: argparse.ArgumentParser) -> list[str]:
    """The command lines of the ``examples:`` block of the --help epilog."""
    found: list[str] = []
    inside = False
    for line in (parser.epilog or "").splitlines():
        if line.strip().endswith(":") and not line.startswith(" "):
            inside = line.strip() == "examples:"
            continue
        if inside and line.strip().startswith(PROG):
            found.append(line.strip())
    return found


def epilog_notes(parser: argparse.ArgumentParser) -> list[str]:
    """The epilog's closing paragraphs (after its indented blocks)."""
    paragraphs = re.split(r"\n\s*\n", (parser.epilog or "").strip())
    notes = []
    for paragraph in paragraphs:
        lines = paragraph.splitlines()
        if lines and not lines[0].rstrip().endswith(":") and not lines[0].startswith(" "):
            notes.append(" ".join(line.strip() for line in lines))
    return notes


# -- roff -----------------------------------------------------------------------------------


def esc(text: str) -> str:
    """Plain text for roff: backslashes, and a control character at the start of a line."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    text = "".join(ch if ord(ch) < 128 else f"\\[u{ord(ch):04X}]" for ch in text)
    return re.sub(r"(?m)^([.'])", r"\\&\1", text)


def inline(markdown: str) -> str:
    """README cell text: `code` in bold, the rest plain."""
    parts = re.split(r"(`[^`]*`)", markdown)
    out = []
    for part in parts:
        if part.startswith("`") and part.endswith("`") and len(part) >= 2:
            out.append("\\fB" + esc(part[1:-1]) + "\\fR")
        else:
            out.append(esc(part.replace("**", "")))
    return "".join(out)


def _option_tag(action: argparse.Action) -> str:
    names = ", ".join("\\fB" + esc(s) + "\\fR" for s in action.option_strings)
    if action.nargs == 0:
        return names
    metavar = action.metavar or action.dest.upper()
    return f"{names} \\fI{esc(str(metavar))}\\fR"


def _synopsis(parser: argparse.ArgumentParser) -> list[str]:
    lines = [".SY " + PROG]
    for action in parser._actions:
        if not action.option_strings:
            continue
        short = action.option_strings[0]
        if action.nargs == 0:
            lines.append(f".OP {esc(short)}")
        else:
            lines.append(f".OP {esc(short)} {esc(str(action.metavar or action.dest.upper()))}")
    lines.append(".YS")
    return lines


def render() -> str:
    parser = _parser()
    formatter = parser._get_formatter()
    out = [
        f'.TH CHECK_OUTLOOK_ANYWHERE 1 "{page_date()}" "{PROG} {version()}" "Monitoring Plugins"',
        '.\\" Generated by contrib/manpage.py from --help and README.md: do not edit.',
        ".SH NAME",
        f"{esc(PROG)} \\- {esc(summary())}",
        ".SH SYNOPSIS",
        *_synopsis(parser),
        ".SH DESCRIPTION",
    ]
    for paragraph in re.split(r"\n\s*\n", (parser.description or "").strip()):
        out += [".PP", esc(" ".join(paragraph.split()))]
    out.append(".SH OPTIONS")
    for group in parser._action_groups:
        actions = [a for a in group._group_actions if a.option_strings]
        if not actions:
            continue
        title = str(group.title)
        out.append(f".SS {esc(title[:1].upper() + title[1:])}")
        for action in actions:
            text = formatter._expand_help(action) if action.help else ""
            out += [".TP", _option_tag(action), esc(text)]
    out += [
        ".SH STATES",
        "Each node (address) is judged on its own; the worst state wins.",
    ]
    for finding, state in states_table():
        out += [".TP", inline(finding), inline(state)]
    out.append(".SH EXIT STATUS")
    for code, meaning in EXIT_STATUS:
        out += [".TP", f"\\fB{code}\\fR", esc(meaning)]
    out += [
        ".SH ENVIRONMENT",
        ".TP",
        "\\fBOUTLOOK_ANYWHERE_PASSWORD\\fR",
        esc(
            "The Autodiscover password, when --password-file is not given. An empty value"
            " counts as unset."
        ),
        ".SH FILES",
    ]
    for path, meaning in FILES:
        out += [".TP", f"\\fI{esc(path)}\\fR", esc(meaning)]
    out.append(".SH EXAMPLES")
    for example in examples(parser):
        out += [".PP", ".EX", esc(example), ".EE"]
    for note in epilog_notes(parser):
        out += [".PP", esc(note)]
    out += [
        ".SH SEE ALSO",
        "\\fBicinga2\\fR(8), \\fBnagios4\\fR(8)",
        ".PP",
        esc("The README of the project, /usr/share/doc/check-outlook-anywhere/README.md.gz"),
    ]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    cli = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    cli.add_argument("--output", type=Path, help="write the page here (default: stdout)")
    args = cli.parse_args(argv)
    page = render()
    if args.output:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(page, encoding="utf-8")
    else:
        sys.stdout.write(page)
    return 0


if __name__ == "__main__":
    sys.exit(main())
