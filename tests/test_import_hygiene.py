"""Start-up hygiene: a check imports what it needs and nothing heavy besides.

A poller starts the plugin thousands of times an hour, and on the default path (a handshake per
node, judged from OpenSSL's own decoding of the certificate) any further import is pure cost.
Each test runs one real check against the lab in a fresh interpreter and looks at the modules
that the import of the plugin and the check added to ``sys.modules``: deterministic, no timing
(the times themselves are ``make bench``'s business, docs/benchmarks.md).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from contrib.lab import Lab
from tests.conftest import REPO

# Never on the default path: dnspython (only with --dns-server), HTTP and XML (only with --rpc or
# --autodiscover), cryptography (only to explain a weak certificate), thread pools, e-mail
# parsing; and the standard modules that cost start-up time for a convenience (ipaddress, and
# hashlib's OpenSSL backend _hashlib).
FORBIDDEN = (
    "dns",
    "http.client",
    "xml",
    "defusedxml",
    "cryptography",
    "concurrent.futures",
    "email",
    "dataclasses",
    "typing",
    "calendar",
    "ipaddress",
    "_hashlib",
    # argparse reads only --help and a mistake: argparse and gettext, and the locale module
    # gettext loads on argparse's first message, cost about as much as a whole check.
    "argparse",
    "gettext",
    "locale",
    # Kerberos (python-gssapi) only with a Kerberos credential and --autodiscover
    "gssapi",
)

PROBE = """
import json, sys
sys.path.insert(0, {repo!r})
before = set(sys.modules)
import check_outlook_anywhere
text, code = check_outlook_anywhere.run({args!r})
print(json.dumps({{"code": code, "text": text, "new": sorted(set(sys.modules) - before)}}))
"""


def imported_by_check(*args: str) -> tuple[int, str, set[str]]:
    """Exit code, output and the modules that importing the plugin and one run added."""
    proc = subprocess.run(
        [sys.executable, "-c", PROBE.format(repo=str(REPO), args=list(args))],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        cwd=REPO,
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    return result["code"], result["text"], set(result["new"])


def heavy(modules: set[str]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN))


def by_address(lab: Lab, scenario: str) -> list[str]:
    """The default path: the nodes given with -I, trust from the lab CA."""
    s = lab.scenario(scenario)
    given = [arg for address in s.addresses for arg in ("-I", address)]
    return ["-H", s.host, *given, "-p", str(lab.port), "--ca-file", lab.ca_file]


def expires(lab: Lab, cert: str) -> str:
    return lab.chain(cert).leaf.not_valid_after_utc.date().isoformat()


@pytest.mark.parametrize(
    ("scenario", "code", "says"),
    [
        (
            "single",
            0,
            "OUTLOOK_ANYWHERE OK - 1/1 nodes OK: msstd:single.contoso.test matches the CN, 300.0"
            " days left (expires {single})",
        ),
        (
            "healthy",
            0,
            "OUTLOOK_ANYWHERE OK - 3/3 nodes OK: msstd:healthy.contoso.test matches the CN, 300.0"
            " days left (expires {healthy})",
        ),
        (
            "cn-mismatch",
            2,
            "OUTLOOK_ANYWHERE CRITICAL - 127.0.17.1: Mutual Authentication could not be"
            " established: certificate CN owa.contoso.test, expected"
            " msstd:cn-mismatch.contoso.test [0/1 nodes OK]",
        ),
        ("refused", 2, "OUTLOOK_ANYWHERE CRITICAL - 127.0.35.1: connection refused [0/1 nodes OK]"),
        (
            "expired",
            2,
            "OUTLOOK_ANYWHERE CRITICAL - 127.0.22.1: certificate expired 2.0 days ago ({expired})"
            " [0/1 nodes OK]",
        ),
    ],
)
def test_default_path_imports_nothing_heavy(lab: Lab, scenario: str, code: int, says: str) -> None:
    got, text, modules = imported_by_check(*by_address(lab, scenario))
    dates = {c: expires(lab, c) for c in ("single", "healthy", "expired")}
    assert (got, text.split("\n", 1)[0].split(" | ", 1)[0]) == (code, says.format_map(dates))
    assert "outlook_anywhere.probes.tls" in modules
    assert heavy(modules) == []


def test_system_resolver_path_imports_nothing_heavy(lab: Lab) -> None:
    # localhost resolves through getaddrinfo, as a real host name would on a poller
    args = ["-H", "localhost", "-4", "-p", str(lab.port), "--ca-file", lab.ca_file]
    got, text, modules = imported_by_check(*args)
    assert got == 0, text
    assert text.startswith(
        "OUTLOOK_ANYWHERE OK - 1/1 nodes OK: msstd:localhost matches the CN, 300.0 days left"
        f" (expires {expires(lab, 'localhost')}) | "
    ), text
    assert "\n127.0.0.1 OK -- CN localhost; " in text
    assert heavy(modules) == []


def test_dns_server_path_loads_dnspython(lab: Lab) -> None:
    """The same check through --dns-server does load dnspython: the test tells the two apart."""
    s = lab.scenario("single")
    args = ["-H", s.host, "--dns-server", lab.dns_server, "-p", str(lab.port)]
    got, text, modules = imported_by_check(*args, "--ca-file", lab.ca_file)
    assert got == 0, text
    assert "dns.resolver" in modules
    assert "cryptography" not in modules


def test_cryptography_only_to_explain_a_weak_certificate(lab: Lab) -> None:
    """OpenSSL refuses a SHA-1 signature at its security level; only then is cryptography
    loaded, to name the signature hash and the key in the finding."""
    got, text, modules = imported_by_check(*by_address(lab, "weak-sha1"))
    assert got == 1, text
    assert text.startswith(
        "OUTLOOK_ANYWHERE WARNING - 127.0.32.1: certificate is signed with SHA-1 [0/1 nodes OK] | "
    ), text
    assert "cryptography.x509" in modules
    # cryptography brings typing, dataclasses and the like along: fine on this path
    unrelated = {"dns", "http.client", "xml", "defusedxml", "concurrent.futures"}
    assert [m for m in heavy(modules) if m.split(".")[0] in unrelated or m in unrelated] == []


def _runtime_imports(node: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, module) of every import that runs: those under ``if TYPE_CHECKING:`` do not."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and getattr(child.test, "id", "") == "TYPE_CHECKING":
            yield from _runtime_imports(ast.Module(body=child.orelse, type_ignores=[]))
        elif isinstance(child, ast.Import):
            yield from ((child.lineno, alias.name) for alias in child.names)
        elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
            yield child.lineno, child.module
        else:
            yield from _runtime_imports(child)


def test_no_module_of_the_plugin_imports_typing_at_run_time() -> None:
    """typing costs about as much as the rest of the plugin's own modules: every annotation is
    a string (``from __future__ import annotations``), and what only the type checker needs is
    imported under ``if TYPE_CHECKING:`` (the name set False, not imported from typing)."""
    found = [
        f"{path.relative_to(REPO)}:{line}"
        for path in sorted((REPO / "plugins" / "outlook_anywhere").rglob("*.py"))
        for line, module in _runtime_imports(ast.parse(path.read_text(encoding="utf-8")))
        if module == "typing" or module.startswith("typing.")
    ]
    assert found == []
