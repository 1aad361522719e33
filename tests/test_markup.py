"""Text, never markup: what a certificate, a server, Autodiscover or a proxy says reaches the
output with ``<``, ``>`` and ``&`` escaped (``\\x3c``, ``\\x3e``, ``\\x26``), at every verbosity,
and the plugin's own words hold none of them.

Icinga Web 2 renders a plugin output holding HTML as HTML: an ``<img>`` in a CN made every
operator's browser fetch its URL.  Each row runs the real CLI against a lab source that sends
HTML (contrib/lab/hostile.py ``markup``): the certificate's CN and SANs, an HTTP server's
reason phrase and headers, Autodiscover's published values, a proxy's refusal.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from contrib.lab import Lab, hostile
from contrib.lab.identities.hostile_certificates import BEACON
from tests.conftest import REPO, Outcome, run_plugin

RAW = re.compile(r"[<>&]")
# How each piece of markup must read: escaped, the rest of it kept (the admin sees what the
# certificate or server really says).
IMAGE = r'\x3cimg src="http://127.0.0.9:9999/b.png"\x3e'
LINK = r'\x3ca href="http://127.0.0.9:9999/renew"\x3e'
ENTITY = r"\x26amp;"


@pytest.fixture(scope="module")
def markup_lab(lab: Lab) -> Iterator[Lab]:
    hostile.install(lab)
    yield lab
    lab.reset()


def base(lab: Lab, host: str) -> list[str]:
    return [
        "-H", host,
        "-p", str(lab.port),
        "--dns-server", lab.dns_server,
        "--ca-file", str(lab.ca_file),
        "-t", "5",
    ]  # fmt: skip


def assert_text(out: Outcome, *escaped: str) -> None:
    """No raw markup anywhere in what the plugin printed; each escaped form is there."""
    assert out.stderr == "", out.stderr
    assert out.stdout.startswith("OUTLOOK_ANYWHERE "), out.stdout
    assert not RAW.search(out.stdout), out.stdout
    for form in escaped:
        assert form in out.stdout, f"{form!r} not in {out.stdout!r}"
    assert BEACON.split("//")[1] in out.stdout  # shown, as text: the admin sees the URL


# -- the plugin's own words ----------------------------------------------------------------

# String constants that are not words the plugin prints: the Autodiscover request (XML), the
# struct formats of RTS, what the RPC proxy probe looks for in a body, the characters
# output.clean escapes, and the --help text (a terminal's, never a monitoring front end's).
PACKAGE = "plugins/outlook_anywhere/"
NOT_WORDS = {
    (PACKAGE + "autodiscover/request.py", "request"),
    (PACKAGE + "transport/rts.py", "struct"),
    (PACKAGE + "transport/mapihttp.py", "struct"),
    (PACKAGE + "probes/rpcproxy.py", "body"),
    (PACKAGE + "probes/frontdoors.py", "body"),
    (PACKAGE + "output.py", "clean"),
    (PACKAGE + "check/option_table.py", "help"),
}


def _constants(path: Path) -> Iterator[tuple[int, str, bool]]:
    """Every string constant but docstrings: line, value, and whether it is --help text (an
    Option's or the epilog's)."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
    }
    help_text = set()
    for node in ast.walk(tree):
        is_option = (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "Option"
        )
        is_epilog = isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "EPILOG" for t in node.targets
        )
        if is_option or is_epilog:
            help_text |= {id(inner) for inner in ast.walk(node)}
    for node in ast.walk(tree):
        is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
        if is_text and id(node) not in docstrings:
            yield node.lineno, node.value, id(node) in help_text  # type: ignore[attr-defined]


def _why_not_words(path: str, value: str, help_text: bool) -> str:
    """Which NOT_WORDS entry a constant belongs to ("" when none)."""
    relative = path.removeprefix(PACKAGE)
    if relative == "autodiscover/request.py" and (
        "\r\n" in value or value in ("&", "&amp;", "<", "&lt;", ">", "&gt;")
    ):  # the request's lines, and the escaping of the address in it
        return "request"
    structs = ("transport/rts.py", "transport/mapihttp.py")
    if relative in structs and re.fullmatch(r"[<>!=@][0-9A-Za-z]+", value):
        return "struct"
    bodies = ("probes/rpcproxy.py", "probes/frontdoors.py")
    if relative in bodies and value in ("<br", ">"):  # healthcheck.htm: "200 OK<br/>NAME"
        return "body"
    if relative == "output.py" and value in ("<>&", "<", ">", "&"):
        return "clean"
    if relative == "check/option_table.py" and help_text:
        return "help"
    return ""


def test_the_plugins_own_words_hold_no_markup() -> None:
    """Every string constant of the package (docstrings aside): none holds <, > or &, so only
    outside text could, and output.clean escapes that."""
    found = []
    files = [*sorted((REPO / "plugins").rglob("*.py")), REPO / "check_outlook_anywhere.py"]
    for path in files:
        relative = str(path.relative_to(REPO))
        for lineno, value, help_text in _constants(path):
            if not RAW.search(value):
                continue
            why = _why_not_words(relative, value, help_text)
            if (relative, why) not in NOT_WORDS:
                found.append(f"{relative}:{lineno}: {value[:60]!r}")
    assert not found, "\n".join(found)


# -- the hostile matrix: each outside source, through the command line ----------------------


@pytest.mark.parametrize("verbosity", ["", "-v", "-vvv"])
def test_certificate_names_are_text(markup_lab: Lab, verbosity: str) -> None:
    """CN <img>, SANs <a href>, &amp; and <b>: the first line, the fix, the chain (-v) and the
    trace (-vvv)."""
    args = base(markup_lab, hostile.BY_NAME["markup"].host) + ([verbosity] if verbosity else [])
    out = run_plugin(*args)
    assert out.code == 2, out.stdout
    assert out.status.startswith(
        f"OUTLOOK_ANYWHERE CRITICAL - 127.0.60.16: Mutual Authentication could not be"
        f" established: certificate CN {IMAGE}, expected msstd:markup.contoso.test"
    ), out.status
    assert_text(out, IMAGE, LINK, ENTITY, r"\x3cb\x3ebold\x3c/b\x3e")
    if verbosity == "-v":
        assert any(line.startswith("  [0] CN \\x3cimg") for line in out.long_output)


def test_an_argument_with_markup_is_named_as_text(markup_lab: Lab) -> None:
    """A configuration mistake quotes the argument: escaped as well."""
    host = hostile.BY_NAME["markup"].host
    out = run_plugin(*base(markup_lab, host), "-P", '<img src="http://127.0.0.9:9999/b.png">')
    assert out.code == 3, out.stdout
    assert_text(out, IMAGE)


@pytest.mark.parametrize("option", ["--rpc", "--mapi"])
def test_server_reason_phrase_and_headers_are_text(markup_lab: Lab, option: str) -> None:
    """A 403 whose reason phrase, Server, X-FEServer and WWW-Authenticate hold HTML."""
    host, _ = hostile.web_target("markup")
    out = run_plugin(*base(markup_lab, host), option)
    assert out.code == 2, out.stdout
    assert_text(out, r'\x3ca href="http://127.0.0.9:9999/renew"\x3eForbidden\x3c/a\x3e \x26amp;')


def test_autodiscover_values_are_text(markup_lab: Lab, password_file: str) -> None:
    """Autodiscover publishes a Server <img>: no host name, so the document is unusable, and
    the Server is named as text."""
    out = autodiscover(markup_lab, password_file, "markup@contoso.test", "-v")
    assert out.code == 2, out.stdout
    assert "unusable response: the EXPR Server" in out.status, out.status
    assert_text(out, IMAGE)


def test_autodiscover_principal_is_text(markup_lab: Lab, password_file: str) -> None:
    """Autodiscover publishes a CertPrincipalName msstd:<a href>, which no certificate matches."""
    out = autodiscover(markup_lab, password_file, "markup-principal@contoso.test", "-v")
    assert out.code == 2, out.stdout
    assert_text(out, LINK)


def test_autodiscover_reason_phrase_is_text(markup_lab: Lab, password_file: str) -> None:
    out = autodiscover(markup_lab, password_file, "markup-reason@contoso.test")
    assert out.code == 2, out.stdout
    assert_text(out, LINK, ENTITY)


def autodiscover(lab: Lab, password_file: str, email: str, *extra: str) -> Outcome:
    args = base(lab, lab.scenario("healthy").host)
    args += ["--autodiscover", email, "--password-file", password_file]
    args += ["--autodiscover-url", lab.web.url("autodiscover.contoso.test")]
    return run_plugin(*args, *extra)


def test_proxy_refusal_is_text(markup_lab: Lab) -> None:
    """A proxy refusing CONNECT with HTML in its reason phrase."""
    args = base(markup_lab, markup_lab.scenario("healthy").host)
    out = run_plugin(*args, "--proxy", markup_lab.proxy.url("markup"))
    assert out.code in (2, 3), out.stdout
    assert_text(out, LINK, ENTITY)
